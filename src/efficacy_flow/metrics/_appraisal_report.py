"""The appraisal report people pass around (issue 14): the figures of a period per group, ranked, and the
cards of electronic supervision per unit — as CSV, JSON, XLSX (one sheet per table) and a self-contained
HTML page.

The tables are built once (:func:`appraisal_report`) and written by format. The HTML page draws its charts as
inline SVG: it opens offline in any browser, with no script and nothing fetched (an 效能办 mails it around).
Headings and labels are Chinese; rates are shown as seed 003 prints them (``98.7%``).
"""

from __future__ import annotations

import csv
import html
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from fractions import Fraction
from pathlib import Path
from typing import IO, Any

from efficacy_flow.engine import Engine
from efficacy_flow.errors import InvalidInput
from efficacy_flow.metrics._appraisal import (
    DIMENSION_LABELS,
    AppraisalRow,
    CardFigures,
    appraise,
    card_figures,
    rank,
    weekly_cards,
)
from efficacy_flow.metrics._config import DEFAULT_METRICS_CONFIG, MetricsConfig
from efficacy_flow.metrics._files import replace_file
from efficacy_flow.metrics._indicators import format_rate
from efficacy_flow.metrics._inputs import aware_instant

__all__ = ["REPORT_FORMATS", "AppraisalReport", "Table", "appraisal_report", "write_report"]

#: The formats :func:`write_report` writes.
REPORT_FORMATS = ("html", "xlsx", "csv", "json")

#: The figure columns of the appraisal table: heading → how a row gives it.
_FIGURES: tuple[tuple[str, Any], ...] = (
    ("受理", lambda r: r.received),
    ("响应率", lambda r: r.response_rate),
    ("办结", lambda r: r.closed),
    ("办结率", lambda r: r.closure_rate),
    ("按时办结率", lambda r: r.on_time_rate),
    ("解决率", lambda r: r.solution_rate),
    ("参评", lambda r: r.rated),
    ("满意率", lambda r: r.satisfaction_rate),
    ("差评率", lambda r: r.bad_rate),
    ("重复率", lambda r: r.repeat_rate),
)
_CARD_HEADINGS = ("承办单位", "预警", "黄牌", "红牌", "扣分")


@dataclass(frozen=True, slots=True)
class Table:
    """One table of the report: a title, headings and rows of cells (str, int, float, Fraction or None)."""

    name: str
    title: str
    headings: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]

    def shown_rows(self) -> list[list[str]]:
        """The rows as people read them: rates as seed 003 prints them (``98.7%``), ``-`` for none."""
        return [[_shown(cell) for cell in row] for row in self.rows]

    def plain_rows(self) -> list[list[Any]]:
        """The rows for JSON and spreadsheets: rates as fractions of one (0.987), the rest as they are."""
        return [[_plain(cell) for cell in row] for row in self.rows]


@dataclass(frozen=True, slots=True)
class AppraisalReport:
    """A period's report: the ranked figures per group, the weekly trend, the cards per unit."""

    since: datetime
    until: datetime
    by: tuple[str, ...]
    ranked: tuple[tuple[int, AppraisalRow], ...]
    trend: tuple[AppraisalRow, ...]
    cards: tuple[CardFigures, ...]
    config: MetricsConfig
    weekly_cards: tuple[tuple[str, CardFigures], ...] = ()

    @property
    def title(self) -> str:
        """The report's title, with its period's first and last day (``until`` is not included)."""
        last = (self.until - timedelta(microseconds=1)).astimezone(self.since.tzinfo)
        return f"机关效能考核报告（{self.since:%Y-%m-%d} 至 {last:%Y-%m-%d}）"

    def tables(self) -> tuple[Table, ...]:
        """The report's tables: 考核指标 (ranked), 周趋势, 电子监察亮牌, 亮牌周分布."""
        labels = tuple(DIMENSION_LABELS[d] for d in self.by)
        heads = ("排名", *labels, *(h for h, _ in _FIGURES))
        figures = tuple(
            (n, *(row.key[d] or "（未填）" for d in self.by), *(get(row) for _, get in _FIGURES))
            for n, row in self.ranked
        )
        trend = tuple((row.key["week"], *(get(row) for _, get in _FIGURES)) for row in self.trend)
        cards = tuple((c.unit or "（未派单）", c.warnings, c.yellow, c.red, c.deduction) for c in self.cards)
        weekly = tuple(
            (week, c.unit or "（未派单）", c.warnings, c.yellow, c.red, c.deduction)
            for week, c in self.weekly_cards
        )
        return (
            Table("figures", "考核指标（按" + "、".join(labels or ("全部",)) + "，排名）", heads, figures),
            Table("trend", "周趋势", ("周", *(h for h, _ in _FIGURES)), trend),
            Table("cards", "电子监察亮牌（预警/黄牌/红牌）与扣分", _CARD_HEADINGS, cards),
            Table("weekly_cards", "亮牌周分布（按周、承办单位）", ("周", *_CARD_HEADINGS), weekly),
        )


