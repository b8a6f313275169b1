"""Store.transaction and Store.read on SQLite's pinned connections: commit, roll back and translate errors the
same whether the pinned connection or a pooled one serves them; a pinned connection that failed is replaced;
a pooled connection lent to a reader refuses writes only while it is lent."""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from tests.store.rows import T0, instance

from efficacy_flow.errors import NaiveDatetime, StoreError
from efficacy_flow.store import Store, Transaction
from efficacy_flow.store import _store as store_module


@pytest.fixture
def pinned(tmp_path: Path) -> Iterator[Store]:
    store = Store(f"sqlite:///{tmp_path / 'p.db'}")
    with store.transaction() as tx:
        tx.insert_instance(instance())
    yield store
    store.close()


def _version(store: Store) -> int:
    with store.read() as reader:
        found = reader.get_instance("i1")
    assert found is not None
    return found.version


def _free(lock: threading.Lock) -> bool:
    if not lock.acquire(blocking=False):
        return False
    lock.release()
    return True


def _pins(store: Store) -> tuple[threading.Lock, threading.Lock]:
    assert store._write_pin is not None
    assert store._read_pin is not None
    return store._write_pin.lock, store._read_pin.lock


def test_a_block_commits_once_and_frees_the_pin(pinned: Store) -> None:
    """A write transaction holds the write pin while it runs and commits at the end."""
    writing, reading = _pins(pinned)
    with pinned.transaction() as tx:
        assert not _free(writing)
        assert _free(reading)
        tx.update_instance("i1", 1, updated_at=T0)
    assert _free(writing)
    assert _version(pinned) == 2


def test_an_error_in_the_block_rolls_back_and_passes_through(pinned: Store) -> None:
    """Any exception in the block rolls it back and propagates unchanged."""

    def block() -> None:
        with pinned.transaction() as tx:
            tx.update_instance("i1", 1, updated_at=T0)
            raise KeyError("boom")

    with pytest.raises(KeyError):
        block()
    assert _free(_pins(pinned)[0])
    assert _version(pinned) == 1


def test_our_own_error_passes_through_unwrapped(pinned: Store) -> None:
    """A naive datetime is NaiveDatetime (not a StoreError around it), and nothing is written."""

    def block() -> None:
        with pinned.transaction() as tx:
            tx.update_instance("i1", 1, state=b"new")
            tx.update_instance("i1", 2, updated_at=datetime(2025, 1, 1))

    with pytest.raises(NaiveDatetime) as raised:
        block()
    assert raised.value.__cause__ is None
    assert _version(pinned) == 1


def test_a_driver_error_in_the_block_is_a_store_error(pinned: Store) -> None:
    """An error the database reports is a StoreError naming its code; the transaction rolls back."""

    def block() -> None:
        with pinned.transaction() as tx:
            tx.update_instance("i1", 1, updated_at=T0)
            tx.execute("SELECT * FROM no_such_table")

    with pytest.raises(StoreError, match="no_such_table") as raised:
        block()
    assert raised.value.fields == {"driver_error": "OperationalError", "code": "SQLITE_ERROR"}
    assert _free(_pins(pinned)[0])
    assert _version(pinned) == 1


def test_before_commit_runs_last_and_rolls_back_by_raising(pinned: Store) -> None:
    """The hook sees the block's writes just before the commit; raising rolls them back."""
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
    assert _free(_pins(pinned)[0])
    assert _version(pinned) == 1


def test_before_commit_is_not_called_for_reads(pinned: Store) -> None:
    """Read transactions commit nothing: the write hook never sees them."""
    calls: list[Transaction] = []
    pinned.before_commit = calls.append
    with pinned.read() as reader:
        assert reader.get_instance("i1") is not None
    pinned.before_commit = None
    assert calls == []


