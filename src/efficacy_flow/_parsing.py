"""Hardened parsing of the XML and YAML files people edit, and validation of what they hold.

Process designers and policy owners edit BPMN and DMN files in a modeler and YAML files by hand; a file can
also come from someone who means harm. Every such file is read here, once:

- :func:`parse_xml` parses XML from bytes (so the declared encoding is honoured) with lxml, never resolving an
  entity, loading a DTD or touching the network, and refuses a DOCTYPE, an entity and an XInclude outright.
- :func:`load_yaml` reads YAML with PyYAML's safe loader and refuses anchors and aliases (the alias bomb) and
  duplicate mapping keys (PyYAML would silently keep the last).
- :func:`validate_file` checks the loaded data against the file's pydantic model (a :class:`FileModel`).

Each raises the error type its caller names (``ProcessDefinitionError`` for process files,
``CalendarDataError`` for holiday data, ``DecisionTableError`` for DMN), with ``path`` and, where the file has
a place, ``line`` and ``column`` (or ``entry``) fields and a message naming the file.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Mapping
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Annotated, Any, NoReturn, TypeVar

import yaml
from lxml import etree
from pydantic import AfterValidator, BaseModel, ConfigDict, PlainValidator, ValidationError, WithJsonSchema
from pydantic_core import ErrorDetails
from yaml.composer import Composer
from yaml.constructor import ConstructorError
from yaml.nodes import MappingNode, Node

from efficacy_flow.errors import EfficacyFlowError

__all__ = [
    "MAX_FILE_BYTES",
    "FileModel",
    "JsonScalar",
    "NonEmptyText",
    "load_yaml",
    "parse_xml",
    "read_file",
    "validate_file",
    "validation_problems",
    "yaml_text",
]

#: The largest file read (bytes): far above any real process, table or data file, far below a memory problem.
MAX_FILE_BYTES = 10 * 1024 * 1024

_XML_OPTIONS: Mapping[str, bool] = {
    "resolve_entities": False,
    "no_network": True,
    "load_dtd": False,
    "dtd_validation": False,
    "huge_tree": False,
    "remove_pis": False,
}
_XINCLUDE = ("{http://www.w3.org/2001/XInclude}include", "{http://www.w3.org/2003/XInclude}include")
_DECLARED_ENCODING = re.compile(rb"""<\?xml\s[^>]*?encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")
# Longest first: the UTF-32 little-endian mark starts with the UTF-16 one. A UTF-8 mark is decoded as U+FEFF,
# which the YAML parser skips (and the text stays what reading it as UTF-8 always gave: the same hashes).
_YAML_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def _fail(
    error: type[EfficacyFlowError],
    path: str,
    problem: str,
    line: int | None = None,
    column: int | None = None,
    **fields: Any,
) -> NoReturn:
    where = f"{path}, line {line}" if line is not None else path
    raise error(f"{where}: {problem}", path=path, line=line, column=column, problem=problem, **fields)


def read_file(
    path: Path | Traversable, error: type[EfficacyFlowError], *, fields: Mapping[str, Any] | None = None
) -> bytes:
    """The bytes of a file people edit.

    Raises:
        EfficacyFlowError: of type ``error``: the file cannot be read (``path``, ``problem``, and ``fields``).
    """
    try:
        return path.read_bytes()
    except OSError as exc:
        _fail(error, str(path), f"cannot read the file: {exc.strerror or exc}", **dict(fields or {}))


def _within_cap(
    data: bytes | str, path: str, error: type[EfficacyFlowError], max_bytes: int, **fields: Any
) -> bytes:
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    if len(raw) > max_bytes:
        _fail(error, path, f"the file is {len(raw):,} bytes, over the limit of {max_bytes:,} bytes", **fields)
    return raw


def _place(data: bytes, offset: int) -> tuple[int, int]:
    line_start = data.rfind(b"\n", 0, offset) + 1
    return data.count(b"\n", 0, offset) + 1, offset - line_start + 1


# --- XML ----------------------------------------------------------------------------------------------------


class _DoctypeSeen(Exception):
    pass


class _RootReached(Exception):
    pass


class _Prolog:
    """A parser target that stops at the root element, noting whether a DOCTYPE came before it."""

    def doctype(self, name: str, public_id: str | None, system_id: str | None) -> None:
        raise _DoctypeSeen(name)

    def start(self, tag: str, attributes: Any) -> None:
        raise _RootReached

    def close(self) -> None:
        return None


