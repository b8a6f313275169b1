"""The background flush of a SQLite store's write-ahead log (store/_flusher.py): when it runs, what it
flushes, and that it stops with its store."""

from __future__ import annotations

import gc
import os
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from tests._postgres import PG_DSN, fresh_schema, require_postgres

from efficacy_flow.store import Store
from efficacy_flow.store import _flusher as flusher_module
from efficacy_flow.store._flusher import WAL_AUTOCHECKPOINT, WalFlusher

_AT = datetime(2025, 9, 26, 2, 0, tzinfo=UTC)


def _eventually(condition: Callable[[], bool], what: str) -> None:
    """Wait for something a background thread does (a generous bound: this checks behaviour, not speed)."""
    deadline = time.monotonic() + 10
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.005)


@pytest.fixture
def flushed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The paths of the files the flusher fsyncs, in order (the real fdatasync still runs)."""
    paths: list[str] = []
    real = flusher_module._sync

    def recording(fd: int) -> None:
        paths.append(os.readlink(f"/proc/self/fd/{fd}"))
        real(fd)

    monkeypatch.setattr(flusher_module, "_sync", recording)
    return paths


def _commit(store: Store, key: str) -> None:
    with store.transaction() as tx:
        tx.put_definition(key.ljust(64, "0"), "p", b"<definitions/>", _AT)


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc to name flushed files")
def test_a_commit_has_the_log_flushed_in_the_background(tmp_path: Path, flushed: list[str]) -> None:
    store = Store(f"sqlite:///{tmp_path / 'a.db'}")
    try:
        assert store._flusher is not None
        assert store._flusher.alive
        before = len(flushed)
        _commit(store, "a")
        _eventually(lambda: len(flushed) > before, "a flush after the commit")
        assert set(flushed) == {str(tmp_path / "a.db-wal")}
        settled = len(flushed)
        time.sleep(0.1)
        assert len(flushed) == settled  # no commits, no flushes
    finally:
        store.close()


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc to name flushed files")
def test_a_log_made_again_is_opened_again(tmp_path: Path, flushed: list[str]) -> None:
    """When the last connection closes, SQLite removes the log; the next one makes a new file, which the
    flusher opens (flushing the removed one would protect nothing)."""
    path = tmp_path / "b.db"
    flusher = WalFlusher(str(path), interval=0.001)
    try:
        flusher.committed()  # no log yet: skipped, the thread goes on
        time.sleep(0.05)
        assert flusher.alive
        assert flushed == []
        (tmp_path / "b.db-wal").write_bytes(b"first")
        flusher.committed()
        _eventually(lambda: len(flushed) == 1, "the first flush")
        os.unlink(tmp_path / "b.db-wal")
        (tmp_path / "b.db-wal").write_bytes(b"second")
        flusher.committed()
        _eventually(lambda: len(flushed) == 2, "the second flush")
        assert flushed == [str(tmp_path / "b.db-wal")] * 2  # the new file, not "(deleted)"
    finally:
        flusher.close()
    assert not flusher.alive


def test_close_stops_the_thread_and_an_unclosed_store_stops_it_when_collected(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'c.db'}")
    flusher = store._flusher
    assert flusher is not None
    _commit(store, "c")
    store.close()
    assert not flusher.alive
    store.close()  # idempotent

    unclosed = Store(f"sqlite:///{tmp_path / 'd.db'}")
    other = unclosed._flusher
    assert other is not None
    assert other.alive
    del unclosed
    gc.collect()
    _eventually(lambda: not other.alive, "the collected store's flusher to stop")


def test_stores_that_need_no_flusher_have_none(tmp_path: Path) -> None:
    """Power-loss durability fsyncs every commit already; an in-memory database has no log."""
    for store in (
        Store(f"sqlite:///{tmp_path / 'e.db'}", durability="power-loss"),
        Store("sqlite://"),
    ):
        try:
            assert store._flusher is None
            _commit(store, "e")
        finally:
            store.close()


@pytest.mark.postgres
def test_postgresql_has_no_flusher() -> None:
    require_postgres()
    store = Store(PG_DSN, schema=fresh_schema())
    try:
        assert store._flusher is None
    finally:
        store.drop_schema()
        store.close()


def test_commits_from_other_threads_are_flushed_too(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A transaction on a pooled connection (the pinned one busy in another thread) wakes the flusher too."""
    store = Store(f"sqlite:///{tmp_path / 'f.db'}")
    woken: list[str] = []
    flusher = store._flusher
    assert flusher is not None
    monkeypatch.setattr(flusher, "committed", lambda: woken.append(threading.current_thread().name))
    try:
        with store.transaction() as tx:  # holds the pinned connection
            tx.put_definition("f".ljust(64, "0"), "p", b"<definitions/>", _AT)
            worker = threading.Thread(target=_commit, args=(store, "g"), name="other")
            worker.start()
            worker.join(timeout=0.2)  # it waits for SQLite's write lock, which this transaction holds
        worker.join()
        assert sorted(woken) == ["MainThread", "other"]
    finally:
        store.close()


def _autocheckpoint(store: Store) -> int:
    with store.transaction() as tx:
        return int(tx._cursor.execute("PRAGMA wal_autocheckpoint").fetchone()[0])


def test_a_store_with_a_flusher_checkpoints_every_4000_pages_and_the_log_stays_bounded(
    tmp_path: Path,
) -> None:
    """The longer interval applies to the default durability only; the log is still checkpointed and
    restarted (it does not grow past the interval plus one transaction)."""
    store = Store(f"sqlite:///{tmp_path / 'h.db'}")
    full = Store(f"sqlite:///{tmp_path / 'i.db'}", durability="power-loss")
    try:
        assert _autocheckpoint(store) == WAL_AUTOCHECKPOINT == 4000
        assert _autocheckpoint(full) == 1000
        content = os.urandom(100_000)  # about 25 pages a transaction
        for n in range(3 * WAL_AUTOCHECKPOINT // 25):
            with store.transaction() as tx:
                tx.put_definition(f"{n:064d}", "p", content, _AT)
        pages = (tmp_path / "h.db-wal").stat().st_size // (4096 + 24)
        assert pages <= WAL_AUTOCHECKPOINT + 2 * 25
    finally:
        store.close()
        full.close()
