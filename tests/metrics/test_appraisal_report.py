"""The appraisal report (issue 14) in every format, from a real engine on the shipped processes: what a person
opens — CSV in Excel, the XLSX sheets, the JSON, and the HTML page rendered by a real headless Chromium."""

from __future__ import annotations

import csv
import json
import os
import shutil
import struct
import subprocess
from datetime import datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook

from efficacy_flow.calendar import china
from efficacy_flow.cli import main
from efficacy_flow.clock import CHINA_TZ
from efficacy_flow.engine import Actor, Engine
from efficacy_flow.errors import InvalidInput
from efficacy_flow.metrics import appraisal_report, write_report
from efficacy_flow.testing import FakeClock

PROCESSES = Path(__file__).resolve().parents[2] / "processes"
DESK = Actor("hotline", ["受理员", "审核员", "督办员", "办理不满意专区"])
UNITS = {
    "市城管局": Actor("cg", ["承办单位"], unit="市城管局"),
    "市住建局": Actor("zj", ["承办单位"], unit="市住建局"),
}
PERIOD = (datetime(2025, 9, 1, tzinfo=CHINA_TZ), datetime(2025, 11, 1, tzinfo=CHINA_TZ))


def _do(engine: Engine, case: str, element: str, data: dict[str, object], actor: Actor) -> None:
    (task,) = [t for t in engine.tasks(case) if t.element_id == element]
    engine.complete(task.id, data, actor)


@pytest.fixture
def db(tmp_path: Path) -> Path:
    """Three tickets: two of 市城管局 rated 满意 and 不满意 (reworked), one of 市住建局 late (yellow card)."""
    path = tmp_path / "efficacy.db"
    clock = FakeClock(datetime(2025, 9, 26, 10, tzinfo=CHINA_TZ))
    engine = Engine(f"sqlite:///{path}", PROCESSES, china(), clock)
    cases = []
    for unit in ("市城管局", "市城管局", "市住建局"):
        view = engine.start(
            "complaint_closure", {"title": "路灯不亮", "content": "坏了", "region": "东区"}, DESK
        )
        _do(engine, view.id, "Task_Dispatch", {"unit": unit}, DESK)
        _do(engine, view.id, "Task_Acknowledge", {"ack_decision": "签收"}, UNITS[unit])
        cases.append((view.id, unit))
    for (case, unit), rating in zip(cases[:2], ("满意", "不满意"), strict=True):
        _do(engine, case, "Task_Handle", {"reply": "已修复"}, UNITS[unit])
        _do(engine, case, "Task_SignOff", {"signed_off": True}, Actor("head", ["单位负责人"], unit=unit))
        _do(engine, case, "Task_Review", {"review_passed": True}, DESK)
        _do(engine, case, "Task_Reply", {"reply_channel": "电话"}, DESK)
        engine.message("rating", {"rating": rating, "solved": rating == "满意"}, {"instance_id": case})
    clock.set(datetime(2025, 10, 15, tzinfo=CHINA_TZ))
    engine.tick()
    engine.store.close()
    return path


@pytest.fixture
def engine(db: Path) -> Engine:
    return Engine(f"sqlite:///{db}", PROCESSES, china())


def test_the_tables_hold_the_figures_ranked(engine: Engine) -> None:
    report = appraisal_report(engine, *PERIOD)
    figures, trend, cards, weekly = report.tables()
    assert figures.headings[:3] == ("排名", "承办单位", "受理")
    ranked = {row[1]: row for row in figures.rows}
    assert set(ranked) == {"市城管局", "市住建局"}
    assert ranked["市城管局"][2] == 2
    assert ranked["市住建局"][2] == 1
    assert [row[0] for row in trend.rows] == ["2025-W39"]  # ISO week of Fri 2025-09-26
    assert {row[0]: row[1:4] for row in cards.rows}["市住建局"][1] >= 1  # its yellow card
    assert "2025-09-01 至 2025-10-31" in report.title
    # The yellow card of 市住建局's ticket, issued by the tick of Wed 10-15 (ISO week 42; the limit ran out on
    # 10-11 00:00, and the late tick passed over the warning).
    assert [(row[0], row[1], row[3]) for row in weekly.rows if row[1] == "市住建局"] == [
        ("2025-W42", "市住建局", 1)
    ]


