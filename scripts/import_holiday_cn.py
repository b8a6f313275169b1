"""Convert NateScarlet/holiday-cn JSON into efficacy_flow's own cited holiday data (one YAML file a year).

One-off and reproducible: the library never reads holiday-cn at run time. Run from the repository root::

    python scripts/import_holiday_cn.py SOURCE TARGET

with SOURCE = tests/calendar/fixtures/holiday_cn (a copy of holiday-cn's files) and
TARGET = src/efficacy_flow/calendar/data/national.

What the converter decides (each decision is also written into docs/calendar.md):

* Days are grouped into named records: ``Holiday(name, dates)`` for days off, ``MakeUpDay(date, for_holiday)``
  for weekend days worked (调休). Colloquial names of the 2007/2008 notices (“五一”, “十一”) become the
  statutory names (劳动节, 国庆节).
* A weekday that holiday-cn lists as "not off" is not a make-up day (it is an ordinary working day;
  2020-02-03, the day work resumed after the 2020 extension, is the one case) and is dropped.
* Each record cites the notice that set it: the annual notice, or the amendment for the days an amendment
  changed (2015 anniversary of victory, 2019 May Day, 2020 Spring Festival extension).
* Publication dates come from ``NOTICE_FACTS`` below: the date the notice bears where a reprint of its
  text was checked, else the date in the gov.cn URL path where that path holds a plausible one, else
  ``null`` marked ``unverified``. Nothing is invented.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from datetime import date
from pathlib import Path

# Canonical holiday names for the colloquial ones used in the 2007–2008 notices.
CANONICAL_NAMES = {"“五一”": "劳动节", "“五一”国际劳动节": "劳动节", "“十一”": "国庆节"}


@dataclass(frozen=True)
class NoticeFact:
    """What was established about one notice beyond its URL."""

    title: str
    published: date | None
    basis: str  # "notice-text" | "url" | "unverified"
    number: str | None = None
    note: str | None = None


def _annual(year: int) -> str:
    return f"国务院办公厅关于{year}年部分节假日安排的通知"


# Keyed by notice URL. "notice-text": the date under the notice's signature, read from a reprint of its full
# text (the reprint is named in the note); "url": taken from the gov.cn path (.../YYYY-MM/DD/...), not
# independently checked; "unverified": no date could be established.
NOTICE_FACTS: dict[str, NoticeFact] = {
    "http://www.gov.cn/zhengce/zhengceku/2008-03/28/content_1761.htm": NoticeFact(
        _annual(2007),
        date(2006, 12, 14),
        "notice-text",
        "国办发明电〔2006〕49号",
        "dated 2006-12-14 (zw.china.com.cn reprint of the gov.cn page: 成文日期 2006-12-14;"
        " the URL's 2008-03-28 is the date gov.cn archived it)",
    ),
    "http://www.gov.cn/zhengce/zhengceku/2008-03/28/content_1645.htm": NoticeFact(
        _annual(2008),
        None,
        "unverified",
        None,
        "issued in December 2007 (chinanews.com reported it on 2007-12-18 as issued 近日);"
        " exact date not verified; the URL's 2008-03-28 is an archive date",
    ),
    "http://www.gov.cn/zhengce/zhengceku/2014-01/02/content_1194.htm": NoticeFact(
        _annual(2014),
        date(2013, 12, 11),
        "notice-text",
        "国办发明电〔2013〕28号",
        "dated 2013-12-11 (Xinhua text reprinted the same day); the URL's 2014-01-02 is an archive date",
    ),
    "http://www.gov.cn/zhengce/zhengceku/2015-05/13/content_9742.htm": NoticeFact(
        "国务院关于中国人民抗日战争暨世界反法西斯战争胜利70周年纪念日调休放假的通知", date(2015, 5, 13), "url"
    ),
    "http://www.gov.cn/zhengce/zhengceku/2019-03/22/content_5375877.htm": NoticeFact(
        "国务院办公厅关于调整2019年劳动节假期安排的通知", date(2019, 3, 22), "url"
    ),
    "http://www.gov.cn/zhengce/zhengceku/2019-11/21/content_5454164.htm": NoticeFact(
        _annual(2020), date(2019, 11, 21), "notice-text", "国办发明电〔2019〕16号", "dated 2019-11-21"
    ),
    "http://www.gov.cn/zhengce/zhengceku/2020-01/27/content_5472352.htm": NoticeFact(
        "国务院办公厅关于延长2020年春节假期的通知",
        date(2020, 1, 26),
        "notice-text",
        "国办发明电〔2020〕1号",
        "dated 2020-01-26, released by Xinhua on 2020-01-27",
    ),
    "https://www.gov.cn/zhengce/zhengceku/202310/content_6911528.htm": NoticeFact(
        _annual(2024),
        date(2023, 10, 25),
        "notice-text",
        "国办发明电〔2023〕7号",
        "dated 2023-10-25 (人民日报 2023-10-26 第6版)",
    ),
    "https://www.gov.cn/zhengce/zhengceku/202411/content_6986383.htm": NoticeFact(
        _annual(2025),
        date(2024, 11, 12),
        "notice-text",
        "国办发明电〔2024〕12号",
        "dated 2024-11-12 (Xinhua via gmw.cn)",
    ),
    "https://www.gov.cn/zhengce/zhengceku/202511/content_7047091.htm": NoticeFact(
        _annual(2026),
        date(2025, 11, 4),
        "notice-text",
        "国办发明电〔2025〕7号",
        "dated 2025-11-04 (Xinhua via gmw.cn)",
    ),
}

# Which holidays an amendment changed: (year, paper index) -> predicate on (name, date).
AMENDED = {
    2015: lambda name, day: name.startswith("抗日战争"),
    2019: lambda name, day: name == "劳动节",
    2020: lambda name, day: name == "春节" and day >= date(2020, 1, 31),
}

NOTICE_IDS = {2015: "anniversary-2015", 2019: "labour-day-amendment", 2020: "spring-festival-extension"}


def _url_date(url: str) -> date | None:
    parts = url.split("/")
    for i, part in enumerate(parts[:-1]):
        if len(part) == 7 and part[4] == "-" and parts[i + 1].isdigit() and len(parts[i + 1]) == 2:
            return date(int(part[:4]), int(part[5:]), int(parts[i + 1]))
    return None


def _notice(url: str, year: int, key: str, amends: str | None) -> dict[str, object]:
    fact = NOTICE_FACTS.get(url)
    if fact is None:
        published = _url_date(url)
        fact = NoticeFact(_annual(year), published, "url" if published else "unverified")
    record: dict[str, object] = {"id": key, "title": fact.title, "url": url}
    if fact.number:
        record["number"] = fact.number
    record["published"] = fact.published
    record["published_basis"] = fact.basis
    if fact.note:
        record["note"] = fact.note
    if amends:
        record["amends"] = amends
    return record


def convert(source: dict[str, object]) -> dict[str, object]:
    """Turn one holiday-cn year into the product's record structure (see docs/calendar.md)."""
    year = int(source["year"])  # type: ignore[call-overload]
    papers = list(source["papers"])  # type: ignore[call-overload]
    notices = [_notice(papers[0], year, "annual", None)]
    if len(papers) > 1:
        notices.append(_notice(papers[1], year, NOTICE_IDS[year], "annual"))
    holidays: dict[tuple[str, str], list[date]] = {}
    make_up: list[dict[str, object]] = []
    for day in source["days"]:  # type: ignore[attr-defined]
        name = CANONICAL_NAMES.get(day["name"], day["name"])
        when = date.fromisoformat(day["date"])
        key = NOTICE_IDS[year] if year in AMENDED and AMENDED[year](name, when) else "annual"
        if day["isOffDay"]:
            holidays.setdefault((name, key), []).append(when)
        elif when.weekday() >= 5:
            make_up.append({"date": when, "for_holiday": name, "notice": key})
        # else: an ordinary weekday listed as worked (2020-02-03) is not a make-up day; dropped.
    return {
        "year": year,
        "notices": notices,
        "holidays": [
            {"name": name, "dates": sorted(dates), "notice": key} for (name, key), dates in holidays.items()
        ],
        "make_up_days": sorted(make_up, key=lambda m: m["date"]),  # type: ignore[arg-type,return-value]
    }


