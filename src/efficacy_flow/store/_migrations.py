"""Opening a database: create the tables of a new one, upgrade an older one, refuse a newer one.

Everything happens in the one write transaction :class:`~efficacy_flow.store.Store` opens with: a failed
upgrade leaves the database exactly as it was. On PostgreSQL the transaction first takes an advisory lock per
schema, so processes opening one database at the same time create or upgrade it once, one after the other.

The DDL text comes from the table definitions (store/_schema.py) through SQLAlchemy's public ``compile()``
for the store's dialect; the upgrade steps are written out per version below.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import Dialect, Index, Table
from sqlalchemy.schema import CreateIndex, CreateTable

from efficacy_flow.clock import CHINA_TZ
from efficacy_flow.errors import StoreError
from efficacy_flow.store._schema import (
    ASSIGNED_INDEX,
    CLOSED_STATUSES,
    CREATED_INDEX,
    DONE_INDEX,
    DUE_INDEX,
    ESCALATE_INDEX,
    METADATA,
    OPEN_KEY_INDEX,
    READY_INDEXES,
    SCHEMA_VERSION,
    audit_events,
    cards,
    case_facts,
    deadlines,
    idempotency_keys,
    incidents,
    instances,
    outbox,
    outbox_cursors,
    outbox_head,
    tasks,
)
from efficacy_flow.store._transaction import Transaction

__all__ = ["UPGRADES", "iso_week", "open_schema", "remaining_v2"]


def open_schema(tx: Transaction, dialect: Dialect, schema: str | None) -> int:
    """Make the database hold the current schema; return the version it held (0: it was empty).

    Raises:
        StoreError: the database was written by a newer version, or an upgrade step failed.
    """
    if tx.dialect == "postgresql":
        key = zlib.crc32(f"efficacy_flow schema {schema or ''}".encode())
        tx._rows(tx._sql.sql("SELECT pg_advisory_xact_lock(?)"), (key,))
        if schema is not None:
            tx._run(f'CREATE SCHEMA IF NOT EXISTS "{schema}"', ())
    found = _version(tx)
    if found is None:
        for table in METADATA.sorted_tables:
            _create(tx, dialect, table)
        tx._run(
            tx._sql.sql("INSERT INTO ef_meta (\"key\", value) VALUES ('schema_version', ?)"),
            (str(SCHEMA_VERSION),),
        )
        _start_outbox(tx)
        return 0
    if found > SCHEMA_VERSION:
        raise StoreError(
            f"the store was written by a newer efficacy_flow (schema {found} > {SCHEMA_VERSION})",
            schema_version=found,
        )
    for version in range(found, SCHEMA_VERSION):
        UPGRADES[version](tx, dialect)
    if found < SCHEMA_VERSION:
        tx._run(
            tx._sql.sql("UPDATE ef_meta SET value = ? WHERE \"key\" = 'schema_version'"),
            (str(SCHEMA_VERSION),),
        )
    return found


def _version(tx: Transaction) -> int | None:
    """The recorded schema version, or None for a database without the store's tables."""
    exists = (
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'ef_meta'"
        if tx.dialect == "sqlite"
        else "SELECT 1 WHERE to_regclass('ef_meta') IS NOT NULL"
    )
    if not tx._rows(exists):
        return None
    rows = tx._rows("SELECT value FROM ef_meta WHERE \"key\" = 'schema_version'")
    return int(rows[0][0]) if rows else None


def _create(tx: Transaction, dialect: Dialect, table: Table) -> None:
    """Create a table and its indexes (the due-time index with ``ef_deadlines``)."""
    tx._run(str(CreateTable(table, if_not_exists=True).compile(dialect=dialect)), ())
    indexes: list[Index] = sorted(table.indexes, key=lambda index: str(index.name))
    if table is deadlines:
        indexes.append(DUE_INDEX)
    if table.name == "ef_tasks":
        indexes.extend((*READY_INDEXES, ASSIGNED_INDEX, DONE_INDEX))
    if table is cards:
        indexes.append(ESCALATE_INDEX)
    for index in indexes:
        _index(tx, dialect, index)


