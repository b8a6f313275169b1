"""Store.read(): reads that never wait for a writer, see one snapshot, and cannot write.

SQLite: a read passes a writer that holds ``BEGIN IMMEDIATE`` in another process (WAL) and sees the last
commit. PostgreSQL: reading a row another connection has locked ``FOR UPDATE`` returns its last committed
values at once.
"""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from tests._postgres import PG_DSN, fresh_schema, require_postgres
from tests.store.rows import T0, instance, task

from efficacy_flow.errors import StoreError
from efficacy_flow.store import InstanceRecord, Store

#: Holds SQLite's write lock with an uncommitted change until told to stop (one line on stdin).
_WRITER = """
import sqlite3, sys
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("BEGIN IMMEDIATE")
db.execute("UPDATE ef_instances SET status = 'changed', version = 99")
db.execute("UPDATE ef_tasks SET name = 'changed'")
print("locked", flush=True)
sys.stdin.readline()
db.execute("ROLLBACK" if sys.argv[2] == "rollback" else "COMMIT")
print("done", flush=True)
"""


def _seed(store: Store) -> InstanceRecord:
    record = instance()
    with store.transaction() as tx:
        tx.insert_instance(record)
        tx.sync_tasks("i1", [task("t1")], closed_status="cancelled", at=T0, by=None, previous=[])
    return record


@contextmanager
def _writer_holding_the_lock(path: Path, end: str) -> Iterator[Callable[[], None]]:
    """Another process holding SQLite's write lock with uncommitted changes; call what this yields to make it
    end its transaction (``end``: ``commit`` or ``rollback``)."""
    writer = subprocess.Popen(
        [sys.executable, "-c", _WRITER, str(path), end],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert writer.stdin is not None
    assert writer.stdout is not None

    def finish() -> None:
        assert writer.stdin is not None
        assert writer.stdout is not None
        writer.stdin.write("go\n")
        writer.stdin.flush()
        assert writer.stdout.readline() == "done\n"

    try:
        assert writer.stdout.readline() == "locked\n"
        yield finish
    finally:
        writer.kill()
        writer.communicate(timeout=30)


def test_a_sqlite_read_passes_a_writer_in_another_process(tmp_path: Path) -> None:
    """While another process holds the write lock with uncommitted changes, a read returns the last
    committed rows at once: its connection does not wait for locks at all (busy_timeout 0 would make any wait
    an immediate "database is locked"). After the writer commits, the next read sees its change."""
    path = tmp_path / "r.db"
    store = Store(f"sqlite:///{path}")
    record = _seed(store)
    with store.read() as reader:  # the read connection exists from here on
        assert reader.get_instance("i1") == record
    assert store._read_pin is not None
    store._read_pin.cursor.execute("PRAGMA busy_timeout = 0")
    with _writer_holding_the_lock(path, "commit") as finish:
        for _ in range(3):
            with store.read() as reader:
                assert reader.get_instance("i1") == record
                assert [t.name for t in reader.ready_tasks(instance_id="i1")] == ["办理"]
        finish()
    with store.read() as reader:
        found = reader.get_instance("i1")
    assert found is not None
    assert (found.status, found.version) == ("changed", 99)
    store.close()


def test_a_sqlite_write_waits_where_a_read_does_not(tmp_path: Path) -> None:
    """The contrast that makes the test above meaningful: with the same writer holding the lock, a write
    transaction that may not wait fails at once with StoreError ("database is locked")."""
    path = tmp_path / "w.db"
    store = Store(f"sqlite:///{path}")
    _seed(store)
    with store.transaction():
        pass
    assert store._write_pin is not None
    store._write_pin.cursor.execute("PRAGMA busy_timeout = 0")
    with _writer_holding_the_lock(path, "rollback") as finish:
        with pytest.raises(StoreError, match="locked"), store.transaction():
            pass
        finish()
    store.close()


def test_a_read_sees_one_snapshot(store: Store) -> None:
    """Every statement of one read sees the state at its first read, whatever commits meanwhile; the next
    read sees the commit."""
    _seed(store)
    committed = threading.Event()

    def bump() -> None:
        with store.transaction() as tx:
            tx.update_instance("i1", 1, status="suspended")
        committed.set()

    with store.read() as reader:
        first = reader.get_instance("i1")
        other = threading.Thread(target=bump)
        other.start()
        other.join(30)
        assert committed.is_set()
        again = reader.get_instance("i1")
        listed = reader.list_instances(process_id=None, status="active", business_key=None)
    assert first is not None
    assert again == first
    assert [r.id for r in listed] == ["i1"]
    with store.read() as reader:
        now = reader.get_instance("i1")
    assert now is not None
    assert (now.status, now.version) == ("suspended", 2)


def test_a_write_through_a_reader_fails_typed_and_writes_nothing(store: Store) -> None:
    """A statement that would change the database, run through a Reader, is refused with StoreError; nothing
    changes."""
    record = _seed(store)
    for statement in (
        "UPDATE ef_instances SET status = 'x'",
        "DELETE FROM ef_tasks",
        "CREATE TABLE intruder (x INTEGER)",
    ):
        with pytest.raises(StoreError), store.read() as reader:
            reader.execute(statement)
    with store.read() as reader:
        assert reader.get_instance("i1") == record
        assert len(reader.ready_tasks()) == 1
        assert reader.execute("SELECT count(*) FROM ef_tasks") == [(1,)]


@pytest.mark.postgres
def test_a_postgresql_read_of_a_locked_row_returns_its_committed_state_at_once() -> None:
    """Another connection holds the instance row FOR UPDATE with an uncommitted change: a read returns the
    last committed values without waiting (with lock_timeout at 1 ms, any wait for the lock would fail),
    while a locking read in a write transaction does wait (and so fails under the same timeout)."""
    require_postgres()
    import psycopg

    schema = fresh_schema()
    store = Store(PG_DSN, schema=schema)
    try:
        record = _seed(store)
        holder = psycopg.connect(PG_DSN, options=f"-csearch_path={schema}")
        try:
            holder.execute("SELECT id FROM ef_instances WHERE id = 'i1' FOR UPDATE")
            holder.execute("UPDATE ef_instances SET status = 'changed', version = 99 WHERE id = 'i1'")
            with store.read() as reader:
                reader.execute("SET LOCAL lock_timeout = '1ms'")
                assert reader.get_instance("i1") == record
                assert [t.id for t in reader.ready_tasks(instance_id="i1")] == ["t1"]
            with pytest.raises(StoreError, match="55P03"):
                _read_locked(store)
            holder.commit()
        finally:
            holder.close()
        with store.read() as reader:
            found = reader.get_instance("i1")
        assert found is not None
        assert (found.status, found.version) == ("changed", 99)
    finally:
        store.drop_schema()
        store.close()


def _read_locked(store: Store) -> None:
    with store.transaction() as tx:
        tx.execute("SET LOCAL lock_timeout = '1ms'")
        tx.get_instance("i1", lock=True)
