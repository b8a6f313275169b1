"""``check_processes(folder)``: what a process designer runs on a folder before committing (issue 15, item 4).

It deploys the folder as :class:`Engine` does (on a throwaway SQLite file), and then checks what deployment
alone does not: rules that span files. Each finding names the file and the element:

- **deployment** (error): anything deployment refuses — a BPMN, DMN or YAML file that does not parse or fit
  its model, an unsafe expression, an unknown limit name — with the file and element the error names;
- **warning before limit** (error): a non-interrupting timer and an interrupting one on the same task, both
  counting by time_limits.yaml, where the first does not come before the second (same unit, default limits and
  each variant); and a ladder's warning that never fires because it is as long as the limit (warning);
- **text and table** (warning): a documentation or DMN description that names a limit (by name or label) and
  states periods none of which is the limit's in time_limits.yaml — the text still says 5个工作日 where the
  table now says 3个工作日;
- **a schema per process** (warning): a process without an entry in schemas.yaml accepts any start data;
- **no numbers in diagrams** (warning): an element name holding a period (``3个工作日届满``): the number
  belongs in time_limits.yaml, where a jurisdiction edits it.

(A process id that is not its file's name is a deployment error.)
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from efficacy_flow._parsing import parse_xml
from efficacy_flow.calendar import TimeLimit
from efficacy_flow.errors import EfficacyFlowError, InvalidInput, InvalidTimeLimit, ProcessDefinitionError

__all__ = ["ProcessFinding", "check_processes"]

_BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
_DMN = "https://www.omg.org/spec/DMN/20191111/MODEL/"
#: A period as statutes and diagrams write it: 5个工作日, 24小时, 十五日, 1个月.
_PERIOD = re.compile(r"([0-9]+|[一二三四五六七八九十百两]+)\s*(个工作日|工作日|小时|分钟|个月|日|天)")


@dataclass(frozen=True, slots=True)
class ProcessFinding:
    """One finding: the file, the element (None: the file as a whole), ``"error"`` or ``"warning"``, and
    what is wrong."""

    file: str
    element: str | None
    severity: str
    message: str

    def line(self) -> str:
        """``file:element: severity: message``, as the command prints it."""
        return f"{self.file}:{self.element or '-'}: {self.severity}: {self.message}"


def check_processes(folder: str | Path) -> list[ProcessFinding]:
    """Check a folder of processes: deploy it as the engine would, then the cross-file rules above; return the
    findings, errors first, then by file and element.

    Raises:
        InvalidInput: ``folder`` is not a folder.
    """
    root = Path(folder) if isinstance(folder, str | Path) else None
    if root is None or not root.is_dir():
        raise InvalidInput(f"{folder}: not a folder of processes", argument="folder")
    found: list[ProcessFinding] = []
    deployments = _deploy(root, found)
    table = next((d.time_limits for d in deployments if d.time_limits is not None), None)
    bpmn_files = sorted(root.glob("*.bpmn"))
    trees = {file.name: _tree(file) for file in bpmn_files}
    for dep in deployments:
        file = Path(dep.source.filename).name
        if not dep.source.schema:
            found.append(
                ProcessFinding(
                    file, dep.process_id, "warning", "no entry in schemas.yaml: any start data is taken"
                )
            )
        tree = trees.get(file)
        if tree is not None and table is not None:
            found += _warnings_before_limits(file, tree, dep, table)
    for file, tree in trees.items():
        if tree is not None:
            found += _numbers_in_names(file, tree)
    if table is not None:
        found += _ladders(table)
        texts = [
            (name, text, element)
            for name, tree in trees.items()
            if tree is not None
            for text, element in _texts(tree, _BPMN, ("documentation",))
        ]
        for dmn in sorted(root.glob("*.dmn")):
            tree = _tree(dmn)
            if tree is not None:
                texts += [(dmn.name, text, element) for text, element in _texts(tree, _DMN, ("description",))]
        found += _texts_against_table(texts, table)
    return sorted(found, key=lambda f: (f.severity != "error", f.file, f.element or "", f.message))


def _deploy(folder: Path, found: list[ProcessFinding]) -> list[Any]:
    """Deploy the folder on a throwaway store; its deployments, or none (with the error as a finding)."""
    from efficacy_flow.engine._engine import Engine

    with tempfile.TemporaryDirectory(prefix="efficacy-check-") as scratch:
        try:
            engine = Engine(f"sqlite:///{Path(scratch) / 'check.db'}", folder)
        except EfficacyFlowError as failed:
            fields = failed.fields
            path = fields.get("path")
            file = Path(str(path)).name if path else folder.name
            element = fields.get("element_id") or fields.get("decision") or fields.get("entry")
            found.append(ProcessFinding(file, str(element) if element else None, "error", str(failed)))
            return []
        try:
            return list(engine._current.values())
        finally:
            engine.store.close()


def _tree(file: Path) -> Any:
    try:
        return parse_xml(file.read_bytes(), str(file), ProcessDefinitionError)
    except (OSError, ProcessDefinitionError):
        return None  # deployment reports it


def _texts(tree: Any, ns: str, tags: Iterable[str]) -> list[tuple[str, str]]:
    found = []
    for tag in tags:
        for node in tree.iter(f"{{{ns}}}{tag}"):
            owner = node.getparent()
            found.append(((node.text or "").strip(), str(owner.get("id") or "")))
    return [(text, element) for text, element in found if text]


def _periods(text: str) -> set[TimeLimit]:
    found = set()
    for match in _PERIOD.finditer(text):
        try:
            found.add(TimeLimit.parse(match.group(0).replace("天", "日")))
        except InvalidTimeLimit:
            continue
    return found


def _limits_of(entry: Any) -> set[TimeLimit]:
    """The periods a text about the entry may state: its limit and its variants' (an extension cap or a
    ladder's periods are not the limit, and a text stating only those about the limit is what the check
    is for)."""
    return {entry.limit, *(v.limit for v in entry.variants)}


def _texts_against_table(texts: list[tuple[str, str, str]], table: Any) -> list[ProcessFinding]:
    found = []
    for name, entry in table.entries.items():
        own = _limits_of(entry)
        shown = ", ".join(sorted({str(x) for x in (entry.limit, *(v.limit for v in entry.variants))}))
        for file, text, element in texts:
            if name not in text and entry.label not in text:
                continue
            stated = _periods(text)
            if stated and not stated & own:
                said = ", ".join(sorted(str(x) for x in stated))
                found.append(
                    ProcessFinding(
                        file,
                        element or None,
                        "warning",
                        f"the text names {name} ({entry.label}) and says {said},"
                        f" but time_limits.yaml says {shown}",
                    )
                )
    return found


def _ladders(table: Any) -> list[ProcessFinding]:
    found = []
    for name, entry in table.entries.items():
        ladder = entry.ladder
        before = ladder.warning_before if ladder is not None else None
        if before is not None and before.unit == entry.limit.unit and before.n >= entry.limit.n:
            found.append(
                ProcessFinding(
                    "time_limits.yaml",
                    name,
                    "warning",
                    f"the ladder's warning ({before}) is as long as the limit ({entry.limit}):"
                    " it never fires",
                )
            )
    return found


def _warnings_before_limits(file: str, tree: Any, dep: Any, table: Any) -> list[ProcessFinding]:
    limits: Mapping[str, str] = dep.timer_limits
    attached: Mapping[str, str] = dep.timer_attachments
    interrupting = {
        str(node.get("id")): node.get("cancelActivity", "true") != "false"
        for node in tree.iter(f"{{{_BPMN}}}boundaryEvent")
    }
    found = []
    by_task: dict[str, list[str]] = {}
    for timer, task in attached.items():
        if timer in limits:
            by_task.setdefault(task, []).append(timer)
    for task, timers in sorted(by_task.items()):
        warnings = [t for t in timers if not interrupting.get(t, True)]
        hard = [t for t in timers if interrupting.get(t, True)]
        for early in warnings:
            for late in hard:
                problem = _not_before(table.entries.get(limits[early]), table.entries.get(limits[late]))
                if problem:
                    found.append(
                        ProcessFinding(
                            file,
                            early,
                            "error",
                            f"the warning {limits[early]} on {task} does not come before the limit "
                            f"{limits[late]} ({problem})",
                        )
                    )
    return found


def _numbers_in_names(file: str, tree: Any) -> list[ProcessFinding]:
    found = []
    for node in tree.iter():
        name = node.get("name") if isinstance(node.tag, str) else None
        if name and _PERIOD.search(name):
            found.append(
                ProcessFinding(
                    file,
                    str(node.get("id") or ""),
                    "warning",
                    f"the name {name!r} holds a period: put the number in time_limits.yaml",
                )
            )
    return found


def _not_before(early: Any, late: Any) -> str | None:
    """Why the early entry's limits do not come before the late one's (same unit; default and each variant
    of the late entry against the early entry's choice for the same keys), or None."""
    if early is None or late is None:
        return None
    pairs = [(early.limit, late.limit)]
    for variant in late.variants:
        pairs.append((early.choose(**variant.when).limit, variant.limit))
    for warning, limit in pairs:
        if warning.unit == limit.unit and warning.n >= limit.n:
            return f"{warning} is not shorter than {limit}"
    return None
