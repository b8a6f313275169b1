"""The hot-path statements, compiled once per dialect and run straight on the DB-API cursor.

An engine call spends most of its store time in SQLAlchemy's per-execution machinery (about 15-50 µs a
statement: cache key, parameter processing, result proxy) rather than in the database (1-5 µs). The few
statements every call runs — read a task and an instance, write the instance, append audit events, open and
close task rows — are therefore compiled from the same Core constructs once per dialect, and each execution
passes the values through the column types' own bind and result processors, so what is stored and read back
is exactly what SQLAlchemy would store and read (e.g. SQLite's ``DATETIME`` text, naive UTC instants).
Everything else in the store keeps using SQLAlchemy directly.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import fields
from functools import lru_cache
from operator import attrgetter, itemgetter
from typing import Any, cast

from sqlalchemy import Dialect, Table, bindparam, insert, select, update
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import ClauseElement

from efficacy_flow.errors import EfficacyFlowError, StoreError
from efficacy_flow.store._records import AuditRecord, DeadlineRecord, InstanceRecord, TaskRecord
from efficacy_flow.store._schema import UtcDateTime, audit_events, deadlines, instances, tasks

__all__ = ["Binder", "Params", "Prepared", "Statements", "statements"]

_Processor = Callable[[Any], Any] | None
#: DB-API parameters: positional (SQLite's qmark) or by name (psycopg's pyformat).
Params = list[Any] | tuple[Any, ...] | dict[str, Any]
#: Values in a fixed order (or a record, when the binder reads its fields) to DB-API parameters.
Binder = Callable[[Any], Params]


class Prepared:
    """One statement compiled for one dialect; binds values through the columns' processors.

    Values are given either by bind name (:meth:`params`) or, on the hot path, as a tuple in the fixed
    ``order`` the statement was prepared with — or as a record whose fields, in order, are the binds
    (``record``): :meth:`execute`, :meth:`execute_many` and :meth:`fetch` take those. A :meth:`binder` maps
    such a tuple straight to the DB-API parameters, with the index arithmetic done once: no dict merge, no
    lookup by name per call.
    """

    __slots__ = ("_binders", "_constants", "_names", "_positional", "_procs", "_results", "bind", "sql")

    def __init__(
        self,
        statement: ClauseElement,
        dialect: Dialect,
        result_columns: Sequence[Any] = (),
        *,
        order: Sequence[str] = (),
        record: type | None = None,
    ) -> None:
        compiled = cast(SQLCompiler, statement.compile(dialect=dialect))
        self.sql: str = compiled.string
        self._positional = bool(compiled.positional)
        names = list(compiled.positiontup or ()) if self._positional else list(compiled.binds)
        self._names: tuple[str, ...] = tuple(names)
        processors = [_processor(compiled.binds[name].type, dialect, bind=True) for name in names]
        # Only the binds that have a processor are touched per call, by position.
        self._procs: tuple[tuple[int, Callable[[Any], Any]], ...] = tuple(
            (i, p) for i, p in enumerate(processors) if p is not None
        )
        # Literals in the statement (``status = 'ready'``) are bind parameters with a fixed value.
        self._constants = {name: bind.value for name, bind in compiled.binds.items() if not bind.required}
        self._results: tuple[tuple[int, Callable[[Any], Any]], ...] = tuple(
            (i, p)
            for i, p in enumerate(_processor(column.type, dialect, bind=False) for column in result_columns)
            if p is not None
        )
        self._binders: dict[tuple[str, ...], Binder] = {}
        if record is not None:
            order = [f.name for f in fields(record)]
            self.bind: Binder = self._make_binder(tuple(order), attrgetter(*order))
        else:
            self.bind = self.binder(tuple(order)) if order else self.params

    def binder(self, names: tuple[str, ...]) -> Binder:
        """A function from a tuple of values in the order of ``names`` to the DB-API parameters.

        Every bind of the statement (but its constants) must be named; other names are ignored.
        """
        binder = self._binders.get(names)
        if binder is None:
            binder = self._binders[names] = self._make_binder(names)
        return binder

    def _make_binder(self, names: tuple[str, ...], getter: Callable[[Any], Any] | None = None) -> Binder:
        source = (*names, *self._constants)
        constants = tuple(self._constants.values())
        missing = [name for name in self._names if name not in source]
        if missing:
            raise KeyError(missing[0])
        indices = [source.index(name) for name in self._names]
        pick: Callable[[tuple[Any, ...]], Any] | None
        if indices == list(range(len(source))):
            pick = None  # the values are the parameters, in order
        elif len(indices) == 1:
            pick = _single(indices[0])
        else:
            pick = itemgetter(*indices)
        procs = self._procs
        keys = None if self._positional else self._names

        def bind(values: Any) -> Params:
            if getter is not None:
                values = getter(values)
            if constants:
                values = values + constants
            args = values if pick is None else pick(values)
            if procs:
                args = list(args)
                for i, processor in procs:
                    args[i] = processor(args[i])
            return args if keys is None else dict(zip(keys, args, strict=True))

        return bind

    def params(self, values: Mapping[str, Any]) -> Params:
        """The DB-API parameters for ``values`` (a mapping of bind names)."""
        return self.binder(tuple(values))(tuple(values.values()))

    def row(self, raw: Sequence[Any]) -> list[Any]:
        """A result row with every column passed through its type's result processor."""
        row = list(raw)
        for i, processor in self._results:
            row[i] = processor(row[i])
        return row

    def run(self, cursor: Any, params: Params) -> int:
        """Run once with bound parameters (from :meth:`bind`, :meth:`binder`); return the DB-API rowcount."""
        _run(cursor.execute, self.sql, params)
        return int(cursor.rowcount)

    def execute(self, cursor: Any, values: Any) -> int:
        """Run once with values in the statement's order (or a record); return the DB-API rowcount."""
        _run(cursor.execute, self.sql, self.bind(values))
        return int(cursor.rowcount)

    def execute_many(self, cursor: Any, rows: Sequence[Any]) -> None:
        """Run once per row (DB-API ``executemany``; a single row is a plain execute, which is cheaper)."""
        if len(rows) == 1:
            _run(cursor.execute, self.sql, self.bind(rows[0]))
        else:
            bind = self.bind
            _run(cursor.executemany, self.sql, [bind(values) for values in rows])

    def fetch(self, cursor: Any, values: Any) -> list[list[Any]]:
        """Run a query; return every row, processed (fetchall also resets SQLite's statement at once)."""
        _run(cursor.execute, self.sql, self.bind(values))
        return [self.row(raw) for raw in cursor.fetchall()]


