"""Appraisal figures by SQL over the store (issue 14): 响应率, 办结率, 按时办结率, 解决率, 满意率 and 差评率
per unit or by any dimension of seed 000 §三(二), and the cards and deductions of electronic supervision.

The counts are one ``GROUP BY`` over the facts the engine keeps per case (``ef_case_facts``, engine/_facts.py;
which processes are cases is settings.yaml ``appraisal``); the formulas are :class:`MetricsConfig`'s, as for
the per-instance indicators (:func:`unit_indicators`), which count the same cases the same way
(tests/metrics/test_appraisal.py compares the two over a simulated month). docs/metrics.md, "Appraisal by
SQL", gives every figure with its formula, default and source. A 差评 removed by 申诉复核 (好差评) is taken
out of its case's group by the same query: the case is not 参评, nor 差评.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from fractions import Fraction

from efficacy_flow.clock import CHINA_TZ
from efficacy_flow.engine import Engine
from efficacy_flow.errors import InvalidInput
from efficacy_flow.metrics._config import DEFAULT_METRICS_CONFIG, MetricsConfig
from efficacy_flow.metrics._inputs import aware_instant, name_list
from efficacy_flow.metrics._records import RATING_VALUES

__all__ = [
    "DIMENSION_LABELS",
    "AppraisalRow",
    "CardFigures",
    "appraise",
    "card_figures",
    "hot_spots",
    "rank",
    "weekly_cards",
]

#: The dimensions figures are counted by, with their labels (seed 000 §三(二); glossary).
DIMENSION_LABELS: Mapping[str, str] = {
    "unit": "承办单位",
    "region": "区域",
    "case_type": "类型",
    "category": "类别",
    "sector": "行业",
    "period": "月份",
    "week": "周",
    "process_id": "流程",
}


def _rate(part: int, whole: int) -> Fraction | None:
    return Fraction(part, whole) if whole else None


@dataclass(frozen=True, slots=True)
class AppraisalRow:
    """One group's counts and rates (``key``: dimension name → value, in the order asked for).

    Counts: 受理 ``received``; 响应 ``responded`` (of those, ``responded_on_time``: signed before the sign
    deadline); 办结 ``closed`` (per ``closure_basis``: the process completed, or the reply went out) and
    ``closed_on_time`` (no handling limit ran out); 参评 ``rated``, 满意 ``satisfied``, 差评 ``bad``;
    ``solved_answered`` (the requester said whether it was solved) and ``solved`` (said yes).
    """

    key: Mapping[str, str | None]
    received: int
    responded: int
    responded_on_time: int
    closed: int
    closed_on_time: int
    rated: int
    satisfied: int
    bad: int
    solved_answered: int
    solved: int
    on_time_denominator: str = "closed"
    #: 回复 — the reply to the requester went out (whatever ``closure_basis`` counts as 办结).
    replied: int = 0
    #: 重复诉求 — cases that repeat an earlier one (the process data names it, ``repeat_of``).
    repeats: int = 0

    @property
    def response_rate(self) -> Fraction | None:
        """响应率: responded on time / received."""
        return _rate(self.responded_on_time, self.received)

    @property
    def closure_rate(self) -> Fraction | None:
        """办结率: closed / received."""
        return _rate(self.closed, self.received)

    @property
    def repeat_rate(self) -> Fraction | None:
        """重复率: repeats / received."""
        return _rate(self.repeats, self.received)

    @property
    def reply_rate(self) -> Fraction | None:
        """回复率: replied / received."""
        return _rate(self.replied, self.received)

    @property
    def on_time_rate(self) -> Fraction | None:
        """按时办结率: closed on time / closed (or / received, per the config)."""
        whole = self.closed if self.on_time_denominator == "closed" else self.received
        return _rate(self.closed_on_time, whole)

    @property
    def solution_rate(self) -> Fraction | None:
        """解决率: said solved / said whether it was solved."""
        return _rate(self.solved, self.solved_answered)

    @property
    def satisfaction_rate(self) -> Fraction | None:
        """满意率: satisfied / rated."""
        return _rate(self.satisfied, self.rated)

    @property
    def bad_rate(self) -> Fraction | None:
        """差评率: bad / rated."""
        return _rate(self.bad, self.rated)


def appraise(
    engine: Engine,
    since: datetime,
    until: datetime,
    *,
    by: Sequence[str] = ("unit",),
    process_id: str | None = None,
    config: MetricsConfig = DEFAULT_METRICS_CONFIG,
    keep_removed: bool = False,
) -> list[AppraisalRow]:
    """The appraisal figures of the cases received in [``since``, ``until``), cancelled ones left out, one
    row per group of ``by`` (of :data:`DIMENSION_LABELS`; empty: one row for all), in the groups' order.

    A case whose counted rating is a 差评 that 申诉复核 removed (好差评: the engine marks its facts when the
    review completes, settings.yaml ``appraisal.reviews``) counts as neither 参评 nor 差评;
    ``keep_removed`` counts every rating as given (what the figures were before the appeals).

    Raises:
        InvalidInput: an unknown dimension. NaiveDatetime: ``since`` or ``until`` without a time zone.
    """
    start, end = aware_instant(since, "since"), aware_instant(until, "until")
    dims = name_list(by, "dimensions")
    with engine.store.read() as reader:
        counts = reader.appraisal(
            start,
            end,
            by=dims,
            process_id=process_id,
            satisfied=[r for r in RATING_VALUES if r in config.satisfied_ratings],
            bad=[r for r in RATING_VALUES if r in config.bad_ratings],
            count_defaulted=config.count_defaulted_ratings,
            first_rating=config.rating_basis == "first",
        )
    replied = config.closure_basis == "replied"
    return [
        AppraisalRow(
            key=dict(zip(dims, c.key, strict=True)),
            received=c.received,
            responded=c.responded,
            responded_on_time=c.responded_on_time,
            closed=c.replied if replied else c.completed,
            closed_on_time=c.replied_on_time if replied else c.completed_on_time,
            rated=c.rated + c.removed if keep_removed else c.rated,
            satisfied=c.satisfied,
            bad=c.bad + c.removed if keep_removed else c.bad,
            solved_answered=c.solved_answered,
            solved=c.solved,
            on_time_denominator=config.on_time_denominator,
            replied=c.replied,
            repeats=c.repeats,
        )
        for c in counts
    ]


@dataclass(frozen=True, slots=True)
class CardFigures:
    """A unit's cards of electronic supervision in a period: how many of each level, and the deductions."""

    unit: str | None
    warnings: int
    yellow: int
    red: int
    deduction: float


