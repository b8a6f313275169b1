"""``efficacy-flow demo``: a simulated month of 12345 tickets and window cases, then the per-unit indicators.

Runs the shipped processes (``efficacy_flow.shipped_processes()``, or ``--processes``) on the embedded SQLite
store with a fake clock that moves hour by hour from 2025-09-15 to 2025-10-24 (across National Day and
Mid-Autumn 2025 and their make-up days), then prints 办结率, 按时办结率 and 满意率 per handling unit (seed
003_e63eaf9f19ff150c.txt §二(四)), the accountability outcomes (001_a86978e3ab2b148c.txt §四(五)), the
cards of electronic supervision and the ranking, and the tickets several units shared (主办/协办) with the
差评 that were verified, rectified or removed on appeal (好差评). The same seed always prints the same
report.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

from efficacy_flow import Actor, Engine, load_decisions, shipped_processes
from efficacy_flow.calendar import HOLIDAY, MAKE_UP_DAY, WorkingDayCalendar, china
from efficacy_flow.clock import CHINA_TZ, FakeClock
from efficacy_flow.errors import InvalidInput
from efficacy_flow.metrics import (
    DEFAULT_METRICS_CONFIG,
    AccountabilityOutcomes,
    AppraisalReport,
    AppraisalRow,
    MetricsConfig,
    UnitIndicators,
    accountability_outcomes,
    appraisal_report,
    appraise,
    collect_records,
    in_admonition_year,
    render_accountability,
    render_indicators,
    render_table,
    total_indicators,
    unit_indicators,
    write_report,
)
from efficacy_flow.simulation import ScenarioPlan, Simulation, SimulationResult

__all__ = ["register", "run"]

_Tables = dict[str, tuple[tuple[UnitIndicators, ...], UnitIndicators]]
_WEEKDAYS = "一二三四五六日"


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``demo`` subcommand."""
    parser = subparsers.add_parser(
        "demo",
        help="模拟一个月的诉求办理并输出各承办单位的办结率、按时办结率、满意率 (simulate a month)",
        description=(
            "模拟 2025-09-15 至 2025-10-24（跨国庆节、中秋节及调休）的12345诉求件和“办不成事”窗口事项，"
            "在内置 SQLite 上运行 processes/ 中的流程，输出各承办单位的受理、办结、按时办结、满意及三率，"
            "以及效能问责结果。同一种子输出完全相同。"
        ),
    )
    parser.add_argument("--seed", type=int, default=2025, help="random seed (default 2025)")
    parser.add_argument("--tickets", type=int, default=300, help="12345 tickets to simulate (default 300)")
    parser.add_argument(
        "--db",
        help="SQLite file to keep the simulated state in (must not exist yet); default a temporary file, "
        "deleted afterwards",
    )
    parser.add_argument(
        "--processes",
        help="folder with the BPMN/DMN/YAML files (default: the processes this release ships, "
        "efficacy_flow.shipped_processes(), wherever the command runs)",
    )
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Simulate, compute the indicators and print the report; return the exit code."""
    if args.tickets < 1:
        raise InvalidInput(f"--tickets must be at least 1, got {args.tickets}", field="tickets")
    processes = Path(args.processes) if args.processes is not None else shipped_processes()
    if not processes.is_dir():
        raise InvalidInput(f"--processes {processes}: no such folder", path=str(processes))
    if args.db is not None:
        # Never reuse the state of an earlier run silently: the report would mix two simulations.
        if Path(args.db).exists():
            raise InvalidInput(
                f"--db {args.db} already exists; remove it or choose another path", path=args.db
            )
        return _run(args, processes, Path(args.db))
    with tempfile.TemporaryDirectory(prefix="efficacy-demo-") as folder:
        return _run(args, processes, Path(folder) / "efficacy-demo.db")


_SECTIONS = ("complaint_closure", "window_escalation")


def _run(args: argparse.Namespace, processes: Path, db: Path) -> int:
    plan = ScenarioPlan(seed=args.seed, tickets=args.tickets)
    config = DEFAULT_METRICS_CONFIG
    calendar = china()
    clock = FakeClock(datetime.combine(plan.start, datetime.min.time(), CHINA_TZ))
    engine = Engine(f"sqlite:///{db}", processes, calendar=calendar, clock=clock)
    started = time.perf_counter()
    try:
        simulation = Simulation(
            engine,
            clock,
            calendar,
            plan,
            in_admonition_year=partial(in_admonition_year, basis=config.admonition_year),
            progress=_progress_bar,
        )
        result = simulation.run()
        # The efficiency office reads the month's cases unmasked (audited): its report names persons.
        records = collect_records(engine, result.instance_ids, reader=Actor("efficiency-office", ["效能办"]))
        # The figures by SQL over the store and the cards of electronic supervision (docs/metrics.md §5).
        since = datetime.combine(plan.start, datetime.min.time(), CHINA_TZ)
        until = datetime.combine(plan.end + timedelta(days=1), datetime.min.time(), CHINA_TZ)
        report = appraisal_report(engine, since, until, config=config)
        reminders = _automatic_reminders(engine)
        shared = _second_wave(engine, since, until, config)
    finally:
        engine.store.close()
    written = None
    if args.db is not None:  # the report file beside the database (an HTML page that opens offline)
        written = write_report(report, "html", db.with_name(f"{db.stem}-report.html"))
    elapsed = time.perf_counter() - started
    tables = {}
    for process_id in _SECTIONS:
        rows = unit_indicators(records.cases, config, process_id=process_id)
        tables[process_id] = (rows, total_indicators(rows, config))
    as_of = datetime.combine(plan.end + timedelta(days=1), datetime.min.time(), CHINA_TZ)
    outcomes = accountability_outcomes(
        records.accountability, as_of, config, decisions=load_decisions(processes)
    )
    kept = "" if args.db is not None else "（临时文件，已删除）"
    print(f"模拟用时 {elapsed:.1f} 秒；数据库 {db}{kept}", file=sys.stderr)
    if written is not None:
        print(f"考核报告 {written}", file=sys.stderr)
    if args.json:
        body = _as_json(plan, config, result, tables, outcomes)
        body["appraisal"] = _report_json(report)
        body["automatic_reminders"] = reminders
        body["second_wave"] = shared
        print(json.dumps(body, ensure_ascii=False, indent=2))
    else:
        print(
            _render(plan, config, result, tables, outcomes, calendar)
            + "\n\n"
            + _render_supervision(report, reminders)
            + "\n\n"
            + _render_second_wave(shared)
        )
    return 0


def _second_wave(engine: Engine, since: datetime, until: datetime, config: MetricsConfig) -> dict[str, Any]:
    """What the month's tickets shared by several units (主办/协办) and its 差评 reviews (好差评) came to,
    read from the engine: the instances' data and histories, and the figures with and without the 差评
    removed on appeal (申诉复核, docs/metrics.md)."""
    co_handled = steps = 0
    for summary in engine.instances(process_id="complaint_closure"):
        if engine.instance(summary.id).data.get("co_units"):
            co_handled += 1
            steps += sum(
                1
                for e in engine.history(summary.id)
                if e.kind == "task_completed" and e.after.get("element_id") == "Task_CoHandle"
            )
    outcomes: dict[str, int] = dict.fromkeys(("属实整改", "不属实", "申诉成立剔除", "申诉驳回整改"), 0)
    overdue = deemed = callbacks = open_reviews = 0
    for summary in engine.instances(process_id="good_bad_review"):
        data = engine.instance(summary.id).data
        if summary.status != "completed":
            open_reviews += 1
            continue
        if data.get("rating_removed"):
            outcomes["申诉成立剔除"] += 1
        elif data.get("verification") == "不属实":
            outcomes["不属实"] += 1
        elif data.get("verification") == "申诉":
            outcomes["申诉驳回整改"] += 1
        else:
            outcomes["属实整改"] += 1
        overdue += bool(data.get("rectification_overdue"))
        deemed += bool(data.get("verification_deemed"))
        callbacks += "callback_result" in data

    def total(rows: list[AppraisalRow]) -> dict[str, int]:
        return {
            "rated": sum(r.rated for r in rows),
            "satisfied": sum(r.satisfied for r in rows),
            "bad": sum(r.bad for r in rows),
        }

    kept = total(appraise(engine, since, until, by=(), process_id="complaint_closure", config=config))
    given = total(
        appraise(
            engine, since, until, by=(), process_id="complaint_closure", config=config, keep_removed=True
        )
    )
    return {
        "co_handled": co_handled,
        "co_handling_steps": steps,
        "reviews": sum(outcomes.values()) + open_reviews,
        "reviews_open": open_reviews,
        "outcomes": outcomes,
        "rectified_late": overdue,
        "deemed_true": deemed,
        "callbacks": callbacks,
        "ratings_as_given": given,
        "ratings_counted": kept,
    }


def _percent(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "—"


def _render_second_wave(shared: Mapping[str, Any]) -> str:
    """Section 六: 主办/协办 tickets and the 差评 reviews, with 满意率 before and after the removals."""
    given, kept = shared["ratings_as_given"], shared["ratings_counted"]
    outcomes = "，".join(f"{label} {count}" for label, count in shared["outcomes"].items())
    return "\n".join(
        [
            "六、主办/协办与好差评差评整改（国办发〔2019〕51号；北京市接诉即办工作条例 第十四条）",
            f"主办/协办件 {shared['co_handled']} 件，协办答复 {shared['co_handling_steps']} 次"
            "（主办单位汇总答复，按主办单位的办理时限考核）",
            f"差评核实整改 {shared['reviews']} 件（办理中 {shared['reviews_open']} 件）：{outcomes}；"
            f"逾期整改督办 {shared['rectified_late']} 件，核实期满视为属实 {shared['deemed_true']} 件，"
            f"回访 {shared['callbacks']} 次",
            f"诉求件满意率：按评价 {_percent(given['satisfied'], given['rated'])}（参评 {given['rated']}，"
            f"差评 {given['bad']}）；剔除申诉成立的差评后 {_percent(kept['satisfied'], kept['rated'])}"
            f"（参评 {kept['rated']}，差评 {kept['bad']}）",
        ]
    )


def _report_json(report: AppraisalReport) -> dict[str, Any]:
    """The report's tables as JSON values (rates as fractions of one)."""
    return {
        t.name: {
            "title": t.title,
            "headings": list(t.headings),
            "rows": t.plain_rows(),
        }
        for t in report.tables()
    }


