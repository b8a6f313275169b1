"""Holiday data: the records, and reading and validating the YAML files that hold them.

A national file holds one year (``national/2025.yaml``); a regional file holds a region's overlay for any
number of years (``regions/xinjiang.yaml``). docs/calendar.md describes the format; the files are read
through :class:`NationalFile` and :class:`RegionFile` (their JSON Schemas are
docs/schemas/holidays-national.schema.json and holidays-region.schema.json), then checked against each other.
Every problem raises
:class:`~efficacy_flow.errors.CalendarDataError` naming the file, the entry and the problem.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, PlainValidator, WithJsonSchema, model_validator

from efficacy_flow._parsing import FileModel, NonEmptyText, load_yaml, read_file, validate_file
from efficacy_flow.errors import CalendarDataError

__all__ = [
    "DataSet",
    "Holiday",
    "MakeUpDay",
    "NationalFile",
    "Notice",
    "RegionData",
    "RegionFile",
    "YearData",
    "bundled",
    "load_data_dir",
    "parse_region",
    "parse_year",
]


PublishedBasis = Literal["notice-text", "url", "unverified", "statutory-rule"]
Grade = Literal["official", "secondary", "statutory-rule"]
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


# --- the files ----------------------------------------------------------------------------------------------

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _iso_date(value: object) -> date:
    if isinstance(value, date):
        return value
    if isinstance(value, str) and _ISO_DATE.fullmatch(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise ValueError(f"{value!r} is not a date (write YYYY-MM-DD)")


#: A day as YYYY-MM-DD (the files are read with dates as text, so a bad one is reported with its entry).
IsoDate = Annotated[
    date,
    PlainValidator(_iso_date),
    WithJsonSchema({"type": "string", "format": "date", "pattern": r"^\d{4}-\d{2}-\d{2}$"}),
]


class NoticeModel(FileModel):
    """The document a year's (or a region's) holiday arrangement comes from."""

    id: NonEmptyText
    """The short key the file's records cite it by ("annual", "labour-day-amendment")."""
    title: NonEmptyText
    """The notice's title."""
    url: NonEmptyText | None = None
    """Where its text is (for a secondary notice, the reprint that was read); required unless grade is
    statutory-rule."""
    published: IsoDate | None = None
    """The date the notice bears (YYYY-MM-DD); required unless published_basis is unverified."""
    published_basis: PublishedBasis
    """How published is known: notice-text (the notice states it), url (read from the URL path), unverified,
    or statutory-rule (computed data for a year without a notice)."""
    number: NonEmptyText | None = None
    """Its document number (文号), where known."""
    note: NonEmptyText | None = None
    """Anything a reader needs to weigh the citation."""
    amends: NonEmptyText | None = None
    """The id of the notice of the same file this one changes (for amendments)."""
    grade: Grade = "official"
    """official, secondary (a reprint or a report) or statutory-rule; default official."""

    @model_validator(mode="after")
    def _cited(self) -> NoticeModel:
        if self.published is None and self.published_basis != "unverified":
            raise ValueError("published is missing: give the date or mark published_basis: unverified")
        if self.url is None and self.grade != "statutory-rule":
            raise ValueError("a source is required: give the notice's url")
        return self


class HolidayModel(FileModel):
    """Days off (放假) under one name, as one notice set them."""

    name: NonEmptyText
    """The holiday's name as the notice gives it (春节, 国庆节、中秋节)."""
    dates: Annotated[list[IsoDate], Field(min_length=1)]
    """Every day off, the weekend days inside the run included."""
    notice: NonEmptyText | None = None
    """The id of the notice that set them; may be left out when the file has one notice."""


class MakeUpDayModel(FileModel):
    """A weekend day worked (调休上班) to bridge a holiday."""

    date: IsoDate
    """The Saturday or Sunday worked."""
    for_holiday: NonEmptyText
    """The name of the holiday it bridges."""
    notice: NonEmptyText | None = None
    """The id of the notice that set it; may be left out when the file has one notice."""


class NationalFile(FileModel):
    """One year's holiday arrangement (national/YYYY.yaml, or one year of a regional file), each record citing
    its notice."""

    year: int
    """The year (the national file's name is this year)."""
    notices: Annotated[list[NoticeModel], Field(min_length=1)]
    """The notices the records cite; a source is required, so at least one."""
    holidays: list[HolidayModel] = Field(default_factory=list)
    """The days off, by holiday; default none."""
    make_up_days: list[MakeUpDayModel] = Field(default_factory=list)
    """The weekend days worked; default none."""


class RegionFile(FileModel):
    """A region's overlay (民族自治地方 holidays) over the national calendar (regions/NAME.yaml)."""

    region: NonEmptyText
    """The region's key: the file's name, what china(region=...) takes."""
    name: NonEmptyText
    """The region's name (新疆维吾尔自治区)."""
    aliases: list[NonEmptyText] = Field(default_factory=list)
    """Other names china(region=...) accepts (新疆, the administrative code "65"); default none."""
    years: Annotated[list[NationalFile], Field(min_length=1)]
    """The region's own days, one entry per year, in the national files' format."""


# --- the checks across records ------------------------------------------------------------------------------


def _fail(path: str, entry: str, problem: str) -> CalendarDataError:
    return CalendarDataError(f"{path}: {entry}: {problem}", path=path, entry=entry, problem=problem)


def _in_year(day: date, year: int, name: str) -> bool:
    if day.year == year:
        return True
    return day.year == year - 1 and name == NEW_YEAR and (day.month, day.day) >= BRIDGE_FROM


