"""Every statement the store runs, as SQL text prepared once per dialect, with the row converters it needs.

The SQL is written here by hand (``?`` placeholders, turned into psycopg's ``%s`` for PostgreSQL) rather than
compiled from SQLAlchemy Core constructs. Both would give one text per dialect; hand-written text gives the
bind order in plain sight (the values are passed as a tuple in that order, nothing maps names to positions),
the exact statement the database plans, and no dependency on the compiler's bind bookkeeping, whose only
ordered view of positional binds is semi-private. The few dialect differences are spelled out where they
occur: row locks (``FOR UPDATE``, ``SKIP LOCKED``) exist only on PostgreSQL, where SQLite's transactions are
serialized by ``BEGIN IMMEDIATE`` instead. Everything else (``ON CONFLICT DO NOTHING``, partial indexes,
``IN`` lists, ``LIMIT``) is the same text on both.

Statements with optional filters have one text per combination of filters, all made with the rest; those with
``IN`` lists have one per length, made on first use and kept. The drivers cache the prepared statement by its
text (sqlite3's per-connection statement cache; psycopg prepares a text server-side once it has run a few
times), so each text is parsed and planned once per connection.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import fields
from itertools import product
from typing import Any

from sqlalchemy import Table

from efficacy_flow.errors import InvalidInput
from efficacy_flow.store._converters import Converter, Converters, RowWriter
from efficacy_flow.store._records import (
    AuditRecord,
    CardRecord,
    CaseFactsRecord,
    DeadlineRecord,
    IncidentRecord,
    InstanceRecord,
    OutboxRecord,
    TaskRecord,
)
from efficacy_flow.store._schema import (
    audit_events,
    cards,
    case_facts,
    deadlines,
    incidents,
    instances,
    outbox,
    tasks,
)

__all__ = [
    "APPRAISAL_DIMENSIONS",
    "CARD_FILTERS",
    "INCIDENT_SETTABLE",
    "INSTANCE_SETTABLE",
    "IN_CHUNK",
    "LISTING_FILTERS",
    "Statements",
    "chunks",
    "columns",
    "placeholders",
]

#: Bound values per ``IN`` list: under SQLite's historical limit of 999 variables per statement.
IN_CHUNK = 900

# Column names SQLAlchemy's DDL quotes (keywords in SQLite): quoted the same way in every statement.
_QUOTED = frozenset({"before", "after", "key"})


def _name(column: str) -> str:
    return f'"{column}"' if column in _QUOTED else column


def columns(record: type[Any], prefix: str = "", *, without: Iterable[str] = ()) -> str:
    """The column list of a record's fields, in their order (``prefix``: a table alias)."""
    skipped = set(without)
    return ", ".join(prefix + _name(f.name) for f in fields(record) if f.name not in skipped)


def placeholders(n: int) -> str:
    """``?, ?, ...`` for ``n`` values."""
    return ", ".join("?" * n)


def _inserting(table: Table, record: type[Any]) -> str:
    return f"INSERT INTO {table.name} ({columns(record)}) VALUES ({placeholders(len(fields(record)))})"


_INSTANCE = columns(InstanceRecord)
_TASK = columns(TaskRecord)
_DEADLINE = columns(DeadlineRecord)
_AUDIT = columns(AuditRecord)
_INCIDENT = columns(IncidentRecord)
_CARD = columns(CardRecord)
#: The columns appraisal counts may be grouped by (Reader.appraisal).
APPRAISAL_DIMENSIONS = frozenset(
    {"unit", "region", "case_type", "category", "sector", "period", "week", "process_id"}
)
#: The filters of a card listing (Reader.cards), in the order their ``?`` are bound.
CARD_FILTERS = ("instance_id", "unit", "level", "limit_name", "since", "until")
_CARD_CONDITIONS = {
    "instance_id": "instance_id = ?",
    "unit": "unit = ?",
    "level": "level = ?",
    "limit_name": "limit_name = ?",
    "since": "issued_at >= ?",
    "until": "issued_at < ?",
}
#: Every instance column but the saved state, which a listing never needs (it reads back as b"").
_LISTED = columns(InstanceRecord, without=("state",))

#: The instance columns a caller may set through ``update_instance`` (besides the bumped version).
INSTANCE_SETTABLE = frozenset(f.name for f in fields(InstanceRecord)) - {"id", "version"}
#: The incident columns ``update_incident`` may set.
INCIDENT_SETTABLE = frozenset(
    {
        "element_id",
        "status",
        "error",
        "message",
        "attempts",
        "next_attempt_at",
        "updated_at",
        "resolved_at",
        "resolved_by",
        "claimed_by",
        "lease_until",
    }
)

