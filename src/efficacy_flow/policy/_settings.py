"""Jurisdiction settings (processes/settings.yaml): the values a jurisdiction sets, each with its source.

Settings a process needs at run time are also start-data defaults in schemas.yaml (``schema`` names the
field); the others are read by the host (which year counts admonitions, say). The file is read through
:class:`Settings` (its JSON Schema is docs/schemas/settings.schema.json).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Literal, get_args

from pydantic import Field, model_validator

from efficacy_flow._parsing import FileModel, JsonScalar, NonEmptyText, load_yaml, read_file, validate_file
from efficacy_flow.errors import ProcessDefinitionError

__all__ = [
    "DIMENSIONS",
    "PERMISSION_ACTIONS",
    "SETTINGS_FILE_NAME",
    "Appraisal",
    "AppraisalProcess",
    "Permission",
    "Setting",
    "Settings",
    "UnitLanes",
    "load_settings",
]

SETTINGS_FILE_NAME = "settings.yaml"


#: A dotted path into schemas.yaml: process.start.field.
_FieldPath = Annotated[str, Field(pattern=r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)+$")]


class Setting(FileModel):
    """One jurisdiction setting: its value, what it may be, and where it comes from."""

    value: JsonScalar
    """The value in force (text, a number or true/false)."""
    allowed: Annotated[list[JsonScalar], Field(min_length=1)] | None = None
    """The values the setting may take; default any."""
    schema_field: _FieldPath | None = Field(default=None, alias="schema")
    """The schemas.yaml field whose default carries this setting into each instance, as
    ``process.start.field`` (e.g. complaint_closure.start.max_rework); default none (the host reads it)."""
    source: NonEmptyText
    """Where the value comes from: a seed file and section, a statute and article, or "[setting] …" (no
    source fixes it; the default is ours). Required: every setting names its source."""

    @model_validator(mode="after")
    def _value_allowed(self) -> Setting:
        if self.allowed is not None and self.value not in self.allowed:
            raise ValueError(f"value {self.value!r} is not one of the allowed values {self.allowed}")
        return self


_Action = Literal[
    "start",
    "suspend",
    "resume",
    "extend",
    "cancel",
    "transfer",
    "assign",
    "delegate",
    "return_to",
    "withdraw",
    "migrate",
    "urge",
    "read_unmasked",
]
#: The engine calls ``permissions:`` may govern (engine/_authorization.py); ``read_unmasked`` is reading
#: history or instance data with personal data unmasked.
PERMISSION_ACTIONS: tuple[str, ...] = get_args(_Action)


class Permission(FileModel):
    """Who may make one engine call: the holders of any of ``roles`` (BPMN lane names or host roles)."""

    roles: Annotated[list[NonEmptyText], Field(min_length=1)]
    """The roles any one of which allows the call."""
    processes: Mapping[str, Annotated[list[NonEmptyText], Field(min_length=1)]] = Field(default_factory=dict)
    """Process id → the roles allowed for that process instead of ``roles``; default none."""
    source: NonEmptyText
    """Where the rule comes from: a seed file and section, a statute and article, or "[setting] …"."""


class UnitLanes(FileModel):
    """The lanes whose tasks belong to the handling unit named in the process data (``unit``): only an actor
    of that unit may complete them — an actor without a unit may not (the centre's own lanes, such as 审核员,
    carry the case's unit too, and stay open to the centre's staff)."""

    roles: Annotated[list[NonEmptyText], Field(min_length=1)]
    """The lane names (roles)."""
    source: NonEmptyText
    """Where the rule comes from."""


#: The dimensions a case is counted by (seed 000 §三(二): 区域、类型、类别、行业; and the handling unit).
DIMENSIONS = ("unit", "region", "case_type", "category", "sector")


class AppraisalProcess(FileModel):
    """Where one case process keeps the facts appraisal counts (docs/metrics.md, "Appraisal by SQL")."""

    sign_task: NonEmptyText | None = None
    """The user task whose completion is the unit's response (签收, 响应率): on time when completed before
    its deadline; default none (the process has no response step)."""
    reply_task: NonEmptyText | None = None
    """The user task whose completion is the reply to the requester (反馈); default none."""
    handling_limits: list[NonEmptyText] = Field(default_factory=list)
    """The time_limits.yaml names whose timers, when they fire, make the case late (按时办结); default
    none."""
    rating_limit: NonEmptyText | None = None
    """The limit whose timer, when it fires, records a deemed rating (默认评价, not the requester's);
    default none."""
    rating_message: NonEmptyText | None = None
    """The message that carries the requester's own rating; default none."""
    rating_task: NonEmptyText | None = None
    """The user task whose completion records the requester's own rating, given to a caller (回访); its
    completion data holds the ``rating``; default none."""
    source: NonEmptyText
    """Where the binding comes from (the process model, a seed section, "[setting]")."""


class AppraisalReview(FileModel):
    """A process that reviews a case's 差评 (好差评 申诉复核): when an instance of it completes with
    ``removed_variable`` true, the case its ``case_variable`` names (a business key, else an instance id)
    has its 差评 removed from 参评 and 差评 (docs/metrics.md, "Ratings removed by 申诉复核")."""

    case_variable: NonEmptyText = "case_id"
    """The review's process data variable naming the rated case; default ``case_id``."""
    removed_variable: NonEmptyText = "rating_removed"
    """The review's process data variable that is true when the appeal was upheld; default
    ``rating_removed``."""
    source: NonEmptyText
    """Where the rule comes from (国办发〔2019〕51号, the review process)."""


class Appraisal(FileModel):
    """The appraisal binding (issue 14): which processes are cases, and which process data variables hold
    the dimensions, the rating and the requester's "solved"."""

    processes: Mapping[NonEmptyText, AppraisalProcess] = Field(default_factory=dict)
    """Case process id → where its facts are; default none (nothing is counted)."""
    reviews: Mapping[NonEmptyText, AppraisalReview] = Field(default_factory=dict)
    """Review process id → how its completed instances remove a case's 差评 (申诉复核); default none."""
    variables: Mapping[
        Literal["unit", "region", "case_type", "category", "sector", "rating", "solved"], str
    ] = Field(default_factory=dict)
    """Fact → the process data variable that holds it; default the fact's own name (``repeat_of``: the
    earlier case a repeated one names)."""
    source: NonEmptyText
    """Where the figures come from (北京市接诉即办工作条例 第三十二条; seed sections)."""

    def variable(self, fact: str) -> str:
        """The process data variable of a fact (``unit``, ``region``, ..., ``rating``, ``solved``)."""
        named: dict[str, str] = {str(k): v for k, v in self.variables.items()}
        return named.get(fact, fact)


class Settings(FileModel):
    """settings.yaml: a jurisdiction's settings of the processes in a folder, each naming its source."""

    version: Literal[1]
    """The file format; 1 is the only one."""
    jurisdiction: str = ""
    """Whose settings these are (默认, or the jurisdiction that edited them); default empty."""
    settings: Mapping[str, Setting] = Field(default_factory=dict)
    """Setting name → the setting; default none."""
    unit_lanes: UnitLanes | None = None
    """The lanes bound to the handling unit (see :class:`UnitLanes`); default none: an actor without a unit
    is not restricted by unit."""
    permissions: Mapping[_Action, Permission] = Field(default_factory=dict)
    """Engine call → who may make it (the engine's default authorizer reads these); a call not listed is
    open to every actor; default none."""
    roles: Mapping[NonEmptyText, NonEmptyText] = Field(default_factory=dict)
    """Role id → its label, what work lists, reports and the cockpit show (a ``camunda:candidateGroups`` id
    such as ``supervision_office`` → 效能办; a lane's role is its name and needs none); default none."""
    appraisal: Appraisal | None = None
    """Which processes are cases the appraisal figures count, and where their facts are (the engine keeps
    one row of facts per case for the figures' SQL); default none."""


def load_settings(path: str | Path) -> Settings:
    """Load the settings of a folder (its ``settings.yaml``) or of a settings file.

    ``load_settings("processes/").settings["max_rework"].value`` is one setting's value.

    Raises:
        ProcessDefinitionError: the file is missing or unreadable, not valid YAML, or does not fit
            :class:`Settings`: a setting without a source, a value outside its ``allowed`` values, an unknown
            key (``path`` names the file, ``entry`` the place, such as ``settings.max_rework.source``).
    """
    file = Path(path)
    if file.is_dir():
        file = file / SETTINGS_FILE_NAME
    where = str(file)
    raw = load_yaml(read_file(file, ProcessDefinitionError), where, ProcessDefinitionError)
    return validate_file(Settings, raw, where, ProcessDefinitionError)
