"""Process definitions: read from a folder, checked at deployment, stored once by content hash.

A definition's content is the BPMN file of one process plus the time-limit table and the data schema it runs
with; its hash is the sha256 of that content in canonical JSON (line endings normalized). Instances record the
hash, so a new deployment never changes the definition a running instance follows.
"""

from __future__ import annotations

import ast
import codecs
import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from lxml import etree  # the XML library SpiffWorkflow parses with

from efficacy_flow._parsing import load_yaml, parse_xml, read_file, validate_file, yaml_text
from efficacy_flow.clock import Clock
from efficacy_flow.engine import runtime
from efficacy_flow.engine._durations import (
    CALENDARS,
    DurationRefused,
    duration_limit,
    parse_cycle,
    parse_duration,
)
from efficacy_flow.engine._facts import FactsPlan, ReviewPlan, facts_plan, review_plan
from efficacy_flow.engine._forms import DeclaredForms, declared_forms, form_fields
from efficacy_flow.engine._ladder import LadderPlan, plan_of
from efficacy_flow.engine._sandbox import Sandbox
from efficacy_flow.engine._schemas import ProcessSchema, SchemasFile, schema_from_mapping
from efficacy_flow.engine._services import EngineServices, iso_literal
from efficacy_flow.engine._views import FormField, Forms
from efficacy_flow.errors import ProcessDefinitionError, UnsafeExpression
from efficacy_flow.policy import Appraisal, TimeLimitTable, parse_time_limits

__all__ = ["DefinitionSource", "Deployment", "Services", "build_deployment", "read_folder"]

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
CAMUNDA_NS = "http://camunda.org/schema/1.0/bpmn"
_NS = {"bpmn": BPMN_NS, "camunda": CAMUNDA_NS}
#: The content format of the definitions this version deploys (inside the definitions table). 2: a user
#: task's ``camunda:candidateGroups`` is its role, ``camunda:formData`` its data's fields and its form, and a
#: Camunda extension the engine does not run is refused (docs/processes.md §17). 1: those were ignored, as
#: they still are for the definitions stored in format 1, so a running instance keeps the meaning it started
#: with (a new version's stricter reading never stops it).
DEFINITION_FORMAT = 2
#: SpiffWorkflow names its own start and end tasks so; an element with one of these ids silently breaks the
#:  graph.
RESERVED_IDS = frozenset({"Start", "End"})


@dataclass(frozen=True)
class DefinitionSource:
    """What a process runs with; ``hash`` identifies it."""

    process_id: str
    filename: str
    bpmn: str
    time_limits: str | None
    schema: Mapping[str, Any] | None
    #: The content format it was deployed in (:data:`DEFINITION_FORMAT` for a new deployment).
    format: int = DEFINITION_FORMAT

    def content(self) -> bytes:
        """Canonical JSON of the definition (what is stored and hashed)."""
        body = {
            "format": self.format,
            "process_id": self.process_id,
            "filename": self.filename,
            "bpmn": self.bpmn,
            "time_limits": self.time_limits,
            "schema": self.schema,
        }
        return json.dumps(
            body, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str
        ).encode()

    @property
    def hash(self) -> str:
        """sha256 of :meth:`content`."""
        return hashlib.sha256(self.content()).hexdigest()

    @classmethod
    def from_content(cls, content: bytes) -> DefinitionSource:
        """Rebuild a source from stored content."""
        body = json.loads(content)
        return cls(
            body["process_id"],
            body["filename"],
            body["bpmn"],
            body["time_limits"],
            body["schema"],
            int(body.get("format", 1)),
        )


@dataclass(frozen=True)
class Services:
    """What deployments share: the sandbox, the clock, the calendar and the decisions.

    ``fast_paths``: False runs the runtime's stock paths only (docs/engine.md, "The runtime seam").
    """

    sandbox: Sandbox
    clock: Clock
    calendar: Any
    decide: Callable[[str, Mapping[str, Any]], Any] | None = None
    decision_ids: frozenset[str] | None = None
    schemas: Mapping[str, Any] = field(default_factory=dict)
    fast_paths: bool = True
    #: The processes folder's appraisal binding (settings.yaml ``appraisal``; None: no process is a case).
    appraisal: Appraisal | None = None