def test_a_failed_commit_rolls_back_and_is_a_store_error(pinned: Store) -> None:
    """A COMMIT refused by the database (a deferred foreign key still violated) is a StoreError; the next
    transaction on the same connection starts clean."""
    with pinned.transaction() as tx:
        tx.execute("CREATE TABLE parent (id INTEGER PRIMARY KEY)")
        tx.execute("CREATE TABLE child (p INTEGER REFERENCES parent(id) DEFERRABLE INITIALLY DEFERRED)")

    def block() -> None:
        with pinned.transaction() as tx:
            tx.update_instance("i1", 1, updated_at=T0)
            tx.execute("INSERT INTO child VALUES (7)")

    with pytest.raises(StoreError, match="FOREIGN KEY") as raised:
        block()
    assert raised.value.__cause__ is None
    assert raised.value.__context__ is None
    assert _free(_pins(pinned)[0])
    assert _version(pinned) == 1
    with pinned.transaction() as tx:
        assert tx.execute("SELECT count(*) FROM child") == [(0,)]


def test_a_busy_pin_falls_back_to_the_pool_with_the_same_semantics(pinned: Store) -> None:
    """While another thread holds the pinned connections, transactions and reads use pooled ones: errors,
    commits and snapshots behave the same."""
    writing, reading = _pins(pinned)
    assert writing.acquire(blocking=False)
    assert reading.acquire(blocking=False)
    try:
        with pytest.raises(StoreError), pinned.transaction() as tx:
            tx.execute("SELECT * FROM no_such_table")
        with pinned.transaction() as tx:
            tx.update_instance("i1", 1, updated_at=T0)
        with pinned.read() as reader:
            found = reader.get_instance("i1")
    finally:
        writing.release()
        reading.release()
    assert found is not None
    assert found.version == 2


def test_a_pooled_reader_refuses_writes_only_while_it_is_lent(pinned: Store) -> None:
    """A pooled connection serving a read refuses writes; returned to the pool, it writes again for the next
    transaction that checks it out (the pool hands back its one idle connection)."""
    writing, reading = _pins(pinned)
    assert writing.acquire(blocking=False)
    assert reading.acquire(blocking=False)
    try:
        for version in (1, 2):
            with pytest.raises(StoreError, match="readonly"), pinned.read() as reader:
                reader.execute("UPDATE ef_instances SET status = 'x'")
            with pinned.transaction() as tx:
                assert tx.execute("PRAGMA query_only") == [(0,)]
                tx.update_instance("i1", version, updated_at=T0)
    finally:
        writing.release()
        reading.release()
    assert _version(pinned) == 3


def test_a_failed_begin_frees_the_pin_and_replaces_its_connection(pinned: Store, tmp_path: Path) -> None:
    """BEGIN IMMEDIATE refused (another connection holds the write lock and this one does not wait) is a
    StoreError; the pin is free, and the next transaction pins a fresh connection that works."""
    pin = pinned._write_pin
    assert pin is not None
    with pinned.transaction() as tx:  # the pinned connection exists
        tx.update_instance("i1", 1, updated_at=T0)
    pin.cursor.execute("PRAGMA busy_timeout = 0")
    old = pin.connection
    other = sqlite3.connect(tmp_path / "p.db", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(StoreError, match="locked"), pinned.transaction():
            pass
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert _free(pin.lock)
    with pinned.transaction() as tx:
        tx.update_instance("i1", 2, updated_at=T0)
    assert pin.connection is not old
    assert _version(pinned) == 3


def test_a_closed_pinned_connection_fails_once_and_is_replaced(pinned: Store) -> None:
    """A pinned connection closed underneath the store: the next transaction fails with StoreError (nothing
    to begin on), and the one after runs on a fresh connection."""
    pin = pinned._write_pin
    assert pin is not None
    with pinned.transaction() as tx:
        tx.update_instance("i1", 1, updated_at=T0)
    pin.cursor.connection.close()
    with pytest.raises(StoreError), pinned.transaction():
        pass
    with pinned.transaction() as tx:
        tx.update_instance("i1", 2, updated_at=T0)
    assert _version(pinned) == 3


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
            tx.put_definition("e" * 64, "p", b"<definitions/>", T0)
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
        with reopened.read() as reader:
            assert reader.get_definition("e" * 64) == b"<definitions/>"
    finally:
        reopened.close()
