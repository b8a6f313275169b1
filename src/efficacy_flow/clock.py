"""Where time comes from.

The library never reads the wall clock itself: every component that needs "now" is given a :class:`Clock`.
:class:`SystemClock` is the only reader of the wall clock; tests use ``efficacy_flow.testing.FakeClock``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol, runtime_checkable
from zoneinfo import ZoneInfo

__all__ = ["CHINA_TZ", "Clock", "SystemClock"]

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
