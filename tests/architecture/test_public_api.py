"""The public surface is pinned: a change to what a package exports must be deliberate (style.md, practice 1).

efficacy_flow.calendar's surface is pinned in tests/calendar/test_calendar_api.py.
"""

from __future__ import annotations

import importlib

import pytest

import efficacy_flow
from efficacy_flow.errors import EfficacyFlowError

SURFACE: dict[str, list[str]] = {
    "efficacy_flow": [
        "CHINA_TZ",
        "Actor",
        "AuditEvent",
        "CalendarDataError",
        "CalendarDataMissing",
        "Clock",
        "ConcurrentUpdate",
        "ConsistencyReport",
        "Deadline",
        "DecisionError",
        "DecisionTableError",
        "Decisions",
        "EfficacyFlowError",
        "Engine",
        "ExpressionLimitExceeded",
        "Finding",
        "HistoryCheck",
        "InstanceSummary",
        "InstanceView",
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
        "WorkingDayCalendar",
        "__version__",
        "china",
        "load_decisions",
    ],
    "efficacy_flow.engine": [
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
    ],
    "efficacy_flow.policy": [
        "DecisionResult",
        "Decisions",
        "Setting",
        "Settings",
        "TimeLimitTable",
        "load_decisions",
        "load_settings",
        "load_time_limits",
        "parse_time_limits",
    ],
    "efficacy_flow.store": [
        "AuditRecord",
        "DeadlineRecord",
        "Durability",
        "InstanceRecord",
        "Store",
        "TaskRecord",
        "Transaction",
    ],
    "efficacy_flow.metrics": [
        "ACCOUNTABILITY",
        "COMPLAINT_CLOSURE",
        "DEFAULT_CASE_PROCESSES",
        "DEFAULT_METRICS_CONFIG",
        "INDICATOR_HEADINGS",
        "PERSON_DECISION",
        "TOTAL_LABEL",
        "UNASSIGNED_LABEL",
        "UNIT_DECISION",
        "WINDOW_ESCALATION",
        "AccountabilityOutcomes",
        "AccountabilityProcess",
        "AccountabilityRecord",
        "CaseProcess",
        "CaseRecord",
        "ClosureBasis",
        "MetricsConfig",
        "PersonOutcome",
        "Rating",
        "RatingBasis",
        "Records",
        "UnitIndicators",
        "UnitOutcome",
        "YearBasis",
        "accountability_outcomes",
        "accountability_record",
        "admonitions_in_year",
        "case_record",
        "collect_records",
        "counted_rating",
        "display_width",
        "format_rate",
        "in_admonition_year",
        "is_closed",
        "is_closed_on_time",
        "render_accountability",
        "render_indicators",
        "render_table",
        "total_indicators",
        "unit_indicators",
    ],
    "efficacy_flow.testing": [
        "DEMO_UNITS",
        "FakeClock",
        "ScenarioPlan",
        "Simulation",
        "SimulationResult",
        "assert_decision_table",
        "complete_task",
        "drive_to",
        "make_test_engine",
    ],
    "efficacy_flow.clock": [
        "CHINA_TZ",
        "Clock",
        "SystemClock",
    ],
    "efficacy_flow.errors": [
        "CalendarDataError",
        "CalendarDataMissing",
        "ConcurrentUpdate",
        "DecisionError",
        "DecisionTableError",
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
    ],
}


@pytest.mark.parametrize("module_name", sorted(SURFACE))
def test_exports_are_exactly_the_pinned_names(module_name: str) -> None:
    """Each package exports exactly the pinned names, in a sorted ``__all__``, and each one resolves."""
    module = importlib.import_module(module_name)
    assert list(module.__all__) == SURFACE[module_name]
    # Sorted as ruff's RUF022 sorts: SCREAMING_CASE constants first, then the rest.
    assert list(module.__all__) == sorted(module.__all__, key=lambda n: (not n.isupper(), n))
    for name in module.__all__:
        assert hasattr(module, name), f"{module_name}.{name} is listed in __all__ but missing"


def test_every_public_error_derives_from_the_root() -> None:
    """Every exception class the package exports is an EfficacyFlowError (one root, style.md practice 2)."""
    for name in efficacy_flow.__all__:
        value = getattr(efficacy_flow, name)
        if isinstance(value, type) and issubclass(value, BaseException):
            assert issubclass(value, EfficacyFlowError), name
