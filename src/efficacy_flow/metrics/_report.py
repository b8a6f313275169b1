"""Plain-text reports with Chinese headings, aligned for terminals where CJK characters take two columns."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

from efficacy_flow.metrics._accountability import AccountabilityOutcomes
from efficacy_flow.metrics._indicators import UnitIndicators, format_rate

__all__ = [
    "INDICATOR_HEADINGS",
    "display_width",
    "render_accountability",
    "render_indicators",
    "render_table",
]

#: The headings of the per-unit table, in order.
INDICATOR_HEADINGS = ("承办单位", "受理", "办结", "按时办结", "满意", "办结率", "按时办结率", "满意率")


def display_width(text: str) -> int:
    """Columns ``text`` takes in a terminal: wide and full-width characters (East Asian W/F) take two."""
    width = 0
    for char in text:
        if unicodedata.combining(char):
            continue
        width += 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1
    return width


def _pad(text: str, width: int, align: str) -> str:
    gap = " " * (width - display_width(text))
    return text + gap if align == "<" else gap + text


def render_table(headings: Sequence[str], rows: Sequence[Sequence[str]], align: str | None = None) -> str:
    """A table with a rule under the headings; columns padded by display width.

    Args:
        headings: one per column.
        rows: cells as strings, as many as headings.
        align: one character per column, ``<`` (left) or ``>`` (right); default: first left, the rest right.

    Raises:
        ValueError: a row or ``align`` has the wrong number of cells.
    """
    aligns = align or "<" + ">" * (len(headings) - 1)
    if len(aligns) != len(headings) or any(len(row) != len(headings) for row in rows):
        raise ValueError("every row and the alignment need one cell per heading")
    widths = [max(display_width(cell) for cell in column) for column in zip(headings, *rows, strict=True)]
    lines = ["  ".join(_pad(h, w, a) for h, w, a in zip(headings, widths, aligns, strict=True)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    for row in rows:
        lines.append("  ".join(_pad(c, w, a) for c, w, a in zip(row, widths, aligns, strict=True)).rstrip())
    return "\n".join(lines)


def render_indicators(rows: Sequence[UnitIndicators], total: UnitIndicators | None = None) -> str:
    """The per-unit table with :data:`INDICATOR_HEADINGS`, then the 合计 row if given."""
    cells = [_indicator_cells(row) for row in rows]
    if total is not None:
        cells.append(_indicator_cells(total))
    return render_table(INDICATOR_HEADINGS, cells)


def _indicator_cells(row: UnitIndicators) -> list[str]:
    return [
        row.unit,
        str(row.received),
        str(row.closed),
        str(row.closed_on_time),
        str(row.satisfied),
        format_rate(row.closure_rate),
        format_rate(row.on_time_rate),
        format_rate(row.satisfaction_rate),
    ]


def render_accountability(outcomes: AccountabilityOutcomes) -> str:
    """The accountability outcomes: decisions, admonished persons (grade caps) and units (通报批评)."""
    decided = ", ".join(f"{kind} {count}" for kind, count in outcomes.decisions)
    lines = [f"问责案件：{outcomes.cases} 件（已决定：{decided}；尚未决定 {outcomes.pending}）"]
    if outcomes.persons:
        lines.append("")
        lines.append("受效能告诫人员（年度考核等次上限，001_a86978e3ab2b148c.txt §四(五)）：")
        person_rows = [
            [p.name, p.unit or "-", str(p.admonitions), p.grade_cap or "-"] for p in outcomes.persons
        ]
        lines.append(render_table(("姓名", "所在单位", "告诫次数", "年度考核等次上限"), person_rows, "<<><"))
    if outcomes.units:
        lines.append("")
        lines.append("涉及单位（通报批评、取消评优评先，001_a86978e3ab2b148c.txt §四(五)）：")
        unit_rows = [
            [
                u.unit,
                str(u.staff_admonitions),
                str(u.unit_admonitions),
                "是" if u.public_criticism else "否",
                "是" if u.honours_revoked else "否",
            ]
            for u in outcomes.units
        ]
        lines.append(
            render_table(("单位", "人员告诫", "单位告诫", "通报批评", "取消评优评先"), unit_rows, "<>>>>")
        )
    if not outcomes.persons and not outcomes.units:
        lines.append("本期无效能告诫。")
    return "\n".join(lines)
