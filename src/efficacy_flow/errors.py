"""Every error efficacy_flow raises, under one root.

The tree (each class also derives from the builtin that fits, so ``except ValueError`` keeps working)::

    EfficacyFlowError
    ├── InvalidInput (ValueError)                 bad input from a caller or a file
    │   ├── NaiveDatetime                         a datetime without a time zone
    │   ├── InvalidTimeLimit                      "20个工作日" unreadable, or an extension over a cap
    │   ├── UnknownRegion                         a regional overlay nobody defined
    │   ├── CalendarDataError                     a holiday data file that fails validation
    │   ├── InvalidData                           process data that fails its schema
    │   ├── ProcessDefinitionError                a BPMN file or time-limit table that cannot run
    │   │   ├── UnsafeExpression                  an expression or script the sandbox refuses
    │   │   │   └── ExpressionLimitExceeded       one that ran past its time budget or built too large a value
    │   │   └── ScriptError                       a script, condition or timer expression that raised
    │   └── DecisionTableError                    a DMN table that cannot be evaluated correctly
    ├── CalendarDataMissing (LookupError)         a year with no holiday data (strict calendars)
    ├── NotFound (LookupError)
    │   ├── UnknownProcess
    │   ├── UnknownInstance
    │   ├── UnknownTask
    │   └── UnknownIncident
    ├── NotAuthorized (PermissionError)           the actor lacks the task's role
    ├── ConcurrentUpdate (RuntimeError)           another call changed the instance first
    ├── InvalidState (RuntimeError)               the call does not fit the instance's state
    │   └── DuplicateBusinessKey                  another open instance of the process has the key
    ├── DecisionError (RuntimeError)              a decision that fails on its inputs
    ├── DeliveryFailed (RuntimeError)             an outbox handler raised (engine.deliver)
    └── StoreError (RuntimeError)                 the database failed or holds an unknown format

Errors carry fields (instance id, task id, file, entry) besides their message, so callers can act on them
without parsing text.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

__all__ = [
    "CalendarDataError",
    "CalendarDataMissing",
    "ConcurrentUpdate",
    "DecisionError",
    "DecisionTableError",
    "DeliveryFailed",
    "DuplicateBusinessKey",
    "EfficacyFlowError",
    "ExpressionLimitExceeded",
    "InvalidData",
    "InvalidInput",
    "InvalidState",
    "InvalidTimeLimit",
    "NaiveDatetime",
    "NotAuthorized",
    "NotFound",
    "ProcessDefinitionError",
    "ScriptError",
    "StoreError",
    "UnknownIncident",
    "UnknownInstance",
    "UnknownProcess",
    "UnknownRegion",
    "UnknownTask",
    "UnsafeExpression",
]


class EfficacyFlowError(Exception):
    """The root of every error efficacy_flow raises."""

    def __init__(self, message: str, **fields: Any) -> None:
        super().__init__(message)
        self.message = message
        #: Structured details (ids, file names, dates) for callers that act on the error.
        self.fields: dict[str, Any] = dict(fields)
        for key, value in fields.items():
            setattr(self, key, value)

    def __reduce__(self) -> tuple[Any, ...]:
        # Keep errors picklable (worker processes send them across process boundaries).
        return (_rebuild, (type(self), self.message, self.fields))


def _rebuild(cls: type[EfficacyFlowError], message: str, fields: dict[str, Any]) -> EfficacyFlowError:
    error = cls.__new__(cls)
    EfficacyFlowError.__init__(error, message, **fields)
    return error


class InvalidInput(EfficacyFlowError, ValueError):
    """Bad input from a caller or a file."""


class NaiveDatetime(InvalidInput):
    """A datetime without a time zone where an aware instant is required."""


class InvalidTimeLimit(InvalidInput):
    """A time limit that cannot be parsed or built (``text`` holds the input), or an extension a cap in the
    time-limit table refuses (``task_id``; ``entry``, the limit's name; ``max_extensions`` or
    ``max_total``)."""


class UnknownRegion(InvalidInput):
    """A regional overlay that is not defined (``region`` holds the name, ``known`` the defined ones)."""


class CalendarDataError(InvalidInput):
    """A holiday data file that fails validation (``path``, ``entry`` and ``problem`` say where and why)."""


class InvalidData(InvalidInput):
    """Process data that fails the schema the process declares.

    ``errors`` lists one ``{"field": ..., "problem": ...}`` mapping per invalid field.
    """

    def __init__(self, message: str, errors: Sequence[Mapping[str, Any]] = (), **fields: Any) -> None:
        super().__init__(message, errors=[dict(e) for e in errors], **fields)


class ProcessDefinitionError(InvalidInput):
    """A process definition (BPMN file, time-limit table, schema) that cannot run.

    ``path`` and ``element_id`` name the place where they are known.
    """


class UnsafeExpression(ProcessDefinitionError):
    """An expression or script that the sandbox refuses (``expression`` and ``element_id`` say which)."""


class ExpressionLimitExceeded(UnsafeExpression):
    """An expression or script stopped by the sandbox while it ran: past its time budget, or about to build a
    value too large (``expression``, ``element_id``, ``limit``: ``"time"``, ``"size"`` or ``"depth"``)."""


class ScriptError(ProcessDefinitionError):
    """A script, condition or timer expression that raised when it ran (``expression``, ``element_id``,
    ``error``: the name of the Python exception it raised)."""


class DecisionTableError(InvalidInput):
    """A DMN table that cannot be evaluated correctly (``path``, ``decision``, ``rule``, ``cell``)."""


class CalendarDataMissing(EfficacyFlowError, LookupError):
    """A strict calendar was asked about a year whose official notice it has no data for (``year``)."""


class NotFound(EfficacyFlowError, LookupError):
    """Something looked up by id does not exist."""


class UnknownProcess(NotFound):
    """No deployed process has this id (``process_id``)."""


class UnknownInstance(NotFound):
    """No instance has this id (``instance_id``)."""


class UnknownTask(NotFound):
    """No ready task has this id (``task_id``)."""


class UnknownIncident(NotFound):
    """No incident has this id (``incident_id``)."""


class NotAuthorized(EfficacyFlowError, PermissionError):
    """The actor may not do this (``actor_id``, ``required_role``)."""


class DeliveryFailed(EfficacyFlowError, RuntimeError):
    """An outbox handler raised on event ``seq`` of ``consumer`` (engine.deliver); the handler's error is the
    cause, and the consumer's cursor stays before that event."""


class ConcurrentUpdate(EfficacyFlowError, RuntimeError):
    """Another call changed the instance first; reload and retry (``instance_id``, ``expected_version``)."""


class InvalidState(EfficacyFlowError, RuntimeError):
    """The call does not fit the instance's state (for example resuming an instance that is not suspended)."""


class DuplicateBusinessKey(InvalidState):
    """Another open (not completed, not cancelled) instance of the same process already has this business key
    (``process_id``, ``business_key``, ``instance_id``: the open one). Enforced by the store, so two starts
    racing with one key cannot both succeed."""


class DecisionError(EfficacyFlowError, RuntimeError):
    """A decision failed on its inputs (no rule matched, UNIQUE matched twice, ANY disagreed, ...)."""


class StoreError(EfficacyFlowError, RuntimeError):
    """The database failed, or holds state in a format this version cannot read."""
