"""The public surface is pinned: a change to what a package exports must be deliberate (style.md, practice 1).

Public objects also carry their public names (``efficacy_flow.Engine``, not ``efficacy_flow.engine._engine``)
and still pickle, type-check at run time and validate with pydantic under those names.
efficacy_flow.calendar's surface is pinned in tests/calendar/test_calendar_api.py.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import pickle
import re
import typing
from datetime import date, datetime, timedelta
from importlib import metadata
from pathlib import Path
from typing import Any

import pydantic
import pytest

import efficacy_flow
from efficacy_flow import Actor, AuditEvent, Engine, InstanceView, TaskView, china, shipped_processes
from efficacy_flow.clock import CHINA_TZ, FakeClock
from efficacy_flow.errors import EfficacyFlowError, InvalidData
from efficacy_flow.metrics import DEFAULT_METRICS_CONFIG
from efficacy_flow.simulation import ScenarioPlan

SURFACE: dict[str, list[str]] = {
    "efficacy_flow": [
        "CHINA_TZ",
        "Actor",
        "Attachment",
        "AuditEvent",
        "Authorizer",
        "CalendarDataError",
        "CalendarDataMissing",
        "Card",
        "Clock",
        "Comment",
        "CompletedTask",
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
        "FormChoice",
        "FormField",
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
    ],
    "efficacy_flow.engine": [
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
    ],
    "efficacy_flow.policy": [
        "DIMENSIONS",
        "PERMISSION_ACTIONS",
        "SETTINGS_FILE_NAME",
        "Appraisal",
        "AppraisalProcess",
        "AppraisalReview",
        "DecisionResult",
        "Decisions",
        "Ladder",
        "Permission",
        "Setting",
        "Settings",
        "TimeLimitEntry",
        "TimeLimitTable",
        "UnitLanes",
        "load_decisions",
        "load_settings",
        "load_time_limits",
        "parse_time_limits",
    ],
    "efficacy_flow.store": [
        "CLOSED_STATUSES",
        "AppraisalCounts",
        "AuditRecord",
        "CardRecord",
        "CaseFactsRecord",
        "CommitToken",
        "DeadlineRecord",
        "Durability",
        "IdempotencyRecord",
        "IncidentRecord",
        "InstanceRecord",
        "OutboxRecord",
        "Reader",
        "Store",
        "TaskRecord",
        "Transaction",
    ],
    "efficacy_flow.metrics": [
        "ACCOUNTABILITY",
        "COMPLAINT_CLOSURE",
        "DEFAULT_CASE_PROCESSES",
        "DEFAULT_METRICS_CONFIG",
        "DEFAULT_STANDARDS",
        "DIMENSION_LABELS",
        "INDICATOR_HEADINGS",
        "PERSON_DECISION",
        "REPORT_FORMATS",
        "SECTION_CHIEF_DECISION",
        "TOTAL_LABEL",
        "UNASSIGNED_LABEL",
        "UNIT_DECISION",
        "WINDOW_ESCALATION",
        "AccountabilityOutcomes",
        "AccountabilityProcess",
        "AccountabilityRecord",
        "AppraisalReport",
        "AppraisalRow",
        "CardFigures",
        "CaseProcess",
        "CaseRecord",
        "ChiefGrade",
        "ClosureBasis",
        "MetricsConfig",
        "PersonOutcome",
        "Rating",
        "RatingBasis",
        "Records",
        "Shortfall",
        "Standards",
        "Table",
        "UnitIndicators",
        "UnitOutcome",
        "YearBasis",
        "accountability_outcomes",
        "accountability_record",
        "admonitions_in_year",
        "appraisal_report",
        "appraise",
        "card_figures",
        "case_record",
        "collect_records",
        "counted_rating",
        "display_width",
        "format_rate",
        "hot_spots",
        "in_admonition_year",
        "is_closed",
        "is_closed_on_time",
        "open_rectifications",
        "rank",
        "render_accountability",
        "render_indicators",
        "render_table",
        "repeatedly_near_bottom",
        "section_chief_grades",
        "shortfalls",
        "total_indicators",
        "unit_indicators",
        "weekly_cards",
        "write_ocel",
        "write_report",
        "write_xes",
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
    "efficacy_flow.simulation": [
        "DEMO_UNITS",
        "ScenarioPlan",
        "Simulation",
        "SimulationResult",
    ],
    "efficacy_flow.service": [
        "API_PREFIX",
        "ENVIRONMENT",
        "ERROR_STATUS",
        "AuthenticationFailed",
        "Authenticator",
        "RateLimit",
        "ServiceSettings",
        "TokenAuthenticator",
        "TokenSettings",
        "app_from_environment",
        "create_app",
        "hash_token",
        "open_engine",
        "run_worker",
    ],
    "efficacy_flow.clock": [
        "CHINA_TZ",
        "Clock",
        "FakeClock",
        "SystemClock",
    ],
    "efficacy_flow.errors": [
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


#: Names a package re-exports from another public module, and that module (where ``__module__`` points).
REEXPORTED = {
    ("efficacy_flow.testing", "FakeClock"): "efficacy_flow.clock",
    ("efficacy_flow.testing", "ScenarioPlan"): "efficacy_flow.simulation",
    ("efficacy_flow.testing", "Simulation"): "efficacy_flow.simulation",
    ("efficacy_flow.testing", "SimulationResult"): "efficacy_flow.simulation",
}
PUBLIC_MODULES = sorted({*SURFACE, "efficacy_flow.calendar"})


def _classes_and_functions(module_name: str) -> list[tuple[str, Any]]:
    module = importlib.import_module(module_name)
    return [
        (name, value)
        for name in module.__all__
        if isinstance(value := getattr(module, name), type) or inspect.isfunction(value)
    ]


@pytest.mark.parametrize("module_name", PUBLIC_MODULES)
def test_public_objects_report_their_public_module(module_name: str) -> None:
    """Every exported class and function names the module to import it from: ``efficacy_flow`` for what the
    root exports, else its package (``efficacy_flow.calendar``), never a private ``_module``; and the name
    resolves there to the very object (what pickle and documentation tools rely on)."""
    published = _classes_and_functions(module_name)
    assert published
    for name, value in published:
        if getattr(efficacy_flow, name, None) is value:
            expected = "efficacy_flow"
        else:
            expected = REEXPORTED.get((module_name, name), module_name)
        assert value.__module__ == expected, f"{module_name}.{name}"
        assert getattr(importlib.import_module(expected), value.__qualname__) is value


@pytest.mark.parametrize("module_name", PUBLIC_MODULES)
def test_public_classes_still_resolve_their_annotations(module_name: str) -> None:
    """Renaming ``__module__`` does not strand string annotations: ``typing.get_type_hints`` resolves every
    exported class (pydantic, FastAPI and Hypothesis read annotations through it) and every dataclass field
    has a real type."""
    for name, value in _classes_and_functions(module_name):
        if not isinstance(value, type):
            continue
        hints = typing.get_type_hints(value)
        assert not any(isinstance(hint, str) for hint in hints.values()), name
        if dataclasses.is_dataclass(value):
            assert not [f.name for f in dataclasses.fields(value) if isinstance(f.type, str)], name


@pytest.mark.parametrize("cls", [TaskView, InstanceView, AuditEvent])
def test_pydantic_validates_the_views_under_their_public_names(cls: type) -> None:
    """A host serving the engine's views through pydantic (FastAPI's response models) can build their schema;
    the schema names the public class."""
    schema = pydantic.TypeAdapter(cls).json_schema()
    assert schema["title"] == cls.__name__
    assert "instance_id" in schema["properties"] or "id" in schema["properties"]


def _error_instances() -> list[EfficacyFlowError]:
    errors = importlib.import_module("efficacy_flow.errors")
    made: list[EfficacyFlowError] = []
    for name in errors.__all__:
        cls = getattr(errors, name)
        if cls is InvalidData:
            made.append(cls("invalid", [{"field": "title", "problem": "missing"}], instance_id="i-1"))
        else:
            made.append(cls(f"{name} happened", instance_id="i-1", element_id="Task_Handle"))
    return made


@pytest.mark.parametrize("error", _error_instances(), ids=lambda e: type(e).__name__)
def test_every_error_class_pickles_with_its_fields(error: EfficacyFlowError) -> None:
    """An error sent across a process boundary comes back as the same class, message and fields, still the
    builtin it derives from."""
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is type(error)
    assert str(copy) == str(error)
    assert copy.fields == error.fields
    assert copy.instance_id == "i-1"
    assert isinstance(copy, type(error).__mro__[1])


_PRIVATE_PATH = re.compile(rb"efficacy_flow(?:\.[A-Za-z]\w*)*\._")


@pytest.fixture(scope="module")
def public_values(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Real objects of every kind of public dataclass, from a real engine on the shipped processes."""
    clock = FakeClock(datetime(2025, 9, 26, 10, 0, tzinfo=CHINA_TZ))
    db = tmp_path_factory.mktemp("pickle") / "pickle.db"
    engine = Engine(f"sqlite:///{db}", shipped_processes(), calendar=china(), clock=clock)
    try:
        operator = Actor("op-17", {"受理员"})
        case = engine.start("complaint_closure", {"title": "路灯不亮", "content": "幸福路路灯不亮"}, operator)
        task = engine.tasks(instance_id=case.id)[0]
        values: dict[str, Any] = {
            "Actor": operator,
            "InstanceView": case,
            "TaskView": task,
            "AuditEvent": engine.history(case.id)[0],
            "InstanceSummary": engine.instances()[0],
            "HistoryCheck": engine.verify_history(case.id),
            "ConsistencyReport": engine.check_consistency(),
        }
    finally:
        engine.store.close()
    # A card from the ladder fixture (tests/engine/fixtures/ladder): its limit runs out on 2025-10-01.
    ladder = Engine(
        f"sqlite:///{db.with_name('cards.db')}",
        Path(__file__).parents[1] / "engine" / "fixtures" / "ladder",
        calendar=china(),
        clock=clock,
    )
    try:
        ladder.start("fx_ladder", {"title": "路灯不亮", "unit": "市城管局"}, Actor("clerk", {"承办单位"}))
        clock.set(datetime(2025, 10, 1, tzinfo=CHINA_TZ))
        ladder.tick()
        values["Card"] = ladder.cards()[0]
    finally:
        ladder.store.close()
    deadline = china().due(datetime(2025, 9, 26, 10, 0, tzinfo=CHINA_TZ), "20个工作日")
    values |= {
        "Deadline": deadline,
        "CrossedDay": deadline.crossed[0],
        "Notice": deadline.sources[0],
        "Rule": deadline.rules[0],
        "TimeLimit": deadline.limit,
        "TimeUnit": deadline.limit.unit,
        "MetricsConfig": DEFAULT_METRICS_CONFIG,
        "ScenarioPlan": ScenarioPlan(seed=3, tickets=10, step=timedelta(minutes=30), start=date(2025, 9, 1)),
    }
    return values


