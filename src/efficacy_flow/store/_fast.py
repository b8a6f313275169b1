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
from efficacy_flow.store._records import InstanceRecord, TaskRecord
from efficacy_flow.store._schema import audit_events, instances, tasks

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
            (name, compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect)) for name in names
        )
        # Literals in the statement (``status = 'ready'``) are bind parameters with a fixed value.
        self._constants = {name: bind.value for name, bind in compiled.binds.items() if not bind.required}
        self._results: tuple[_Processor, ...] = tuple(
            column.type.dialect_impl(dialect).result_processor(dialect, None) for column in result_columns
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