@dataclass(frozen=True)
class Deployment:
    """A parsed, checked definition ready to run."""

    process_id: str
    hash: str
    source: DefinitionSource
    runtime: runtime.ProcessRuntime
    schema: ProcessSchema
    #: Timer element id → the limit name its expression passes to ``time_limit("name", ...)`` (the first
    #: literal call); timers with an ISO literal or a computed name are not listed.
    timer_limits: Mapping[str, str] = field(default_factory=dict)
    #: The time-limit table the definition runs with (None: it has none).
    time_limits: TimeLimitTable | None = None
    #: Boundary timer element id → the element of the task it is attached to (``attachedToRef``).
    timer_attachments: Mapping[str, str] = field(default_factory=dict)
    #: The deadline ladders of its timers (电子监察, engine/_ladder.py; None: no timer counts by a ladder).
    ladder: LadderPlan | None = field(default=None, compare=False)
    #: Where its cases keep the facts appraisal counts (engine/_facts.py; None: not a case process).
    facts: FactsPlan | None = field(default=None, compare=False)
    #: How it removes a case's 差评 when it is a review process (好差评 申诉复核; None: it is not).
    review: ReviewPlan | None = field(default=None, compare=False)
    #: User task element id → its form (the fields of its completion data: formData or schemas.yaml).
    forms: Forms = field(default_factory=dict, compare=False)
    #: The start data's form (its start event's formData or schemas.yaml ``start``; empty: none declared).
    start_form: tuple[FormField, ...] = field(default=(), compare=False)

    @property
    def messages(self) -> frozenset[str]:
        """The names of the messages the definition declares."""
        return self.runtime.messages


