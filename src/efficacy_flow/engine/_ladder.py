"""The deadline ladder of electronic supervision (电子监察, seed 002 §一): warning → yellow card and 督办 →
red card and referral, with reminders in between — scheduled, issued and cleared inside the engine's own
transactions, so a card exists exactly when the change it reports committed.

A ladder belongs to a limit in time_limits.yaml (``ladder:``) and runs on every boundary timer that counts by
that limit (docs/supervision.md):

- **Before the due time** the steps are the warning (预警: an amount before the due time, counted back by the
  calendar, or a share of the period) and then up to ``max`` reminders (催办), ``every`` apart. They are
  derived from the timer's due time on every save, as one deadline row of kind ``"ladder"`` per timer (the
  next step); the timer's saved state counts how many were issued. So suspension (the timer holds; the row
  has no due time) and extension (the due time moves) move the steps with the limit, and tick() claims the
  row through the same due-time index as every timer.
- **When the timer fires** (the limit ran out) the yellow card (黄牌) is issued in the firing's transaction;
  with ``yellow.supervise`` it starts the 督办 period, counted on from the limit's last day, and the card
  records when that runs out (``escalate_at``).
- **When the 督办 period runs out** with the card still open, tick() issues the red card (红牌) and, with
  ``red.referral``, starts the accountability case (效能问责) it refers to.
- **Clearing.** A card stays open until the step it is about is done: a task of the timer's element
  completes (after a 逾期督办 sends the case back, the redone step), or the case ends. A card is never
  deleted: appraisal counts cards issued, cleared or not — a late step shows even when the case ends on time.

Every card is an audit event (``card_issued``, ``card_cleared``) and so an outbox event; a warning and a
reminder also urge the task (催办: its urge count goes up, the outbox carries ``urged``). The card rules —
deductions (扣分) and actions (书面督办, 约谈) by level and count — are the DMN decision ``card_rules``
(processes/card_rules.dmn), each rule citing its source.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from efficacy_flow.calendar import TimeLimit
from efficacy_flow.engine._audit import Event
from efficacy_flow.engine.runtime import PendingTimer, Workflow
from efficacy_flow.errors import DecisionError
from efficacy_flow.policy import Ladder
from efficacy_flow.store import CardRecord, DeadlineRecord, TaskRecord, Transaction

__all__ = [
    "CARD_LABELS",
    "CARD_LEVELS",
    "CARD_RULES",
    "LADDER_KIND",
    "SUPERVISION_ACTOR",
    "CardRules",
    "LadderPlan",
    "Step",
    "plan_of",
]

#: Card levels and their labels (glossary: 预警 / 黄牌 / 红牌).
CARD_LABELS = {"warning": "预警", "yellow": "黄牌", "red": "红牌"}
CARD_LEVELS = frozenset(CARD_LABELS)
#: ``DeadlineRecord.kind`` of a ladder's next step before the due time.
LADDER_KIND = "ladder"
#: The DMN decision of the card rules (deduction, action, source by level and count).
CARD_RULES = "card_rules"
#: Who acts when the ladder does (the first responder of a referral it starts).
SUPERVISION_ACTOR = "电子监察"
#: Ladder row ids: derived from the timer's id, so every save derives the same row.
_NAMESPACE = uuid.UUID("5b0f3f0e-6a43-4f57-9d0e-8f1d2c7b9a10")


@dataclass(frozen=True, slots=True)
class Step:
    """A ladder step before the due time: ``"warning"`` or ``"reminder"`` (the ``index``-th, from 1)."""

    at: datetime
    kind: str
    index: int = 0


@dataclass(frozen=True, slots=True)
class Rung:
    """What a laddered timer counts by: its limit's name and label, its ladder, its task's element."""

    limit_name: str
    label: str
    ladder: Ladder
    element_id: str | None


@dataclass(slots=True)
class LadderPlan:
    """The ladders of one deployment: by timer element id; and the elements whose completion clears cards."""

    process_id: str
    rungs: Mapping[str, Rung]
    elements: frozenset[str]
    calendar: Any
    _steps: dict[tuple[str, datetime, Any], tuple[Step, ...]] = field(default_factory=dict)
    _ids: dict[str, str] = field(default_factory=dict)

    def steps(self, timer: PendingTimer, rung: Rung) -> tuple[Step, ...]:
        """The steps of a timer's ladder before its due time, in order (remembered per due time)."""
        due = timer.due
        key = (timer.element_id, due.due_at, due.limit)
        found = self._steps.get(key)
        if found is None:
            if len(self._steps) > 4096:
                self._steps.clear()
            found = self._steps[key] = _steps_before(self.calendar, rung.ladder, due.due_at, due.limit)
        return found

    def row_id(self, timer_id: str) -> str:
        """The id of a timer's ladder row."""
        found = self._ids.get(timer_id)
        if found is None:
            if len(self._ids) > 65536:
                self._ids.clear()
            found = self._ids[timer_id] = str(uuid.uuid5(_NAMESPACE, timer_id))
        return found

    def rows(
        self, instance_id: str, timers: Iterable[PendingTimer], *, suspended: bool, incident_id: str | None
    ) -> list[DeadlineRecord]:
        """The ladder rows of a snapshot's timers: one per laddered timer with a step still to come, due at
        that step (no due time while suspended: the step is derived again from the resumed due time)."""
        found = []
        for timer in timers:
            rung = self.rungs.get(timer.element_id)
            if rung is None:
                continue
            steps = self.steps(timer, rung)
            if timer.ladder_steps >= len(steps):
                continue
            found.append(
                DeadlineRecord(
                    id=self.row_id(timer.id),
                    instance_id=instance_id,
                    task_id=timer.attached_to,
                    element_id=timer.element_id,
                    kind=LADDER_KIND,
                    interrupting=False,
                    due_at=None if suspended else steps[timer.ladder_steps].at,
                    incident_id=incident_id,
                )
            )
        return found


