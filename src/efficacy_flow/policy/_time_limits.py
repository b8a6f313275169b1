"""The time-limit table (processes/time_limits.yaml, conventions §5).

A process designer writes ``time_limit("complaint_handling", urgency=urgency)`` in a timer; the table says how
long that is and where the rule comes from. Every entry and variant is parsed when the table is loaded, so a
bad
table fails at deployment, not when a timer becomes ready.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from efficacy_flow.calendar import TimeLimit
from efficacy_flow.errors import InvalidTimeLimit, ProcessDefinitionError

__all__ = ["TimeLimitEntry", "TimeLimitTable", "TimeLimitVariant", "load_time_limits", "parse_time_limits"]

#: The table format this loader reads (the file's ``version`` key).
TABLE_FORMAT_VERSION = 1
TABLE_FILE_NAME = "time_limits.yaml"


@dataclass(frozen=True, slots=True)
class TimeLimitVariant:
    """A variant that applies when every key in ``when`` equals the given value."""

    when: Mapping[str, Any]
    limit: TimeLimit
    text: str
    source: str


@dataclass(frozen=True, slots=True)
class TimeLimitEntry:
    """One named limit: its default and its variants, each with a source."""

    name: str
    label: str
    limit: TimeLimit
    text: str
    source: str
    variants: tuple[TimeLimitVariant, ...]

    def choose(self, **keys: Any) -> TimeLimitEntry | TimeLimitVariant:
        """The first variant whose ``when`` matches ``keys`` on every key it names, else the entry itself."""
        for variant in self.variants:
            if all(name in keys and keys[name] == value for name, value in variant.when.items()):
                return variant
        return self


@dataclass(frozen=True, slots=True)
class TimeLimitTable:
    """A loaded, validated time-limit table."""

    version: int
    jurisdiction: str
    entries: Mapping[str, TimeLimitEntry]
    path: str | None = None

    @property
    def names(self) -> frozenset[str]:
        """Every limit name the table defines."""
        return frozenset(self.entries)

    def __contains__(self, name: object) -> bool:
        return name in self.entries

    def resolve(self, name: str, **keys: Any) -> TimeLimit:
        """The limit for ``name`` given the variant keys (conventions §5).

        Raises:
            ProcessDefinitionError: the table has no entry ``name``.
        """
        entry = self.entries.get(name)
        if entry is None:
            raise ProcessDefinitionError(
                f"time_limit({name!r}): the time-limit table has no such entry", entry=name, path=self.path
            )
        return entry.choose(**keys).limit


def load_time_limits(path: str | Path) -> TimeLimitTable:
    """Load a time-limit table from a YAML file, or from ``time_limits.yaml`` in a folder.

    Raises:
        ProcessDefinitionError: the file is missing, malformed, an entry lacks a label, limit or source, or
        a limit
            does not parse (``path`` and ``entry`` name the place).
    """
    file = Path(path)
    if file.is_dir():
        file = file / TABLE_FILE_NAME
    where = str(file)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise ProcessDefinitionError(f"{where}: cannot read the time-limit table: {exc}", path=where) from exc
    return parse_time_limits(text, where)


def parse_time_limits(text: str, where: str = "<time limits>") -> TimeLimitTable:
    """Parse a time-limit table from YAML text (``where`` names it in errors), as :func:`load_time_limits`."""
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ProcessDefinitionError(f"{where}: cannot read the time-limit table: {exc}", path=where) from exc
    if not isinstance(raw, dict):
        raise ProcessDefinitionError(f"{where}: the time-limit table must be a mapping", path=where)
    if raw.get("version") != TABLE_FORMAT_VERSION:
        raise ProcessDefinitionError(
            f"{where}: unsupported table version {raw.get('version')!r} (expected {TABLE_FORMAT_VERSION})",
            path=where,
        )
    limits = raw.get("limits")
    if not isinstance(limits, dict):
        raise ProcessDefinitionError(f"{where}: 'limits' must be a mapping of names to entries", path=where)
    entries = {str(name): _entry(where, str(name), body) for name, body in limits.items()}
    return TimeLimitTable(
        version=TABLE_FORMAT_VERSION,
        jurisdiction=str(raw.get("jurisdiction", "")),
        entries=entries,
        path=where,
    )


def _entry(where: str, name: str, body: Any) -> TimeLimitEntry:
    if not isinstance(body, dict):
        raise ProcessDefinitionError(f"{where}: entry {name!r} must be a mapping", path=where, entry=name)
    for key in ("label", "limit", "source"):
        if not str(body.get(key) or "").strip():
            raise ProcessDefinitionError(f"{where}: entry {name!r} has no {key}", path=where, entry=name)
    variants = []
    for index, variant in enumerate(body.get("variants") or ()):
        label = f"{name}.variants[{index}]"
        if not isinstance(variant, dict) or not isinstance(variant.get("when"), dict):
            raise ProcessDefinitionError(f"{where}: {label} needs a 'when' mapping", path=where, entry=label)
        if not str(variant.get("source") or "").strip():
            raise ProcessDefinitionError(f"{where}: {label} has no source", path=where, entry=label)
        text = str(variant.get("limit", ""))
        variants.append(
            TimeLimitVariant(
                when=dict(variant["when"]),
                limit=_parse(where, label, text),
                text=text,
                source=str(variant["source"]),
            )
        )
    text = str(body["limit"])
    return TimeLimitEntry(
        name=name,
        label=str(body["label"]),
        limit=_parse(where, name, text),
        text=text,
        source=str(body["source"]),
        variants=tuple(variants),
    )


def _parse(where: str, entry: str, text: str) -> TimeLimit:
    try:
        return TimeLimit.parse(text)
    except InvalidTimeLimit as exc:
        raise ProcessDefinitionError(
            f"{where}: entry {entry!r}: cannot read limit {text!r}", path=where, entry=entry
        ) from exc