def parse_xml(
    data: bytes | str,
    path: str,
    error: type[EfficacyFlowError],
    *,
    max_bytes: int = MAX_FILE_BYTES,
    fields: Mapping[str, Any] | None = None,
) -> Any:
    """Parse an XML document (a BPMN or DMN file) with every dangerous feature refused; return its root.

    Bytes are decoded as the document declares (UTF-8 when it declares nothing; UTF-16 and UTF-32 by their
    byte-order mark); a ``str`` is taken as already decoded, whatever its declaration says. lxml never
    resolves an entity, loads a DTD or reaches the network, and keeps its limits on tree depth and size; on
    top of that a document is refused when it has a DOCTYPE (internal or external subset: BPMN and DMN never
    need one, and it is how entity bombs and external fetches get in), an entity reference (other than XML's
    five and character references) or an XInclude element.

    Args:
        data: the file's bytes (or its text).
        path: the file's name, for errors.
        error: the error type to raise (``ProcessDefinitionError``, ``DecisionTableError``, ...).
        max_bytes: the largest document accepted (default :data:`MAX_FILE_BYTES`, 10 MB).
        fields: more fields every error carries (for example ``decision=None`` for DMN).

    Returns:
        The root element (an ``lxml.etree._Element``).

    Raises:
        EfficacyFlowError: of type ``error``, with ``path``, ``line``, ``column`` and ``problem`` fields.
    """
    extra = dict(fields or {})
    raw = _within_cap(data, path, error, max_bytes, **extra)
    # A str is already decoded: parse its UTF-8 bytes as UTF-8 whatever its declaration names.
    encoding = "utf-8" if isinstance(data, str) else None
    try:
        etree.fromstring(raw, etree.XMLParser(target=_Prolog(), encoding=encoding, **_XML_OPTIONS))
    except _DoctypeSeen:
        # Refused before anything in it is read: the prolog parser stops at the DOCTYPE's first token.
        _fail(
            error,
            path,
            "DOCTYPE declarations (DTDs) are not allowed: BPMN and DMN files never need one, and entities "
            "declared in one can expand without bound or read other files",
            **extra,
        )
    except (_RootReached, etree.XMLSyntaxError):
        pass  # the root was reached without a DOCTYPE, or the document is broken: the real parse says where
    try:
        root = etree.fromstring(raw, etree.XMLParser(encoding=encoding, **_XML_OPTIONS))
    except etree.XMLSyntaxError as exc:
        _fail(error, path, *_syntax_problem(raw, exc, decoded=encoding is not None), **extra)
    # No entity reference is left to refuse here: without a DOCTYPE none can be declared, and an undeclared
    # one is a syntax error above. lxml never processes XInclude unless asked; refused so no reader ever does.
    for node in root.iter(*_XINCLUDE):
        _fail(error, path, "XInclude elements are not allowed", node.sourceline, **extra)
    return root


def _read_as_utf8(raw: bytes) -> bool:
    """Whether the parser reads these bytes as UTF-8: a UTF-8 byte-order mark, or no other mark and an XML
    declaration that names UTF-8 or no encoding."""
    if raw.startswith(codecs.BOM_UTF8):
        return True
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or b"\0" in raw[:4]:
        return False
    declared = _DECLARED_ENCODING.match(raw)
    if declared is None:
        return True
    try:
        return codecs.lookup(declared.group(1).decode("ascii")).name == "utf-8"
    except LookupError:
        return False


def _syntax_problem(raw: bytes, exc: etree.XMLSyntaxError, *, decoded: bool) -> tuple[str, int, int]:
    if not decoded and _read_as_utf8(raw):
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError as bad:
            line, column = _place(raw, bad.start)
            return (
                "the file is not UTF-8, which its XML declaration says or (naming no encoding) implies: save "
                'it as UTF-8 or declare its encoding (<?xml version="1.0" encoding="GB18030"?>)',
                line,
                column,
            )
    entry = exc.error_log.last_error if len(exc.error_log) else None
    message = entry.message if entry is not None else str(exc)
    line, column = exc.position
    return f"not well-formed XML: {message}", line, column


# --- YAML ---------------------------------------------------------------------------------------------------


