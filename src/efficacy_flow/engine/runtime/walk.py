"""The engine's workflow class: SpiffWorkflow's ``BpmnWorkflow`` with the engine's clock and hold flag, and a
cheaper walk over its task tree (a fast path: the stock iterators stay beside it, ``fast_walk = False``).

SpiffWorkflow answers every task query (``get_tasks``, ``get_next_task``, the READY scan of each engine step,
the WAITING scan after each completion) with ``TaskIterator``/``BpmnTaskIterator``: a Python object that pops
the front of a list, rebuilds the list with the children in front, tracks a depth counter and calls a filter
object per task. On a 10-user-task process that walking is about a third of SpiffWorkflow's own time per
completed task. :func:`_walk` visits the same tasks in the same order, with the same expansion rule and the
same filter, for the filter fields the engine's hot path uses (``state``, ``manual``, and ``spec_name``,
which a catching event's run asks for: a start event walks the whole predicted tree below it); every other
query, and every query on a tree too large for the argument below, goes to the stock iterator unchanged.

Why the order and the result are the same (tests/engine/runtime/test_walk.py checks both against the stock
iterators at every step of every fixture and shipped process):

- Depth first, children in order: the stock iterator prepends ``[subprocess root] + children`` to its list and
  pops the front; a stack that receives them in reverse pops them in the same order.
- Expansion: a task is expanded when it has children and its state is at least the filter's minimum state,
  or when it started a subprocess (whose root then comes first), exactly as in ``BpmnTaskIterator._next``;
  the plain ``TaskIterator`` of ``update_waiting_tasks`` never descends into subprocesses, nor does its walk.
- The depth limit (``max_depth``, 1000) never applies: the stock depth counter rises by one per expanded task
  at most, so it stays below the number of tasks in the trees. The fast walk is used only while the workflow
  and its subprocesses hold fewer than :data:`_FAST_LIMIT` tasks (a process of that size uses the stock
  iterator), which leaves room for the few tasks a WAITING task's update can predict during a lazy walk.
- Laziness: like the stock iterator, a task's children are read when the task is taken, before it is handed
  to the caller (``update_waiting_tasks`` changes tasks while it walks).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState

__all__ = ["EngineWorkflow"]

#: Trees at least this large (workflow plus subprocesses) are walked by SpiffWorkflow's own iterators.
_FAST_LIMIT = 500
#: The filter fields :func:`_walk` implements (``TaskFilter``'s ``state``, ``manual`` and ``spec_name``).
_FAST_FIELDS = frozenset({"state", "manual", "spec_name"})


class EngineWorkflow(BpmnWorkflow):  # type: ignore[misc]
    """A ``BpmnWorkflow`` that knows the engine's instant and whether its timers are held, and whose common
    task queries walk the tree without ``TaskIterator`` (same results).

    Saved under SpiffWorkflow's own type name (``BpmnWorkflow``), so states read the same either way.

    Attributes:
        now: the instant of the engine call stepping the workflow (timers compare with it, never the wall
            clock).
        held: True while the instance is suspended (暂停计时): no timer fires.
        stepping: the task being run by the current step, for error messages (None between steps).
        cycled: the ids of the cycle timers (``timeCycle``) that fired in the current firing of due timers: a
            cycle fires once per firing (so each firing is one ``timer_fired``), a late one catches up tick
            by tick.
        fast_walk: False runs every query through SpiffWorkflow's own iterators (the stock path).
    """

    def __init__(
        self, spec: Any, subprocess_specs: Any = None, script_engine: Any = None, **kwargs: Any
    ) -> None:
        # Set before the base constructor runs: it queries the task tree.
        self.now: datetime | None = None
        self.held = False
        self.stepping: Any = None
        self.cycled: set[Any] = set()
        self.fast_walk = True
        super().__init__(spec, subprocess_specs, script_engine=script_engine, **kwargs)

    def get_tasks_iterator(self, first_task: Any = None, **kwargs: Any) -> Iterator[Any]:
        if self.fast_walk and kwargs.keys() <= _FAST_FIELDS and self._walkable():
            return _walk(
                first_task or self.task_tree,
                kwargs.get("state", TaskState.ANY_MASK),
                kwargs.get("manual"),
                self.subprocesses,
                kwargs.get("spec_name"),
            )
        return super().get_tasks_iterator(first_task, **kwargs)  # type: ignore[no-any-return]

    def update_waiting_tasks(self) -> None:
        if not (self.fast_walk and self._walkable()):
            super().update_waiting_tasks()
            return
        # Workflow.update_waiting_tasks walks with the plain TaskIterator: no descent into subprocesses. The
        # walk yields only tasks of this workflow that are WAITING when it reaches them, and changes nothing
        # before it yields one: with none WAITING now, it would do nothing (a flat look is cheaper).
        waiting = TaskState.WAITING
        if not any(task._state == waiting for task in self.tasks.values()):
            return
        for task in _walk(self.task_tree, waiting, None, None):
            task.task_spec._update(task)

    def _walkable(self) -> bool:
        size = len(self.tasks)
        for subprocess in self.subprocesses.values():
            size += len(subprocess.tasks)
        return size < _FAST_LIMIT


def _walk(
    first: Any,
    state: int,
    manual: bool | None,
    subprocesses: dict[Any, Any] | None,
    spec_name: str | None = None,
) -> Iterator[Any]:
    """``BpmnTaskIterator(first, state=state, manual=manual, spec_name=spec_name)`` (or, with ``subprocesses``
    None, the plain ``TaskIterator``) as a generator: same tasks, same order (the name filters what is
    yielded, never what is expanded, as in ``TaskIterator``)."""
    if state & TaskState.PREDICTED_MASK:
        min_state = TaskState.MAYBE
    elif state & TaskState.DEFINITE_MASK:
        min_state = TaskState.FUTURE
    else:
        min_state = TaskState.COMPLETED
    stack = [first]
    pop, push = stack.pop, stack.append
    while stack:
        task = pop()
        task_state = task._state
        # Only a task that started a subprocess has an entry (an empty map: no UUID to hash).
        subprocess = subprocesses.get(task.id) if subprocesses else None
        if subprocess is None:
            if task._children and task_state >= min_state:
                lookup = task.workflow.tasks.get
                for child in reversed(task._children):
                    push(lookup(child))
        else:
            lookup = task.workflow.tasks.get
            for child in reversed(task._children):
                push(lookup(child))
            # BpmnTaskIterator skips a finished subprocess only for a finished-state query on a finished
            # task; no single task state reaches FINISHED_MASK, so in practice it always descends.
            if not (task_state >= TaskState.FINISHED_MASK and state <= TaskState.FINISHED_MASK):
                push(subprocess.task_tree)
        if (
            task_state & state
            and (manual is None or task.task_spec.manual == manual)
            and (spec_name is None or task.task_spec.name == spec_name)
        ):
            yield task