def _normalize(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n").strip() + "\n"


def _xml(text: str, where: str) -> Any:
    return parse_xml(text, where, ProcessDefinitionError)


def _bpmn_text(data: bytes, root: Any) -> str:
    """What is stored and hashed: a UTF-8 file's own text (so hashes stay as they were), any other encoding's
    document re-serialized as UTF-8 with a UTF-8 declaration."""
    if codecs.lookup(root.getroottree().docinfo.encoding).name == "utf-8":
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            pass  # UTF-16 or UTF-32 with a byte-order mark and no declaration: lxml reports UTF-8 for those
    return str(etree.tostring(root.getroottree(), encoding="UTF-8", xml_declaration=True).decode("utf-8"))


def _read_limits(file: Path) -> str | None:
    if not file.exists():
        return None
    text = _normalize(yaml_text(read_file(file, ProcessDefinitionError), str(file), ProcessDefinitionError))
    parse_time_limits(text, str(file))  # refused here, naming the file, rather than once per process
    return text


def _read_schemas(file: Path) -> dict[str, Any]:
    if not file.exists():
        return {}
    raw = load_yaml(read_file(file, ProcessDefinitionError), str(file), ProcessDefinitionError)
    if raw is None:
        return {}
    validate_file(SchemasFile, raw, str(file), ProcessDefinitionError)
    # The raw sections are stored (and hashed) as before; the model only checks them.
    return dict(raw)


def read_folder(path: str | Path) -> tuple[list[DefinitionSource], bool]:
    """Every process in a folder's ``*.bpmn`` files, with the folder's time-limit table and schemas.

    Each file is read as bytes and parsed once by :func:`efficacy_flow._parsing.parse_xml` (no DOCTYPE, no
    entities, no XInclude; the declared encoding honoured); ``time_limits.yaml`` and ``schemas.yaml`` are
    checked against their models. Returns the sources and whether the folder has ``*.dmn`` files.

    Raises:
        ProcessDefinitionError: a file that cannot be read or parsed, a table or schema file that does not fit
            its model (``path``, ``entry``), a file without exactly one main executable process (one that no
            call activity in the file calls), or one process id in two files.
    """
    folder = Path(path)
    if not folder.is_dir():
        raise ProcessDefinitionError(f"{folder}: not a folder of processes", path=str(folder))
    limits = _read_limits(folder / "time_limits.yaml")
    schemas = _read_schemas(folder / "schemas.yaml")
    sources: dict[str, DefinitionSource] = {}
    for file in sorted(folder.glob("*.bpmn")):
        data = read_file(file, ProcessDefinitionError)
        root = parse_xml(data, str(file), ProcessDefinitionError)
        text = _normalize(_bpmn_text(data, root))
        # The file's main process is its executable process that no call activity in the file calls; the
        # processes it calls may be marked executable too (Camunda Modeler's default) or not. A process
        # without the attribute is executable, as SpiffWorkflow takes it (281 of 831 BPMN MIWG files omit it).
        called = {c.get("calledElement") for c in root.iter(f"{{{BPMN_NS}}}callActivity")}
        executable = [
            p.get("id")
            for p in root.iterfind("bpmn:process", _NS)
            if p.get("isExecutable", "true") != "false" and p.get("id") not in called
        ]
        if len(executable) != 1:
            raise ProcessDefinitionError(
                f"{file}: expected exactly one executable process that no call activity calls, "
                f"found {len(executable)}",
                path=str(file),
            )
        process_id = str(executable[0])
        if process_id != file.stem:
            # Deployed under the id, started by the id: a file named otherwise hides which process it holds.
            raise ProcessDefinitionError(
                f"{file}: the process id {process_id!r} is not the file's name {file.stem!r}; rename one so"
                " that they agree",
                path=str(file),
                process_id=process_id,
                element_id=process_id,
            )
        if process_id in sources:
            raise ProcessDefinitionError(
                f"{file}: process {process_id!r} is also defined in {sources[process_id].filename}",
                path=str(file),
                process_id=process_id,
            )
        sources[process_id] = DefinitionSource(process_id, file.name, text, limits, schemas.get(process_id))
    return list(sources.values()), any(folder.glob("*.dmn"))


def build_deployment(source: DefinitionSource, services: Services) -> Deployment:
    """Parse and check one definition: every expression compiled, every name it uses resolved.

    Raises:
        ProcessDefinitionError: the file cannot run (``element_id`` names the element where known).
        UnsafeExpression: an expression, condition, script or timer the sandbox refuses.
    """
    where = source.filename
    table = (
        parse_time_limits(source.time_limits, f"time_limits.yaml ({where})") if source.time_limits else None
    )
    root = _xml(source.bpmn, where)
    # Compared, not put into a path expression: an id may hold any character (an apostrophe broke lxml's).
    process = next((p for p in root.iterfind("bpmn:process", _NS) if p.get("id") == source.process_id), None)
    if process is None:
        raise ProcessDefinitionError(f"{where}: no process {source.process_id!r}", path=where)
    for node in process.iter():
        if isinstance(node.tag, str) and node.get("id") in RESERVED_IDS:
            raise ProcessDefinitionError(
                f"{where}: element id {node.get('id')!r} is reserved by SpiffWorkflow "
                "(use e.g. StartEvent_1)",
                path=where,
                element_id=node.get("id"),
            )
    # Every process in the file runs (the main one and those its call activities call): check them all.
    messages: set[str] = set()
    timer_limits: dict[str, str] = {}
    timer_attachments: dict[str, str] = {}
    modeler = source.format >= 2  # candidate groups, formData and unrun extensions read (DEFINITION_FORMAT)
    try:
        for each in root.iterfind("bpmn:process", _NS):
            messages |= _check_elements(
                root, each, source, services, table, timer_limits, timer_attachments, modeler=modeler
            )
    except UnsafeExpression as refused:
        if refused.fields.get("path"):
            raise
        # The sandbox knows the element, not the file: every deployment error names both.
        raise type(refused)(f"{where}: {refused.message}", **{**refused.fields, "path": where}) from None

    answers = EngineServices(services.sandbox, services.calendar, table, services.decide)
    process_runtime = runtime.deploy(
        root,
        where,
        source.process_id,
        answers,
        frozenset(messages),
        fast=services.fast_paths,
        candidate_groups=modeler,
    )

    override = services.schemas.get(source.process_id)
    raw_schema = _with_forms(
        dict(override if override is not None else source.schema or {}),
        declared_forms(root, where, source.process_id) if modeler else DeclaredForms(),
        where,
    )
    schema = schema_from_mapping(source.process_id, raw_schema) if raw_schema else ProcessSchema()
    forms = {
        str(element_id): form_fields(fields)
        for element_id, fields in (raw_schema.get("tasks") or {}).items()
        if isinstance(fields, Mapping)
    }
    dep = Deployment(
        process_id=source.process_id,
        hash=source.hash,
        source=source,
        runtime=process_runtime,
        schema=schema,
        timer_limits=timer_limits,
        time_limits=table,
        timer_attachments=timer_attachments,
        forms=forms,
        start_form=form_fields(raw_schema["start"]) if isinstance(raw_schema.get("start"), Mapping) else (),
    )
    return replace(
        dep,
        ladder=plan_of(dep, services.calendar),
        facts=facts_plan(dep, services.appraisal),
        review=review_plan(dep, services.appraisal),
    )


def _with_forms(raw_schema: dict[str, Any], declared: DeclaredForms, where: str) -> dict[str, Any]:
    """The process's schema with the fields its diagram declares (``camunda:formData``) as its start data
    and its tasks' completion data: one source of truth each, so one declared in both places is refused."""
    if declared.start is not None:
        if raw_schema.get("start") is not None:
            raise ProcessDefinitionError(
                f"{where}: start event {declared.start_event} declares the start data's fields in"
                " camunda:formData and schemas.yaml declares them too: keep one (one source of truth)",
                path=where,
                element_id=declared.start_event,
            )
        raw_schema = {**raw_schema, "start": declared.start}
    if not declared.tasks:
        return raw_schema
    tasks = dict(raw_schema.get("tasks") or {})
    for element_id, fields in declared.tasks.items():
        if element_id in tasks:
            raise ProcessDefinitionError(
                f"{where}: user task {element_id} declares its form fields in camunda:formData and in"
                " schemas.yaml: keep one (a task's fields have one source of truth)",
                path=where,
                element_id=element_id,
            )
        tasks[element_id] = fields
    return {**raw_schema, "tasks": tasks}


def _check_elements(
    root: Any,
    process: Any,
    source: DefinitionSource,
    services: Services,
    table: TimeLimitTable | None,
    timer_limits: dict[str, str],
    timer_attachments: dict[str, str],
    *,
    modeler: bool = True,
) -> set[str]:
    """Check a process's scripts, expressions, timers and rule tasks; return the file's message names and
    record in ``timer_limits`` each timer's literal limit name, in ``timer_attachments`` each boundary timer's
    task element."""
    where = source.filename
    sandbox = services.sandbox

    def owner(node: Any) -> str:
        while node is not None and node.get("id") is None:
            node = node.getparent()
        return str(node.get("id")) if node is not None else "?"

    for script_task in process.iter(f"{{{BPMN_NS}}}scriptTask"):
        script = script_task.find("bpmn:script", _NS)
        script_format = (script_task.get("scriptFormat") or "python").lower()
        if script_format != "python":
            raise ProcessDefinitionError(
                f"{where}: script task {script_task.get('id')} is {script_format}, only python is supported",
                path=where,
                element_id=script_task.get("id"),
            )
        if script is not None and (script.text or "").strip():
            sandbox.compile(script.text, "exec", element_id=script_task.get("id"))
    for tag in (
        "conditionExpression",
        "loopCondition",
        "completionCondition",
        "loopCardinality",
        "condition",
    ):
        for node in process.iter(f"{{{BPMN_NS}}}{tag}"):
            if (node.text or "").strip():
                _check_language(node, owner(node), where)
                sandbox.compile(node.text.strip(), "eval", element_id=owner(node))
    if modeler:
        _refuse_unrun_extensions(process, where, owner)
    for node in process.iter():
        expression = node.get(f"{{{CAMUNDA_NS}}}expression") if isinstance(node.tag, str) else None
        if expression:
            sandbox.compile(expression, "eval", element_id=owner(node))
    for timer in process.iter(f"{{{BPMN_NS}}}timerEventDefinition"):
        element_id = owner(timer.getparent())
        name = _check_timer_definition(timer, element_id, where, sandbox, table)
        if name is not None:
            timer_limits[element_id] = name
        event = timer.getparent()
        if event.tag == f"{{{BPMN_NS}}}boundaryEvent" and event.get("attachedToRef"):
            timer_attachments[element_id] = str(event.get("attachedToRef"))
    for rule_task in process.iter(f"{{{BPMN_NS}}}businessRuleTask"):
        ref = rule_task.get(f"{{{CAMUNDA_NS}}}decisionRef")
        if not ref or services.decision_ids is None or ref not in services.decision_ids:
            raise ProcessDefinitionError(
                f"{where}: business rule task {rule_task.get('id')} refers to unknown decision {ref!r}",
                path=where,
                element_id=rule_task.get("id"),
                decision=ref,
            )
    return {str(m.get("name")) for m in root.iterfind("bpmn:message", _NS) if m.get("name")}


#: Camunda extensions that change what a process does in Camunda and that this engine does not run: refused
#: at deployment rather than ignored (a listener that never fires, a mapping never applied, an assignee never
#: set). What each is instead, here. Extensions that change nothing a process does (asyncBefore, jobPriority,
#: versionTag, historyTimeToLive, camunda:properties, …) are ignored, as Camunda's own engine would run the
#: same.
_UNRUN_ELEMENTS = {
    "executionListener": "listeners are not run: put the work in a script task",
    "taskListener": "listeners are not run: put the work in a script task",
    "inputOutput": "input/output mappings are not applied: process data is one scope (conventions §8)",
    "in": "call activity variable mappings are not applied: the called process gets the caller's data",
    "out": "call activity variable mappings are not applied: the caller gets the called process's data",
    "connector": "connectors are not run: a host reads the outbox (docs/engine.md) and calls the service",
    "field": "Java delegate fields are not run",
}
_UNRUN_ATTRIBUTES = {
    "assignee": "a task is assigned with engine.assign() or claimed with engine.claim()",
    "candidateUsers": "name a role with camunda:candidateGroups (or a lane); people hold roles",
    "dueDate": "a task's due time is its attached timer's (time_limits.yaml)",
    "followUpDate": "a follow-up is a non-interrupting timer (time_limits.yaml)",
    "formKey": "the task's form is its camunda:formData fields or its schemas.yaml entry (TaskView.form)",
    "formRef": "the task's form is its camunda:formData fields or its schemas.yaml entry (TaskView.form)",
    "class": "Java delegates are not run: use a script task",
    "delegateExpression": "Java delegates are not run: use a script task",
    "type": "external tasks are not run: a host reads the outbox (docs/engine.md)",
    "topic": "external tasks are not run: a host reads the outbox (docs/engine.md)",
}


def _refuse_unrun_extensions(process: Any, where: str, owner: Callable[[Any], str]) -> None:
    """Refuse, naming the element, a Camunda extension this engine would otherwise silently ignore."""
    prefix = f"{{{CAMUNDA_NS}}}"
    for node in process.iter():
        if not isinstance(node.tag, str):
            continue
        found: tuple[str, str] | None = None
        if node.tag.startswith(prefix) and node.tag[len(prefix) :] in _UNRUN_ELEMENTS:
            name = node.tag[len(prefix) :]
            found = (f"<camunda:{name}>", _UNRUN_ELEMENTS[name])
        else:
            for attribute in node.attrib:
                name = str(attribute)[len(prefix) :] if str(attribute).startswith(prefix) else ""
                if name in _UNRUN_ATTRIBUTES:
                    found = (f"camunda:{name}", _UNRUN_ATTRIBUTES[name])
                    break
        if found is not None:
            element_id = owner(node)
            raise ProcessDefinitionError(
                f"{where}: {element_id} uses {found[0]}, which this engine does not run ({found[1]})",
                path=where,
                element_id=element_id,
                extension=found[0],
            )


#: Expression languages a modeler may write that this engine does not run (its expressions are Python).
_FOREIGN_LANGUAGES = {
    "feel": "FEEL",
    "juel": "JUEL",
    "javascript": "JavaScript",
    "js": "JavaScript",
    "groovy": "Groovy",
}


def _check_language(node: Any, element_id: str, where: str) -> None:
    """Refuse, naming it, an expression in a language the engine does not run: a ``language`` attribute
    other than Python, or a JUEL ``${…}`` body (what Camunda Modeler users write) — rather than let it
    parse as Python by chance and run with Python's meaning."""
    language = (node.get("language") or "").strip()
    text = (node.text or "").strip()
    named = _FOREIGN_LANGUAGES.get(language.lower().rsplit("/", 1)[-1]) if language else None
    if language and named is None and language.lower() not in ("python", "text/x-python"):
        named = language
    if named is None and text.startswith(("${", "#{")) and text.endswith("}"):
        named = "JUEL"
    if named is not None:
        raise ProcessDefinitionError(
            f"{where}: the expression of {element_id} is {named}, which this engine does not run: write it in"
            f" Python over the process variables ({text[:80]!r})",
            path=where,
            element_id=element_id,
            language=named,
        )


def _text(node: Any, tag: str) -> str | None:
    child = node.find(f"bpmn:{tag}", _NS)
    text = (child.text or "").strip() if child is not None else ""
    return text or None


def _check_timer_definition(
    timer: Any, element_id: str, where: str, sandbox: Sandbox, table: TimeLimitTable | None
) -> str | None:
    """Check a ``<bpmn:timerEventDefinition>``: a ``timeDate`` (an instant or an expression giving one) or a
    ``timeDuration`` (an ISO-8601 duration, or an expression), with the calendar it names; return the limit
    name its expression passes to ``time_limit("name")``, if any."""
    named = [(a, timer.get(a)) for a in runtime.CALENDAR_ATTRIBUTES if timer.get(a) is not None]
    calendar = named[0][1].strip() if named else None
    time_date, time_duration = _text(timer, "timeDate"), _text(timer, "timeDuration")
    if calendar is not None and calendar not in CALENDARS:
        raise ProcessDefinitionError(
            f"{where}: timer {element_id} names calendar {calendar!r}; the calendars are "
            + ", ".join(f"{key} ({meaning})" for key, meaning in CALENDARS.items()),
            path=where,
            element_id=element_id,
            calendar=calendar,
        )
    if time_date is not None:
        if calendar is not None:
            raise ProcessDefinitionError(
                f"{where}: timer {element_id} names calendar {calendar!r}, which only a <bpmn:timeDuration>"
                " counts on (a timeDate's time_limit(...) counts by its entry in time_limits.yaml)",
                path=where,
                element_id=element_id,
                calendar=calendar,
            )
        return _check_timer(time_date, element_id, where, sandbox, table)
    if time_duration is not None:
        parts = parse_duration(time_duration)
        if parts is None:  # an expression, giving an instant (time_limit(...)) or a duration text
            return _check_timer(time_duration, element_id, where, sandbox, table)
        if calendar is not None:
            try:
                duration_limit(parts, calendar)
            except DurationRefused as refused:
                raise ProcessDefinitionError(
                    f"{where}: timer {element_id}: {time_duration!r} on calendar {calendar}: {refused}",
                    path=where,
                    element_id=element_id,
                    calendar=calendar,
                ) from None
        return None
    cycle_text = _text(timer, "timeCycle")
    if cycle_text is None:
        raise ProcessDefinitionError(
            f"{where}: timer {element_id} needs a <bpmn:timeDate>, a <bpmn:timeDuration> or a"
            " <bpmn:timeCycle> (conventions §4)",
            path=where,
            element_id=element_id,
        )
    _check_cycle(timer, cycle_text, calendar, element_id, where)
    return None


def _check_cycle(timer: Any, text: str, calendar: str | None, element_id: str, where: str) -> None:
    """A ``timeCycle`` is ``R<n>/<duration>`` (or ``R/<duration>``: until the task ends) on a non-interrupting
    boundary event: repeated reminders while a task waits (an interrupting one ends the task at its first
    firing, and an intermediate event is passed once, so a cycle there would mean nothing more)."""

    def refuse(problem: str) -> ProcessDefinitionError:
        return ProcessDefinitionError(
            f"{where}: timer {element_id}: <bpmn:timeCycle> {text!r}: {problem}",
            path=where,
            element_id=element_id,
        )

    cycle = parse_cycle(text)
    if cycle is None:
        raise refuse("write R<n>/<ISO 8601 duration> (R3/P1D), or R/<duration> to repeat until the task ends")
    event = timer.getparent()
    if event.tag != f"{{{BPMN_NS}}}boundaryEvent" or event.get("cancelActivity", "true") != "false":
        raise refuse('a cycle repeats only on a non-interrupting boundary event (cancelActivity="false")')
    if cycle.repeats == 0:
        raise refuse("R0 never fires")
    if calendar is not None:
        try:
            duration_limit(cycle.every, calendar)
        except DurationRefused as refused:
            raise refuse(f"on calendar {calendar}: {refused}") from None
    elif not any(cycle.every.values()):
        raise refuse("a zero duration would fire without end")


def _check_timer(
    text: str, element_id: str, where: str, sandbox: Sandbox, table: TimeLimitTable | None
) -> str | None:
    """Check a timer expression; return the limit name of its first literal ``time_limit("name")`` call."""
    if iso_literal(text) is not None:
        return None
    sandbox.compile(text, "eval", element_id=element_id)
    first_name: str | None = None
    for node in ast.walk(ast.parse(text, mode="eval")):
        if not (
            isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "time_limit"
        ):
            continue
        first = node.args[0] if node.args else None
        literal = isinstance(first, ast.Constant) and isinstance(first.value, str)
        if literal and (table is None or first.value not in table):  # type: ignore[union-attr]
            raise ProcessDefinitionError(
                f"{where}: timer {element_id} uses time_limit({first.value!r}), "  # type: ignore[union-attr]
                "which the time-limit table does not define",
                path=where,
                element_id=element_id,
                entry=first.value,  # type: ignore[union-attr]
            )
        if literal and first_name is None:
            first_name = first.value  # type: ignore[union-attr]
    return first_name