def yaml_text(
    data: bytes | str, path: str, error: type[EfficacyFlowError], *, max_bytes: int = MAX_FILE_BYTES
) -> str:
    """Decode a YAML file's bytes as YAML allows: UTF-8, or UTF-8, UTF-16 or UTF-32 with a byte-order mark.

    A ``str`` is returned as it is (after the size check).

    Raises:
        EfficacyFlowError: of type ``error``: the file is over ``max_bytes`` (default 10 MB) or not in one of
            those encodings (``path``, ``line``, ``column``, ``entry="(file)"``).
    """
    raw = _within_cap(data, path, error, max_bytes, entry="(file)")
    if isinstance(data, str):
        return data
    codec = next((name for bom, name in _YAML_BOMS if raw.startswith(bom)), "utf-8")
    try:
        return raw.decode(codec)
    except UnicodeDecodeError as bad:
        line, column = _place(raw, bad.start) if codec == "utf-8" else (None, None)
        _fail(
            error,
            path,
            f"the file is not {codec.upper()} (YAML files are UTF-8, or UTF-16 or UTF-32 "
            "with a byte-order mark)",
            line,
            column,
            entry="(file)",
        )


class _RefusingComposer(Composer):
    """Builds the node tree from the parser's events, refusing anchors and aliases and duplicate keys."""

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        event = self.peek_event()  # type: ignore[attr-defined]  # the parser half of the loader
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
            raise ConstructorError(
                None, None, "anchors and aliases (&name / *name) are not allowed", event.start_mark
            )
        return super().compose_node(parent, index)

    def compose_mapping_node(self, anchor: Any) -> MappingNode:
        node = super().compose_mapping_node(anchor)
        first: dict[tuple[str, str], Node] = {}
        for key, _value in node.value:
            if not isinstance(key.value, str):
                continue  # a complex key; the constructor refuses unhashable ones
            earlier = first.setdefault((key.tag, key.value), key)
            if earlier is not key:
                raise ConstructorError(
                    None,
                    None,
                    f"duplicate key {key.value!r} on lines {earlier.start_mark.line + 1} and "
                    f"{key.start_mark.line + 1} (the second would silently replace the first)",
                    key.start_mark,
                )
        return node


if hasattr(yaml, "CSafeLoader"):

    class _Loader(_RefusingComposer, yaml.CSafeLoader):
        """libyaml's parser (C) with our composer on its events and the safe constructor."""

        def __init__(self, stream: str) -> None:
            yaml.CSafeLoader.__init__(self, stream)
            _RefusingComposer.__init__(self)

else:  # pragma: no cover - PyYAML built without libyaml

    class _Loader(_RefusingComposer, yaml.SafeLoader):  # type: ignore[no-redef]
        """PyYAML's pure-Python safe loader with our composer."""


class _TextDatesLoader(_Loader):
    """Keeps dates as text, so the caller reports a bad date with its entry rather than as a YAML error."""


def _date_as_text(loader: _TextDatesLoader, node: Node) -> Any:
    return loader.construct_scalar(node)  # type: ignore[arg-type]  # a timestamp is always a scalar node


_TextDatesLoader.add_constructor("tag:yaml.org,2002:timestamp", _date_as_text)


def load_yaml(
    data: bytes | str,
    path: str,
    error: type[EfficacyFlowError],
    *,
    dates_as_text: bool = False,
    max_bytes: int = MAX_FILE_BYTES,
) -> Any:
    """Read one YAML document with PyYAML's safe loader (libyaml's where present).

    Refused: anchors and aliases (``&name`` / ``*name``: a few hundred bytes of them expand to gigabytes),
    duplicate mapping keys (both lines are named), files over ``max_bytes`` (default 10 MB) and files that are
    not UTF-8 (or UTF-16/32 with a byte-order mark).

    Args:
        data: the file's bytes (or its text).
        path: the file's name, for errors.
        error: the error type to raise.
        dates_as_text: keep ``2025-10-01`` as the text "2025-10-01" instead of a ``date``.
        max_bytes: the largest file accepted.

    Raises:
        EfficacyFlowError: of type ``error``, with ``path``, ``line``, ``column``, ``problem`` and
            ``entry="(file)"``.
    """
    text = yaml_text(data, path, error, max_bytes=max_bytes)
    loader = (_TextDatesLoader if dates_as_text else _Loader)(text)
    try:
        return loader.get_single_data()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark is not None else (None, None)
        problem = exc.problem or exc.context or "cannot be read"
        _fail(error, path, f"not valid YAML: {problem}", line, column, entry="(file)")
    except yaml.YAMLError as exc:
        _fail(error, path, f"not valid YAML: {exc}", entry="(file)")
    finally:
        loader.dispose()


