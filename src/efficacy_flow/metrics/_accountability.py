"""Accountability outcomes: decisions by kind, 效能告诫 per person and unit, and their consequences.

The consequences follow 001_a86978e3ab2b148c.txt §四(五): a person admonished once in the year
cannot be graded above 基本称职, twice or more is graded 不称职; an admonished unit is publicly criticised
(通报批评) and loses the year's honours (取消评优评先). The process computes them with the
admonition_consequence decision table at the time of each decision; this module counts and gathers them, so
the table stays the one place the rule lives.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from dateutil.relativedelta import relativedelta

from efficacy_flow.clock import CHINA_TZ
from efficacy_flow.errors import DecisionError, NaiveDatetime
from efficacy_flow.metrics._config import DEFAULT_METRICS_CONFIG, MetricsConfig, YearBasis
from efficacy_flow.metrics._records import DECISION_VALUES, AccountabilityRecord
from efficacy_flow.policy import Decisions

__all__ = [
    "PERSON_DECISION",
    "UNIT_DECISION",
    "AccountabilityOutcomes",
    "PersonOutcome",
    "UnitOutcome",
    "accountability_outcomes",
    "admonitions_in_year",
    "in_admonition_year",
]


#: The decision table of a person's admonition consequences (processes/admonition_consequence.dmn).
PERSON_DECISION = "admonition_consequence"
#: The decision table of a unit's admonition consequences (same file).
UNIT_DECISION = "unit_admonition_consequence"


@dataclass(frozen=True, slots=True)
class PersonOutcome:
    """A person admonished in the year.

    Attributes:
        name: the person.
        unit: their unit.
        admonitions: 效能告诫 decisions about them in the year.
        grade_cap: the cap the latest admonition's decision table gave (基本称职 or 不称职).
    """

    name: str
    unit: str | None
    admonitions: int
    grade_cap: str | None


@dataclass(frozen=True, slots=True)
class UnitOutcome:
    """A unit with admonitions in the year.

    Attributes:
        unit: the unit.
        staff_admonitions: 效能告诫 of its people.
        unit_admonitions: 效能告诫 of the unit itself.
        public_criticism: 通报批评 was ordered by one of the admonitions' decision tables.
        honours_revoked: the year's 评优评先 was revoked by one of them.
    """

    unit: str
    staff_admonitions: int
    unit_admonitions: int
    public_criticism: bool
    honours_revoked: bool


@dataclass(frozen=True, slots=True)
class AccountabilityOutcomes:
    """Everything the accountability cases of a period produced.

    Attributes:
        cases: accountability cases opened.
        decisions: decided cases by decision (every kind listed, zeros included, in the order of 001 §五(五)).
        pending: cases not decided yet.
        persons: admonished persons, most admonitions first.
        units: units with admonitions, most first.
    """

    cases: int
    decisions: tuple[tuple[str, int], ...]
    pending: int
    persons: tuple[PersonOutcome, ...]
    units: tuple[UnitOutcome, ...]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "cases": self.cases,
            "decisions": dict(self.decisions),
            "pending": self.pending,
            "persons": [
                {"name": p.name, "unit": p.unit, "admonitions": p.admonitions, "grade_cap": p.grade_cap}
                for p in self.persons
            ],
            "units": [
                {
                    "unit": u.unit,
                    "staff_admonitions": u.staff_admonitions,
                    "unit_admonitions": u.unit_admonitions,
                    "public_criticism": u.public_criticism,
                    "honours_revoked": u.honours_revoked,
                }
                for u in self.units
            ],
        }


def in_admonition_year(decided_at: datetime, as_of: datetime, basis: YearBasis = "calendar") -> bool:
    """Whether a decision at ``decided_at`` falls in the year that ends at ``as_of``.

    ``calendar``: the calendar year of ``as_of`` in China time, up to ``as_of`` — [1 January, as_of].
    ``rolling_12_months``: (as_of − 12 months, as_of].

    Raises:
        NaiveDatetime: either instant lacks a time zone.
    """
    for name, value in (("decided_at", decided_at), ("as_of", as_of)):
        if value.tzinfo is None or value.utcoffset() is None:
            raise NaiveDatetime(f"{name} must be timezone-aware", field=name, value=value)
    if decided_at > as_of:
        return False
    if basis == "calendar":
        return decided_at.astimezone(CHINA_TZ).year == as_of.astimezone(CHINA_TZ).year
    start = as_of.astimezone(CHINA_TZ) - relativedelta(months=12)
    return decided_at > start


def admonitions_in_year(
    records: Iterable[AccountabilityRecord],
    subject_type: str,
    subject_name: str,
    as_of: datetime,
    basis: YearBasis = "calendar",
) -> int:
    """How many 效能告诫 the subject received in the year ending at ``as_of`` (:func:`in_admonition_year`).

    The host passes this as ``admonitions_this_year`` when it opens the subject's next accountability case.
    """
    return sum(
        1
        for r in records
        if r.is_admonition
        and r.subject_type == subject_type
        and r.subject_name == subject_name
        and r.decided_at is not None
        and in_admonition_year(r.decided_at, as_of, basis)
    )


def accountability_outcomes(
    records: Iterable[AccountabilityRecord],
    as_of: datetime,
    config: MetricsConfig = DEFAULT_METRICS_CONFIG,
    *,
    decisions: Decisions | None = None,
) -> AccountabilityOutcomes:
    """Count the decisions, and gather admonitions per person and unit in the year ending at ``as_of``.

    Cases opened after ``as_of`` are ignored; decisions after it count as pending.

    Args:
        records: the accountability cases.
        as_of: the end of the reporting period.
        config: ``admonition_year`` says which year counts.
        decisions: when given, each person's grade cap (:data:`PERSON_DECISION`) and each unit's 通报批评 /
            评优评先 (:data:`UNIT_DECISION`, or the person table where a jurisdiction has one table for both)
            are decided again with the year's full count. Without it they are taken from
            the records, as the process decided them — which undercounts when two cases about one person ran
            at the same time (each started with the count known then).

    Raises:
        DecisionError: ``decisions`` lacks the tables, or a table refuses a count.
    """
    cases = [r for r in records if r.opened_at <= as_of]
    by_decision = dict.fromkeys(DECISION_VALUES, 0)
    pending = 0
    persons: dict[tuple[str, str | None], list[AccountabilityRecord]] = {}
    units: dict[str, list[AccountabilityRecord]] = {}
    for record in cases:
        if record.decision is None or record.decided_at is None or record.decided_at > as_of:
            pending += 1
            continue
        by_decision[record.decision] += 1
        if not record.is_admonition or not in_admonition_year(
            record.decided_at, as_of, config.admonition_year
        ):
            continue
        unit = record.unit if record.subject_type == "个人" else (record.unit or record.subject_name)
        if record.subject_type == "个人":
            persons.setdefault((record.subject_name, record.unit), []).append(record)
        if unit is not None:
            units.setdefault(unit, []).append(record)
    person_rows = []
    for (name, unit), admonitions in persons.items():
        latest = max(admonitions, key=lambda r: (r.decided_at, r.instance_id))
        grade_cap = latest.grade_cap
        if decisions is not None:
            grade_cap = _consequence(decisions, PERSON_DECISION, "个人", len(admonitions)).get("grade_cap")
        person_rows.append(PersonOutcome(name, unit, len(admonitions), grade_cap))
    unit_rows = []
    for unit, admonitions in units.items():
        own = [r for r in admonitions if r.subject_type == "单位"]
        # The decision table says which admonitions carry these (today: the unit's own).
        criticism = any(r.public_criticism for r in admonitions)
        revoked = any(r.honours_revoked for r in admonitions)
        if decisions is not None and own:
            table = UNIT_DECISION if UNIT_DECISION in decisions else PERSON_DECISION
            result = _consequence(decisions, table, "单位", len(own))
            criticism, revoked = bool(result.get("public_criticism")), bool(result.get("honours_revoked"))
        elif decisions is not None:
            criticism = revoked = False
        unit_rows.append(
            UnitOutcome(
                unit=unit,
                staff_admonitions=len(admonitions) - len(own),
                unit_admonitions=len(own),
                public_criticism=criticism,
                honours_revoked=revoked,
            )
        )
    return AccountabilityOutcomes(
        cases=len(cases),
        decisions=tuple(by_decision.items()),
        pending=pending,
        persons=tuple(sorted(person_rows, key=lambda p: (-p.admonitions, p.unit or "", p.name))),
        units=tuple(sorted(unit_rows, key=lambda u: (-(u.staff_admonitions + u.unit_admonitions), u.unit))),
    )


def _consequence(decisions: Decisions, table: str, subject_type: str, count: int) -> dict[str, Any]:
    result = decisions.decide(table, {"subject_type": subject_type, "admonitions_this_year": count})
    if not isinstance(result, dict):
        raise DecisionError(f"{table} must be a single-hit decision", decision=table)
    return result