def appraisal_report(
    engine: Engine,
    since: datetime,
    until: datetime,
    *,
    by: Sequence[str] = ("unit",),
    config: MetricsConfig = DEFAULT_METRICS_CONFIG,
) -> AppraisalReport:
    """The report of the cases received in [``since``, ``until``): figures per group of ``by`` ranked by
    满意率, 按时办结率 and 办结率 (seed 003 §二(五)), the week-by-week trend (ISO weeks), the cards per unit.

    Raises:
        InvalidInput: an unknown dimension, ``until`` not after ``since``. NaiveDatetime: a naive bound.
    """
    start, end = aware_instant(since, "since"), aware_instant(until, "until")
    if end <= start:
        raise InvalidInput("the report's period must end after it starts", argument="until")
    rows = appraise(engine, start, end, by=by, config=config)
    trend = appraise(engine, start, end, by=("week",), config=config)
    return AppraisalReport(
        since=start,
        until=end,
        by=tuple(by),
        ranked=tuple(rank(rows)),
        trend=tuple(trend),
        cards=tuple(card_figures(engine, start, end)),
        config=config,
        weekly_cards=tuple(weekly_cards(engine, start, end)),
    )


def _shown(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, Fraction):
        return format_rate(value)
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _plain(value: Any) -> Any:
    """A cell for JSON and XLSX: rates as floats (0.987), the rest as they are."""
    if isinstance(value, Fraction):
        return round(float(value), 6)
    return value


def write_report(report: AppraisalReport, fmt: str, path: str | Path) -> Path:
    """Write the report in ``fmt`` (one of :data:`REPORT_FORMATS`) to ``path``; return the path.

    CSV writes one file per table (``path`` with the table's name before the suffix) and returns the first.

    Raises:
        InvalidInput: an unknown format, or a path that cannot be written.
    """
    if fmt not in REPORT_FORMATS:
        raise InvalidInput(
            f"format must be one of {', '.join(REPORT_FORMATS)}, not {fmt!r}", argument="format"
        )
    target = Path(path)
    try:
        if fmt == "csv":
            return _write_csv(report, target)
        if fmt == "xlsx":
            _write_xlsx(report, target)
        else:
            text = _json(report) if fmt == "json" else _html(report)
            replace_file(target, lambda handle: handle.write(text))
    except OSError as exc:
        raise InvalidInput(f"cannot write {target}: {exc.strerror or exc}", path=str(target)) from exc
    return target


def _write_csv(report: AppraisalReport, target: Path) -> Path:
    written = []
    for table in report.tables():
        file = target.with_name(f"{target.stem}-{table.name}{target.suffix or '.csv'}")

        def write(handle: IO[str], table: Table = table) -> None:
            writer = csv.writer(handle)
            writer.writerow(table.headings)
            writer.writerows(table.shown_rows())

        # UTF-8 with a byte-order mark: what Excel needs to read Chinese CSV correctly.
        written.append(replace_file(file, write, encoding="utf-8-sig"))
    return written[0]


def _json(report: AppraisalReport) -> str:
    body = {
        "title": report.title,
        "since": report.since.isoformat(),
        "until": report.until.isoformat(),
        "by": list(report.by),
        "formulas": report.config.describe(),
        "tables": [
            {
                "name": t.name,
                "title": t.title,
                "headings": list(t.headings),
                "rows": t.plain_rows(),
            }
            for t in report.tables()
        ],
    }
    return json.dumps(body, ensure_ascii=False, indent=2) + "\n"


def _write_xlsx(report: AppraisalReport, target: Path) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    for index, table in enumerate(report.tables()):
        sheet = book.active if index == 0 else book.create_sheet()
        assert sheet is not None
        sheet.title = table.title[:31].replace("/", "、")
        sheet.append([table.title])
        sheet["A1"].font = Font(bold=True)
        sheet.append(list(table.headings))
        for cell in sheet[2]:
            cell.font = Font(bold=True)
        for row in table.plain_rows():
            sheet.append(row)
        for column, heading in enumerate(table.headings, start=1):
            if heading.endswith("率"):
                for (cell,) in sheet.iter_rows(min_row=3, min_col=column, max_col=column):
                    cell.number_format = "0.0%"
    book.save(target)


# -- HTML ----------------------------------------------------------------------------------------------------

_STYLE = """
body{font-family:"Noto Sans CJK SC","Source Han Sans SC","Microsoft YaHei","PingFang SC",sans-serif;
margin:24px;color:#1f2933}h1{font-size:22px}h2{font-size:17px;margin-top:28px}
table{border-collapse:collapse;font-size:13px}th,td{border:1px solid #cbd2d9;padding:4px 8px;text-align:right}
th{background:#e4e7eb}td:first-child,th:first-child{text-align:center}
.note{color:#616e7c;font-size:12px}svg text{font-size:11px;fill:#1f2933}
"""
_COLOURS = ("#2f80ed", "#27ae60", "#f2994a", "#eb5757", "#9b51e0")


