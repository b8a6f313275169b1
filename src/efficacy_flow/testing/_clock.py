"""A clock that moves only when a test moves it."""

from __future__ import annotations

from datetime import datetime, timedelta

from efficacy_flow.clock import CHINA_TZ
from efficacy_flow.errors import InvalidInput, NaiveDatetime

__all__ = ["FakeClock"]


class FakeClock:
    """A controllable clock for tests.

    Args:
        start: the initial instant; must be timezone-aware. It is reported in Asia/Shanghai.
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
