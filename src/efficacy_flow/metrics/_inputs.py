"""Checks of what callers pass to the metrics functions (one place, so every function refuses alike)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from efficacy_flow.errors import InvalidInput, NaiveDatetime

__all__ = ["aware_instant", "name_list"]


def aware_instant(value: object, name: str) -> datetime:
    """``value`` if it is an aware datetime.

    Raises:
        NaiveDatetime: a datetime without a time zone. InvalidInput: anything else.
    """
    if not isinstance(value, datetime):
        raise InvalidInput(f"{name} must be a datetime, got {type(value).__name__}", argument=name)
    if value.utcoffset() is None:
        raise NaiveDatetime(f"{name} must be an aware datetime, got {value.isoformat()}", argument=name)
    return value


def name_list(value: Iterable[str], what: str, argument: str = "by") -> tuple[str, ...]:
    """``value`` as a tuple of names (one text is refused: ``("unit",)``, not ``"unit"``).

    Raises:
        InvalidInput: one text, something that is not a list, or an item that is not text.
    """
    if isinstance(value, str):
        raise InvalidInput(f"{argument} must be a list of {what}, not one text", argument=argument)
    try:
        names = tuple(value)
    except TypeError:
        raise InvalidInput(f"{argument} must be a list of {what}", argument=argument) from None
    if not all(isinstance(name, str) for name in names):
        raise InvalidInput(f"{argument} must be a list of {what} (text)", argument=argument)
    return names