def _index(tx: Transaction, dialect: Dialect, index: Index) -> None:
    tx._run(str(CreateIndex(index, if_not_exists=True).compile(dialect=dialect)), ())


def remaining_v2(text: str) -> str:
    """A schema-1 remaining time as schema 2 stores it: ``"wd:N"`` → ``"N working_days"``, ``"s:N"`` →
    ``"ceil(N/60) minutes"`` (rounded up: a paused limit never loses time by the upgrade).

    Raises:
        ValueError: the text is neither.
    """
    unit, _, amount = text.partition(":")
    count = int(amount)
    if count < 0 or unit not in ("wd", "s"):
        raise ValueError(text)
    return f"{count} working_days" if unit == "wd" else f"{math.ceil(count / 60)} minutes"


def _upgrade_1_to_2(tx: Transaction, dialect: Dialect) -> None:
    """Incidents: ``ef_incidents``, ``incident_id`` on instances and deadlines, the due-time index over
    unparked rows only; remaining times as TimeLimit text; and a deadline's ``kind`` named as its saved state
    names the period since state format 2 (format 1's ``"elapsed"`` is minutes of elapsed time,
    engine/runtime/formats.py)."""
    for table in (instances, deadlines):
        column = table.c.incident_id
        tx._run(
            f"ALTER TABLE {table.name} ADD COLUMN {column.name} {column.type.compile(dialect=dialect)}", ()
        )
    _create(tx, dialect, incidents)
    tx._run("DROP INDEX IF EXISTS ix_ef_deadlines_due_at", ())
    _index(tx, dialect, DUE_INDEX)
    rewritten = []
    for deadline_id, remaining in tx._rows(
        "SELECT id, remaining FROM ef_deadlines WHERE remaining IS NOT NULL"
    ):
        try:
            rewritten.append((remaining_v2(str(remaining)), deadline_id))
        except ValueError:
            raise StoreError(
                f"cannot upgrade the store: deadline {deadline_id} has an unreadable remaining time",
                deadline_id=deadline_id,
            ) from None
    if rewritten:
        tx._run_many(tx._sql.sql("UPDATE ef_deadlines SET remaining = ? WHERE id = ?"), rewritten)
    tx._run("UPDATE ef_deadlines SET kind = 'minutes' WHERE kind = 'elapsed'", ())


def _upgrade_2_to_3(tx: Transaction, dialect: Dialect) -> None:
    """The work list's indexes over ready task rows (by unit, and for all; each then due time and id) replace
    the index on (status, role); instance listings get theirs (created_at, id); and one open instance per
    (process, business key) becomes a unique index.

    Raises:
        StoreError: open instances already share a business key (the previous release accepted them): the
            error names them, and nothing changes; docs/operations.md says how to settle them first.
    """
    closed = ", ".join(f"'{status}'" for status in CLOSED_STATUSES)
    shared = tx._rows(
        "SELECT process_id, business_key, count(*) FROM ef_instances"
        f" WHERE business_key IS NOT NULL AND status NOT IN ({closed})"
        " GROUP BY process_id, business_key HAVING count(*) > 1 ORDER BY process_id, business_key"
    )
    if shared:
        named = "; ".join(f"{process} {key!r} ({count} open)" for process, key, count in shared[:10])
        raise StoreError(
            f"cannot upgrade the store: {len(shared)} business keys are shared by open instances of one"
            f" process ({named}); give each open instance its own key, or close the duplicates, then open"
            " the store again (docs/operations.md, 'Duplicate business keys')",
            duplicates=[(str(p), str(k)) for p, k, _ in shared],
        )
    tx._run("DROP INDEX IF EXISTS ix_ef_tasks_status_role", ())
    for index in (*READY_INDEXES, CREATED_INDEX, OPEN_KEY_INDEX):
        _index(tx, dialect, index)


def _start_outbox(tx: Transaction) -> None:
    """The outbox's sequence head, at 0."""
    tx._run("INSERT INTO ef_outbox_head (id, seq) VALUES (1, 0)", ())


