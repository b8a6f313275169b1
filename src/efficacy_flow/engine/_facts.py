"""The facts of a case that the appraisal figures count, kept by every save of the case (issue 14).

The figures supervisors publish — 响应率, 办结率, 按时办结率, 解决率, 满意率, 差评, by unit and by the seven
dimensions of seed 000 §三(二) — are SQL over one row per case (store ``ef_case_facts``; docs/metrics.md,
"Appraisal by SQL"), not a walk over instances. Which processes are cases and where their facts are is the
``appraisal`` binding of settings.yaml (:class:`~efficacy_flow.policy.Appraisal`): this module turns a save —
its events, the ready rows it closed, the process data it wrote — into that row, in the save's transaction.

- **response** (签收, 响应率): the first completion of the binding's ``sign_task``, late when after the
  task's deadline; or the sign task's own timer firing (the ticket deemed signed, 视为签收), always late;
- **reply** (反馈): the first completion of ``reply_task``;
- **closing** (办结): the instance completed;
- **limits missed** (按时办结): each firing of a timer that counts by one of ``handling_limits``;
- **rating**: the process data's rating (first and latest), deemed when the ``rating_limit`` timer fired
  in the save and the requester's own when a message arrived or the ``rating_task`` (回访) was completed;
  **solved** likewise from the data;
- **dimensions**: the process data's unit, region, case type, category and sector; the month and ISO week it
  was received;
- **repeated** (重复诉求): the process data names an earlier case it repeats (``repeat_of``);
- **rating removed** (好差评 申诉复核): not by the case's own saves but by the completion of a review process
  (settings.yaml ``appraisal.reviews``) whose data says the appeal was upheld: the case it names (a business
  key, else an instance id) is marked in the review's transaction (:func:`reviewed_cases`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

from efficacy_flow.clock import CHINA_TZ
from efficacy_flow.engine._audit import Event
from efficacy_flow.policy import Appraisal
from efficacy_flow.store import CaseFactsRecord, InstanceRecord, TaskRecord

__all__ = ["FactsPlan", "ReviewPlan", "facts_of", "facts_plan", "review_plan", "reviewed_cases"]


@dataclass(frozen=True, slots=True)
class FactsPlan:
    """Where one deployment's cases keep their facts (from settings.yaml ``appraisal``)."""

    process_id: str
    sign_task: str | None
    reply_task: str | None
    #: Timer element ids that count by a handling limit, and the sign task's own timers.
    handling_timers: frozenset[str]
    sign_timers: frozenset[str]
    rating_timers: frozenset[str]
    rating_message: str | None
    rating_task: str | None
    #: Fact → process data variable.
    variables: Mapping[str, str]


def facts_plan(dep: Any, appraisal: Appraisal | None) -> FactsPlan | None:
    """The facts plan of a deployment (None: its process is not a case the figures count)."""
    if appraisal is None:
        return None
    binding = appraisal.processes.get(dep.process_id)
    if binding is None:
        return None
    limits: Mapping[str, str] = dep.timer_limits
    attachments: Mapping[str, str] = dep.timer_attachments
    handling = frozenset(t for t, name in limits.items() if name in binding.handling_limits)
    rating = frozenset(t for t, name in limits.items() if name == binding.rating_limit)
    signing = frozenset(t for t, task in attachments.items() if task == binding.sign_task)
    facts = ("unit", "region", "case_type", "category", "sector", "rating", "solved", "repeat_of")
    return FactsPlan(
        process_id=dep.process_id,
        sign_task=binding.sign_task,
        reply_task=binding.reply_task,
        handling_timers=handling,
        sign_timers=signing,
        rating_timers=rating,
        rating_message=binding.rating_message,
        rating_task=binding.rating_task,
        variables={fact: appraisal.variable(fact) for fact in facts},
    )


