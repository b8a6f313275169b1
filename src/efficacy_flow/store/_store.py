"""The durable store: SQLite (default) or PostgreSQL through SQLAlchemy 2 Core.

Every engine call runs inside one :meth:`Store.transaction`. On SQLite the transaction starts with
``BEGIN IMMEDIATE`` (one writer at a time, taken up front so two writers never deadlock on upgrade); on
PostgreSQL writes are guarded by the optimistic ``version`` check in :meth:`Transaction.update_instance`.
"""

from __future__ import annotations

import logging
import os
import re
import sqlite3
import threading
import weakref
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import fields
from datetime import datetime
from operator import attrgetter
from typing import Any, Literal

from sqlalchemy import Connection, create_engine, event, func, insert, select, text, update
from sqlalchemy.engine import Engine as SAEngine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import QueuePool

from efficacy_flow.errors import ConcurrentUpdate, EfficacyFlowError, InvalidInput, StoreError
from efficacy_flow.store._claims import ClaimQueries
from efficacy_flow.store._counters import CounterQueries
from efficacy_flow.store._fast import Statements, statements
from efficacy_flow.store._flusher import WAL_AUTOCHECKPOINT, WalFlusher
from efficacy_flow.store._records import AuditRecord, DeadlineRecord, InstanceRecord, TaskRecord
from efficacy_flow.store._schema import (
    METADATA,
    SCHEMA_VERSION,
    audit_events,
    deadlines,
    definitions,
    instances,
    meta,
    tasks,
)

__all__ = ["Durability", "Reader", "Store", "Transaction"]

#: ``"default"``: SQLite WAL with synchronous=NORMAL — a killed process loses nothing committed; a power cut
#:  may
#: lose the last transactions. ``"power-loss"``: synchronous=FULL — every commit reaches the disk first.
Durability = Literal["default", "power-loss"]

_log = logging.getLogger(__name__)

_SCHEMA_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


