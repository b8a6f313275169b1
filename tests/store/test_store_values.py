"""The store's own converters (store/_converters.py) store exactly what the previous release's SQLAlchemy
column types stored, and read it back: instants, booleans, bytes, time limits — on SQLite and PostgreSQL.

The reference is SQLAlchemy itself, through the schema-1 table definitions (tests/store/schema_v1.py) and
their ``UtcDateTime`` type: rows written by one side are read by the other.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine, insert, select, text
from tests.store import schema_v1
from tests.store.conftest import Legacy

from efficacy_flow.calendar import TimeLimit, TimeUnit
from efficacy_flow.clock import CHINA_TZ
from efficacy_flow.errors import NaiveDatetime
from efficacy_flow.store import DeadlineRecord, InstanceRecord, Store, TaskRecord
from efficacy_flow.store._converters import Converters

T0 = datetime(2025, 9, 26, 10, 0, 0, 123456, tzinfo=CHINA_TZ)

#: Aware instants in many zones and offsets, away from the ends of datetime's range (their UTC must exist).
INSTANTS = st.datetimes(
    min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.timezones()
).filter(lambda value: value.utcoffset() is not None)
OFFSETS = st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30)).flatmap(
    lambda naive: st.integers(-23 * 60, 23 * 60).map(
        lambda minutes: naive.replace(tzinfo=timezone(timedelta(minutes=minutes)))
    )
)


def _rows() -> tuple[InstanceRecord, TaskRecord, DeadlineRecord]:
    instance = InstanceRecord(
        "i1", "p", "h" * 64, "12345-0001", "active", 3, b"\x00\x01\xff", 1, "op",
        T0 + timedelta(days=1), T0, T0 + timedelta(seconds=1), 0, "0" * 64,
    )  # fmt: skip
    task = TaskRecord(
        "t1", "i1", "Task_A", "办理", "承办单位", "市住建局", "ready", T0, T0 + timedelta(days=3)
    )
    deadline = DeadlineRecord("d1", "i1", "t1", "Timer", "hours", False, T0 + timedelta(hours=4))
    return instance, task, deadline


def _v1_row(table: Any, record: Any) -> dict[str, Any]:
    """A record's values for the columns schema 1 had."""
    return {column.name: getattr(record, column.name) for column in table.c}


def test_rows_written_now_read_the_same_through_sqlalchemy(legacy: Legacy) -> None:
    """Rows the store writes are what SQLAlchemy's schema-1 column types read back (aware instants, bytes,
    booleans), column for column."""
    store = legacy.open()
    instance, task, deadline = _rows()
    try:
        with store.transaction() as tx:
            tx.insert_instance(instance)
            tx.sync_tasks("i1", [task], closed_status="cancelled", at=T0, by=None, previous=[])
            tx.replace_deadlines("i1", [deadline], previous=[])
    finally:
        store.close()
    with legacy.engine.connect() as conn:
        stored = conn.execute(select(schema_v1.instances)).mappings().one()
        stored_task = conn.execute(select(schema_v1.tasks)).mappings().one()
        stored_deadline = conn.execute(select(schema_v1.deadlines)).mappings().one()
    assert InstanceRecord(**stored) == instance
    assert TaskRecord(**stored_task) == task
    assert DeadlineRecord(**stored_deadline) == deadline
    assert stored_deadline["interrupting"] is False


def test_rows_written_through_sqlalchemy_read_the_same(legacy: Legacy) -> None:
    """Rows SQLAlchemy's schema-1 column types wrote are what the store reads, instants aware in
    Asia/Shanghai."""
    instance, task, deadline = _rows()
    legacy.insert(schema_v1.instances, _v1_row(schema_v1.instances, instance))
    legacy.insert(schema_v1.tasks, _v1_row(schema_v1.tasks, task))
    legacy.insert(schema_v1.deadlines, _v1_row(schema_v1.deadlines, deadline))
    store = legacy.open()
    try:
        with store.read() as reader:
            assert reader.get_instance("i1") == instance
            read_task = reader.get_task("t1")
            assert reader.deadlines_of("i1") == [deadline]
    finally:
        store.close()
    assert read_task == task
    assert read_task is not None
    assert read_task.ready_at.utcoffset() == timedelta(hours=8)


