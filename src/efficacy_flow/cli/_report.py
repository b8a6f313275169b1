"""``efficacy-flow report``: the appraisal report of a period, from a store, as HTML, XLSX, CSV or JSON; or
the event log of the period for process-mining tools, as XES or OCEL 2.0.

A thin shell over :func:`efficacy_flow.metrics.appraisal_report` and
:func:`~efficacy_flow.metrics.write_report` (docs/metrics.md, "Appraisal by SQL"): it opens the store with
the processes deployed, counts the cases received in [--from, --to] (both days included, China time) and
writes the file. ``--format xes``/``ocel`` write the audit events of the same days instead
(:func:`~efficacy_flow.metrics.write_xes`, :func:`~efficacy_flow.metrics.write_ocel`).
"""

from __future__ import annotations

import argparse
import sys
from datetime import date, datetime, time, timedelta
from pathlib import Path

from efficacy_flow import Engine, shipped_processes
from efficacy_flow.clock import CHINA_TZ
from efficacy_flow.errors import InvalidInput
from efficacy_flow.metrics import (
    DIMENSION_LABELS,
    REPORT_FORMATS,
    appraisal_report,
    write_ocel,
    write_report,
    write_xes,
)

__all__ = ["register", "run"]

#: The event-log formats, each with its writer and the suffix of its default file.
_EVENT_LOGS = {"xes": (write_xes, "xes"), "ocel": (write_ocel, "jsonocel")}


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``report`` subcommand."""
    parser = subparsers.add_parser(
        "report",
        help="输出考核报告：各单位（或区域、类型等）的五率与亮牌 (appraisal report)",
        description=(
            "按受理日期统计 --from 至 --to（含两端，北京时间）的诉求件：响应率、办结率、按时办结率、解决率、"
            "满意率、差评率及排名，月度趋势，电子监察亮牌与扣分；"
            "输出 HTML（图表内嵌，离线可读）、XLSX、CSV 或 JSON 文件；"
            "或以 --format xes / ocel 输出同期审计事件的过程挖掘事件日志（XES、OCEL 2.0，不含个人信息）。"
        ),
    )
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--db", help="the SQLite file of the engine's store")
    source.add_argument("--store", help="a store URL (sqlite:///… or postgresql://…)")
    parser.add_argument("--from", dest="start", required=True, help="first day, YYYY-MM-DD")
    parser.add_argument("--to", dest="end", required=True, help="last day, YYYY-MM-DD (included)")
    parser.add_argument(
        "--by",
        default="unit",
        help=f"dimensions, comma-separated, of {','.join(d for d in DIMENSION_LABELS if d != 'process_id')}"
        " (default unit)",
    )
    parser.add_argument(
        "--format",
        choices=(*REPORT_FORMATS, *_EVENT_LOGS),
        default="html",
        help="output format (default html; xes and ocel: the event log of the period)",
    )
    parser.add_argument(
        "--out",
        help="output file (default report-<from>-<to>.<format> beside the database; .jsonocel for ocel)",
    )
    parser.add_argument(
        "--processes", help="folder of the processes the store runs (default the shipped ones)"
    )
    parser.set_defaults(handler=run)


def _day(text: str, name: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"{name} {text!r}: expected a date as YYYY-MM-DD", argument=name) from None


def run(args: argparse.Namespace) -> int:
    """Write the report; return the exit code."""
    first, last = _day(args.start, "--from"), _day(args.end, "--to")
    if last < first:
        raise InvalidInput("--to is before --from", argument="--to")
    by = tuple(d.strip() for d in args.by.split(",") if d.strip())
    if args.db is not None:
        db = Path(args.db)
        if not db.is_file():
            raise InvalidInput(f"--db {db}: no such file", path=str(db))
        url, beside = f"sqlite:///{db}", db.parent
    else:
        url, beside = args.store, Path.cwd()
    processes = Path(args.processes) if args.processes is not None else shipped_processes()
    since = datetime.combine(first, time(), CHINA_TZ)
    until = datetime.combine(last + timedelta(days=1), time(), CHINA_TZ)
    writer, suffix = _EVENT_LOGS.get(args.format, (None, args.format))
    out = Path(args.out) if args.out else beside / f"report-{first}-{last}.{suffix}"
    engine = Engine(url, processes)
    try:
        if writer is not None:
            written = writer(engine, out, since, until)
        else:
            report = appraisal_report(engine, since, until, by=by)
            written = write_report(report, args.format, out)
    finally:
        engine.store.close()
    print(f"已写出 {written}", file=sys.stderr)
    return 0
