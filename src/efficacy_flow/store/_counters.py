"""Durable counters (one row per counted start) and a cheap listing of instances.

Kept apart from :mod:`._store` and mixed into :class:`~efficacy_flow.store.Transaction`.

A count is never stored as a number that could drift: it is the number of event rows of a (counter, key) whose
``at`` falls in the period asked for. Concurrent increments of one (counter, key) are serialized by
:meth:`CounterQueries.lock_counter`: on SQLite every transaction already holds the database's write lock
(``BEGIN IMMEDIATE``); on PostgreSQL the ``ef_counters`` row is upserted and then locked ``FOR UPDATE``, so a
second transaction waits until the first commits and then counts its event too (READ COMMITTED takes a new
snapshot per statement).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, func, insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from efficacy_flow.store._records import InstanceRecord
from efficacy_flow.store._schema import counter_events, counters, instances

__all__ = ["CounterQueries"]

# Every instance column except the saved workflow state, which a listing never needs.
_LISTED = [column for column in instances.c if column.name != "state"]


class CounterQueries:
    """Counter locks, events and counts, and the instance listing; a mixin of ``Transaction``."""

    conn: Connection
    dialect: str

    def lock_counter(self, counter: str, key: str, at: datetime) -> None:
        """Hold the lock of (``counter``, ``key``) until this transaction ends, creating its row if needed."""
        upsert = pg_insert if self.dialect == "postgresql" else sqlite_insert
        self.conn.execute(
            upsert(counters)
            .values(counter=counter, key=key, created_at=at)
            .on_conflict_do_nothing(index_elements=["counter", "key"])
        )
        if self.dialect == "postgresql":
            # SQLite needs no row lock: BEGIN IMMEDIATE already made this transaction the only writer.
            self.conn.execute(
                select(counters.c.counter)
                .where(counters.c.counter == counter, counters.c.key == key)
                .with_for_update()
            )

    def add_counter_event(self, counter: str, key: str, at: datetime, instance_id: str) -> None:
        """Record that ``instance_id`` was counted for (``counter``, ``key``) at ``at``."""
        self.conn.execute(
            insert(counter_events).values(counter=counter, key=key, at=at, instance_id=instance_id)
        )

    def count_counter_events(
        self, counter: str, key: str, *, after: datetime | None, at_or_after: datetime | None, until: datetime
    ) -> int:
        """How many events of (``counter``, ``key``) are in the period that ends at ``until`` (inclusive).

        The period starts strictly after ``after`` or at/after ``at_or_after`` (at most one is given; neither:
        from the first event).
        """
        query = (
            select(func.count())
            .select_from(counter_events)
            .where(
                counter_events.c.counter == counter, counter_events.c.key == key, counter_events.c.at <= until
            )
        )
        if after is not None:
            query = query.where(counter_events.c.at > after)
        if at_or_after is not None:
            query = query.where(counter_events.c.at >= at_or_after)
        return int(self.conn.execute(query).scalar_one())

    def counter_events_of(self, instance_id: str) -> list[tuple[str, str, datetime]]:
        """The (counter, key, at) events recorded for one instance, by counter."""
        query = (
            select(counter_events.c.counter, counter_events.c.key, counter_events.c.at)
            .where(counter_events.c.instance_id == instance_id)
            .order_by(counter_events.c.counter)
        )
        return [(str(r.counter), str(r.key), r.at) for r in self.conn.execute(query)]

    def list_instances(
        self, *, process_id: str | None, status: str | None, business_key: str | None
    ) -> list[InstanceRecord]:
        """Instances matching every filter given, oldest first; ``state`` is left empty (never read)."""
        query = select(*_LISTED).order_by(instances.c.created_at, instances.c.id)
        if process_id is not None:
            query = query.where(instances.c.process_id == process_id)
        if status is not None:
            query = query.where(instances.c.status == status)
        if business_key is not None:
            query = query.where(instances.c.business_key == business_key)
        return [InstanceRecord(state=b"", **row) for row in self.conn.execute(query).mappings()]