def test_sqlite_instants_are_the_text_sqlalchemy_writes(tmp_path: Path) -> None:
    """On SQLite an instant is stored as the naive-UTC text of SQLAlchemy's DATETIME, to the microsecond."""
    store = Store(f"sqlite:///{tmp_path / 't.db'}")
    try:
        with store.transaction() as tx:
            tx.put_definition("a" * 64, "p", b"x", datetime(2025, 9, 26, 10, 0, 0, 5, tzinfo=CHINA_TZ))
            assert tx.execute("SELECT created_at FROM ef_definitions") == [("2025-09-26 02:00:00.000005",)]
    finally:
        store.close()


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=st.one_of(INSTANTS, OFFSETS))
def test_sqlite_text_equals_sqlalchemy_for_every_instant(tmp_path: Path, value: datetime) -> None:
    """For any aware instant, the text the store writes on SQLite is the text SQLAlchemy's schema-1 column
    type writes; an instant bound in a hand-written statement is converted the same way."""
    reference = create_engine("sqlite://")
    schema_v1.definitions.create(reference)
    row = {"hash": "x", "process_id": "p", "content": b"", "created_at": value}
    with reference.begin() as conn:
        conn.execute(insert(schema_v1.definitions).values(**row))
        theirs = conn.execute(text("SELECT created_at FROM ef_definitions")).scalar_one()
    reference.dispose()
    store = Store(f"sqlite:///{tmp_path / 'p.db'}")  # one file for every example: each its own key
    try:
        key = uuid.uuid4().hex
        with store.transaction() as tx:
            tx.put_definition(key, "p", b"", value)
            ((ours,),) = tx.execute("SELECT created_at FROM ef_definitions WHERE hash = :h", {"h": key})
        with store.read() as reader:
            query = "SELECT count(*) FROM ef_definitions WHERE hash = :h AND created_at = :t"
            matching = reader.execute(query, {"h": key, "t": value})
    finally:
        store.close()
    assert ours == theirs
    assert matching == [(1,)]


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=st.one_of(INSTANTS, OFFSETS), n=st.integers(0, 10**6), unit=st.sampled_from(list(TimeUnit)))
@example(value=datetime(2000, 3, 19, 2, 0, tzinfo=ZoneInfo("Pacific/Auckland")), n=0, unit=TimeUnit.MINUTES)
def test_instants_and_time_limits_round_trip(store: Store, value: datetime, n: int, unit: TimeUnit) -> None:
    """Any aware instant and any TimeLimit read back equal (the instant in Asia/Shanghai), on both
    databases."""
    key = str(uuid.uuid4())
    limit = TimeLimit(n, unit)
    row = DeadlineRecord(key, "i1", None, "Timer", "hours", True, value, limit, lease_until=value)
    with store.transaction() as tx:
        tx.replace_deadlines("i1", [row], previous=[])
    with store.read() as reader:
        (found,) = [d for d in reader.deadlines_of("i1") if d.id == key]
    with store.transaction() as tx:
        tx.replace_deadlines("i1", [], previous=[found])
    # Compared in Asia/Shanghai: Python never calls an instant in a fold or gap of one zone (a wall time a
    # DST change makes ambiguous or skips) equal to any instant of another zone.
    shown = value.astimezone(CHINA_TZ)
    assert found == replace(row, due_at=shown, lease_until=shown)
    assert found.due_at is not None
    assert found.due_at.tzinfo == CHINA_TZ
    assert found.due_at.astimezone(UTC) == value.astimezone(UTC)


def test_an_instant_bound_again_as_another_object_has_its_own_text() -> None:
    """The converter reuses the text of the instant it bound last for an equal instant (another object,
    another zone); two instants of a repeated hour (the same wall time, another ``fold``) keep their own
    texts, and a naive datetime after an aware one is still refused."""
    instant = Converters("sqlite").instant
    now = datetime(2025, 9, 26, 10, 0, 0, 123456, tzinfo=CHINA_TZ)
    assert instant(now) == "2025-09-26 02:00:00.123456"
    assert instant(datetime.fromisoformat(now.isoformat())) == "2025-09-26 02:00:00.123456"
    assert instant(now.astimezone(UTC)) == "2025-09-26 02:00:00.123456"
    assert instant(now + timedelta(microseconds=1)) == "2025-09-26 02:00:00.123457"
    new_york = ZoneInfo("America/New_York")
    first = datetime(2025, 11, 2, 1, 30, tzinfo=new_york)  # EDT, fold 0
    second = first.replace(fold=1)  # the same wall time an hour later, EST
    assert instant(first) == "2025-11-02 05:30:00.000000"
    assert instant(second) == "2025-11-02 06:30:00.000000"
    assert instant(first) == "2025-11-02 05:30:00.000000"
    with pytest.raises(NaiveDatetime):
        instant(first.replace(tzinfo=None))
