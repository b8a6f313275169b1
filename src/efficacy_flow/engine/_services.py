"""What the runtime asks of the engine (runtime/base.py ``Services``): expressions in the sandbox, timers
through the calendar and the time-limit table, decisions through efficacy_flow.policy.

One :class:`EngineServices` per deployed definition (it carries that definition's time-limit table); the
sandbox, calendar and decisions are the engine's.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, MutableMapping
from datetime import datetime
from typing import Any

from efficacy_flow.calendar import CALENDAR_DAYS, HOURS, MONTHS, WORKING_DAYS, TimeLimit
from efficacy_flow.clock import CHINA_TZ
from efficacy_flow.engine._durations import (
    DurationRefused,
    add_elapsed,
    duration_limit,
    elapsed_limit,
    parse_duration,
)
from efficacy_flow.engine._sandbox import Sandbox
from efficacy_flow.engine.runtime import Due, Json
from efficacy_flow.errors import DecisionError, ProcessDefinitionError
from efficacy_flow.policy import TimeLimitTable

__all__ = ["EngineServices", "iso_literal"]


def iso_literal(text: str) -> datetime | None:
    """The instant an ISO-8601 text names, or None (not ISO-8601). A text without an offset — what Camunda
    Modeler's hint for a timer date suggests — is read in the engine's zone, Asia/Shanghai."""
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=CHINA_TZ)


class EngineServices:
    """The engine's answers to the runtime, for one definition.

    Args:
        sandbox: runs every expression and script.
        calendar: counts every period (``due``).
        table: the definition's time-limit table (None: ``time_limit(...)`` is refused).
        decide: evaluates a DMN decision (None: no decisions are loaded).
    """

    __slots__ = ("_calendar", "_decide", "_sandbox", "_table")

    def __init__(
        self,
        sandbox: Sandbox,
        calendar: Any,
        table: TimeLimitTable | None,
        decide: Callable[[str, Mapping[str, Any]], Any] | None,
    ) -> None:
        self._sandbox = sandbox
        self._calendar = calendar
        self._table = table
        self._decide = decide

    def evaluate(self, expression: str, data: Mapping[str, Json], element_id: str) -> object:
        return self._sandbox.evaluate(expression, data, element_id=element_id or None)

    def execute(self, script: str, data: MutableMapping[str, Json], element_id: str) -> None:
        self._sandbox.execute(script, data, element_id=element_id or None)

    def due(
        self,
        expression: str,
        data: Mapping[str, Json],
        element_id: str,
        now: datetime,
        *,
        duration: bool = False,
        calendar: str | None = None,
    ) -> Due:
        """When a timer that becomes ready at ``now`` fires: a fixed ISO-8601 instant, an ISO-8601 duration
        from ``now`` (a ``timeDuration``: elapsed time, or counted on the named ``calendar``), or the value
        of an expression over the timer functions (each counts from ``now`` through the calendar) — an
        instant, or for a ``timeDuration`` also a duration text."""
        literal = iso_literal(expression)
        if literal is not None:
            return Due(due_at=literal)
        if duration:
            parts = parse_duration(expression)
            if parts is not None:
                return self._duration_due(parts, now, element_id, expression, calendar)
        computed: dict[str, Any] = {}  # each period counted, by the ISO text of its due instant

        def due(limit: TimeLimit) -> str:
            deadline = self._calendar.due(now, limit)
            text = str(deadline.due_at.isoformat())
            computed[text] = deadline
            return text

        def time_limit(name: str, **keys: Any) -> str:
            if self._table is None:
                raise ProcessDefinitionError(
                    f"timer {element_id}: time_limit({name!r}) but no time-limit table is deployed",
                    entry=name,
                    element_id=element_id,
                )
            return due(self._table.resolve(name, **keys))

        functions = {
            "working_days": lambda n: due(TimeLimit(int(n), WORKING_DAYS)),
            "days": lambda n: due(TimeLimit(int(n), CALENDAR_DAYS)),
            "hours": lambda n: due(TimeLimit(int(n), HOURS)),
            "months": lambda n: due(TimeLimit(int(n), MONTHS)),
            "time_limit": time_limit,
        }
        value = self._sandbox.evaluate(expression, data, functions, element_id=element_id)
        parts = parse_duration(value) if duration and isinstance(value, str) else None
        if parts is not None:
            return self._duration_due(parts, now, element_id, expression, calendar)
        instant = iso_literal(value) if isinstance(value, str) else None
        if instant is None:
            raise ProcessDefinitionError(
                f"timer {element_id}: {expression!r} gave {value!r}, not an ISO-8601 instant",
                element_id=element_id,
                expression=expression,
            )
        deadline = computed.get(value) if isinstance(value, str) else None
        if deadline is None:
            return Due(due_at=instant)
        return Due(due_at=deadline.due_at, limit=deadline.limit, rolled_from=deadline.rolled_from)

    def _duration_due(
        self, parts: dict[str, int], now: datetime, element_id: str, expression: str, calendar: str | None
    ) -> Due:
        """A duration from ``now``: counted on ``calendar`` (a period of the engine's calendar), or
        elapsed."""
        if calendar is None:
            limit = elapsed_limit(parts)
            if limit is None:  # years or months: calendar months, then exact time
                return Due(due_at=add_elapsed(now, parts))
        else:
            try:
                limit = duration_limit(parts, calendar)
            except DurationRefused as refused:
                raise ProcessDefinitionError(
                    f"timer {element_id}: {expression!r} on calendar {calendar}: {refused}",
                    element_id=element_id,
                    expression=expression,
                ) from None
        deadline = self._calendar.due(now, limit)
        return Due(due_at=deadline.due_at, limit=deadline.limit, rolled_from=deadline.rolled_from)

    def decide(self, decision_ref: str, data: Mapping[str, Json], element_id: str) -> Json:
        if self._decide is None:
            raise DecisionError(
                f"business rule task {element_id}: no decisions are loaded for {decision_ref!r}",
                decision=decision_ref,
                element_id=element_id,
            )
        result: Json = self._decide(decision_ref, dict(data))
        return result
