"""Holiday data: the records, and reading and validating the YAML files that hold them.

A national file holds one year (``national/2025.yaml``); a regional file holds a region's overlay for any
number of years (``regions/xinjiang.yaml``). docs/calendar.md describes the format. Every problem raises
:class:`~efficacy_flow.errors.CalendarDataError` naming the file, the entry and the problem.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

import yaml

from efficacy_flow.errors import CalendarDataError

__all__ = [
    "DataSet",
    "Holiday",
    "MakeUpDay",
    "Notice",
    "RegionData",
    "YearData",
    "bundled",
    "load_data_dir",
    "parse_region",
    "parse_year",
]


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """A safe loader that keeps dates as text, so a bad date is reported with its entry, not as a YAML
    error."""


_Loader.add_constructor("tag:yaml.org,2002:timestamp", lambda loader, node: loader.construct_scalar(node))

PUBLISHED_BASES = ("notice-text", "url", "unverified", "statutory-rule")
GRADES = ("official", "secondary", "statutory-rule")
# A notice for year Y may set 元旦 bridge days in the last week of December of Y-1 (the 2007, 2008, 2012, 2019
# and 2023 notices do); nothing else may leave its year.
NEW_YEAR = "元旦"
BRIDGE_FROM = (12, 25)


@dataclass(frozen=True, slots=True)
class Notice:
    """The document a year's (or a region's) holiday arrangement comes from.

    Attributes:
        id: short key the file's records use to cite it ("annual", "labour-day-amendment", ...).
        title: the notice's title.
        url: where its text is (for [secondary] notices, the reprint that was read).
        published: the date the notice bears, or ``None`` when it could not be established.
        published_basis: how ``published`` is known: "notice-text", "url" (from the URL path), "unverified",
            or "statutory-rule" (computed data for a year without a notice).
        number: its document number (文号), where known.
        note: anything a reader needs to weigh the citation.
        amends: the id of the notice this one changes, for amendments.
        grade: "official", "secondary" (a reprint or report), or "statutory-rule".
    """

    id: str
    title: str
    url: str | None
    published: date | None
    published_basis: str
    number: str | None = None
    note: str | None = None
    amends: str | None = None
    grade: str = "official"


@dataclass(frozen=True, slots=True)
class Holiday:
    """Days off (放假) under one name, as one notice set them; ``dates`` may include the weekend days
    inside."""

    name: str
    dates: tuple[date, ...]
    notice: Notice
    #: True for days computed from the statutory rules (unpublished years), not read from a notice.
    provisional: bool = False


@dataclass(frozen=True, slots=True)
class MakeUpDay:
    """A weekend day worked (调休上班) to bridge ``for_holiday``."""

    date: date
    for_holiday: str
    notice: Notice


@dataclass(frozen=True, slots=True)
class YearData:
    """One year's arrangement: its notices, holidays and make-up days, and the file it came from."""

    year: int
    notices: tuple[Notice, ...]
    holidays: tuple[Holiday, ...]
    make_up_days: tuple[MakeUpDay, ...]
    path: str
    provisional: bool = False


@dataclass(frozen=True, slots=True)
class RegionData:
    """A region's overlay (民族自治地方 holidays) over the national calendar."""

    region: str
    name: str
    aliases: tuple[str, ...]
    years: tuple[YearData, ...]
    path: str


@dataclass(frozen=True, slots=True)
class DataSet:
    """Everything one calendar is built from, with a digest of the files' bytes (the data version)."""

    national: Mapping[int, YearData]
    regions: Mapping[str, RegionData]
    digest: str


def _fail(path: str, entry: str, problem: str) -> CalendarDataError:
    return CalendarDataError(f"{path}: {entry}: {problem}", path=path, entry=entry, problem=problem)


