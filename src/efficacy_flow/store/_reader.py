"""Every read the store offers, on one transaction's DB-API cursor (:class:`Reader`).

A :class:`Reader` comes from :meth:`Store.read` (a read transaction: it never waits for a writer) and is the
base of :class:`~efficacy_flow.store.Transaction` (a write transaction reads through the same methods and sees
its own writes). Statements and converters: store/_statements.py; driver errors: store/_driver_errors.py.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import fields, replace
from datetime import datetime
from typing import Any

from efficacy_flow.calendar import TimeLimit
from efficacy_flow.errors import InvalidInput
from efficacy_flow.store._converters import time_limit_text
from efficacy_flow.store._driver_errors import translate
from efficacy_flow.store._records import (
    AppraisalCounts,
    AuditRecord,
    CardRecord,
    CaseFactsRecord,
    DeadlineRecord,
    IdempotencyRecord,
    IncidentRecord,
    InstanceRecord,
    OutboxRecord,
    TaskRecord,
)
from efficacy_flow.store._statements import (
    APPRAISAL_DIMENSIONS,
    CARD_FILTERS,
    PAGE_FILTERS,
    Statements,
    chunks,
)

__all__ = ["Reader"]

_TASK_WIDTH = len(fields(TaskRecord))
#: Where ``state`` is among the instance columns (a listing selects all the others).
_STATE_AT = [f.name for f in fields(InstanceRecord)].index("state")
_NAMED = re.compile(r"(?<![:\w]):(\w+)")


class Reader:
    """The reads available inside one transaction.

    On SQLite a read transaction is ``BEGIN DEFERRED`` on a connection that refuses writes (``PRAGMA
    query_only``): in WAL mode it passes a writer holding ``BEGIN IMMEDIATE`` and sees the last commit. On
    PostgreSQL it is ``REPEATABLE READ READ ONLY``: one snapshot for all its statements and no row locks, so
    reading an instance another transaction has locked returns its last committed state at once. Every
    statement of a Reader reads that one snapshot; a write attempted through one fails with
    :class:`~efficacy_flow.errors.StoreError`.
    """

    __slots__ = ("_cursor", "_prefetched", "_sql", "dialect")

    def __init__(self, cursor: Any, sql: Statements) -> None:
        self.dialect = sql.dialect
        self._cursor = cursor
        self._sql = sql
        # SQLite: the instance row read along with a task (get_task), with the connection's change count.
        self._prefetched: tuple[InstanceRecord, int] | None = None

    # -- running statements ----------------------------------------------------------------------------------

    def _rows(self, text: str, params: Sequence[Any] = ()) -> list[Any]:
        """Run a query; return every row as the driver gives it (fetchall also resets SQLite's statement)."""
        cursor = self._cursor
        try:
            cursor.execute(text, params)
            return cursor.fetchall()  # type: ignore[no-any-return]
        except Exception as exc:
            error = translate(exc)
            if error is exc:
                raise
        raise error  # outside the except clause: the driver's exception is not chained

    def execute(self, sql: str, params: Mapping[str, Any] | None = None) -> list[tuple[Any, ...]]:
        """Run one hand-written statement in this transaction and return its rows (none for a statement that
        returns none), as the driver gives them.

        For tests and repair scripts: ``:name`` placeholders on both databases; aware datetimes and
        ``TimeLimit`` values are bound as the store binds them. Through a Reader only reads succeed.

        Raises:
            StoreError: the database refused the statement (a write, through a Reader).
            NaiveDatetime: a naive datetime among ``params``.
        """
        values = {name: self._bound(value) for name, value in (params or {}).items()}
        if self.dialect == "postgresql":
            sql = _NAMED.sub(r"%(\1)s", sql.replace("%", "%%"))
        cursor = self._cursor
        try:
            cursor.execute(sql, values)
            return [tuple(row) for row in cursor.fetchall()] if cursor.description is not None else []
        except Exception as exc:
            error = translate(exc)
            if error is exc:
                raise
        raise error

    def _bound(self, value: Any) -> Any:
        if isinstance(value, datetime):
            return self._sql.instant(value)
        if isinstance(value, TimeLimit):
            return time_limit_text(value)
        return value

    # -- definitions -----------------------------------------------------------------------------------------

    def get_definition(self, hash_: str) -> bytes | None:
        """The stored content of a definition, or None."""
        rows = self._rows(self._sql.get_definition, (hash_,))
        return bytes(rows[0][0]) if rows else None

    # -- instances -------------------------------------------------------------------------------------------

    def get_instance(self, instance_id: str) -> InstanceRecord | None:
        """An instance row as this transaction sees it, or None."""
        prefetched, self._prefetched = self._prefetched, None
        if prefetched is not None:
            record, changes = prefetched
            # Proof it is still the stored row: SQLite transactions are serialized (BEGIN IMMEDIATE) or read
            # one snapshot (a reader), so only this connection could have changed it, and it changed no row
            # since the read.
            if record.id == instance_id and changes == self._cursor.connection.total_changes:
                return record
        rows = self._rows(self._sql.get_instance, (instance_id,))
        return self._sql.read_instance(rows[0]) if rows else None

    def instance_ids_by_business_key(self, business_key: str) -> list[str]:
        """Ids of the instances carrying this business key, oldest first."""
        return [str(row[0]) for row in self._rows(self._sql.instance_ids_by_business_key, (business_key,))]

    def count_instances(self, status: str | None = None) -> int:
        """How many instances there are (with ``status``, if given)."""
        params = () if status is None else (status,)
        return int(self._rows(self._sql.count_instances[status is not None], params)[0][0])

    def list_instances(
        self,
        *,
        process_id: str | None,
        status: str | None,
        business_key: str | None,
        limit: int | None = None,
        after: str | None = None,
    ) -> list[InstanceRecord]:
        """Instances matching every filter given, oldest first (then by id); ``state`` is left empty (never
        read). ``after``: the id of the last instance of the previous page (a keyset page); ``limit``: at most
        this many.

        Raises:
            InvalidInput: ``after`` names no instance.
        """
        sql = self._sql
        values = (process_id, status, business_key)  # in the order of LISTING_FILTERS
        given = tuple(value is not None for value in values)
        params: list[Any] = [value for value in values if value is not None]
        if after is None and limit is None:
            text = sql.list_instances[given]
        else:
            if after is not None:
                found = self._rows(sql.get_instance_created, (after,))
                if not found:
                    raise InvalidInput(f"no instance {after!r} to page after", argument="after")
                params += [found[0][0], after]
            if limit is not None:
                params.append(limit)
            text = sql.instance_page(given, after is not None, limit is not None)
        read = sql.read_instance
        rows = self._rows(text, params)
        return [read((*row[:_STATE_AT], b"", *row[_STATE_AT:])) for row in rows]

    # -- tasks -----------------------------------------------------------------------------------------------

    def get_task(self, task_id: str) -> TaskRecord | None:
        """A task row (ready or closed), or None.

        On SQLite the task's instance row is read in the same statement and kept for the next
        :meth:`get_instance` of this transaction (every call that takes a task reads its instance next).
        """
        sql = self._sql
        if self.dialect != "sqlite":
            rows = self._rows(sql.get_task, (task_id,))
            return sql.read_task(rows[0]) if rows else None
        rows = self._rows(sql.get_task_and_instance, (task_id,))
        if not rows:
            return None
        row = rows[0]
        if row[_TASK_WIDTH] is not None:  # the instance's id: None only if the row is missing
            instance = sql.read_instance(row[_TASK_WIDTH:])
            self._prefetched = (instance, self._cursor.connection.total_changes)
        return sql.read_task(row[:_TASK_WIDTH])

    def ready_tasks(
        self, *, instance_id: str | None = None, role: str | None = None, unit: str | None = None
    ) -> list[TaskRecord]:
        """Ready tasks, filtered by whichever arguments are given, oldest first."""
        sql = self._sql
        text = sql.ready_tasks[instance_id is not None, role is not None, unit is not None]
        params = [value for value in (instance_id, role, unit) if value is not None]
        read = sql.read_task
        return [read(row) for row in self._rows(text, params)]

    def task_page(
        self,
        *,
        instance_id: str | None = None,
        role: str | None = None,
        unit: str | None = None,
        assignee: str | None = None,
        process_id: str | None = None,
        business_key: str | None = None,
        due_before: datetime | None = None,
        due_after: datetime | None = None,
        due_by: datetime | None = None,
        undated: bool = True,
        limit: int | None = None,
        after: str | None = None,
    ) -> list[TaskRecord]:
        """Ready tasks matching every filter given, in the work list's order: by due time, then id, and (when
        ``undated``) those without a due time after them, by id.

        ``due_before``/``due_after``/``due_by``: ``due_at <`` / ``>`` / ``<=`` the instant (they select dated
        rows only). ``after``: the id of the last task of the previous page — any task row, ready or not — the
        page starts after its place in the order (a keyset page: each page is one index range on the ready
        rows, whatever the number of open tasks). ``limit``: at most this many rows.

        Raises:
            InvalidInput: ``after`` names no task.
        """
        sql = self._sql
        instant = sql.instant
        values = (
            instance_id,
            role,
            unit,
            assignee,
            process_id,
            business_key,
            instant(due_before),
            instant(due_after),
            instant(due_by),
        )
        given = tuple(name for name, value in zip(PAGE_FILTERS, values, strict=True) if value is not None)
        params = [value for value in values if value is not None]
        after_due: Any = None
        if after is not None:
            rows = self._rows(sql.get_task_due, (after,))
            if not rows:
                raise InvalidInput(f"no task {after!r} to page after", argument="after")
            after_due = rows[0][0]
        limited = limit is not None
        read = sql.read_task
        found: list[TaskRecord] = []
        if after is None or after_due is not None:  # the dated rows are not all behind the key
            keyed = after is not None
            text = sql.task_page(given, True, keyed, limited)
            bound = [*params, *((after_due, after) if keyed else ()), *((limit,) if limited else ())]
            found = [read(row) for row in self._rows(text, bound)]
        dated_only = due_before is not None or due_by is not None
        if undated and not dated_only and (limit is None or len(found) < limit):
            kept = tuple(name for name in given if not name.startswith("due_"))
            kept_params = [
                value
                for name, value in zip(PAGE_FILTERS, values, strict=True)
                if value is not None and not name.startswith("due_")
            ]
            keyed = after is not None and after_due is None
            rest = None if limit is None else limit - len(found)
            text = sql.task_page(kept, False, keyed, limited)
            bound = [*kept_params, *((after,) if keyed else ()), *((rest,) if limited else ())]
            found += [read(row) for row in self._rows(text, bound)]
        return found

    def done_page(
        self, actor_id: str, *, limit: int | None = None, after: str | None = None
    ) -> list[TaskRecord]:
        """The tasks ``actor_id`` completed (已办), most recent first (then by id, descending); ``after``: the
        id of the last task of the previous page.

        Raises:
            InvalidInput: ``after`` names no completed task.
        """
        sql = self._sql
        params: list[Any] = [actor_id]
        if after is not None:
            rows = self._rows(sql.get_task_closed, (after,))
            if not rows or rows[0][0] is None:
                raise InvalidInput(f"no completed task {after!r} to page after", argument="after")
            params += (rows[0][0], after)
        if limit is not None:
            params.append(limit)
        read = sql.read_task
        return [read(row) for row in self._rows(sql.done_page[after is not None, limit is not None], params)]

    # -- outbox ----------------------------------------------------------------------------------------------

    def outbox_after(self, after: int, limit: int) -> list[OutboxRecord]:
        """At most ``limit`` outbox events with ``seq > after``, in ``seq`` order."""
        read = self._sql.read_outbox
        return [read(row) for row in self._rows(self._sql.outbox_after, (after, limit))]

    def outbox_cursor(self, name: str) -> int:
        """A named consumer's cursor: the last ``seq`` it handled (0 when new)."""
        rows = self._rows(self._sql.get_cursor, (name,))
        return int(rows[0][0]) if rows else 0

    # -- idempotency keys (the HTTP service's) -------------------------------------------------------------

    def idempotency_key(self, actor_id: str, key: str) -> IdempotencyRecord | None:
        """The idempotency key ``key`` of ``actor_id``, if it was claimed and not released."""
        rows = self._rows(
            self._sql.sql(
                'SELECT actor_id, "key", request_hash, status, body, created_at, completed_at'
                ' FROM ef_idempotency_keys WHERE actor_id = ? AND "key" = ?'
            ),
            (actor_id, key),
        )
        if not rows:
            return None
        actor, found, request_hash, status, body, created_at, completed_at = rows[0]
        instant = self._sql.converters.instant_out
        return IdempotencyRecord(
            str(actor),
            str(found),
            str(request_hash),
            None if status is None else int(status),
            None if body is None else bytes(body),
            instant(created_at),
            None if completed_at is None else instant(completed_at),
        )

    # -- deadlines -------------------------------------------------------------------------------------------

    def deadlines_of(self, instance_id: str) -> list[DeadlineRecord]:
        """The pending timers of an instance, by id."""
        read = self._sql.read_deadline
        return [read(row) for row in self._rows(self._sql.deadlines_of, (instance_id,))]

    def due_instance_ids(self, now: datetime, limit: int) -> list[str]:
        """Instances with an unparked timer due at ``now`` (``due_at <= now``), earliest first."""
        rows = self._rows(self._sql.due_instance_ids, (self._sql.instant(now), limit))
        return [str(row[0]) for row in rows]

    def claimed_rows(self, worker: str | None = None) -> list[DeadlineRecord]:
        """Rows currently carrying a claim (by ``worker``, if given), for operators and tests."""
        params = () if worker is None else (worker,)
        read = self._sql.read_deadline
        return [read(row) for row in self._rows(self._sql.claimed_rows(worker is not None), params)]

    def stale_claims(self, now: datetime) -> list[DeadlineRecord]:
        """Rows claimed by a worker whose lease has expired (``lease_until <= now``): claims no one holds."""
        read = self._sql.read_deadline
        return [read(row) for row in self._rows(self._sql.stale_claims, (self._sql.instant(now),))]

    # -- audit -----------------------------------------------------------------------------------------------

    def audit_of(self, instance_id: str) -> list[AuditRecord]:
        """Every audit event of an instance, in sequence order."""
        read = self._sql.read_audit
        return [read(row) for row in self._rows(self._sql.audit_of, (instance_id,))]

    def audit_between(
        self,
        since: datetime,
        until: datetime,
        *,
        process_id: str | None = None,
        after: tuple[datetime, str, int] | None = None,
        limit: int = 10_000,
    ) -> list[tuple[AuditRecord, str]]:
        """Audit events of every instance at [``since``, ``until``), each with its instance's process id, in
        (at, instance_id, seq) order: the event logs of process mining read a period across instances.

        ``process_id``: of that process only. ``after``: the (at, instance_id, seq) of the last event of the
        previous page (a keyset page: each page is one range of the ``at`` index, whatever the history's
        length). ``limit``: at most this many.

        Raises:
            NaiveDatetime: a naive ``since``, ``until`` or ``after`` instant.
            InvalidInput: ``limit`` is not a positive integer.
        """
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise InvalidInput(f"limit must be a positive integer, not {limit!r}", argument="limit")
        sql = self._sql
        params: list[Any] = [sql.instant(since), sql.instant(until)]
        if process_id is not None:
            params.append(process_id)
        if after is not None:
            params += [sql.instant(after[0]), after[1], after[2]]
        params.append(limit)
        read = sql.read_audit
        rows = self._rows(sql.audit_between(process_id is not None, after is not None), params)
        return [(read(row[:-1]), str(row[-1])) for row in rows]

    # -- counters --------------------------------------------------------------------------------------------

    def count_counter_events(
        self, counter: str, key: str, *, after: datetime | None, at_or_after: datetime | None, until: datetime
    ) -> int:
        """How many events of (``counter``, ``key``) are in the period that ends at ``until`` (inclusive).

        The period starts strictly after ``after`` or at/after ``at_or_after`` (at most one is given; neither:
        from the first event).
        """
        instant = self._sql.instant
        params = [counter, key, instant(until)]
        params += [instant(v) for v in (after, at_or_after) if v is not None]
        text = self._sql.count_counter_events[after is not None, at_or_after is not None]
        return int(self._rows(text, params)[0][0])

    def counter_events_of(self, instance_id: str) -> list[tuple[str, str, datetime]]:
        """The (counter, key, at) events recorded for one instance, by counter."""
        out = self._sql.converters.instant_out
        rows = self._rows(self._sql.counter_events_of, (instance_id,))
        return [(str(counter), str(key), out(at)) for counter, key, at in rows]

    # -- incidents -------------------------------------------------------------------------------------------

    def get_incident(self, incident_id: str) -> IncidentRecord | None:
        """An incident, or None."""
        rows = self._rows(self._sql.get_incident, (incident_id,))
        return self._sql.read_incident(rows[0]) if rows else None

    def incidents(
        self, *, instance_id: str | None = None, statuses: Sequence[str] | None = ("open",)
    ) -> list[IncidentRecord]:
        """Incidents with one of ``statuses`` (None: any status), of one instance if given, oldest first."""
        wanted = list(statuses) if statuses is not None else None
        if wanted is not None and not wanted:
            return []
        params = [*(wanted or ()), *((instance_id,) if instance_id is not None else ())]
        text = self._sql.incidents(len(wanted) if wanted is not None else None, instance_id is not None)
        read = self._sql.read_incident
        return [read(row) for row in self._rows(text, params)]

    # -- cards (电子监察) -----------------------------------------------------------------------------------

    def cards(
        self,
        *,
        instance_id: str | None = None,
        unit: str | None = None,
        level: str | None = None,
        limit_name: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        after: tuple[datetime, str] | None = None,
        limit: int | None = None,
    ) -> list[CardRecord]:
        """Cards in issue order (issued_at, then id), filtered by what is given (``since`` inclusive,
        ``until`` exclusive, on ``issued_at``), after the key ``after`` (issued_at, id), at most ``limit``."""
        sql = self._sql
        values = {
            "instance_id": instance_id,
            "unit": unit,
            "level": level,
            "limit_name": limit_name,
            "since": sql.instant(since),
            "until": sql.instant(until),
        }
        given = tuple(name for name in CARD_FILTERS if values[name] is not None)
        params: list[Any] = [values[name] for name in given]
        if after is not None:
            params += [sql.instant(after[0]), after[1]]
        if limit is not None:
            params.append(limit)
        text = sql.cards_page(given, after is not None, limit is not None)
        return [sql.read_card(row) for row in self._rows(text, params)]

    def get_card(self, card_id: str) -> CardRecord | None:
        """A card, or None."""
        rows = self._rows(self._sql.get_card, (card_id,))
        return self._sql.read_card(rows[0]) if rows else None

    def card_counts(self, since: datetime, until: datetime) -> list[tuple[str | None, str, int, float]]:
        """Cards issued in [``since``, ``until``): (unit, level, count, deductions) per unit and level."""
        sql = self._sql
        rows = self._rows(sql.card_counts, (sql.instant(since), sql.instant(until)))
        return [(row[0], str(row[1]), int(row[2]), float(row[3] or 0)) for row in rows]

    def cards_of(self, instance_id: str) -> list[CardRecord]:
        """Every card of an instance, in issue order."""
        return [self._sql.read_card(row) for row in self._rows(self._sql.cards_of, (instance_id,))]

    # -- appraisal (the facts of cases) ---------------------------------------------------------------------

    def case_facts(self, instance_id: str) -> CaseFactsRecord | None:
        """The facts of one case, or None."""
        rows = self._rows(self._sql.get_facts, (instance_id,))
        return self._sql.read_facts(rows[0]) if rows else None

    def appraisal(
        self,
        since: datetime,
        until: datetime,
        *,
        by: Sequence[str] = ("unit",),
        process_id: str | None = None,
        satisfied: Sequence[str],
        bad: Sequence[str],
        count_defaulted: bool = False,
        first_rating: bool = False,
    ) -> list[AppraisalCounts]:
        """The appraisal counts of the cases received in [``since``, ``until``) (cancelled ones left out), one
        row per group of the dimensions ``by`` (of ``unit``, ``region``, ``case_type``, ``category``,
        ``sector``, ``period``; none: one row for all), in the groups' order: one ``GROUP BY`` over
        ``ef_case_facts``.

        Raises:
            InvalidInput: an unknown dimension, or no satisfied or bad ratings given.
        """
        dims = tuple(by)
        if not all(isinstance(d, str) for d in dims):
            raise InvalidInput("appraisal dimensions must be names (text)", argument="by")
        unknown = sorted(set(dims) - APPRAISAL_DIMENSIONS)
        if unknown or len(set(dims)) != len(dims):
            raise InvalidInput(
                f"appraisal dimensions must be distinct, of {', '.join(sorted(APPRAISAL_DIMENSIONS))}"
                + (f" (not {', '.join(unknown)})" if unknown else ""),
                argument="by",
            )
        if not satisfied or not bad:
            raise InvalidInput("appraisal needs the satisfied and the bad ratings", argument="satisfied")
        sql = self._sql
        text = sql.appraisal(dims, process_id is not None, len(satisfied), len(bad), first_rating)
        params: list[Any] = [bool(count_defaulted), sql.instant(since), sql.instant(until)]
        if process_id is not None:
            params.append(process_id)
        params += [*satisfied, *bad, *bad]
        found = []
        width = len(dims)
        for row in self._rows(text, params):
            counts = [int(v or 0) for v in row[width:]]
            found.append(AppraisalCounts(tuple(row[:width]), *counts))
        # A removed 差评 is neither 参评 nor 差评.
        return [replace(c, rated=c.rated - c.removed, bad=c.bad - c.removed) for c in found]

    # -- batched reads for the consistency checker ---------------------------------------------------------

    def instances_after(
        self, after_id: str | None, limit: int, *, ids: Sequence[str] | None = None
    ) -> list[InstanceRecord]:
        """Up to ``limit`` instances with ids greater than ``after_id`` (None: from the start), by id.

        ``ids``: only these instances.
        """
        read = self._sql.read_instance
        head = [after_id] if after_id is not None else []
        if ids is None:
            text = self._sql.instances_after(after_id is not None, None)
            return [read(row) for row in self._rows(text, [*head, limit])]
        found: list[InstanceRecord] = []
        for chunk in chunks(list(ids)):
            text = self._sql.instances_after(after_id is not None, len(chunk))
            found += [read(row) for row in self._rows(text, [*head, *chunk, limit])]
        found.sort(key=lambda record: record.id)
        return found[:limit]

    def rows_of_instances(
        self, instance_ids: Sequence[str]
    ) -> tuple[dict[str, list[TaskRecord]], dict[str, list[DeadlineRecord]], dict[str, list[AuditRecord]]]:
        """Every task row, deadline row and audit event of these instances, grouped by instance id."""
        sql = self._sql
        task_rows: dict[str, list[TaskRecord]] = defaultdict(list)
        deadline_rows: dict[str, list[DeadlineRecord]] = defaultdict(list)
        audit_rows: dict[str, list[AuditRecord]] = defaultdict(list)
        for chunk in chunks(list(instance_ids)):
            for task in map(sql.read_task, self._rows(sql.of_instances("tasks", len(chunk)), chunk)):
                task_rows[task.instance_id].append(task)
            for row in map(sql.read_deadline, self._rows(sql.of_instances("deadlines", len(chunk)), chunk)):
                deadline_rows[row.instance_id].append(row)
            for event in map(sql.read_audit, self._rows(sql.of_instances("audit_events", len(chunk)), chunk)):
                audit_rows[event.instance_id].append(event)
        return task_rows, deadline_rows, audit_rows

    def definition_hashes(self, instance_ids: Sequence[str]) -> dict[str, str]:
        """Instance id → the hash of the definition it runs (ids of no instance are left out)."""
        found: dict[str, str] = {}
        for chunk in chunks(list(dict.fromkeys(instance_ids))):
            for instance_id, hash_ in self._rows(self._sql.definition_hashes(len(chunk)), chunk):
                found[str(instance_id)] = str(hash_)
        return found

    def orphan_instance_ids(self) -> dict[str, list[str]]:
        """Instance ids that task, deadline, audit or incident rows name but no instance row has, by table."""
        found: dict[str, list[str]] = {}
        for table in ("tasks", "deadlines", "audit_events", "incidents"):
            ids = [str(row[0]) for row in self._rows(self._sql.orphans(table))]
            if ids:
                found[table] = ids
        return found