# --- validation ---------------------------------------------------------------------------------------------


class FileModel(BaseModel):
    """The base of every configuration file's model: frozen, strict, unknown keys refused.

    Field docstrings become the descriptions of the JSON Schemas exported to docs/schemas/.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True, use_attribute_docstrings=True)


M = TypeVar("M", bound=BaseModel)


def _non_empty(text: str) -> str:
    if not text.strip():
        raise ValueError("must be non-empty text")
    return text


def _scalar(value: object) -> object:
    if value is None or isinstance(value, str | bool | int | float):
        return value
    raise ValueError(f"must be text, a number, true/false or null, not a {type(value).__name__}")


#: Text with at least one non-space character (a label, a source, an id).
NonEmptyText = Annotated[
    str, AfterValidator(_non_empty), WithJsonSchema({"type": "string", "pattern": r"\S"})
]
#: One YAML scalar: text, a number, true/false or null (never a list or a mapping).
JsonScalar = Annotated[
    str | bool | int | float | None,
    PlainValidator(_scalar),
    WithJsonSchema({"type": ["string", "number", "boolean", "null"]}),
]

_PROBLEMS = {
    "missing": "is required",
    "model_type": "must be a mapping",
    "model_attributes_type": "must be a mapping",
    "dict_type": "must be a mapping",
    "list_type": "must be a list",
    "string_type": "must be text",
    "int_type": "must be a whole number",
    "float_type": "must be a number",
    "bool_type": "must be true or false",
}


def _entry_of(loc: tuple[int | str, ...], prefix: str = "") -> str:
    """A pydantic error location as a dotted path: ``limits.complaint_handling.variants[0].limit``.

    ``prefix`` is the path of the validated part inside its file (``start.title``); an empty location is the
    part itself, or ``"(file)"`` when there is no prefix.
    """
    text = prefix
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        elif part == "[key]":
            text += " (key)"
        else:
            text += f".{part}" if text else part
    return text or "(file)"


def validation_problems(exc: ValidationError, prefix: str = "") -> list[dict[str, str]]:
    """Every problem of a failed validation as ``{"entry": dotted path, "problem": text}``, unknown keys first
    (a misspelt key explains the "is required" of the one it was meant to be)."""
    details = sorted(exc.errors(), key=lambda e: e["type"] != "extra_forbidden")
    return [{"entry": _entry_of(e["loc"], prefix), "problem": _problem(e)} for e in details]


def _problem(error: ErrorDetails) -> str:
    kind = error["type"]
    ctx = error.get("ctx") or {}
    given = error.get("input")
    shown = f", got {given!r}" if isinstance(given, str | int | float | bool) or given is None else ""
    if kind == "extra_forbidden":
        return f"unknown field {error['loc'][-1]!r}"
    if kind == "literal_error":
        return f"must be one of {ctx.get('expected')}{shown}"
    if kind in ("value_error", "assertion_error") and "error" in ctx:
        return str(ctx["error"])
    if kind in _PROBLEMS:
        return _PROBLEMS[kind] + ("" if kind == "missing" else shown)
    return f"{error['msg']}{shown}"


def validate_file(
    model: type[M],
    raw: Any,
    path: str,
    error: type[EfficacyFlowError],
) -> M:
    """Validate a file's loaded data against its model.

    Args:
        model: the file's model (a :class:`FileModel` or a ``RootModel``).
        raw: what :func:`load_yaml` returned.
        path: the file's name.
        error: the error type to raise.

    Raises:
        EfficacyFlowError: of type ``error``: ``path``; ``entry`` and ``problem`` of the first problem (the
            location as a dotted path such as ``limits.complaint_handling.variants[0].limit``); ``errors``,
            every problem as ``{"entry": ..., "problem": ...}``. The message names them all.
    """
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        problems = validation_problems(exc)
        listed = "; ".join(f"{p['entry']}: {p['problem']}" for p in problems)
        raise error(
            f"{path}: {listed}",
            path=path,
            entry=problems[0]["entry"],
            problem=problems[0]["problem"],
            errors=problems,
        ) from None
