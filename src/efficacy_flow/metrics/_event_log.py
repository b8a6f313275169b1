"""Event logs for process-mining tools (issue 14): the audit trail of a period as XES (IEEE 1849-2016) and as
OCEL 2.0 JSON, files that pm4py, ProM, Disco or Celonis open as they are.

Every audit event at [since, until) becomes one event: its activity is the event's kind, with the BPMN element
it concerns (``task_completed:Task_Handle``, ``timer_fired:Timer_HandlingLimit``; a message event names its
message, ``message:rating``). What an event carries is chosen, never copied: instance, task and card ids,
element ids, units, the actor's id and the instant. The ``before``/``after`` data of an event (a requester's
name and phone, a reply's text, an opinion) never reaches the file, so a log can leave the 效能办 for a
process-mining tool without the personal data the engine masks (docs/metrics.md).

Both writers read through one read transaction (one snapshot: the file is consistent with itself) in keyset
pages of :meth:`Reader.audit_between <efficacy_flow.store.Reader.audit_between>`. XES nests the events in
one trace per instance, while the pages come in time order across instances; rather than hold a period's
events in memory, :func:`write_xes` reads twice: the pages give the instances of the period (ids only, in the
order of their first event), then each instance's events are read by :meth:`Reader.audit_of
<efficacy_flow.store.Reader.audit_of>` and streamed to the file. Memory stays at one page plus the ids, for
one more statement per instance. OCEL 2.0 JSON is one document, so :func:`write_ocel` builds it in memory
(the reads still go page by page). Each file is written beside its target and renamed into place: a failed
export never leaves half a log under the name asked for.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from efficacy_flow.engine import Engine
from efficacy_flow.errors import InvalidInput
from efficacy_flow.metrics._files import replace_file
from efficacy_flow.metrics._inputs import aware_instant
from efficacy_flow.store import AuditRecord, Reader

__all__ = ["write_ocel", "write_xes"]

#: Audit events read per statement.
_PAGE = 10_000
#: The keys of an event's ``after`` that name a unit (a card's unit; a transfer's two), with the OCEL
#: qualifier of each.
_UNIT_KEYS = {"unit": "unit", "from_unit": "from_unit", "to_unit": "to_unit"}
#: The keys that name a task (the task itself; the one a return opened again), with their OCEL qualifiers.
_TASK_KEYS = {"task_id": "task", "reopened_task_id": "reopened_task"}
#: What OCEL 2.0 gives an object attribute that holds from the start.
_EPOCH = "1970-01-01T00:00:00Z"
# Characters XML 1.0 cannot hold at all (C0 controls but tab, line feed, carriage return; U+FFFE, U+FFFF).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")

_XES_HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<log xes.version="1849-2016" xes.features="" xmlns="http://www.xes-standard.org/">
  <extension name="Concept" prefix="concept" uri="http://www.xes-standard.org/concept.xesext"/>
  <extension name="Time" prefix="time" uri="http://www.xes-standard.org/time.xesext"/>
  <extension name="Organizational" prefix="org" uri="http://www.xes-standard.org/org.xesext"/>
  <extension name="Lifecycle" prefix="lifecycle" uri="http://www.xes-standard.org/lifecycle.xesext"/>
  <global scope="trace">
    <string key="concept:name" value="__INVALID__"/>
  </global>
  <global scope="event">
    <string key="concept:name" value="__INVALID__"/>
    <date key="time:timestamp" value="1970-01-01T00:00:00.000+00:00"/>
    <string key="lifecycle:transition" value="complete"/>
  </global>
  <classifier name="Activity" keys="concept:name"/>
  <classifier name="Activity and transition" keys="concept:name lifecycle:transition"/>
"""


def _checked(
    path: object, since: object, until: object, process_id: object
) -> tuple[Path, datetime, datetime]:
    start, end = aware_instant(since, "since"), aware_instant(until, "until")
    if end < start:
        raise InvalidInput("the event log's period ends before it starts", argument="until")
    if process_id is not None and (not isinstance(process_id, str) or not process_id):
        raise InvalidInput("process_id must be a process id (a non-empty string)", argument="process_id")
    if not isinstance(path, (str, os.PathLike)):
        raise InvalidInput(f"path must be a file path, got {type(path).__name__}", argument="path")
    return Path(path), start, end


