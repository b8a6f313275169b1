"""Checks of what callers pass to the engine's public calls, before anything is read or written.

Every value that reaches the store or an audit event is checked here for its type and for text a database
cannot hold (a lone surrogate such as ``"\\ud800"`` is not Unicode text), so a bad argument is an
``InvalidInput`` naming it, never a driver error.
"""

from __future__ import annotations

from datetime import datetime

from efficacy_flow.engine._views import Actor
from efficacy_flow.errors import InvalidInput, NaiveDatetime

__all__ = ["MAX_PAGE", "checked_actor", "checked_instant", "checked_limit", "checked_text", "shown"]

#: The most items one page may ask for (``limit``): a page is read into memory whole.
MAX_PAGE = 10_000


def shown(value: object, limit: int = 60) -> str:
    """A caller's value as an error message may show it: text quoted and cut to ``limit`` characters, anything
    else by its type (its repr may be huge, recurse without end, or fail: ``repr(10**5000)`` raises)."""
    if isinstance(value, str):
        text = value if len(value) <= limit else value[:limit] + "…"
        return repr(text.encode("utf-8", "backslashreplace").decode("utf-8"))
    if value is None or isinstance(value, bool):
        return repr(value)
    return f"a {type(value).__name__}"


def checked_text(
    name: str, value: object, *, limit: int = 200, optional: bool = False, empty: bool = False
) -> str | None:
    """``value`` if it is text of 1 (0 if ``empty``) to ``limit`` characters that a database can store (None
    if ``optional``).

    Raises:
        InvalidInput: anything else (``argument`` names the parameter).
    """
    if value is None and optional:
        return None
    if not isinstance(value, str):
        raise InvalidInput(f"{name} must be text, got {type(value).__name__}", argument=name)
    if (not value and not empty) or len(value) > limit:
        least = 0 if empty else 1
        raise InvalidInput(f"{name} must have {least} to {limit} characters, got {len(value)}", argument=name)
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise InvalidInput(
                f"{name} is not valid Unicode text (a lone surrogate)", argument=name
            ) from None
    return value


def checked_actor(actor: object, name: str = "actor") -> Actor:
    """``actor`` if it is an :class:`Actor` whose id, roles and unit are storable text.

    Raises:
        InvalidInput: anything else.
    """
    if not isinstance(actor, Actor):
        raise InvalidInput(f"{name} must be an Actor, got {type(actor).__name__}", argument=name)
    names = _ACTOR_FIELDS if name == "actor" else (f"{name}.id", f"{name}.unit", f"{name}.roles")
    checked_text(names[0], actor.id)
    checked_text(names[1], actor.unit, optional=True)
    for role in actor.roles:
        checked_text(names[2], role)
    return actor


#: The names :func:`checked_actor` gives an ``actor`` argument's fields in its errors (made once: every call
#: checks its actor).
_ACTOR_FIELDS = ("actor.id", "actor.unit", "actor.roles")


def checked_limit(value: object, name: str = "limit") -> int | None:
    """``value`` if it is None or a whole number from 1 to :data:`MAX_PAGE`.

    Raises:
        InvalidInput: anything else.
    """
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_PAGE:
        got = str(value) if isinstance(value, int) and -(10**9) < value < 10**9 else shown(value)
        raise InvalidInput(f"{name} must be a whole number from 1 to {MAX_PAGE}, got {got}", argument=name)
    return value


def checked_instant(value: object, name: str) -> datetime | None:
    """``value`` if it is None or an aware datetime.

    Raises:
        NaiveDatetime: a datetime without a time zone. InvalidInput: anything else.
    """
    if value is None:
        return None
    if not isinstance(value, datetime):
        raise InvalidInput(f"{name} must be a datetime, got {type(value).__name__}", argument=name)
    if value.utcoffset() is None:
        raise NaiveDatetime(f"{name} must be an aware datetime, got {value.isoformat()}", argument=name)
    return value