def _upgrade_3_to_4(tx: Transaction, dialect: Dialect) -> None:
    """Case operations: a task's assignee, urge count and last urge time (existing rows: none, 0, none), the
    assigned work list's index, the index of what each person completed (已办), and the outbox tables
    (empty: events start with this version)."""
    for name in ("assignee", "urges", "last_urged_at"):
        column = tasks.c[name]
        default = " NOT NULL DEFAULT 0" if name == "urges" else ""
        tx._run(f"ALTER TABLE ef_tasks ADD COLUMN {name} {column.type.compile(dialect=dialect)}{default}", ())
    _index(tx, dialect, ASSIGNED_INDEX)
    _index(tx, dialect, DONE_INDEX)
    for table in (outbox, outbox_head, outbox_cursors):
        _create(tx, dialect, table)
    _start_outbox(tx)


#: The step from each version to the next, applied in order when an older database opens.
def _upgrade_4_to_5(tx: Transaction, dialect: Dialect) -> None:
    """Electronic supervision: the cards table (empty: cards start with this version); the facts of cases
    the appraisal figures count (empty: a case's facts are kept from its first save under this version); the
    index of audit events by time, built over the history already kept (the event-log exports read a period
    of it)."""
    _create(tx, dialect, cards)
    _create(tx, dialect, case_facts)
    (by_time,) = [index for index in audit_events.indexes if index.name == "ix_ef_audit_events_at"]
    _index(tx, dialect, by_time)


def _upgrade_5_to_6(tx: Transaction, dialect: Dialect) -> None:
    """The case facts gain ``week`` (the ISO week received, China time: computed here for the rows already
    kept) and ``repeated`` (unknown for them: NULL). A table made by this version's own schema-5 step has the
    columns already."""
    have = _columns(tx, "ef_case_facts")
    for name in ("week", "repeated"):
        if name not in have:
            column = case_facts.c[name]
            tx._run(f"ALTER TABLE ef_case_facts ADD COLUMN {name} {column.type.compile(dialect=dialect)}", ())
    read = tx._sql.converters.result(case_facts.c.received_at)
    rows = tx._rows("SELECT instance_id, received_at FROM ef_case_facts WHERE week IS NULL")
    weeks = [(iso_week(read(received) if read else received), instance_id) for instance_id, received in rows]
    if weeks:
        tx._run_many(tx._sql.sql("UPDATE ef_case_facts SET week = ? WHERE instance_id = ?"), weeks)


def _upgrade_6_to_7(tx: Transaction, dialect: Dialect) -> None:
    """The case facts gain ``rating_removed`` (申诉复核 removed the case's 差评, 好差评): NULL for the rows
    already kept (the review process ships with this version, so no earlier review removed one)."""
    if "rating_removed" not in _columns(tx, "ef_case_facts"):
        kind = case_facts.c.rating_removed.type.compile(dialect=dialect)
        tx._run(f"ALTER TABLE ef_case_facts ADD COLUMN rating_removed {kind}", ())


def _upgrade_7_to_8(tx: Transaction, dialect: Dialect) -> None:
    """The HTTP service's idempotency keys (empty: keys are kept from this version on)."""
    _create(tx, dialect, idempotency_keys)


def _columns(tx: Transaction, table: str) -> set[str]:
    if tx.dialect == "sqlite":
        return {str(row[1]) for row in tx._rows(f"PRAGMA table_info({table})")}
    text = (
        "SELECT column_name FROM information_schema.columns"
        " WHERE table_schema = current_schema() AND table_name = ?"
    )
    rows = tx._rows(tx._sql.sql(text), (table,))
    return {str(row[0]) for row in rows}


def iso_week(moment: datetime) -> str:
    """The ISO week of an instant in China time, as ``YYYY-Www`` (what ``ef_case_facts.week`` holds)."""
    year, week, _ = moment.astimezone(CHINA_TZ).isocalendar()
    return f"{year}-W{week:02d}"


UPGRADES: dict[int, Callable[[Transaction, Dialect], None]] = {
    1: _upgrade_1_to_2,
    2: _upgrade_2_to_3,
    3: _upgrade_3_to_4,
    4: _upgrade_4_to_5,
    5: _upgrade_5_to_6,
    6: _upgrade_6_to_7,
    7: _upgrade_7_to_8,
}
