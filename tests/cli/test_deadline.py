"""``efficacy-flow deadline`` through its runner: Chinese report, JSON output, options and errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from efficacy_flow.cli import main


def test_prints_due_date_time_crossed_days_notice_and_status(capsys: pytest.CaptureFixture[str]) -> None:
    """The README's main job: due date and time, each holiday and make-up day crossed, the notice, final."""
    assert main(["deadline", "--from", "2025-09-26T10:00", "--limit", "20个工作日"]) == 0
    out = capsys.readouterr().out
    assert "截止日期：2025-10-30（星期四）" in out
    assert "截止时间：2025-10-30 24:00" in out
    assert "2025-09-28（星期日）调休上班 国庆节、中秋节" in out
    assert "2025-10-08（星期三）放假 国庆节、中秋节" in out
    assert "2025-10-11（星期六）调休上班 国庆节、中秋节" in out
    assert "国务院办公厅关于2025年部分节假日安排的通知（2024-11-12）" in out
    assert "是否暂定：否" in out


def test_names_the_notice_even_when_no_holiday_is_crossed(capsys: pytest.CaptureFixture[str]) -> None:
    """A period without holidays still says which notice covers it."""
    main(["deadline", "--from", "2025-03-03T10:00", "--limit", "5个工作日"])
    out = capsys.readouterr().out
    assert "跨越的节假日与调休：无" in out
    assert "国务院办公厅关于2025年部分节假日安排的通知（2024-11-12）" in out


def test_naive_from_is_read_as_china_time(capsys: pytest.CaptureFixture[str]) -> None:
    """A naive --from is Asia/Shanghai; an explicit offset is honoured (23:30 UTC is the next day in
    Beijing)."""
    main(["deadline", "--from", "2025-03-03T10:00", "--limit", "1个工作日", "--json"])
    naive = json.loads(capsys.readouterr().out)
    main(["deadline", "--from", "2025-03-02T23:30+00:00", "--limit", "1个工作日", "--json"])
    utc = json.loads(capsys.readouterr().out)
    assert naive["start"] == "2025-03-03T10:00:00+08:00"
    assert naive["due_date"] == utc["due_date"] == "2025-03-04"


def test_json_output_is_machine_readable(capsys: pytest.CaptureFixture[str]) -> None:
    """--json gives the deadline's fields, crossed days and notices."""
    main(["deadline", "--from", "2026-12-24T10:00", "--limit", "20 working days", "--json"])
    data = json.loads(capsys.readouterr().out)
    assert data["due_date"] == "2027-01-22"
    assert data["due_at"] == "2027-01-23T00:00:00+08:00"
    assert data["provisional"] is True
    assert data["provisional_years"] == [2027]
    assert data["limit"] == {"n": 20, "unit": "working_days", "text": "20个工作日"}
    assert data["crossed"][0]["date"] == "2027-01-01"
    assert data["calendar_version"].startswith("cn:2007-2026:")


def test_provisional_result_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    """A period into 2027 is reported as provisional, with the reason."""
    main(["deadline", "--from", "2026-12-24T10:00", "--limit", "20个工作日"])
    assert "是否暂定：是（2027年放假安排通知尚未发布" in capsys.readouterr().out


def test_strict_fails_for_an_unpublished_year(capsys: pytest.CaptureFixture[str]) -> None:
    """--strict turns the provisional year into an error (exit 2, LookupError family)."""
    assert main(["deadline", "--from", "2026-12-24T10:00", "--limit", "20个工作日", "--strict"]) == 2
    assert "2027" in capsys.readouterr().err


def test_region_and_closing_time(capsys: pytest.CaptureFixture[str]) -> None:
    """--region layers 新疆's 肉孜节; --closing-time ends the period at that time."""
    args = ["deadline", "--from", "2025-03-28T10:00", "--limit", "1个工作日", "--closing-time", "17:30"]
    main([*args, "--region", "新疆"])
    out = capsys.readouterr().out
    assert "截止日期：2025-04-01（星期二）" in out
    assert "截止时间：2025-04-01 17:30" in out
    assert "新疆维吾尔自治区人民政府办公厅关于2025年节假日放假和冬夏季作息时间安排的通知" in out


def test_data_dir_adds_a_year(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--data-dir with a 2027 notice makes the same question final."""
    (tmp_path / "national").mkdir()
    (tmp_path / "national" / "2027.yaml").write_text(
        "year: 2027\nnotices:\n  - {id: annual, title: 国务院办公厅关于2027年部分节假日安排的通知,"
        " url: https://example.gov.cn/2027, published: 2026-11-10, published_basis: notice-text}\n"
        "holidays:\n  - {name: 元旦, dates: [2027-01-01]}\n",
        encoding="utf-8",
    )
    main(["deadline", "--from", "2026-12-24T10:00", "--limit", "20个工作日", "--data-dir", str(tmp_path)])
    assert "是否暂定：否" in capsys.readouterr().out


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(["--from", "yesterday", "--limit", "5个工作日"], id="bad-from"),
        pytest.param(["--from", "2025-03-03T10:00", "--limit", "soon"], id="bad-limit"),
        pytest.param(
            ["--from", "2025-03-03T10:00", "--limit", "5日", "--region", "atlantis"], id="bad-region"
        ),
        pytest.param(
            ["--from", "2025-03-03T10:00", "--limit", "5日", "--closing-time", "5pm"], id="bad-closing-time"
        ),
    ],
)
def test_bad_input_exits_2_with_a_message(args: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    """Bad input is reported on stderr with exit code 2, and nothing on stdout."""
    assert main(["deadline", *args]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "错误 / error:" in captured.err
