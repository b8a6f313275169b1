"""Every private SpiffWorkflow name the runtime's fast paths (and its one correctness fix) use, in one table.

A fast path that reads a dependency's internals must say which (style.md, "optimise inside seams"): when a
SpiffWorkflow upgrade renames or drops one of these, tests/engine/runtime/test_private_names.py fails naming
it, and a second test fails if code in engine/runtime/ starts using a private name that is not listed here.
Each entry names the stock path it stands in for; the fast paths are also compared with those stock paths,
result for result, by their own tests.

Beyond names, the fast paths mirror three pieces of SpiffWorkflow's behaviour, checked the same way:
``TaskConverter.to_dict``'s keys, their order and its data delta (``DeepMerge.get_updated_keys`` and
``get_deleted_keys``) — tests/engine/runtime/test_state_writer.py; ``Task.__init__``'s attributes and
``TaskConverter.from_dict``'s values for them (the reader builds tasks without calling ``__init__``) and
``DeepMerge.merge``'s one-level copy — tests/engine/runtime/test_state_reader.py; ``BpmnTaskIterator``'s order
and expansion rule — tests/engine/runtime/test_walk.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["PRIVATE_NAMES", "PrivateName"]


@dataclass(frozen=True, slots=True)
class PrivateName:
    """One private name: ``owner`` (a dotted class path) has ``name``, used by ``used_by`` in place of
    ``stock``."""

    owner: str
    name: str
    kind: Literal["attribute", "method"]
    used_by: str
    stock: str


PRIVATE_NAMES: tuple[PrivateName, ...] = (
    PrivateName(
        "SpiffWorkflow.task.Task",
        "_state",
        "attribute",
        "serializer (pieces, reader), walk, workflow (snapshot)",
        "Task.state, a property that reads it (a call per task per query)",
    ),
    PrivateName(
        "SpiffWorkflow.task.Task",
        "_children",
        "attribute",
        "serializer (pieces, reader), walk",
        "Task.children, a property that looks every child up by id",
    ),
    PrivateName(
        "SpiffWorkflow.task.Task",
        "_parent",
        "attribute",
        "serializer (pieces, reader)",
        "Task.parent, a property that looks the parent up by id",
    ),
    PrivateName(
        "SpiffWorkflow.bpmn.specs.mixins.parallel_gateway.ParallelGateway",
        "_check_threshold_unstructured",
        "method",
        "specs (LoopSafeParallelGateway overrides it: a join inside a loop joins per pass)",
        "the stock method, which counts a branch cancelled in an earlier pass (test_parallel_loops.py)",
    ),
    PrivateName(
        "SpiffWorkflow.specs.base.TaskSpec",
        "_update",
        "method",
        "walk (update_waiting_tasks)",
        "Workflow.update_waiting_tasks, which calls it for each waiting task",
    ),
)
