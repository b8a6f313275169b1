"""SQLite's pinned writer connection and the instance row read along with a task: never a stale read, never a
second writer inside one transaction, and a busy connection falls back to the pool."""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path

from tests.store.rows import T0, instance, task

from efficacy_flow.store import Store, Transaction


def _seed(store: Store) -> None:
    with store.transaction() as tx:
        tx.insert_instance(instance())
        tx.sync_tasks("i1", [task("t1")], closed_status="cancelled", at=T0, by=None, previous=[])


def test_instance_read_with_its_task_is_reused_only_while_unchanged(tmp_path: Path) -> None:
    """get_task's prefetched instance row serves the next get_instance, but not after any row changed."""
    store = Store(f"sqlite:///{tmp_path / 'a.db'}")
    _seed(store)
    with store.transaction() as tx:
        assert tx.get_task("t1") is not None
        first = tx.get_instance("i1")
        assert first is not None
        assert first.version == 1
        tx.get_task("t1")  # prefetches version 1 again
        assert tx.update_instance("i1", 1, updated_at=T0 + timedelta(hours=1)) == 2
        reread = tx.get_instance("i1")
    assert reread is not None
    assert reread.version == 2
    store.close()


def test_prefetched_row_is_for_the_task_s_instance_only(tmp_path: Path) -> None:
    """A prefetched row is never returned for another instance id."""
    store = Store(f"sqlite:///{tmp_path / 'b.db'}")
    _seed(store)
    with store.transaction() as tx:
        tx.get_task("t1")
        assert tx.get_instance("other") is None
    store.close()


def test_a_transaction_opened_inside_before_commit_uses_another_connection(tmp_path: Path) -> None:
    """While the pinned connection is busy, a nested transaction uses the pool and waits its turn."""
    store = Store(f"sqlite:///{tmp_path / 'c.db'}")
    _seed(store)
    seen: list[int] = []
    started: list[threading.Thread] = []

    def hook(tx: Transaction) -> None:
        store.before_commit = None
        done = threading.Event()

        def other() -> None:
            with store.transaction() as nested:
                found = nested.get_instance("i1")
                seen.append(found.version if found else -1)
            done.set()

        thread = threading.Thread(target=other)
        started.append(thread)
        thread.start()
        assert not done.wait(0.2)  # blocked behind the outer writer, not sharing its connection

    store.before_commit = hook
    with store.transaction() as tx:
        tx.update_instance("i1", 1, updated_at=T0)
    for thread in started:
        thread.join(10)
    assert seen == [2]  # it ran after the outer commit and saw its write
    store.close()


def test_two_threads_on_one_store_both_commit_in_turn(tmp_path: Path) -> None:
    """Two threads sharing a Store serialize on SQLite's write lock; neither write is lost."""
    store = Store(f"sqlite:///{tmp_path / 'd.db'}")
    _seed(store)
    errors: list[BaseException] = []

    def bump() -> None:
        try:
            for _ in range(20):
                with store.transaction() as tx:
                    current = tx.get_instance("i1")
                    assert current is not None
                    tx.update_instance("i1", current.version, updated_at=T0)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=bump) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    with store.transaction() as tx:
        final = tx.get_instance("i1")
    assert final is not None
    assert final.version == 41
    store.close()
