"""Store.transaction on SQLite's pinned connection (a class-based context manager) and the hot-path binders
(store/_fast.py): commit, roll back and translate errors exactly as the pooled path does; bind values by
position (SQLite) or by name (PostgreSQL) the same whichever way they are given."""

from __future__ import annotations

import logging
import sqlite3
import threading
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, insert, select, text
from sqlalchemy.dialects import postgresql

from efficacy_flow.clock import CHINA_TZ
from efficacy_flow.errors import NaiveDatetime, StoreError
from efficacy_flow.store import InstanceRecord, Store, TaskRecord, Transaction
from efficacy_flow.store import _store as store_module
from efficacy_flow.store._fast import Statements
from efficacy_flow.store._schema import instances, meta

T0 = datetime(2025, 9, 26, 10, 0, 0, 123456, tzinfo=CHINA_TZ)


def _instance(instance_id: str = "i1", version: int = 1) -> InstanceRecord:
    return InstanceRecord(
        instance_id, "p", "h" * 64, None, "active", version, b"s", 1, "op", None, T0, T0, 0, "0" * 64
    )


def _task(task_id: str) -> TaskRecord:
    return TaskRecord(task_id, "i1", "Task_A", "办理", "承办单位", None, "ready", T0, T0 + timedelta(days=3))


@pytest.fixture
def pinned(tmp_path: Path) -> Any:
    store = Store(f"sqlite:///{tmp_path / 'p.db'}")
    with store.transaction() as tx:
        tx.insert_instance(_instance())
    yield store
    store.close()


def _version(store: Store) -> int:
    with store.transaction() as tx:
        found = tx.get_instance("i1")
    assert found is not None
    return found.version


def _pin_is_free(store: Store) -> bool:
    if not store._pin.acquire(blocking=False):
        return False
    store._pin.release()
    return True


def test_a_block_commits_once_and_frees_the_pin(pinned: Store) -> None:
    with pinned.transaction() as tx:
        assert not _pin_is_free(pinned)
        tx.update_instance("i1", 1, updated_at=T0)
    assert _pin_is_free(pinned)
    assert _version(pinned) == 2


def test_an_error_in_the_block_rolls_back_and_passes_through(pinned: Store) -> None:
    def block() -> None:
        with pinned.transaction() as tx:
            tx.update_instance("i1", 1, updated_at=T0)
            raise KeyError("boom")

    with pytest.raises(KeyError):
        block()
    assert _pin_is_free(pinned)
    assert _version(pinned) == 1


def test_our_own_error_passes_through_unwrapped(pinned: Store) -> None:
    """A naive datetime bound on the fast path is NaiveDatetime, and nothing is written."""

    def block() -> None:
        with pinned.transaction() as tx:
            tx.update_instance("i1", 1, state=b"new")
            tx.update_instance("i1", 2, updated_at=datetime(2025, 1, 1))

    with pytest.raises(NaiveDatetime):
        block()
    assert _version(pinned) == 1


def test_a_sqlalchemy_error_in_the_block_is_a_store_error(pinned: Store) -> None:
    def block() -> None:
        with pinned.transaction() as tx:
            tx.update_instance("i1", 1, updated_at=T0)
            tx.conn.execute(text("SELECT * FROM no_such_table"))

    with pytest.raises(StoreError, match="no_such_table"):
        block()
    assert _pin_is_free(pinned)
    assert _version(pinned) == 1


def test_our_error_raised_inside_sqlalchemy_is_reported_itself(pinned: Store) -> None:
    """UtcDateTime rejects a naive datetime while SQLAlchemy binds it: NaiveDatetime, not StoreError."""
    with pytest.raises(NaiveDatetime) as raised, pinned.transaction() as tx:
        tx.conn.execute(
            insert(instances).values(**{**_row(_instance("i2")), "created_at": datetime(2025, 1, 1)})
        )
    assert raised.value.__cause__ is None
    assert _pin_is_free(pinned)


def test_a_statement_through_sqlalchemy_joins_and_commits_with_the_block(pinned: Store) -> None:
    with pinned.transaction() as tx:
        tx.update_instance("i1", 1, updated_at=T0)
        tx.conn.execute(insert(meta).values(key="k", value="v"))
        assert tx.conn.in_transaction()
    with pinned.transaction() as tx:
        assert tx.conn.execute(select(meta.c.value).where(meta.c.key == "k")).scalar() == "v"
    assert _version(pinned) == 2


def test_a_statement_through_sqlalchemy_rolls_back_with_the_block(pinned: Store) -> None:
    def block() -> None:
        with pinned.transaction() as tx:
            tx.conn.execute(insert(meta).values(key="k", value="v"))
            tx.update_instance("i1", 1, updated_at=T0)
            raise RuntimeError

    with pytest.raises(RuntimeError):
        block()
    with pinned.transaction() as tx:
        assert tx.conn.execute(select(meta.c.value).where(meta.c.key == "k")).scalar() is None
    assert _version(pinned) == 1