def card_figures(engine: Engine, since: datetime, until: datetime) -> list[CardFigures]:
    """The cards issued in [``since``, ``until``) per unit (most deducted first, then by unit): counts per
    level and the deductions the card rules gave (processes/card_rules.dmn).

    Raises:
        NaiveDatetime: ``since`` or ``until`` without a time zone.
    """
    start, end = aware_instant(since, "since"), aware_instant(until, "until")
    with engine.store.read() as reader:
        counts = reader.card_counts(start, end)
    by_unit: dict[str | None, dict[str, float]] = {}
    for unit, level, count, deduction in counts:
        found = by_unit.setdefault(unit, {"warning": 0, "yellow": 0, "red": 0, "deduction": 0.0})
        found[level] += count
        found["deduction"] += deduction
    rows = [
        CardFigures(unit, int(v["warning"]), int(v["yellow"]), int(v["red"]), float(v["deduction"]))
        for unit, v in by_unit.items()
    ]
    rows.sort(key=lambda r: (-r.deduction, -r.red, -r.yellow, r.unit or ""))
    return rows


def weekly_cards(engine: Engine, since: datetime, until: datetime) -> list[tuple[str, CardFigures]]:
    """The cards per ISO week (China time, weeks clipped to [``since``, ``until``)) and unit, as
    ``(week, figures)`` in week order, then as :func:`card_figures` orders units; one ``GROUP BY`` per week.

    Raises:
        NaiveDatetime: ``since`` or ``until`` without a time zone.
    """
    start, end = aware_instant(since, "since"), aware_instant(until, "until")
    found: list[tuple[str, CardFigures]] = []
    local = start.astimezone(CHINA_TZ)
    monday = datetime.combine(local.date() - timedelta(days=local.weekday()), time(), CHINA_TZ)
    while monday < end:
        following = monday + timedelta(days=7)
        year, week, _ = monday.isocalendar()
        for figures in card_figures(engine, max(monday, start), min(following, end)):
            found.append((f"{year}-W{week:02d}", figures))
        monday = following
    return found


def hot_spots(
    engine: Engine,
    since: datetime,
    until: datetime,
    *,
    top: int = 10,
    by: str = "category",
    config: MetricsConfig = DEFAULT_METRICS_CONFIG,
) -> list[AppraisalRow]:
    """热点难点 (seed 000 §三(二)): the ``top`` groups of ``by`` (default the category) with the most cases
    received in [``since``, ``until``), then the highest repeat rate (重复诉求), then by name; groups without
    a value are left out.

    Raises:
        InvalidInput: ``top`` not a whole number from 1, an unknown dimension. NaiveDatetime: a naive bound.
    """
    if isinstance(top, bool) or not isinstance(top, int) or top < 1:
        raise InvalidInput("top must be a whole number of at least 1", argument="top")
    if not isinstance(by, str):
        raise InvalidInput("by must be one dimension's name", argument="by")
    rows = [r for r in appraise(engine, since, until, by=(by,), config=config) if r.key.get(by) is not None]
    rows.sort(key=lambda r: (-r.received, -(r.repeat_rate or 0), str(r.key.get(by))))
    return rows[:top]


def rank(
    rows: Sequence[AppraisalRow], *, by: Sequence[str] = ("satisfaction", "on_time", "closure")
) -> list[tuple[int, AppraisalRow]]:
    """Rank groups (seed 003 §二(五): by 办理结果、办理速度、好评率) by the rates named in ``by``, in order
    (``satisfaction``, ``on_time``, ``closure``, ``response``, ``solution``), highest first; a group without a
    rate ranks after those with one; equal groups share a rank. Returns (rank, row) pairs.

    Raises:
        InvalidInput: an unknown rate name.
    """
    rates = {
        "satisfaction": lambda r: r.satisfaction_rate,
        "on_time": lambda r: r.on_time_rate,
        "closure": lambda r: r.closure_rate,
        "response": lambda r: r.response_rate,
        "solution": lambda r: r.solution_rate,
    }
    names = name_list(by, "rate names")
    unknown = [name for name in names if name not in rates]
    if unknown:
        raise InvalidInput(f"unknown rates to rank by: {', '.join(unknown)}", argument="by")

    def score(row: AppraisalRow) -> tuple[tuple[int, Fraction], ...]:
        out = []
        for name in names:
            value = rates[name](row)
            out.append((0, -value) if value is not None else (1, Fraction(0)))
        return tuple(out)

    ordered = sorted(rows, key=lambda r: (score(r), str(sorted(r.key.items()))))
    ranked: list[tuple[int, AppraisalRow]] = []
    for i, row in enumerate(ordered):
        same = ranked and score(ranked[-1][1]) == score(row)
        ranked.append((ranked[-1][0] if same else i + 1, row))
    return ranked
