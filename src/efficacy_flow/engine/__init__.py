"""The process engine: SpiffWorkflow underneath, a durable store, an injected clock, deadlines that fire.

The only package that imports SpiffWorkflow (and RestrictedPython, for the sandbox).
"""

from __future__ import annotations

from efficacy_flow import _public
from efficacy_flow.engine._consistency import CHECKS, ConsistencyReport, Finding
from efficacy_flow.engine._engine import Engine
from efficacy_flow.engine._formats import UPGRADES
from efficacy_flow.engine._sandbox import SAFE_BUILTIN_NAMES
from efficacy_flow.engine._spiff import STATE_FORMAT_VERSION
from efficacy_flow.engine._views import (
    Actor,
    AuditEvent,
    HistoryCheck,
    InstanceSummary,
    InstanceView,
    TaskView,
    TimerFired,
)

__all__ = [
    "CHECKS",
    "SAFE_BUILTIN_NAMES",
    "STATE_FORMAT_VERSION",
    "UPGRADES",
    "Actor",
    "AuditEvent",
    "ConsistencyReport",
    "Engine",
    "Finding",
    "HistoryCheck",
    "InstanceSummary",
    "InstanceView",
    "TaskView",
    "TimerFired",
]

_public.publish(globals())
