"""Caps on approved extensions (延期) per time limit: ``max_extensions``, ``max_total`` in time_limits.yaml.

A task's deadline is counted by the limit its timer names (``time_limit("complaint_handling", ...)``; the
deployment records the name per timer element). Its previous extensions are the instance's ``extended`` audit
events of the task. Sources: statutory-rules.md §6 (an extension is an approved addition with a maximum); the
caps themselves cite theirs in the table (``caps_source``), e.g. 公务员法 第九十六条 (an appeal's decision may
be extended by at most 30日).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import orjson

from efficacy_flow.calendar import TimeLimit
from efficacy_flow.engine.runtime import PendingTimer
from efficacy_flow.errors import InvalidTimeLimit
from efficacy_flow.policy import TimeLimitTable
from efficacy_flow.store import AuditRecord

__all__ = ["check_extension_caps", "previous_extensions"]


def previous_extensions(records: Iterable[AuditRecord], task_id: str) -> list[TimeLimit]:
    """The limits of the task's earlier extensions, oldest first, read from its instance's audit events."""
    found: list[TimeLimit] = []
    for record in records:
        if record.kind != "extended" or record.after is None:
            continue
        after = orjson.loads(record.after)
        if isinstance(after, dict) and after.get("task_id") == task_id:
            found.append(TimeLimit.parse(str(after["limit"])))
    return found


def check_extension_caps(
    task_id: str,
    timers: Sequence[PendingTimer],
    timer_limits: Mapping[str, str],
    table: TimeLimitTable | None,
    previous: Sequence[TimeLimit],
    limit: TimeLimit,
) -> None:
    """Refuse an extension by ``limit`` that one of the caps of the task's timers' limits does not allow.

    Raises:
        InvalidTimeLimit: it would be extension number ``max_extensions + 1``; or it and the ``previous``
            ones would add more than ``max_total``; or it (or a previous one) is in another unit than
            ``max_total``, so it cannot be counted against the cap. ``task_id``, ``entry`` (the limit name)
            and the cap (``max_extensions`` or ``max_total``) say which.
    """
    if table is None:
        return
    names = dict.fromkeys(timer_limits[t.element_id] for t in timers if t.element_id in timer_limits)
    for name in names:
        entry = table.entries.get(name)
        if entry is None:
            continue
        if entry.max_extensions is not None and len(previous) + 1 > entry.max_extensions:
            raise InvalidTimeLimit(
                f"task {task_id}: {name} ({entry.label}) allows at most {entry.max_extensions} extension(s), "
                f"and it has had {len(previous)} ({entry.caps_source})",
                task_id=task_id,
                entry=name,
                max_extensions=entry.max_extensions,
                extensions=len(previous),
                text=str(limit),
            )
        cap = entry.max_total
        if cap is None:
            continue
        for each in (*previous, limit):
            if each.unit != cap.unit:
                raise InvalidTimeLimit(
                    f"task {task_id}: an extension of {each} cannot be counted against the cap of {cap} on "
                    f"{name} ({entry.label}): the cap counts {cap.unit.label}, the extension "
                    f"{each.unit.label}",
                    task_id=task_id,
                    entry=name,
                    max_total=cap,
                    text=str(each),
                )
        total = sum(each.n for each in previous) + limit.n
        if total > cap.n:
            raise InvalidTimeLimit(
                f"task {task_id}: with this extension of {limit} its extensions would add "
                f"{TimeLimit(total, cap.unit)}, and {name} ({entry.label}) allows at most {cap} "
                f"({entry.caps_source})",
                task_id=task_id,
                entry=name,
                max_total=cap,
                total=TimeLimit(total, cap.unit),
                text=str(limit),
            )
