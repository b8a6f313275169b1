"""The time-limit table (processes/time_limits.yaml, conventions §5).

A process designer writes ``time_limit("complaint_handling", urgency=urgency)`` in a timer; the table says how
long that is and where the rule comes from. Every entry and variant is parsed when the table is loaded, so a
bad table fails at deployment, not when a timer becomes ready. The file is read through
:class:`TimeLimitsFile` (its JSON Schema is docs/schemas/time_limits.schema.json).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, WithJsonSchema, model_validator

from efficacy_flow._parsing import FileModel, JsonScalar, NonEmptyText, load_yaml, read_file, validate_file
from efficacy_flow.calendar import TimeLimit
from efficacy_flow.errors import InvalidTimeLimit, ProcessDefinitionError

__all__ = [
    "TimeLimitEntry",
    "TimeLimitTable",
    "TimeLimitVariant",
    "TimeLimitsFile",
    "load_time_limits",
    "parse_time_limits",
]

#: The table format this loader reads (the file's ``version`` key).
TABLE_FORMAT_VERSION = 1
TABLE_FILE_NAME = "time_limits.yaml"


def _readable_limit(text: str) -> str:
    try:
        TimeLimit.parse(text)
    except InvalidTimeLimit as exc:
        raise ValueError(f"cannot read limit {text!r} (try '20个工作日', '60日', '2小时', '1个月')") from exc
    return text


#: A limit as statutes write it: anything :meth:`TimeLimit.parse` reads.
LimitText = Annotated[
    str,
    AfterValidator(_readable_limit),
    WithJsonSchema(
        {"type": "string", "pattern": r"\S", "examples": ["5个工作日", "15日", "24小时", "1个月"]}
    ),
]


class TimeLimitVariantModel(FileModel):
    """A variant of a limit: it applies when every key in ``when`` equals the value the timer passes."""

    when: dict[str, JsonScalar]
    """The keys the timer passes to time_limit() and the values they must equal, e.g. {urgency: 紧急}."""
    limit: LimitText
    """The limit while this variant applies (written as the entry's limit)."""
    source: NonEmptyText
    """Where this variant's limit comes from: a statute and article, a seed file and section, "[secondary] …"
    (a report or draft standard) or "[setting] …" (no source fixes it)."""


class TimeLimitEntryModel(FileModel):
    """One named limit: its default and its variants, each with a source."""

    label: NonEmptyText
    """The limit's name for people, in Chinese (诉求办理时限)."""
    limit: LimitText
    """The limit when no variant applies, as statutes write it: 5个工作日 (working days after the start day),
    15日 (calendar days, the last one rolled to a working day), 24小时 (elapsed hours), 1个月 (to the
    corresponding day), 15分钟; Chinese numerals (二十个工作日) and English units (5 working days) too."""
    source: NonEmptyText
    """Where the limit comes from: a statute and article, a seed file and section, "[secondary] …" or
    "[setting] …"."""
    variants: list[TimeLimitVariantModel] = Field(default_factory=list)
    """Tried in order; the first whose ``when`` matches every key it names wins (default: none)."""
    max_extensions: Annotated[int, Field(ge=0)] | None = None
    """How many approved extensions (engine.extend) a task's deadline counted by this limit may get; 0: none
    (default: no cap). Needs ``caps_source``."""
    max_total: LimitText | None = None
    """The most all extensions of a task's deadline counted by this limit may add together, written as
    ``limit`` is (30日); an extension must then be in the same unit to be counted (default: no cap). Needs
    ``caps_source``."""
    caps_source: NonEmptyText | None = None
    """Where ``max_extensions`` and ``max_total`` come from: a statute and article, a seed file and section,
    "[secondary] …" or "[setting] …". Required when either cap is set."""
    on_transfer: Literal["keep", "restart"] | None = None
    """What a transfer of the task to another unit (engine.transfer, 转办) does to a deadline counted by this
    limit: ``keep`` it running (the default: the limit is the requester's) or ``restart`` it, counted anew
    from the transfer. Needs ``transfer_source``."""
    transfer_source: NonEmptyText | None = None
    """Where ``on_transfer`` comes from. Required with it."""

    @model_validator(mode="after")
    def _caps_cited(self) -> TimeLimitEntryModel:
        capped = self.max_extensions is not None or self.max_total is not None
        if capped and self.caps_source is None:
            raise ValueError("max_extensions and max_total need caps_source (where the cap comes from)")
        if not capped and self.caps_source is not None:
            raise ValueError("caps_source without max_extensions or max_total cites no cap")
        if (self.on_transfer is None) != (self.transfer_source is None):
            raise ValueError("on_transfer and transfer_source go together (where the rule comes from)")
        return self


class TimeLimitsFile(FileModel):
    """time_limits.yaml: every time limit of the processes in a folder, by name, each with its source."""

    version: Literal[1]
    """The table format; 1 is the only one."""
    jurisdiction: str = ""
    """Whose table this is (默认, or the jurisdiction that edited it); default empty."""
    limits: dict[str, TimeLimitEntryModel]
    """Limit name (what a timer passes to time_limit("name", ...)) → the limit."""


@dataclass(frozen=True, slots=True)
class TimeLimitVariant:
    """A variant that applies when every key in ``when`` equals the given value."""

    when: Mapping[str, Any]
    limit: TimeLimit
    text: str
    source: str


@dataclass(frozen=True, slots=True)
class TimeLimitEntry:
    """One named limit: its default and its variants, each with a source, and the caps on its extensions."""

    name: str
    label: str
    limit: TimeLimit
    text: str
    source: str
    variants: tuple[TimeLimitVariant, ...]
    #: How many extensions a task's deadline counted by this limit may get (None: no cap).
    max_extensions: int | None = None
    #: The most all its extensions may add together (None: no cap).
    max_total: TimeLimit | None = None
    #: Where the caps come from (set when either cap is).
    caps_source: str | None = None
    #: What a transfer to another unit does to its deadlines: ``"keep"`` (default) or ``"restart"``.
    on_transfer: str = "keep"

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
        ProcessDefinitionError: the file is missing or unreadable, not valid YAML, or does not fit
            :class:`TimeLimitsFile`: an entry lacks a label, limit or source, a variant its ``when`` or
            source, a limit or ``max_total`` does not parse, ``max_extensions`` is negative, a cap lacks
            ``caps_source``, a key is unknown (``path`` names the file; ``entry`` the place,
            such as ``limits.complaint_handling.variants[0].limit``).
    """
    file = Path(path)
    if file.is_dir():
        file = file / TABLE_FILE_NAME
    return parse_time_limits(read_file(file, ProcessDefinitionError), str(file))


def parse_time_limits(text: str | bytes, where: str = "<time limits>") -> TimeLimitTable:
    """Parse a time-limit table from YAML text or bytes (``where`` names it in errors), as
    :func:`load_time_limits`."""
    raw = load_yaml(text, where, ProcessDefinitionError)
    table = validate_file(TimeLimitsFile, raw, where, ProcessDefinitionError)
    return TimeLimitTable(
        version=table.version,
        jurisdiction=table.jurisdiction,
        entries={name: _entry(name, body) for name, body in table.limits.items()},
        path=where,
    )


def _entry(name: str, body: TimeLimitEntryModel) -> TimeLimitEntry:
    variants = tuple(
        TimeLimitVariant(
            when=dict(variant.when),
            limit=TimeLimit.parse(variant.limit),
            text=variant.limit,
            source=variant.source,
        )
        for variant in body.variants
    )
    return TimeLimitEntry(
        name=name,
        label=body.label,
        limit=TimeLimit.parse(body.limit),
        text=body.limit,
        source=body.source,
        variants=variants,
        max_extensions=body.max_extensions,
        max_total=TimeLimit.parse(body.max_total) if body.max_total is not None else None,
        caps_source=body.caps_source,
        on_transfer=body.on_transfer or "keep",
    )
