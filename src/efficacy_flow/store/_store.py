"""The durable store: SQLite (default) or PostgreSQL, every statement on the DB-API cursor.

SQLAlchemy supplies the table definitions and their DDL (store/_schema.py, store/_migrations.py), URL parsing
and the connection pool; no statement runs through it (store/_statements.py says why). A call reads in a
:meth:`Store.read` transaction, which never waits for a writer, and writes in a :meth:`Store.transaction`.
"""

from __future__ import annotations

import logging
import os
import re
import sqlite3
import threading
import time
import weakref
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any, Generic, Literal, TypeVar

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine as SAEngine
from sqlalchemy.engine import make_url
from sqlalchemy.pool import QueuePool

from efficacy_flow.errors import InvalidInput, StoreError
from efficacy_flow.store._driver_errors import guarded, translate
from efficacy_flow.store._flusher import WAL_AUTOCHECKPOINT, WalFlusher
from efficacy_flow.store._migrations import open_schema
from efficacy_flow.store._reader import Reader
from efficacy_flow.store._records import CommitToken
from efficacy_flow.store._schema import METADATA
from efficacy_flow.store._statements import Statements
from efficacy_flow.store._transaction import Transaction

__all__ = ["Durability", "Store"]

#: ``"default"``: SQLite WAL with synchronous=NORMAL — a killed process loses nothing committed; a power cut
#: may lose the last transactions. ``"power-loss"``: synchronous=FULL — every commit reaches the disk first.
Durability = Literal["default", "power-loss"]

_log = logging.getLogger(__name__)

_T = TypeVar("_T", bound=Reader)

_SCHEMA_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")

#: How a transaction begins, by (dialect, writes).
_BEGIN = {
    ("sqlite", True): "BEGIN IMMEDIATE",
    ("sqlite", False): "BEGIN DEFERRED",
    ("postgresql", True): "BEGIN ISOLATION LEVEL READ COMMITTED",
    ("postgresql", False): "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
}