def test_csv_json_and_xlsx_read_back(engine: Engine, tmp_path: Path) -> None:
    report = appraisal_report(engine, *PERIOD, by=("unit", "region"))
    first = write_report(report, "csv", tmp_path / "r.csv")
    assert first.name == "r-figures.csv"
    with first.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0][:4] == ["排名", "承办单位", "区域", "受理"]
    assert {(r[1], r[2]) for r in rows[1:]} == {("市城管局", "东区"), ("市住建局", "东区")}
    assert (
        (tmp_path / "r-cards.csv").read_text(encoding="utf-8-sig").startswith("承办单位,预警,黄牌,红牌,扣分")
    )

    body = json.loads(write_report(report, "json", tmp_path / "r.json").read_text(encoding="utf-8"))
    assert [t["name"] for t in body["tables"]] == ["figures", "trend", "cards", "weekly_cards"]
    assert body["formulas"]["bad_ratings"] == ["不满意", "非常不满意"]
    rates = {row[1]: row[10] for row in body["tables"][0]["rows"]}  # 满意率 as a fraction of one
    assert rates["市城管局"] == 0.5

    book = load_workbook(write_report(report, "xlsx", tmp_path / "r.xlsx"))
    assert len(book.sheetnames) == 4
    sheet = book[book.sheetnames[0]]
    assert sheet["A2"].value == "排名"
    assert sheet["B2"].value == "承办单位"
    assert sheet.max_row == 2 + 2  # title, headings, two units
    assert any(c.number_format == "0.0%" for c in sheet[3])


def test_bad_requests_are_refused(engine: Engine, tmp_path: Path) -> None:
    report = appraisal_report(engine, *PERIOD)
    with pytest.raises(InvalidInput):
        write_report(report, "pdf", tmp_path / "r.pdf")
    with pytest.raises(InvalidInput):
        write_report(report, "json", tmp_path / "no-such-folder" / "r.json")
    with pytest.raises(InvalidInput):
        appraisal_report(engine, PERIOD[1], PERIOD[0])


def test_the_command_writes_the_report_beside_the_database(
    db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["report", "--db", str(db), "--from", "2025-09-01", "--to", "2025-10-31", "--format", "json"])
    assert code == 0
    written = db.parent / "report-2025-09-01-2025-10-31.json"
    assert json.loads(written.read_text(encoding="utf-8"))["tables"][0]["rows"]
    assert str(written) in capsys.readouterr().err
    assert main(["report", "--db", str(db), "--from", "2025-10-31", "--to", "2025-09-01"]) == 2
    assert (
        main(["report", "--db", str(db.parent / "none.db"), "--from", "2025-09-01", "--to", "2025-09-02"])
        == 2
    )
    assert (
        main(["report", "--db", str(db), "--from", "2025-09-01", "--to", "2025-09-30", "--by", "colour"]) == 2
    )


def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        if os.environ.get("EFFICACY_FLOW_REQUIRE_CHROMIUM") == "1":
            pytest.fail("Chromium is required here (EFFICACY_FLOW_REQUIRE_CHROMIUM=1) but not installed")
        pytest.skip("no headless Chromium on this machine (Debian: apt-get install chromium fonts-noto-cjk)")
    return found


def _screenshot(browser: str, page: Path, out: Path) -> tuple[int, int, int]:
    """Render ``page`` headless to a PNG; return (width, height, bytes)."""
    subprocess.run(
        [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--window-size=1200,1800",
            f"--screenshot={out}",
            page.as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    data = out.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    return width, height, len(data)


def test_the_html_page_is_self_contained_and_renders_in_chromium(engine: Engine, tmp_path: Path) -> None:
    page = write_report(appraisal_report(engine, *PERIOD), "html", tmp_path / "r.html")
    text = page.read_text(encoding="utf-8")
    assert text.count("<svg") == 4
    assert text.count("<table>") == 4
    assert "<script" not in text
    assert "src=" not in text
    assert "href=" not in text
    assert "三率" in text
    assert "电子监察亮牌" in text
    assert "市城管局" in text
    browser = _chromium()
    blank = tmp_path / "blank.html"
    blank.write_text('<!DOCTYPE html><html><body style="background:#fff"></body></html>', encoding="utf-8")
    _, _, empty = _screenshot(browser, blank, tmp_path / "blank.png")
    width, height, size = _screenshot(browser, page, tmp_path / "r.png")
    assert (width, height) == (1200, 1800)
    # Charts, tables and Chinese text make a far larger image than a blank page of the same size.
    assert size > 5 * empty
