"""Suspension (暂停计时), resumption and extension (延期) applied to a loaded workflow's timers.

Each function changes the waiting timers in place and returns the ``before``/``after`` payloads of the audit
event the engine records; the arithmetic is in engine/_clockwork.py. Sources: statutory-rules.md §6 — pause:
行政许可法 art. 45, 政府信息公开条例 art. 33; extension: an approved addition with an approver and a reason.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from efficacy_flow.calendar import TimeLimit
from efficacy_flow.engine._clockwork import extend_due, remaining_at, resume_due
from efficacy_flow.engine._rows import Event, attached_id, spiff_errors
from efficacy_flow.engine._spiff import KIND, REMAINING, waiting_timers

__all__ = ["extend_timers", "fire_due", "resume_timers", "suspend_timers", "timer_fired"]

#: The ISO-8601 due instant SpiffWorkflow keeps on a waiting timer.
_DUE = "event_value"


def timer_fired(element_id: str, task_id: str | None, due_at: str | None) -> Event:
    """The audit event of a timer that fired (recorded by tick() and by resume())."""
    return ("timer_fired", None, None, {"element_id": element_id, "task_id": task_id, "due_at": due_at})


def fire_due(workflow: Any, process_id: str) -> set[str]:
    """Fire the timers that are due, run the engine steps, and return the ids of the timers still waiting."""
    with spiff_errors(process_id):
        workflow.refresh_timers()
        workflow.do_engine_steps()
    return {str(t.id) for t in waiting_timers(workflow)}


def suspend_timers(workflow: Any, reason: str, now: datetime, calendar: Any) -> tuple[dict[str, Any], Any]:
    """Keep on each waiting timer what remained of it at ``now`` and mark the workflow suspended.

    Returns:
        ``before`` (each timer's due instant) and ``after`` (the reason and what remains, by element id).
    """
    before = {}
    for timer in waiting_timers(workflow):
        due_at = datetime.fromisoformat(timer.internal_data[_DUE])
        kind = timer.internal_data.get(KIND, "elapsed")
        timer.internal_data[REMAINING] = remaining_at(kind, due_at, now, calendar)
        before[timer.task_spec.bpmn_id] = due_at.isoformat()
    workflow.ef_suspended = True
    after = {
        "reason": reason,
        "remaining": {t.task_spec.bpmn_id: t.internal_data[REMAINING] for t in waiting_timers(workflow)},
    }
    return before, after


def resume_timers(workflow: Any, actor_id: str, now: datetime, calendar: Any, process_id: str) -> list[Event]:
    """Give each suspended timer a new due instant from what remained, resume the workflow and run it.

    Returns:
        The ``resumed`` event (due instants before and after, by element id), then a ``timer_fired`` event for
        each limit that had run out at suspension and so fired now, as tick() would record it.
    """
    before, after = {}, {}
    for timer in waiting_timers(workflow):
        remaining = timer.internal_data.pop(REMAINING, None)
        if remaining is None:
            continue
        new_due = resume_due(remaining, now, calendar)
        before[timer.task_spec.bpmn_id] = timer.internal_data[_DUE]
        timer.internal_data[_DUE] = new_due.isoformat()
        after[timer.task_spec.bpmn_id] = new_due.isoformat()
    workflow.ef_suspended = False
    due = [t for t in waiting_timers(workflow) if datetime.fromisoformat(t.internal_data[_DUE]) <= now]
    still_waiting = fire_due(workflow, process_id)
    events: list[Event] = [("resumed", actor_id, before, after)]
    events.extend(
        timer_fired(t.task_spec.bpmn_id, attached_id(t), t.internal_data[_DUE])
        for t in due
        if str(t.id) not in still_waiting
    )
    return events


def extend_timers(
    timers: list[Any], limit: TimeLimit, calendar: Any
) -> tuple[dict[str, str], dict[str, str]]:
    """Move each timer's due instant by ``limit``, counted on from the old due date.

    Returns:
        The due instants before and after, by element id.
    """
    before, after = {}, {}
    for timer in timers:
        old = datetime.fromisoformat(timer.internal_data[_DUE])
        new = extend_due(old, limit, calendar)
        timer.internal_data[_DUE] = new.isoformat()
        before[timer.task_spec.bpmn_id] = old.isoformat()
        after[timer.task_spec.bpmn_id] = new.isoformat()
    return before, after