def _single(index: int) -> Callable[[tuple[Any, ...]], tuple[Any]]:
    def pick(values: tuple[Any, ...]) -> tuple[Any]:
        return (values[index],)

    return pick


def _processor(type_: Any, dialect: Dialect, *, bind: bool) -> _Processor:
    """The column type's own bind or result processor (an instant's remembered: :func:`_remembered`)."""
    impl = type_.dialect_impl(dialect)
    processor: _Processor = impl.bind_processor(dialect) if bind else impl.result_processor(dialect, None)
    if processor is not None and isinstance(type_, UtcDateTime):
        if bind:
            processor = _sqlite_utc_text(impl, dialect) or processor
        return _remembered(processor)
    return processor


#: The text SQLAlchemy's SQLite ``DATETIME`` writes by default (its ``_storage_format``).
_SQLITE_DATETIME_FORMAT = (
    "%(year)04d-%(month)02d-%(day)02d %(hour)02d:%(minute)02d:%(second)02d.%(microsecond)06d"
)


def _sqlite_utc_text(impl: Any, dialect: Dialect) -> Callable[[Any], Any] | None:
    """SQLite: :class:`UtcDateTime`'s bind processor in one step, or None (SQLAlchemy's own, then).

    SQLAlchemy's chain calls the type's ``process_bind_param`` (rejects a naive datetime, converts to naive
    UTC) and then formats the result with ``DATETIME``'s default storage format through a dict of seven
    fields. Here ``process_bind_param`` is the same call and the text comes from ``isoformat(" ",
    "microseconds")``, which writes exactly that format (four-digit year, always six digits of microseconds; a
    naive value has no offset) in a third of the time. Used only while the storage format is that default.
    """
    storage = getattr(impl.impl_instance, "_storage_format", None)
    if dialect.name != "sqlite" or storage != _SQLITE_DATETIME_FORMAT:
        return None
    to_utc = impl.process_bind_param

    def process(value: Any) -> Any:
        naive = to_utc(value, dialect)
        return None if naive is None else naive.isoformat(" ", "microseconds")

    return process