#: A due, unclaimed (or lease-expired), unparked deadline row: the claim's filter. ``incident_id IS NULL`` is
#: the due-time index's own condition (store/_schema.py), so the index serves the claim.
_CLAIMABLE = (
    "due_at <= ? AND fired_at IS NULL AND incident_id IS NULL AND (lease_until IS NULL OR lease_until <= ?)"
)


def _ready_tasks(instance_id: bool, role: bool, unit: bool) -> str:
    where = ["status = 'ready'"] + [
        f"{name} = ?" for name, on in (("instance_id", instance_id), ("role", role), ("unit", unit)) if on
    ]
    return f"SELECT {_TASK} FROM ef_tasks WHERE {' AND '.join(where)} ORDER BY ready_at, id"


#: The filters of a page of the work list (Reader.task_page), in the order their values are bound.
PAGE_FILTERS = (
    "instance_id",
    "role",
    "unit",
    "assignee",
    "process_id",
    "business_key",
    "due_before",
    "due_after",
    "due_by",
)


def _task_page(given: tuple[str, ...], dated: bool, keyed: bool, limited: bool) -> str:
    """One part of a work-list page: the ready rows with a due time (``dated``, ordered by due time then id)
    or those without (ordered by id); ``keyed``: after a (due time, id) or an id; ``limited``: ``LIMIT ?``."""
    where = ["status = 'ready'", "due_at IS NOT NULL" if dated else "due_at IS NULL"]
    for name in given:
        if name in ("instance_id", "role", "unit", "assignee"):
            where.append(f"{name} = ?")
        elif name == "process_id":
            where.append("instance_id IN (SELECT id FROM ef_instances WHERE process_id = ?)")
        elif name == "business_key":
            where.append("instance_id IN (SELECT id FROM ef_instances WHERE business_key = ?)")
        elif name == "due_before":
            where.append("due_at < ?")
        elif name == "due_after":
            where.append("due_at > ?")
        elif name == "due_by":
            where.append("due_at <= ?")
    if keyed:
        where.append("(due_at, id) > (?, ?)" if dated else "id > ?")
    order = "due_at, id" if dated else "id"
    return f"SELECT {_TASK} FROM ef_tasks WHERE {' AND '.join(where)} ORDER BY {order}" + (
        " LIMIT ?" if limited else ""
    )


def _list_instances(filters: tuple[str, ...], keyed: bool = False, limited: bool = False) -> str:
    conditions = [f"{name} = ?" for name in filters] + (["(created_at, id) > (?, ?)"] if keyed else [])
    where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
    limit = " LIMIT ?" if limited else ""
    return f"SELECT {_LISTED} FROM ef_instances{where} ORDER BY created_at, id{limit}"


def _count_counter_events(after: bool, at_or_after: bool) -> str:
    where = 'counter = ? AND "key" = ? AND at <= ?'
    where += " AND at > ?" if after else ""
    where += " AND at >= ?" if at_or_after else ""
    return f"SELECT count(*) FROM ef_counter_events WHERE {where}"


#: The columns ``list_instances`` may filter by, in the order their values are bound.
LISTING_FILTERS = ("process_id", "status", "business_key")


