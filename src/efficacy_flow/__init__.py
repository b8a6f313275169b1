"""efficacy_flow: an embeddable BPM engine for government efficiency supervision (机关效能建设).

The public API is what this module exports; everything in a ``_module`` is private. Every class and function
exported here reports ``__module__ == "efficacy_flow"``, the name to import it by.
"""

from __future__ import annotations

from efficacy_flow import _public
from efficacy_flow._shipped import shipped_processes
from efficacy_flow.calendar import Deadline, TimeLimit, WorkingDayCalendar, china
from efficacy_flow.clock import CHINA_TZ, Clock, SystemClock
from efficacy_flow.engine import (
    Actor,
    Attachment,
    AuditEvent,
    Authorizer,
    Comment,
    ConsistencyReport,
    Engine,
    Finding,
    HistoryCheck,
    Incident,
    InstanceSummary,
    InstanceView,
    Limits,
    OutboxEvent,
    RetryPolicy,
    RolePermissions,
    TaskView,
    TimerFired,
    Urge,
)
from efficacy_flow.errors import (
    CalendarDataError,
    CalendarDataMissing,
    ConcurrentUpdate,
    DecisionError,
    DecisionTableError,
    DeliveryFailed,
    DuplicateBusinessKey,
    EfficacyFlowError,
    ExpressionLimitExceeded,
    InvalidData,
    InvalidInput,
    InvalidState,
    InvalidTimeLimit,
    NaiveDatetime,
    NotAuthorized,
    NotFound,
    ProcessDefinitionError,
    ScriptError,
    StoreError,
    UnknownIncident,
    UnknownInstance,
    UnknownProcess,
    UnknownRegion,
    UnknownTask,
    UnsafeExpression,
)
from efficacy_flow.policy import Decisions, load_decisions

__version__ = "0.1.0"

__all__ = [
    "CHINA_TZ",
    "Actor",
    "Attachment",
    "AuditEvent",
    "Authorizer",
    "CalendarDataError",
    "CalendarDataMissing",
    "Clock",
    "Comment",
    "ConcurrentUpdate",
    "ConsistencyReport",
    "Deadline",
    "DecisionError",
    "DecisionTableError",
    "Decisions",
    "DeliveryFailed",
    "DuplicateBusinessKey",
    "EfficacyFlowError",
    "Engine",
    "ExpressionLimitExceeded",
    "Finding",
    "HistoryCheck",
    "Incident",
    "InstanceSummary",
    "InstanceView",
    "InvalidData",
    "InvalidInput",
    "InvalidState",
    "InvalidTimeLimit",
    "Limits",
    "NaiveDatetime",
    "NotAuthorized",
    "NotFound",
    "OutboxEvent",
    "ProcessDefinitionError",
    "RetryPolicy",
    "RolePermissions",
    "ScriptError",
    "StoreError",
    "SystemClock",
    "TaskView",
    "TimeLimit",
    "TimerFired",
    "UnknownIncident",
    "UnknownInstance",
    "UnknownProcess",
    "UnknownRegion",
    "UnknownTask",
    "UnsafeExpression",
    "Urge",
    "WorkingDayCalendar",
    "__version__",
    "china",
    "load_decisions",
    "shipped_processes",
]

_public.publish(globals())
