"""Helpers for integrators' own test suites: drive processes through days and holidays without sleeping.

``FakeClock`` replaces ``SystemClock``; it moves only when the test moves it.
"""

from __future__ import annotations

from efficacy_flow.testing._clock import FakeClock
from efficacy_flow.testing._decisions import assert_decision_table

__all__ = ["FakeClock", "assert_decision_table"]
