"""The workflows of recently committed calls, kept in memory for the next call on the same instance."""

from __future__ import annotations

import threading
from collections import OrderedDict

from efficacy_flow.engine._task_rows import Rows
from efficacy_flow.engine._views import TaskView
from efficacy_flow.engine.runtime import Workflow
from efficacy_flow.store import CommitToken, InstanceRecord, TaskRecord

__all__ = ["WorkflowCache"]

#: A cached instance: its row as the commit left it, its workflow, the rows its save wrote, the token of
#: that commit (None when the workflow was loaded by a read, or the store gives no tokens), and the views of
#: its ready rows as the call returned them (None when not made).
_Entry = tuple[InstanceRecord, Workflow, Rows, CommitToken | None, tuple[TaskView, ...] | None]

#: What :meth:`WorkflowCache.saved` gives: the row, the rows, the commit's token, the ready rows' views.
Saved = tuple[InstanceRecord, Rows, CommitToken, tuple[TaskView, ...] | None]


class WorkflowCache:
    """The ``size`` most recently committed workflows, by instance id (0: none kept), with the rows their save
    wrote (what the next call on the instance starts from).

    A cached workflow is used only when the store still holds exactly its version and definition (another
    engine, or a failed call, leaves the cache stale: then the state is loaded). Taking an entry removes it: a
    call that fails never puts a half-changed workflow back.

    Its shortcuts rest on one rule every writer keeps: an instance's task and deadline rows change only in a
    call that bumps the instance's version (engine/_saving.py), so the rows a save wrote at version ``v`` are
    the stored rows for as long as the instance is at ``v``; and on the store's commit tokens
    (:meth:`~efficacy_flow.store.Store.unchanged_since`): while nothing was committed after a save's commit,
    the instance row it wrote is the stored row too.
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
                self._drop_ready(cached[2])
        if cached is None:
            return None
        known = cached[0]
        if known.version != record.version or known.definition_hash != record.definition_hash:
            return None
        return cached[1], cached[2]

    def ready_task(self, task_id: str) -> tuple[int, TaskRecord] | None:
        """The ready row of ``task_id`` as a cached entry's save wrote it, with that entry's version.

        A hint, not an answer: the caller reads the instance row (locked) in its transaction and uses the
        task row only if the instance is still at this version (see the class's rule).
        """
        return self._ready.get(task_id)

    def saved(self, instance_id: str) -> Saved | None:
        """The instance row and the rows a cached instance's last commit wrote, with that commit's token and
        the views of its ready rows (None: not cached, or cached without a token). While the store is
        unchanged since that commit (:meth:`~efficacy_flow.store.Store.unchanged_since`) they are the stored
        rows (and the views theirs: a view is frozen, and made of the row and its definition's form)."""
        entry = self._entries.get(instance_id)
        if entry is None or entry[3] is None:
            return None
        return entry[0], entry[2], entry[3], entry[4]

    def remember(
        self,
        record: InstanceRecord,
        workflow: Workflow,
        rows: Rows,
        token: CommitToken | None = None,
        views: tuple[TaskView, ...] | None = None,
    ) -> None:
        """Keep a committed workflow and its rows for the next call on the same instance (after the commit:
        ``record`` is the instance row as it left it, ``token`` its token from
        :meth:`~efficacy_flow.store.Store.last_commit`, ``views`` the views of ``rows.tasks`` in their
        order)."""
        if self._size <= 0:
            return
        with self._lock:
            old = self._entries.pop(record.id, None)
            if old is not None:
                self._drop_ready(old[2])
            self._entries[record.id] = (record, workflow, rows, token, views)
            for task in rows.tasks:
                self._ready[task.id] = (record.version, task)
            while len(self._entries) > self._size:
                self._drop_ready(self._entries.popitem(last=False)[1][2])

    def forget(self, instance_id: str) -> None:
        """Drop an instance's entry (its row changed without a workflow step)."""
        with self._lock:
            old = self._entries.pop(instance_id, None)
            if old is not None:
                self._drop_ready(old[2])

    def _drop_ready(self, rows: Rows) -> None:
        # The caller holds the lock.
        for task in rows.tasks:
            self._ready.pop(task.id, None)