class Store:
    """A database holding definitions, instances, tasks, deadlines, audit events, counters and incidents.

    Args:
        url: ``sqlite:///path.db`` (a bare path is read as a SQLite file) or ``postgresql://...``.
        durability: see :data:`Durability` (SQLite only; PostgreSQL follows the server's settings).
        schema: PostgreSQL only: a schema to create (if absent) and use through ``search_path``.
        before_commit: a test seam (deterministic concurrency tests): called in the calling thread with
            every write transaction after its block ran and just before it commits; raising rolls it back.

    Opening a database written by an older version upgrades it (store/_migrations.py); one written by a newer
    version is refused with :class:`~efficacy_flow.errors.StoreError`.
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
        self.before_commit: Callable[[Transaction], None] | None = None
        self.dialect = "sqlite" if url.startswith("sqlite") else "postgresql"
        if schema is not None and self.dialect == "postgresql" and not _SCHEMA_NAME.match(schema):
            raise InvalidInput(f"invalid schema name {schema!r}", schema=schema)
        self._sql = Statements(self.dialect)
        try:
            self._engine = self._create_engine(url)
        except Exception as exc:  # SQLAlchemy refuses the URL itself (an unknown driver, a bad port)
            raise StoreError(
                f"cannot open the store at {_redact(url)}: {type(exc).__name__}", url=_redact(url)
            ) from None
        # SQLite file stores: one connection kept out of the pool for the calling thread's write transactions
        # and one (refusing writes) for its read transactions; a busy one falls back to the pool.
        pinnable = self.dialect == "sqlite" and isinstance(self._engine.pool, QueuePool)
        self._write_pin = _Pin(query_only=False) if pinnable else None
        self._read_pin = _Pin(query_only=True) if pinnable else None
        # Commits through this store (any connection), and each thread's last one (see unchanged_since).
        self._commits = 0
        self._commits_lock = threading.Lock()
        self._last = threading.local()
        self._flusher: WalFlusher | None = None
        try:
            # Not through transaction(), which a subclass may wrap: opening is the store's own business.
            with _Session(self, Transaction, self._write_pin, _BEGIN[self.dialect, True]) as tx:
                open_schema(tx, self._engine.dialect, schema if self.dialect == "postgresql" else None)
        except StoreError as exc:
            self.close()
            if "schema_version" in exc.fields:  # a newer database: said as it is
                raise
            fields = {**exc.fields, "url": _redact(url)}
            raise StoreError(f"cannot open the store at {_redact(url)}: {exc.message}", **fields) from None
        except BaseException:
            self.close()
            raise
        # A file database with the default durability: its log is flushed in the background (_flusher.py).
        database = self._engine.url.database
        if pinnable and durability == "default" and database:
            self._flusher = WalFlusher(os.path.abspath(database))
        # An unclosed store still returns its pinned connections to the pool (and stops its flusher) when it
        # is collected.
        weakref.finalize(self, _release, (self._write_pin, self._read_pin), self._flusher)
        self.before_commit = before_commit

    def _create_engine(self, url: str) -> SAEngine:
        if self.dialect == "sqlite":
            # Wait up to 30 s for a lock another connection holds, from the connection's first statement on:
            # switching a new database to WAL needs its lock, which a process opening it at the same moment
            # may hold (a busy timeout set by a PRAGMA after that would come too late).
            engine = create_engine(url, connect_args={"timeout": 30.0})
            synchronous = "FULL" if self.durability == "power-loss" else "NORMAL"
            # With its log flushed in the background (the default durability), a file store checkpoints less
            # often: see WAL_AUTOCHECKPOINT. synchronous=FULL syncs every commit and keeps SQLite's default.
            autocheckpoint = WAL_AUTOCHECKPOINT if self.durability == "default" else 1000

            @event.listens_for(engine, "connect")
            def _on_connect(dbapi_connection: Any, _record: Any) -> None:
                # The store issues BEGIN itself (pysqlite's implicit BEGIN would be DEFERRED for writes too).
                dbapi_connection.isolation_level = None
                cursor = dbapi_connection.cursor()
                _switch_to_wal(cursor)
                cursor.execute(f"PRAGMA synchronous={synchronous}")
                cursor.execute(f"PRAGMA wal_autocheckpoint={autocheckpoint}")
                cursor.execute("PRAGMA foreign_keys=ON")
                cursor.close()

            return engine
        # Autocommit at the driver: the store issues BEGIN (with its isolation level) and COMMIT itself.
        connect_args: dict[str, Any] = {"autocommit": True}
        if self.schema is not None:
            connect_args["options"] = f"-csearch_path={self.schema}"
        return create_engine(url, connect_args=connect_args, pool_pre_ping=True)

    def drop_schema(self) -> None:
        """PostgreSQL: drop the store's schema and everything in it (for test sessions); SQLite: drop
        tables."""
        with self.transaction() as tx:
            if self.schema is not None and self.dialect == "postgresql":
                tx._run(f'DROP SCHEMA IF EXISTS "{self.schema}" CASCADE', ())
            else:
                for table in reversed(METADATA.sorted_tables):
                    tx._run(f"DROP TABLE IF EXISTS {table.name}", ())

    def close(self) -> None:
        """Release every pooled connection (and stop the log flusher)."""
        _release((self._write_pin, self._read_pin), self._flusher)
        self._engine.dispose()

    def read(self) -> AbstractContextManager[Reader]:
        """Run a block as one read transaction, which never waits for a writer (see :class:`Reader`).

        Database errors are translated to :class:`StoreError`; efficacy_flow errors pass through unchanged.
        """
        return _Session(self, Reader, self._read_pin, _BEGIN[self.dialect, False])

    def transaction(self) -> AbstractContextManager[Transaction]:
        """Run a block as one write transaction: it commits at the end, or rolls back if the block raises.

        Database errors are translated to :class:`StoreError`; efficacy_flow errors pass through unchanged.
        """
        return _Session(self, Transaction, self._write_pin, _BEGIN[self.dialect, True])

    def last_commit(self) -> CommitToken | None:
        """The token of the calling thread's last write transaction on this store, if it committed on the
        store's SQLite write connection (else None: PostgreSQL, a pooled connection, none yet)."""
        token: CommitToken | None = getattr(self._last, "token", None)
        return token

    def unchanged_since(self, token: CommitToken | None) -> bool:
        """Whether nothing at all was committed to the database after ``token``'s commit: by this store, by
        another store or connection in this process, or by another process.

        Answered without a read transaction from the write connection's ``PRAGMA data_version`` (which
        changes when another connection commits) and the store's own count of commits (which its write
        connection's later commits raise). False whenever that cannot be told: no token, the write connection
        busy in another thread or replaced since, a PostgreSQL store. Callers use it to answer a read from
        what they saved at that commit (the engine's :meth:`~efficacy_flow.engine.Engine.tasks`).
        """
        pin = self._write_pin
        if token is None or pin is None or token.commits != self._commits:
            return False
        if not pin.lock.acquire(blocking=False):
            return False
        try:
            cursor = pin.cursor
            if cursor is None or pin.generation != token.generation or cursor.connection.in_transaction:
                return False
            try:
                version = cursor.execute("PRAGMA data_version").fetchone()[0]
            except Exception:  # a broken connection: the next transaction replaces it
                return False
            return bool(version == token.data_version and token.commits == self._commits)
        finally:
            pin.lock.release()

    def _commit_count(self) -> int:
        """How many write transactions committed through this store so far."""
        return self._commits

    def _counted(self) -> int:
        """Count one commit through this store; return the new count."""
        with self._commits_lock:
            self._commits += 1
            return self._commits

    def _connect(self) -> Any:
        """A pooled DB-API connection (SQLAlchemy's pool proxy; ``close()`` returns it)."""
        return guarded(self._engine.raw_connection)