def plan_of(dep: Any, calendar: Any) -> LadderPlan | None:
    """The ladder plan of a deployment (None: none of its timers counts by a limit with a ladder)."""
    table = dep.time_limits
    if table is None:
        return None
    rungs = {}
    for timer_element, name in dep.timer_limits.items():
        entry = table.entries.get(name)
        if entry is None or entry.ladder is None:
            continue
        rungs[timer_element] = Rung(name, entry.label, entry.ladder, dep.timer_attachments.get(timer_element))
    if not rungs:
        return None
    elements = frozenset(r.element_id for r in rungs.values() if r.element_id is not None)
    return LadderPlan(dep.process_id, rungs, elements, calendar)


def _steps_before(
    calendar: Any, ladder: Ladder, due_at: datetime, limit: TimeLimit | None
) -> tuple[Step, ...]:
    """The warning and the reminders before ``due_at`` (those that would fall at or after it are dropped)."""
    warning: datetime | None = None
    if ladder.warning_before is not None:
        warning = calendar.counted_back(due_at, ladder.warning_before)
    elif ladder.warning_share is not None and limit is not None:
        # A share of the period used up: what is left, in the period's unit, rounded up to a whole unit.
        left = max(1, math.ceil(limit.n * (1 - ladder.warning_share) - 1e-9))
        warning = calendar.counted_back(due_at, TimeLimit(left, limit.unit))
    if warning is None or warning >= due_at:
        return ()
    steps = [Step(warning, "warning")]
    every = ladder.reminder_every
    at = warning
    for index in range(1, ladder.reminder_max + 1 if every is not None else 1):
        at = calendar.extend_from(at, every).due_at
        if at >= due_at:
            break
        steps.append(Step(at, "reminder", index))
    return tuple(steps)


# -- issuing ------------------------------------------------------------------------------------------------


#: (level, count of that level on the element in the instance, this one included) → (deduction, action,
#: source); None when no card_rules decision is loaded.
CardRules = Callable[[str, int], tuple[float, str | None, str | None]] | None


@dataclass(slots=True)
class Issued:
    """What one firing (or escalation) issued: the card rows to insert, their audit events."""

    cards: list[CardRecord] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)