class Store:
    """A database holding definitions, instances, tasks, deadlines and audit events.

    Args:
        url: ``sqlite:///path.db`` (a bare path is read as a SQLite file) or ``postgresql://...``.
        durability: see :data:`Durability` (SQLite only; PostgreSQL follows the server's settings).
        schema: PostgreSQL only: a schema to create (if absent) and use through ``search_path``.
        before_commit: a test seam (deterministic concurrency tests): called in the calling thread with
            every transaction after its block ran and just before it commits; raising rolls it back. None
            (the default) costs one attribute test per transaction.
    """

    def __init__(
        self,
        url: str,
        *,
        durability: Durability = "default",
        schema: str | None = None,
        before_commit: Callable[[Transaction], None] | None = None,
    ) -> None:
        if durability not in ("default", "power-loss"):
            raise InvalidInput(f"unknown durability {durability!r}", durability=durability)
        if "://" not in url:
            url = f"sqlite:///{url}"
        if url.startswith("postgresql://"):
            url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
        self.url = url
        self.durability = durability
        self.schema = schema
        self.before_commit = before_commit
        self.dialect = "sqlite" if url.startswith("sqlite") else "postgresql"
        # SQLite file stores: one connection kept out of the pool for the calling thread's transactions (see
        # :meth:`transaction`); ``_pin`` guards it, ``_pinned`` is [connection or None, its cursor or None].
        self._pin = threading.Lock()
        self._pinned: list[Any] = [None, None]
        self._sql: Statements | None = None
        try:
            self._engine = self._create_engine(url)
            self._create_schema()
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot open the store at {_redact(url)}: {exc}", url=_redact(url)) from exc
        # A file database's pool hands out connections usable from any thread (check_same_thread off).
        self._pinnable = self.dialect == "sqlite" and isinstance(self._engine.pool, QueuePool)
        # A file database with the default durability: its log is flushed in the background (_flusher.py).
        database = self._engine.url.database
        self._flusher = (
            WalFlusher(os.path.abspath(database))
            if self._pinnable and durability == "default" and database
            else None
        )
        # An unclosed store still returns its pinned connection to the pool (and stops its flusher) when it is
        # collected.
        weakref.finalize(self, _release, self._pin, self._pinned, self._flusher)

    def _create_engine(self, url: str) -> SAEngine:
        if self.dialect == "sqlite":
            engine = create_engine(url)
            synchronous = "FULL" if self.durability == "power-loss" else "NORMAL"
            # With its log flushed in the background (the default durability), a file store checkpoints less
            # often: see WAL_AUTOCHECKPOINT. synchronous=FULL syncs every commit and keeps SQLite's default.
            autocheckpoint = WAL_AUTOCHECKPOINT if self.durability == "default" else 1000

            @event.listens_for(engine, "connect")
            def _on_connect(dbapi_connection: Any, _record: Any) -> None:
                # Let SQLAlchemy, not pysqlite, issue BEGIN (pysqlite's implicit BEGIN is DEFERRED).
                dbapi_connection.isolation_level = None
                cursor = dbapi_connection.cursor()
                cursor.execute("PRAGMA journal_mode=WAL")
                cursor.execute(f"PRAGMA synchronous={synchronous}")
                cursor.execute(f"PRAGMA wal_autocheckpoint={autocheckpoint}")
                cursor.execute("PRAGMA busy_timeout=30000")
                cursor.execute("PRAGMA foreign_keys=ON")
                cursor.close()

            @event.listens_for(engine, "begin")
            def _on_begin(connection: Connection) -> None:
                # Straight to the driver: exec_driver_sql would cost a full SQLAlchemy execution per call.
                # A pinned transaction (see Store.transaction) began already: SQLAlchemy's autobegin joins it.
                driver = connection.connection.driver_connection
                if not driver.in_transaction:  # type: ignore[union-attr]
                    _begin_immediate(driver)

            return engine
        connect_args: dict[str, Any] = {}
        if self.schema is not None:
            if not _SCHEMA_NAME.match(self.schema):
                raise InvalidInput(f"invalid schema name {self.schema!r}", schema=self.schema)
            connect_args["options"] = f"-csearch_path={self.schema}"
        return create_engine(url, connect_args=connect_args, pool_pre_ping=True)

    def _create_schema(self) -> None:
        with self._engine.begin() as conn:
            if self.schema is not None and self.dialect == "postgresql":
                conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{self.schema}"'))
            METADATA.create_all(conn)
            found = conn.execute(select(meta.c.value).where(meta.c.key == "schema_version")).scalar()
            if found is None:
                conn.execute(insert(meta).values(key="schema_version", value=str(SCHEMA_VERSION)))
            elif int(found) > SCHEMA_VERSION:
                raise StoreError(
                    f"the store was written by a newer efficacy_flow (schema {found} > {SCHEMA_VERSION})",
                    schema_version=int(found),
                )

    def drop_schema(self) -> None:
        """PostgreSQL: drop the store's schema and everything in it (for test sessions); SQLite: drop
        tables."""
        with self._engine.begin() as conn:
            if self.schema is not None and self.dialect == "postgresql":
                conn.execute(text(f'DROP SCHEMA IF EXISTS "{self.schema}" CASCADE'))
            else:
                METADATA.drop_all(conn)

    def _statements(self, conn: Connection) -> Statements:
        # The engine's one dialect: its prepared statements, remembered (cheaper than the lru_cache).
        sql = self._sql
        if sql is None:
            sql = self._sql = statements(conn.dialect)
        return sql

    def close(self) -> None:
        """Release every pooled connection (and stop the log flusher)."""
        _release(self._pin, self._pinned, self._flusher)
        self._engine.dispose()

    def read(self) -> AbstractContextManager[Transaction]:
        """A transaction for reading (interim: the same as :meth:`transaction`)."""
        return self.transaction()

    def transaction(self) -> AbstractContextManager[Transaction]:
        """Run a block as one transaction: it commits at the end, or rolls back if the block raises.

        Database errors are translated to :class:`StoreError`; efficacy_flow errors pass through unchanged.
        """
        if self._pinnable:
            return _PinnedTransaction(self)
        return self._pooled_transaction()

    @contextmanager
    def _pooled_transaction(self) -> Iterator[Transaction]:
        """One transaction on a pooled connection through SQLAlchemy's ``engine.begin()``.

        PostgreSQL, an in-memory SQLite database, or the pinned connection is busy (another thread, or a
        transaction opened inside one — the concurrency tests' before_commit does that).
        """
        try:
            with self._engine.begin() as conn:
                tx = Transaction(conn, self.dialect)
                yield tx
                if self.before_commit is not None:
                    self.before_commit(tx)
            if self._flusher is not None:
                self._flusher.committed()
        except EfficacyFlowError:
            raise
        except SQLAlchemyError as exc:
            raise _store_error(exc) from _cause(exc)