def _automatic_reminders(engine: Engine) -> int:
    """How many reminders the deadline ladder sent (outbox ``urged`` events without an actor)."""
    count, after = 0, None
    while True:
        page = engine.events(after=after, limit=10_000)
        if not page:
            return count
        count += sum(1 for e in page if e.kind == "urged" and e.payload.get("actor") is None)
        after = page[-1].seq


def _render_supervision(report: AppraisalReport, reminders: int) -> str:
    """Sections 四 and 五: the cards of electronic supervision per unit, and the units ranked by SQL."""
    figures, _trend, cards, _weekly = report.tables()

    return "\n".join(
        [
            "四、电子监察亮牌（预警/黄牌/红牌，扣分按 processes/card_rules.dmn）；"
            f"到期前自动催办 {reminders} 次",
            render_table(cards.headings, cards.shown_rows()) if cards.rows else "（无）",
            "",
            "五、考核排名（按满意率、按时办结率、办结率；由库内事实表 SQL 统计，docs/metrics.md §5）",
            render_table(figures.headings, figures.shown_rows()) if figures.rows else "（无）",
        ]
    )


def _progress_bar(done: int, total: int, day: date) -> None:
    """A progress bar on stderr: redrawn in place on a terminal, a line every ten days otherwise."""
    width = 30
    filled = width * done // total
    text = f"模拟进度 [{'#' * filled}{'.' * (width - filled)}] {done:>2}/{total} 天  {day.isoformat()}"
    if sys.stderr.isatty():
        print(f"\r{text}", end="\n" if done >= total else "", file=sys.stderr, flush=True)
    elif done % 10 == 0 or done >= total:
        print(text, file=sys.stderr)


