"""The audit trail: events chained by hash, and their public view with personal data masked.

``hash_n = sha256(hash_{n-1} + canonical_json(event_n))`` with ``hash_0`` the genesis value. The instance row
keeps the head (last sequence number and hash), written in the same transaction, so removing the newest event
is detected as well as altering or removing any other.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

try:  # optional: the same bytes, written faster (see canonical)
    import orjson
except ImportError:  # pragma: no cover
    orjson = None  # type: ignore[assignment]

from efficacy_flow.engine._masking import mask_value
from efficacy_flow.engine._outbox import outbox_rows
from efficacy_flow.engine._views import AuditEvent
from efficacy_flow.store import AuditRecord, InstanceRecord, Transaction

__all__ = [
    "GENESIS",
    "Event",
    "append_event",
    "audit_record",
    "audit_view",
    "canonical",
    "chain_hash",
    "mask_history",
    "verify_chain",
]

#: An audit event before it is chained: kind, actor, before, after.
Event = tuple[str, str | None, Any, Any]

GENESIS = "0" * 64


def canonical(value: Any) -> str:
    """Canonical JSON: sorted keys, no spaces, UTF-8 kept as is.

    The text is what ``json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"),
    default=str)`` writes. orjson writes the same bytes for str-keyed dicts, lists, strings, 64-bit integers,
    booleans and None (its key order is UTF-8 byte order, which is code point order), so it writes those;
    floats, other types and strings it refuses (lone surrogates) go to the stdlib.
    """
    encoded = _canonical_utf8(value)
    return encoded.decode("utf-8") if encoded is not None else _stdlib_text(value)


def _canonical_utf8(value: Any) -> bytes | None:
    """:func:`canonical`'s text as UTF-8 bytes when orjson writes it, else None (then the stdlib's text)."""
    if orjson is not None and _exact(value):
        try:
            return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
        except orjson.JSONEncodeError:  # a lone surrogate, an integer beyond 64 bits
            pass
    return None


def _stdlib_text(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


def _exact(value: Any) -> bool:
    """Whether orjson writes ``value`` byte for byte as the stdlib does (no floats: their text can differ)."""
    kind = type(value)
    if kind is str or kind is int or kind is bool or value is None:
        return True
    if kind is dict:
        for key, item in value.items():  # a loop, not all(<generator>): this runs on every audit event
            if type(key) is not str:
                return False
            kind = type(item)
            if not (kind is str or kind is int or kind is bool or item is None or _exact(item)):
                return False
        return True
    if kind is list or kind is tuple:
        return all(_exact(item) for item in value)
    return False


def chain_hash(
    prev_hash: str,
    instance_id: str,
    seq: int,
    at: datetime,
    actor: str | None,
    kind: str,
    before: str | None,
    after: str | None,
) -> str:
    """The hash of one event given the previous one."""
    body = {
        "instance_id": instance_id,
        "seq": seq,
        "at": at.isoformat(),
        "actor": actor,
        "kind": kind,
        "before": before,
        "after": after,
    }
    encoded: bytes | None
    if (
        orjson is not None
        and type(instance_id) is str
        and type(seq) is int
        and type(kind) is str
        and (actor is None or type(actor) is str)
        and (before is None or type(before) is str)
        and (after is None or type(after) is str)
    ):
        # :func:`_exact` of the body, known from its fields' types: texts, None and an integer. orjson writes
        # them as the stdlib does unless it refuses (a lone surrogate, an integer beyond 64 bits).
        try:
            encoded = orjson.dumps(body, option=orjson.OPT_SORT_KEYS)
        except orjson.JSONEncodeError:
            encoded = None
    else:
        encoded = _canonical_utf8(body)  # hashed as written: no decoding to text and encoding back
    if encoded is None:
        return hashlib.sha256((prev_hash + _stdlib_text(body)).encode("utf-8")).hexdigest()
    return hashlib.sha256(prev_hash.encode("utf-8") + encoded).hexdigest()


def verify_chain(records: Sequence[AuditRecord], head_seq: int, head_hash: str) -> list[str]:
    """Every problem with a chain: altered events, gaps, broken links, a missing head. Empty when intact."""
    problems: list[str] = []
    prev = GENESIS
    expected_seq = 1
    for record in records:
        if record.seq != expected_seq:
            problems.append(f"event {expected_seq} is missing (next stored event is {record.seq})")
        if record.prev_hash != prev:
            problems.append(f"event {record.seq} does not link to the event before it")
        recomputed = chain_hash(
            record.prev_hash,
            record.instance_id,
            record.seq,
            record.at,
            record.actor,
            record.kind,
            record.before,
            record.after,
        )
        if recomputed != record.hash:
            problems.append(f"event {record.seq} ({record.kind}) was altered")
        prev = record.hash
        expected_seq = record.seq + 1
    last_seq = records[-1].seq if records else 0
    if last_seq != head_seq or prev != head_hash:
        problems.append(
            f"the history ends at event {last_seq}, but the instance recorded event {head_seq} last"
        )
    return problems


def audit_record(instance_id: str, seq: int, head: str, event: Event, now: datetime) -> AuditRecord:
    """The next audit record of the chain after (``seq``, ``head``)."""
    kind, actor, before, after = event
    before_text = canonical(before) if before is not None else None
    after_text = canonical(after) if after is not None else None
    digest = chain_hash(head, instance_id, seq + 1, now, actor, kind, before_text, after_text)
    return AuditRecord(instance_id, seq + 1, now, actor, kind, before_text, after_text, head, digest)


def append_event(tx: Transaction, inst: InstanceRecord, event: Event, now: datetime) -> None:
    """Append one event to the instance's chain without a new version (the workflow state did not change:
    a failed step, a settled incident, an unmasked read): the head moves, checked against ``inst``'s."""
    record = audit_record(inst.id, inst.audit_seq, inst.audit_head, event, now)
    tx.advance_audit_head(inst.id, inst.audit_seq, record.seq, record.hash)
    tx.append_audit(record)
    tx.append_outbox(outbox_rows(inst.id, [event], (), (), now))


def audit_view(record: AuditRecord, pii: Mapping[str, str] | None) -> AuditEvent:
    """The public view of an audit record, masked by ``pii`` (None: unmasked)."""

    def shown(text: str | None) -> Any:
        if text is None:
            return None
        value = json.loads(text)
        return value if pii is None else mask_history(value, pii)

    return AuditEvent(
        instance_id=record.instance_id,
        seq=record.seq,
        at=record.at,
        actor=record.actor,
        kind=record.kind,
        before=shown(record.before),
        after=shown(record.after),
        hash=record.hash,
    )


def mask_history(value: Any, pii: Mapping[str, str]) -> Any:
    """Mask schema-declared pii fields by kind, and phone/ID numbers anywhere else."""
    if isinstance(value, dict):
        return {k: mask_value(v, pii[k]) if k in pii else mask_history(v, pii) for k, v in value.items()}
    if isinstance(value, list):
        return [mask_history(v, pii) for v in value]
    return mask_value(value)
