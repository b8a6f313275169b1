"""``china()``: assemble the national data, a regional overlay and a jurisdiction's own files into a
calendar."""

from __future__ import annotations

from datetime import time
from pathlib import Path

from efficacy_flow.calendar._calendar import WorkingDayCalendar
from efficacy_flow.calendar._data import RegionData, bundled, load_data_dir
from efficacy_flow.errors import InvalidInput, UnknownRegion

__all__ = ["china", "known_regions"]


def _regions(data_dir: str | Path | None) -> dict[str, RegionData]:
    regions = dict(bundled().regions)
    if data_dir is not None:
        regions.update(load_data_dir(data_dir).regions)
    return regions


def known_regions(data_dir: str | Path | None = None) -> dict[str, str]:
    """The regional overlays available (bundled, plus ``data_dir``'s): region key -> its Chinese name."""
    return {key: data.name for key, data in sorted(_regions(data_dir).items())}


def china(
    region: str | None = None,
    data_dir: str | Path | None = None,
    strict: bool = False,
    *,
    closing_time: time | None = None,
) -> WorkingDayCalendar:
    """The national working-day calendar, optionally with a regional overlay and a jurisdiction's own data.

    Args:
        region: a regional overlay's key ("xinjiang", "ningxia") or one of its aliases ("新疆", "65").
        data_dir: a folder with ``national/YYYY.yaml`` (adds a year or replaces a bundled one) and/or
            ``regions/NAME.yaml`` files, in the format docs/calendar.md describes.
        strict: raise CalendarDataMissing for a year without a notice instead of computing it provisionally.
        closing_time: the office's closing time (业务时间); periods then end at that time of their last day
            instead of 24:00 (民法典 art. 203 ¶2). Naive: a wall-clock time in Asia/Shanghai.

    Raises:
        UnknownRegion: ``region`` is not defined (``known`` lists the defined ones).
        CalendarDataError: a file is invalid (its path, entry and problem are named).
        InvalidInput: ``closing_time`` is not a naive ``datetime.time``.
    """
    if closing_time is not None and (not isinstance(closing_time, time) or closing_time.tzinfo is not None):
        raise InvalidInput(
            f"closing_time must be a naive datetime.time (Asia/Shanghai wall clock), got {closing_time!r}",
            closing_time=closing_time,
        )
    data = bundled()
    national = dict(data.national)
    regions = dict(data.regions)
    digest = data.digest
    if data_dir is not None:
        extra = load_data_dir(data_dir)
        national.update(extra.national)
        regions.update(extra.regions)
        digest = f"{digest}+{extra.digest}"
    overlay = None
    if region is not None:
        overlay = regions.get(region)
        if overlay is None:
            overlay = next((r for r in regions.values() if region in r.aliases), None)
        if overlay is None:
            raise UnknownRegion(
                f"unknown region {region!r} (known: {', '.join(sorted(regions)) or 'none'})",
                region=region,
                known=sorted(regions),
            )
    return WorkingDayCalendar(
        national, region=overlay, strict=strict, closing_time=closing_time, digest=digest
    )
