"""Per-unit indicators: 受理, 办结, 按时办结, 满意; 办结率, 按时办结率, 满意率 (seed 003 §二(四)).

Pure functions over :class:`~efficacy_flow.metrics.CaseRecord`; the formulas are in
:class:`~efficacy_flow.metrics.MetricsConfig`. Rates are exact fractions (``None`` where the denominator is
0), rounded only when shown.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any

from efficacy_flow.metrics._config import DEFAULT_METRICS_CONFIG, MetricsConfig
from efficacy_flow.metrics._records import CaseRecord, Rating

__all__ = [
    "TOTAL_LABEL",
    "UNASSIGNED_LABEL",
    "UnitIndicators",
    "counted_rating",
    "format_rate",
    "is_closed",
    "is_closed_on_time",
    "total_indicators",
    "unit_indicators",
]

#: The label of the row that sums every unit.
TOTAL_LABEL = "合计"
#: The unit label of cases that were never dispatched to a unit.
UNASSIGNED_LABEL = "（未派单）"


@dataclass(frozen=True, slots=True)
class UnitIndicators:
    """One handling unit's counts and rates.

    Attributes:
        unit: the handling unit (承办单位), or :data:`TOTAL_LABEL` for the sum.
        received: 受理 — cases of the unit.
        closed: 办结 — of those, closed (per ``closure_basis``).
        closed_on_time: 按时办结 — closed with no handling limit run out.
        rated: 参评 — with a counted rating (per ``rating_basis`` and ``count_defaulted_ratings``).
        satisfied: 满意 — rated with one of ``satisfied_ratings``.
        on_time_denominator: ``closed`` or ``received`` (from the config; fixes :attr:`on_time_rate`).
    """

    unit: str
    received: int
    closed: int
    closed_on_time: int
    rated: int
    satisfied: int
    on_time_denominator: str = "closed"

    @property
    def closure_rate(self) -> Fraction | None:
        """办结率 = 办结 / 受理; None when nothing was received."""
        return _ratio(self.closed, self.received)

    @property
    def on_time_rate(self) -> Fraction | None:
        """按时办结率 = 按时办结 / 办结 (or / 受理, per the config); None when the denominator is 0."""
        denominator = self.closed if self.on_time_denominator == "closed" else self.received
        return _ratio(self.closed_on_time, denominator)

    @property
    def satisfaction_rate(self) -> Fraction | None:
        """满意率 = 满意 / 参评; None when no case was rated."""
        return _ratio(self.satisfied, self.rated)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: the counts, and each rate as a ratio rounded to 4 places (None when undefined)."""
        return {
            "unit": self.unit,
            "received": self.received,
            "closed": self.closed,
            "closed_on_time": self.closed_on_time,
            "rated": self.rated,
            "satisfied": self.satisfied,
            "closure_rate": _float(self.closure_rate),
            "on_time_rate": _float(self.on_time_rate),
            "satisfaction_rate": _float(self.satisfaction_rate),
        }


def is_closed(record: CaseRecord, config: MetricsConfig = DEFAULT_METRICS_CONFIG) -> bool:
    """Whether the case counts as 办结 under ``config.closure_basis``."""
    if config.closure_basis == "replied":
        return record.replied_at is not None or record.closed_at is not None
    return record.closed_at is not None


def is_closed_on_time(record: CaseRecord, config: MetricsConfig = DEFAULT_METRICS_CONFIG) -> bool:
    """按时办结: closed, and no handling limit ran out on the way.

    An approved extension (延期, 安阳市政务服务条例 第五十条) moves the limit, so a case closed within the
    extended limit is on time; the requester's rating period and the unit's 24-hour return window are not
    handling limits.
    """
    return is_closed(record, config) and record.limits_missed == 0


def counted_rating(record: CaseRecord, config: MetricsConfig = DEFAULT_METRICS_CONFIG) -> Rating | None:
    """The rating that counts for 满意率 (first or final, per the config), or None if none counts — nor
    does a 差评 that 申诉复核 removed (``record.rating_removed``)."""
    ratings = [r for r in record.ratings if config.count_defaulted_ratings or not r.defaulted]
    if not ratings:
        return None
    rating = ratings[0] if config.rating_basis == "first" else ratings[-1]
    if record.rating_removed and rating.value in config.bad_ratings:
        return None
    return rating


def unit_indicators(
    records: Iterable[CaseRecord],
    config: MetricsConfig = DEFAULT_METRICS_CONFIG,
    *,
    process_id: str | None = None,
) -> tuple[UnitIndicators, ...]:
    """The indicators per handling unit, ordered by 受理 (most first), then unit name.

    Args:
        records: the cases; each counts once, for the unit it ended with.
        config: the formulas.
        process_id: count only the cases of this process (None: all).
    """
    counts: dict[str, list[int]] = {}
    for record in records:
        if process_id is not None and record.process_id != process_id:
            continue
        row = counts.setdefault(record.unit or UNASSIGNED_LABEL, [0, 0, 0, 0, 0])
        row[0] += 1
        if is_closed(record, config):
            row[1] += 1
            if record.limits_missed == 0:
                row[2] += 1
        rating = counted_rating(record, config)
        if rating is not None:
            row[3] += 1
            if rating.value in config.satisfied_ratings:
                row[4] += 1
    rows = [_row(unit, values, config) for unit, values in counts.items()]
    return tuple(sorted(rows, key=lambda r: (-r.received, r.unit)))


def total_indicators(
    rows: Iterable[UnitIndicators], config: MetricsConfig = DEFAULT_METRICS_CONFIG
) -> UnitIndicators:
    """The sum of every unit's counts (the 合计 row); its rates are computed from the sums, not averaged."""
    sums = [0, 0, 0, 0, 0]
    for row in rows:
        counts = (row.received, row.closed, row.closed_on_time, row.rated, row.satisfied)
        sums = [a + b for a, b in zip(sums, counts, strict=True)]
    return _row(TOTAL_LABEL, sums, config)


def _row(unit: str, counts: list[int], config: MetricsConfig) -> UnitIndicators:
    received, closed, on_time, rated, satisfied = counts
    return UnitIndicators(unit, received, closed, on_time, rated, satisfied, config.on_time_denominator)


def format_rate(rate: Fraction | None, places: int = 1) -> str:
    """A rate as a percentage rounded half up, as seed 003 prints it (``98.7%``); ``-`` when undefined."""
    if rate is None:
        return "-"
    percent = Decimal(rate.numerator * 100) / Decimal(rate.denominator)
    quantum = Decimal(1).scaleb(-places)
    return f"{percent.quantize(quantum, rounding=ROUND_HALF_UP)}%"


def _ratio(numerator: int, denominator: int) -> Fraction | None:
    return Fraction(numerator, denominator) if denominator else None


def _float(rate: Fraction | None) -> float | None:
    return None if rate is None else round(float(rate), 4)
