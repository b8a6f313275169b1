"""Helpers for integrators' own test suites: drive processes through days and holidays without sleeping.

``FakeClock`` replaces ``SystemClock``; it moves only when the test moves it. It is the class
``efficacy_flow.clock`` defines (the month simulation moves it too), re-exported here. The simulation's names
(``Simulation``, ``ScenarioPlan``, ``SimulationResult``, ``DEMO_UNITS``) live in ``efficacy_flow.simulation``
and are re-exported here as well, so suites that import them from ``efficacy_flow.testing`` keep working.
"""

from __future__ import annotations

from efficacy_flow import _public
from efficacy_flow.clock import FakeClock
from efficacy_flow.simulation import DEMO_UNITS, ScenarioPlan, Simulation, SimulationResult
from efficacy_flow.testing._decisions import assert_decision_table
from efficacy_flow.testing._engine import complete_task, drive_to, make_test_engine

__all__ = [
    "DEMO_UNITS",
    "FakeClock",
    "ScenarioPlan",
    "Simulation",
    "SimulationResult",
    "assert_decision_table",
    "complete_task",
    "drive_to",
    "make_test_engine",
]

_public.publish(globals())