def _as_json(
    plan: ScenarioPlan,
    config: MetricsConfig,
    result: SimulationResult,
    tables: _Tables,
    outcomes: AccountabilityOutcomes,
) -> dict[str, Any]:
    return {
        "period": {"start": plan.start.isoformat(), "end": plan.end.isoformat()},
        "seed": plan.seed,
        "tickets": plan.tickets,
        "window_cases": plan.window_count,
        "formulas": config.describe(),
        "simulation": dict(result.counts),
        **{
            process_id: {"units": [row.to_dict() for row in rows], "total": total.to_dict()}
            for process_id, (rows, total) in tables.items()
        },
        "accountability": outcomes.to_dict(),
    }


def _render(
    plan: ScenarioPlan,
    config: MetricsConfig,
    result: SimulationResult,
    tables: _Tables,
    outcomes: AccountabilityOutcomes,
    calendar: WorkingDayCalendar,
) -> str:
    crossed = calendar.crossed(plan.start - timedelta(days=1), plan.end)
    holidays = [d.date for d in crossed if d.kind == HOLIDAY]
    make_up = [d.date for d in crossed if d.kind == MAKE_UP_DAY]
    satisfied = "、".join(config.describe()["satisfied_ratings"])
    lines = [
        f"机关效能监督模拟：{plan.start.isoformat()} 至 {plan.end.isoformat()}，随机种子 {plan.seed}",
        f"期间节假日：{_span(holidays)}；调休上班：{'、'.join(_day(d) for d in make_up) or '无'}",
        "模拟经过：" + "，".join(f"{label} {count}" for label, count in result.counts if count),
        "",
        f"一、12345诉求件（{plan.tickets} 件），按承办单位",
        render_indicators(*tables["complaint_closure"]),
        "",
        f"二、“办不成事”反映窗口（{plan.window_count} 件），按涉及部门",
        render_indicators(*tables["window_escalation"]),
        "",
        f"三、效能问责结果（截至 {plan.end.isoformat()} 24:00）",
        render_accountability(outcomes),
        "",
        "口径（docs/metrics.md）：办结率 = 办结/受理；"
        "按时办结率 = 按时办结/办结（未超办理时限；经批准延期的按延期后时限）；"
        f"满意率 = 满意/参评（满意含{satisfied}；期满未评价、按默认评价的不计入参评）。",
    ]
    return "\n".join(lines)


def _day(day: date) -> str:
    return f"{day.month}月{day.day}日（星期{_WEEKDAYS[day.weekday()]}）"


def _span(days: list[date]) -> str:
    if not days:
        return "无"
    return f"{days[0].isoformat()} 至 {days[-1].isoformat()} 放假 {len(days)} 天"