def _paged(
    reader: Reader, since: datetime, until: datetime, process_id: str | None
) -> Iterator[tuple[AuditRecord, str]]:
    """Every event of the period with its process, page by page (one page in memory at a time)."""
    after: tuple[datetime, str, int] | None = None
    while True:
        page = reader.audit_between(since, until, process_id=process_id, after=after, limit=_PAGE)
        yield from page
        if len(page) < _PAGE:
            return
        last = page[-1][0]
        after = (last.at, last.instance_id, last.seq)


def _details(record: AuditRecord) -> dict[str, Any]:
    """The event's ``after`` JSON as a mapping (empty when it holds something else): read for the ids it
    names, never copied."""
    if not record.after:
        return {}
    try:
        found = json.loads(record.after)
    except ValueError:
        return {}
    return found if isinstance(found, dict) else {}


def _activity(kind: str, details: dict[str, Any]) -> str:
    """The event's activity: its kind, and the element (or, for a message, the message name) it concerns."""
    named = details.get("message") if kind == "message" else details.get("element_id")
    return f"{kind}:{named}" if isinstance(named, str) and named else kind


def _named(details: dict[str, Any], keys: dict[str, str]) -> list[tuple[str, str]]:
    """(id, qualifier) of the ids ``details`` gives under ``keys`` (non-empty strings only)."""
    return [
        (value, qualifier)
        for key, qualifier in keys.items()
        if isinstance(value := details.get(key), str) and value
    ]


def _time(at: datetime) -> str:
    """ISO 8601 with the offset and microseconds (events of one instant keep their order by ``seq``)."""
    return at.isoformat(timespec="microseconds")


# -- XES ---------------------------------------------------------------------------------------------------


def _xml(text: str) -> str:
    """``text`` as an XML attribute value between double quotes."""
    text = _NOT_XML.sub("\ufffd", text)
    return (
        text.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&quot;")
        .replace("\t", "&#9;")
        .replace("\n", "&#10;")
        .replace("\r", "&#13;")
    )


def _string(key: str, value: str) -> str:
    return f'<string key="{key}" value="{_xml(value)}"/>'


def _xes_event(record: AuditRecord) -> str:
    details = _details(record)
    parts = [
        _string("concept:name", _activity(record.kind, details)),
        f'<date key="time:timestamp" value="{_time(record.at)}"/>',
        _string("lifecycle:transition", "complete"),
    ]
    if record.actor:
        parts.append(_string("org:resource", record.actor))
    parts.append(f'<int key="seq" value="{record.seq}"/>')
    for task_id, qualifier in _named(details, _TASK_KEYS):
        parts.append(_string(qualifier + "_id", task_id))
    for unit, qualifier in _named(details, _UNIT_KEYS):
        parts.append(_string(qualifier, unit))
    return "    <event>\n" + "".join(f"      {part}\n" for part in parts) + "    </event>\n"


def write_xes(
    engine: Engine, path: str | Path, since: datetime, until: datetime, *, process_id: str | None = None
) -> Path:
    """Write the audit events at [``since``, ``until``) as an XES log (IEEE 1849-2016); return the path.

    One trace per instance (``concept:name`` its id, ``process`` its process), in the order of their first
    event in the period; its events in sequence order, each with ``concept:name`` (the activity),
    ``time:timestamp``, ``lifecycle:transition`` ``complete``, ``org:resource`` (the actor's id, when there
    is one) and ``seq``, ``task_id``, ``unit`` when the event names them. ``process_id``: that process only.

    Raises:
        NaiveDatetime: a naive ``since`` or ``until``.
        InvalidInput: not datetimes, ``until`` before ``since``, a bad ``process_id`` or ``path``, or a path
            that cannot be written.
    """
    target, start, end = _checked(path, since, until, process_id)

    def write(handle: IO[str]) -> None:
        handle.write(_XES_HEAD)
        handle.write(f"  {_string('concept:name', f'efficacy_flow {_time(start)} / {_time(end)}')}\n")
        with engine.store.read() as reader:
            cases: dict[str, str] = {}  # instance id → process id, in the order of their first event
            for record, process in _paged(reader, start, end, process_id):
                cases.setdefault(record.instance_id, process)
            for instance_id, process in cases.items():
                handle.write(f"  <trace>\n    {_string('concept:name', instance_id)}\n")
                handle.write(f"    {_string('process', process)}\n")
                for record in reader.audit_of(instance_id):
                    if start <= record.at < end:
                        handle.write(_xes_event(record))
                handle.write("  </trace>\n")
        handle.write("</log>\n")

    return replace_file(target, write)


