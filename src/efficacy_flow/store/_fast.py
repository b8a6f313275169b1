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
from typing import Any, cast

from sqlalchemy import Dialect, Table, bindparam, insert, select, update
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import ClauseElement

from efficacy_flow.errors import EfficacyFlowError, StoreError
from efficacy_flow.store._records import DeadlineRecord, InstanceRecord, TaskRecord
from efficacy_flow.store._schema import UtcDateTime, audit_events, deadlines, instances, tasks

__all__ = ["Prepared", "Statements", "statements"]

_Processor = Callable[[Any], Any] | None


class Prepared:
    """One statement compiled for one dialect; binds values by name through the columns' processors."""

    __slots__ = ("_binds", "_constants", "_positional", "_results", "sql")

    def __init__(
        self, statement: ClauseElement, dialect: Dialect, result_columns: Sequence[Any] = ()
    ) -> None:
        compiled = cast(SQLCompiler, statement.compile(dialect=dialect))
        self.sql: str = compiled.string
        self._positional = bool(compiled.positional)
        names = list(compiled.positiontup or ()) if self._positional else list(compiled.binds)
        self._binds: tuple[tuple[str, _Processor], ...] = tuple(
            (name, _processor(compiled.binds[name].type, dialect, bind=True)) for name in names
        )
        # Literals in the statement (``status = 'ready'``) are bind parameters with a fixed value.
        self._constants = {name: bind.value for name, bind in compiled.binds.items() if not bind.required}
        self._results: tuple[_Processor, ...] = tuple(
            _processor(column.type, dialect, bind=False) for column in result_columns
        )

    def params(self, values: Mapping[str, Any]) -> tuple[Any, ...] | dict[str, Any]:
        """The DB-API parameters for ``values`` (a mapping of bind names)."""
        if self._constants:
            values = {**self._constants, **values}
        if self._positional:
            return tuple(
                values[name] if processor is None else processor(values[name])
                for name, processor in self._binds
            )
        return {
            name: values[name] if processor is None else processor(values[name])
            for name, processor in self._binds
        }

    def row(self, raw: Sequence[Any]) -> list[Any]:
        """A result row with every column passed through its type's result processor."""
        return [
            value if processor is None else processor(value)
            for processor, value in zip(self._results, raw, strict=True)
        ]

    def execute(self, cursor: Any, values: Mapping[str, Any]) -> int:
        """Run once; return the DB-API rowcount."""
        _run(cursor.execute, self.sql, self.params(values))
        return int(cursor.rowcount)

    def execute_many(self, cursor: Any, rows: Sequence[Mapping[str, Any]]) -> None:
        """Run once per row (DB-API ``executemany``; a single row is a plain execute, which is cheaper)."""
        if len(rows) == 1:
            _run(cursor.execute, self.sql, self.params(rows[0]))
        else:
            _run(cursor.executemany, self.sql, [self.params(values) for values in rows])

    def fetch(self, cursor: Any, values: Mapping[str, Any]) -> list[list[Any]]:
        """Run a query; return every row, processed (fetchall also resets SQLite's statement at once)."""
        _run(cursor.execute, self.sql, self.params(values))
        return [self.row(raw) for raw in cursor.fetchall()]


def _processor(type_: Any, dialect: Dialect, *, bind: bool) -> _Processor:
    """The column type's own bind or result processor (an instant's remembered: :func:`_remembered`)."""
    impl = type_.dialect_impl(dialect)
    processor: _Processor = impl.bind_processor(dialect) if bind else impl.result_processor(dialect, None)
    if processor is not None and isinstance(type_, UtcDateTime):
        return _remembered(processor)
    return processor


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

    def process(value: Any) -> Any:
        if value is None:
            return processor(value)
        try:
            return memo[value]
        except KeyError:
            pass
        result = processor(value)
        if len(memo) >= 256:
            memo.clear()  # bounded: instants of finished calls are rarely seen again
        memo[value] = result
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
    return Prepared(query, dialect, list(table.c))


def _insert_all(table: Table, dialect: Dialect) -> Prepared:
    return Prepared(insert(table).values({c.name: bindparam(c.name, type_=c.type) for c in table.c}), dialect)


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
        self.insert_instance = _insert_all(instances, dialect)
        self.get_task = _select_by_id(tasks, dialect)
        # SQLite: a task with its instance row in one statement (see Transaction.get_task).
        self.get_task_and_instance = Prepared(
            select(tasks, instances)
            .select_from(tasks.outerjoin(instances, instances.c.id == tasks.c.instance_id))
            .where(tasks.c.id == bindparam("b_id")),
            dialect,
            [*tasks.c, *instances.c],
        )
        self.insert_task = _insert_all(tasks, dialect)
        self.insert_audit = _insert_all(audit_events, dialect)
        self.close_task = Prepared(
            update(tasks)
            .where(tasks.c.id == bindparam("b_id"), tasks.c.status == "ready")
            .values(
                status=bindparam("b_status", type_=tasks.c.status.type),
                closed_at=bindparam("b_at", type_=tasks.c.closed_at.type),
                closed_by=bindparam("b_by", type_=tasks.c.closed_by.type),
            ),
            dialect,
        )
        self.retime_task = Prepared(
            update(tasks)
            .where(tasks.c.id == bindparam("b_id"))
            .values(
                due_at=bindparam("b_due", type_=tasks.c.due_at.type),
                unit=bindparam("b_unit", type_=tasks.c.unit.type),
            ),
            dialect,
        )
        # Deadline rows: only the record's columns (the claim columns belong to store/_claims.py).
        names = [f.name for f in fields(DeadlineRecord)]
        self.insert_deadline = Prepared(
            insert(deadlines).values({name: bindparam(name, type_=deadlines.c[name].type) for name in names}),
            dialect,
        )
        self.delete_deadline = Prepared(
            deadlines.delete().where(deadlines.c.id == bindparam("b_id")), dialect
        )
        self.update_deadline = Prepared(
            update(deadlines)
            .where(deadlines.c.id == bindparam("b_id"))
            .values({name: bindparam(name, type_=deadlines.c[name].type) for name in names if name != "id"}),
            dialect,
        )
        self._updates: dict[frozenset[str], Prepared] = {}

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


@lru_cache(maxsize=16)
def statements(dialect: Dialect) -> Statements:
    """The prepared statements for a dialect (one set per SQLAlchemy engine's dialect object)."""
    return Statements(dialect)
