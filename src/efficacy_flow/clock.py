"""Where time comes from.

The library never reads the wall clock itself: every component that needs "now" is given a :class:`Clock`.
:class:`SystemClock` is the only reader of the wall clock; :class:`FakeClock` moves only when its owner
moves it.

``FakeClock`` lives here, at the bottom of the layers, rather than in ``efficacy_flow.testing``: the month
simulation (``efficacy_flow.simulation``, which ``efficacy-flow demo`` runs) moves the engine's clock too,
and the command line may not depend on the test helpers. One implementation serves both;
``efficacy_flow.testing.FakeClock`` is the same class, re-exported where integrators' tests look for it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Protocol, runtime_checkable
from zoneinfo import ZoneInfo

from efficacy_flow.errors import InvalidInput, NaiveDatetime

__all__ = ["CHINA_TZ", "Clock", "FakeClock", "SystemClock"]

#: China Standard Time, the zone every statutory period is counted in.
CHINA_TZ = ZoneInfo("Asia/Shanghai")


@runtime_checkable
class Clock(Protocol):
    """A source of the current instant."""

    def now(self) -> datetime:
        """Return the current instant as an aware datetime in Asia/Shanghai."""
        ...


class SystemClock:
    """The wall clock, in Asia/Shanghai."""

    def now(self) -> datetime:
        """Return the wall-clock instant as an aware datetime in Asia/Shanghai."""
        return datetime.now(CHINA_TZ)

    def __repr__(self) -> str:
        return "SystemClock()"


class FakeClock:
    """A clock that moves only when its owner moves it (a test, or a simulation skipping through time).

    Args:
        start: the initial instant; must be timezone-aware. It is reported in Asia/Shanghai.

    Raises:
        NaiveDatetime: ``start`` has no time zone.
    """

    def __init__(self, start: datetime) -> None:
        self._now = _aware(start)

    def now(self) -> datetime:
        """Return the current fake instant (aware, Asia/Shanghai)."""
        return self._now

    def advance(self, delta: timedelta) -> datetime:
        """Move forward by ``delta`` (which must not be negative) and return the new instant."""
        if delta < timedelta(0):
            raise InvalidInput(f"FakeClock cannot move backwards (advance by {delta})", delta=delta)
        self._now = self._now + delta
        return self._now

    def set(self, when: datetime) -> datetime:
        """Jump to ``when`` (aware; earlier instants are allowed, to model a clock that was corrected)."""
        self._now = _aware(when)
        return self._now

    def __repr__(self) -> str:
        return f"FakeClock({self._now.isoformat()})"


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise NaiveDatetime(f"FakeClock needs an aware datetime, got naive {value.isoformat()}", value=value)
    return value.astimezone(CHINA_TZ)
