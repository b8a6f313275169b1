"""The hot-path statements (store/_fast.py) store and read exactly what SQLAlchemy stores and reads, and turn
driver errors into StoreError with nothing half-written — on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import insert, select

from efficacy_flow.clock import CHINA_TZ
from efficacy_flow.errors import StoreError
from efficacy_flow.store import AuditRecord, InstanceRecord, Store, TaskRecord
from efficacy_flow.store._schema import audit_events, instances, tasks

T0 = datetime(2025, 9, 26, 10, 0, 0, 123456, tzinfo=CHINA_TZ)


def _instance(instance_id: str, **overrides: object) -> InstanceRecord:
    values: dict[str, object] = {
        "id": instance_id,
        "process_id": "p",
        "definition_hash": "h" * 64,
        "business_key": "12345-0001",
        "status": "active",
        "version": 3,
        "state": b"\x00\x01state\xff",
        "format_version": 1,
        "first_responder": "op",
        "suspended_at": T0 + timedelta(days=1),
        "created_at": T0,
        "updated_at": T0 + timedelta(seconds=1),
        "audit_seq": 0,
        "audit_head": "0" * 64,
    }
    values.update(overrides)
    return InstanceRecord(**values)  # type: ignore[arg-type]


def _task(task_id: str, instance_id: str) -> TaskRecord:
    due = T0 + timedelta(days=3)
    return TaskRecord(task_id, instance_id, "Task_A", "办理", "承办单位", "市住建局", "ready", T0, due)


def test_rows_written_fast_read_the_same_through_sqlalchemy(store: Store) -> None:
    """Instance, task and audit rows the fast path writes are what SQLAlchemy reads (instants, bytes)."""
    record = _instance("i1")
    task = _task("t1", "i1")
    audit = AuditRecord("i1", 1, T0, "op", "started", None, '{"a":"张三"}', "0" * 64, "f" * 64)
    with store.transaction() as tx:
        tx.insert_instance(record)
        tx.sync_tasks("i1", [task], closed_status="cancelled", at=T0, by=None, previous=[])
        tx.append_audit(audit)
    with store.transaction() as tx:
        stored = tx.conn.execute(select(instances).where(instances.c.id == "i1")).mappings().one()
        stored_task = tx.conn.execute(select(tasks).where(tasks.c.id == "t1")).mappings().one()
        stored_audit = tx.conn.execute(select(audit_events)).mappings().one()
    assert InstanceRecord(**stored) == record
    assert TaskRecord(**stored_task) == task
    assert AuditRecord(**stored_audit) == audit


def test_rows_written_through_sqlalchemy_read_the_same_fast(store: Store) -> None:
    """The fast reads return what SQLAlchemy wrote, aware and in Asia/Shanghai."""
    record = _instance("i2", suspended_at=None, business_key=None)
    task = _task("t2", "i2")
    with store.transaction() as tx:
        tx.conn.execute(insert(instances), [{f: getattr(record, f) for f in record.__slots__}])
        tx.conn.execute(insert(tasks), [{f: getattr(task, f) for f in task.__slots__}])
    with store.transaction() as tx:
        assert tx.get_instance("i2") == record
        assert tx.get_instance("i2", lock=True) == record
        read_task = tx.get_task("t2")
    assert read_task == task
    assert read_task is not None
    assert read_task.ready_at.utcoffset() == timedelta(hours=8)


def test_version_checked_update_changes_only_named_columns(store: Store) -> None:
    """update_instance writes the named columns and the bumped version, nothing else."""
    with store.transaction() as tx:
        tx.insert_instance(_instance("i3"))
        assert tx.update_instance("i3", 3, state=b"new", audit_seq=2, audit_head="a" * 64) == 4
    with store.transaction() as tx:
        after = tx.get_instance("i3")
    assert after == _instance("i3", version=4, state=b"new", audit_seq=2, audit_head="a" * 64)


def test_a_driver_error_is_a_store_error_and_nothing_is_half_written(store: Store) -> None:
    """A duplicate key the driver reports on the fast path is a StoreError; the transaction rolls back."""
    with store.transaction() as tx:
        tx.insert_instance(_instance("i4"))

    def duplicate_after_writes() -> None:
        with store.transaction() as tx:
            tx.update_instance("i4", 3, status="suspended")
            tx.append_audit(AuditRecord("i4", 1, T0, None, "x", None, None, "0" * 64, "1" * 64))
            tx.insert_instance(_instance("i4"))  # duplicate primary key

    with pytest.raises(StoreError):
        duplicate_after_writes()
    with store.transaction() as tx:
        assert tx.get_instance("i4") == _instance("i4")
        assert tx.audit_of("i4") == []
