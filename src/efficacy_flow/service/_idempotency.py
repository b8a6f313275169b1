"""``Idempotency-Key`` on writes (docs/service.md, "Idempotency").

A write sent with a key first claims (actor, key) in the store (``ef_idempotency_keys``, store schema 8), in
a transaction of its own; the claim is decided by the row's primary key, so it holds across API processes on
one PostgreSQL database. Then the engine call runs, then its response (status and body) is recorded on the
key. A later request with the same key by the same actor gets:

- the recorded response, byte for byte, with ``Idempotent-Replayed: true``, when its method, path and body
  are the first request's (the body compared as parsed JSON, so spacing and key order do not matter);
- 422 when they differ; 409 (``Retry-After: 1``) while the first is still running.

An engine error that leaves nothing written and may pass on a retry — 409 (a concurrent update, a state that
changes) or 5xx — releases the key: the retry runs. Other errors (403, 404, 422) are recorded like answers.

The window: the engine's call commits in its own transaction and the response is recorded in the next one
(the engine's API takes no outer transaction). A process that dies between the two leaves the key claimed
and unanswered: a retry gets 409 until the key expires (``idempotency_hours``), and never runs the call a
second time within that period.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from fastapi.responses import Response

from efficacy_flow.clock import Clock
from efficacy_flow.engine import Actor
from efficacy_flow.errors import EfficacyFlowError
from efficacy_flow.service._problems import PROBLEM_JSON, Problem, error_body
from efficacy_flow.store import Store

__all__ = ["Idempotency", "dump_json", "fingerprint"]

#: How often (seconds) a process deletes expired keys, on the claim of a key.
_PRUNE_EVERY = 60.0


def dump_json(payload: Any) -> bytes:
    """A response body: compact UTF-8 JSON (Chinese text as is)."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode("utf-8")


def fingerprint(method: str, path: str, body: Any) -> str:
    """The SHA-256 of a write: its method, path and parsed body in canonical JSON."""
    canonical = json.dumps([method, path, body], sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _checked_key(key: str) -> str:
    if not 1 <= len(key) <= 255 or not all("!" <= c <= "~" for c in key):
        raise Problem(
            400,
            "幂等键无效 / invalid idempotency key",
            "Idempotency-Key must be 1 to 255 visible ASCII characters",
            kind="InvalidIdempotencyKey",
        )
    return key


class Idempotency:
    """Runs writes under their idempotency keys (see the module's docstring)."""

    def __init__(self, store: Store, clock: Clock, hours: float) -> None:
        self._store = store
        self._clock = clock
        self._keep = timedelta(hours=hours)
        self._pruned = -_PRUNE_EVERY

    def run(
        self, actor: Actor, key: str | None, request_hash: str, call: Callable[[], tuple[int, Any]]
    ) -> Response:
        """Answer a write: run ``call`` (it returns the status and the JSON payload) at most once per key."""
        if key is None:
            status, payload = call()
            return Response(dump_json(payload), status_code=status, media_type="application/json")
        key = _checked_key(key)
        now = self._clock.now()
        with self._store.transaction() as tx:
            if time.monotonic() - self._pruned >= _PRUNE_EVERY:
                self._pruned = time.monotonic()
                tx.prune_idempotency_keys(now - self._keep)
            first = tx.claim_idempotency_key(actor.id, key, request_hash, now)
        if first is not None:
            if first.request_hash != request_hash:
                raise Problem(
                    422,
                    "幂等键已用于其他请求 / idempotency key reused",
                    "this Idempotency-Key was sent with a different request (method, path or body)",
                    kind="IdempotencyKeyReused",
                )
            if first.status is None or first.body is None:
                raise Problem(
                    409,
                    "请求处理中 / request in progress",
                    "the first request with this Idempotency-Key has not been answered yet",
                    kind="IdempotencyKeyInProgress",
                    headers={"Retry-After": "1"},
                )
            media = PROBLEM_JSON if first.status >= 400 else "application/json"
            return Response(
                first.body,
                status_code=first.status,
                media_type=media,
                headers={"Idempotent-Replayed": "true"},
            )
        try:
            status, payload = call()
        except EfficacyFlowError as error:
            status, problem = error_body(error)
            if status >= 500 or status == 409:
                self._release(actor, key)
                raise
            body = dump_json(problem)
            self._answer(actor, key, status, body)
            return Response(body, status_code=status, media_type=PROBLEM_JSON)
        except BaseException:
            self._release(actor, key)
            raise
        body = dump_json(payload)
        self._answer(actor, key, status, body)
        return Response(body, status_code=status, media_type="application/json")

    def _answer(self, actor: Actor, key: str, status: int, body: bytes) -> None:
        with self._store.transaction() as tx:
            tx.answer_idempotency_key(actor.id, key, status, body, self._clock.now())

    def _release(self, actor: Actor, key: str) -> None:
        with self._store.transaction() as tx:
            tx.release_idempotency_key(actor.id, key)