class _PinnedTransaction:
    """One SQLite transaction on the store's pinned connection, if it is free (else a pooled one).

    ``BEGIN IMMEDIATE`` and ``COMMIT`` go straight to the driver: checking a connection out of the pool,
    resetting it on return and SQLAlchemy's transaction object cost about 15 µs a call, a quarter of a small
    call's store time. The same write lock is taken up front, and the same single COMMIT makes the call
    durable. A statement run through SQLAlchemy inside the block autobegins a SQLAlchemy transaction that
    joins this one (the ``begin`` hook sees the driver already in a transaction); it then commits or rolls
    back through SQLAlchemy, which issues the same driver COMMIT/ROLLBACK.

    A class rather than a generator context manager: the generator's frames and ``try`` layers cost a few µs
    on every call. The semantics are those of :meth:`Store._pooled_transaction`: ``before_commit`` runs just
    before the commit and rolls back by raising; any exception rolls back; SQLAlchemy errors become
    :class:`StoreError` (an efficacy_flow error raised inside one is reported itself); a failed COMMIT rolls
    back and raises :class:`StoreError`. The pin is held from enter to exit and released in every case.
    """

    __slots__ = ("_conn", "_driver", "_pooled", "_store", "_tx")

    def __init__(self, store: Store) -> None:
        self._store = store
        self._pooled: AbstractContextManager[Transaction] | None = None

    def __enter__(self) -> Transaction:
        store = self._store
        if not store._pin.acquire(blocking=False):
            self._pooled = store._pooled_transaction()
            return self._pooled.__enter__()
        try:
            conn, cursor = store._pinned
            if conn is None or conn.closed or conn.invalidated:
                conn = store._engine.connect()
                cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
                store._pinned[:] = [conn, cursor]
            # The cursor's own connection: the driver connection of ``conn`` (it never changes while ``conn``
            # is open and valid).
            driver = cursor.connection
            if driver.in_transaction:  # left open by a COMMIT that failed: start clean
                driver.rollback()
            _begin_immediate(cursor)  # on the pinned cursor: the driver's execute() makes a cursor per call
            self._tx = Transaction(conn, store.dialect, cursor, store._statements(conn))
        except BaseException as exc:
            store._pin.release()
            if isinstance(exc, SQLAlchemyError):
                raise _store_error(exc) from _cause(exc)
            raise
        self._conn = conn
        self._driver = driver
        return self._tx

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: Any
    ) -> bool | None:
        if self._pooled is not None:
            return self._pooled.__exit__(exc_type, exc, traceback)
        store = self._store
        try:
            if exc is None:
                try:
                    if store.before_commit is not None:
                        store.before_commit(self._tx)
                except BaseException:
                    self._rollback()
                    raise
                self._commit()
                if store._flusher is not None:
                    store._flusher.committed()
            else:
                self._rollback()
        except SQLAlchemyError as error:
            raise _store_error(error) from _cause(error)
        finally:
            store._pin.release()
        if isinstance(exc, SQLAlchemyError):
            raise _store_error(exc) from _cause(exc)
        return None  # the block's own exception propagates unchanged

    def _rollback(self) -> None:
        if self._conn.in_transaction():
            self._conn.rollback()
        elif self._driver.in_transaction:
            self._driver.rollback()

    def _commit(self) -> None:
        if self._conn.in_transaction():
            self._conn.commit()
            return
        driver = self._driver
        try:
            driver.commit()
        except sqlite3.Error as exc:
            if driver.in_transaction:
                driver.rollback()
            raise StoreError(f"the store failed: {exc}") from exc


