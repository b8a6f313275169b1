"""Saved states: the workflow as compact JSON without its definition, zstd-compressed — a stock path and a
fast path that writes the same bytes.

The stock path (:func:`dump_state_stock`) is SpiffWorkflow's own converters (``BpmnWorkflowSerializer``'s
registry with the Camunda configuration), leaving out the process definition (stored once, in the definitions
table, and re-attached on load), and the stdlib's ``json.dumps``. The fast path (:func:`dump_state` with a
:class:`StateWriter`) builds the same JSON with orjson from per-task pieces, reusing a settled task's piece
while nothing it is made of changed; tests/engine/runtime/test_state_writer.py compares the two at every step
of every fixture. A load by the fast reader keeps each settled task's entry of the text it read as that piece
(:func:`_task_pieces`), so the first save after a load rewrites only the tasks that changed, as a save of a
cached workflow does. The private SpiffWorkflow names it reads are listed in runtime/private_names.py.

The JSON is what ``json.dumps(..., separators=(",", ":"), ensure_ascii=False)`` writes; tasks stay parent
before child (not sorted: SpiffWorkflow restores data deltas in that order).
"""

from __future__ import annotations

import json
import threading
import zlib
from collections.abc import Mapping
from copy import copy
from typing import Any
from uuid import UUID, SafeUUID

import orjson
import zstandard
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.event_definition import TimerConditionalEventDefinitionConverter
from SpiffWorkflow.bpmn.serializer.default.workflow import (
    BpmnWorkflowConverter,
    TaskConverter,
    WorkflowConverter,
)
from SpiffWorkflow.bpmn.specs.mixins.events.event_types import CatchingEvent
from SpiffWorkflow.camunda.serializer.config import CAMUNDA_CONFIG
from SpiffWorkflow.camunda.serializer.event_definition import MessageEventDefinitionConverter
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState

from efficacy_flow.engine.runtime.exceptions import LoadErrors
from efficacy_flow.engine.runtime.formats import STATE_FORMAT_VERSION, upgrade
from efficacy_flow.engine.runtime.specs import (
    ClockCycleEventDefinition,
    ClockTimeDateEventDefinition,
    EngineMessageEventDefinition,
)
from efficacy_flow.engine.runtime.walk import EngineWorkflow

__all__ = [
    "StateWriter",
    "compress_state",
    "decompress_state",
    "dump_state",
    "dump_state_stock",
    "load_state",
    "remap_state",
]


#: Values the stock converters pass through unchanged (``DefaultRegistry.restore`` returns them as they are).
_PLAIN = frozenset({str, int, float, bool, type(None)})


def _native(value: Any) -> bool:
    """Whether orjson writes ``value`` exactly as ``json.dumps`` would read back: str-keyed dicts, lists,
    strings, ints, bools, None and finite floats (orjson writes NaN and infinities as null)."""
    kind = type(value)
    if kind is dict:
        for key, item in value.items():
            if type(key) is not str:
                return False
            kind = type(item)
            if not (kind is str or item is None or kind is bool or kind is int) and not _native(item):
                return False
        return True
    if kind is str or kind is int or kind is bool or value is None:
        return True
    if kind is float:
        # Finite, and written alike: below 1e-4 orjson writes 0.000025 and 1e-7 where the stdlib writes
        # 2.5e-05 and 1e-07 (the same number, other bytes); at and above it every double is written alike.
        return bool(value == 0.0 or (abs(value) >= 1e-4 and value - value == 0.0))
    if kind is list or kind is tuple:
        return all(_native(v) for v in value)
    return False


