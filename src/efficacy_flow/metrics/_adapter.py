"""Build metrics records from an engine's instances and audit history (public engine API only).

Which element of a process means "a limit ran out", "a reply went out" or "a rating came in" is a property of
the process model, so it is stated here per process (:class:`CaseProcess`, :class:`AccountabilityProcess`),
with the bindings of the processes in ``processes/`` as defaults (docs/processes.md). A jurisdiction that
renames an element passes its own binding.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from efficacy_flow.engine import Actor, AuditEvent, Engine, InstanceView
from efficacy_flow.metrics._records import RATING_VALUES, AccountabilityRecord, CaseRecord, Rating

__all__ = [
    "ACCOUNTABILITY",
    "COMPLAINT_CLOSURE",
    "DEFAULT_CASE_PROCESSES",
    "WINDOW_ESCALATION",
    "AccountabilityProcess",
    "CaseProcess",
    "Records",
    "accountability_record",
    "case_record",
    "collect_records",
]


@dataclass(frozen=True, slots=True)
class CaseProcess:
    """Where a case process keeps the facts of a :class:`~efficacy_flow.metrics.CaseRecord`.

    Attributes:
        process_id: the process.
        limit_timers: ids of the interrupting boundary timers that mark a handling limit run out (逾期).
        reply_task: the user task whose completion is the reply to the requester (反馈), if any.
        rating_message: the message that carries a ``rating``, if any.
        rating_task: the user task whose completion data carries the requester's ``rating`` (回访), if any.
        rating_timeout_timer: the timer whose firing records the default rating (its value is the process
            variable ``default_rating``), if any.
        unit_variable: the process variable holding the handling unit.
        rework_variable: the process variable counting reworks.
        accountability_variable: the process variable set when accountability is requested.
    """

    process_id: str
    limit_timers: frozenset[str] = frozenset()
    reply_task: str | None = None
    rating_message: str | None = None
    rating_task: str | None = None
    rating_timeout_timer: str | None = None
    unit_variable: str = "unit"
    rework_variable: str = "rework_count"
    accountability_variable: str = "accountability_requested"


@dataclass(frozen=True, slots=True)
class AccountabilityProcess:
    """Where the accountability process keeps the facts of an :class:`AccountabilityRecord`.

    Attributes:
        process_id: the process.
        decide_task: the user task whose completion is the decision (作出处理决定).
    """

    process_id: str = "accountability"
    decide_task: str = "Task_Decide"


#: complaint_closure: 办理时限届满 is the only handling limit (济南市12345市民服务热线条例 第二十四条);
#: the return window (视为签收) and the rating period (默认评价) are not the unit's handling time.
COMPLAINT_CLOSURE = CaseProcess(
    process_id="complaint_closure",
    limit_timers=frozenset({"Timer_HandlingLimit"}),
    reply_task="Task_Reply",
    rating_message="rating",
    rating_task="Task_Callback",
    rating_timeout_timer="Timer_RatingPeriod",
)
#: window_escalation: the 3, 5 and +10 working-day limits of 003_e63eaf9f19ff150c.txt §三.
WINDOW_ESCALATION = CaseProcess(
    process_id="window_escalation",
    limit_timers=frozenset({"Timer_CoordinationLimit", "Timer_ConferenceLimit", "Timer_ComplexLimit"}),
)
#: The accountability process of processes/accountability.bpmn.
ACCOUNTABILITY = AccountabilityProcess()
#: The case processes of processes/, by id.
DEFAULT_CASE_PROCESSES: Mapping[str, CaseProcess] = {
    p.process_id: p for p in (COMPLAINT_CLOSURE, WINDOW_ESCALATION)
}


@dataclass(frozen=True, slots=True)
class Records:
    """The records collected from an engine: cases and accountability cases, in the order of the ids given."""

    cases: tuple[CaseRecord, ...] = ()
    accountability: tuple[AccountabilityRecord, ...] = ()
    skipped: tuple[str, ...] = field(default=())
    #: Cancelled instances (撤销/作废) left out of the records (``count_cancelled=False``, the default).
    cancelled: tuple[str, ...] = field(default=())


def case_record(
    instance: InstanceView,
    history: Iterable[AuditEvent],
    binding: CaseProcess,
    *,
    rating_removed: bool = False,
) -> CaseRecord:
    """The case record of one instance, from its view and its audit history (oldest first);
    ``rating_removed``: 申诉复核 removed its 差评 (the case's facts say so, settings.yaml
    ``appraisal.reviews``)."""
    data = instance.data
    replied_at: datetime | None = None
    closed_at: datetime | None = None
    limits_missed = 0
    ratings: list[Rating] = []
    for event in history:
        after = event.after if isinstance(event.after, Mapping) else {}
        if event.kind == "task_completed" and after.get("element_id") == binding.reply_task:
            replied_at = replied_at or event.at
        elif event.kind == "task_completed" and after.get("element_id") == binding.rating_task:
            values = after.get("data")
            value = values.get("rating") if isinstance(values, Mapping) else None
            if value in RATING_VALUES:
                ratings.append(Rating(str(value), event.at))
        elif event.kind == "timer_fired":
            element = after.get("element_id")
            if element in binding.limit_timers:
                limits_missed += 1
            elif element is not None and element == binding.rating_timeout_timer:
                default = data.get("default_rating")
                if default in RATING_VALUES:
                    ratings.append(Rating(str(default), event.at, defaulted=True))
        elif event.kind == "message" and after.get("message") == binding.rating_message:
            payload = after.get("payload")
            value = payload.get("rating") if isinstance(payload, Mapping) else None
            if value in RATING_VALUES:
                ratings.append(Rating(str(value), event.at))
        elif event.kind == "instance_completed":
            closed_at = event.at
    if closed_at is None and instance.status in ("completed", "cancelled"):
        closed_at = instance.updated_at
    unit = data.get(binding.unit_variable)
    return CaseRecord(
        instance_id=instance.id,
        process_id=instance.process_id,
        unit=str(unit) if unit else None,
        received_at=instance.created_at,
        replied_at=replied_at,
        closed_at=closed_at,
        limits_missed=limits_missed,
        ratings=tuple(ratings),
        reworks=_int(data.get(binding.rework_variable)),
        accountability_requested=bool(data.get(binding.accountability_variable)),
        rating_removed=rating_removed,
    )


def accountability_record(
    instance: InstanceView, history: Iterable[AuditEvent], binding: AccountabilityProcess = ACCOUNTABILITY
) -> AccountabilityRecord:
    """The accountability record of one instance, from its view and its audit history (oldest first)."""
    data = instance.data
    decided_at: datetime | None = None
    closed_at: datetime | None = None
    for event in history:
        after = event.after if isinstance(event.after, Mapping) else {}
        if event.kind == "task_completed" and after.get("element_id") == binding.decide_task:
            decided_at = event.at
        elif event.kind == "instance_completed":
            closed_at = event.at
    decision = data.get("decision") if decided_at is not None else None
    admonished = decision == "效能告诫"
    unit = data.get("unit")
    origin = data.get("origin_instance")
    return AccountabilityRecord(
        instance_id=instance.id,
        subject_type=str(data.get("subject_type")),
        subject_name=str(data.get("subject_name")),
        unit=str(unit) if unit else None,
        opened_at=instance.created_at,
        decision=str(decision) if decision is not None else None,
        decided_at=decided_at if decision is not None else None,
        admonitions_this_year=_int(data.get("admonitions_this_year")) if admonished else None,
        grade_cap=str(data["grade_cap"]) if admonished and data.get("grade_cap") else None,
        public_criticism=admonished and bool(data.get("public_criticism")),
        honours_revoked=admonished and bool(data.get("honours_revoked")),
        origin_instance=str(origin) if origin else None,
        closed_at=closed_at,
    )


def collect_records(
    engine: Engine,
    instance_ids: Iterable[str],
    *,
    case_processes: Mapping[str, CaseProcess] = DEFAULT_CASE_PROCESSES,
    accountability: AccountabilityProcess = ACCOUNTABILITY,
    count_cancelled: bool = False,
    reader: Actor | None = None,
    keep_removed: bool = False,
) -> Records:
    """Read each instance (``engine.instance``) and its history (``engine.history``) into records.

    ``reader``: who reads. The engine masks personal data unless an actor it lets ``read_unmasked`` (the
    效能办 in the shipped settings.yaml) reads it, audited per instance; without a reader the records carry
    masked names (王*), so per-person accountability figures would merge people whose masked names agree —
    pass the office's actor for reports that name persons.

    The host passes the ids it started (or lists them with ``engine.instances``). Instances of a process with
    no binding are listed in ``skipped``. A cancelled instance (a voided duplicate or invalid ticket) is no
    case the units handled: it is listed in ``cancelled`` and counted nowhere, unless ``count_cancelled``
    (a named setting for a centre that reports voided tickets as received and closed) records it as a case
    closed when it was cancelled. A 差评 that 申诉复核 removed (好差评: the engine marks the case's facts when
    the review completes) is not counted, unless ``keep_removed``; review instances, if passed, are skipped.

    Raises:
        UnknownInstance: an id the engine does not know.
    """
    cases: list[CaseRecord] = []
    cases_of_accountability: list[AccountabilityRecord] = []
    skipped: list[str] = []
    cancelled: list[str] = []
    ids = list(instance_ids)
    removed: set[str] = set()
    if not keep_removed:
        with engine.store.read() as facts:
            removed = {i for i in ids if (row := facts.case_facts(i)) is not None and row.rating_removed}
    for instance_id in ids:
        instance = (
            engine.instance(instance_id, unmasked=True, actor=reader)
            if reader is not None
            else engine.instance(instance_id)
        )
        if instance.status == "cancelled" and not count_cancelled:
            cancelled.append(instance_id)
            continue
        binding = case_processes.get(instance.process_id)
        if binding is not None:
            history = engine.history(instance_id)
            cases.append(case_record(instance, history, binding, rating_removed=instance_id in removed))
        elif instance.process_id == accountability.process_id:
            cases_of_accountability.append(
                accountability_record(instance, engine.history(instance_id), accountability)
            )
        else:
            skipped.append(instance_id)
    return Records(tuple(cases), tuple(cases_of_accountability), tuple(skipped), tuple(cancelled))


def _int(value: Any) -> int:
    try:
        return max(int(value), 0)
    except (TypeError, ValueError):
        return 0
