"""Finding the instance a call is about: by id, or by a message's correlation."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from efficacy_flow.engine._inputs import checked_text, shown
from efficacy_flow.errors import InvalidInput, InvalidState, UnknownInstance
from efficacy_flow.store import InstanceRecord, Reader, Transaction

__all__ = ["correlate", "instance_row"]


def instance_row(tx: Reader, instance_id: str, *, lock: bool = True) -> InstanceRecord:
    """The instance row (``lock``, in a write transaction: ``FOR UPDATE`` on PostgreSQL); UnknownInstance when
    absent."""
    checked_text("instance_id", instance_id)
    if lock and isinstance(tx, Transaction):
        inst = tx.get_instance(instance_id, lock=True)
    else:
        inst = tx.get_instance(instance_id)
    if inst is None:
        raise UnknownInstance(f"no instance {shown(instance_id)}", instance_id=instance_id)
    return inst


def correlate(tx: Reader, correlation: Mapping[str, Any]) -> InstanceRecord:
    """The one active instance a message correlation (``instance_id`` or ``business_key``) names (read, not
    locked: the call that delivers the message locks and checks it again)."""
    if not isinstance(correlation, Mapping):
        raise InvalidInput("a correlation must be a mapping with instance_id or business_key")
    if correlation.get("instance_id"):
        inst = instance_row(tx, str(correlation["instance_id"]), lock=False)
    elif correlation.get("business_key"):
        key = checked_text("business_key", str(correlation["business_key"]))
        assert key is not None
        rows = [tx.get_instance(i) for i in tx.instance_ids_by_business_key(key)]
        active = [r for r in rows if r is not None and r.status != "completed"]
        if not active:
            raise UnknownInstance(f"no open instance with business key {key!r}", business_key=key)
        if len(active) > 1:
            raise InvalidState(f"{len(active)} open instances share business key {key!r}", business_key=key)
        inst = active[0]
    else:
        raise InvalidInput("a correlation needs instance_id or business_key", correlation=dict(correlation))
    if inst.status != "active":
        raise InvalidState(f"instance {inst.id} is {inst.status}", instance_id=inst.id)
    return inst
