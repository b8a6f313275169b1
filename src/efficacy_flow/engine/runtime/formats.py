"""The saved-state format and its upgrade chain.

Every saved instance is ``{"format_version": N, "workflow": {...}}`` as compressed JSON (zstd; zlib as written
by the first releases, :func:`~.serializer.decompress_state` reads both). When the format changes, the new
version's number goes into :data:`STATE_FORMAT_VERSION` and a function ``N -> N+1`` into :data:`UPGRADES`;
loading applies the chain from whatever version was saved. Golden saved instances of every format live in
tests/engine/golden/ and are never rewritten: they are what running databases hold.

Format 2 (this release) keeps what a timer counts as text values in its task's internal data, so suspension
and extension can be counted by the calendar (engine/_suspension.py):

- ``ef_period``: the unit of the period the timer counts (a :class:`~efficacy_flow.calendar.TimeUnit` value)
  or
  ``"instant"`` for a fixed date written in the diagram;
- ``ef_limit``: the period as ``"<n> <unit>"`` (absent for an instant, and for timers saved by format 1, which
  did not record it);
- ``ef_rolled_from``: the nominal last day (ISO date) of a calendar-day or month period that rolled past rest
  days (民法典 art. 203);
- ``ef_remaining``: while suspended, what remained, as ``"<n> <unit>"``;
- ``ef_ladder``: how many steps of its deadline ladder before the due time were issued (added within format
  2: absent means none);
- ``ef_cycles_fired``: how many times a cycle timer (``timeCycle``) fired; its ``event_value`` is the next
  due instant (added within format 2: absent means none).

and, on a ready user task, its people (added within format 2: absent means none, so states saved before
read the same, and no upgrade step is needed):

- ``ef_unit``: the unit it belongs to (the process data's ``unit`` when it became ready, or the unit it was
  transferred to);
- ``ef_assignee``: who claimed it or was assigned it;
- ``ef_urges``, ``ef_urged_at``: how often it was urged and when last (ISO instant);
- ``ef_owner``, ``ef_proposal``: while it is delegated (委派), who delegated it; once the delegate did the
  work, the data they proposed for the owner to confirm.

Format 1 kept ``ef_kind`` (``"working_days"`` or ``"elapsed"``) and ``ef_remaining`` as ``"wd:<n>"`` (working
days) or ``"s:<n>"`` (seconds). The upgrade maps ``working_days`` to that period and ``elapsed`` to minutes of
elapsed time (how format 1 paused every other timer), and remaining seconds to whole minutes, rounded up (the
calendar's unit for elapsed time: :meth:`~efficacy_flow.calendar.WorkingDayCalendar.working_time_remaining`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from typing import TypeAlias

from efficacy_flow.errors import StoreError

__all__ = ["STATE_FORMAT_VERSION", "UPGRADES", "upgrade"]

#: The saved-state format this version writes (``format_version`` in every saved instance).
STATE_FORMAT_VERSION = 2

_Body: TypeAlias = "dict[str, object]"


def _tasks(workflow: object) -> Iterator[dict[str, object]]:
    """Every task dict of a saved workflow and of its subprocesses."""
    if not isinstance(workflow, dict):
        return
    for task in (workflow.get("tasks") or {}).values():
        if isinstance(task, dict):
            yield task
    for subprocess in (workflow.get("subprocesses") or {}).values():
        yield from _tasks(subprocess)


def _one_to_two(body: _Body) -> _Body:
    for task in _tasks(body.get("workflow")):
        internal = task.get("internal_data")
        if not isinstance(internal, dict):
            continue
        kind = internal.pop("ef_kind", None)
        if kind is not None:
            internal["ef_period"] = "working_days" if kind == "working_days" else "minutes"
        remaining = internal.get("ef_remaining")
        if isinstance(remaining, str) and ":" in remaining:
            unit, _, amount = remaining.partition(":")
            count = int(amount)
            if unit == "wd":
                internal["ef_remaining"] = f"{count} working_days"
            else:
                internal["ef_remaining"] = f"{math.ceil(count / 60)} minutes"
    return body


#: ``UPGRADES[n]`` turns a format-n body into a format-(n + 1) body (format 1 was the first released).
UPGRADES: dict[int, Callable[[_Body], _Body]] = {1: _one_to_two}


def upgrade(body: _Body) -> _Body:
    """Bring a saved state up to the current format.

    Raises:
        StoreError: the state has no format version, or one newer than this version of efficacy_flow reads.
    """
    version = body.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise StoreError(f"saved state has no valid format_version ({version!r})", format_version=version)
    if version > STATE_FORMAT_VERSION:
        raise StoreError(
            f"saved state format {version} is newer than this efficacy_flow reads ({STATE_FORMAT_VERSION})",
            format_version=version,
        )
    while version < STATE_FORMAT_VERSION:
        body = UPGRADES[version](body)
        version += 1
        body["format_version"] = version
    return body