#: How long opening a SQLite file waits for another connection that holds the lock switching it to WAL needs.
_WAL_WAIT = 30.0


def _switch_to_wal(cursor: Any) -> None:
    """``PRAGMA journal_mode=WAL``, retried while the file is busy.

    Switching a database's journal mode needs its exclusive lock, and SQLite reports SQLITE_BUSY at once,
    without its busy handler, while another connection that is opening the same new file at that moment holds
    a lock (tests/store/test_store_migrations.py opens four stores together): wait a little and try again.
    """
    deadline = time.monotonic() + _WAL_WAIT
    delay = 0.001
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
        time.sleep(delay)
        delay = min(delay * 2, 0.05)


class _Pin:
    """One SQLite connection kept out of the pool for the store's own use, and the lock of whoever uses it."""

    __slots__ = ("connection", "cursor", "generation", "lock", "query_only")

    def __init__(self, *, query_only: bool) -> None:
        self.lock = threading.Lock()
        self.query_only = query_only
        self.connection: Any = None
        self.cursor: Any = None
        #: Raised each time a connection is pinned (a CommitToken names the connection it was taken on).
        self.generation = 0

    def open(self, store: Store) -> Any:
        """Check a connection out of the pool to pin (the caller holds ``lock``); return its cursor."""
        connection = store._connect()
        cursor = connection.cursor()
        if self.query_only:  # this connection only ever reads
            try:
                cursor.execute("PRAGMA query_only = ON")
            except BaseException:
                connection.invalidate()
                raise
        self.connection, self.cursor = connection, cursor
        self.generation += 1
        return cursor

    def discard(self) -> None:
        """Throw the pinned connection away (it failed); the next transaction pins a fresh one."""
        connection, self.connection, self.cursor = self.connection, None, None
        if connection is not None:
            connection.invalidate()

    def drop(self) -> None:
        """Return the pinned connection to the pool (the caller holds ``lock``)."""
        connection, self.connection, self.cursor = self.connection, None, None
        if connection is not None and connection.is_valid:
            connection.close()