class _FastTaskConverter(TaskConverter):  # type: ignore[misc]
    """The stock task converter's exact output (same keys, order and data delta), built without the generic
    per-value dispatch of the registry, which is most of the cost of saving a workflow."""

    def to_dict(self, task: Any) -> dict[str, Any]:
        return self.task_dict(task, {}, task.workflow.tasks)[0]

    def task_dict(self, task: Any, ids: _Ids, tasks: dict[UUID, Any]) -> tuple[dict[str, Any], bool]:
        """TaskConverter.to_dict(task) without ``typename``, and whether it is :func:`_native`.

        ``ids``: the workflow's id texts (see :func:`_ids`); ``tasks``: its task map.
        """
        parent = tasks.get(task._parent)  # task.parent, without the property call
        data, delta, internal, native = self._contents(task, parent)
        if internal is task.internal_data:
            internal = dict(internal)  # what registry.convert returns for plain values (a cleaned copy)
        changed = task.last_state_change
        dct = {
            "id": _text(ids, task.id),
            "parent": _text(ids, task._parent) if parent is not None else None,
            "children": [_text(ids, child) for child in task._children],
            "last_state_change": changed,
            "state": task.state,
            "task_spec": task.task_spec.name,
            "triggered": task.triggered,
            "internal_data": internal,
            "data": data,
            "delta": delta,
        }
        return dct, native and type(changed) is float and changed - changed == 0.0

    def piece(self, task: Any, key: UUID, parent: Any, ids: _Ids, typename: str) -> bytes | None:
        """The task's entry in the saved ``tasks`` map, ``"<key>":{...}``, as orjson writes
        ``registry.convert(task)``; None when a value is not :func:`_native` (or orjson refuses it).

        :meth:`task_dict` and one ``orjson.dumps``, minus its temporary objects: ``parent`` is the task's
        parent (``None`` for the root) and ``typename`` the one of :class:`Task`.
        """
        data, delta, internal, native = self._contents(task, parent)
        changed = task.last_state_change
        if not (native and type(changed) is float and changed - changed == 0.0):
            return None
        try:
            body = orjson.dumps(
                {
                    "id": _text(ids, task.id),
                    "parent": _text(ids, task._parent) if parent is not None else None,
                    "children": [_text(ids, child) for child in task._children],
                    "last_state_change": changed,
                    "state": task._state,  # Task.state, without the property call (the type is Task)
                    "task_spec": task.task_spec.name,
                    "triggered": task.triggered,
                    "internal_data": internal,
                    "data": data,
                    "delta": delta,
                    "typename": typename,
                }
            )
        except orjson.JSONEncodeError:
            return None
        return b'"' + _text(ids, key).encode("ascii") + b'":' + body

    def restore_tasks(
        self,
        dcts: dict[str, Any],
        workflow: Any,
        writer: StateWriter,
        pieces: list[bytes] | None = None,
    ) -> dict[UUID, Any] | None:
        """``mapping_from_dict(dcts, UUID, workflow=workflow)`` with the stock ``TaskConverter.from_dict`` for
        each task — the same tasks, states, links, internal data and data (tests/engine/runtime/
        test_state_reader.py compares the two) — with each id text parsed once and remembered in ``writer``
        (so the next save writes no id through ``str(UUID)``), and plain JSON values taken as parsed instead
        of passed through the registry's generic restore. None when a task is not a plain ``Task`` (then the
        caller takes the stock path).

        ``pieces``: each task's entry in the saved text, in order (:func:`_task_pieces`); a settled task's is
        kept in ``writer`` as the piece :meth:`_SpeclessWorkflowConverter.encoded` would write for it, so the
        first save after a load writes only the tasks that changed, as a save of a cached workflow does.
        """
        registry = self.registry
        specs = workflow.spec.task_specs
        top = workflow.top_workflow
        ids = writer.ids
        # Every task's id, parsed once: the map's keys are the task ids, which the links name.
        uuids: dict[str, UUID] = {}
        for text in dcts:
            made = uuids[text] = uuid_of(text)
            ids[id(made)] = (made, text)
        known = uuids.get

        def uid(text: str) -> UUID:  # an id that is not a key of the map (a damaged state)
            found = known(text)
            if found is None:
                found = uuids[text] = uuid_of(text)
                ids[id(found)] = (found, text)
            return found

        tasks: dict[UUID, Any] = {}
        workflow.tasks = tasks
        by_text: dict[str, Any] = {}  # the tasks so far by id text (a str hash is cached; a UUID's is not)
        new_task = object.__new__
        thread_id = Task.thread_id_pool
        cached = writer.pieces
        for index, dct in enumerate(dcts.values()):
            spec = specs.get(dct["task_spec"])
            if dct.get("typename") != "Task" or spec is None:
                writer.pieces = {}
                return None  # a task of another class, or a spec the definition lacks: the stock path
            task = new_task(Task)
            text = dct["id"]
            key = known(text) or uid(text)
            parent_text = dct["parent"]
            parent_id: UUID | None = None
            parent = None
            if parent_text is not None:
                parent_id = known(parent_text) or uid(parent_text)
                parent = by_text.get(parent_text)
                if parent is None:  # the same id written otherwise (upper case) than its task's key
                    parent = tasks.get(parent_id)
            internal = dct["internal_data"]
            if internal and not _plain(internal):
                internal = registry.restore(internal)
            state = dct["state"]
            delta = dct.get("delta")
            if delta and parent is not None:
                # DeepMerge.merge({}, parent.data): the parent's values, lists and dicts copied one level.
                inherited = parent.data
                data = {k: copy(v) if isinstance(v, _COPIED) else v for k, v in inherited.items()}
                updates = delta.get("updates")
                if updates:
                    data.update(updates if _plain(updates) else registry.restore(updates))
                for name in delta.get("deletions") or ():
                    data.pop(name, None)
            else:
                data = dct["data"]
                if data and not _plain(data):
                    data = registry.restore(data)
            # Task.__init__'s attributes (runtime/private_names.py; tests/engine/runtime/test_state_reader.py
            # compares them with a stock-restored task's), with the values from_dict gives them.
            task.__dict__ = {
                "id": key,
                "workflow": workflow,
                "_parent": parent_id,
                "_children": [known(child) or uid(child) for child in dct["children"]],
                "_state": state,
                "triggered": dct["triggered"],
                "task_spec": spec,
                "thread_id": thread_id,
                "data": data,
                "internal_data": internal,
                "last_state_change": dct["last_state_change"],
            }
            tasks[key] = task
            by_text[text] = task
            if state & _WAITING and isinstance(spec, CatchingEvent):
                top.event_manager.add_task(task)
            if pieces is not None and state & _SETTLED and (parent is None or parent._state & _SETTLED):
                piece = pieces[index]
                if len(text) == 36 and piece[1:37] == text.encode("ascii"):
                    stamp = _stamp(task, state, parent)
                    cached[id(task)] = (task, stamp, list(task._children), piece, parent)
        return tasks

    def _contents(self, task: Any, parent: Any) -> tuple[Any, dict[str, Any], dict[str, Any], bool]:
        """A task's ``data``, ``delta`` and ``internal_data`` as the stock converter writes them, and whether
        they are all :func:`_native`. Plain internal data is returned as the task's own dict (the stock
        conversion would be an equal copy: plain values are neither callables nor modules)."""
        after = task.data
        if parent is None:
            data: Any = after
            delta: dict[str, Any] = {}
            native = not after or _native(after)
        else:
            # DeepMerge.get_updated_keys / get_deleted_keys: the same comparisons, in the same order. The keys
            # of the parent's data also in the task's are counted: deletions are only looked for when one is
            # missing.
            before = parent.data
            data = {}
            updates = {}
            common = 0
            for k, v in after.items():
                if k in before:
                    common += 1
                    if v != before[k]:
                        updates[k] = v
                else:
                    updates[k] = v
            deletions = []
            native = not updates or _native(updates)
            if common != len(before):
                for k in before:
                    if k not in after:
                        deletions.append(k)
                        if type(k) is not str:  # _native(deletions), without a generator for text keys
                            native = native and _native(k)
            delta = {"updates": updates, "deletions": deletions}
        internal = task.internal_data
        if internal:
            for v in internal.values():
                if type(v) not in _PLAIN:
                    internal = self.registry.convert(internal)
                    break
            native = native and _native(internal)
        return data, delta, internal, native


