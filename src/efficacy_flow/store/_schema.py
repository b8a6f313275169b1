"""The tables, declared once in SQLAlchemy 2 Core for SQLite and PostgreSQL (DDL only: no statement runs
through SQLAlchemy; see store/_statements.py).

Instants are stored as naive UTC in plain ``DateTime`` columns — on SQLite the text ``YYYY-MM-DD
HH:MM:SS.ffffff``, as SQLAlchemy's ``DATETIME`` writes it; on PostgreSQL ``timestamp without time zone`` — so
both databases order and compare them the same way (store/_converters.py converts them).

Schema versions (recorded in ``ef_meta``; store/_migrations.py upgrades an older database when it opens):

1. The first release: definitions, instances, tasks, deadlines (remaining time as ``"wd:N"``/``"s:N"``),
   audit events, counters.
2. Incidents (``ef_incidents``); ``incident_id`` on instances and deadlines; the due-time index covers only
   rows no incident parks; remaining time as ``TimeLimit`` text (``"5 working_days"``, ``"120 minutes"``).
3. The work list's partial indexes over ready tasks (by unit, and for all; then due time and id) instead of
   (status, role); instance listings by (created_at, id); one open instance per (process, business key).
4. Case operations: a task's ``assignee``, ``urges`` and ``last_urged_at``, the assigned work list's partial
   index; the outbox (``ef_outbox``, its sequence head ``ef_outbox_head``, delivery cursors
   ``ef_outbox_cursors``).
5. Electronic supervision: the cards (``ef_cards``: 预警/黄牌/红牌), with the index of the open yellow cards
   whose 督办 period is counting; the facts of each case the appraisal figures count (``ef_case_facts``); the
   index of audit events by time (``ix_ef_audit_events_at``: the event-log exports read a period).
6. The case facts gain the ISO week a case was received in (``week``: weekly trends) and whether it repeats an
   earlier case (``repeated``: 重复诉求, the repeat rate of the 热点难点).
7. The idempotency keys of the HTTP service (``ef_idempotency_keys``: one row per (actor, key), the request's
   hash and, once answered, the response's status and body; docs/service.md, "Idempotency").
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Float,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    text,
)

__all__ = [
    "ASSIGNED_INDEX",
    "CLOSED_STATUSES",
    "CREATED_INDEX",
    "DONE_INDEX",
    "DUE_INDEX",
    "ESCALATE_INDEX",
    "METADATA",
    "OPEN_KEY_INDEX",
    "READY_INDEXES",
    "SCHEMA_VERSION",
    "TIME_LIMIT",
    "audit_events",
    "cards",
    "case_facts",
    "counter_events",
    "counters",
    "deadlines",
    "definitions",
    "idempotency_keys",
    "incidents",
    "instances",
    "meta",
    "outbox",
    "outbox_cursors",
    "outbox_head",
    "tasks",
]

#: Bumped when a table changes shape; recorded in ``ef_meta`` so an old database is recognised and upgraded.
SCHEMA_VERSION = 8

#: ``Column.info`` of a column that holds a ``TimeLimit`` as text (store/_converters.py).
TIME_LIMIT = {"value": "time_limit"}

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
    Column("created_at", DateTime, nullable=False),
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
    Column("suspended_at", DateTime, nullable=True),
    Column("created_at", DateTime, nullable=False),
    Column("updated_at", DateTime, nullable=False),
    # The head of the audit hash chain: a removed last event is detected against these.
    Column("audit_seq", Integer, nullable=False),
    Column("audit_head", String(64), nullable=False),
    # Schema 2: the incident of the instance's failing step, while it is retrying or open.
    Column("incident_id", String(36), nullable=True),
)
#: Schema 3: instance listings in their order (oldest first, then id), paged by key (Reader.list_instances).
CREATED_INDEX = Index("ix_ef_instances_created", instances.c.created_at, instances.c.id)
#: The statuses of an instance that is over: its business key is free again (OPEN_KEY_INDEX).
CLOSED_STATUSES = ("completed", "cancelled")
_OPEN_KEYED = text(
    "business_key IS NOT NULL AND status NOT IN (" + ", ".join(f"'{s}'" for s in CLOSED_STATUSES) + ")"
)
#: Schema 3: one open instance per (process, business key) — a second start with the key fails in the
#: database itself (DuplicateBusinessKey), whatever races with it.
OPEN_KEY_INDEX = Index(
    "ix_ef_instances_open_key",
    instances.c.process_id,
    instances.c.business_key,
    unique=True,
    sqlite_where=_OPEN_KEYED,
    postgresql_where=_OPEN_KEYED,
)

#: User tasks: ready ones (what ``engine.tasks`` lists) and closed ones (a second completion is recognised).
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
    Column("ready_at", DateTime, nullable=False),
    Column("due_at", DateTime, nullable=True),
    Column("closed_at", DateTime, nullable=True),
    Column("closed_by", String(200), nullable=True),
    # Schema 4: who claimed or was assigned the task, how often and when last it was urged.
    Column("assignee", String(200), nullable=True),
    Column("urges", Integer, nullable=False, server_default=text("0")),
    Column("last_urged_at", DateTime, nullable=True),
)


def _partial(name: str, where: str, *columns: str) -> Index:
    """An index of ``tasks`` over the rows ``where`` (SQL) holds only, on both databases."""
    condition = text(where)
    return Index(name, *(tasks.c[c] for c in columns), sqlite_where=condition, postgresql_where=condition)


def _ready(name: str, *leading: str) -> Index:
    """An index over ready task rows only, in the work list's order (due time, then id) after ``leading``."""
    return _partial(name, "status = 'ready'", *leading, "due_at", "id")


