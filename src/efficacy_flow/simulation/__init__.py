"""A seeded month of cases on the shipped processes: what ``efficacy-flow demo`` runs, and a load generator.

:class:`Simulation` moves a :class:`~efficacy_flow.clock.FakeClock` hour by hour from ``ScenarioPlan.start``
to the end of ``ScenarioPlan.end``, ticking the engine and doing what the people of each process would do;
the same seed gives the same month. It needs an engine with complaint_closure, window_escalation and
accountability deployed (``Engine(processes=shipped_processes(), clock=clock, calendar=calendar)``).

>>> result = Simulation(engine, clock, calendar, ScenarioPlan(seed=7, tickets=50)).run()  # doctest: +SKIP
"""

from __future__ import annotations

from efficacy_flow import _public
from efficacy_flow.simulation._scenario import DEMO_UNITS, ScenarioPlan, Simulation, SimulationResult

__all__ = [
    "DEMO_UNITS",
    "ScenarioPlan",
    "Simulation",
    "SimulationResult",
]

_public.publish(globals())
