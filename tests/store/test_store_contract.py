"""The store's contract, identical on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from efficacy_flow.clock import CHINA_TZ
from efficacy_flow.errors import ConcurrentUpdate, InvalidInput, NaiveDatetime, StoreError
from efficacy_flow.store import DeadlineRecord, InstanceRecord, Store, TaskRecord

T0 = datetime(2025, 9, 26, 10, 0, tzinfo=CHINA_TZ)


def instance(instance_id: str, **overrides: object) -> InstanceRecord:
    values: dict[str, object] = {
        "id": instance_id,
        "process_id": "p",
        "definition_hash": "h" * 64,
        "business_key": None,
        "status": "active",
        "version": 1,
        "state": b"state",
        "format_version": 1,
        "first_responder": "op",
        "suspended_at": None,
        "created_at": T0,
        "updated_at": T0,
        "audit_seq": 0,
        "audit_head": "0" * 64,
    }
    values.update(overrides)
    return InstanceRecord(**values)  # type: ignore[arg-type]


def deadline(deadline_id: str, instance_id: str, due: datetime | None) -> DeadlineRecord:
    return DeadlineRecord(deadline_id, instance_id, None, "Timer", "working_days", True, due)


def test_definition_stored_once(store: Store) -> None:
    """A definition with a known hash is not stored twice."""
    with store.transaction() as tx:
        assert tx.put_definition("a" * 64, "p", b"content", T0) is True
        assert tx.put_definition("a" * 64, "p", b"content", T0) is False
        assert tx.get_definition("a" * 64) == b"content"
        assert tx.get_definition("b" * 64) is None


def test_version_check(store: Store) -> None:
    """An update naming the current version bumps it; an outdated one raises ConcurrentUpdate."""
    with store.transaction() as tx:
        tx.insert_instance(instance("i1"))
        assert tx.update_instance("i1", 1, status="suspended") == 2
    with pytest.raises(ConcurrentUpdate) as caught, store.transaction() as tx:
        tx.update_instance("i1", 1, status="active")
    assert caught.value.fields == {"instance_id": "i1", "expected_version": 1}
    with store.transaction() as tx:
        record = tx.get_instance("i1")
    assert record is not None
    assert (record.version, record.status) == (2, "suspended")


def test_transaction_rolls_back_on_error(store: Store) -> None:
    """Nothing written inside a failing transaction survives."""

    def failing_call() -> None:
        with store.transaction() as tx:
            tx.insert_instance(instance("i1"))
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        failing_call()
    with store.transaction() as tx:
        assert tx.get_instance("i1") is None


def test_instants_round_trip_aware(store: Store) -> None:
    """Instants come back aware and equal, in Asia/Shanghai; naive ones are refused."""
    with store.transaction() as tx:
        tx.insert_instance(instance("i1", created_at=T0.astimezone(CHINA_TZ)))
        record = tx.get_instance("i1")
    assert record is not None
    assert record.created_at == T0
    assert record.created_at.utcoffset() == timedelta(hours=8)
    with pytest.raises(NaiveDatetime), store.transaction() as tx:
        tx.insert_instance(instance("i2", created_at=datetime(2025, 1, 1)))


def test_due_query_returns_only_due_unfired(store: Store) -> None:
    """due_instance_ids returns instances with a timer due at now ((-inf, now]), earliest first, and nothing
    else."""
    with store.transaction() as tx:
        for n in range(5):
            tx.insert_instance(instance(f"i{n}"))
        tx.replace_deadlines("i0", [deadline("d0", "i0", T0 + timedelta(hours=2))])
        tx.replace_deadlines("i1", [deadline("d1", "i1", T0 + timedelta(hours=1))])
        tx.replace_deadlines("i2", [deadline("d2", "i2", T0 + timedelta(hours=3))])
        tx.replace_deadlines("i3", [deadline("d3", "i3", None)])  # suspended
        tx.replace_deadlines("i4", [deadline("d4a", "i4", T0), deadline("d4b", "i4", T0)])
        assert tx.due_instance_ids(T0 - timedelta(seconds=1), 10) == []
        assert tx.due_instance_ids(T0, 10) == ["i4"]
        assert tx.due_instance_ids(T0 + timedelta(hours=2), 10) == ["i4", "i1", "i0"]
        assert tx.due_instance_ids(T0 + timedelta(hours=2), 2) == ["i4", "i1"]


def test_replace_deadlines_is_exact(store: Store) -> None:
    """replace_deadlines leaves exactly the given rows (added, changed, removed)."""
    with store.transaction() as tx:
        tx.insert_instance(instance("i1"))
        tx.replace_deadlines("i1", [deadline("a", "i1", T0), deadline("b", "i1", T0)])
        tx.replace_deadlines("i1", [deadline("b", "i1", T0 + timedelta(days=1)), deadline("c", "i1", None)])
        rows = tx.deadlines_of("i1")
    assert [(d.id, d.due_at) for d in rows] == [("b", T0 + timedelta(days=1)), ("c", None)]


def test_tasks_sync_and_close(store: Store) -> None:
    """Ready rows follow sync_tasks; closing twice reports the second close as lost."""
    task = TaskRecord("t1", "i1", "Task_A", "甲", "承办单位", "市住建局", "ready", T0, None)
    with store.transaction() as tx:
        tx.insert_instance(instance("i1"))
        tx.sync_tasks("i1", [task], closed_status="cancelled", at=T0, by=None)
        assert [t.id for t in tx.ready_tasks(role="承办单位", unit="市住建局")] == ["t1"]
        assert tx.ready_tasks(unit="市交通局") == []
        assert tx.close_task("t1", status="completed", at=T0, by="u") is True
        assert tx.close_task("t1", status="completed", at=T0, by="u") is False
        closed = tx.get_task("t1")
    assert closed is not None
    assert (closed.status, closed.closed_by) == ("completed", "u")


def test_reopening_reads_existing_schema(tmp_path: Path) -> None:
    """Opening an existing store keeps its rows (the schema is created once)."""
    url = f"sqlite:///{tmp_path / 's.db'}"
    with Store(url).transaction() as tx:
        tx.insert_instance(instance("i1"))
    with Store(url).transaction() as tx:
        assert tx.count_instances() == 1


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    """A database written by a newer schema version is refused with StoreError."""
    url = f"sqlite:///{tmp_path / 's.db'}"
    with Store(url).transaction() as tx:
        tx.conn.execute(text("UPDATE ef_meta SET value = '99' WHERE key = 'schema_version'"))
    with pytest.raises(StoreError):
        Store(url)


@pytest.mark.parametrize(
    ("durability", "expected"),
    [pytest.param("default", 1, id="normal"), pytest.param("power-loss", 2, id="full")],
)
def test_sqlite_durability_settings(tmp_path: Path, durability: str, expected: int) -> None:
    """SQLite runs in WAL mode; synchronous is NORMAL (1) by default, FULL (2) for power-loss durability."""
    store = Store(f"sqlite:///{tmp_path / 's.db'}", durability=durability)  # type: ignore[arg-type]
    with store.transaction() as tx:
        assert tx.conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert tx.conn.exec_driver_sql("PRAGMA synchronous").scalar() == expected


def test_bad_durability_and_schema_names() -> None:
    """Unknown durability settings and unsafe schema names are refused before anything is opened."""
    with pytest.raises(InvalidInput):
        Store("sqlite://", durability="fast")  # type: ignore[arg-type]
    with pytest.raises(InvalidInput):
        Store("postgresql://postgres@127.0.0.1:1/x", schema='x"; drop')


def test_unreachable_database_is_a_store_error(tmp_path: Path) -> None:
    """A store that cannot be opened raises StoreError without echoing a password."""
    with pytest.raises(StoreError) as caught:
        Store("postgresql://user:secret@127.0.0.1:1/x")
    assert "secret" not in str(caught.value)
