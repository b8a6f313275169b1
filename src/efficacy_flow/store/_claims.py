"""Queries for several workers (row claims with a lease) and for the consistency checker's batched scans.

Kept apart from :mod:`._store` (the hot path of every call) and mixed into :class:`Transaction`.

A claim marks due deadline rows with a worker id and a lease expiry. On PostgreSQL the rows are chosen with
``FOR UPDATE SKIP LOCKED``: concurrent claimers never wait for each other and never receive the same row. On
SQLite every transaction starts with ``BEGIN IMMEDIATE``, so claims are serialized. A claim only divides the
work; exactly-once firing is guaranteed by the engine, which locks the instance and re-reads its due rows
in the transaction that fires them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import fields
from datetime import datetime

from sqlalchemy import Connection, insert, or_, select, text, update

from efficacy_flow.store._records import (
    AuditRecord,
    DeadlineRecord,
    IncidentRecord,
    InstanceRecord,
    TaskRecord,
)
from efficacy_flow.store._schema import audit_events, deadlines, incidents, instances, tasks

__all__ = ["ClaimQueries"]

# Bound parameters per IN list: stays under SQLite's historical 999-variable limit.
_IN_CHUNK = 900


class ClaimQueries:
    """Claims, leases and batched reads; a mixin of :class:`~efficacy_flow.store.Transaction`."""

    conn: Connection
    dialect: str

    # -- claims ----------------------------------------------------------------------------------------------

    def claim_due(self, now: datetime, worker: str, lease_until: datetime, limit: int) -> list[str]:
        """Claim up to ``limit`` due, unclaimed deadline rows for ``worker``; return their instance ids.

        A row is claimable when ``due_at <= now``, it has not fired, and it is unclaimed or its lease has
        expired (``lease_until <= now``). Claimed rows get ``claimed_by = worker`` and ``lease_until``.
        Instance ids come earliest due first, each once (an instance may have several due rows).
        """
        free = or_(deadlines.c.lease_until.is_(None), deadlines.c.lease_until <= now)
        query = (
            select(deadlines.c.id, deadlines.c.instance_id)
            .where(
                deadlines.c.due_at <= now,
                deadlines.c.fired_at.is_(None),
                deadlines.c.incident_id.is_(None),
                free,
            )
            # due_at alone: the index yields rows in this order and the scan stops after ``limit`` rows (a
            # tie-break column would sort every due row on each claim).
            .order_by(deadlines.c.due_at)
            .limit(limit)
        )
        if self.dialect == "postgresql":
            query = query.with_for_update(skip_locked=True)
        rows = self.conn.execute(query).all()
        if not rows:
            return []
        for chunk in _chunks([str(r.id) for r in rows]):
            self.conn.execute(
                update(deadlines)
                .where(deadlines.c.id.in_(chunk))
                .values(claimed_by=worker, lease_until=lease_until)
            )
        return list(dict.fromkeys(str(r.instance_id) for r in rows))

    def release_claims(self, worker: str, instance_ids: Sequence[str]) -> int:
        """Clear ``worker``'s claims on the rows of these instances (so the next tick retries them)."""
        released = 0
        for chunk in _chunks(list(instance_ids)):
            result = self.conn.execute(
                update(deadlines)
                .where(deadlines.c.instance_id.in_(chunk), deadlines.c.claimed_by == worker)
                .values(claimed_by=None, lease_until=None)
            )
            released += result.rowcount
        return released

    def claimed_rows(self, worker: str | None = None) -> list[DeadlineRecord]:
        """Rows currently carrying a claim (by ``worker``, if given), for operators and tests."""
        query = select(deadlines).where(deadlines.c.claimed_by.is_not(None))
        if worker is not None:
            query = query.where(deadlines.c.claimed_by == worker)
        query = query.order_by(deadlines.c.due_at, deadlines.c.id)
        return [DeadlineRecord(**row) for row in self.conn.execute(query).mappings()]

    # -- incidents (interim) -------------------------------------------------------------------------------

    def insert_incident(self, record: IncidentRecord) -> None:
        """Insert an incident row."""
        self.conn.execute(insert(incidents).values({f.name: getattr(record, f.name) for f in fields(record)}))

    def update_incident(self, incident_id: str, **columns: object) -> bool:
        """Set incident columns; whether a row changed."""
        result = self.conn.execute(update(incidents).where(incidents.c.id == incident_id).values(**columns))
        return bool(result.rowcount == 1)

    def get_incident(self, incident_id: str) -> IncidentRecord | None:
        """An incident row, or None."""
        row = self.conn.execute(select(incidents).where(incidents.c.id == incident_id)).mappings().first()
        return IncidentRecord(**row) if row is not None else None

    def incidents(
        self, *, instance_id: str | None = None, statuses: Sequence[str] = ("open",)
    ) -> list[IncidentRecord]:
        """Incidents with one of ``statuses`` (of one instance if given), oldest first."""
        query = select(incidents).where(incidents.c.status.in_(list(statuses)))
        if instance_id is not None:
            query = query.where(incidents.c.instance_id == instance_id)
        query = query.order_by(incidents.c.created_at, incidents.c.id)
        return [IncidentRecord(**row) for row in self.conn.execute(query).mappings()]

    def claim_retries(
        self, now: datetime, worker: str, lease_until: datetime, limit: int
    ) -> list[IncidentRecord]:
        """Claim retrying incidents whose next attempt is due."""
        free = or_(incidents.c.lease_until.is_(None), incidents.c.lease_until <= now)
        query = (
            select(incidents)
            .where(incidents.c.status == "retrying", incidents.c.next_attempt_at <= now, free)
            .order_by(incidents.c.next_attempt_at)
            .limit(limit)
        )
        if self.dialect == "postgresql":
            query = query.with_for_update(skip_locked=True)
        rows = [IncidentRecord(**row) for row in self.conn.execute(query).mappings()]
        for row in rows:
            self.conn.execute(
                update(incidents)
                .where(incidents.c.id == row.id)
                .values(claimed_by=worker, lease_until=lease_until)
            )
        return rows

    def set_instance_incident(self, instance_id: str, incident_id: str | None) -> None:
        """Set an instance's incident without a version bump."""
        self.conn.execute(
            update(instances).where(instances.c.id == instance_id).values(incident_id=incident_id)
        )

    def park_deadlines(self, instance_id: str, incident_id: str | None) -> None:
        """Park (or unpark) an instance's deadline rows, clearing their claims."""
        self.conn.execute(
            update(deadlines)
            .where(deadlines.c.instance_id == instance_id)
            .values(incident_id=incident_id, claimed_by=None, lease_until=None)
        )

    def stale_claims(self, now: datetime) -> list[DeadlineRecord]:
        """Deadline rows claimed by a worker whose lease has expired."""
        query = select(deadlines).where(deadlines.c.claimed_by.is_not(None), deadlines.c.lease_until <= now)
        return [DeadlineRecord(**row) for row in self.conn.execute(query).mappings()]

    # -- batched reads for the consistency checker ---------------------------------------------------------

    def read_snapshot(self) -> None:
        """Make the rest of this transaction read one snapshot (PostgreSQL REPEATABLE READ, read only).

        Must be the first statement of the transaction. SQLite already reads one snapshot per transaction.
        """
        if self.dialect == "postgresql":
            self.conn.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY"))

    def instances_after(
        self, after_id: str | None, limit: int, *, ids: Sequence[str] | None = None
    ) -> list[InstanceRecord]:
        """Up to ``limit`` instances with ids greater than ``after_id`` (None: from the start), by id.

        ``ids``: only these instances.
        """
        query = select(instances).order_by(instances.c.id).limit(limit)
        if after_id is not None:
            query = query.where(instances.c.id > after_id)
        if ids is not None:
            query = query.where(instances.c.id.in_(list(ids)))
        return [InstanceRecord(**row) for row in self.conn.execute(query).mappings()]

    def rows_of_instances(
        self, instance_ids: Sequence[str]
    ) -> tuple[dict[str, list[TaskRecord]], dict[str, list[DeadlineRecord]], dict[str, list[AuditRecord]]]:
        """Every task row, deadline row and audit event of these instances, grouped by instance id."""
        task_rows: dict[str, list[TaskRecord]] = defaultdict(list)
        deadline_rows: dict[str, list[DeadlineRecord]] = defaultdict(list)
        audit_rows: dict[str, list[AuditRecord]] = defaultdict(list)
        for chunk in _chunks(list(instance_ids)):
            query = select(tasks).where(tasks.c.instance_id.in_(chunk)).order_by(tasks.c.id)
            for row in self.conn.execute(query).mappings():
                task_rows[row["instance_id"]].append(TaskRecord(**row))
            query = select(deadlines).where(deadlines.c.instance_id.in_(chunk)).order_by(deadlines.c.id)
            for row in self.conn.execute(query).mappings():
                deadline_rows[row["instance_id"]].append(DeadlineRecord(**row))
            query = (
                select(audit_events)
                .where(audit_events.c.instance_id.in_(chunk))
                .order_by(audit_events.c.instance_id, audit_events.c.seq)
            )
            for row in self.conn.execute(query).mappings():
                audit_rows[row["instance_id"]].append(AuditRecord(**row))
        return task_rows, deadline_rows, audit_rows

    def orphan_instance_ids(self) -> dict[str, list[str]]:
        """Instance ids that task, deadline or audit rows name but no instance row has, by table."""
        found: dict[str, list[str]] = {}
        for name, table in (("tasks", tasks), ("deadlines", deadlines), ("audit_events", audit_events)):
            missing = (
                select(table.c.instance_id)
                .distinct()
                .where(~select(instances.c.id).where(instances.c.id == table.c.instance_id).exists())
                .order_by(table.c.instance_id)
            )
            ids = [str(v) for v in self.conn.execute(missing).scalars()]
            if ids:
                found[name] = ids
        return found


def _chunks(values: list[str]) -> list[list[str]]:
    return [values[i : i + _IN_CHUNK] for i in range(0, len(values), _IN_CHUNK)]