class _Session(Generic[_T]):
    """One transaction on a connection: the store's pinned one if it is free, else a pooled one.

    ``BEGIN``/``COMMIT``/``ROLLBACK`` go straight to the driver. A class rather than a generator context
    manager: the generator's frames and ``try`` layers cost a few µs on every call. ``before_commit`` (write
    transactions) runs just before the commit and rolls back by raising; any exception rolls back; a failed
    COMMIT rolls back and raises :class:`StoreError`. The pin is held from enter to exit and released in
    every case; a pinned connection that fails to begin or to roll back is replaced by the next transaction.
    A pooled SQLite connection lent to a reader refuses writes (``PRAGMA query_only``) until it is returned.
    """

    __slots__ = ("_begin", "_connection", "_cursor", "_kind", "_pin", "_pinned", "_store", "_tx", "_writes")

    def __init__(self, store: Store, kind: type[_T], pin: _Pin | None, begin: str) -> None:
        self._store = store
        self._kind = kind
        self._writes = kind is Transaction
        self._pin = pin
        self._begin = begin

    def __enter__(self) -> _T:
        store = self._store
        pin = self._pin
        self._pinned = pinned = pin is not None and pin.lock.acquire(blocking=False)
        connection: Any = None
        try:
            if pinned:
                assert pin is not None
                cursor = pin.cursor if pin.cursor is not None else pin.open(store)
                if cursor.connection.in_transaction:  # left open by a COMMIT that failed: start clean
                    cursor.execute("ROLLBACK")
            else:
                connection = store._connect()
                cursor = connection.cursor()
                if not self._writes and store.dialect == "sqlite":
                    cursor.execute("PRAGMA query_only = ON")
            cursor.execute(self._begin)
        except BaseException as exc:
            if pinned:
                assert pin is not None
                pin.discard()
                pin.lock.release()
            elif connection is not None:
                connection.invalidate()
            error = translate(exc)
            if error is exc:
                raise
        else:
            self._connection = connection
            self._cursor = cursor
            tx = self._tx = self._kind(cursor, store._sql)
            if self._writes and pinned:
                assert isinstance(tx, Transaction)
                assert pin is not None
                tx._commits = store._commit_count
                tx._generation = pin.generation
            return tx
        raise error  # outside the except clause: the driver's exception is not chained

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: Any
    ) -> None:
        store = self._store
        writes = self._writes
        if writes:
            store._last.token = None
        try:
            if exc is not None:
                self._rollback()
                return  # the block's own exception propagates unchanged
            if writes and store.before_commit is not None:
                try:
                    store.before_commit(self._tx)  # type: ignore[arg-type]  # a Transaction (_writes)
                except BaseException:
                    self._rollback()
                    raise
            cursor = self._cursor
            try:
                # On the pinned SQLite write connection, the token of this commit: the connection's data
                # version, read while this transaction holds the write lock (no other commit comes between).
                tx = self._tx
                version = tx.data_version() if self._pinned and isinstance(tx, Transaction) else None
                cursor.execute("COMMIT")
            except Exception as exc_commit:
                failure = translate(exc_commit)
            else:
                if writes:
                    commits = store._counted()
                    if version is not None:
                        assert self._pin is not None
                        store._last.token = CommitToken(self._pin.generation, int(version), commits)
                    if store._flusher is not None:
                        store._flusher.committed()
                return
            self._rollback()
        finally:
            self._release()
        raise failure  # outside the except clause: the driver's exception is not chained

    def _rollback(self) -> None:
        cursor = self._cursor
        connection = cursor.connection
        try:
            if _in_transaction(self._store.dialect, connection):
                cursor.execute("ROLLBACK")
        except Exception:  # the connection is broken: the transaction is gone with it
            _log.warning("rolling back failed; the connection is discarded")
            if self._pinned:
                assert self._pin is not None
                self._pin.discard()
            elif self._connection is not None:
                self._connection.invalidate()

    def _release(self) -> None:
        if self._pinned:
            assert self._pin is not None
            self._pin.lock.release()
            return
        connection: Any = self._connection
        if not connection.is_valid:
            return
        if not self._writes and self._store.dialect == "sqlite":
            try:
                self._cursor.execute("PRAGMA query_only = OFF")
            except Exception:  # a connection that cannot be reset is not returned to the pool
                connection.invalidate()
                return
        connection.close()


def _in_transaction(dialect: str, connection: Any) -> bool:
    """Whether a DB-API connection is inside a transaction (sqlite3 or psycopg)."""
    if dialect == "sqlite":
        return bool(connection.in_transaction)
    return bool(connection.info.transaction_status != 0)  # psycopg's TransactionStatus.IDLE is 0


def _release(pins: tuple[_Pin | None, ...], flusher: WalFlusher | None) -> None:
    # Close the pinned connections and stop the flusher (Store.close, or the store was collected unclosed).
    if flusher is not None:
        flusher.close()
    for pin in pins:
        if pin is None:
            continue
        # At interpreter exit a thread may still be inside a transaction on the pinned connection (it holds
        # the lock); waiting for it forever would hang the exit, so give up after a while and leave it.
        if not pin.lock.acquire(timeout=_RELEASE_WAIT):
            _log.warning("a transaction is still open on the store's connection; not closing it")
            continue
        try:
            pin.drop()
        finally:
            pin.lock.release()


#: How long closing a store waits for a transaction still open on its pinned connection (seconds).
_RELEASE_WAIT = 10.0


def _redact(url: str) -> str:
    # Never echo a password into an error message or a log.
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return re.sub(r"://([^:/@]+):[^@]*@", r"://\1:***@", url)