def card_event(card: CardRecord, copy_to: Sequence[str]) -> Event:
    """The audit event of an issued card (its outbox payload keeps these fields)."""
    after = {
        "card_id": card.id,
        "level": card.level,
        "label": CARD_LABELS[card.level],
        "limit": card.limit_name,
        "task_id": card.task_id,
        "element_id": card.element_id,
        "unit": card.unit,
        "due": card.due_at.isoformat() if card.due_at is not None else None,
        "reason": card.reason,
        "deduction": card.deduction,
        "action": card.action,
        "escalate_at": card.escalate_at.isoformat() if card.escalate_at is not None else None,
        "cc": list(copy_to),
        "source": card.source,
    }
    return ("card_issued", None, None, after)


def cleared_event(card: CardRecord) -> Event:
    """The audit event of a card cleared (the step it is about was done, or the case ended)."""
    after = {"card_id": card.id, "level": card.level, "task_id": card.task_id, "element_id": card.element_id}
    return ("card_cleared", None, None, after)


def _card(
    plan: LadderPlan,
    instance_id: str,
    level: str,
    rung: Rung,
    task: TaskRecord | None,
    task_id: str | None,
    due_at: datetime | None,
    now: datetime,
    reason: str,
    source: str,
    count: int,
    rules: CardRules,
    escalate_at: datetime | None = None,
    units: Sequence[str | None] = (),
) -> CardRecord:
    deduction, action, rule_source = rules(level, count) if rules is not None else (0.0, None, None)
    unit = task.unit if task is not None else None
    if task is None and units:
        # A limit on a subprocess or the whole case: the unit its ready tasks agree on, if they do.
        distinct = {u for u in units if u is not None}
        unit = distinct.pop() if len(distinct) == 1 else None
    return CardRecord(
        id=str(uuid.uuid4()),
        instance_id=instance_id,
        process_id=plan.process_id,
        task_id=task_id,
        element_id=rung.element_id,
        unit=unit,
        level=level,
        limit_name=rung.limit_name,
        issued_at=now,
        due_at=due_at,
        cleared_at=None,
        reason=reason,
        deduction=float(deduction),
        action=action,
        source=source if rule_source is None else f"{source}；{rule_source}",
        escalate_at=escalate_at,
    )


def _when(at: datetime) -> str:
    return at.strftime("%Y-%m-%d %H:%M")


def issue_before_due(
    plan: LadderPlan,
    workflow: Workflow,
    instance_id: str,
    timers: Sequence[PendingTimer],
    tasks: Sequence[TaskRecord],
    now: datetime,
    counts: Callable[[str, str | None], int],
    rules: CardRules,
) -> Issued:
    """Issue the ladder steps due at ``now`` before their timers' due times: a warning card (and an urge of
    its task), a reminder (an urge); several reminders a late tick finds due are sent as one. Steps of a
    timer that is itself due are passed over: its yellow card supersedes them."""
    issued = Issued()
    by_id = {t.id: t for t in tasks}
    for timer in timers:
        rung = plan.rungs.get(timer.element_id)
        if rung is None:
            continue
        steps = plan.steps(timer, rung)
        done = timer.ladder_steps
        due = [s for s in steps[done:] if s.at <= now]
        if not due:
            continue
        workflow.advance_ladder(timer.id, done + len(due))
        if timer.due.due_at <= now:
            continue
        task = by_id.get(timer.attached_to) if timer.attached_to is not None else None
        ladder = rung.ladder
        limit_text = f"{rung.label}将于{_when(timer.due.due_at)}届满"
        if any(s.kind == "warning" for s in due):
            card = _card(
                plan,
                instance_id,
                "warning",
                rung,
                task,
                timer.attached_to,
                timer.due.due_at,
                now,
                f"预警：{limit_text}",
                ladder.warning_source or ladder.source,
                counts("warning", rung.element_id) + 1,
                rules,
                units=[t.unit for t in tasks],
            )
            issued.cards.append(card)
            issued.events.append(card_event(card, ladder.copy_to))
        reminders = [s for s in due if s.kind == "reminder"]
        message = (
            f"催办（第{reminders[-1].index}次）：{limit_text}，请抓紧办理"
            if reminders
            else f"预警：{limit_text}"
        )
        if task is not None:
            workflow.record_urge(task.id, now)
            details = {
                "task_id": task.id,
                "element_id": task.element_id,
                "message": message,
                "cc": list(ladder.copy_to),
                "count": task.urges + 1,
                "source": (ladder.reminder_source if reminders else ladder.warning_source) or ladder.source,
            }
            issued.events.append(("urged", None, None, details))
    return issued


