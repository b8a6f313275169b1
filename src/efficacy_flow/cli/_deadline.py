"""``efficacy-flow deadline``: when a statutory period ends, with every holiday and make-up day it crossed."""

from __future__ import annotations

import argparse
import json
from datetime import datetime, time

from efficacy_flow.calendar import Deadline, china
from efficacy_flow.clock import CHINA_TZ
from efficacy_flow.errors import InvalidInput

__all__ = ["register"]

_WEEKDAYS = "一二三四五六日"


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``deadline`` subcommand."""
    parser = subparsers.add_parser(
        "deadline",
        help="计算法定期限的截止时间 (compute a statutory deadline)",
        description="计算法定期限的截止时间：开始当日不计入，最后一日遇休息日顺延（民法典第二百零一条至第二百零三条）。",
    )
    parser.add_argument(
        "--from",
        dest="start",
        required=True,
        help="起算时间, ISO 8601 (2025-09-26T10:00); without an offset it is read as Asia/Shanghai",
    )
    parser.add_argument("--limit", required=True, help='期限, e.g. "20个工作日", "60日", "2小时", "1个月"')
    parser.add_argument("--region", help="regional overlay (xinjiang / 新疆, ningxia / 宁夏)")
    parser.add_argument("--data-dir", help="folder with national/YYYY.yaml and regions/NAME.yaml files")
    parser.add_argument("--strict", action="store_true", help="fail for a year whose notice is not published")
    parser.add_argument("--closing-time", help="office closing time HH:MM (业务时间); default 24:00")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.set_defaults(handler=run)


def _start(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"--from {text!r} is not an ISO 8601 date-time (e.g. 2025-09-26T10:00)") from None
    # A naive command-line time is a wall-clock time in China (documented in docs/calendar.md).
    return value.replace(tzinfo=CHINA_TZ) if value.tzinfo is None else value


def _closing(text: str | None) -> time | None:
    if text is None:
        return None
    try:
        return time.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"--closing-time {text!r} is not HH:MM") from None


def _day(deadline: Deadline) -> str:
    return f"{deadline.due_date.isoformat()}（星期{_WEEKDAYS[deadline.due_date.weekday()]}）"


def render(deadline: Deadline) -> str:
    """The Chinese report for one deadline."""
    start = deadline.start.strftime("%Y-%m-%d %H:%M")
    due_at = deadline.due_at.strftime("%Y-%m-%d %H:%M")
    if deadline.due_at.time() == time(0) and deadline.due_at.date() > deadline.due_date:
        due_at = f"{deadline.due_date.isoformat()} 24:00"
    lines = [
        f"期限：{deadline.limit}（自 {start} 起算）",
        f"截止日期：{_day(deadline)}",
        f"截止时间：{due_at}（北京时间，{deadline.due_at.isoformat()}）",
    ]
    if deadline.rolled_from is not None:
        lines.append(f"顺延：期间最后一日 {deadline.rolled_from.isoformat()} 为休息日，顺延至下一工作日")
    lines.append("跨越的节假日与调休：" if deadline.crossed else "跨越的节假日与调休：无")
    lines.extend(f"  {day.label()}" for day in deadline.crossed)
    lines.append("适用规则：")
    lines.extend(f"  {rule.source}：{rule.text}" for rule in deadline.rules)
    lines.append("数据来源：")
    for notice in deadline.sources:
        published = notice.published.isoformat() if notice.published else "发布日期未核实"
        if notice.grade == "statutory-rule":
            published = "法定规则推算"
        extra = "，转载来源" if notice.grade == "secondary" else ""
        lines.append(f"  {notice.title}（{published}{extra}）{notice.url or ''}".rstrip())
    if deadline.provisional:
        years = "、".join(str(y) for y in deadline.provisional_years)
        lines.append(
            f"是否暂定：是（{years}年放假安排通知尚未发布，按法定节假日推算，不含调休；通知发布后请重新计算）"
        )
    else:
        lines.append("是否暂定：否")
    lines.append(f"数据版本：{deadline.calendar_version}")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """Compute and print the deadline; return the exit code."""
    calendar = china(
        region=args.region,
        data_dir=args.data_dir,
        strict=args.strict,
        closing_time=_closing(args.closing_time),
    )
    deadline = calendar.due(_start(args.start), args.limit)
    if args.json:
        print(json.dumps(deadline.to_dict(), ensure_ascii=False, indent=2))
    else:
        print(render(deadline))
    return 0
