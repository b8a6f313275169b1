"""Driver errors (sqlite3, psycopg, SQLAlchemy's pool) to efficacy_flow errors, by one table (model: httpx's
``HTTPCORE_EXC_MAP`` and ``map_httpcore_exceptions`` in httpx/_transports/default.py).

What a translated error says is chosen so that no bound value can leak into it: the driver's primary message
and its error code only (SQLite's error name, PostgreSQL's SQLSTATE) — never psycopg's ``DETAIL``/``CONTEXT``
lines (``Key (business_key)=(…) already exists``), and for PostgreSQL's data exceptions (SQLSTATE class 22,
whose primary message quotes the offending value: ``invalid input syntax for type integer: "…"``) only the
condition's name. The error's fields name the driver's error class and code.

The driver's exception is not chained: its text is exactly what must not travel. That is why the seam is a
function (:func:`guarded`) rather than httpx's context manager: an exception raised from a ``with`` block's
``__exit__`` always gets the exception being handled as its ``__context__``; raised after the ``except``
clause of a plain call, it gets none.

A text value the driver cannot encode (a lone surrogate such as ``"\\ud800"``) is :class:`InvalidInput`:
the value was refused before anything was sent, and the caller's transaction rolls back as the error leaves
it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any

from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from efficacy_flow.errors import ConcurrentUpdate, EfficacyFlowError, InvalidInput, StoreError

__all__ = ["DRIVER_ERRORS", "guarded", "translate"]


def _psycopg_rows() -> list[tuple[type[Exception], type[EfficacyFlowError]]]:
    try:
        import psycopg
        from psycopg import errors
    except ImportError:  # the optional PostgreSQL extra is not installed: nothing of it can be raised
        return []
    return [
        # Another transaction changed the same rows first: the call can be retried, as after any
        # ConcurrentUpdate.
        (errors.SerializationFailure, ConcurrentUpdate),
        (errors.DeadlockDetected, ConcurrentUpdate),
        (psycopg.Error, StoreError),
    ]


#: Driver error class -> the efficacy_flow error it becomes; the first matching row wins. SQLAlchemy's own
#: errors come only from its connection pool (no statement runs through SQLAlchemy); a wrapped driver error
#: (``DBAPIError.orig``) is translated by this same table.
DRIVER_ERRORS: tuple[tuple[type[Exception], type[EfficacyFlowError]], ...] = (
    (UnicodeEncodeError, InvalidInput),
    *_psycopg_rows(),
    (sqlite3.Error, StoreError),
    (SQLAlchemyError, StoreError),
)


def translate(exc: BaseException, *, conflict: type[EfficacyFlowError] | None = None) -> BaseException:
    """The efficacy_flow error a driver error becomes; any other exception is returned unchanged.

    ``conflict``: what a unique-constraint violation means where the caller knows it (ConcurrentUpdate when
    another transaction appended the same audit sequence number first); StoreError otherwise.
    """
    if isinstance(exc, DBAPIError) and isinstance(exc.orig, BaseException):
        return translate(exc.orig, conflict=conflict)
    ours = next((mapped for driver, mapped in DRIVER_ERRORS if isinstance(exc, driver)), None)
    if ours is None:
        return exc
    if isinstance(exc, UnicodeEncodeError):
        return InvalidInput(
            "a text value cannot be stored: it is not valid Unicode "
            f"(a lone surrogate at character {exc.start})",
            reason="unencodable text",
            position=exc.start,
        )
    code, message = _describe(exc)
    if conflict is not None and _is_unique_violation(exc, code):
        ours = conflict
    return ours(f"the store failed: {message} ({code})", driver_error=type(exc).__name__, code=code)


def guarded(call: Callable[..., Any], *args: Any, conflict: type[EfficacyFlowError] | None = None) -> Any:
    """``call(*args)``, with a driver error it raises translated (:func:`translate`) and not chained."""
    try:
        return call(*args)
    except Exception as exc:
        error = translate(exc, conflict=conflict)
        if error is exc:
            raise
    raise error  # outside the except clause: no __context__


def _describe(exc: BaseException) -> tuple[str, str]:
    """(error code, primary message) of a driver error, free of bound values."""
    if isinstance(exc, sqlite3.Error):
        # SQLite's messages name tables, columns and constraints, never values.
        code = getattr(exc, "sqlite_errorname", None) or type(exc).__name__
        return str(code), _first_line(exc)
    if isinstance(exc, SQLAlchemyError):  # from the pool: no statement, no parameters
        return type(exc).__name__, _first_line(exc)
    sqlstate: str | None = getattr(exc, "sqlstate", None)
    diag: Any = getattr(exc, "diag", None)
    code = f"SQLSTATE {sqlstate}" if sqlstate else type(exc).__name__
    if sqlstate is not None and sqlstate.startswith("22"):
        # Data exceptions quote the offending value in their primary message.
        return code, f"{type(exc).__name__}: the database refused a value"
    primary: str | None = getattr(diag, "message_primary", None)
    # None: raised by the client itself (a lost connection), whose first line holds no values.
    return code, primary if primary else _first_line(exc)


def _first_line(exc: BaseException) -> str:
    text = str(exc)
    return text.splitlines()[0] if text else type(exc).__name__


def _is_unique_violation(exc: BaseException, code: str) -> bool:
    if isinstance(exc, sqlite3.IntegrityError):
        return code in ("SQLITE_CONSTRAINT_PRIMARYKEY", "SQLITE_CONSTRAINT_UNIQUE")
    return code == "SQLSTATE 23505"