def _load_yaml(text: str, path: str) -> Any:
    try:
        return yaml.load(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        raise _fail(path, "(file)", f"not valid YAML: {exc}") from exc


def _mapping(
    value: Any, path: str, entry: str, allowed: Iterable[str], required: Iterable[str]
) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _fail(path, entry, f"expected a mapping, got {type(value).__name__}")
    unknown = sorted(set(value) - set(allowed))
    if unknown:
        raise _fail(path, entry, f"unknown field(s) {', '.join(map(str, unknown))}")
    missing = [key for key in required if value.get(key) in (None, "", [])]
    if missing:
        raise _fail(path, entry, f"missing required field(s) {', '.join(missing)}")
    return value


def _text(value: Any, path: str, entry: str, field: str, *, optional: bool = False) -> str | None:
    if value is None and optional:
        return None
    if not isinstance(value, str) or not value.strip():
        raise _fail(path, entry, f"{field} must be non-empty text, got {value!r}")
    return value


def _date(value: Any, path: str, entry: str) -> date:
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise _fail(path, entry, f"{value!r} is not a date (write YYYY-MM-DD)")


def _notice(raw: Any, path: str, entry: str, default_grade: str) -> Notice:
    fields = ("id", "title", "url", "published", "published_basis", "number", "note", "amends", "grade")
    data = _mapping(raw, path, entry, fields, ("id", "title", "published_basis"))
    basis = data["published_basis"]
    if basis not in PUBLISHED_BASES:
        raise _fail(
            path, entry, f"published_basis must be one of {', '.join(PUBLISHED_BASES)}, got {basis!r}"
        )
    published = None if data.get("published") is None else _date(data["published"], path, entry)
    if published is None and basis != "unverified":
        raise _fail(path, entry, "published is missing: give the date or mark published_basis: unverified")
    grade = data.get("grade", default_grade)
    if grade not in GRADES:
        raise _fail(path, entry, f"grade must be one of {', '.join(GRADES)}, got {grade!r}")
    url = _text(data.get("url"), path, entry, "url", optional=True)
    if url is None and grade != "statutory-rule":
        raise _fail(path, entry, "a source is required: give the notice's url")
    return Notice(
        id=str(data["id"]),
        title=str(_text(data["title"], path, entry, "title")),
        url=url,
        published=published,
        published_basis=basis,
        number=_text(data.get("number"), path, entry, "number", optional=True),
        note=_text(data.get("note"), path, entry, "note", optional=True),
        amends=None if data.get("amends") is None else str(data["amends"]),
        grade=grade,
    )


def _in_year(day: date, year: int, name: str) -> bool:
    if day.year == year:
        return True
    return day.year == year - 1 and name == NEW_YEAR and (day.month, day.day) >= BRIDGE_FROM


def parse_year(raw: Any, path: str, *, prefix: str = "", expected_year: int | None = None) -> YearData:
    """Validate one year's mapping and build its records.

    Checks: a year and at least one notice with a source; every record cites a notice of the file; dates lie
    inside the year (元旦 bridge days in the last week of the previous December excepted); a make-up day is a
    Saturday or Sunday; no date is both a day off and a day worked, or listed twice.

    Raises:
        CalendarDataError: naming ``path``, the entry and the problem.
    """
    fields = ("year", "notices", "holidays", "make_up_days")
    data = _mapping(raw, path, prefix or "(file)", fields, ("year", "notices"))
    year = data["year"]
    if isinstance(year, bool) or not isinstance(year, int):
        raise _fail(path, f"{prefix}year", f"must be a whole number, got {year!r}")
    if expected_year is not None and year != expected_year:
        raise _fail(path, f"{prefix}year", f"says {year} but the file is named for {expected_year}")
    if not isinstance(data["notices"], list):
        raise _fail(path, f"{prefix}notices", "a source is required: list at least one notice")
    notices = tuple(
        _notice(n, path, f"{prefix}notices[{i}]", "official") for i, n in enumerate(data["notices"])
    )
    by_id = {n.id: n for n in notices}
    if len(by_id) != len(notices):
        raise _fail(path, f"{prefix}notices", "two notices share an id")
    for i, notice in enumerate(notices):
        if notice.amends is not None and notice.amends not in by_id:
            raise _fail(path, f"{prefix}notices[{i}]", f"amends unknown notice {notice.amends!r}")

    def cite(value: Any, entry: str) -> Notice:
        if len(notices) == 1 and value is None:
            return notices[0]
        if value not in by_id:
            raise _fail(path, entry, f"cites unknown notice {value!r} (known: {', '.join(by_id)})")
        return by_id[value]

    off: dict[date, str] = {}
    holidays = []
    for i, raw_holiday in enumerate(data.get("holidays") or []):
        entry = f"{prefix}holidays[{i}]"
        h = _mapping(raw_holiday, path, entry, ("name", "dates", "notice"), ("name", "dates"))
        name = str(_text(h["name"], path, entry, "name"))
        entry = f"{entry} ({name})"
        if not isinstance(h["dates"], list):
            raise _fail(path, entry, "dates must be a list of dates")
        dates = tuple(sorted(_date(d, path, entry) for d in h["dates"]))
        for day in dates:
            if not _in_year(day, year, name):
                raise _fail(path, entry, f"{day} lies outside {year}")
            if day in off:
                raise _fail(path, entry, f"{day} is already listed as a day off ({off[day]})")
            off[day] = name
        holidays.append(Holiday(name, dates, cite(h.get("notice"), entry)))
    make_up = []
    seen_on: set[date] = set()
    for i, raw_day in enumerate(data.get("make_up_days") or []):
        entry = f"{prefix}make_up_days[{i}]"
        m = _mapping(raw_day, path, entry, ("date", "for_holiday", "notice"), ("date", "for_holiday"))
        day = _date(m["date"], path, entry)
        holiday = str(_text(m["for_holiday"], path, entry, "for_holiday"))
        entry = f"{entry} ({day})"
        if day.weekday() < 5:
            raise _fail(
                path, entry, f"a make-up working day must be a Saturday or Sunday, {day} is a weekday"
            )
        if not _in_year(day, year, holiday):
            raise _fail(path, entry, f"{day} lies outside {year}")
        if day in off:
            raise _fail(path, entry, f"{day} is both a day off ({off[day]}) and a make-up working day")
        if day in seen_on:
            raise _fail(path, entry, f"{day} is listed twice")
        seen_on.add(day)
        make_up.append(MakeUpDay(day, holiday, cite(m.get("notice"), entry)))
    return YearData(year, notices, tuple(holidays), tuple(make_up), path)


def parse_region(raw: Any, path: str, *, expected_name: str | None = None) -> RegionData:
    """Validate a regional overlay file (``region``, ``name``, ``aliases``, ``years``: a list of years).

    Raises:
        CalendarDataError: naming ``path``, the entry and the problem.
    """
    data = _mapping(raw, path, "(file)", ("region", "name", "aliases", "years"), ("region", "name", "years"))
    region = str(_text(data["region"], path, "region", "region"))
    if expected_name is not None and region != expected_name:
        raise _fail(path, "region", f"says {region!r} but the file is named {expected_name!r}")
    aliases = data.get("aliases") or []
    if not isinstance(aliases, list):
        raise _fail(path, "aliases", "must be a list")
    if not isinstance(data["years"], list):
        raise _fail(path, "years", "must be a list of years")
    years = tuple(parse_year(y, path, prefix=f"years[{i}].") for i, y in enumerate(data["years"]))
    if len({y.year for y in years}) != len(years):
        raise _fail(path, "years", "a year is listed twice")
    return RegionData(region, str(data["name"]), tuple(str(a) for a in aliases), years, path)


def _read_national(files: Iterable[tuple[str, str, str]]) -> dict[int, YearData]:
    years: dict[int, YearData] = {}
    for stem, text, path in files:
        if not stem.isdigit():
            raise _fail(path, "(file)", "a national file must be named for its year, e.g. 2027.yaml")
        years[int(stem)] = parse_year(_load_yaml(text, path), path, expected_year=int(stem))
    return years


def _read_regions(files: Iterable[tuple[str, str, str]]) -> dict[str, RegionData]:
    regions: dict[str, RegionData] = {}
    for stem, text, path in files:
        regions[stem] = parse_region(_load_yaml(text, path), path, expected_name=stem)
    return regions


def _yaml_files(folder: Traversable) -> list[tuple[str, str, str]]:
    if not folder.is_dir():
        return []
    found = sorted((f for f in folder.iterdir() if f.name.endswith(".yaml")), key=lambda f: f.name)
    return [(f.name[: -len(".yaml")], f.read_text(encoding="utf-8"), str(f)) for f in found]


def _digest(parts: Sequence[tuple[str, str, str]]) -> str:
    sha = hashlib.sha256()
    for stem, text, _path in parts:
        sha.update(stem.encode())
        sha.update(b"\0")
        sha.update(text.encode())
        sha.update(b"\0")
    return sha.hexdigest()


@cache
def bundled() -> DataSet:
    """The data shipped with the package (read once per process; the records are immutable)."""
    root = resources.files("efficacy_flow.calendar") / "data"
    national_files = _yaml_files(root / "national")
    region_files = _yaml_files(root / "regions")
    return DataSet(
        _read_national(national_files),
        _read_regions(region_files),
        _digest(
            [("national/" + s, t, p) for s, t, p in national_files]
            + [("regions/" + s, t, p) for s, t, p in region_files]
        ),
    )


def load_data_dir(data_dir: str | Path) -> DataSet:
    """Read a jurisdiction's own files: ``<data_dir>/national/YYYY.yaml`` and
    ``<data_dir>/regions/NAME.yaml``.

    A national file replaces the bundled file for its year (a changed notice) or adds a year (a new notice);
    a regional file replaces or adds a region.

    Raises:
        CalendarDataError: the directory does not exist or holds neither folder, or a file is invalid.
    """
    root = Path(data_dir)
    if not root.is_dir():
        raise _fail(str(root), "(directory)", "data_dir does not exist or is not a directory")
    national_dir, regions_dir = root / "national", root / "regions"
    if not national_dir.is_dir() and not regions_dir.is_dir():
        raise _fail(str(root), "(directory)", "holds neither a national/ nor a regions/ folder")
    national_files = _yaml_files(national_dir)
    region_files = _yaml_files(regions_dir)
    return DataSet(
        _read_national(national_files),
        _read_regions(region_files),
        _digest(
            [("national/" + s, t, p) for s, t, p in national_files]
            + [("regions/" + s, t, p) for s, t, p in region_files]
        ),
    )