def _store_error(exc: SQLAlchemyError) -> EfficacyFlowError:
    """What a SQLAlchemy error surfaces as: our own error if one of our type decorators raised it while
    binding a value (the real cause), else a :class:`StoreError`."""
    original = getattr(exc, "orig", None)
    if isinstance(original, EfficacyFlowError):
        return original
    return StoreError(f"the store failed: {exc}")


def _cause(exc: SQLAlchemyError) -> SQLAlchemyError | None:
    # ``raise original from None`` for our own error, ``raise StoreError(...) from exc`` otherwise.
    return None if isinstance(getattr(exc, "orig", None), EfficacyFlowError) else exc


def _begin_immediate(executor: Any) -> None:
    # ``executor``: a DB-API connection (its ``execute`` shortcut) or cursor.
    try:
        executor.execute("BEGIN IMMEDIATE")
    except sqlite3.Error as exc:  # e.g. still locked after busy_timeout
        raise StoreError(f"the store failed: {exc}") from exc


def _release(lock: threading.Lock, pinned: list[Any], flusher: WalFlusher | None) -> None:
    # Return the pinned connection to the pool and stop the flusher (Store.close, or the store was collected
    # unclosed).
    if flusher is not None:
        flusher.close()
    # At interpreter exit a thread may still be inside a transaction on the pinned connection (it holds the
    # lock); waiting for it forever would hang the exit, so give up after a while and leave the connection.
    if not lock.acquire(timeout=_RELEASE_WAIT):
        _log.warning("a transaction is still open on the store's connection; not closing it")
        return
    try:
        conn = pinned[0]
        pinned[:] = [None, None]
    finally:
        lock.release()
    if conn is not None and not conn.closed:
        conn.close()


#: How long closing a store waits for a transaction still open on its pinned connection (seconds).
_RELEASE_WAIT = 10.0