def _yaml_scalar(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, int):
        return str(value)
    return json.dumps(str(value), ensure_ascii=False)


def render(record: dict[str, object]) -> str:
    """Render one year as YAML, laid out for review (one record a line where it fits)."""
    year = record["year"]
    lines = [
        f"# China, {year}: the State Council's holiday arrangement (efficacy_flow national holiday data).",
        "# Format: docs/calendar.md. Converted by scripts/import_holiday_cn.py from NateScarlet/holiday-cn",
        "# (MIT), which transcribes the notices below; each record cites the notice that set it.",
        f"year: {year}",
        "notices:",
    ]
    for notice in record["notices"]:  # type: ignore[attr-defined]
        first = True
        for key, value in notice.items():
            lines.append(f"  {'- ' if first else '  '}{key}: {_yaml_scalar(value)}")
            first = False
    lines.append("holidays:")
    for holiday in record["holidays"]:  # type: ignore[attr-defined]
        dates = ", ".join(d.isoformat() for d in holiday["dates"])
        lines.append(
            f"  - {{name: {_yaml_scalar(holiday['name'])}, dates: [{dates}], notice: {holiday['notice']}}}"
        )
    make_up = record["make_up_days"]
    if not make_up:
        lines.append("make_up_days: []")
    else:
        lines.append("make_up_days:")
        for day in make_up:  # type: ignore[attr-defined]
            lines.append(
                f"  - {{date: {day['date'].isoformat()}, for_holiday: {_yaml_scalar(day['for_holiday'])},"
                f" notice: {day['notice']}}}"
            )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path, help="directory with holiday-cn's YYYY.json files")
    parser.add_argument("target", type=Path, help="directory to write YYYY.yaml files into")
    args = parser.parse_args(argv)
    args.target.mkdir(parents=True, exist_ok=True)
    written = 0
    for path in sorted(args.source.glob("[0-9][0-9][0-9][0-9].json")):
        source = json.loads(path.read_text(encoding="utf-8"))
        if not source["papers"]:
            print(
                f"skip {path.name}: no notice published yet (the calendar computes that year provisionally)"
            )
            continue
        out = args.target / f"{source['year']}.yaml"
        out.write_text(render(convert(source)), encoding="utf-8")
        written += 1
    print(f"wrote {written} files to {args.target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
