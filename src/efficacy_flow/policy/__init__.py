"""Policy rules as data: DMN decision tables (and time-limit tables).

``load_decisions("processes/")`` compiles every decision table in a folder's ``.dmn`` files;
``decisions.decide("admonition_consequence", {"admonitions_this_year": 2})`` evaluates one.
See docs/policy.md.
"""

from __future__ import annotations

from efficacy_flow import _public
from efficacy_flow.policy._decisions import Decisions, load_decisions
from efficacy_flow.policy._table import DecisionResult
from efficacy_flow.policy._time_limits import TimeLimitTable, load_time_limits, parse_time_limits

__all__ = [
    "DecisionResult",
    "Decisions",
    "TimeLimitTable",
    "load_decisions",
    "load_time_limits",
    "parse_time_limits",
]

_public.publish(globals())
