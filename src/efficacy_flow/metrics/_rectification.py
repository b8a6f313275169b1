"""From the figures to action (issue 14): units below the minimum standards get a rectification item on
the supervision ladder (整改), and units near the bottom of the ranking two months running get a formal talk
(约谈).

Both rules are a place's own ([local], kept as configurable defaults in :class:`Standards`): 满意率 at least
85 % and 回复率 at least 92 % (one city's 12345 appraisal rules), and a 约谈 after two months near the
bottom. 北京市接诉即办工作条例 第三十二条 makes the rates the core of appraisal; seed 003 §二(五) ranks units
and "对排名靠后的单位通报约谈". The rectification item is an instance of processes/supervision_ladder.bpmn
(the 督查 ladder of seed 000 §二(三)), started once per unit, figure and period (its business key), so
running the check again opens nothing twice.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction

from efficacy_flow.engine import Actor, Engine
from efficacy_flow.errors import DuplicateBusinessKey, InvalidInput
from efficacy_flow.metrics._appraisal import AppraisalRow
from efficacy_flow.metrics._indicators import format_rate

__all__ = [
    "DEFAULT_STANDARDS",
    "Shortfall",
    "Standards",
    "open_rectifications",
    "repeatedly_near_bottom",
    "shortfalls",
]


@dataclass(frozen=True, slots=True)
class Standards:
    """The minimum standards and the 约谈 rule (every value a named setting with its default and source).

    Attributes:
        satisfaction: the lowest 满意率 that needs no rectification (default 85 %).
        reply: the lowest 回复率 (replied / received) that needs no rectification (default 92 %).
        bottom: how many places from the bottom of a month's ranking count as "near the bottom" (default 3).
        months: how many months running near the bottom lead to a 约谈 (default 2).
        source: where these come from.
    """

    satisfaction: Fraction = Fraction(85, 100)
    reply: Fraction = Fraction(92, 100)
    bottom: int = 3
    months: int = 2
    source: str = (
        "[local] 满意率 ≥ 85%、回复率 ≥ 92% 为最低标准，低于者整改；连续两个月排名靠后的约谈"
        "（北京市接诉即办工作条例 第三十二条；003_e63eaf9f19ff150c.txt §二(五) 对排名靠后的单位通报约谈）"
    )

    def __post_init__(self) -> None:
        for name in ("satisfaction", "reply"):
            value = getattr(self, name)
            if not isinstance(value, Fraction | int) or not 0 <= value <= 1:
                raise InvalidInput(f"{name} must be a rate from 0 to 1", field=name, value=str(value))
        for name in ("bottom", "months"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise InvalidInput(f"{name} must be a whole number of at least 1", field=name, value=value)


DEFAULT_STANDARDS = Standards()
_FIGURES = {"satisfaction": ("满意率", "satisfaction_rate"), "reply": ("回复率", "reply_rate")}


@dataclass(frozen=True, slots=True)
class Shortfall:
    """A unit below a minimum standard: the figure (满意率, 回复率), its value and the standard."""

    unit: str
    figure: str
    value: Fraction
    standard: Fraction

    @property
    def finding(self) -> str:
        """The finding as the rectification item records it (Chinese)."""
        return f"{self.figure} {format_rate(self.value)}，低于最低标准 {format_rate(self.standard)}"


def shortfalls(rows: Sequence[AppraisalRow], standards: Standards = DEFAULT_STANDARDS) -> list[Shortfall]:
    """The units of ``rows`` (grouped by unit, :func:`appraise`) below a minimum standard; a rate without a
    denominator (nothing rated, nothing received) is no shortfall."""
    found = []
    for row in rows:
        unit = row.key.get("unit")
        if unit is None:
            continue
        for name, (label, attribute) in _FIGURES.items():
            value = getattr(row, attribute)
            standard = getattr(standards, name)
            if value is not None and value < standard:
                found.append(Shortfall(str(unit), label, value, standard))
    return found


def open_rectifications(
    engine: Engine,
    found: Sequence[Shortfall],
    period: str,
    actor: Actor,
    *,
    process_id: str = "supervision_ladder",
) -> list[str]:
    """Start a rectification item (整改) on the supervision ladder for each shortfall, once per unit, figure
    and ``period`` (e.g. ``2025-10``); return the ids of the items started (those already open are skipped).

    Raises:
        UnknownProcess, NotAuthorized, InvalidData: from :meth:`Engine.start` (the actor must be allowed to
            start the process: 效能督查员 or 效能办 in the shipped settings.yaml).
    """
    started = []
    for item in found:
        data = {"unit": item.unit, "finding": item.finding, "period": period}
        try:
            view = engine.start(
                process_id, data, actor, business_key=f"整改-{period}-{item.unit}-{item.figure}"
            )
        except DuplicateBusinessKey:
            continue
        started.append(view.id)
    return started


def repeatedly_near_bottom(
    monthly: Mapping[str, Sequence[tuple[int, AppraisalRow]]], standards: Standards = DEFAULT_STANDARDS
) -> list[str]:
    """The units near the bottom (the last ``standards.bottom`` places) of each of the last
    ``standards.months`` months of ``monthly`` (month → :func:`rank` of that month), which get a 约谈."""
    months = sorted(monthly)[-standards.months :]
    if len(months) < standards.months:
        return []
    near: list[set[str]] = []
    for month in months:
        ranked = monthly[month]
        # Near the bottom: ranked below all but the last `bottom` places (ties share the worse place).
        cut = len(ranked) - standards.bottom
        near.append({str(row.key.get("unit")) for n, row in ranked if n > cut})
    return sorted(set.intersection(*near))
