"""Opening a schema-1 database (every database in the field) upgrades it to the current schema (3) in one
transaction, on SQLite and PostgreSQL; a failing upgrade leaves it exactly as it was.

The schema-1 databases are real: built by the previous release's table definitions (tests/store/schema_v1.py)
and filled through SQLAlchemy Core with its column types, as that release wrote them.
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from tests._postgres import PG_DSN, fresh_schema, require_postgres
from tests.store import schema_v1
from tests.store.conftest import Legacy

from efficacy_flow.calendar import MINUTES, WORKING_DAYS, TimeLimit
from efficacy_flow.clock import CHINA_TZ
from efficacy_flow.errors import StoreError
from efficacy_flow.store import (
    AuditRecord,
    DeadlineRecord,
    IncidentRecord,
    InstanceRecord,
    Store,
    TaskRecord,
)
from efficacy_flow.store._migrations import remaining_v2
from efficacy_flow.store._schema import SCHEMA_VERSION

T0 = datetime(2025, 9, 26, 10, 0, 0, 123456, tzinfo=CHINA_TZ)

INSTANCE: dict[str, Any] = {
    "id": "i1",
    "process_id": "complaint_closure",
    "definition_hash": "h" * 64,
    "business_key": "12345-0001",
    "status": "suspended",
    "version": 7,
    "state": b"\x28\xb5\x2f\xfd state",
    "format_version": 1,
    "first_responder": "zb-01",
    "suspended_at": T0 + timedelta(days=1),
    "created_at": T0,
    "updated_at": T0 + timedelta(days=1),
    "audit_seq": 1,
    "audit_head": "f" * 64,
}
TASK: dict[str, Any] = {
    "id": "t1",
    "instance_id": "i1",
    "element_id": "Task_Handle",
    "name": "办理",
    "role": "承办单位",
    "unit": "市住建局",
    "status": "ready",
    "ready_at": T0,
    "due_at": None,
    "closed_at": None,
    "closed_by": None,
}
#: A suspended instance's timers: remaining time as schema 1 wrote it.
DEADLINES: list[dict[str, Any]] = [
    {
        "id": "d1",
        "instance_id": "i1",
        "task_id": "t1",
        "element_id": "Timer_Limit",
        "kind": "working_days",
        "interrupting": True,
        "due_at": None,
        "remaining": "wd:2",
        "fired_at": None,
        "claimed_by": None,
        "lease_until": None,
    },
    {
        "id": "d2",
        "instance_id": "i1",
        "task_id": "t1",
        "element_id": "Timer_Warn",
        "kind": "elapsed",
        "interrupting": False,
        "due_at": None,
        "remaining": "s:14401",
        "fired_at": None,
        "claimed_by": "w",
        "lease_until": T0 + timedelta(minutes=5),
    },
    {
        "id": "d3",
        "instance_id": "i2",
        "task_id": None,
        "element_id": "Timer_Rating",
        "kind": "elapsed",
        "interrupting": True,
        "due_at": T0 + timedelta(days=3),
        "remaining": None,
        "fired_at": None,
        "claimed_by": None,
        "lease_until": None,
    },
]
AUDIT: dict[str, Any] = {
    "instance_id": "i1",
    "seq": 1,
    "at": T0,
    "actor": "zb-01",
    "kind": "started",
    "before": None,
    "after": '{"title":"路灯不亮"}',
    "prev_hash": "0" * 64,
    "hash": "f" * 64,
}


def _fill(legacy: Legacy) -> None:
    legacy.insert(
        schema_v1.definitions, {"hash": "h" * 64, "process_id": "p", "content": b"{}", "created_at": T0}
    )
    legacy.insert(
        schema_v1.instances,
        INSTANCE,
        {**INSTANCE, "id": "i2", "business_key": "12345-0002", "status": "active", "suspended_at": None},
    )
    legacy.insert(schema_v1.tasks, TASK)
    legacy.insert(schema_v1.deadlines, *DEADLINES)
    legacy.insert(schema_v1.audit_events, AUDIT)
    legacy.insert(schema_v1.counters, {"counter": "c", "key": "k", "created_at": T0})
    legacy.insert(schema_v1.counter_events, {"counter": "c", "instance_id": "i1", "key": "k", "at": T0})


def _version(store: Store) -> str:
    with store.read() as reader:
        return str(reader.execute("SELECT value FROM ef_meta WHERE \"key\" = 'schema_version'")[0][0])


def _indexes(store: Store, table: str = "ef_deadlines") -> set[str]:
    query = (
        f"SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = '{table}'"
        if store.dialect == "sqlite"
        else f"SELECT indexname FROM pg_indexes WHERE tablename = '{table}' AND schemaname = current_schema()"
    )
    with store.read() as reader:
        return {str(row[0]) for row in reader.execute(query)}


def test_a_schema_1_database_is_upgraded_and_reads_the_same(legacy: Legacy) -> None:
    """Every row the previous release wrote reads back as it was, the remaining times as TimeLimit values
    (2 working days; 14,401 s as 241 minutes, rounded up), a timer of ``"elapsed"`` kind as ``"minutes"`` (as
    state format 2 names it), the new columns empty; the version says 3, the due-time index is the partial
    one, and the work list's indexes over ready tasks replace the one on (status, role)."""
    _fill(legacy)
    store = legacy.open()
    try:
        assert _version(store) == str(SCHEMA_VERSION)
        with store.read() as reader:
            assert reader.get_instance("i1") == InstanceRecord(**INSTANCE)
            assert reader.get_task("t1") == TaskRecord(**TASK)
            assert reader.get_definition("h" * 64) == b"{}"
            assert reader.audit_of("i1") == [AuditRecord(**AUDIT)]
            assert reader.counter_events_of("i1") == [("c", "k", T0)]
            rows = reader.deadlines_of("i1") + reader.deadlines_of("i2")
        assert rows == [
            DeadlineRecord(**{**DEADLINES[0], "remaining": TimeLimit(2, WORKING_DAYS)}),
            DeadlineRecord(**{**DEADLINES[1], "kind": "minutes", "remaining": TimeLimit(241, MINUTES)}),
            DeadlineRecord(**{**DEADLINES[2], "kind": "minutes"}),
        ]
        indexes = _indexes(store)
        assert "ix_ef_deadlines_due_unparked" in indexes
        assert "ix_ef_deadlines_due_at" not in indexes
        task_indexes = _indexes(store, "ef_tasks")
        assert {"ix_ef_tasks_ready_unit", "ix_ef_tasks_ready_due"} <= task_indexes
        assert "ix_ef_tasks_status_role" not in task_indexes
        assert "ix_ef_instances_created" in _indexes(store, "ef_instances")
        incident = IncidentRecord(
            "n1", "i1", None, "timer", "open", "ScriptError", "boom", 3, None, None, T0, T0
        )
        with store.transaction() as tx:
            tx.insert_incident(incident)
            tx.set_instance_incident("i1", "n1")
            tx.park_deadlines("i2", "n1")
        with store.read() as reader:
            assert reader.incidents() == [incident]
            found = reader.get_instance("i1")
            assert found is not None
            assert found.incident_id == "n1"
            assert reader.due_instance_ids(T0 + timedelta(days=4), 10) == []
    finally:
        store.close()


