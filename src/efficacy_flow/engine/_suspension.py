"""Suspension (暂停计时), resumption and approved extension (延期) of an instance's timers, counted by the
calendar.

The arithmetic is the calendar's (:meth:`~efficacy_flow.calendar.WorkingDayCalendar.remaining_until`,
:meth:`~efficacy_flow.calendar.WorkingDayCalendar.due`, :meth:`~efficacy_flow.calendar.WorkingDayCalendar.
extend_from`): this module only applies it to the timers a snapshot lists and returns the audit event's
payloads. Sources: statutory-rules.md §6 — pause: 行政许可法 第四十五条, 政府信息公开条例 第三十三条;
extension: an approved addition with an approver and a reason; the roll of a period ending on a rest day:
民法典 第二百零三条.

Each timer keeps the unit of its period. A working-day timer keeps the working days in (suspension day, last
day] — the day of suspension counts as used; a calendar-day or month timer the days to its nominal last day (a
roll past rest days is not time granted); an hour, minute or fixed-instant timer the minutes of elapsed time
left, rounded up. On resumption each is counted again from the resumption instant, and rolls if it ends on a
rest day.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from efficacy_flow.calendar import MINUTES, TimeLimit
from efficacy_flow.engine._audit import Event
from efficacy_flow.engine.runtime import Due, PendingTimer, Workflow

__all__ = ["extend_timers", "restart_on_transfer", "resume_timers", "suspend_timers", "timer_fired"]


def timer_fired(element_id: str, task_id: str | None, due_at: datetime | None) -> Event:
    """The audit event of a timer that fired (recorded by tick() and by resume())."""
    after = {"element_id": element_id, "task_id": task_id, "due_at": due_at.isoformat() if due_at else None}
    return ("timer_fired", None, None, after)


def suspend_timers(
    workflow: Workflow, timers: tuple[PendingTimer, ...], reason: str, now: datetime, calendar: Any
) -> tuple[dict[str, str], dict[str, Any]]:
    """Hold the workflow's timers, each keeping what remained of it at ``now``.

    Returns:
        ``before`` (each timer's due instant) and ``after`` (the reason and what remains), by element id.
    """
    remaining: dict[str, TimeLimit] = {}
    for timer in timers:
        due = timer.due
        remaining[timer.id] = calendar.remaining_until(
            now, due.due_at, due.unit or MINUTES, rolled_from=due.rolled_from
        )
    workflow.hold_timers(remaining)
    before = {t.element_id: t.due.due_at.isoformat() for t in timers}
    after = {"reason": reason, "remaining": {t.element_id: str(remaining[t.id]) for t in timers}}
    return before, after


def resume_timers(
    workflow: Workflow, timers: tuple[PendingTimer, ...], now: datetime, calendar: Any
) -> tuple[dict[str, str], dict[str, str]]:
    """Give each held timer the period that remained, counted from ``now``; release the workflow's timers.

    Returns:
        The due instants before and after, by element id.
    """
    dues: dict[str, Due] = {}
    before, after = {}, {}
    for timer in timers:
        if timer.remaining is None:
            continue
        deadline = calendar.due(now, timer.remaining)
        # The resumed period is what remained (its unit: working days, calendar days, or minutes).
        due = Due(deadline.due_at, limit=timer.remaining, rolled_from=deadline.rolled_from)
        dues[timer.id] = due
        before[timer.element_id] = timer.due.due_at.isoformat()
        after[timer.element_id] = due.due_at.isoformat()
    workflow.release_timers(dues)
    return before, after


def extend_timers(
    workflow: Workflow, timers: list[PendingTimer], limit: TimeLimit, calendar: Any
) -> tuple[dict[str, str], dict[str, str]]:
    """Move each timer's due instant by ``limit``, counted on from the old period's last day.

    Returns:
        The due instants before and after, by element id.
    """
    before, after = {}, {}
    for timer in timers:
        extended = calendar.extend_from(timer.due.due_at, limit)
        due = Due(
            extended.due_at, limit=timer.due.limit, rolled_from=extended.rolled_from, unit=timer.due.unit
        )
        workflow.move_timer(timer.id, due)
        before[timer.element_id] = timer.due.due_at.isoformat()
        after[timer.element_id] = due.due_at.isoformat()
    return before, after


def restart_on_transfer(
    workflow: Workflow, task_id: str, dep: Any, now: datetime, calendar: Any
) -> dict[str, str]:
    """After a transfer to another unit (转办): the task's timers whose limit says ``on_transfer: restart``
    (time_limits.yaml) count their period anew from ``now``; the others keep running.

    Returns:
        The new due instants, by element id (empty: nothing restarted).
    """
    table = dep.time_limits
    if table is None:
        return {}
    restarted = {}
    for timer in workflow.snapshot(now).timers:
        if timer.attached_to != task_id or timer.due.limit is None:
            continue
        name = dep.timer_limits.get(timer.element_id)
        entry = table.entries.get(name) if name is not None else None
        if entry is None or entry.on_transfer != "restart":
            continue
        deadline = calendar.due(now, timer.due.limit)
        workflow.move_timer(
            timer.id, Due(deadline.due_at, limit=timer.due.limit, rolled_from=deadline.rolled_from)
        )
        restarted[timer.element_id] = deadline.due_at.isoformat()
    return restarted
