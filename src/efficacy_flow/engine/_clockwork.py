"""Pausing and moving deadlines: suspension (暂停计时), resumption and approved extension (延期).

Sources: statutory-rules.md §6 — pause: 行政许可法 art. 45, 政府信息公开条例 art. 33; extension: an approved
addition with an approver and a reason.

A working-day timer keeps the working days that remained at suspension (counted in (suspension day, last day]:
the day of suspension counts as used); every other timer keeps the remaining elapsed seconds.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from efficacy_flow.calendar import TimeLimit
from efficacy_flow.clock import CHINA_TZ
from efficacy_flow.engine._definitions import units

__all__ = ["extend_due", "remaining_at", "resume_due"]

_TICK = timedelta(microseconds=1)


def _last_day(due_at: datetime) -> Any:
    # due_at is the instant the period ended (24:00 of the last day, or closing time): step back into the day.
    return (due_at - _TICK).astimezone(CHINA_TZ).date()


def remaining_at(kind: str, due_at: datetime, now: datetime, calendar: Any) -> str:
    """What remains of a timer at ``now``: ``"wd:N"`` working days or ``"s:N"`` seconds (never negative)."""
    if kind == "working_days":
        days = calendar.working_days_between(now.astimezone(CHINA_TZ).date(), _last_day(due_at))
        return f"wd:{max(days, 0)}"
    return f"s:{max(int((due_at - now).total_seconds()), 0)}"


def resume_due(remaining: str, now: datetime, calendar: Any) -> datetime:
    """The new due instant of a timer resumed at ``now`` with ``remaining`` working time."""
    unit, _, amount = remaining.partition(":")
    count = int(amount)
    if unit == "wd":
        if count == 0:
            # Nothing but the rest of the day remained: it ends at the end of the day of resumption.
            return datetime.combine(now.astimezone(CHINA_TZ).date() + timedelta(days=1), time(), CHINA_TZ)
        due_at: datetime = calendar.due(now, TimeLimit(count, units().working_days)).due_at
        return due_at
    return now + timedelta(seconds=count)


def extend_due(due_at: datetime, limit: Any, calendar: Any) -> datetime:
    """A deadline moved by an approved extension: the limit counts on from the old period's last day."""
    if limit.unit == units().hours:
        return due_at + timedelta(hours=limit.n)
    moved: datetime = calendar.due(due_at - _TICK, limit).due_at
    return moved
