"""Every write the store offers (:class:`Transaction`, a :class:`~efficacy_flow.store.Reader` that writes).

Claims: due deadline rows and due incident retries are marked with a worker id and a lease expiry. On
PostgreSQL the rows are chosen with ``FOR UPDATE SKIP LOCKED``: concurrent claimers never wait for each other
and never receive the same row. On SQLite every write transaction starts with ``BEGIN IMMEDIATE``, so claims
are serialized. A claim only divides the work; exactly-once firing is guaranteed by the engine, which locks
the instance and re-reads its due rows in the transaction that fires them.

Counters: a count is the number of event rows of a (counter, key) in a period. Concurrent increments of one
(counter, key) are serialized by :meth:`Transaction.lock_counter`: on SQLite the transaction already holds the
database's write lock; on PostgreSQL the ``ef_counters`` row is upserted and then locked ``FOR UPDATE``, so a
second transaction waits until the first commits and then counts its event too (READ COMMITTED takes a new
snapshot per statement).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from efficacy_flow.calendar import TimeLimit
from efficacy_flow.errors import ConcurrentUpdate, DuplicateBusinessKey, EfficacyFlowError, StoreError
from efficacy_flow.store._converters import time_limit_text
from efficacy_flow.store._driver_errors import translate
from efficacy_flow.store._reader import Reader
from efficacy_flow.store._records import (
    AuditRecord,
    CardRecord,
    CaseFactsRecord,
    CommitToken,
    DeadlineRecord,
    IdempotencyRecord,
    IncidentRecord,
    InstanceRecord,
    OutboxRecord,
    TaskRecord,
)
from efficacy_flow.store._statements import Statements, chunks

__all__ = ["Transaction"]

#: How a violation of the open-business-key index (store/_schema.py OPEN_KEY_INDEX) names it.
_OPEN_KEY_NAMES = ("ix_ef_instances_open_key", "ef_instances.process_id, ef_instances.business_key")


class Transaction(Reader):
    """The reads and writes available inside one write transaction (:meth:`Store.transaction`).

    SQLite: ``BEGIN IMMEDIATE`` (one writer at a time, taken up front so two writers never deadlock on
    upgrade). PostgreSQL: ``READ COMMITTED``; :meth:`get_instance` with ``lock=True`` reads ``FOR UPDATE``,
    and :meth:`update_instance` checks the optimistic ``version``.
    """

    __slots__ = ("_commits", "_data_version", "_generation")

    def __init__(self, cursor: Any, sql: Statements) -> None:
        super().__init__(cursor, sql)
        # Set by the store for a transaction on its pinned SQLite write connection (see unchanged_since).
        self._commits: Callable[[], int] | None = None
        self._generation = 0
        self._data_version: int | None = None

    def unchanged_since(self, token: CommitToken | None) -> bool:
        """Whether nothing at all was committed to the database after ``token``'s commit, asked inside this
        transaction (which, on SQLite, holds the write lock: nothing can be committed meanwhile either).

        The same answer as :meth:`Store.unchanged_since <efficacy_flow.store.Store.unchanged_since>`, from
        this transaction's own connection; False where it cannot be told (PostgreSQL, a pooled connection,
        another connection than the token's).
        """
        commits = self._commits
        if token is None or commits is None or token.generation != self._generation:
            return False
        if token.commits != commits():
            return False
        return self.data_version() == token.data_version

    def data_version(self) -> int:
        """SQLite's ``PRAGMA data_version`` of this transaction's connection (read once: it cannot change
        while the transaction holds the write lock)."""
        version = self._data_version
        if version is None:
            version = self._data_version = int(self._rows("PRAGMA data_version")[0][0])
        return version

    # -- running statements ----------------------------------------------------------------------------------

    def _run(
        self, text: str, params: Sequence[Any], *, conflict: type[EfficacyFlowError] | None = None
    ) -> int:
        """Run a statement; return how many rows it changed."""
        cursor = self._cursor
        try:
            cursor.execute(text, params)
            return int(cursor.rowcount)
        except Exception as exc:
            error = translate(exc, conflict=conflict)
            if error is exc:
                raise
        raise error  # outside the except clause: the driver's exception is not chained

    def _run_many(self, text: str, rows: Sequence[Sequence[Any]]) -> None:
        """Run a statement once per row (a single row is a plain execute, which is cheaper)."""
        if len(rows) == 1:
            self._run(text, rows[0])
            return
        cursor = self._cursor
        try:
            cursor.executemany(text, rows)
            return
        except Exception as exc:
            error = translate(exc)
            if error is exc:
                raise
        raise error

    # -- definitions -----------------------------------------------------------------------------------------

    def put_definition(self, hash_: str, process_id: str, content: bytes, at: datetime) -> bool:
        """Store a definition unless one with this hash exists; return True when it was new."""
        params = (hash_, process_id, content, self._sql.instant(at))
        return self._run(self._sql.put_definition, params) == 1

    # -- instances -------------------------------------------------------------------------------------------

    def get_instance(self, instance_id: str, *, lock: bool = False) -> InstanceRecord | None:
        """Read an instance (``lock``: PostgreSQL ``FOR UPDATE``; SQLite already holds the write lock)."""
        if not lock or self.dialect == "sqlite":
            return super().get_instance(instance_id)
        self._prefetched = None
        rows = self._rows(self._sql.get_instance_locked, (instance_id,))
        return self._sql.read_instance(rows[0]) if rows else None

    def insert_instance(self, record: InstanceRecord) -> None:
        """Insert a new instance row.

        Raises:
            DuplicateBusinessKey: an open instance of the same process has the record's business key (the
                unique index of schema 3; the caller names the open instance, the store's error cannot).
        """
        try:
            self._run(self._sql.insert_instance, self._sql.write_instance(record))
            return
        except StoreError as error:
            # The unique index named in the driver's primary message (SQLite names its columns, PostgreSQL
            # the index); any other violation (an id taken twice) stays a StoreError.
            if record.business_key is None or not any(name in error.message for name in _OPEN_KEY_NAMES):
                raise
            duplicate = DuplicateBusinessKey(error.message, **error.fields)
        raise duplicate  # outside the except clause: nothing chained

    def update_instance(self, instance_id: str, expected_version: int, **values: Any) -> int:
        """Write instance columns if the row still has ``expected_version``; return the new version.

        Raises:
            ConcurrentUpdate: another transaction changed the instance first.
            InvalidInput: a name in ``values`` is not a settable instance column.
        """
        text, converters = self._sql.update_instance(tuple(values))
        params: list[Any] = [expected_version + 1]
        for value, converter in zip(values.values(), converters, strict=True):
            params.append(value if value is None or converter is None else converter(value))
        params += (instance_id, expected_version)
        if self._run(text, params) != 1:
            raise ConcurrentUpdate(
                f"instance {instance_id} changed since version {expected_version}",
                instance_id=instance_id,
                expected_version=expected_version,
            )
        return expected_version + 1

    def set_instance_incident(self, instance_id: str, incident_id: str | None) -> bool:
        """Set (or clear) the instance's ``incident_id`` without a version bump; return whether it exists."""
        return self._run(self._sql.set_instance_incident, (incident_id, instance_id)) == 1

    def advance_audit_head(self, instance_id: str, expected_seq: int, seq: int, head: str) -> None:
        """Move the audit head without a version bump (reading history unmasked changes no state).

        Raises:
            ConcurrentUpdate: another transaction appended an audit event first.
        """
        if self._run(self._sql.advance_audit_head, (seq, head, instance_id, expected_seq)) != 1:
            raise ConcurrentUpdate(
                f"instance {instance_id}: history changed meanwhile", instance_id=instance_id
            )

    # -- tasks -----------------------------------------------------------------------------------------------

    def sync_tasks(
        self,
        instance_id: str,
        ready: Sequence[TaskRecord],
        *,
        closed_status: str,
        at: datetime,
        by: str | None,
        previous: Sequence[TaskRecord] | None = None,
        completed_id: str | None = None,
    ) -> None:
        """Make the instance's ready rows equal ``ready``.

        Rows that are no longer ready are closed: ``completed_id`` as ``completed`` (by ``by``), the others
        with ``closed_status`` (e.g. ``cancelled`` when a timer interrupted them). ``previous`` is what the
        caller knows the ready rows to be (saves a query); without it they are read.
        """
        sql = self._sql
        known = previous if previous is not None else self.ready_tasks(instance_id=instance_id)
        current = {t.id: t for t in known}
        wanted = {t.id: t for t in ready}
        gone = current.keys() - wanted.keys()
        if gone:
            closed_at = sql.instant(at)
            closing = [
                ("completed", closed_at, by, task_id)
                if task_id == completed_id
                else (closed_status, closed_at, None, task_id)
                for task_id in gone
            ]
            self._run_many(sql.close_task, closing)
        new = [sql.write_task(record) for task_id, record in wanted.items() if task_id not in current]
        if new:
            self._run_many(sql.insert_task, new)
        changed = []
        for task_id, record in wanted.items():
            old = current.get(task_id)
            if old is not None and (
                old.due_at != record.due_at
                or old.unit != record.unit
                or old.assignee != record.assignee
                or old.urges != record.urges
                or old.last_urged_at != record.last_urged_at
                or old.name != record.name  # a migration to another version (element, name, lane)
                or old.role != record.role
                or old.element_id != record.element_id
            ):
                changed.append(
                    (
                        sql.instant(record.due_at),
                        record.unit,
                        record.assignee,
                        record.urges,
                        sql.instant(record.last_urged_at),
                        record.element_id,
                        record.name,
                        record.role,
                        task_id,
                    )
                )
        if changed:
            self._run_many(sql.retime_task, changed)

    # -- outbox ----------------------------------------------------------------------------------------------

    def append_outbox(
        self,
        events: Sequence[tuple[str, str | None, str | None, str | None, datetime, str]],
    ) -> None:
        """Append events ``(kind, instance_id, task_id, unit, at, payload JSON)`` to the outbox, numbered in
        the order transactions commit, so a reader that has seen ``seq`` n has seen every lower one.

        SQLite: the write lock, held from ``BEGIN IMMEDIATE`` to the commit, orders the writers; each row's
        ``seq`` is its rowid, which SQLite gives as one more than the largest (a rolled-back transaction's
        numbers are given again: no gap). PostgreSQL: the numbers come from the head row, updated here; its
        row lock holds until this transaction ends, so writers take numbers in commit order. Call it last in
        a transaction: on PostgreSQL it serialises the writers from here to their commit.
        """
        if not events:
            return
        sql = self._sql
        instant = sql.instant
        if self.dialect == "sqlite":
            values: list[Any] = []
            last_at: Any = None
            stored: Any = None
            for kind, instance_id, task_id, unit, at, payload in events:
                if at is not last_at:  # one call's events share its instant
                    last_at, stored = at, instant(at)
                values += (kind, instance_id, task_id, unit, stored, payload)
            self._run(sql.insert_outbox_rows(len(events)), values)
            return
        last = int(self._rows(sql.take_outbox_seq, (len(events),))[0][0])
        first = last - len(events) + 1
        write = sql.write_outbox
        numbered = [
            write(OutboxRecord(first + i, kind, instance_id, task_id, unit, at, payload))
            for i, (kind, instance_id, task_id, unit, at, payload) in enumerate(events)
        ]
        self._run_many(sql.insert_outbox, numbered)

    def outbox_cursor(self, name: str) -> int:
        """A named consumer's cursor (the last ``seq`` it handled; 0 when new), locked until the end of the
        transaction on PostgreSQL (two deliverers of one name take turns)."""
        rows = self._rows(self._sql.get_cursor_locked, (name,))
        return int(rows[0][0]) if rows else 0

    def prune_outbox(self, through: int) -> int:
        """Delete the outbox events up to ``seq`` ``through`` that every named consumer has passed, keeping
        the newest event (on SQLite the next number is one more than the largest row); return how many
        went."""
        sql = self._sql
        slowest = self._rows(sql.slowest_cursor, ())[0][0]
        newest = self._rows(sql.newest_event, ())[0][0]
        if newest is None:
            return 0
        limit = min(through, int(newest) - 1)
        if slowest is not None:
            limit = min(limit, int(slowest))
        return self._run(sql.prune_outbox, (limit,)) if limit > 0 else 0

    def set_outbox_cursor(self, name: str, seq: int, at: datetime) -> None:
        """Move a named consumer's cursor to ``seq``."""
        self._run(self._sql.put_cursor, (name, seq, self._sql.instant(at)))

    # -- idempotency keys (the HTTP service's) -------------------------------------------------------------

    def claim_idempotency_key(
        self, actor_id: str, key: str, request_hash: str, at: datetime
    ) -> IdempotencyRecord | None:
        """Claim ``key`` for ``actor_id``'s request (``request_hash``); return None when this call claimed it,
        or the record of the request that claimed it first.

        Two transactions claiming one key at once cannot both win: the row's primary key decides (on
        PostgreSQL the second insert waits for the first transaction and then finds its row).
        """
        claimed = self._run(
            self._sql.sql(
                'INSERT INTO ef_idempotency_keys (actor_id, "key", request_hash, created_at)'
                " VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING"
            ),
            (actor_id, key, request_hash, self._sql.instant(at)),
        )
        return None if claimed == 1 else self.idempotency_key(actor_id, key)

    def answer_idempotency_key(self, actor_id: str, key: str, status: int, body: bytes, at: datetime) -> bool:
        """Record the response to a claimed key's request; return False when the key was not claimed."""
        answered = self._run(
            self._sql.sql(
                "UPDATE ef_idempotency_keys SET status = ?, body = ?, completed_at = ?"
                ' WHERE actor_id = ? AND "key" = ? AND status IS NULL'
            ),
            (status, body, self._sql.instant(at), actor_id, key),
        )
        return answered == 1

    def release_idempotency_key(self, actor_id: str, key: str) -> bool:
        """Give back a claimed key whose request was not answered (it did nothing: a retry may run it)."""
        released = self._run(
            self._sql.sql(
                'DELETE FROM ef_idempotency_keys WHERE actor_id = ? AND "key" = ? AND status IS NULL'
            ),
            (actor_id, key),
        )
        return released == 1

    def prune_idempotency_keys(self, before: datetime) -> int:
        """Delete the keys claimed before ``before``; return how many went."""
        text = self._sql.sql("DELETE FROM ef_idempotency_keys WHERE created_at < ?")
        return self._run(text, (self._sql.instant(before),))

    def close_task(self, task_id: str, *, status: str, at: datetime, by: str | None) -> bool:
        """Close a ready task; return False when it was no longer ready (another call closed it)."""
        return self._run(self._sql.close_task, (status, self._sql.instant(at), by, task_id)) == 1

    # -- deadlines -------------------------------------------------------------------------------------------

    def replace_deadlines(
        self,
        instance_id: str,
        rows: Sequence[DeadlineRecord],
        *,
        previous: Sequence[DeadlineRecord] | None = None,
    ) -> None:
        """Make the instance's pending timers exactly ``rows`` (``previous``: the known current rows)."""
        sql = self._sql
        known = previous if previous is not None else self.deadlines_of(instance_id)
        current = {d.id: d for d in known}
        wanted = {d.id: d for d in rows}
        gone = [(key,) for key in current.keys() - wanted.keys()]
        if gone:
            self._run_many(sql.delete_deadline, gone)
        new = [sql.write_deadline(record) for key, record in wanted.items() if key not in current]
        if new:
            self._run_many(sql.insert_deadline, new)
        changed = [
            (*sql.write_deadline(record)[1:], key)
            for key, record in wanted.items()
            if key in current and current[key] != record
        ]
        if changed:
            self._run_many(sql.update_deadline, changed)

    def park_deadlines(self, instance_id: str, incident_id: str | None) -> int:
        """Set (or, with None, clear) ``incident_id`` on every deadline row of an instance and clear their
        claims; return how many rows there are. A parked row is never claimed (:meth:`claim_due`)."""
        return self._run(self._sql.park_deadlines, (incident_id, instance_id))

    def claim_due(self, now: datetime, worker: str, lease_until: datetime, limit: int) -> list[str]:
        """Claim up to ``limit`` due, unclaimed, unparked deadline rows for ``worker``; return their
        instance ids.

        A row is claimable when ``due_at <= now``, it has not fired, no incident parks it, and it is
        unclaimed or its lease has expired (``lease_until <= now``). Claimed rows get ``claimed_by = worker``
        and ``lease_until``. Instance ids come earliest due first, each once (an instance may have several
        due rows).
        """
        sql = self._sql
        at = sql.instant(now)
        rows = self._rows(sql.claimable, (at, at, limit))
        if not rows:
            return []
        until = sql.instant(lease_until)
        for chunk in chunks([str(row[0]) for row in rows]):
            self._run(sql.claim("deadlines", len(chunk)), (worker, until, *chunk))
        return list(dict.fromkeys(str(row[1]) for row in rows))

    def release_claims(self, worker: str, instance_ids: Sequence[str]) -> int:
        """Clear ``worker``'s claims on the rows of these instances (so the next tick retries them)."""
        released = 0
        for chunk in chunks(list(instance_ids)):
            released += self._run(self._sql.release_claims(len(chunk)), (worker, *chunk))
        return released

    # -- audit -----------------------------------------------------------------------------------------------

    def append_audit(self, record: AuditRecord) -> None:
        """Append one audit event (the caller computed its hash and bumps the instance head).

        Raises:
            ConcurrentUpdate: another transaction appended this sequence number first.
        """
        self._run(self._sql.insert_audit, self._sql.write_audit(record), conflict=ConcurrentUpdate)

    # -- counters --------------------------------------------------------------------------------------------

    def lock_counter(self, counter: str, key: str, at: datetime) -> None:
        """Hold the lock of (``counter``, ``key``) until this transaction ends, creating its row if needed."""
        self._run(self._sql.lock_counter, (counter, key, self._sql.instant(at)))
        if self._sql.lock_counter_row is not None:
            self._rows(self._sql.lock_counter_row, (counter, key))

    def add_counter_event(self, counter: str, key: str, at: datetime, instance_id: str) -> None:
        """Record that ``instance_id`` was counted for (``counter``, ``key``) at ``at``."""
        self._run(self._sql.add_counter_event, (counter, key, self._sql.instant(at), instance_id))

    # -- incidents -------------------------------------------------------------------------------------------

    def insert_incident(self, record: IncidentRecord) -> None:
        """Insert a new incident."""
        self._run(self._sql.insert_incident, self._sql.write_incident(record))

    def update_incident(self, incident_id: str, **columns: Any) -> bool:
        """Set incident columns (any of status, error, message, attempts, next_attempt_at, updated_at,
        resolved_at, resolved_by, claimed_by, lease_until); return whether a row changed.

        Raises:
            InvalidInput: a name that is not one of those columns.
        """
        text, converters = self._sql.update_incident(tuple(columns))
        params = [
            value if value is None or converter is None else converter(value)
            for value, converter in zip(columns.values(), converters, strict=True)
        ]
        return self._run(text, (*params, incident_id)) == 1

    # -- case facts (appraisal) -----------------------------------------------------------------------------

    def save_case_facts(self, record: CaseFactsRecord) -> None:
        """Insert a case's facts, or merge them into the stored ones: the save's status, dimensions and latest
        rating; the first response, reply, closing and rating kept; ``limits_missed`` added to the count."""
        self._run(self._sql.upsert_facts, self._sql.write_facts(record))

    def save_many_case_facts(self, records: Sequence[CaseFactsRecord]) -> None:
        """:meth:`save_case_facts` for many cases in one batch (a migration, an import, a benchmark)."""
        if records:
            write = self._sql.write_facts
            self._run_many(self._sql.upsert_facts, [write(r) for r in records])

    def remove_ratings(self, instance_ids: Sequence[str], now: datetime) -> int:
        """Mark the 差评 of these cases removed by 申诉复核 (好差评): the appraisal counts leave it out of
        参评 and 差评 (:meth:`Reader.appraisal`). Returns how many case facts rows there were to mark."""
        ids = list(dict.fromkeys(instance_ids))
        if not ids:
            return 0
        marked = 0
        for chunk in chunks(ids):
            marked += self._run(self._sql.remove_ratings(len(chunk)), (self._sql.instant(now), *chunk))
        return marked

    # -- cards (电子监察) -----------------------------------------------------------------------------------

    def insert_card(self, record: CardRecord) -> None:
        """Insert a new card."""
        self._run(self._sql.insert_card, self._sql.write_card(record))

    def lock_card(self, card_id: str) -> CardRecord | None:
        """A card, locked until the transaction ends (PostgreSQL; SQLite's write lock covers it), or None."""
        rows = self._rows(self._sql.get_card_locked, (card_id,))
        return self._sql.read_card(rows[0]) if rows else None

    def open_cards(self, instance_id: str) -> list[CardRecord]:
        """The instance's cards not cleared yet, in issue order."""
        return [self._sql.read_card(row) for row in self._rows(self._sql.open_cards, (instance_id,))]

    def clear_card(self, card_id: str, at: datetime) -> bool:
        """Clear an open card at ``at``; return False when it was already cleared."""
        return self._run(self._sql.clear_card, (self._sql.instant(at), card_id)) == 1

    def set_card_escalation(
        self, card_id: str, escalate_at: datetime | None, remaining: TimeLimit | None
    ) -> None:
        """Set when an open yellow card turns red (None while suspended, with what remained), clearing any
        claim."""
        sql = self._sql
        text = time_limit_text(remaining) if remaining is not None else None
        self._run(sql.set_card_escalation, (sql.instant(escalate_at), text, card_id))

    def card_escalated(self, card_id: str, at: datetime) -> None:
        """Record that a yellow card turned red at ``at`` (its claim cleared)."""
        self._run(self._sql.card_escalated, (self._sql.instant(at), card_id))

    def claim_escalations(
        self, now: datetime, worker: str, lease_until: datetime, limit: int
    ) -> list[CardRecord]:
        """Claim up to ``limit`` open yellow cards whose 督办 period ran out (``escalate_at <= now``, not
        escalated, lease free) for ``worker``; return them as claimed, earliest first."""
        sql = self._sql
        claimed = self._claim(sql.escalatable, "cards", sql.cards_by_id, now, worker, lease_until, limit)
        cards = [sql.read_card(row) for row in claimed]
        cards.sort(key=lambda card: (card.escalate_at or now, card.id))
        return cards

    def _claim(
        self,
        claimable: str,
        table: str,
        by_id: Callable[[int], str],
        now: datetime,
        worker: str,
        lease_until: datetime,
        limit: int,
    ) -> list[Any]:
        """Claim up to ``limit`` rows of ``ef_<table>`` that ``claimable`` (``now``, ``now``, ``limit``)
        selects the ids of, for ``worker`` until ``lease_until``; return the claimed rows as selected by
        ``by_id``."""
        sql = self._sql
        at = sql.instant(now)
        ids = [str(row[0]) for row in self._rows(claimable, (at, at, limit))]
        rows: list[Any] = []
        until = sql.instant(lease_until)
        for chunk in chunks(ids):
            self._run(sql.claim(table, len(chunk)), (worker, until, *chunk))
            rows += self._rows(by_id(len(chunk)), chunk)
        return rows

    def claim_retries(
        self, now: datetime, worker: str, lease_until: datetime, limit: int
    ) -> list[IncidentRecord]:
        """Claim up to ``limit`` incidents due for a retry for ``worker``; return them (as claimed), earliest
        next attempt first.

        An incident is claimable when its status is ``"retrying"``, ``next_attempt_at <= now`` and its lease
        is free (none, or ``lease_until <= now``); claimed ones get ``claimed_by = worker`` and
        ``lease_until``.
        """
        sql = self._sql
        rows = self._claim(sql.retryable, "incidents", sql.incidents_by_id, now, worker, lease_until, limit)
        claimed = [sql.read_incident(row) for row in rows]
        claimed.sort(key=lambda incident: (incident.next_attempt_at or now, incident.id))
        return claimed
