"""Bad data files are refused with an error naming the file, the entry and the problem; good ones load."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from efficacy_flow.calendar import china
from efficacy_flow.errors import CalendarDataError

GOOD = """
year: 2027
notices:
  - id: annual
    title: 国务院办公厅关于2027年部分节假日安排的通知
    url: https://example.gov.cn/2027
    published: 2026-11-10
    published_basis: notice-text
holidays:
  - {name: 元旦, dates: [2026-12-31, 2027-01-01], notice: annual}
  - {name: 春节, dates: [2027-02-05, 2027-02-06, 2027-02-07, 2027-02-08], notice: annual}
make_up_days:
  - {date: 2027-02-20, for_holiday: 春节, notice: annual}
"""


def _write(tmp_path: Path, text: str, name: str = "2027.yaml", folder: str = "national") -> Path:
    (tmp_path / folder).mkdir(exist_ok=True)
    path = tmp_path / folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_good_file_loads_with_a_new_year_bridge_day(tmp_path: Path) -> None:
    """元旦 may reach into the previous year's last week (the 2019 notice sets 2018-12-30/31)."""
    _write(tmp_path, GOOD)
    cal = china(data_dir=tmp_path)
    assert not cal.is_working_day(date(2027, 2, 8))
    assert cal.is_working_day(date(2027, 2, 20))
    assert not cal.is_provisional(2027)


@pytest.mark.parametrize(
    ("replace", "by", "entry", "problem"),
    [
        pytest.param(
            "2027-02-20",
            "2027-02-22",
            "make_up_days[0] (2027-02-22)",
            "must be a Saturday or Sunday",
            id="make-up-on-a-weekday",
        ),
        pytest.param(
            "2027-02-20", "2027-02-06", "make_up_days[0] (2027-02-06)", "both a day off", id="both-off-and-on"
        ),
        pytest.param(
            "2027-02-08]",
            "2027-02-08, 2028-01-03]",
            "holidays[1] (春节)",
            "outside 2027",
            id="date-after-the-year",
        ),
        pytest.param(
            "2026-12-31, 2027-01-01",
            "2026-12-01, 2027-01-01",
            "holidays[0] (元旦)",
            "outside 2027",
            id="bridge-too-early",
        ),
        pytest.param(
            "{name: 春节, dates: [2027-02-05",
            "{name: 春节, dates: [2026-12-30",
            "holidays[1] (春节)",
            "outside 2027",
            id="bridge-only-for-new-year",
        ),
        pytest.param(
            "notice: annual}\nmake_up_days",
            "notice: other}\nmake_up_days",
            "holidays[1] (春节)",
            "unknown notice",
            id="unknown-notice",
        ),
        pytest.param(
            "    url: https://example.gov.cn/2027\n", "", "notices[0]", "a source is required", id="no-url"
        ),
        pytest.param(
            "    published: 2026-11-10\n", "", "notices[0]", "published is missing", id="no-date-not-marked"
        ),
        pytest.param("year: 2027", "year: 2028", "year", "named for 2027", id="year-mismatch"),
        pytest.param("2027-02-08]", "2027-02-31]", "holidays[1].dates[3]", "not a date", id="bad-date"),
        pytest.param(
            "2027-02-08]",
            "20270208]",
            "holidays[1].dates[3]",
            "not a date (write YYYY-MM-DD)",
            id="basic-date",
        ),
        pytest.param(
            "for_holiday: 春节,",
            "holiday: 春节,",
            "make_up_days[0].holiday",
            "unknown field 'holiday'",
            id="unknown-field",
        ),
        pytest.param(
            "published_basis: notice-text",
            "published_basis: rumour",
            "notices[0].published_basis",
            "must be one of 'notice-text', 'url', 'unverified' or 'statutory-rule', got 'rumour'",
            id="unknown-basis",
        ),
        pytest.param("year: 2027", "year: '2027'", "year", "must be a whole number", id="year-as-text"),
        pytest.param("2027-02-08]", "2027-02-05]", "holidays[1] (春节)", "already listed", id="listed-twice"),
    ],
)
def test_bad_file_names_file_entry_and_problem(
    tmp_path: Path, replace: str, by: str, entry: str, problem: str
) -> None:
    """Each broken rule raises CalendarDataError with path, entry and problem fields."""
    assert replace in GOOD
    path = _write(tmp_path, GOOD.replace(replace, by, 1))
    with pytest.raises(CalendarDataError) as info:
        china(data_dir=tmp_path)
    assert info.value.path == str(path)
    assert info.value.entry == entry
    assert problem in info.value.problem
    assert isinstance(info.value, ValueError)


def test_a_file_without_notices_is_refused(tmp_path: Path) -> None:
    """A source is required: a year with no notice at all is refused."""
    _write(tmp_path, "year: 2027\nholidays: []\n")
    with pytest.raises(CalendarDataError, match="notices"):
        china(data_dir=tmp_path)


def test_invalid_yaml_is_refused(tmp_path: Path) -> None:
    """A file that is not YAML names itself."""
    path = _write(tmp_path, "year: [2027\n")
    with pytest.raises(CalendarDataError) as info:
        china(data_dir=tmp_path)
    assert (info.value.path, info.value.entry) == (str(path), "(file)")


def test_a_conflict_between_two_files_is_refused(tmp_path: Path) -> None:
    """2019's notice makes 2018-12-29 a working Saturday; a 2018 file calling it a holiday conflicts."""
    text = """
year: 2018
notices:
  - {id: annual, title: t, url: https://example.gov.cn/2018, published: 2017-11-30, published_basis: url}
holidays:
  - {name: 元旦, dates: [2018-12-29]}
"""
    _write(tmp_path, text, "2018.yaml")
    with pytest.raises(CalendarDataError, match="conflicts"):
        china(data_dir=tmp_path)


def test_missing_data_dir_is_refused(tmp_path: Path) -> None:
    """A data_dir that does not exist is an error, not silently ignored."""
    with pytest.raises(CalendarDataError) as info:
        china(data_dir=tmp_path / "nope")
    assert info.value.entry == "(directory)"


def test_a_bad_region_file_names_its_year_entry(tmp_path: Path) -> None:
    """Regional files are validated the same way, entries prefixed with their year."""
    text = """
region: demo
name: 示例自治州
years:
  - year: 2026
    notices: [{id: r, title: t, url: https://example.gov.cn/r, published_basis: unverified}]
    make_up_days: [{date: 2026-03-02, for_holiday: x}]
"""
    _write(tmp_path, text, "demo.yaml", "regions")
    with pytest.raises(CalendarDataError) as info:
        china(data_dir=tmp_path, region="demo")
    assert info.value.entry == "years[0].make_up_days[0] (2026-03-02)"