def test_an_upgraded_database_opens_again_unchanged(legacy: Legacy) -> None:
    """Upgrading happens once: opening again finds schema 3 and changes nothing."""
    _fill(legacy)
    legacy.open().close()
    store = legacy.open()
    try:
        assert _version(store) == str(SCHEMA_VERSION)
        with store.read() as reader:
            assert [d.remaining for d in reader.deadlines_of("i1")] == [
                TimeLimit(2, WORKING_DAYS),
                TimeLimit(241, MINUTES),
            ]
    finally:
        store.close()


def test_a_failing_upgrade_leaves_the_database_as_it_was(legacy: Legacy) -> None:
    """A schema-1 row the upgrade cannot read (a remaining time in no known format) refuses the upgrade with
    StoreError naming the row; the database is still schema 1, with no new table or column."""
    _fill(legacy)
    legacy.insert(schema_v1.deadlines, {**DEADLINES[2], "id": "bad", "remaining": "3 days"})
    with pytest.raises(StoreError, match="deadline bad") as raised:
        legacy.open()
    assert raised.value.fields["deadline_id"] == "bad"
    with legacy.engine.connect() as conn:
        assert conn.execute(text("SELECT value FROM ef_meta")).scalar_one() == "1"
        with pytest.raises(Exception, match="incident"):
            conn.execute(text("SELECT incident_id FROM ef_instances"))
        conn.rollback()
        with pytest.raises(Exception, match="ef_incidents"):
            conn.execute(text("SELECT count(*) FROM ef_incidents"))
        conn.rollback()
        remaining = conn.execute(text("SELECT remaining FROM ef_deadlines WHERE id = 'd1'")).scalar_one()
    assert remaining == "wd:2"