def test_before_commit_runs_last_and_rolls_back_by_raising(pinned: Store) -> None:
    seen: list[int] = []

    def hook(tx: Transaction) -> None:
        found = tx.get_instance("i1")
        assert found is not None
        seen.append(found.version)
        raise ValueError("refused")

    pinned.before_commit = hook
    with pytest.raises(ValueError, match="refused"), pinned.transaction() as tx:
        tx.update_instance("i1", 1, updated_at=T0)
    pinned.before_commit = None
    assert seen == [2]
    assert _pin_is_free(pinned)
    assert _version(pinned) == 1


def test_a_failed_commit_rolls_back_and_is_a_store_error(pinned: Store) -> None:
    """A COMMIT refused by the database (a deferred foreign key still violated) is a StoreError; the next
    transaction starts clean."""
    with pinned.transaction() as tx:
        tx.conn.exec_driver_sql("CREATE TABLE parent (id INTEGER PRIMARY KEY)")
        tx.conn.exec_driver_sql(
            "CREATE TABLE child (p INTEGER REFERENCES parent(id) DEFERRABLE INITIALLY DEFERRED)"
        )

    def block() -> None:
        with pinned.transaction() as tx:
            tx.update_instance("i1", 1, updated_at=T0)
            tx._cursor.execute("INSERT INTO child VALUES (7)")

    with pytest.raises(StoreError, match="FOREIGN KEY"):
        block()
    assert _pin_is_free(pinned)
    assert _version(pinned) == 1
    with pinned.transaction() as tx:
        assert tx._cursor.execute("SELECT count(*) FROM child").fetchone() == (0,)


def test_a_busy_pin_falls_back_to_the_pool_with_the_same_semantics(pinned: Store) -> None:
    assert pinned._pin.acquire(blocking=False)  # as if another thread held the pinned connection
    try:
        with pytest.raises(StoreError), pinned.transaction() as tx:
            tx.conn.execute(text("SELECT * FROM no_such_table"))
        with pinned.transaction() as tx:
            tx.update_instance("i1", 1, updated_at=T0)
    finally:
        pinned._pin.release()
    assert _version(pinned) == 2