@pytest.mark.parametrize(
    "kind",
    [
        "Actor",
        "InstanceView",
        "TaskView",
        "AuditEvent",
        "Card",
        "InstanceSummary",
        "HistoryCheck",
        "ConsistencyReport",
        "Deadline",
        "CrossedDay",
        "Notice",
        "Rule",
        "TimeLimit",
        "TimeUnit",
        "MetricsConfig",
        "ScenarioPlan",
    ],
)
def test_public_values_pickle_by_their_public_names(public_values: dict[str, Any], kind: str) -> None:
    """Dataclass and enum values round-trip through pickle unchanged, and the pickle refers to their public
    module, so renaming a private module never breaks a stored pickle."""
    value = public_values[kind]
    data = pickle.dumps(value)
    assert pickle.loads(data) == value
    assert _PRIVATE_PATH.search(data) is None, data


def test_fake_clock_pickles_at_its_instant() -> None:
    """A FakeClock (efficacy_flow.clock's, re-exported by efficacy_flow.testing) pickles at its instant."""
    clock = FakeClock(datetime(2025, 10, 1, 8, 0, tzinfo=CHINA_TZ))
    clock.advance(timedelta(hours=3))
    copy = pickle.loads(pickle.dumps(clock))
    assert copy.now() == datetime(2025, 10, 1, 11, 0, tzinfo=CHINA_TZ)
    assert efficacy_flow.testing.FakeClock is FakeClock


def test_version_agrees_with_the_package_metadata() -> None:
    """``efficacy_flow.__version__`` (the one source, read by hatchling at build) is what the installed
    distribution's metadata says."""
    assert efficacy_flow.__version__ == metadata.version("efficacy-flow")
    assert re.fullmatch(r"\d+\.\d+\.\d+", efficacy_flow.__version__)


def test_shipped_processes_is_an_absolute_folder_wherever_the_caller_is(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """From any working directory the function returns the same absolute folder with the shipped BPMN, DMN
    and YAML files; in this checkout's install it is the repository's processes/ (what designers edit)."""
    monkeypatch.chdir(tmp_path)
    folder = shipped_processes()
    assert folder.is_absolute()
    assert folder == Path(__file__).resolve().parents[2] / "processes"
    names = {path.name for path in folder.iterdir()}
    assert {"complaint_closure.bpmn", "window_escalation.bpmn", "accountability.bpmn"} <= names
    assert {"time_limits.yaml", "schemas.yaml", "admonition_consequence.dmn"} <= names
