"""Request size and rate limits, as ASGI middleware in front of the routes.

- **Body size**: a declared ``Content-Length`` over the limit is answered 413 before a byte of the body is
  read; a body without one (chunked) is counted as it arrives and refused with 413 as soon as it passes the
  limit, so no more than the limit is ever held.
- **Rate**: a token bucket per bearer token (its SHA-256; the client's address for requests without one),
  in each process: ``N`` API processes allow up to ``N`` times the rate to one token. Over it: 429 with
  ``Retry-After`` (whole seconds until a request is allowed again).
"""

from __future__ import annotations

import hashlib
import math
import threading
import time
from collections import OrderedDict
from typing import Any

from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from efficacy_flow.service._problems import problem_body, problem_response
from efficacy_flow.service._settings import RateLimit

__all__ = ["BodyLimit", "RateLimiter"]


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return bytes(value)
    return None


def _too_large(limit: int) -> str:
    return f"the request body is larger than {limit} bytes"


class BodyLimit:
    """Refuse request bodies over ``limit`` bytes with 413 (see the module's docstring)."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _header(scope, b"content-length")
        if declared is not None:
            try:
                size = int(declared)
            except ValueError:
                size = -1
            if size < 0 or size > self.limit:
                status = 413 if size > self.limit else 400
                detail = _too_large(self.limit) if status == 413 else "Content-Length is not a number"
                title = "请求体过大 / body too large" if status == 413 else "请求无效 / bad request"
                body = problem_body(status, title, detail, "BodyTooLarge" if status == 413 else "BadRequest")
                await problem_response(status, body, {"Connection": "close"})(scope, receive, send)
                return
        received = 0
        limit = self.limit

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    # FastAPI passes an HTTPException raised while it reads the body on unchanged: the
                    # routes' handler answers it as a 413 problem.
                    raise StarletteHTTPException(413, _too_large(limit), headers={"Connection": "close"})
            return message

        await self.app(scope, counted, send)


class RateLimiter:
    """A token bucket per caller (see the module's docstring); at most ``max_callers`` buckets are kept, the
    least recently used dropped first (a dropped caller starts with a full bucket)."""

    def __init__(self, app: ASGIApp, limit: RateLimit, max_callers: int = 100_000) -> None:
        self.app = app
        self.capacity = float(limit.requests)
        self.rate = limit.requests / limit.per_seconds  # tokens per second
        self.max_callers = max_callers
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def _caller(self, scope: Scope) -> str:
        authorization = _header(scope, b"authorization")
        if authorization:
            return "t:" + hashlib.sha256(authorization).hexdigest()
        client: Any = scope.get("client")
        return f"a:{client[0] if client else '?'}"

    def wait(self, caller: str) -> float:
        """Take one request from the caller's bucket: 0 when allowed, else the seconds until it would be."""
        now = time.monotonic()
        with self._lock:
            tokens, then = self._buckets.pop(caller, (self.capacity, now))
            tokens = min(self.capacity, tokens + (now - then) * self.rate)
            wait = 0.0
            if tokens >= 1.0:
                tokens -= 1.0
            else:
                wait = (1.0 - tokens) / self.rate
            self._buckets[caller] = (tokens, now)
            while len(self._buckets) > self.max_callers:
                self._buckets.popitem(last=False)
        return wait

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        wait = self.wait(self._caller(scope))
        if wait > 0:
            seconds = max(1, math.ceil(wait))
            detail = f"too many requests for this token; retry in {seconds} s"
            body = problem_body(429, "请求过于频繁 / too many requests", detail, "RateLimited")
            await problem_response(429, body, {"Retry-After": str(seconds)})(scope, receive, send)
            return
        await self.app(scope, receive, send)