def test_a_failed_begin_frees_the_pin(pinned: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    import efficacy_flow.store._store as module

    def locked(driver: Any) -> None:
        raise StoreError("the store failed: database is locked")

    monkeypatch.setattr(module, "_begin_immediate", locked)
    with pytest.raises(StoreError), pinned.transaction():
        pass
    monkeypatch.undo()
    assert _pin_is_free(pinned)
    assert _version(pinned) == 1


def test_a_closed_pinned_connection_is_replaced(pinned: Store) -> None:
    conn = pinned._pinned[0]
    conn.close()
    with pinned.transaction() as tx:
        tx.update_instance("i1", 1, updated_at=T0)
    assert pinned._pinned[0] is not conn
    assert _version(pinned) == 2


def test_sync_tasks_closes_inserts_and_retimes(store: Store) -> None:
    """The common calls: one closed and one opened; a cancelled one; one whose due time moved (both
    dialects)."""
    a, b, c = _task("a"), _task("b"), _task("c")
    with store.transaction() as tx:
        tx.insert_instance(_instance())
        tx.sync_tasks("i1", [a, b], closed_status="cancelled", at=T0, by=None, previous=[])
    later = T0 + timedelta(hours=1)
    moved = TaskRecord("b", "i1", "Task_A", "办理", "承办单位", "unit", "ready", T0, T0 + timedelta(days=9))
    with store.transaction() as tx:
        tx.sync_tasks("i1", [moved, c], closed_status="cancelled", at=later, by="op", completed_id="a")
    with store.transaction() as tx:
        assert tx.get_task("a") == TaskRecord(*_fields(a)[:6], "completed", T0, a.due_at, later, "op")
        assert tx.get_task("b") == moved
        assert tx.ready_tasks(instance_id="i1") == [moved, c]
        tx.sync_tasks("i1", [], closed_status="cancelled", at=later, by="op", completed_id="x")
        assert tx.get_task("c") == TaskRecord(*_fields(c)[:6], "cancelled", T0, c.due_at, later, None)


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
def test_binders_give_the_parameters_by_position_or_by_name(dialect: str) -> None:
    """A record, a tuple in a declared order and a mapping bind the same values through the processors."""
    engine_dialect = (
        create_engine("sqlite://").dialect if dialect == "sqlite" else postgresql.psycopg.dialect()  # type: ignore[attr-defined]
    )
    sql = Statements(engine_dialect)
    record = _instance()
    by_record = sql.insert_instance.bind(record)
    by_name = sql.insert_instance.params(_row(record))
    assert by_record == by_name
    close = sql.close_task
    params = close.bind(("t1", "completed", T0, "op"))
    assert params == close.params({"b_by": "op", "b_at": T0, "b_status": "completed", "b_id": "t1"})
    expected_at = (
        "2025-09-26 02:00:00.123456" if dialect == "sqlite" else datetime(2025, 9, 26, 2, 0, 0, 123456)
    )
    if dialect == "sqlite":
        assert list(params) == ["completed", expected_at, "op", "t1", "ready"]  # type: ignore[arg-type]
    else:
        assert isinstance(params, dict)
        assert params["b_at"] == expected_at
        assert params["b_id"] == "t1"
        assert "ready" in params.values()
    # Any column order of update_instance binds the same statement and values.
    one, bind_one = sql.update_instance_binder(("state", "updated_at"))
    two, bind_two = sql.update_instance_binder(("updated_at", "state"))
    assert one is two
    assert bind_one(("i1", 1, 2, b"s", T0)) == bind_two(("i1", 1, 2, T0, b"s"))
    with pytest.raises(NaiveDatetime):
        bind_one(("i1", 1, 2, b"s", datetime(2025, 1, 1)))
    with pytest.raises(KeyError):
        close.binder(("b_id", "b_status"))


def _fields(record: Any) -> list[Any]:
    return [getattr(record, name) for name in record.__slots__]


def _row(record: Any) -> dict[str, Any]:
    return {name: getattr(record, name) for name in record.__slots__}


def test_sqlite_driver_accepts_the_positional_lists() -> None:
    """SQLite binds from a list (the binder's output when a processor ran) as from a tuple."""
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE t (a, b)")
    db.execute("INSERT INTO t VALUES (?, ?)", [1, "x"])
    assert db.execute("SELECT a, b FROM t").fetchall() == [(1, "x")]


def test_sqlite_instants_are_written_as_sqlalchemy_writes_them() -> None:
    """The one-step UtcDateTime bind on SQLite gives SQLAlchemy's own text for every instant, None for None,
    and NaiveDatetime for a naive datetime."""
    from datetime import UTC, timezone
    from random import Random

    from sqlalchemy.dialects.sqlite.base import DATETIME

    from efficacy_flow.store._fast import _processor, _sqlite_utc_text
    from efficacy_flow.store._schema import tasks

    dialect = create_engine("sqlite://").dialect
    type_ = tasks.c.due_at.type
    impl = type_.dialect_impl(dialect)
    ours = _sqlite_utc_text(impl, dialect)
    assert ours is not None
    theirs = impl.bind_processor(dialect)
    assert theirs is not None
    rng = Random(7)
    zones = [UTC, CHINA_TZ, timezone(timedelta(hours=-9, minutes=-30)), timezone(timedelta(hours=14))]
    values = [
        datetime(1, 1, 1, 12, tzinfo=UTC),
        datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
        datetime(2025, 9, 26, 10, 0, tzinfo=CHINA_TZ),
        datetime(2025, 9, 26, 10, 0, 0, 1, tzinfo=CHINA_TZ),
        datetime(1999, 12, 31, 16, 0, 0, 500000, tzinfo=CHINA_TZ),
    ] + [
        datetime(1900, 1, 1, tzinfo=UTC).astimezone(rng.choice(zones))
        + timedelta(
            seconds=rng.randrange(0, 200 * 365 * 86400), microseconds=rng.choice([0, rng.randrange(10**6)])
        )
        for _ in range(2000)
    ]
    for value in values:
        assert ours(value) == theirs(value), value
    assert ours(None) is None
    with pytest.raises(NaiveDatetime):
        ours(datetime(2025, 1, 1))
    remembered = _processor(type_, dialect, bind=True)
    assert remembered is not None
    assert remembered(T0) == theirs(T0) == "2025-09-26 02:00:00.123456"
    # Any other storage format keeps SQLAlchemy's own processor.
    other = type(type_)()
    other.impl = DATETIME(storage_format="%(year)04d/%(month)02d/%(day)02d")
    assert _sqlite_utc_text(other.dialect_impl(dialect), dialect) is None
    assert (
        _sqlite_utc_text(type_.dialect_impl(postgresql.psycopg.dialect()), postgresql.psycopg.dialect())
        is None
    )  # type: ignore[attr-defined]


def test_closing_does_not_wait_forever_for_a_transaction_still_open(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """At interpreter exit a thread may still be inside a transaction: closing the store gives up waiting for
    its connection (with a warning) instead of hanging; the transaction itself still commits."""
    monkeypatch.setattr(store_module, "_RELEASE_WAIT", 0.05)
    store = Store(f"sqlite:///{tmp_path / 'open.db'}")
    entered, leave = threading.Event(), threading.Event()

    def hold() -> None:
        with store.transaction() as tx:
            tx.put_definition("e" * 64, "p", b"<definitions/>", datetime(2025, 9, 26, 10, 0, tzinfo=CHINA_TZ))
            entered.set()
            leave.wait(10)

    holder = threading.Thread(target=hold)
    holder.start()
    assert entered.wait(10)
    with caplog.at_level(logging.WARNING, logger="efficacy_flow.store._store"):
        store.close()
    assert "still open" in caplog.text
    leave.set()
    holder.join(10)
    assert not holder.is_alive()
    reopened = Store(f"sqlite:///{tmp_path / 'open.db'}")
    try:
        with reopened.transaction() as tx:
            assert tx.get_definition("e" * 64) == b"<definitions/>"
    finally:
        reopened.close()