def test_open_instances_sharing_a_business_key_refuse_the_upgrade(legacy: Legacy) -> None:
    """The previous release accepted a second open instance with a process's business key; schema 3 makes the
    key unique among open instances, so the upgrade stops with StoreError naming the shared keys (completed
    duplicates do not count), and the database stays as it was. Given its own key, it upgrades."""
    _fill(legacy)
    twin = {**INSTANCE, "id": "i3", "status": "active", "suspended_at": None}
    done = {**INSTANCE, "id": "i4", "status": "completed", "suspended_at": None}
    legacy.insert(schema_v1.instances, twin, done)
    with pytest.raises(
        StoreError, match=r"1 business keys are shared .*complaint_closure '12345-0001' \(2 open\)"
    ) as raised:
        legacy.open()
    assert raised.value.fields["duplicates"] == [("complaint_closure", "12345-0001")]
    with legacy.engine.begin() as conn:
        assert conn.execute(text("SELECT value FROM ef_meta")).scalar_one() == "1"
        conn.execute(text("UPDATE ef_instances SET business_key = '12345-0001-2' WHERE id = 'i3'"))
    store = legacy.open()
    try:
        assert _version(store) == str(SCHEMA_VERSION)
        assert "ix_ef_instances_open_key" in _indexes(store, "ef_instances")
    finally:
        store.close()


@pytest.mark.parametrize(
    ("schema_1", "schema_2"),
    [
        pytest.param("wd:0", "0 working_days", id="no-working-day-left"),
        pytest.param("wd:12", "12 working_days", id="working-days"),
        pytest.param("s:0", "0 minutes", id="no-second-left"),
        pytest.param("s:1", "1 minutes", id="one-second-rounds-up"),
        pytest.param("s:60", "1 minutes", id="one-minute"),
        pytest.param("s:61", "2 minutes", id="a-second-past-a-minute"),
        pytest.param("s:14400", "240 minutes", id="four-hours"),
    ],
)
def test_remaining_times_convert_rounding_up(schema_1: str, schema_2: str) -> None:
    """Schema 1's "wd:N" is N working days; "s:N" is N/60 minutes rounded up, so a paused limit never loses
    time by the upgrade."""
    assert remaining_v2(schema_1) == schema_2


@pytest.mark.parametrize("text_", ["d:3", "wd:", "s:-5", "3 days", "wd:2.5"])
def test_unknown_remaining_times_are_refused(text_: str) -> None:
    """Anything else is not a schema-1 remaining time."""
    with pytest.raises(ValueError):  # noqa: PT011 (int() or the unit check: either says it is not one)
        remaining_v2(text_)


@pytest.mark.parametrize("dialect", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_stores_opened_together_create_the_schema_once(dialect: str, tmp_path: Path) -> None:
    """Four processes' worth of stores opening one new database at the same moment all open it (PostgreSQL:
    the advisory lock orders them; SQLite: BEGIN IMMEDIATE does), and it holds schema 2 once."""
    if dialect == "postgresql":
        require_postgres()
        url, schema = PG_DSN, fresh_schema()
    else:
        url, schema = f"sqlite:///{tmp_path / 'together.db'}", None
    barrier = threading.Barrier(4)
    opened: list[Store] = []
    failures: list[BaseException] = []

    def open_one() -> None:
        barrier.wait(30)
        try:
            opened.append(Store(url, schema=schema))
        except BaseException as exc:  # reported below
            failures.append(exc)

    threads = [threading.Thread(target=open_one) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    try:
        assert failures == []
        assert len(opened) == 4
        with opened[0].read() as reader:
            assert reader.execute('SELECT "key", value FROM ef_meta') == [
                ("schema_version", str(SCHEMA_VERSION))
            ]
    finally:
        if opened:
            opened[0].drop_schema()
        for store in opened:
            store.close()
