"""The workflows of recently committed calls, kept in memory for the next call on the same instance."""

from __future__ import annotations

import threading
from collections import OrderedDict

from efficacy_flow.engine._task_rows import Rows
from efficacy_flow.engine.runtime import Workflow
from efficacy_flow.store import CommitToken, InstanceRecord, TaskRecord

__all__ = ["WorkflowCache"]

#: A cached instance: its version and definition hash, its workflow, the rows its save wrote, and the token
#: of that save's commit (None when the workflow was loaded by a read, or the store gives no tokens).
_Entry = tuple[int, str, Workflow, Rows, CommitToken | None]


class WorkflowCache:
    """The ``size`` most recently committed workflows, by instance id (0: none kept), with the rows their save
    wrote (what the next call on the instance starts from).

    A cached workflow is used only when the store still holds exactly its version and definition (another
    engine, or a failed call, leaves the cache stale: then the state is loaded). Taking an entry removes it: a
    call that fails never puts a half-changed workflow back.

    Both uses rest on one rule every writer keeps: an instance's task and deadline rows change only in a call
    that bumps the instance's version (engine/_saving.py), so the rows a save wrote at version ``v`` are the
    stored rows for as long as the instance is at ``v``.
    """

    def __init__(self, size: int) -> None:
        self._size = size
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        #: The ready task rows of the cached entries, by task id: which instance a task belongs to, and at
        #: which version (``complete`` finds its task here without a query; see :meth:`ready_task`).
        self._ready: dict[str, tuple[int, TaskRecord]] = {}
        self._lock = threading.Lock()

    def take(self, record: InstanceRecord) -> tuple[Workflow, Rows] | None:
        """The cached workflow of ``record``'s instance if it is exactly the stored version, else None."""
        with self._lock:
            cached = self._entries.pop(record.id, None)
            if cached is not None:
                self._drop_ready(cached[3])
        if cached is None or cached[0] != record.version or cached[1] != record.definition_hash:
            return None
        return cached[2], cached[3]

    def ready_task(self, task_id: str) -> tuple[int, TaskRecord] | None:
        """The ready row of ``task_id`` as a cached entry's save wrote it, with that entry's version.

        A hint, not an answer: the caller reads the instance row (locked) in its transaction and uses the
        task row only if the instance is still at this version (see the class's rule).
        """
        return self._ready.get(task_id)

    def saved_rows(self, instance_id: str) -> tuple[Rows, CommitToken] | None:
        """The rows of a cached instance with the token of the commit that wrote them (None: not cached, or
        cached without a token). While the store is unchanged since that commit
        (:meth:`~efficacy_flow.store.Store.unchanged_since`) they are the stored rows."""
        entry = self._entries.get(instance_id)
        if entry is None or entry[4] is None:
            return None
        return entry[3], entry[4]

    def remember(
        self, record: InstanceRecord, workflow: Workflow, rows: Rows, token: CommitToken | None = None
    ) -> None:
        """Keep a committed workflow and its rows for the next call on the same instance (after the
        commit; ``token``: that commit's, from :meth:`~efficacy_flow.store.Store.last_commit`)."""
        if self._size <= 0:
            return
        with self._lock:
            old = self._entries.pop(record.id, None)
            if old is not None:
                self._drop_ready(old[3])
            self._entries[record.id] = (record.version, record.definition_hash, workflow, rows, token)
            for task in rows.tasks:
                self._ready[task.id] = (record.version, task)
            while len(self._entries) > self._size:
                self._drop_ready(self._entries.popitem(last=False)[1][3])

    def forget(self, instance_id: str) -> None:
        """Drop an instance's entry (its row changed without a workflow step)."""
        with self._lock:
            old = self._entries.pop(instance_id, None)
            if old is not None:
                self._drop_ready(old[3])

    def _drop_ready(self, rows: Rows) -> None:
        # The caller holds the lock.
        for task in rows.tasks:
            self._ready.pop(task.id, None)