@dataclass(frozen=True, slots=True)
class ReviewPlan:
    """Where one deployment of a review process (好差评 申诉复核) names the rated case and says its 差评 is
    removed (settings.yaml ``appraisal.reviews``)."""

    process_id: str
    case_variable: str
    removed_variable: str


def review_plan(dep: Any, appraisal: Appraisal | None) -> ReviewPlan | None:
    """The review plan of a deployment (None: its process reviews no case's rating)."""
    binding = appraisal.reviews.get(dep.process_id) if appraisal is not None else None
    if binding is None:
        return None
    return ReviewPlan(dep.process_id, binding.case_variable, binding.removed_variable)


def reviewed_cases(plan: ReviewPlan, reader: Any, inst: InstanceRecord, data: bytes) -> list[str]:
    """The cases whose 差评 a completing review removes: none unless its data's ``removed_variable`` is true;
    else the instances carrying the business key its ``case_variable`` names (the review itself left out),
    or, when none does, the instance of that id."""
    values = orjson.loads(data)
    case = values.get(plan.case_variable)
    if values.get(plan.removed_variable) is not True or not isinstance(case, str) or not case:
        return []
    keyed = [i for i in reader.instance_ids_by_business_key(case) if i != inst.id]
    if keyed:
        return keyed
    return [case] if case != inst.id and reader.get_instance(case) is not None else []


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, bool):
        return None
    text = str(value)
    return text[:200] if text else None


def facts_of(
    plan: FactsPlan,
    inst: InstanceRecord,
    status: str,
    data: bytes,
    events: Sequence[Event],
    closed: Sequence[TaskRecord],
    completed_id: str | None,
    now: datetime,
) -> CaseFactsRecord:
    """The facts one save of a case contributes (merged into the stored row by the store's upsert)."""
    values = orjson.loads(data)
    variables = plan.variables
    signed_at: datetime | None = None
    sign_late: bool | None = None
    replied_at: datetime | None = None
    missed = 0
    defaulted: bool | None = None
    for row in closed:
        if row.id != completed_id:
            continue
        if row.element_id == plan.sign_task:
            signed_at, sign_late = now, row.due_at is not None and now > row.due_at
        if row.element_id == plan.reply_task:
            replied_at = now
        if row.element_id == plan.rating_task:
            defaulted = False  # the requester's own rating, given on the phone (回访)
    for kind, _actor, _before, after in events:
        if kind == "timer_fired" and isinstance(after, Mapping):
            element = after.get("element_id")
            if element in plan.handling_timers:
                missed += 1
            if element in plan.sign_timers and signed_at is None:
                signed_at, sign_late = now, True  # deemed signed when the window ran out (视为签收)
            if element in plan.rating_timers:
                defaulted = True
        elif kind == "message" and isinstance(after, Mapping) and after.get("message") == plan.rating_message:
            defaulted = False  # the requester's own rating
    rating = _text(values.get(variables["rating"]))
    solved = values.get(variables["solved"])
    received = inst.created_at
    local = received.astimezone(CHINA_TZ)
    iso = local.isocalendar()
    return CaseFactsRecord(
        instance_id=inst.id,
        process_id=inst.process_id,
        period=local.strftime("%Y-%m"),
        week=f"{iso[0]}-W{iso[1]:02d}",
        repeated=bool(values.get(variables["repeat_of"])) if variables["repeat_of"] in values else None,
        received_at=received,
        status=status,
        unit=_text(values.get(variables["unit"])),
        region=_text(values.get(variables["region"])),
        case_type=_text(values.get(variables["case_type"])),
        category=_text(values.get(variables["category"])),
        sector=_text(values.get(variables["sector"])),
        signed_at=signed_at,
        sign_late=sign_late,
        replied_at=replied_at,
        closed_at=now if status == "completed" and inst.status != "completed" else None,
        limits_missed=missed,
        first_rating=rating,
        rating=rating,
        rating_defaulted=defaulted if rating is not None else None,
        solved=solved if isinstance(solved, bool) else None,
        updated_at=now,
    )
