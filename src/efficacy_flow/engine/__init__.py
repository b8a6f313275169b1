"""The process engine: SpiffWorkflow underneath (behind engine/runtime/, the one seam), a durable store, an
injected clock, deadlines that fire, failed steps retried and kept as incidents.

The only package that imports SpiffWorkflow (in runtime/) and RestrictedPython (the sandbox).
"""

from __future__ import annotations

from efficacy_flow import _public
from efficacy_flow.engine._authorization import ACTIONS, Authorizer, RolePermissions
from efficacy_flow.engine._consistency import CHECKS, ConsistencyReport, Finding
from efficacy_flow.engine._engine import Engine
from efficacy_flow.engine._folder_check import ProcessFinding, check_processes
from efficacy_flow.engine._sandbox import SAFE_BUILTIN_NAMES
from efficacy_flow.engine._settings import Limits, RetryPolicy
from efficacy_flow.engine._views import (
    Actor,
    Attachment,
    AuditEvent,
    Card,
    Comment,
    CompletedTask,
    FormChoice,
    FormField,
    HistoryCheck,
    Incident,
    InstanceSummary,
    InstanceView,
    OutboxEvent,
    TaskView,
    TimerFired,
    Urge,
)
from efficacy_flow.engine.runtime import STATE_FORMAT_VERSION, UPGRADES

__all__ = [
    "ACTIONS",
    "CHECKS",
    "SAFE_BUILTIN_NAMES",
    "STATE_FORMAT_VERSION",
    "UPGRADES",
    "Actor",
    "Attachment",
    "AuditEvent",
    "Authorizer",
    "Card",
    "Comment",
    "CompletedTask",
    "ConsistencyReport",
    "Engine",
    "Finding",
    "FormChoice",
    "FormField",
    "HistoryCheck",
    "Incident",
    "InstanceSummary",
    "InstanceView",
    "Limits",
    "OutboxEvent",
    "ProcessFinding",
    "RetryPolicy",
    "RolePermissions",
    "TaskView",
    "TimerFired",
    "Urge",
    "check_processes",
]

_public.publish(globals())
