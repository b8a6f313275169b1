"""efficacy_flow: an embeddable BPM engine for government efficiency supervision (机关效能建设).

The public API is what this module exports; everything in a ``_module`` is private.
"""

from __future__ import annotations

from efficacy_flow.clock import CHINA_TZ, Clock, SystemClock
from efficacy_flow.errors import (
    CalendarDataError,
    CalendarDataMissing,
    ConcurrentUpdate,
    DecisionError,
    DecisionTableError,
    EfficacyFlowError,
    InvalidData,
    InvalidInput,
    InvalidState,
    InvalidTimeLimit,
    NaiveDatetime,
    NotAuthorized,
    NotFound,
    ProcessDefinitionError,
    StoreError,
    UnknownInstance,
    UnknownProcess,
    UnknownRegion,
    UnknownTask,
    UnsafeExpression,
)

__version__ = "0.1.0"

__all__ = [
    "CHINA_TZ",
    "CalendarDataError",
    "CalendarDataMissing",
    "Clock",
    "ConcurrentUpdate",
    "DecisionError",
    "DecisionTableError",
    "EfficacyFlowError",
    "InvalidData",
    "InvalidInput",
    "InvalidState",
    "InvalidTimeLimit",
    "NaiveDatetime",
    "NotAuthorized",
    "NotFound",
    "ProcessDefinitionError",
    "StoreError",
    "SystemClock",
    "UnknownInstance",
    "UnknownProcess",
    "UnknownRegion",
    "UnknownTask",
    "UnsafeExpression",
    "__version__",
]
