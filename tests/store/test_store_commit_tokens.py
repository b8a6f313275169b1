"""Store.last_commit and Store.unchanged_since: a commit's token stays good exactly while nothing else is
committed to the database — by the same store (any thread, any connection), by another store or a plain
connection on the same file, or by another process — and is never good where the store cannot tell."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.store.rows import T0, instance

from efficacy_flow.store import CommitToken, Store


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "t.db"


@pytest.fixture
def store(path: Path) -> Iterator[Store]:
    opened = Store(f"sqlite:///{path}")
    with opened.transaction() as tx:
        tx.insert_instance(instance())
    yield opened
    opened.close()


def _bump(store: Store, version: int) -> None:
    with store.transaction() as tx:
        tx.update_instance("i1", version, updated_at=T0)


def test_a_token_is_good_until_the_store_commits_again(store: Store) -> None:
    """Right after a commit the token is good, and stays good across reads; the store's next commit (of any
    row) ends it, and that commit's own token is good instead."""
    first = store.last_commit()
    assert first is not None
    assert store.unchanged_since(first)
    with store.read() as reader:
        assert reader.get_instance("i1") is not None
    assert store.unchanged_since(first)
    _bump(store, 1)
    second = store.last_commit()
    assert not store.unchanged_since(first)
    assert second is not None
    assert store.unchanged_since(second)


def test_a_rolled_back_transaction_leaves_no_token(store: Store) -> None:
    """A write transaction that rolls back is this thread's last write: it has no token (nothing of it is
    in the database), and the earlier commit's token is still good (nothing was committed)."""
    first = store.last_commit()

    def failing() -> None:
        with store.transaction() as tx:
            tx.update_instance("i1", 1, updated_at=T0)
            raise RuntimeError("the block fails")

    with pytest.raises(RuntimeError):
        failing()
    assert store.last_commit() is None
    assert store.unchanged_since(first)


def test_another_connection_or_process_ends_the_token(store: Store, path: Path) -> None:
    """Commits the store never sees — another Store on the file, a plain sqlite3 connection, another
    process — end the token (the write connection's data_version moves)."""
    other = Store(f"sqlite:///{path}")
    try:
        for commit in (
            lambda: _bump(other, 1),
            lambda: _plain_commit(path),
            lambda: _commit_in_another_process(path),
        ):
            token = store.last_commit()
            assert token is not None
            assert store.unchanged_since(token)
            commit()
            assert not store.unchanged_since(token)
            with store.transaction() as tx:  # this store's next commit: a fresh token, good again
                tx.execute("SELECT 1")
            assert store.unchanged_since(store.last_commit())
    finally:
        other.close()


def _plain_commit(path: Path) -> None:
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        connection.execute("UPDATE ef_instances SET status = 'plain' WHERE id = 'i1'")
    finally:
        connection.close()


def _commit_in_another_process(path: Path) -> None:
    code = (
        "import sqlite3, sys\n"
        "c = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
        "c.execute(\"UPDATE ef_instances SET status = 'process' WHERE id = 'i1'\")\n"
        "c.close()\n"
    )
    subprocess.run([sys.executable, "-c", code, str(path)], check=True, timeout=60)


def test_a_commit_on_a_pooled_connection_ends_the_token(store: Store) -> None:
    """While another thread holds the write connection, this thread's transaction commits on a pooled one:
    it has no token of its own, and it ends the earlier token all the same."""
    token = store.last_commit()
    pin = store._write_pin
    assert pin is not None
    assert token is not None
    held, release = threading.Event(), threading.Event()

    def hold() -> None:
        with pin.lock:
            held.set()
            release.wait(30)

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert held.wait(30)
        assert not store.unchanged_since(token)  # the write connection is busy: cannot tell
        _bump(store, 1)
        assert store.last_commit() is None
    finally:
        release.set()
        holder.join(30)
    assert not store.unchanged_since(token)


def test_a_replaced_write_connection_ends_the_token(store: Store) -> None:
    """The write connection thrown away (it failed) and pinned anew: tokens of the old one are not good."""
    token = store.last_commit()
    pin = store._write_pin
    assert pin is not None
    assert token is not None
    pin.discard()
    with store.read() as reader:
        assert reader.get_instance("i1") is not None
    with store.transaction() as tx:  # pins a fresh connection, commits nothing that changes a row
        tx.execute("SELECT 1")
    fresh = store.last_commit()
    assert fresh is not None
    assert fresh.generation != token.generation
    assert not store.unchanged_since(token)
    assert store.unchanged_since(fresh)


@pytest.mark.postgres
def test_postgresql_gives_no_tokens() -> None:
    """PostgreSQL has no data_version to ask: no token, and nothing is ever 'unchanged'."""
    from tests._postgres import PG_DSN, fresh_schema, require_postgres

    require_postgres()
    store = Store(PG_DSN, schema=fresh_schema())
    try:
        with store.transaction() as tx:
            tx.insert_instance(instance())
        assert store.last_commit() is None
        assert not store.unchanged_since(None)
        made_up = CommitToken(generation=1, data_version=1, commits=1)
        assert not store.unchanged_since(made_up)
        with store.transaction() as tx:
            assert not tx.unchanged_since(made_up)
    finally:
        store.drop_schema()
        store.close()


def test_a_transaction_asks_the_same_inside(store: Store, path: Path) -> None:
    """Transaction.unchanged_since answers inside a write transaction (which holds SQLite's write lock) as
    Store.unchanged_since does outside: good right after the token's commit, not after another connection's
    commit, and never on a pooled connection or for no token."""
    token = store.last_commit()
    with store.transaction() as tx:
        assert tx.unchanged_since(token)
        assert not tx.unchanged_since(None)
    token = store.last_commit()  # the empty transaction above committed: its own token now
    _plain_commit(path)
    with store.transaction() as tx:
        assert not tx.unchanged_since(token)
    token = store.last_commit()
    pin = store._write_pin
    assert pin is not None
    with pin.lock, store.transaction() as pooled:  # the write connection busy: a pooled one serves
        assert not pooled.unchanged_since(token)
