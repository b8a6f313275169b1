"""Store schema version 1, frozen: the table definitions of the release before schema 2 (commit 7e685a3's
src/efficacy_flow/store/_schema.py, copied verbatim below this docstring but for this paragraph).

Tests build real version-1 databases with it — ``METADATA.create_all`` through SQLAlchemy, rows inserted by
SQLAlchemy Core through :class:`UtcDateTime`, exactly as the previous version wrote them — and open them with
today's store to check the upgrade and that every stored value reads the same. Never edit it: it is what
databases in the field hold.

The original docstring:

The tables, in SQLAlchemy 2 Core, shared by SQLite and PostgreSQL.

Instants are stored as naive UTC in plain ``DateTime`` columns (:class:`UtcDateTime`) so that both databases
order and compare them the same way; they come back aware, in Asia/Shanghai.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Dialect,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
)

from efficacy_flow.clock import CHINA_TZ
from efficacy_flow.errors import NaiveDatetime

__all__ = [
    "METADATA",
    "SCHEMA_VERSION",
    "UtcDateTime",
    "audit_events",
    "counter_events",
    "counters",
    "deadlines",
    "definitions",
    "instances",
    "tasks",
]

#: Bumped when a table changes shape; recorded in ``meta`` so an old database is recognised.
SCHEMA_VERSION = 1


class UtcDateTime(TypeDecorator[datetime]):
    """An aware instant stored as naive UTC; read back in Asia/Shanghai."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise NaiveDatetime(f"the store needs aware datetimes, got {value.isoformat()}", value=value)
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC).astimezone(CHINA_TZ)


METADATA = MetaData()

meta = Table(
    "ef_meta",
    METADATA,
    Column("key", String(64), primary_key=True),
    Column("value", String(200), nullable=False),
)

#: Process definitions, stored once, keyed by the sha256 of their normalized content.
definitions = Table(
    "ef_definitions",
    METADATA,
    Column("hash", String(64), primary_key=True),
    Column("process_id", String(200), nullable=False, index=True),
    Column("content", LargeBinary, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)

instances = Table(
    "ef_instances",
    METADATA,
    Column("id", String(36), primary_key=True),
    Column("process_id", String(200), nullable=False),
    Column("definition_hash", String(64), nullable=False),
    Column("business_key", String(200), nullable=True, index=True),
    Column("status", String(20), nullable=False),
    # Optimistic concurrency: every write checks and bumps it.
    Column("version", Integer, nullable=False),
    Column("state", LargeBinary, nullable=False),
    Column("format_version", Integer, nullable=False),
    Column("first_responder", String(200), nullable=False),
    Column("suspended_at", UtcDateTime, nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    # The head of the audit hash chain: a removed last event is detected against these.
    Column("audit_seq", Integer, nullable=False),
    Column("audit_head", String(64), nullable=False),
)

#: User tasks: ready ones (what ``engine.tasks`` lists) and closed ones (so a second completion is
#:  recognised).
tasks = Table(
    "ef_tasks",
    METADATA,
    Column("id", String(36), primary_key=True),
    Column("instance_id", String(36), nullable=False, index=True),
    Column("element_id", String(200), nullable=False),
    Column("name", String(400), nullable=False),
    Column("role", String(200), nullable=True),
    Column("unit", String(200), nullable=True),
    Column("status", String(20), nullable=False),
    Column("ready_at", UtcDateTime, nullable=False),
    Column("due_at", UtcDateTime, nullable=True),
    Column("closed_at", UtcDateTime, nullable=True),
    Column("closed_by", String(200), nullable=True),
    Index("ix_ef_tasks_status_role", "status", "role"),
)

#: Pending timers. ``due_at`` is indexed: tick() reads only rows that are due. ``claimed_by``/``lease_until``:
#: the worker that claimed a due row to fire it, and until when (store/_claims.py; docs/operations.md).
deadlines = Table(
    "ef_deadlines",
    METADATA,
    Column("id", String(36), primary_key=True),
    Column("instance_id", String(36), nullable=False, index=True),
    Column("task_id", String(36), nullable=True, index=True),
    Column("element_id", String(200), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("interrupting", Boolean, nullable=False),
    Column("due_at", UtcDateTime, nullable=True, index=True),
    Column("remaining", String(64), nullable=True),
    Column("fired_at", UtcDateTime, nullable=True),
    Column("claimed_by", String(200), nullable=True),
    Column("lease_until", UtcDateTime, nullable=True),
)

audit_events = Table(
    "ef_audit_events",
    METADATA,
    Column("instance_id", String(36), primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("at", UtcDateTime, nullable=False),
    Column("actor", String(200), nullable=True),
    Column("kind", String(40), nullable=False),
    Column("before", Text, nullable=True),
    Column("after", Text, nullable=True),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
)

#: One row per (counter, key) ever counted: the row a start locks (PostgreSQL ``FOR UPDATE``) so that two
#: concurrent starts for the same unit count one after the other (engine/_counters.py).
counters = Table(
    "ef_counters",
    METADATA,
    Column("counter", String(100), primary_key=True),
    Column("key", String(200), primary_key=True),
    Column("created_at", UtcDateTime, nullable=False),
)

#: One row per counted start (durable counters, docs/engine.md): the count of a period is the number of rows
#: whose ``at`` falls in it. An instance is counted at most once per counter.
counter_events = Table(
    "ef_counter_events",
    METADATA,
    Column("counter", String(100), primary_key=True),
    Column("instance_id", String(36), primary_key=True),
    Column("key", String(200), nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Index("ix_ef_counter_events_key_at", "counter", "key", "at"),
)