class Statements:
    """The SQL text of every statement for one dialect, and the converters of the rows they read and write.

    Attributes holding text are ready for the driver (``%s`` placeholders on PostgreSQL); the methods make
    (and keep) the texts that depend on which filters or columns a call uses.
    """

    def __init__(self, dialect: str) -> None:
        self.dialect = dialect
        postgresql = dialect == "postgresql"
        self._texts: dict[Any, str] = {}
        self._settings: dict[Any, tuple[str, tuple[Converter | None, ...]]] = {}
        convert = self.converters = Converters(dialect)
        self.instant: Callable[[Any], Any] = convert.instant
        self.read_instance = convert.reader(InstanceRecord, instances)
        self.read_task = convert.reader(TaskRecord, tasks)
        self.read_deadline = convert.reader(DeadlineRecord, deadlines)
        self.read_audit = convert.reader(AuditRecord, audit_events)
        self.read_incident = convert.reader(IncidentRecord, incidents)
        self.read_outbox = convert.reader(OutboxRecord, outbox)
        self.write_outbox: RowWriter = convert.writer(OutboxRecord, outbox)
        self.write_instance: RowWriter = convert.writer(InstanceRecord, instances)
        self.write_task: RowWriter = convert.writer(TaskRecord, tasks)
        self.write_deadline: RowWriter = convert.writer(DeadlineRecord, deadlines)
        self.write_audit: RowWriter = convert.writer(AuditRecord, audit_events)
        self.write_incident: RowWriter = convert.writer(IncidentRecord, incidents)
        self.read_card = convert.reader(CardRecord, cards)
        self.read_facts = convert.reader(CaseFactsRecord, case_facts)
        self.write_facts: RowWriter = convert.writer(CaseFactsRecord, case_facts)
        self.write_card: RowWriter = convert.writer(CardRecord, cards)
        self._instance_binds: dict[str, Converter | None] = {c.name: convert.bind(c) for c in instances.c}
        self._incident_binds: dict[str, Converter | None] = {c.name: convert.bind(c) for c in incidents.c}
        sql = self.sql
        lock = " FOR UPDATE" if postgresql else ""
        # -- texts by which optional filters a call gives (every combination, made once)
        on_off = (False, True)
        #: Ready tasks by (instance_id, role, unit) given, each ``= ?`` in that order, oldest first.
        self.ready_tasks = {key: sql(_ready_tasks(*key)) for key in product(on_off, repeat=3)}
        #: Instances without their state, by which of LISTING_FILTERS are given (``= ?`` each), oldest first.
        self.list_instances = {
            given: sql(_list_instances(tuple(n for n, on in zip(LISTING_FILTERS, given, strict=True) if on)))
            for given in product(on_off, repeat=3)
        }
        #: Counter events of (counter, key) with ``at <= ?``, by whether ``at > ?`` / ``at >= ?`` follow.
        self.count_counter_events = {
            key: sql(_count_counter_events(*key)) for key in product(on_off, repeat=2)
        }
        #: How many instances there are, by whether ``status = ?`` filters them.
        self.count_instances = {
            False: sql("SELECT count(*) FROM ef_instances"),
            True: sql("SELECT count(*) FROM ef_instances WHERE status = ?"),
        }
        self.get_task_due = sql("SELECT due_at FROM ef_tasks WHERE id = ?")
        self.get_task_closed = sql("SELECT closed_at FROM ef_tasks WHERE id = ?")
        #: What a person completed (已办), most recent first, by whether a key and a limit follow.
        done = f"SELECT {_TASK} FROM ef_tasks WHERE status = 'completed' AND closed_by = ?"
        self.done_page = {
            (keyed, limited): sql(
                done
                + (" AND (closed_at, id) < (?, ?)" if keyed else "")
                + " ORDER BY closed_at DESC, id DESC"
                + (" LIMIT ?" if limited else "")
            )
            for keyed in (False, True)
            for limited in (False, True)
        }
        self.get_instance_created = sql("SELECT created_at FROM ef_instances WHERE id = ?")
        # -- definitions
        self.get_definition = sql("SELECT content FROM ef_definitions WHERE hash = ?")
        self.put_definition = sql(
            "INSERT INTO ef_definitions (hash, process_id, content, created_at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (hash) DO NOTHING"
        )
        # -- instances
        self.get_instance = sql(f"SELECT {_INSTANCE} FROM ef_instances WHERE id = ?")
        self.get_instance_locked = sql(f"SELECT {_INSTANCE} FROM ef_instances WHERE id = ?{lock}")
        self.insert_instance = sql(_inserting(instances, InstanceRecord))
        self.instance_ids_by_business_key = sql(
            "SELECT id FROM ef_instances WHERE business_key = ? ORDER BY created_at, id"
        )
        self.advance_audit_head = sql(
            "UPDATE ef_instances SET audit_seq = ?, audit_head = ? WHERE id = ? AND audit_seq = ?"
        )
        self.set_instance_incident = sql("UPDATE ef_instances SET incident_id = ? WHERE id = ?")
        # -- tasks
        self.get_task = sql(f"SELECT {_TASK} FROM ef_tasks WHERE id = ?")
        # A task with its instance row in one statement (SQLite: see Reader.get_task).
        self.get_task_and_instance = sql(
            f"SELECT {columns(TaskRecord, 't.')}, {columns(InstanceRecord, 'i.')}"
            " FROM ef_tasks t LEFT JOIN ef_instances i ON i.id = t.instance_id WHERE t.id = ?"
        )
        #: A ready row, or a closed one opened again (a task returned to or withdrawn keeps its id).
        reopened = ", ".join(
            f"{_name(f.name)} = excluded.{_name(f.name)}" for f in fields(TaskRecord) if f.name != "id"
        )
        self.insert_task = sql(_inserting(tasks, TaskRecord) + f" ON CONFLICT (id) DO UPDATE SET {reopened}")
        self.close_task = sql(
            "UPDATE ef_tasks SET status = ?, closed_at = ?, closed_by = ? WHERE id = ? AND status = 'ready'"
        )
        #: The columns of a ready row that a save may change (engine/_task_rows.py derives them).
        self.retime_task = sql(
            "UPDATE ef_tasks SET due_at = ?, unit = ?, assignee = ?, urges = ?, last_urged_at = ?,"
            " element_id = ?, name = ?, role = ? WHERE id = ?"
        )
        # -- outbox (schema 4): the head row's lock orders the writers until they commit
        self.take_outbox_seq = sql("UPDATE ef_outbox_head SET seq = seq + ? WHERE id = 1 RETURNING seq")
        self.insert_outbox = sql(_inserting(outbox, OutboxRecord))

        self.outbox_after = sql(
            f"SELECT {columns(OutboxRecord)} FROM ef_outbox WHERE seq > ? ORDER BY seq LIMIT ?"
        )
        self.get_cursor = sql("SELECT seq FROM ef_outbox_cursors WHERE name = ?")
        self.slowest_cursor = sql("SELECT min(seq) FROM ef_outbox_cursors")
        self.newest_event = sql("SELECT max(seq) FROM ef_outbox")
        self.prune_outbox = sql("DELETE FROM ef_outbox WHERE seq <= ?")
        self.get_cursor_locked = sql(f"SELECT seq FROM ef_outbox_cursors WHERE name = ?{lock}")
        self.put_cursor = sql(
            "INSERT INTO ef_outbox_cursors (name, seq, updated_at) VALUES (?, ?, ?)"
            " ON CONFLICT (name) DO UPDATE SET seq = excluded.seq, updated_at = excluded.updated_at"
        )
        # -- deadlines
        self.deadlines_of = sql(f"SELECT {_DEADLINE} FROM ef_deadlines WHERE instance_id = ? ORDER BY id")
        self.insert_deadline = sql(_inserting(deadlines, DeadlineRecord))
        self.delete_deadline = sql("DELETE FROM ef_deadlines WHERE id = ?")
        changed = ", ".join(f"{_name(f.name)} = ?" for f in fields(DeadlineRecord) if f.name != "id")
        self.update_deadline = sql(f"UPDATE ef_deadlines SET {changed} WHERE id = ?")
        self.due_instance_ids = sql(
            "SELECT instance_id FROM ef_deadlines"
            " WHERE due_at <= ? AND fired_at IS NULL AND incident_id IS NULL"
            " GROUP BY instance_id ORDER BY min(due_at), instance_id LIMIT ?"
        )
        # due_at alone orders the claim: the index yields rows in this order and the scan stops after
        # ``limit`` rows (a tie-break column would sort every due row on each claim).
        self.claimable = sql(
            f"SELECT id, instance_id FROM ef_deadlines WHERE {_CLAIMABLE} ORDER BY due_at LIMIT ?"
            + (" FOR UPDATE SKIP LOCKED" if postgresql else "")
        )
        self.stale_claims = sql(
            f"SELECT {_DEADLINE} FROM ef_deadlines WHERE claimed_by IS NOT NULL AND lease_until <= ?"
            " ORDER BY due_at, id"
        )
        self.park_deadlines = sql(
            "UPDATE ef_deadlines SET incident_id = ?, claimed_by = NULL, lease_until = NULL"
            " WHERE instance_id = ?"
        )
        # -- audit
        self.insert_audit = sql(_inserting(audit_events, AuditRecord))
        self.audit_of = sql(f"SELECT {_AUDIT} FROM ef_audit_events WHERE instance_id = ? ORDER BY seq")
        # -- counters
        self.lock_counter = sql(
            'INSERT INTO ef_counters (counter, "key", created_at) VALUES (?, ?, ?)'
            ' ON CONFLICT (counter, "key") DO NOTHING'
        )
        # SQLite needs no row lock: BEGIN IMMEDIATE already made the transaction the only writer.
        self.lock_counter_row = (
            sql('SELECT counter FROM ef_counters WHERE counter = ? AND "key" = ? FOR UPDATE')
            if postgresql
            else None
        )
        self.add_counter_event = sql(
            'INSERT INTO ef_counter_events (counter, "key", at, instance_id) VALUES (?, ?, ?, ?)'
        )
        self.counter_events_of = sql(
            'SELECT counter, "key", at FROM ef_counter_events WHERE instance_id = ? ORDER BY counter'
        )
        # -- incidents
        self.get_incident = sql(f"SELECT {_INCIDENT} FROM ef_incidents WHERE id = ?")
        self.insert_incident = sql(_inserting(incidents, IncidentRecord))
        self.retryable = sql(
            "SELECT id FROM ef_incidents WHERE status = 'retrying' AND next_attempt_at <= ?"
            " AND (lease_until IS NULL OR lease_until <= ?) ORDER BY next_attempt_at, id LIMIT ?"
            + (" FOR UPDATE SKIP LOCKED" if postgresql else "")
        )

        # -- cards
        self.insert_card = sql(_inserting(cards, CardRecord))
        self.get_card = sql(f"SELECT {_CARD} FROM ef_cards WHERE id = ?")
        self.get_card_locked = sql(f"SELECT {_CARD} FROM ef_cards WHERE id = ?{lock}")
        self.open_cards = sql(
            f"SELECT {_CARD} FROM ef_cards WHERE instance_id = ? AND cleared_at IS NULL"
            " ORDER BY issued_at, id"
        )
        self.cards_of = sql(f"SELECT {_CARD} FROM ef_cards WHERE instance_id = ? ORDER BY issued_at, id")
        self.clear_card = sql("UPDATE ef_cards SET cleared_at = ? WHERE id = ? AND cleared_at IS NULL")
        self.escalatable = sql(
            "SELECT id FROM ef_cards WHERE escalate_at <= ? AND cleared_at IS NULL AND escalated_at IS NULL"
            " AND escalate_at IS NOT NULL AND (lease_until IS NULL OR lease_until <= ?)"
            " ORDER BY escalate_at LIMIT ?" + (" FOR UPDATE SKIP LOCKED" if postgresql else "")
        )
        self.set_card_escalation = sql(
            "UPDATE ef_cards SET escalate_at = ?, escalate_remaining = ?, claimed_by = NULL,"
            " lease_until = NULL WHERE id = ?"
        )
        self.card_escalated = sql(
            "UPDATE ef_cards SET escalated_at = ?, claimed_by = NULL, lease_until = NULL WHERE id = ?"
        )

        # -- case facts (appraisal)
        self.get_facts = sql(f"SELECT {columns(CaseFactsRecord)} FROM ef_case_facts WHERE instance_id = ?")
        # A save's facts: what it saw now, the first instants kept, the limits missed added up.
        self.upsert_facts = sql(
            _inserting(case_facts, CaseFactsRecord)
            + " ON CONFLICT (instance_id) DO UPDATE SET status = excluded.status, unit = excluded.unit,"
            " week = excluded.week, repeated = excluded.repeated,"
            " region = excluded.region, case_type = excluded.case_type, category = excluded.category,"
            " sector = excluded.sector,"
            " signed_at = COALESCE(ef_case_facts.signed_at, excluded.signed_at),"
            " sign_late = COALESCE(ef_case_facts.sign_late, excluded.sign_late),"
            " replied_at = COALESCE(ef_case_facts.replied_at, excluded.replied_at),"
            " closed_at = COALESCE(ef_case_facts.closed_at, excluded.closed_at),"
            " limits_missed = ef_case_facts.limits_missed + excluded.limits_missed,"
            " first_rating = COALESCE(ef_case_facts.first_rating, excluded.first_rating),"
            " rating = excluded.rating,"
            " rating_defaulted = COALESCE(excluded.rating_defaulted, ef_case_facts.rating_defaulted),"
            " solved = COALESCE(excluded.solved, ef_case_facts.solved), updated_at = excluded.updated_at,"
            " rating_removed = COALESCE(excluded.rating_removed, ef_case_facts.rating_removed)"
        )

    def appraisal(
        self, by: tuple[str, ...], by_process: bool, n_satisfied: int, n_bad: int, first: bool
    ) -> str:
        """Appraisal counts of the cases received in [?, ?), not cancelled, grouped by the columns ``by``
        (dimension columns); of one process if ``by_process``. Binds, in order: whether deemed ratings count
        (a boolean), since, until, [the process,] the ``n_satisfied`` satisfied ratings, the ``n_bad`` bad
        ones. ``first``: the first rating counts, else the latest."""

        def make() -> str:
            rating = "first_rating" if first else "rating"
            rated = f"{rating} IS NOT NULL AND (? OR rating_defaulted IS NULL OR NOT rating_defaulted)"
            groups = ", ".join(by)
            where = "received_at >= ? AND received_at < ? AND status <> 'cancelled'"
            if by_process:
                where += " AND process_id = ?"
            return (
                f"WITH counted AS (SELECT {groups + ', ' if by else ''}{rating} AS counted_rating,"
                f" CASE WHEN {rated} THEN 1 ELSE 0 END AS rated,"
                " signed_at, sign_late, replied_at, closed_at, limits_missed, solved, repeated,"
                " rating_removed"
                f" FROM ef_case_facts WHERE {where})"
                f" SELECT {groups + ', ' if by else ''}count(*),"
                " sum(CASE WHEN signed_at IS NOT NULL THEN 1 ELSE 0 END),"
                " sum(CASE WHEN signed_at IS NOT NULL AND NOT sign_late THEN 1 ELSE 0 END),"
                " sum(CASE WHEN replied_at IS NOT NULL THEN 1 ELSE 0 END),"
                " sum(CASE WHEN replied_at IS NOT NULL AND limits_missed = 0 THEN 1 ELSE 0 END),"
                " sum(CASE WHEN closed_at IS NOT NULL THEN 1 ELSE 0 END),"
                " sum(CASE WHEN closed_at IS NOT NULL AND limits_missed = 0 THEN 1 ELSE 0 END),"
                " sum(rated),"
                f" sum(CASE WHEN rated = 1 AND counted_rating IN ({placeholders(n_satisfied)})"
                " THEN 1 ELSE 0 END),"
                f" sum(CASE WHEN rated = 1 AND counted_rating IN ({placeholders(n_bad)}) THEN 1 ELSE 0 END),"
                " sum(CASE WHEN solved IS NOT NULL THEN 1 ELSE 0 END),"
                " sum(CASE WHEN solved THEN 1 ELSE 0 END),"
                " sum(CASE WHEN repeated THEN 1 ELSE 0 END),"
                # 差评 that 申诉复核 removed: taken out of 参评 and 差评 (the bad ratings are bound again).
                f" sum(CASE WHEN rated = 1 AND rating_removed AND counted_rating IN ({placeholders(n_bad)})"
                " THEN 1 ELSE 0 END)"
                f" FROM counted{' GROUP BY ' + groups + ' ORDER BY ' + groups if by else ''}"
            )

        return self._made(("appraisal", by, by_process, n_satisfied, n_bad, first), make)

    @property
    def card_counts(self) -> str:
        """Cards issued in [?, ?) per unit and level: count and deductions (one GROUP BY)."""
        return self._made(
            "card_counts",
            lambda: (
                "SELECT unit, level, count(*), sum(deduction) FROM ef_cards"
                " WHERE issued_at >= ? AND issued_at < ? GROUP BY unit, level ORDER BY unit, level"
            ),
        )

    def cards_page(self, given: tuple[str, ...], keyed: bool, limited: bool) -> str:
        """Cards filtered by ``given`` (names of CARD_FILTERS, in that order), in issue order (issued_at,
        id), after a key if ``keyed``, at most ``?`` if ``limited``."""

        def make() -> str:
            conditions = [_CARD_CONDITIONS[name] for name in given]
            if keyed:
                conditions.append("(issued_at, id) > (?, ?)")
            where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
            return f"SELECT {_CARD} FROM ef_cards{where} ORDER BY issued_at, id" + (
                " LIMIT ?" if limited else ""
            )

        return self._made(("cards", given, keyed, limited), make)

    def audit_between(self, by_process: bool, keyed: bool) -> str:
        """Audit events at [?, ?) across instances, each with its instance's process id (one more column), in
        (at, instance_id, seq) order: of the process ``= ?`` if ``by_process``, after the key (at,
        instance_id, seq) ``> (?, ?, ?)`` if ``keyed``, at most ``?``. The order is that of
        ``ix_ef_audit_events_at``: a page is one range of that index, read in order without a sort."""

        def make() -> str:
            where = "a.at >= ? AND a.at < ?"
            if by_process:
                where += " AND i.process_id = ?"
            if keyed:
                where += " AND (a.at, a.instance_id, a.seq) > (?, ?, ?)"
            return (
                f"SELECT {columns(AuditRecord, 'a.')}, i.process_id FROM ef_audit_events a"
                f" JOIN ef_instances i ON i.id = a.instance_id WHERE {where}"
                " ORDER BY a.at, a.instance_id, a.seq LIMIT ?"
            )

        return self._made(("audit_between", by_process, keyed), make)

    def sql(self, text: str) -> str:
        """``text`` (``?`` placeholders) as the driver takes it."""
        return text.replace("?", "%s") if self.dialect == "postgresql" else text

    def _made(self, key: Any, make: Callable[[], str]) -> str:
        found = self._texts.get(key)
        if found is None:
            found = self._texts[key] = self.sql(make())
        return found

    # -- texts that depend on the call ---------------------------------------------------------------------

    def insert_outbox_rows(self, n: int) -> str:
        """SQLite: one INSERT of ``n`` outbox rows without ``seq`` (each gets the rowid SQLite gives, one more
        than the largest, under the write lock): one statement per save, whatever its number of events."""
        return self._made(
            ("insert_outbox", n),
            lambda: (
                "INSERT INTO ef_outbox (kind, instance_id, task_id, unit, at, payload) VALUES "
                + ", ".join(["(?, ?, ?, ?, ?, ?)"] * n)
            ),
        )

    def instance_page(self, given: tuple[bool, ...], keyed: bool, limited: bool) -> str:
        """An instance listing by which of LISTING_FILTERS are given, after a (created_at, id), limited."""

        def make() -> str:
            names = tuple(n for n, on in zip(LISTING_FILTERS, given, strict=True) if on)
            return _list_instances(names, keyed, limited)

        return self._made(("instance_page", given, keyed, limited), make)

    def task_page(self, given: tuple[str, ...], dated: bool, keyed: bool, limited: bool) -> str:
        """The text of one part of a work-list page (see ``_task_page``), made once per shape."""
        return self._made(
            ("task_page", given, dated, keyed, limited), lambda: _task_page(given, dated, keyed, limited)
        )

    def instances_after(self, after: bool, ids: int | None) -> str:
        """Instances by id, ``id > ?`` (``after``) and ``id IN (...)`` (``ids`` values), ``LIMIT ?``."""

        def make() -> str:
            where = ["id > ?"] if after else []
            where += [f"id IN ({placeholders(ids)})"] if ids is not None else []
            clause = f" WHERE {' AND '.join(where)}" if where else ""
            return f"SELECT {_INSTANCE} FROM ef_instances{clause} ORDER BY id LIMIT ?"

        return self._made(("instances_after", after, ids), make)

    def of_instances(self, table: str, n: int) -> str:
        """Every row of ``table`` (``tasks``, ``deadlines``, ``audit_events``) of ``n`` instances."""

        def make() -> str:
            selected, order = {
                "tasks": (_TASK, "id"),
                "deadlines": (_DEADLINE, "id"),
                "audit_events": (_AUDIT, "instance_id, seq"),
            }[table]
            return (
                f"SELECT {selected} FROM ef_{table} WHERE instance_id IN ({placeholders(n)}) ORDER BY {order}"
            )

        return self._made(("of_instances", table, n), make)

    def remove_ratings(self, n: int) -> str:
        """Mark the 差评 of ``n`` cases removed by 申诉复核 (binds the instant, then the ids)."""
        return self._made(
            ("remove_ratings", n),
            lambda: (
                "UPDATE ef_case_facts SET rating_removed = TRUE, updated_at = ?"
                f" WHERE instance_id IN ({placeholders(n)})"
            ),
        )

    def definition_hashes(self, n: int) -> str:
        """The definition hash of each of ``n`` instances (by id)."""
        return self._made(
            ("definition_hashes", n),
            lambda: f"SELECT id, definition_hash FROM ef_instances WHERE id IN ({placeholders(n)})",
        )

    def orphans(self, table: str) -> str:
        """Instance ids that rows of ``ef_<table>`` name but no instance row has."""
        return self._made(
            ("orphans", table),
            lambda: (
                f"SELECT DISTINCT instance_id FROM ef_{table} r WHERE NOT EXISTS"
                " (SELECT 1 FROM ef_instances i WHERE i.id = r.instance_id) ORDER BY instance_id"
            ),
        )

    def claimed_rows(self, by_worker: bool) -> str:
        """Deadline rows carrying a claim (``claimed_by = ?``)."""
        where = "claimed_by = ?" if by_worker else "claimed_by IS NOT NULL"
        return self._made(
            ("claimed_rows", by_worker),
            lambda: f"SELECT {_DEADLINE} FROM ef_deadlines WHERE {where} ORDER BY due_at, id",
        )

    def claim(self, table: str, n: int) -> str:
        """Set ``claimed_by = ?, lease_until = ?`` on ``n`` rows of ``ef_<table>`` (``deadlines``,
        ``incidents``) by id."""
        return self._made(
            ("claim", table, n),
            lambda: f"UPDATE ef_{table} SET claimed_by = ?, lease_until = ? WHERE id IN ({placeholders(n)})",
        )

    def cards_by_id(self, n: int) -> str:
        """The cards with ``n`` ids."""
        return self._made(
            ("cards_by_id", n), lambda: f"SELECT {_CARD} FROM ef_cards WHERE id IN ({placeholders(n)})"
        )

    def release_claims(self, n: int) -> str:
        """Clear the claims of one worker (``claimed_by = ?``) on the rows of ``n`` instances."""
        return self._made(
            ("release_claims", n),
            lambda: (
                "UPDATE ef_deadlines SET claimed_by = NULL, lease_until = NULL"
                f" WHERE claimed_by = ? AND instance_id IN ({placeholders(n)})"
            ),
        )

    def incidents(self, n_statuses: int | None, by_instance: bool) -> str:
        """Incidents with ``status IN (...)`` (``n_statuses`` values; None: any) and ``instance_id = ?``,
        oldest first."""

        def make() -> str:
            where = [f"status IN ({placeholders(n_statuses)})"] if n_statuses is not None else []
            where += ["instance_id = ?"] if by_instance else []
            clause = f" WHERE {' AND '.join(where)}" if where else ""
            return f"SELECT {_INCIDENT} FROM ef_incidents{clause} ORDER BY created_at, id"

        return self._made(("incidents", n_statuses, by_instance), make)

    def incidents_by_id(self, n: int) -> str:
        """The incidents with ``n`` ids, earliest next attempt first."""
        return self._made(
            ("incidents_by_id", n),
            lambda: (
                f"SELECT {_INCIDENT} FROM ef_incidents WHERE id IN ({placeholders(n)})"
                " ORDER BY next_attempt_at, id"
            ),
        )

    # -- version-checked and partial updates ---------------------------------------------------------------

    def update_instance(self, names: tuple[str, ...]) -> tuple[str, tuple[Converter | None, ...]]:
        """``SET version = ?, <names> = ? ... WHERE id = ? AND version = ?`` and the names' converters.

        Raises:
            InvalidInput: a name that is not a settable instance column.
        """
        return self._setting("ef_instances", names, INSTANCE_SETTABLE, self._instance_binds, versioned=True)

    def update_incident(self, names: tuple[str, ...]) -> tuple[str, tuple[Converter | None, ...]]:
        """``SET <names> = ? ... WHERE id = ?`` and the names' converters.

        Raises:
            InvalidInput: a name that is not a settable incident column.
        """
        return self._setting("ef_incidents", names, INCIDENT_SETTABLE, self._incident_binds, versioned=False)

    def _setting(
        self,
        table: str,
        names: tuple[str, ...],
        settable: frozenset[str],
        binds: dict[str, Converter | None],
        *,
        versioned: bool,
    ) -> tuple[str, tuple[Converter | None, ...]]:
        key = (table, names)
        found = self._settings.get(key)
        if found is None:
            unknown = sorted(set(names) - settable)
            if unknown or not names:
                allowed = ", ".join(sorted(settable))
                raise InvalidInput(
                    f"{table}: cannot set {', '.join(unknown) or 'nothing'} (settable: {allowed})",
                    columns=unknown,
                )
            assignments = ", ".join(f"{name} = ?" for name in names)
            if versioned:
                text = f"UPDATE {table} SET version = ?, {assignments} WHERE id = ? AND version = ?"
            else:
                text = f"UPDATE {table} SET {assignments} WHERE id = ?"
            found = self._settings[key] = (self.sql(text), tuple(binds[name] for name in names))
        return found


def chunks(values: Sequence[str]) -> list[Sequence[str]]:
    """``values`` in pieces of at most :data:`IN_CHUNK`."""
    return [values[i : i + IN_CHUNK] for i in range(0, len(values), IN_CHUNK)]
