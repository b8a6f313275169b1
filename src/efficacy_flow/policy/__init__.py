"""Policy rules as data: DMN decision tables, time-limit tables and jurisdiction settings.

``load_decisions("processes/")`` compiles every decision table in a folder's ``.dmn`` files;
``decisions.decide("admonition_consequence", {"admonitions_this_year": 2})`` evaluates one.
``load_settings("processes/")`` reads the folder's settings.yaml. See docs/policy.md and docs/processes.md.
"""

from __future__ import annotations

from efficacy_flow import _public
from efficacy_flow.policy._decisions import Decisions, load_decisions
from efficacy_flow.policy._settings import (
    DIMENSIONS,
    PERMISSION_ACTIONS,
    SETTINGS_FILE_NAME,
    Appraisal,
    AppraisalProcess,
    AppraisalReview,
    Permission,
    Setting,
    Settings,
    UnitLanes,
    load_settings,
)
from efficacy_flow.policy._table import DecisionResult
from efficacy_flow.policy._time_limits import (
    Ladder,
    TimeLimitEntry,
    TimeLimitTable,
    load_time_limits,
    parse_time_limits,
)

__all__ = [
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
]

_public.publish(globals())