#: How :func:`uuid_of` makes a UUID: ``object.__new__`` and ``object.__setattr__``, as ``UUID.__init__`` does.
_new = object.__new__
_set = object.__setattr__
_UNKNOWN = SafeUUID.unknown


def uuid_of(text: str) -> UUID:
    """``UUID(int=int(text.replace("-", ""), 16))`` — the stock reader's parse of a task id — without the
    generic checks of ``UUID.__init__`` (its keyword handling and version logic), which cost more than the
    parse: the same value, ``is_safe`` unknown, as that call gives (tests/engine/runtime/test_state_reader.py
    compares them).

    Raises:
        ValueError: the text is not hexadecimal, or its value does not fit 128 bits (as ``UUID`` says).
    """
    value = int(text.replace("-", ""), 16)
    if value >> 128:
        return UUID(int=value)  # raises ValueError, as the stock parse does
    made: UUID = _new(UUID)
    _set(made, "int", value)
    _set(made, "is_safe", _UNKNOWN)
    return made


_WAITING = TaskState.WAITING
#: The values DeepMerge.merge copies (one level deep) when a task takes its parent's data.
_COPIED = (dict, list, set)
#: Task states whose tasks are not written to in place (see :meth:`_SpeclessWorkflowConverter.encoded`).
_SETTLED = TaskState.PREDICTED_MASK | TaskState.FUTURE | TaskState.FINISHED_MASK
#: A task's cached JSON piece: the task, its stamp, its children then, the piece, its parent task.
_Piece = tuple[Any, tuple[Any, ...], list[Any], bytes, Any]

