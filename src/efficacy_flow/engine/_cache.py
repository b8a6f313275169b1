"""The workflows of recently committed calls, kept in memory for the next call on the same instance."""

from __future__ import annotations

import threading
from collections import OrderedDict

from efficacy_flow.engine._task_rows import Rows
from efficacy_flow.engine.runtime import Workflow
from efficacy_flow.store import InstanceRecord

__all__ = ["WorkflowCache"]


class WorkflowCache:
    """The ``size`` most recently committed workflows, by instance id (0: none kept), with the rows their save
    wrote (what the next call on the instance starts from).

    A cached workflow is used only when the store still holds exactly its version and definition (another
    engine, or a failed call, leaves the cache stale: then the state is loaded). Taking an entry removes it: a
    call that fails never puts a half-changed workflow back.
    """

    def __init__(self, size: int) -> None:
        self._size = size
        self._entries: OrderedDict[str, tuple[int, str, Workflow, Rows]] = OrderedDict()
        self._lock = threading.Lock()

    def take(self, record: InstanceRecord) -> tuple[Workflow, Rows] | None:
        """The cached workflow of ``record``'s instance if it is exactly the stored version, else None."""
        with self._lock:
            cached = self._entries.pop(record.id, None)
        if cached is None or cached[0] != record.version or cached[1] != record.definition_hash:
            return None
        return cached[2], cached[3]

    def remember(self, record: InstanceRecord, workflow: Workflow, rows: Rows) -> None:
        """Keep a committed workflow and its rows for the next call on the same instance (after the
        commit)."""
        if self._size <= 0:
            return
        with self._lock:
            self._entries[record.id] = (record.version, record.definition_hash, workflow, rows)
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)

    def forget(self, instance_id: str) -> None:
        """Drop an instance's entry (its row changed without a workflow step)."""
        with self._lock:
            self._entries.pop(instance_id, None)