def _year(data: NationalFile, path: str, *, prefix: str = "", expected_year: int | None = None) -> YearData:
    """Check one validated year and build its records.

    Checks: the year matches the file's name; notice ids are unique and amendments name one of them; every
    record cites a notice of the file; dates lie inside the year (元旦 bridge days in the last week of the
    previous December excepted); a make-up day is a Saturday or Sunday; no date is both a day off and a day
    worked, or listed twice.

    Raises:
        CalendarDataError: naming ``path``, the entry and the problem.
    """
    year = data.year
    if expected_year is not None and year != expected_year:
        raise _fail(path, f"{prefix}year", f"says {year} but the file is named for {expected_year}")
    notices = tuple(Notice(**n.model_dump()) for n in data.notices)
    by_id = {n.id: n for n in notices}
    if len(by_id) != len(notices):
        raise _fail(path, f"{prefix}notices", "two notices share an id")
    for i, notice in enumerate(notices):
        if notice.amends is not None and notice.amends not in by_id:
            raise _fail(path, f"{prefix}notices[{i}]", f"amends unknown notice {notice.amends!r}")

    def cite(value: str | None, entry: str) -> Notice:
        if len(notices) == 1 and value is None:
            return notices[0]
        if value not in by_id:
            raise _fail(path, entry, f"cites unknown notice {value!r} (known: {', '.join(by_id)})")
        return by_id[value]

    off: dict[date, str] = {}
    holidays = []
    for i, holiday in enumerate(data.holidays):
        entry = f"{prefix}holidays[{i}] ({holiday.name})"
        dates = tuple(sorted(holiday.dates))
        for day in dates:
            if not _in_year(day, year, holiday.name):
                raise _fail(path, entry, f"{day} lies outside {year}")
            if day in off:
                raise _fail(path, entry, f"{day} is already listed as a day off ({off[day]})")
            off[day] = holiday.name
        holidays.append(Holiday(holiday.name, dates, cite(holiday.notice, entry)))
    make_up = []
    seen_on: set[date] = set()
    for i, worked in enumerate(data.make_up_days):
        day = worked.date
        entry = f"{prefix}make_up_days[{i}] ({day})"
        if day.weekday() < 5:
            raise _fail(
                path, entry, f"a make-up working day must be a Saturday or Sunday, {day} is a weekday"
            )
        if not _in_year(day, year, worked.for_holiday):
            raise _fail(path, entry, f"{day} lies outside {year}")
        if day in off:
            raise _fail(path, entry, f"{day} is both a day off ({off[day]}) and a make-up working day")
        if day in seen_on:
            raise _fail(path, entry, f"{day} is listed twice")
        seen_on.add(day)
        make_up.append(MakeUpDay(day, worked.for_holiday, cite(worked.notice, entry)))
    return YearData(year, notices, tuple(holidays), tuple(make_up), path)


def parse_year(raw: Any, path: str, *, expected_year: int | None = None) -> YearData:
    """Validate one national file's loaded data (see :class:`NationalFile` and :func:`_year`).

    Raises:
        CalendarDataError: naming ``path``, the entry and the problem.
    """
    return _year(validate_file(NationalFile, raw, path, CalendarDataError), path, expected_year=expected_year)


def parse_region(raw: Any, path: str, *, expected_name: str | None = None) -> RegionData:
    """Validate a regional overlay file's loaded data (see :class:`RegionFile`); each year is checked as a
    national file is, its entries prefixed with ``years[i].``.

    Raises:
        CalendarDataError: naming ``path``, the entry and the problem.
    """
    data = validate_file(RegionFile, raw, path, CalendarDataError)
    if expected_name is not None and data.region != expected_name:
        raise _fail(path, "region", f"says {data.region!r} but the file is named {expected_name!r}")
    years = tuple(_year(y, path, prefix=f"years[{i}].") for i, y in enumerate(data.years))
    if len({y.year for y in years}) != len(years):
        raise _fail(path, "years", "a year is listed twice")
    return RegionData(data.region, data.name, tuple(data.aliases), years, path)


def _load(data: bytes, path: str) -> Any:
    return load_yaml(data, path, CalendarDataError, dates_as_text=True)


def _read_national(files: Iterable[tuple[str, bytes, str]]) -> dict[int, YearData]:
    years: dict[int, YearData] = {}
    for stem, data, path in files:
        if not stem.isdigit():
            raise _fail(path, "(file)", "a national file must be named for its year, e.g. 2027.yaml")
        years[int(stem)] = parse_year(_load(data, path), path, expected_year=int(stem))
    return years


def _read_regions(files: Iterable[tuple[str, bytes, str]]) -> dict[str, RegionData]:
    regions: dict[str, RegionData] = {}
    for stem, data, path in files:
        regions[stem] = parse_region(_load(data, path), path, expected_name=stem)
    return regions


def _yaml_files(folder: Traversable) -> list[tuple[str, bytes, str]]:
    if not folder.is_dir():
        return []
    found = sorted((f for f in folder.iterdir() if f.name.endswith(".yaml")), key=lambda f: f.name)
    return [
        (f.name[: -len(".yaml")], read_file(f, CalendarDataError, fields={"entry": "(file)"}), str(f))
        for f in found
    ]


def _digest(parts: Sequence[tuple[str, bytes, str]]) -> str:
    # Over the files' bytes: for UTF-8 files, the same digest as the decoded text gave before.
    sha = hashlib.sha256()
    for stem, data, _path in parts:
        sha.update(stem.encode())
        sha.update(b"\0")
        sha.update(data)
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