def _remembered(processor: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """``processor`` with its recent results remembered by value.

    A call binds its one ``now`` three to five times (instance, audit event, task rows) and reads the same few
    stored instants back; converting one costs 1-2 µs (timezone arithmetic, formatting, parsing). Both
    conversions of :class:`UtcDateTime` are pure functions of the value's identity under ``==``: equal aware
    datetimes are the same instant and store the same naive UTC text, and one stored text reads back as one
    instant. A naive datetime never equals an aware one, so it still reaches the processor (which rejects
    it); errors are never remembered.
    """
    memo: dict[Any, Any] = {}
    # The last value and its result: a call's ``now`` is bound several times as one object, and looking it up
    # by identity skips hashing an aware datetime (a UTC offset computation).
    # One tuple in one cell, so that threads sharing the statements never see a value with another's result.
    last: list[tuple[Any, Any]] = [(None, None)]

    def process(value: Any) -> Any:
        if value is None:
            return processor(value)
        seen, known = last[0]
        if value is seen:
            return known
        try:
            result = memo[value]
        except KeyError:
            result = processor(value)
            if len(memo) >= 256:
                memo.clear()  # bounded: instants of finished calls are rarely seen again
            memo[value] = result
        last[0] = (value, result)
        return result

    return process


def _run(method: Callable[[str, Any], Any], sql: str, params: Any) -> None:
    try:
        method(sql, params)
    except EfficacyFlowError:
        raise  # raised by our own type processors (e.g. NaiveDatetime): report the real cause
    except Exception as exc:  # the DB-API's own error classes differ per driver (sqlite3, psycopg)
        # The surrounding Store.transaction block rolls back as this propagates.
        raise StoreError(f"the store failed: {exc}") from exc


def _select_by_id(table: Table, dialect: Dialect, *, for_update: bool = False) -> Prepared:
    query = select(table).where(table.c.id == bindparam("b_id"))
    if for_update:
        query = query.with_for_update()
    return Prepared(query, dialect, list(table.c), order=("b_id",))


def _insert_all(table: Table, dialect: Dialect, record: type) -> Prepared:
    """Insert a whole row, bound straight from a ``record`` (its fields are the table's columns)."""
    statement = insert(table).values({c.name: bindparam(c.name, type_=c.type) for c in table.c})
    return Prepared(statement, dialect, record=record)


class Statements:
    """The prepared hot-path statements of one dialect."""

    def __init__(self, dialect: Dialect) -> None:
        for table, record in ((instances, InstanceRecord), (tasks, TaskRecord)):
            # Rows become records positionally (cheaper than by name): the orders must match.
            if [c.name for c in table.c] != [f.name for f in fields(record)]:
                raise StoreError(f"{table.name} columns and {record.__name__} fields are not in one order")
        self.dialect = dialect
        self.get_instance = _select_by_id(instances, dialect)
        self.get_instance_locked = _select_by_id(instances, dialect, for_update=dialect.name == "postgresql")
        self.insert_instance = _insert_all(instances, dialect, InstanceRecord)
        self.get_task = _select_by_id(tasks, dialect)
        # SQLite: a task with its instance row in one statement (see Transaction.get_task).
        self.get_task_and_instance = Prepared(
            select(tasks, instances)
            .select_from(tasks.outerjoin(instances, instances.c.id == tasks.c.instance_id))
            .where(tasks.c.id == bindparam("b_id")),
            dialect,
            [*tasks.c, *instances.c],
            order=("b_id",),
        )
        self.insert_task = _insert_all(tasks, dialect, TaskRecord)
        self.insert_audit = _insert_all(audit_events, dialect, AuditRecord)
        self.close_task = Prepared(
            update(tasks)
            .where(tasks.c.id == bindparam("b_id"), tasks.c.status == "ready")
            .values(
                status=bindparam("b_status", type_=tasks.c.status.type),
                closed_at=bindparam("b_at", type_=tasks.c.closed_at.type),
                closed_by=bindparam("b_by", type_=tasks.c.closed_by.type),
            ),
            dialect,
            order=("b_id", "b_status", "b_at", "b_by"),
        )
        self.retime_task = Prepared(
            update(tasks)
            .where(tasks.c.id == bindparam("b_id"))
            .values(
                due_at=bindparam("b_due", type_=tasks.c.due_at.type),
                unit=bindparam("b_unit", type_=tasks.c.unit.type),
            ),
            dialect,
            order=("b_id", "b_due", "b_unit"),
        )
        # Deadline rows: only the record's columns (the claim columns belong to store/_claims.py).
        names = [f.name for f in fields(DeadlineRecord)]
        self.insert_deadline = Prepared(
            insert(deadlines).values({name: bindparam(name, type_=deadlines.c[name].type) for name in names}),
            dialect,
            record=DeadlineRecord,
        )
        self.delete_deadline = Prepared(
            deadlines.delete().where(deadlines.c.id == bindparam("b_id")), dialect, order=("b_id",)
        )
        self.update_deadline = Prepared(
            update(deadlines)
            .where(deadlines.c.id == bindparam("b_id"))
            .values({name: bindparam(name, type_=deadlines.c[name].type) for name in names if name != "id"}),
            dialect,
            order=(*names, "b_id"),  # a record's fields, then its id again (its own id is not set)
        )
        self._updates: dict[frozenset[str], Prepared] = {}
        self._update_binders: dict[tuple[str, ...], tuple[Prepared, Binder]] = {}

    def update_instance(self, columns: frozenset[str]) -> Prepared:
        """The version-checked instance update: ``SET version, <columns> WHERE id AND version``."""
        prepared = self._updates.get(columns)
        if prepared is None:
            statement = (
                update(instances)
                .where(instances.c.id == bindparam("b_id"), instances.c.version == bindparam("b_version"))
                .values(
                    version=bindparam("v_version", type_=instances.c.version.type),
                    **{
                        name: bindparam(f"v_{name}", type_=instances.c[name].type) for name in sorted(columns)
                    },
                )
            )
            prepared = self._updates[columns] = Prepared(statement, self.dialect)
        return prepared

    def update_instance_binder(self, columns: tuple[str, ...]) -> tuple[Prepared, Binder]:
        """:meth:`update_instance` for ``columns`` in this order, with a binder that takes the values
        ``(id, expected version, new version, *column values)``; remembered per column tuple."""
        found = self._update_binders.get(columns)
        if found is None:
            prepared = self.update_instance(frozenset(columns))
            names = ("b_id", "b_version", "v_version", *(f"v_{name}" for name in columns))
            found = self._update_binders[columns] = (prepared, prepared.binder(names))
        return found


@lru_cache(maxsize=16)
def statements(dialect: Dialect) -> Statements:
    """The prepared statements for a dialect (one set per SQLAlchemy engine's dialect object)."""
    return Statements(dialect)