class Transaction(ClaimQueries, CounterQueries):
    """The operations available inside one transaction (claims and batched scans: :class:`ClaimQueries`;
    durable counters and the instance listing: :class:`CounterQueries`)."""

    def __init__(
        self, conn: Connection, dialect: str, cursor: Any = None, sql: Statements | None = None
    ) -> None:
        self.conn = conn
        self.dialect = dialect
        self._sql = sql if sql is not None else statements(conn.dialect)
        self._cur: Any = cursor
        # SQLite: the instance row read along with a task (get_task), with the connection's change count.
        self._prefetched: tuple[InstanceRecord, int] | None = None

    @property
    def _cursor(self) -> Any:
        # The hot-path statements (store/_fast.py) run on the DB-API cursor of this same transaction.
        if self._cur is None:
            self._cur = self.conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        return self._cur

    # -- definitions -----------------------------------------------------------------------------------------

    def put_definition(self, hash_: str, process_id: str, content: bytes, at: datetime) -> bool:
        """Store a definition unless one with this hash exists; return True when it was new."""
        exists = self.conn.execute(select(definitions.c.hash).where(definitions.c.hash == hash_)).first()
        if exists is not None:
            return False
        self.conn.execute(
            insert(definitions).values(hash=hash_, process_id=process_id, content=content, created_at=at)
        )
        return True

    def get_definition(self, hash_: str) -> bytes | None:
        """The stored content of a definition, or None."""
        value = self.conn.execute(select(definitions.c.content).where(definitions.c.hash == hash_)).scalar()
        return bytes(value) if value is not None else None

    # -- instances -------------------------------------------------------------------------------------------

    def insert_instance(self, record: InstanceRecord) -> None:
        """Insert a new instance row."""
        self._sql.insert_instance.execute(self._cursor, record)

    def get_instance(self, instance_id: str, *, lock: bool = False) -> InstanceRecord | None:
        """Read an instance (``lock``: PostgreSQL ``FOR UPDATE``; SQLite already holds the write lock)."""
        prefetched, self._prefetched = self._prefetched, None
        if prefetched is not None:
            record, changes = prefetched
            # Proof it is still the stored row: the transaction holds SQLite's write lock (BEGIN IMMEDIATE),
            # so only this connection can change it, and it changed no row since the read.
            if record.id == instance_id and changes == self._cursor.connection.total_changes:
                return record
        prepared = self._sql.get_instance_locked if lock else self._sql.get_instance
        rows = prepared.fetch(self._cursor, (instance_id,))
        return InstanceRecord(*rows[0]) if rows else None

    def instance_ids_by_business_key(self, business_key: str) -> list[str]:
        """Ids of the instances carrying this business key, oldest first."""
        query = (
            select(instances.c.id)
            .where(instances.c.business_key == business_key)
            .order_by(instances.c.created_at, instances.c.id)
        )
        return [str(v) for v in self.conn.execute(query).scalars()]

    def update_instance(self, instance_id: str, expected_version: int, **values: Any) -> int:
        """Write instance columns if the row still has ``expected_version``; return the new version.

        Raises:
            ConcurrentUpdate: another transaction changed the instance first.
        """
        prepared, bind = self._sql.update_instance_binder(tuple(values))
        params = bind((instance_id, expected_version, expected_version + 1, *values.values()))
        if prepared.run(self._cursor, params) != 1:
            raise ConcurrentUpdate(
                f"instance {instance_id} changed since version {expected_version}",
                instance_id=instance_id,
                expected_version=expected_version,
            )
        return expected_version + 1

    def advance_audit_head(self, instance_id: str, expected_seq: int, seq: int, head: str) -> None:
        """Move the audit head without a version bump (reading history unmasked changes no state).

        Raises:
            ConcurrentUpdate: another transaction appended an audit event first.
        """
        result = self.conn.execute(
            update(instances)
            .where(instances.c.id == instance_id, instances.c.audit_seq == expected_seq)
            .values(audit_seq=seq, audit_head=head)
        )
        if result.rowcount != 1:
            raise ConcurrentUpdate(
                f"instance {instance_id}: history changed meanwhile", instance_id=instance_id
            )

    def count_instances(self, status: str | None = None) -> int:
        """How many instances there are (with ``status``, if given)."""
        query = select(func.count()).select_from(instances)
        if status is not None:
            query = query.where(instances.c.status == status)
        return int(self.conn.execute(query).scalar_one())

    # -- tasks -----------------------------------------------------------------------------------------------

    def get_task(self, task_id: str) -> TaskRecord | None:
        """A task row (ready or closed), or None.

        On SQLite the task's instance row is read in the same statement and kept for the next
        :meth:`get_instance` of this transaction (every call that takes a task reads its instance next).
        """
        cursor = self._cursor
        if self.dialect != "sqlite":
            rows = self._sql.get_task.fetch(cursor, (task_id,))
            return TaskRecord(*rows[0]) if rows else None
        rows = self._sql.get_task_and_instance.fetch(cursor, (task_id,))
        if not rows:
            return None
        row = rows[0]
        if row[_TASK_WIDTH] is not None:  # the instance's id: None only if the row is missing
            instance = InstanceRecord(*row[_TASK_WIDTH:])
            self._prefetched = (instance, cursor.connection.total_changes)
        return TaskRecord(*row[:_TASK_WIDTH])

    def ready_tasks(
        self, *, instance_id: str | None = None, role: str | None = None, unit: str | None = None
    ) -> list[TaskRecord]:
        """Ready tasks, filtered by whichever arguments are given, oldest first."""
        query = select(tasks).where(tasks.c.status == "ready")
        if instance_id is not None:
            query = query.where(tasks.c.instance_id == instance_id)
        if role is not None:
            query = query.where(tasks.c.role == role)
        if unit is not None:
            query = query.where(tasks.c.unit == unit)
        query = query.order_by(tasks.c.ready_at, tasks.c.id)
        return [TaskRecord(**row) for row in self.conn.execute(query).mappings()]

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
        known = previous if previous is not None else self.ready_tasks(instance_id=instance_id)
        current = {t.id: t for t in known}
        wanted = {t.id: t for t in ready}
        closing = [
            (task_id, "completed", at, by) if task_id == completed_id else (task_id, closed_status, at, None)
            for task_id in current.keys() - wanted.keys()
        ]
        if closing:
            self._sql.close_task.execute_many(self._cursor, closing)
        new = [record for task_id, record in wanted.items() if task_id not in current]
        if new:
            self._sql.insert_task.execute_many(self._cursor, new)
        changed = [
            (task_id, record.due_at, record.unit)
            for task_id, record in wanted.items()
            if task_id in current
            and (current[task_id].due_at != record.due_at or current[task_id].unit != record.unit)
        ]
        if changed:
            self._sql.retime_task.execute_many(self._cursor, changed)

    def close_task(self, task_id: str, *, status: str, at: datetime, by: str | None) -> bool:
        """Close a ready task; return False when it was no longer ready (another call closed it)."""
        result = self.conn.execute(
            update(tasks)
            .where(tasks.c.id == task_id, tasks.c.status == "ready")
            .values(status=status, closed_at=at, closed_by=by)
        )
        return result.rowcount == 1

    # -- deadlines -------------------------------------------------------------------------------------------

    def deadlines_of(self, instance_id: str) -> list[DeadlineRecord]:
        """The pending timers of an instance."""
        query = select(deadlines).where(deadlines.c.instance_id == instance_id).order_by(deadlines.c.id)
        return [DeadlineRecord(**row) for row in self.conn.execute(query).mappings()]

    def replace_deadlines(
        self,
        instance_id: str,
        rows: Sequence[DeadlineRecord],
        *,
        previous: Sequence[DeadlineRecord] | None = None,
    ) -> None:
        """Make the instance's pending timers exactly ``rows`` (``previous``: the known current rows)."""
        known = previous if previous is not None else self.deadlines_of(instance_id)
        current = {d.id: d for d in known}
        wanted = {d.id: d for d in rows}
        gone = [(key,) for key in current.keys() - wanted.keys()]
        if gone:
            self._sql.delete_deadline.execute_many(self._cursor, gone)
        new = [record for key, record in wanted.items() if key not in current]
        if new:
            self._sql.insert_deadline.execute_many(self._cursor, new)
        changed = [
            (*_values(record), key)
            for key, record in wanted.items()
            if key in current and current[key] != record
        ]
        if changed:
            self._sql.update_deadline.execute_many(self._cursor, changed)

    def due_instance_ids(self, now: datetime, limit: int) -> list[str]:
        """Instances with a timer due at ``now`` (``due_at <= now``), earliest first; reads the due-time
        index."""
        earliest = func.min(deadlines.c.due_at)
        query = (
            select(deadlines.c.instance_id)
            .where(deadlines.c.due_at <= now, deadlines.c.fired_at.is_(None))
            .group_by(deadlines.c.instance_id)
            .order_by(earliest, deadlines.c.instance_id)
            .limit(limit)
        )
        return [str(v) for v in self.conn.execute(query).scalars()]

    # -- audit -----------------------------------------------------------------------------------------------

    def append_audit(self, record: AuditRecord) -> None:
        """Append one audit event (the caller computed its hash and bumps the instance head)."""
        self._sql.insert_audit.execute(self._cursor, record)

    def audit_of(self, instance_id: str) -> list[AuditRecord]:
        """Every audit event of an instance, in sequence order."""
        query = (
            select(audit_events).where(audit_events.c.instance_id == instance_id).order_by(audit_events.c.seq)
        )
        return [AuditRecord(**row) for row in self.conn.execute(query).mappings()]


_TASK_WIDTH = len(tasks.c)


#: A deadline's field values in order (dataclasses.astuple deep-copies every value).
_values = attrgetter(*(f.name for f in fields(DeadlineRecord)))


def _redact(url: str) -> str:
    # Never echo a password into an error message or a log.
    return re.sub(r"://([^:/@]+):[^@]*@", r"://\1:***@", url)


#: Interim: reads run in write transactions until the read path lands.
Reader = Transaction
