"""SpiffWorkflow's errors, and everything else a step can raise, as efficacy_flow's — by one table.

Modelled on httpx's ``HTTPCORE_EXC_MAP`` and ``map_httpcore_exceptions()`` (httpx/_transports/default.py):
every call into SpiffWorkflow runs inside :class:`StepErrors` (or :class:`LoadErrors` for reading a saved
state), which turns what escapes into a typed error naming the process file, the element and the instance. No
other module catches SpiffWorkflow's exceptions.

- An :class:`~efficacy_flow.errors.EfficacyFlowError` raised by the engine's services (the sandbox's
  ``ScriptError``, a decision's ``DecisionError``, the calendar's ``CalendarDataMissing``, ``InvalidData``
  from the JSON check) passes through with the file, process, element and instance added to its fields where
  missing.
- A SpiffWorkflow exception becomes the error :data:`SPIFF_EXC_MAP` names for its class (the most specific
  entry wins).
- Anything else raised inside SpiffWorkflow (a ``TypeError`` when a multi-instance collection is not a list, a
  ``RecursionError``, …) is an internal failure of the step:
  :class:`~efficacy_flow.errors.ProcessDefinitionError` with the exception's class in ``error``.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import TracebackType
from typing import Any

from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.exceptions import SpiffWorkflowException, TaskNotFoundException, WorkflowException

from efficacy_flow.errors import (
    ConcurrentUpdate,
    EfficacyFlowError,
    ProcessDefinitionError,
    StoreError,
)

__all__ = ["SPIFF_EXC_MAP", "LoadErrors", "StepErrors", "annotate"]

#: SpiffWorkflow's exception classes → the error each becomes (checked in this order: most specific first).
SPIFF_EXC_MAP: Mapping[type[Exception], type[EfficacyFlowError]] = {
    TaskNotFoundException: ConcurrentUpdate,  # a task id the workflow no longer has
    ValidationException: ProcessDefinitionError,  # a file SpiffWorkflow's parser refuses
    WorkflowTaskException: ProcessDefinitionError,  # a step failed at a task
    WorkflowException: ProcessDefinitionError,  # the workflow cannot go on (e.g. an unknown event)
    SpiffWorkflowException: ProcessDefinitionError,  # any other of SpiffWorkflow's own errors
}


def annotate(error: EfficacyFlowError, **context: object) -> EfficacyFlowError:
    """Add the ``context`` fields (file, process, element, instance) the error does not carry yet."""
    for key, value in context.items():
        if value is not None and error.fields.get(key) is None:
            error.fields[key] = value
            setattr(error, key, value)
    return error


def _element_of(exc: BaseException, workflow: Any) -> str | None:
    """The element a failure happened at: the task SpiffWorkflow's exception names, else the innermost task
    SpiffWorkflow's code was working on when a raw exception left it (its frames' ``my_task``/``task``), else
    the task the step was running."""
    task = getattr(exc, "task", None)
    spec = getattr(exc, "task_spec", None) or getattr(task, "task_spec", None)
    if spec is None:
        spec = _innermost_task_spec(exc.__traceback__)
    if spec is None and workflow is not None:
        spec = getattr(getattr(workflow, "stepping", None), "task_spec", None)
    element = getattr(spec, "bpmn_id", None) or getattr(spec, "name", None)
    return str(element) if element is not None else None


def _innermost_task_spec(tb: TracebackType | None) -> Any:
    found = None
    while tb is not None:
        frame_locals = tb.tb_frame.f_locals
        for name in ("my_task", "task"):
            candidate = frame_locals.get(name)
            if candidate is not None and hasattr(candidate, "task_spec") and hasattr(candidate, "workflow"):
                found = candidate.task_spec
                break
        tb = tb.tb_next
    return found


class StepErrors:
    """A context manager around calls that step a workflow: what escapes leaves as a typed error.

    Args:
        process_id: the process being run; path: its BPMN file; instance_id: the instance (None at
            deployment);
        workflow: the workflow being stepped (its ``stepping`` task names the element when the exception does
            not).

    A class rather than a generator context manager: it runs around every engine call, and a generator's frame
    costs about a microsecond.
    """

    __slots__ = ("instance_id", "path", "process_id", "workflow")

    def __init__(self, process_id: str, path: str, instance_id: str | None, workflow: Any = None) -> None:
        self.process_id = process_id
        self.path = path
        self.instance_id = instance_id
        self.workflow = workflow

    def __enter__(self) -> None:
        return None

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc is None or not isinstance(exc, Exception):
            return  # nothing raised, or KeyboardInterrupt/SystemExit: propagates unchanged
        element_id = _element_of(exc, self.workflow)
        context = {
            "path": self.path,
            "process_id": self.process_id,
            "element_id": element_id,
            "instance_id": self.instance_id,
        }
        if isinstance(exc, EfficacyFlowError):
            annotate(exc, **context)
            return  # propagates, now naming where it happened
        where = f"{self.path}: process {self.process_id}"
        if element_id is not None:
            where += f" failed at {element_id}"
        if self.instance_id is not None:
            where += f" (instance {self.instance_id})"
        for spiff_class, error_class in SPIFF_EXC_MAP.items():
            if isinstance(exc, spiff_class):
                raise error_class(f"{where}: {exc}", error=type(exc).__name__, **context) from exc
        raise ProcessDefinitionError(
            f"{where}: {type(exc).__name__} inside SpiffWorkflow: {exc}", error=type(exc).__name__, **context
        ) from exc


class LoadErrors:
    """A context manager around reading a saved state: anything that escapes is a :class:`StoreError` naming
    the instance (a damaged or truncated state, one SpiffWorkflow's converters cannot restore)."""

    __slots__ = ("instance_id",)

    def __init__(self, instance_id: str) -> None:
        self.instance_id = instance_id

    def __enter__(self) -> None:
        return None

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc is None or not isinstance(exc, Exception):
            return
        if isinstance(exc, EfficacyFlowError):
            annotate(exc, instance_id=self.instance_id)
            return
        raise StoreError(
            f"the saved state of instance {self.instance_id} cannot be read: {type(exc).__name__}: {exc}",
            instance_id=self.instance_id,
            error=type(exc).__name__,
        ) from exc