def issue_yellow(
    plan: LadderPlan,
    instance_id: str,
    fired: Sequence[DeadlineRecord],
    tasks: Sequence[TaskRecord],
    now: datetime,
    counts: Callable[[str, str | None], int],
    rules: CardRules,
) -> Issued:
    """The yellow cards of the laddered timers that fired (their limits ran out), each starting its 督办
    period when the ladder has one."""
    issued = Issued()
    by_id = {t.id: t for t in tasks}
    for row in fired:
        rung = plan.rungs.get(row.element_id)
        if rung is None or row.due_at is None:
            continue
        ladder = rung.ladder
        escalate_at = None
        reason = f"黄牌：{rung.label}已于{_when(row.due_at)}届满"
        if ladder.supervise is not None:
            escalate_at = plan.calendar.extend_from(row.due_at, ladder.supervise).due_at
            reason += f"，督办至{_when(escalate_at)}"
        task = by_id.get(row.task_id) if row.task_id is not None else None
        card = _card(
            plan,
            instance_id,
            "yellow",
            rung,
            task,
            row.task_id,
            row.due_at,
            now,
            reason,
            ladder.yellow_source or ladder.source,
            counts("yellow", rung.element_id) + 1,
            rules,
            escalate_at=escalate_at if ladder.red else None,
            units=[t.unit for t in tasks],
        )
        issued.cards.append(card)
        issued.events.append(card_event(card, ladder.copy_to))
    return issued


def red_card(
    plan: LadderPlan, yellow: CardRecord, now: datetime, count: int, rules: CardRules
) -> tuple[CardRecord, Rung] | None:
    """The red card of an open yellow card whose 督办 period ran out (None: its limit has no ladder now)."""
    rung = next((r for r in plan.rungs.values() if r.limit_name == yellow.limit_name), None)
    if rung is None or not rung.ladder.red:
        return None
    ladder = rung.ladder
    due = yellow.escalate_at or now
    card = _card(
        plan,
        yellow.instance_id,
        "red",
        rung,
        None,
        yellow.task_id,
        due,
        now,
        f"红牌：{rung.label}督办期已于{_when(due)}届满，仍未办结",
        ladder.red_source or ladder.source,
        count,
        rules,
    )
    # The element and unit the yellow card was about (the task may be gone: an interrupting limit).
    return replace(card, element_id=yellow.element_id, unit=yellow.unit), rung


def clear_cards(
    tx: Transaction,
    plan: LadderPlan,
    instance_id: str,
    completed_element: str | None,
    ended: bool,
    now: datetime,
) -> list[Event]:
    """Clear the instance's open cards that a save settles: those about the completed task's element, or all
    when the case ended. Returns their ``card_cleared`` events (nothing is read unless one could apply)."""
    if not ended and (completed_element is None or completed_element not in plan.elements):
        return []
    events = []
    for card in tx.open_cards(instance_id):
        if (ended or card.element_id == completed_element) and tx.clear_card(card.id, now):
            events.append(cleared_event(card))
    return events


def card_rules_of(decide: Callable[[str, Mapping[str, Any]], Any] | None) -> CardRules:
    """The card rules as a function of (level, count), from the ``card_rules`` decision (None: not loaded).

    Raises (when called):
        DecisionError: the decision fails (a missing rule, a wrong output).
    """
    if decide is None:
        return None

    def rules(level: str, count: int) -> tuple[float, str | None, str | None]:
        result = decide(CARD_RULES, {"level": level, "count": count})
        if isinstance(result, list):
            result = result[0] if result else {}
        if not isinstance(result, Mapping):
            raise DecisionError(
                f"decision {CARD_RULES}: expected one result, got {result!r}", decision=CARD_RULES
            )
        deduction = result.get("deduction") or 0
        if isinstance(deduction, bool) or not isinstance(deduction, int | float):
            raise DecisionError(
                f"decision {CARD_RULES}: deduction {deduction!r} is not a number", decision=CARD_RULES
            )
        action = result.get("action")
        source = result.get("source")
        return float(deduction), str(action) if action else None, str(source) if source else None

    return rules
