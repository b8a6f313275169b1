"""Plain records the indicators are computed from: one per case, one per accountability case.

The records hold facts only (when a case was received, whether a limit ran out, which ratings it got); what
counts as 办结, 按时办结 or 满意 is decided by :class:`~efficacy_flow.metrics.MetricsConfig`, so the same
records give the figures of any jurisdiction's formulas. Build them by hand (tests, imports from another
system) or from an engine with :func:`~efficacy_flow.metrics.collect_records`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from efficacy_flow.errors import InvalidInput, NaiveDatetime

__all__ = ["AccountabilityRecord", "CaseRecord", "Rating"]

#: The ratings a requester can give (schemas.yaml, message ``rating``).
RATING_VALUES = ("非常满意", "满意", "基本满意", "不满意", "非常不满意")
#: The decisions of an accountability case (001_a86978e3ab2b148c.txt §五(五); schemas.yaml, Task_Decide).
DECISION_VALUES = ("不予追究", "监察建议", "效能告诫", "组织处理", "立案查处")
#: Who an accountability case is about.
SUBJECT_TYPES = ("个人", "单位")


def _aware(name: str, value: datetime | None) -> None:
    if value is not None and (value.tzinfo is None or value.utcoffset() is None):
        raise NaiveDatetime(
            f"{name} must be timezone-aware, got {value.isoformat()}", field=name, value=value
        )


@dataclass(frozen=True, slots=True)
class Rating:
    """One rating of a reply (回访评价).

    Attributes:
        value: 满意, 基本满意 or 不满意.
        at: when it was given (or deemed given).
        defaulted: True when nobody rated within the rating period and the process recorded its default
            rating (settings.yaml ``default_rating``); such a rating closes the ticket but is not the
            requester's opinion.
    """

    value: str
    at: datetime
    defaulted: bool = False

    def __post_init__(self) -> None:
        if self.value not in RATING_VALUES:
            raise InvalidInput(
                f"rating {self.value!r} is not one of {', '.join(RATING_VALUES)}",
                field="value",
                value=self.value,
            )
        _aware("at", self.at)


@dataclass(frozen=True, slots=True)
class CaseRecord:
    """The facts of one case handled by a unit: a 12345 ticket or a "办不成事" window case.

    Attributes:
        instance_id: the engine instance (or any unique id).
        process_id: ``complaint_closure``, ``window_escalation``, ... (indicators can be filtered by it).
        unit: the handling unit (承办单位) the case ended with — a ticket re-dispatched after a return or a
            rework counts for the last unit it was sent to; None if it was never dispatched.
        received_at: when the case was registered (受理).
        replied_at: when the first reply went to the requester (反馈), None if none yet.
        closed_at: when the case was closed (办结: the process reached its end), None while open.
        limits_missed: how many handling time limits ran out (interrupting limit timers that fired: 逾期).
        ratings: the ratings in the order given (a reworked ticket has several).
        reworks: how many times it went back to the unit after a 不满意 rating (重办).
        accountability_requested: the process asked for an accountability case (提请效能问责).
        rating_removed: 申诉复核 removed its 差评 (好差评, processes/good_bad_review.bpmn): a counted rating
            that is a 差评 then does not count (:func:`~efficacy_flow.metrics.counted_rating`).
    """

    instance_id: str
    process_id: str
    unit: str | None
    received_at: datetime
    replied_at: datetime | None = None
    closed_at: datetime | None = None
    limits_missed: int = 0
    ratings: tuple[Rating, ...] = ()
    reworks: int = 0
    accountability_requested: bool = False
    rating_removed: bool = False

    def __post_init__(self) -> None:
        for name in ("received_at", "replied_at", "closed_at"):
            _aware(name, getattr(self, name))
        if self.limits_missed < 0 or self.reworks < 0:
            raise InvalidInput(
                f"case {self.instance_id}: counts cannot be negative",
                instance_id=self.instance_id,
                limits_missed=self.limits_missed,
                reworks=self.reworks,
            )
        if self.closed_at is not None and self.closed_at < self.received_at:
            raise InvalidInput(
                f"case {self.instance_id} is closed before it was received",
                instance_id=self.instance_id,
                received_at=self.received_at,
                closed_at=self.closed_at,
            )

    @property
    def is_closed(self) -> bool:
        """True once the process reached its end (办结)."""
        return self.closed_at is not None


@dataclass(frozen=True, slots=True)
class AccountabilityRecord:
    """The facts of one accountability case (效能告诫与问责, 001_a86978e3ab2b148c.txt §四(五), §五(五)).

    Attributes:
        instance_id: the engine instance (or any unique id).
        subject_type: 个人 or 单位.
        subject_name: the person or unit held to account.
        unit: the unit the subject belongs to (for a unit, the unit itself).
        opened_at: when the clue was registered.
        decision: 不予追究, 监察建议, 效能告诫, 组织处理 or 立案查处; None while undecided.
        decided_at: when the decision was made; None while undecided.
        admonitions_this_year: the subject's admonitions in "the year", this one included, as the process
            counted them (None unless the decision is 效能告诫).
        grade_cap: the appraisal-grade cap the admonition_consequence table gave (基本称职, 不称职), or None.
        public_criticism: the table ordered 通报批评.
        honours_revoked: the table revoked the year's eligibility for honours (取消评优评先).
        origin_instance: the ticket or window case that led to it, if any.
        closed_at: when the case was closed (结案), None while open.
    """

    instance_id: str
    subject_type: str
    subject_name: str
    unit: str | None
    opened_at: datetime
    decision: str | None = None
    decided_at: datetime | None = None
    admonitions_this_year: int | None = None
    grade_cap: str | None = None
    public_criticism: bool = False
    honours_revoked: bool = False
    origin_instance: str | None = None
    closed_at: datetime | None = None

    def __post_init__(self) -> None:
        for name in ("opened_at", "decided_at", "closed_at"):
            _aware(name, getattr(self, name))
        if self.subject_type not in SUBJECT_TYPES:
            raise InvalidInput(
                f"case {self.instance_id}: subject_type {self.subject_type!r} is not 个人 or 单位",
                instance_id=self.instance_id,
                subject_type=self.subject_type,
            )
        if self.decision is not None and self.decision not in DECISION_VALUES:
            raise InvalidInput(
                f"accountability case {self.instance_id}: decision {self.decision!r} is not one of "
                f"{', '.join(DECISION_VALUES)}",
                instance_id=self.instance_id,
                decision=self.decision,
            )
        if (self.decision is None) != (self.decided_at is None):
            raise InvalidInput(
                f"accountability case {self.instance_id}: a decision needs its time and a time its decision",
                instance_id=self.instance_id,
                decision=self.decision,
                decided_at=self.decided_at,
            )

    @property
    def is_admonition(self) -> bool:
        """True when the decision is 效能告诫."""
        return self.decision == "效能告诫"
