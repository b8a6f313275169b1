"""``efficacy-flow demo`` through its runner: the per-unit table agrees with the engine's own data, and a seed
always gives the same report.

The independent count reads the SQLite file the demo leaves behind with the standard library's sqlite3 (the
instances table and the raw audit events), not through efficacy_flow.metrics.
"""

from __future__ import annotations

import contextlib
import io
import json
import sqlite3
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import pytest

from efficacy_flow.cli import main

PROCESSES = Path(__file__).resolve().parents[2] / "processes"
TICKETS = "30"


def _demo(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    code = main(["demo", "--processes", str(PROCESSES), "--tickets", TICKETS, *args])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return captured.out


@pytest.fixture(scope="module")
def run_with_db(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], Path, str]:
    """One demo run kept in a file: its JSON report, the database, and the progress on stderr."""
    db = tmp_path_factory.mktemp("demo") / "demo.db"
    # capsys is function-scoped; a module-scoped run captures its own output.
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(
            [
                "demo",
                "--processes",
                str(PROCESSES),
                "--tickets",
                TICKETS,
                "--seed",
                "11",
                "--db",
                str(db),
                "--json",
            ]
        )
    assert code == 0, err.getvalue()
    return json.loads(out.getvalue()), db, err.getvalue()


def _rows(db: Path, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    with sqlite3.connect(db) as conn:
        return list(conn.execute(sql, params))


def _independent_ticket_counts(db: Path) -> dict[str, Counter[str]]:
    """受理/办结/按时办结/参评/满意 per unit, straight from the instances and audit rows."""
    status = dict(_rows(db, "select id, status from ef_instances where process_id = 'complaint_closure'"))
    events: dict[str, list[tuple[str, dict[str, Any]]]] = defaultdict(list)
    for instance_id, kind, after in _rows(
        db, "select instance_id, kind, after from ef_audit_events order by instance_id, seq"
    ):
        if instance_id in status:
            events[instance_id].append((kind, json.loads(after) if after else {}))
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for instance_id, state in status.items():
        unit, late, last_rating = None, False, None
        for kind, after in events[instance_id]:
            if kind == "task_completed" and after["element_id"] in ("Task_Dispatch", "Task_ReworkDispatch"):
                unit = after["data"].get("unit", unit)
            elif kind == "timer_fired" and after["element_id"] == "Timer_HandlingLimit":
                late = True
            elif kind == "task_completed" and after["element_id"] == "Task_Callback":
                last_rating = after["data"]["rating"]  # given on the call back (回访)
            elif kind == "message" and after["message"] == "rating":
                last_rating = after["payload"][
                    "rating"
                ]  # a real rating; defaulted ones are timers, not messages
        row = counts[unit or "（未派单）"]
        row["received"] += 1
        row["closed"] += state == "completed"
        row["closed_on_time"] += state == "completed" and not late
        row["rated"] += last_rating is not None
        row["satisfied"] += last_rating in ("非常满意", "满意", "基本满意")
    return counts


def test_ticket_table_agrees_with_an_independent_count(run_with_db: tuple[dict[str, Any], Path, str]) -> None:
    """Every unit's 受理, 办结, 按时办结, 参评 and 满意 equal a count made from the raw database rows."""
    report, db, _ = run_with_db
    expected = _independent_ticket_counts(db)
    shown = {row["unit"]: row for row in report["complaint_closure"]["units"]}
    assert set(shown) == set(expected)
    for unit, row in shown.items():
        for key in ("received", "closed", "closed_on_time", "rated", "satisfied"):
            assert row[key] == expected[unit][key], (unit, key)
    assert report["complaint_closure"]["total"]["received"] == int(TICKETS)


def test_the_month_has_late_reworked_and_accountability_cases(
    run_with_db: tuple[dict[str, Any], Path, str],
) -> None:
    """The simulation exercises the paths the README promises: overdue 督办, rework after 不满意, and the
    accountability cases in the report match the accountability instances and decisions in the database."""
    report, db, _ = run_with_db
    assert report["simulation"]["办理逾期督办"] > 0
    assert report["simulation"]["不满意重办"] > 0
    # The cases the month referred (repeated dissatisfaction, overdue tickets); a red card's referral
    # (first responder 电子监察) waits for the efficiency office, whom the scenario does not play.
    cases = _rows(
        db,
        "select count(*) from ef_instances"
        " where process_id = 'accountability' and first_responder != '电子监察'",
    )[0][0]
    assert report["accountability"]["cases"] == cases > 0
    decisions = Counter(
        json.loads(after)["data"]["decision"]
        for (after,) in _rows(
            db,
            "select e.after from ef_audit_events e join ef_instances i on i.id = e.instance_id"
            " where i.process_id = 'accountability' and e.kind = 'task_completed'"
            " and e.after like '%\"Task_Decide\"%'",
        )
    )
    assert {k: v for k, v in report["accountability"]["decisions"].items() if v} == dict(decisions)
    admonished = sum(p["admonitions"] for p in report["accountability"]["persons"])
    unit_admonitions = sum(u["unit_admonitions"] for u in report["accountability"]["units"])
    assert admonished + unit_admonitions == decisions["效能告诫"]


def test_co_handled_tickets_and_bad_rating_reviews_agree_with_the_store(
    run_with_db: tuple[dict[str, Any], Path, str],
) -> None:
    """Section 六 (主办/协办, 好差评) against the raw rows: the tickets started with co-handling units, the
    协办 steps completed, the reviews started (one per 差评 delivered) and the appeals upheld."""
    report, db, _ = run_with_db
    shared, simulated = report["second_wave"], report["simulation"]
    started = _rows(
        db,
        "select after from ef_audit_events where kind = 'started' and instance_id in"
        " (select id from ef_instances where process_id = 'complaint_closure')",
    )
    co_handled = sum(1 for (after,) in started if json.loads(after)["data"].get("co_units"))
    assert shared["co_handled"] == co_handled == simulated.get("主办协办件", 0)
    completed = [
        json.loads(after)
        for (after,) in _rows(db, "select after from ef_audit_events where kind = 'task_completed'")
    ]
    assert shared["co_handling_steps"] == sum(1 for a in completed if a["element_id"] == "Task_CoHandle")
    reviews = _rows(db, "select count(*) from ef_instances where process_id = 'good_bad_review'")[0][0]
    bad = ("不满意", "非常不满意")
    bad_messages = sum(
        1
        for (after,) in _rows(db, "select after from ef_audit_events where kind = 'message'")
        if json.loads(after)["message"] == "rating" and json.loads(after)["payload"]["rating"] in bad
    )
    calls = [
        json.loads(after)["data"]
        for (after,) in _rows(
            db,
            "select e.after from ef_audit_events e join ef_instances i on i.id = e.instance_id"
            " where i.process_id = 'complaint_closure' and e.kind = 'task_completed'"
            " and e.after like '%\"Task_Callback\"%'",
        )
    ]
    bad_calls = sum(1 for data in calls if data["rating"] in bad)
    assert shared["reviews"] == reviews == bad_messages + bad_calls == simulated.get("差评核实整改", 0)
    upheld = sum(
        1 for a in completed if a["element_id"] == "Task_AppealReview" and a["data"]["appeal_upheld"]
    )
    assert shared["outcomes"]["申诉成立剔除"] == upheld
    given, kept = shared["ratings_as_given"], shared["ratings_counted"]
    # A removal takes a case out of 参评 and of 差评 alike, never out of 满意; at most one per upheld appeal.
    assert given["rated"] - kept["rated"] == given["bad"] - kept["bad"] <= upheld
    assert given["satisfied"] == kept["satisfied"]


def test_progress_goes_to_stderr(run_with_db: tuple[dict[str, Any], Path, str]) -> None:
    """The progress bar reaches the last of the 40 days, on stderr (stdout stays the report)."""
    _, _, err = run_with_db
    assert "40/40 天  2025-10-24" in err


def test_same_seed_same_report(capsys: pytest.CaptureFixture[str]) -> None:
    """Two runs with one seed print the identical report; another seed prints another one."""
    first = _demo(capsys, "--seed", "5")
    second = _demo(capsys, "--seed", "5")
    other = _demo(capsys, "--seed", "6")
    assert first == second
    assert first != other


def test_text_report_headings_totals_and_holiday(capsys: pytest.CaptureFixture[str]) -> None:
    """The text report names the holiday and make-up days, has the Chinese headings, and its 合计 row equals
    the JSON total of the same seed."""
    text = _demo(capsys, "--seed", "5")
    report = json.loads(_demo(capsys, "--seed", "5", "--json"))
    assert "期间节假日：2025-10-01 至 2025-10-08 放假 8 天" in text
    assert "9月28日（星期日）、10月11日（星期六）" in text
    lines = text.splitlines()
    heading = lines.index(next(line for line in lines if line.startswith("承办单位")))
    assert lines[heading].split() == [
        "承办单位",
        "受理",
        "办结",
        "按时办结",
        "满意",
        "办结率",
        "按时办结率",
        "满意率",
    ]
    total_line = next(line for line in lines[heading:] if line.startswith("合计")).split()
    total = report["complaint_closure"]["total"]
    assert total_line[1:5] == [str(total[k]) for k in ("received", "closed", "closed_on_time", "satisfied")]
    assert "三、效能问责结果" in text
    # 电子监察 across National Day: cards per unit, automatic reminders, and the ranking by SQL.
    assert report["automatic_reminders"] > 0
    assert f"到期前自动催办 {report['automatic_reminders']} 次" in text
    cards = report["appraisal"]["cards"]["rows"]
    assert sum(row[2] for row in cards) > 0  # yellow cards were issued
    assert "五、考核排名" in text
    assert "六、主办/协办与好差评差评整改" in text
    ranked = report["appraisal"]["figures"]["rows"]
    assert [row[0] for row in ranked] == sorted(row[0] for row in ranked)


def test_existing_db_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--db never reuses an earlier run's file: it exits 2 and leaves the file as it was."""
    db = tmp_path / "old.db"
    db.write_bytes(b"earlier state")
    assert main(["demo", "--processes", str(PROCESSES), "--db", str(db)]) == 2
    assert "already exists" in capsys.readouterr().err
    assert db.read_bytes() == b"earlier state"


def test_missing_processes_folder_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A wrong --processes folder is a clear error, not a traceback."""
    assert main(["demo", "--processes", str(tmp_path / "nowhere")]) == 2
    assert "no such folder" in capsys.readouterr().err


def test_default_processes_are_the_shipped_ones_wherever_it_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without --processes the demo runs efficacy_flow.shipped_processes(), not whatever ./processes the
    working directory holds: from a directory whose processes/ is empty it prints the report of an explicit
    --processes run on the shipped folder."""
    explicit = _demo(capsys, "--seed", "9")
    (tmp_path / "processes").mkdir()
    monkeypatch.chdir(tmp_path)
    assert main(["demo", "--tickets", TICKETS, "--seed", "9"]) == 0
    assert capsys.readouterr().out == explicit
