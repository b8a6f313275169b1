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
    "Ladder",
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


class LadderWarningModel(FileModel):
    """The warning (预警) before a limit runs out: an amount before the due time, or a share of the period."""

    before: LimitText | None = None
    """How long before the due time (1个工作日, 4小时): counted back by the calendar."""
    share: Annotated[float, Field(gt=0, lt=1)] | None = None
    """Or the share of the period used up when the warning is given (0.8: when a fifth of it is left, in the
    period's unit, rounded up to a whole unit)."""
    source: NonEmptyText | None = None
    """Where the warning rule comes from (default: the ladder's source)."""

    @model_validator(mode="after")
    def _one_way(self) -> LadderWarningModel:
        if (self.before is None) == (self.share is None):
            raise ValueError("a warning gives exactly one of before (an amount) or share (of the period)")
        return self


class LadderRemindersModel(FileModel):
    """Repeated reminders (催办) after the warning, until the limit runs out or ``max`` have been sent."""

    every: LimitText
    """The time between reminders (1个工作日, 4小时), the first one ``every`` after the warning."""
    max: Annotated[int, Field(ge=1, le=100)]
    """At most this many reminders."""
    source: NonEmptyText | None = None
    """Where the reminder rule comes from (default: the ladder's source)."""


class LadderYellowModel(FileModel):
    """The yellow card (黄牌) when the limit runs out, and the 督办 period it starts."""

    supervise: LimitText | None = None
    """The 督办 period: counted on from the limit's last day; still not done when it runs out → a red card
    (when the ladder has one). None: the yellow card is the last step."""
    source: NonEmptyText | None = None
    """Where the yellow-card rule comes from (default: the ladder's source)."""


class LadderRedModel(FileModel):
    """The red card (红牌) when the 督办 period runs out with the step still not done."""

    referral: NonEmptyText | None = None
    """The process an accountability referral starts (效能问责: its process id, e.g. accountability), told to
    other systems as the outbox event ``referral``; None: the red card only."""
    source: NonEmptyText | None = None
    """Where the red-card rule comes from (default: the ladder's source)."""


class LadderModel(FileModel):
    """The deadline ladder of a limit (电子监察): warning → yellow card and 督办 → red card and referral, with
    reminders; the card rules (deductions, talks) are the DMN table ``card_rules``."""

    source: NonEmptyText
    """Where the ladder comes from: a seed file and section, a statute and article, or a local rule marked
    "[local]" (kept as this configurable default)."""
    warning: LadderWarningModel | None = None
    """The warning before the limit runs out (default: none)."""
    reminders: LadderRemindersModel | None = None
    """Reminders after the warning (default: none); needs a warning."""
    yellow: LadderYellowModel = Field(default_factory=LadderYellowModel)
    """The yellow card when the limit runs out (always issued by a ladder)."""
    red: LadderRedModel | None = None
    """The red card when the 督办 period runs out (default: none); needs ``yellow.supervise``."""
    copy_to: list[NonEmptyText] = Field(default_factory=list)
    """Roles or units every card and reminder is copied to (抄送, e.g. 科室负责人)."""

    @model_validator(mode="after")
    def _steps_fit(self) -> LadderModel:
        if self.reminders is not None and self.warning is None:
            raise ValueError("reminders follow the warning: give a warning")
        if self.red is not None and self.yellow.supervise is None:
            raise ValueError("a red card follows the 督办 period: give yellow.supervise")
        return self


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
    ladder: LadderModel | None = None
    """The deadline ladder of electronic supervision (预警/黄牌/红牌) on every task whose timer counts by this
    limit (default: none)."""

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
class Ladder:
    """A limit's deadline ladder (see :class:`LadderModel`), parsed: every period a :class:`TimeLimit`."""

    source: str
    warning_before: TimeLimit | None = None
    warning_share: float | None = None
    warning_source: str | None = None
    reminder_every: TimeLimit | None = None
    reminder_max: int = 0
    reminder_source: str | None = None
    supervise: TimeLimit | None = None
    yellow_source: str | None = None
    red: bool = False
    referral: str | None = None
    red_source: str | None = None
    copy_to: tuple[str, ...] = ()

    @property
    def has_warning(self) -> bool:
        """Whether the ladder warns before the limit runs out."""
        return self.warning_before is not None or self.warning_share is not None


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
    #: The deadline ladder of electronic supervision (None: none).
    ladder: Ladder | None = None

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
        ladder=_ladder(body.ladder) if body.ladder is not None else None,
    )


def _ladder(body: LadderModel) -> Ladder:
    warning, reminders, red = body.warning, body.reminders, body.red
    return Ladder(
        source=body.source,
        warning_before=TimeLimit.parse(warning.before) if warning and warning.before else None,
        warning_share=warning.share if warning else None,
        warning_source=(warning.source or body.source) if warning else None,
        reminder_every=TimeLimit.parse(reminders.every) if reminders else None,
        reminder_max=reminders.max if reminders else 0,
        reminder_source=(reminders.source or body.source) if reminders else None,
        supervise=TimeLimit.parse(body.yellow.supervise) if body.yellow.supervise else None,
        yellow_source=body.yellow.source or body.source,
        red=red is not None,
        referral=red.referral if red else None,
        red_source=(red.source or body.source) if red else None,
        copy_to=tuple(body.copy_to),
    )
