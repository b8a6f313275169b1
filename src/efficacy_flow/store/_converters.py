"""The store's own value converters: record values to what the driver binds, and stored values back.

Small and explicit, one set per dialect, chosen once per column from its declared type (store/_schema.py):

======================  ==========================================  ===============================
record value            SQLite (sqlite3)                            PostgreSQL (psycopg)
======================  ==========================================  ===============================
aware ``datetime``      text ``YYYY-MM-DD HH:MM:SS.ffffff``, UTC    naive UTC ``datetime``
                        (SQLAlchemy's ``DATETIME`` format)          (``timestamp without time zone``)
``bool``                ``0``/``1``                                 ``bool``
``bytes``               BLOB (as is)                                ``bytea`` (as is)
``TimeLimit``           text ``"<n> <unit value>"``                 the same text
======================  ==========================================  ===============================

Instants come back aware, in Asia/Shanghai. A naive datetime is refused (:class:`NaiveDatetime`): the store
never guesses a time zone. These are the representations the previous version (SQLAlchemy's type processors)
wrote, so databases written by it read the same.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import fields
from datetime import UTC, datetime
from operator import attrgetter
from typing import Any, TypeVar

from sqlalchemy import Boolean, Column, DateTime, Table

from efficacy_flow.calendar import TimeLimit, TimeUnit
from efficacy_flow.clock import CHINA_TZ
from efficacy_flow.errors import NaiveDatetime, StoreError
from efficacy_flow.store._schema import TIME_LIMIT

__all__ = [
    "Converter",
    "Converters",
    "RowReader",
    "RowWriter",
    "time_limit_from_text",
    "time_limit_text",
]

R = TypeVar("R")

#: A value converter (never called with None: None is NULL both ways).
Converter = Callable[[Any], Any]
#: A stored row (in the record's field order) to a record.
RowReader = Callable[[Sequence[Any]], Any]
#: A record to the values to bind (in its field order).
RowWriter = Callable[[Any], tuple[Any, ...]]


def _utc(value: datetime) -> datetime:
    """An aware instant as naive UTC; a naive one (or anything but a datetime) is refused."""
    if not isinstance(value, datetime) or value.utcoffset() is None:
        shown = value.isoformat() if isinstance(value, datetime) else repr(value)
        raise NaiveDatetime(f"the store needs aware datetimes, got {shown}", value=value)
    return value.astimezone(UTC).replace(tzinfo=None)


def _sqlite_instant(value: datetime) -> str:
    # A call binds its one ``now`` four or five times (instance, audit event, task rows, outbox), some of them
    # as other objects holding the same instant (a new task's ready time is ``now`` read back from its
    # ISO text): the last instant bound and its text are kept (one tuple, so threads never see one's value
    # with another's text) and reused for the same object or the same instant.
    last = _LAST_BOUND[0]
    known = last[0]
    if value is known:
        return last[1]
    if type(value) is datetime and known is not None and _same_instant(value, known):
        return last[1]
    # isoformat(" ", "microseconds") of a naive datetime is exactly SQLAlchemy's SQLite DATETIME storage
    # format: a four-digit year, always six digits of microseconds, no offset.
    text = _utc(value).isoformat(" ", "microseconds")
    _LAST_BOUND[0] = (value, text)
    return text


def _same_instant(value: datetime, known: datetime) -> bool:
    """Whether an aware ``value`` is the instant ``known`` (an aware datetime already bound) is.

    Aware datetimes with different time zones compare as instants; with the same ``tzinfo`` object Python
    compares their wall times and ignores ``fold``, so the fold must match too (two equal wall times of a
    repeated hour are two instants). A naive ``value`` is never equal to an aware one.
    """
    return value == known and (value.tzinfo is not known.tzinfo or value.fold == known.fold)


#: The last instant :func:`_sqlite_instant` bound, and its text (compared by identity: an aware datetime is
#: immutable, so the same object always has the same text).
_LAST_BOUND: list[tuple[Any, str]] = [(None, "")]


#: Stored instants already read, by stored value: a call reads the same few instants again and again (a
#: task's ready time, an instance's creation), and converting one costs 1-2 µs (parsing, time zones). An
#: aware datetime is immutable, so one object serves every reader. Bounded: cleared when full.
_READ: dict[Any, datetime] = {}
_READ_LIMIT = 4096


def _instant_from_sqlite(text: str) -> datetime:
    found = _READ.get(text)
    if found is None:
        if len(_READ) >= _READ_LIMIT:
            _READ.clear()
        found = _READ[text] = datetime.fromisoformat(text).replace(tzinfo=UTC).astimezone(CHINA_TZ)
    return found


def _instant_from_postgresql(value: datetime) -> datetime:
    found = _READ.get(value)
    if found is None:
        if len(_READ) >= _READ_LIMIT:
            _READ.clear()
        found = _READ[value] = value.replace(tzinfo=UTC).astimezone(CHINA_TZ)
    return found


def time_limit_text(limit: TimeLimit) -> str:
    """The stored text of a time limit: ``"5 working_days"``, ``"120 minutes"``."""
    if not isinstance(limit, TimeLimit):
        raise StoreError(f"a remaining time must be a TimeLimit, got {type(limit).__name__}")
    return f"{limit.n} {limit.unit.value}"


def time_limit_from_text(text: str) -> TimeLimit:
    """The time limit a stored text holds (:func:`time_limit_text`'s inverse).

    Raises:
        StoreError: the text is not ``"<n> <unit value>"`` (a damaged row).
    """
    count, _, unit = text.partition(" ")
    try:
        return TimeLimit(int(count), TimeUnit(unit))
    except ValueError:
        raise StoreError(f"unreadable remaining time {text!r} in the store", value=text) from None


def _sqlite_bool(value: Any) -> int:
    return 1 if value else 0


class Converters:
    """The converters of one dialect (``"sqlite"`` or ``"postgresql"``)."""

    def __init__(self, dialect: str) -> None:
        self.dialect = dialect
        sqlite = dialect == "sqlite"
        #: An aware instant to its bound value.
        self.instant_in: Converter = _sqlite_instant if sqlite else _utc
        #: A stored instant to an aware one in Asia/Shanghai.
        self.instant_out: Converter = _instant_from_sqlite if sqlite else _instant_from_postgresql
        boolean = (_sqlite_bool, bool) if sqlite else (None, None)
        # (bind, result) by what a column holds.
        self._time_limit: tuple[Converter | None, Converter | None] = (time_limit_text, time_limit_from_text)
        self._instant: tuple[Converter | None, Converter | None] = (self.instant_in, self.instant_out)
        self._boolean: tuple[Converter | None, Converter | None] = boolean

    def _pair(self, column: Column[Any]) -> tuple[Converter | None, Converter | None]:
        if column.info == TIME_LIMIT:
            return self._time_limit
        if isinstance(column.type, DateTime):
            return self._instant
        if isinstance(column.type, Boolean):
            return self._boolean
        return (None, None)

    def bind(self, column: Column[Any]) -> Converter | None:
        """The converter for values bound to ``column`` (None: bound as they are)."""
        return self._pair(column)[0]

    def result(self, column: Column[Any]) -> Converter | None:
        """The converter for values read from ``column`` (None: used as the driver returns them)."""
        return self._pair(column)[1]

    def instant(self, value: datetime | None) -> Any:
        """An instant (or None) as bound."""
        return None if value is None else self.instant_in(value)

    def reader(self, record: type[R], table: Table) -> Callable[[Sequence[Any]], R]:
        """Rows selected in ``record``'s field order (columns of ``table``) to records."""
        converting = [
            (i, converter)
            for i, f in enumerate(fields(record))  # type: ignore[arg-type]
            if (converter := self.result(table.c[f.name])) is not None
        ]

        def read(row: Sequence[Any]) -> R:
            values = list(row)
            for i, converter in converting:
                value = values[i]
                if value is not None:
                    values[i] = converter(value)
            return record(*values)

        return read

    def writer(self, record: type[Any], table: Table) -> RowWriter:
        """Records to the values bound for ``table``'s columns in the record's field order."""
        names = [f.name for f in fields(record)]
        get = attrgetter(*names)
        converting = [
            (i, converter)
            for i, name in enumerate(names)
            if (converter := self.bind(table.c[name])) is not None
        ]

        def write(row: Any) -> tuple[Any, ...]:
            values = list(get(row))
            for i, converter in converting:
                value = values[i]
                if value is not None:
                    values[i] = converter(value)
            return tuple(values)

        return write