def _table_html(table: Table) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in table.headings)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in table.shown_rows()
    )
    title = html.escape(table.title)
    return f"<h2>{title}</h2><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _bars(
    title: str, labels: Sequence[str], series: Sequence[tuple[str, Sequence[float]]], percent: bool
) -> str:
    """A grouped bar chart as inline SVG (values 0..1 when ``percent``, else counts)."""
    if not labels:
        return ""
    top = 1.0 if percent else max([1.0, *(v for _, values in series for v in values)])
    group = 18 * len(series) + 14
    width, height, left, bottom = max(360, 60 + group * len(labels)), 240, 44, 40
    plot = height - bottom - 30
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img">']
    parts.append(f"<title>{html.escape(title)}</title>")
    for k in range(5):
        y = 30 + plot * k / 4
        value = top * (1 - k / 4)
        text = f"{value:.0%}" if percent else f"{value:.0f}"
        parts.append(f'<line x1="{left}" x2="{width - 8}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e4e7eb"/>')
        parts.append(f'<text x="{left - 4}" y="{y + 4:.1f}" text-anchor="end">{text}</text>')
    for i, label in enumerate(labels):
        x0 = left + 8 + i * group
        for j, (_, values) in enumerate(series):
            value = values[i]
            h = plot * value / top
            parts.append(
                f'<rect x="{x0 + j * 18}" y="{30 + plot - h:.1f}" width="16" height="{h:.1f}"'
                f' fill="{_COLOURS[j % len(_COLOURS)]}"/>'
            )
        parts.append(
            f'<text x="{x0 + 9 * len(series)}" y="{height - bottom + 14}" text-anchor="middle">'
            f"{html.escape(label[:8])}</text>"
        )
    for j, (name, _) in enumerate(series):
        parts.append(
            f'<rect x="{left + j * 90}" y="6" width="10" height="10" fill="{_COLOURS[j % len(_COLOURS)]}"/>'
            f'<text x="{left + j * 90 + 14}" y="15">{html.escape(name)}</text>'
        )
    parts.append("</svg>")
    return f"<h2>{html.escape(title)}</h2>" + "".join(parts)


def _rate(value: Fraction | None) -> float:
    return float(value) if value is not None else 0.0


def _html(report: AppraisalReport) -> str:
    figures, trend, cards, weekly_table = report.tables()
    rows = [row for _, row in report.ranked]
    labels = ["、".join(str(v or "（未填）") for v in row.key.values()) or "全部" for row in rows]
    rates = (
        ("办结率", [_rate(r.closure_rate) for r in rows]),
        ("按时办结率", [_rate(r.on_time_rate) for r in rows]),
        ("满意率", [_rate(r.satisfaction_rate) for r in rows]),
    )
    weeks = [str(r.key["week"]) for r in report.trend]
    weekly = (
        ("办结率", [_rate(r.closure_rate) for r in report.trend]),
        ("按时办结率", [_rate(r.on_time_rate) for r in report.trend]),
        ("满意率", [_rate(r.satisfaction_rate) for r in report.trend]),
    )
    units = [c.unit or "（未派单）" for c in report.cards]
    levels = (
        ("预警", [float(c.warnings) for c in report.cards]),
        ("黄牌", [float(c.yellow) for c in report.cards]),
        ("红牌", [float(c.red) for c in report.cards]),
    )
    week_labels = sorted({week for week, _ in report.weekly_cards})
    per_week = (
        (
            name,
            [
                float(sum(getattr(c, attr) for w, c in report.weekly_cards if w == week))
                for week in week_labels
            ],
        )
        for name, attr in (("预警", "warnings"), ("黄牌", "yellow"), ("红牌", "red"))
    )
    formulas = "；".join(
        f"{k} = {'、'.join(v) if isinstance(v, list) else v}" for k, v in report.config.describe().items()
    )
    return (
        '<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8">'
        f"<title>{html.escape(report.title)}</title><style>{_STYLE}</style></head><body>"
        f"<h1>{html.escape(report.title)}</h1>"
        f'<p class="note">统计口径（docs/metrics.md）：{html.escape(formulas)}</p>'
        + _bars("三率（办结率、按时办结率、满意率）", labels, rates, percent=True)
        + _table_html(figures)
        + _bars("周趋势（三率）", weeks, weekly, percent=True)
        + _table_html(trend)
        + _bars("电子监察亮牌数（按承办单位）", units, levels, percent=False)
        + _table_html(cards)
        + _bars("亮牌周分布", week_labels, list(per_week), percent=False)
        + _table_html(weekly_table)
        + "</body></html>\n"
    )