#: Id texts by ``id()`` of the UUID object, which is kept alongside so that a recycled ``id()`` never
#: matches (hashing a UUID runs Python code; hashing an int does not).
_Ids = dict[int, tuple[UUID, str]]


def _stamp(task: Any, state: int, parent: Any) -> tuple[Any, ...]:
    """What a settled task's cached piece is made of (see :meth:`_SpeclessWorkflowConverter.encoded`): its
    state, state-change time and ``triggered`` flag, and the identity and size of its data, its internal
    data and its parent's data."""
    data, internal = task.data, task.internal_data
    parent_data = parent.data if parent is not None else None
    return (
        state,
        task.last_state_change,
        task.triggered,
        data,
        len(data),
        internal,
        len(internal),
        parent_data,
        -1 if parent_data is None else len(parent_data),
    )


class StateWriter:
    """What the fast path remembers of one workflow between saves (kept by its handle, never on the workflow):
    the text of every task id object it has seen (task ids never change, and ``str(UUID)`` is slow), and the
    JSON pieces of settled tasks (see :meth:`_SpeclessWorkflowConverter.encoded`)."""

    __slots__ = ("ids", "pieces")

    def __init__(self) -> None:
        self.ids: _Ids = {}
        self.pieces: dict[int, _Piece] = {}


def _text(ids: _Ids, key: UUID) -> str:
    found = ids.get(id(key))
    if found is None or found[0] is not key:
        found = ids[id(key)] = (key, str(key))
    return found[1]


#: The start of a saved state whose workflow data and correlations are empty, up to ``last_task``'s value.
_HEAD = b'{"format_version":%d,"workflow":{"data":{},"correlations":{},"last_task":' % STATE_FORMAT_VERSION
#: Typenames as JSON strings.
_TYPENAMES: dict[str, bytes] = {}


def _quoted(name: str) -> bytes:
    found = _TYPENAMES.get(name)
    if found is None:
        found = _TYPENAMES[name] = orjson.dumps(name)
    return found


def _fields_native(dct: Mapping[str, Any]) -> bool:
    """Whether a workflow's own fields (all but its tasks) are :func:`_native`."""
    return (
        _native(dct["data"])
        and _native(dct["correlations"])
        and _native(dct["subprocesses"])
        and _native(dct["bpmn_events"])
        and type(dct["success"]) is bool
        and type(dct["completed"]) is bool
    )