# -- OCEL 2.0 ----------------------------------------------------------------------------------------------


def write_ocel(
    engine: Engine, path: str | Path, since: datetime, until: datetime, *, process_id: str | None = None
) -> Path:
    """Write the audit events at [``since``, ``until``) as an OCEL 2.0 JSON log; return the path.

    Object types: ``case`` (an instance; attribute ``process_id``), ``task`` (a task id an event names,
    related to its case) and ``unit`` (a unit an event names, its name as the id). One event type per
    activity, with the attributes ``actor`` (the actor's id, when there is one) and ``seq``. Each event
    relates to its case (qualifier ``case``), the task it concerns (``task``; a return also to the task it
    opened again, ``reopened_task``) and the units it names (``unit``; a transfer's ``from_unit`` and
    ``to_unit``). Events come in time order; ``process_id``: that process only.

    Raises:
        NaiveDatetime: a naive ``since`` or ``until``.
        InvalidInput: not datetimes, ``until`` before ``since``, a bad ``process_id`` or ``path``, or a path
            that cannot be written.
    """
    target, start, end = _checked(path, since, until, process_id)
    cases: dict[str, str] = {}
    tasks: dict[str, str] = {}  # task id → its instance
    units: set[str] = set()
    activities: set[str] = set()
    events: list[dict[str, Any]] = []
    with engine.store.read() as reader:
        for record, process in _paged(reader, start, end, process_id):
            details = _details(record)
            activity = _activity(record.kind, details)
            activities.add(activity)
            cases.setdefault(record.instance_id, process)
            related = [{"objectId": record.instance_id, "qualifier": "case"}]
            for task_id, qualifier in _named(details, _TASK_KEYS):
                tasks.setdefault(task_id, record.instance_id)
                related.append({"objectId": task_id, "qualifier": qualifier})
            for unit, qualifier in _named(details, _UNIT_KEYS):
                units.add(unit)
                related.append({"objectId": unit, "qualifier": qualifier})
            attributes: list[dict[str, Any]] = [{"name": "seq", "value": record.seq}]
            if record.actor:
                attributes.insert(0, {"name": "actor", "value": record.actor})
            events.append(
                {
                    "id": f"{record.instance_id}:{record.seq}",
                    "type": activity,
                    "time": _time(record.at),
                    "attributes": attributes,
                    "relationships": related,
                }
            )
    objects: list[dict[str, Any]] = [
        {
            "id": instance_id,
            "type": "case",
            "attributes": [{"name": "process_id", "time": _EPOCH, "value": process}],
        }
        for instance_id, process in cases.items()
    ]
    objects += [
        {"id": task_id, "type": "task", "relationships": [{"objectId": case, "qualifier": "case"}]}
        for task_id, case in tasks.items()
    ]
    objects += [{"id": unit, "type": "unit"} for unit in sorted(units)]
    event_attributes = [{"name": "actor", "type": "string"}, {"name": "seq", "type": "integer"}]
    document = {
        "objectTypes": [
            {"name": "case", "attributes": [{"name": "process_id", "type": "string"}]},
            {"name": "task", "attributes": []},
            {"name": "unit", "attributes": []},
        ],
        "eventTypes": [{"name": name, "attributes": event_attributes} for name in sorted(activities)],
        "objects": objects,
        "events": events,
    }
    return replace_file(target, lambda handle: json.dump(document, handle, ensure_ascii=False))
