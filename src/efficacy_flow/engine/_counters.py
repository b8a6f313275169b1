"""Durable counters: how many instances of a process started for one key (a unit) in a period.

The table is ``counters.yaml`` beside the processes (absent: no counters). Each counter names a process, the
start-data field it counts by (``key``), a period and the process variable that receives the count. When an
instance of that process starts, in the same transaction as the instance row, the engine locks the
(counter, key), records an event row, counts the events of the current period (this one included), sets the
variable before the workflow's first step and audits a ``counter_incremented`` event (docs/engine.md,
"Durable counters").
"""

from __future__ import annotations

import calendar as _calendar
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import Field

from efficacy_flow._parsing import FileModel, NonEmptyText, load_yaml, read_file, validate_file
from efficacy_flow.clock import CHINA_TZ
from efficacy_flow.engine._audit import Event
from efficacy_flow.engine._definitions import Deployment
from efficacy_flow.errors import ProcessDefinitionError
from efficacy_flow.store import Reader, Transaction

__all__ = [
    "COUNTERS_FILE",
    "PERIODS",
    "CounterSpec",
    "CountersFile",
    "Period",
    "count_start",
    "current_count",
    "load_counters",
    "period_start",
]

COUNTERS_FILE = "counters.yaml"
Period = Literal["calendar_year", "rolling_12_months", "all_time"]
#: calendar_year: [1 January 00:00 Asia/Shanghai, now]; rolling_12_months: (now − 12 months, now]; all_time.
PERIODS: tuple[Period, ...] = ("calendar_year", "rolling_12_months", "all_time")


class CounterModel(FileModel):
    """One durable counter: which starts it counts, by what, over which period, into which variable."""

    label: NonEmptyText
    """The counter's name for people, in Chinese (常态化督查发现问题次数)."""
    process: NonEmptyText
    """The id of the process whose starts are counted."""
    key: NonEmptyText
    """The start-data field counted by (a unit, say): a declared start field of the process, never personal
    data."""
    period: Period
    """calendar_year: 1 January 00:00 Asia/Shanghai to now; rolling_12_months: the twelve months before now;
    all_time."""
    variable: NonEmptyText
    """The process variable that receives the count (this start included) before the first step."""
    source: NonEmptyText
    """Where the counting rule comes from: a seed file and section, a statute and article, or
    "[setting] …"."""


class CountersFile(FileModel):
    """counters.yaml: the durable counters of the processes in a folder."""

    version: Literal[1]
    """The file format; 1 is the only one."""
    counters: dict[str, CounterModel] = Field(default_factory=dict)
    """Counter name (what engine.counter() takes) → the counter; default none."""


@dataclass(frozen=True, slots=True)
class CounterSpec:
    """One entry of counters.yaml."""

    name: str
    label: str
    process: str
    key: str
    period: Period
    variable: str
    source: str


def load_counters(folder: str | Path, deployments: Mapping[str, Deployment]) -> dict[str, CounterSpec]:
    """Read and check ``counters.yaml`` in ``folder`` against the processes it counts; {} when absent.

    ``deployments`` maps process ids to the deployments a counter may name.

    Raises:
        ProcessDefinitionError: unreadable YAML, a file that does not fit :class:`CountersFile` (an unknown
            version, period or key, a missing field), an unknown process, or a key that is not a declared
            (non-personal) start field of the process (``path``; ``entry`` such as
            ``counters.supervision_findings.key``).
    """
    path = Path(folder) / COUNTERS_FILE
    if not path.exists():
        return {}
    where = str(path)
    raw = load_yaml(read_file(path, ProcessDefinitionError), where, ProcessDefinitionError)
    table = validate_file(CountersFile, raw, where, ProcessDefinitionError)
    specs: dict[str, CounterSpec] = {}
    for name, entry in table.counters.items():
        spec = CounterSpec(name=name, **entry.model_dump())
        _check(spec, deployments, where)
        specs[spec.name] = spec
    return specs


def _check(spec: CounterSpec, deployments: Mapping[str, Deployment], where: str) -> None:
    def bad(field: str, problem: str) -> ProcessDefinitionError:
        entry = f"counters.{spec.name}.{field}"
        return ProcessDefinitionError(
            f"{where}: {entry}: {problem}", path=where, entry=entry, problem=problem
        )

    dep = deployments.get(spec.process)
    if dep is None:
        raise bad("process", f"unknown process {spec.process!r}")
    if not spec.variable.isidentifier() or spec.variable.startswith("_"):
        raise bad("variable", f"variable {spec.variable!r} is not a valid variable name")
    if spec.variable == spec.key:
        raise bad("variable", "variable and key must differ")
    start = dep.schema.start
    if start is None or spec.key not in start.model_fields:
        raise bad("key", f"key {spec.key!r} is not a start field of {spec.process} (schemas.yaml)")
    if spec.key in dep.schema.pii:
        # The key is stored in clear in ef_counters and in the audit event: never personal data.
        raise bad("key", f"key {spec.key!r} is personal data ({dep.schema.pii[spec.key]})")


def period_start(period: Period, now: datetime) -> tuple[datetime | None, bool]:
    """Where the period that ends at ``now`` begins: (instant, inclusive); (None, True) for all time.

    calendar_year: 1 January 00:00 Asia/Shanghai of now's year, inclusive. rolling_12_months: the same
    wall-clock time twelve months earlier (29 February → 28 February), exclusive.
    """
    local = now.astimezone(CHINA_TZ)
    if period == "calendar_year":
        return datetime(local.year, 1, 1, tzinfo=CHINA_TZ), True
    if period == "rolling_12_months":
        year = local.year - 1
        day = min(local.day, _calendar.monthrange(year, local.month)[1])
        return local.replace(year=year, day=day), False
    return None, True


def current_count(tx: Reader, spec: CounterSpec, key: str, now: datetime) -> int:
    """The count of (``spec``, ``key``) in the period that ends at ``now``."""
    begin, inclusive = period_start(spec.period, now)
    return tx.count_counter_events(
        spec.name,
        key,
        after=None if inclusive else begin,
        at_or_after=begin if inclusive else None,
        until=now,
    )


def count_start(
    tx: Transaction,
    specs: Iterable[CounterSpec],
    instance_id: str,
    data: Mapping[str, Any],
    values: dict[str, Any],
    now: datetime,
) -> list[Event]:
    """Count a starting instance on every counter of its process; set each variable in ``values``.

    ``data`` is what the caller passed (to tell a caller's own value of the variable from a schema default);
    ``values`` is the validated start data, updated in place. A start without a value for the key (None or
    "") is not counted and its variable is left as it is. Returns the ``counter_incremented`` audit events.
    """
    events: list[Event] = []
    for spec in specs:
        raw_key = values.get(spec.key)
        if raw_key is None or raw_key == "":
            continue
        key = str(raw_key)
        tx.lock_counter(spec.name, key, now)
        tx.add_counter_event(spec.name, key, now, instance_id)
        count = current_count(tx, spec, key, now)
        begin, _ = period_start(spec.period, now)
        after: dict[str, Any] = {
            "counter": spec.name,
            "key": key,
            "period": spec.period,
            "period_start": begin.isoformat() if begin is not None else None,
            "count": count,
            "variable": spec.variable,
        }
        before = None
        if spec.variable in data:
            # The durable count wins over a caller's value; both are kept in the audit trail.
            caller = values.get(spec.variable, data[spec.variable])
            before = {spec.variable: caller}
            after["caller_value"] = caller
        values[spec.variable] = count
        events.append(("counter_incremented", None, before, after))
    return events
