"""Helpers for integrators' own test suites: drive processes through days and holidays without sleeping.

``FakeClock`` replaces ``SystemClock``; it moves only when the test moves it.
"""

from __future__ import annotations

from efficacy_flow.testing._clock import FakeClock
from efficacy_flow.testing._decisions import assert_decision_table
from efficacy_flow.testing._engine import complete_task, drive_to, make_test_engine
from efficacy_flow.testing._scenario import DEMO_UNITS, ScenarioPlan, Simulation, SimulationResult

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
