"""Checks of what callers pass to the metrics functions (one place, so every function refuses alike)."""

from __future__ import annotations

from datetime import datetime

from efficacy_flow.errors import InvalidInput, NaiveDatetime

__all__ = ["aware_instant"]


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