#: Schema 3: the work list's indexes (store/_reader.py ``task_page``), over ready rows only: by unit (a
#: unit's page is one range of it), and for all (every other filter — a role, an instance's process — is a
#: scan of it in the list's order, which stops after a page); schema 1 and 2 had one on (status, role). A
#: closed row leaves them, so their size follows the open work, not the history. Two, not one per filter:
#: each costs every completion an entry removed and one added (tests/store/test_store_task_pages.py checks
#: the plans; benchmarks/bench_pages.py the pages at scale).
READY_INDEXES = (
    _ready("ix_ef_tasks_ready_unit", "unit"),
    _ready("ix_ef_tasks_ready_due"),
)

#: Schema 4: a person's work list (tasks claimed by or assigned to them), over assigned ready rows only, so
#: unassigned work costs it nothing.
ASSIGNED_INDEX = _partial(
    "ix_ef_tasks_ready_assignee", "status = 'ready' AND assignee IS NOT NULL", "assignee", "due_at", "id"
)
#: Schema 4: what a person completed (已办), most recent first: over completed rows only.
DONE_INDEX = _partial(
    "ix_ef_tasks_done", "status = 'completed' AND closed_by IS NOT NULL", "closed_by", "closed_at", "id"
)

#: Pending timers. ``claimed_by``/``lease_until``: the worker that claimed a due row to fire it, and until
#: when (store/_transaction.py; docs/operations.md). ``incident_id`` (schema 2) parks the rows of an instance
#: whose step failed: the due-time index holds only unparked rows, so tick() never rescans parked ones.
deadlines = Table(
    "ef_deadlines",
    METADATA,
    Column("id", String(36), primary_key=True),
    Column("instance_id", String(36), nullable=False, index=True),
    Column("task_id", String(36), nullable=True, index=True),
    Column("element_id", String(200), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("interrupting", Boolean, nullable=False),
    Column("due_at", DateTime, nullable=True),
    Column("remaining", String(64), nullable=True, info=TIME_LIMIT),
    Column("fired_at", DateTime, nullable=True),
    Column("claimed_by", String(200), nullable=True),
    Column("lease_until", DateTime, nullable=True),
    Column("incident_id", String(36), nullable=True),
)
# Schema 1 had a plain index on due_at (ix_ef_deadlines_due_at); schema 2 replaces it with this one.
DUE_INDEX = Index(
    "ix_ef_deadlines_due_unparked",
    deadlines.c.due_at,
    sqlite_where=deadlines.c.incident_id.is_(None),
    postgresql_where=deadlines.c.incident_id.is_(None),
)

audit_events = Table(
    "ef_audit_events",
    METADATA,
    Column("instance_id", String(36), primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("at", DateTime, nullable=False),
    Column("actor", String(200), nullable=True),
    Column("kind", String(40), nullable=False),
    Column("before", Text, nullable=True),
    Column("after", Text, nullable=True),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    # Schema 5: the events of a period across instances (event-log exports), in the order they are paged.
    Index("ix_ef_audit_events_at", "at", "instance_id", "seq"),
)

#: One row per (counter, key) ever counted: the row a start locks (PostgreSQL ``FOR UPDATE``) so that two
#: concurrent starts for the same unit count one after the other (engine/_counters.py).
counters = Table(
    "ef_counters",
    METADATA,
    Column("counter", String(100), primary_key=True),
    Column("key", String(200), primary_key=True),
    Column("created_at", DateTime, nullable=False),
)

#: One row per counted start (durable counters, docs/engine.md): the count of a period is the number of rows
#: whose ``at`` falls in it. An instance is counted at most once per counter.
counter_events = Table(
    "ef_counter_events",
    METADATA,
    Column("counter", String(100), primary_key=True),
    Column("instance_id", String(36), primary_key=True),
    Column("key", String(200), nullable=False),
    Column("at", DateTime, nullable=False),
    Index("ix_ef_counter_events_key_at", "counter", "key", "at"),
)

#: Schema 2: failed steps (store/_records.py IncidentRecord). Indexed by instance (an instance's incidents)
#: and by (status, next_attempt_at) (the retries that are due).
incidents = Table(
    "ef_incidents",
    METADATA,
    Column("id", String(36), primary_key=True),
    Column("instance_id", String(36), nullable=False, index=True),
    Column("element_id", String(200), nullable=True),
    Column("kind", String(20), nullable=False),
    Column("status", String(20), nullable=False),
    Column("error", String(200), nullable=False),
    Column("message", Text, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("payload", Text, nullable=True),
    Column("next_attempt_at", DateTime, nullable=True),
    Column("created_at", DateTime, nullable=False),
    Column("updated_at", DateTime, nullable=False),
    Column("resolved_at", DateTime, nullable=True),
    Column("resolved_by", String(200), nullable=True),
    Column("claimed_by", String(200), nullable=True),
    Column("lease_until", DateTime, nullable=True),
    Index("ix_ef_incidents_status_next", "status", "next_attempt_at"),
)

#: Schema 4: the transactional outbox (engine.events): one row per event, appended by the call's own
#: transaction, numbered in commit order (store/_transaction.py ``append_outbox``), so a reader never sees a
#: lower ``seq`` appear after a higher one.
outbox = Table(
    "ef_outbox",
    METADATA,
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("kind", String(40), nullable=False),
    Column("instance_id", String(36), nullable=True),
    Column("task_id", String(36), nullable=True),
    Column("unit", String(200), nullable=True),
    Column("at", DateTime, nullable=False),
    Column("payload", Text, nullable=False),
)

#: The last ``seq`` given out on PostgreSQL: one row (id 1), whose lock orders the writers. SQLite numbers
#: rows by rowid under its write lock and leaves this row at 0.
outbox_head = Table(
    "ef_outbox_head",
    METADATA,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("seq", Integer, nullable=False),
)

#: Where each named consumer of the outbox has got to (the delivery helper's cursor).
outbox_cursors = Table(
    "ef_outbox_cursors",
    METADATA,
    Column("name", String(200), primary_key=True),
    Column("seq", Integer, nullable=False),
    Column("updated_at", DateTime, nullable=False),
)


#: Schema 5: the cards of electronic supervision (电子监察: 预警/黄牌/红牌, engine/_ladder.py): one row
#: per card issued, kept after it is cleared (appraisal counts cards issued, cleared or not).
#: ``escalate_at``: when an open yellow card turns red (its 督办 period runs out); ``escalate_remaining``
#: holds what was left of that period while the instance is suspended (``escalate_at`` is then NULL).
#: ``claimed_by``/``lease_until``: the worker escalating it.
cards = Table(
    "ef_cards",
    METADATA,
    Column("id", String(36), primary_key=True),
    Column("instance_id", String(36), nullable=False, index=True),
    Column("process_id", String(200), nullable=False),
    Column("task_id", String(36), nullable=True),
    Column("element_id", String(200), nullable=True),
    Column("unit", String(200), nullable=True),
    Column("level", String(20), nullable=False),
    Column("limit_name", String(200), nullable=False),
    Column("issued_at", DateTime, nullable=False),
    Column("due_at", DateTime, nullable=True),
    Column("cleared_at", DateTime, nullable=True),
    Column("reason", Text, nullable=False),
    Column("deduction", Float, nullable=False, server_default=text("0")),
    Column("action", Text, nullable=True),
    Column("source", Text, nullable=False),
    Column("escalate_at", DateTime, nullable=True),
    Column("escalate_remaining", String(64), nullable=True, info=TIME_LIMIT),
    Column("escalated_at", DateTime, nullable=True),
    Column("claimed_by", String(200), nullable=True),
    Column("lease_until", DateTime, nullable=True),
    Index("ix_ef_cards_issued", "issued_at", "id"),
    Index("ix_ef_cards_unit_issued", "unit", "issued_at", "id"),
)
#: Schema 5: the open yellow cards whose 督办 period is counting, by when it runs out (what tick() claims).
ESCALATE_INDEX = Index(
    "ix_ef_cards_escalate",
    cards.c.escalate_at,
    sqlite_where=text("cleared_at IS NULL AND escalated_at IS NULL AND escalate_at IS NOT NULL"),
    postgresql_where=text("cleared_at IS NULL AND escalated_at IS NULL AND escalate_at IS NOT NULL"),
)


#: Schema 5: one row of facts per case the appraisal figures count (settings.yaml ``appraisal``,
#: engine/_facts.py), kept by every save of the case, so the figures are SQL over these rows (store/_reader.py
#: ``appraisal``), not a walk over instances. ``period`` is the month the case was received (YYYY-MM, China
#: time): monthly figures and rankings group by it.
case_facts = Table(
    "ef_case_facts",
    METADATA,
    Column("instance_id", String(36), primary_key=True),
    Column("process_id", String(200), nullable=False),
    Column("period", String(7), nullable=False),
    # Schema 6: the ISO week it was received in (YYYY-Www, China time); whether it repeats an earlier case.
    Column("week", String(8), nullable=True),
    Column("repeated", Boolean, nullable=True),
    Column("received_at", DateTime, nullable=False),
    Column("status", String(20), nullable=False),
    Column("unit", String(200), nullable=True),
    Column("region", String(200), nullable=True),
    Column("case_type", String(200), nullable=True),
    Column("category", String(200), nullable=True),
    Column("sector", String(200), nullable=True),
    Column("signed_at", DateTime, nullable=True),
    Column("sign_late", Boolean, nullable=True),
    Column("replied_at", DateTime, nullable=True),
    Column("closed_at", DateTime, nullable=True),
    Column("limits_missed", Integer, nullable=False, server_default=text("0")),
    Column("first_rating", String(20), nullable=True),
    Column("rating", String(20), nullable=True),
    Column("rating_defaulted", Boolean, nullable=True),
    Column("solved", Boolean, nullable=True),
    Column("updated_at", DateTime, nullable=False),
    # Schema 7: 申诉复核 removed the case's 差评 (好差评): it is neither 参评 nor 差评 (docs/metrics.md).
    Column("rating_removed", Boolean, nullable=True),
    Index("ix_ef_case_facts_received", "received_at"),
    Index("ix_ef_case_facts_period_unit", "period", "unit"),
)


#: Schema 8: the idempotency keys of the HTTP service (efficacy_flow.service): a write sent with an
#: ``Idempotency-Key`` header claims (actor_id, key) here before it runs; ``status`` and ``body`` hold the
#: response once it is answered (NULL while it runs). A row is the service's, never the engine's.
idempotency_keys = Table(
    "ef_idempotency_keys",
    METADATA,
    Column("actor_id", String(200), primary_key=True),
    Column("key", String(255), primary_key=True),
    Column("request_hash", String(64), nullable=False),
    Column("status", Integer, nullable=True),
    Column("body", LargeBinary, nullable=True),
    Column("created_at", DateTime, nullable=False),
    Column("completed_at", DateTime, nullable=True),
    Index("ix_ef_idempotency_keys_created", "created_at"),
)