class _SpeclessWorkflowConverter(BpmnWorkflowConverter):  # type: ignore[misc]
    """Serializes a workflow without its specs (they live once, in the definitions table)."""

    def __init__(self, target_class: Any, registry: Any, tasks: _FastTaskConverter | None) -> None:
        super().__init__(target_class, registry, typename="BpmnWorkflow")
        #: The fast task converter (None in the stock registry, whose tasks SpiffWorkflow's converter writes).
        self.tasks = tasks

    def to_dict(self, workflow: Any) -> dict[str, Any]:
        # WorkflowConverter.to_dict (the fast task converter writes each task), less the definition.
        dct: dict[str, Any] = WorkflowConverter.to_dict(self, workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def _head(self, workflow: Any, ids: _Ids) -> dict[str, Any]:
        """The workflow's fields that come before its tasks, as WorkflowConverter.to_dict writes them."""
        last = workflow.last_task
        return {
            "data": self.registry.convert(self.registry.clean(workflow.data)),
            "correlations": workflow.correlations,
            "last_task": _text(ids, last.id) if last is not None else None,
            "success": workflow.success,
            "completed": workflow.completed,
        }

    def encoded(self, workflow: Any, writer: StateWriter) -> bytes | None:
        """``orjson.dumps({"format_version": ..., "workflow": to_dict(workflow)})`` from per-task pieces.

        The same bytes as :func:`dump_state`'s whole-dict path (tests/engine/runtime/test_state_writer.py
        compares them with the stock converters at every step), but a task that is *settled* — predicted
        (MAYBE, LIKELY, FUTURE) or finished (COMPLETED, ERROR, CANCELLED), with a settled parent — is written
        once and its JSON piece reused while nothing it is made of has changed: its state, state-change time,
        ``triggered`` flag and children, and the identity and size of its data, its internal data and its
        parent's data. That relies on one property of SpiffWorkflow and this engine, checked by the tests
        above and by a simulated month of the shipped processes: the data of a settled task is never changed
        in place (SpiffWorkflow copies data into a task when it becomes ready, and only READY, STARTED and
        WAITING tasks — never cached — are written to). A piece is written by :meth:`_FastTaskConverter.piece`
        with the parent found on the first save (a task's parent never changes). The workflow's own fields
        are written as constants when they are empty (the usual case), and converted and checked otherwise;
        nothing of them is cached. None when a value needs the stdlib, or a task is not a plain :class:`Task`
        (then the caller takes the whole-dict path).
        """
        registry = self.registry
        ids = writer.ids
        typename = registry.typenames[Task]
        all_tasks = workflow.tasks
        assert self.tasks is not None, "the fast path runs on the fast registry's converter"
        piece_of = self.tasks.piece
        cached = writer.pieces
        kept: dict[int, _Piece] = {}
        pieces: list[bytes] = []
        append = pieces.append
        for key, task in all_tasks.items():
            if type(task) is not Task:  # e.g. a subclass with its own converter: the whole-dict path
                return None
            state = task._state
            tid = id(task)
            entry = cached.get(tid)
            if entry is not None and entry[0] is task:
                parent = entry[4]  # a task's parent never changes (hashing its UUID costs more than this)
            else:
                entry = None
                parent = all_tasks.get(task._parent)
            if state & _SETTLED and (parent is None or parent._state & _SETTLED):
                stamp = _stamp(task, state, parent)
                if entry is not None and entry[1] == stamp and entry[2] == task._children:
                    kept[tid] = entry
                    append(entry[3])
                    continue
            else:
                stamp = None
            piece = piece_of(task, key, parent, ids, typename)
            if piece is None:
                return None
            if stamp is not None:
                kept[tid] = (task, stamp, list(task._children), piece, parent)
            append(piece)
        writer.pieces = kept
        tasks = b",".join(pieces)
        last = workflow.last_task
        root = _text(ids, workflow.task_tree.id)
        data = workflow.data
        success, completed = workflow.success, workflow.completed
        if (
            not data
            and type(data) is dict
            and not workflow.correlations
            and type(workflow.correlations) is dict
            and not workflow.subprocesses
            and not workflow.bpmn_events
            and type(workflow.bpmn_events) is list
            and type(success) is bool
            and type(completed) is bool
        ):
            # The common case, written without converting or checking anything: the stock conversion of an
            # empty data dict, correlations map or subprocess map is {}, of an empty event list [].
            return b"".join(
                (
                    _HEAD,
                    b'"' + _text(ids, last.id).encode("ascii") + b'"' if last is not None else b"null",
                    b',"success":true,"completed":' if success else b',"success":false,"completed":',
                    b'true,"tasks":{' if completed else b'false,"tasks":{',
                    tasks,
                    b'},"root":"',
                    root.encode("ascii"),
                    b'","subprocesses":{},"bpmn_events":[],"typename":',
                    _quoted(registry.typenames[type(workflow)]),
                    b"}}",
                )
            )
        head = self._head(workflow, ids)
        tail = {
            "root": root,
            "subprocesses": self.mapping_to_dict(workflow.subprocesses),
            "bpmn_events": registry.convert(workflow.bpmn_events),
            "typename": registry.typenames[type(workflow)],
        }
        if not _fields_native({**head, **tail}):
            return None
        try:
            # {"format_version":N,"workflow":{<head>,"tasks":{<pieces>},<tail>}}
            start = orjson.dumps({"format_version": STATE_FORMAT_VERSION, "workflow": head})[:-2]
            end = orjson.dumps(tail)[1:]
        except orjson.JSONEncodeError:
            return None
        return b"".join((start, b',"tasks":{', tasks, b"},", end, b"}"))

    def from_dict(
        self,
        dct: dict[str, Any],
        spec: Any = None,
        subprocess_specs: Any = None,
        writer: StateWriter | None = None,
        pieces: list[bytes] | None = None,
    ) -> Any:
        workflow = self.target_class(spec, subprocess_specs, deserializing=True)
        tasks = None
        if writer is not None and self.tasks is not None:
            tasks = self.tasks.restore_tasks(dct["tasks"], workflow, writer, pieces)
        if tasks is None:
            tasks = self.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
        workflow.tasks = tasks
        workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


def _registry(fast: bool) -> tuple[Any, Any]:
    registry = BpmnWorkflowSerializer.configure(CAMUNDA_CONFIG)
    # Registered under the stock type names, so saved states read the same with or without this engine.
    TimerConditionalEventDefinitionConverter(
        ClockTimeDateEventDefinition, registry, typename="TimeDateEventDefinition"
    )
    TimerConditionalEventDefinitionConverter(
        ClockCycleEventDefinition, registry, typename="CycleTimerEventDefinition"
    )
    MessageEventDefinitionConverter(EngineMessageEventDefinition, registry, typename="MessageEventDefinition")
    # The fast registry replaces the stock TaskConverter (same output, also inside subprocesses).
    tasks = _FastTaskConverter(Task, registry) if fast else None
    return registry, _SpeclessWorkflowConverter(EngineWorkflow, registry, tasks)


_REGISTRY, _WORKFLOWS = _registry(fast=True)
_STOCK_REGISTRY, _ = _registry(fast=False)


def dump_state(workflow: Any, writer: StateWriter) -> bytes:
    """The saved state of a workflow by the fast path: the same bytes as :func:`dump_state_stock`.

    The fast path writes a workflow whose tasks are all plain ``Task`` objects holding JSON data (the engine
    checks the data after every step, runtime/json_data.py); anything else goes through the stock path.
    """
    encoded = _WORKFLOWS.encoded(workflow, writer)
    return compress_state(encoded) if encoded is not None else dump_state_stock(workflow)


def dump_state_stock(workflow: Any) -> bytes:
    """The saved state of a workflow through SpiffWorkflow's own converters and the stdlib's JSON."""
    body = {"format_version": STATE_FORMAT_VERSION, "workflow": _STOCK_REGISTRY.convert(workflow)}
    return compress_state(_stdlib_json(body))


def _stdlib_json(body: Any) -> bytes:
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def compress_state(encoded: bytes) -> bytes:
    """A state's JSON bytes as stored: one zstd frame (level 1, content size recorded).

    zstd rather than zlib: about 14 µs instead of 19 µs for a 6.5 KB state, and 6 % smaller (1.28 KB against
    1.36 KB). LZ4 (3 µs) was tried and dropped: its states were 40 % larger, which at scale pushed a waiting
    instance's row past half a 4 KB page (one row per page: 5.7 KB per instance instead of 3.6 KB).
    """
    compressor = getattr(_CODECS, "compressor", None)
    if compressor is None:  # zstd contexts are not thread-safe: one per thread
        compressor = _CODECS.compressor = zstandard.ZstdCompressor(level=1)
    compressed: bytes = compressor.compress(encoded)
    return compressed


#: Per-thread zstd contexts (reusing a context is about twice as fast as a fresh one per call).
_CODECS = threading.local()
#: The first bytes of a zstd frame. States written before zstd was used are zlib streams (first byte 0x78).
_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
#: The largest decompressed state accepted: a damaged size field must not allocate gigabytes.
_MAX_STATE = 256 * 1024 * 1024


def decompress_state(state: bytes) -> bytes:
    """The JSON text of a saved state (zstd, or zlib as written by earlier versions).

    Raises:
        ValueError: a damaged zstd frame, or one that claims an implausible size. zlib.error: a damaged zlib
            stream.
    """
    if state[:4] == _ZSTD_MAGIC:
        try:
            size = zstandard.frame_content_size(state)
        except zstandard.ZstdError as exc:
            raise ValueError(f"damaged zstd state: {exc}") from exc
        if size < 0 or size > _MAX_STATE:  # -1: size unknown (this engine always records it)
            raise ValueError(f"zstd state of implausible size {size}")
        decompressor = getattr(_CODECS, "decompressor", None)
        if decompressor is None:
            decompressor = _CODECS.decompressor = zstandard.ZstdDecompressor()
        try:
            return bytes(decompressor.decompress(state))
        except zstandard.ZstdError as exc:
            raise ValueError(f"damaged zstd state: {exc}") from exc
    return zlib.decompress(state)


def load_state(
    state: bytes,
    spec: Any,
    subprocess_specs: Mapping[str, Any],
    script_engine: Any,
    instance_id: str,
    writer: StateWriter | None = None,
) -> Any:
    """Rebuild a workflow from its saved state and its (shared, already parsed) definition.

    With a ``writer`` the fast reader restores the tasks (and seeds the writer for the next save); without,
    SpiffWorkflow's own converters do (the stock path).

    Raises:
        StoreError: the state cannot be read (damaged, truncated, from a newer release, unrestorable).
    """
    with LoadErrors(instance_id):
        encoded = decompress_state(state)
        body = upgrade(_parse(encoded))
        specs = dict(subprocess_specs)
        if writer is None:
            workflow = _STOCK_REGISTRY.restore(body["workflow"], spec=spec, subprocess_specs=specs)
        else:
            pieces = _task_pieces(encoded, body["workflow"])
            workflow = _REGISTRY.restore(
                body["workflow"], spec=spec, subprocess_specs=specs, writer=writer, pieces=pieces
            )
        workflow.script_engine = script_engine
    return workflow


#: How a task's entry in a saved state ends (``typename`` is the last key the fast path writes).
_TASK_END = b'"typename":"Task"}'
_TASKS_START = b',"tasks":{'


def _task_pieces(encoded: bytes, workflow: Any) -> list[bytes] | None:
    """Each task's entry (``"<id>":{...}``) in a saved state's text, in the order of its ``tasks`` map, when
    the text is laid out as :meth:`_SpeclessWorkflowConverter.encoded` writes the common case (this format,
    empty workflow data and correlations, no subprocess, no pending event, every task a plain ``Task``);
    None otherwise.

    The entries are found by the text that ends one (``"typename":"Task"}``, then ``,``): inside a JSON
    string its quotes would be escaped, so it occurs only where an entry ends or in a dict of the data that
    names a ``typename`` — and then the count of entries exceeds the count of tasks, and nothing is kept.
    :meth:`_FastTaskConverter.restore_tasks` also checks each entry's id against its task's.
    """
    if type(workflow) is not dict or not encoded.startswith(_HEAD):
        return None
    tasks, root, typename = workflow.get("tasks"), workflow.get("root"), workflow.get("typename")
    if type(tasks) is not dict or type(root) is not str or type(typename) is not str:
        return None
    start = encoded.find(_TASKS_START, len(_HEAD))  # only an id, null or booleans come between
    tail = b"".join(
        (
            b'},"root":"',
            root.encode("utf-8"),
            b'","subprocesses":{},"bpmn_events":[],"typename":',
            _quoted(typename),
            b"}}",
        )
    )
    if start < 0 or not encoded.endswith(tail):
        return None
    section = encoded[start + len(_TASKS_START) : len(encoded) - len(tail)]
    parts = section.split(_TASK_END + b",")
    if len(parts) != len(tasks) or not parts[-1].endswith(_TASK_END):
        return None
    last = parts.pop()
    pieces = [part + _TASK_END for part in parts]
    pieces.append(last)
    return pieces


def _plain(value: Any) -> bool:
    """Whether the registry's restore would give back ``value`` as it is (equal, nothing converted): no dict
    in it names a ``typename``."""
    kind = type(value)
    if kind is dict:
        if "typename" in value:
            return False
        for item in value.values():
            kind = type(item)
            if (kind is dict or kind is list) and not _plain(item):
                return False
        return True
    if kind is list:
        for item in value:
            kind = type(item)
            if (kind is dict or kind is list) and not _plain(item):
                return False
    return True


def _parse(encoded: bytes) -> Any:
    try:
        return orjson.loads(encoded)
    except orjson.JSONDecodeError:  # NaN, Infinity, huge integers: written by the stdlib, read by it
        return json.loads(encoded.decode("utf-8"))


#: The states of a task that is under way (not only predicted, not finished): one that does not map stops a
#: migration with its element named.
_UNDER_WAY = TaskState.READY | TaskState.WAITING | TaskState.STARTED | TaskState.ERROR


def remap_state(
    state: bytes, mapping: Mapping[str, str], known: frozenset[str], instance_id: str
) -> tuple[bytes, list[tuple[str, bool]]]:
    """A saved state whose tasks name the elements of another definition: every task's element id (its
    ``task_spec``, and the ``<id>.BoundaryEventSplit``-style names SpiffWorkflow derives from it) renamed
    by ``mapping`` (identity for ids it does not name).

    Returns:
        The state (compressed, the current format), and the tasks whose element ``known`` (the new
        definition's task spec names) lacks, as (element id, under way).

    Raises:
        StoreError: the state cannot be read.
    """
    with LoadErrors(instance_id):
        body = upgrade(_parse(decompress_state(state)))
    missing: dict[str, bool] = {}

    def rename(workflow: Any) -> None:
        for task in (workflow.get("tasks") or {}).values():
            name = str(task.get("task_spec"))
            element, dot, rest = name.partition(".")
            renamed = mapping.get(element, element) + dot + rest
            task["task_spec"] = renamed
            if renamed not in known:
                under_way = bool(int(task.get("state", 0)) & _UNDER_WAY)
                missing[renamed] = missing.get(renamed, False) or under_way
        for subprocess in (workflow.get("subprocesses") or {}).values():
            rename(subprocess)

    rename(body.get("workflow") or {})
    try:
        encoded = orjson.dumps(body)
    except TypeError:  # NaN or huge integers a script left: the stdlib writes them, as dump_state does
        encoded = _stdlib_json(body)
    return compress_state(encoded), sorted(missing.items())
