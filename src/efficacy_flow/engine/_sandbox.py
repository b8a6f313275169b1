"""The sandbox every BPMN expression, condition, script and timer runs in (conventions §7).

Code is compiled with RestrictedPython's ``compile_restricted`` (which refuses names and attributes that begin
with an underscore), then checked once more for what RestrictedPython lets through but we do not allow
(imports,
``format``/``format_map`` attribute lookups, escape-hatch builtins). It runs with a tiny builtins whitelist
and
guarded attribute access. Compiled code is cached by source text: evaluation never recompiles.
"""

from __future__ import annotations

import ast
import builtins
import operator
from collections.abc import Callable, Mapping, MutableMapping
from threading import Lock
from types import CodeType
from typing import Any, Literal

from RestrictedPython.compile import compile_restricted_eval, compile_restricted_exec
from RestrictedPython.Guards import guarded_iter_unpack_sequence, guarded_unpack_sequence
from RestrictedPython.Limits import limited_range

from efficacy_flow.errors import EfficacyFlowError, ScriptError, UnsafeExpression

__all__ = ["SAFE_BUILTIN_NAMES", "Sandbox"]

#: The builtins scripts may call (conventions §7).
SAFE_BUILTIN_NAMES = (
    "abs",
    "all",
    "any",
    "bool",
    "dict",
    "float",
    "int",
    "isinstance",
    "len",
    "list",
    "max",
    "min",
    "range",
    "round",
    "set",
    "sorted",
    "str",
    "sum",
    "tuple",
)

#: Names refused at deployment even as variables: they are how sandboxes are usually escaped.
FORBIDDEN_NAMES = frozenset(
    {
        "__import__",
        "breakpoint",
        "classmethod",
        "compile",
        "delattr",
        "dir",
        "eval",
        "exec",
        "getattr",
        "globals",
        "hasattr",
        "help",
        "input",
        "locals",
        "memoryview",
        "object",
        "open",
        "property",
        "setattr",
        "staticmethod",
        "super",
        "type",
        "vars",
    }
)

#: Attributes refused at deployment: str.format/format_map reach attributes through the format mini-language.
FORBIDDEN_ATTRIBUTES = frozenset(
    {"format", "format_map", "mro", "gi_frame", "f_globals", "f_back", "tb_frame"}
)

Mode = Literal["eval", "exec"]


def _guarded_getattr(obj: Any, name: str, default: Any = None) -> Any:
    # Second line of defence: compile-time checks already refuse these names.
    if name.startswith("_") or name in FORBIDDEN_ATTRIBUTES:
        raise AttributeError(f"attribute {name!r} is not allowed in process expressions")
    return getattr(obj, name, default) if default is not None else getattr(obj, name)


def _inplace(op: str, left: Any, right: Any) -> Any:
    return _INPLACE[op](left, right)


_INPLACE: dict[str, Callable[[Any, Any], Any]] = {
    "+=": operator.add,
    "-=": operator.sub,
    "*=": operator.mul,
    "/=": operator.truediv,
    "//=": operator.floordiv,
    "%=": operator.mod,
}

_BUILTINS: dict[str, Any] = {name: getattr(builtins, name) for name in SAFE_BUILTIN_NAMES}
_BUILTINS["range"] = limited_range
_BUILTINS.update({"True": True, "False": False, "None": None})

_GUARDS: dict[str, Any] = {
    "__builtins__": _BUILTINS,
    "_getattr_": _guarded_getattr,
    "_getitem_": operator.getitem,
    "_getiter_": iter,
    "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
    "_unpack_sequence_": guarded_unpack_sequence,
    "_write_": lambda obj: obj,
    "_inplacevar_": _inplace,
}


class Sandbox:
    """Compiles (once) and runs process code under restrictions.

    Thread-safe: the cache is guarded by a lock; compiled code objects are immutable.
    """

    def __init__(self, *, time_budget: float = 1.0) -> None:
        self.time_budget = time_budget
        self._cache: dict[tuple[Mode, str], CodeType] = {}
        self._lock = Lock()

    def compile(self, source: str, mode: Mode, *, element_id: str | None = None) -> CodeType:
        """Compile ``source`` (an expression for ``eval``, statements for ``exec``), or fetch it cached.

        Raises:
            UnsafeExpression: the code is not valid Python or uses something the sandbox refuses
                (``expression`` and ``element_id`` name it).
        """
        key = (mode, source)
        code = self._cache.get(key)
        if code is not None:
            return code
        code = self._compile(source, mode, element_id)
        with self._lock:
            self._cache[key] = code
        return code

    def evaluate(
        self,
        source: str,
        variables: Mapping[str, Any],
        functions: Mapping[str, Any] = {},
        *,
        element_id: str | None = None,
    ) -> Any:
        """Evaluate an expression with process ``variables`` and helper ``functions`` in scope."""
        code = self.compile(source, "eval", element_id=element_id)
        scope = dict(_GUARDS)
        scope.update(functions)
        scope.update(variables)
        try:
            return eval(code, scope)
        except EfficacyFlowError:
            raise
        except Exception as exc:
            raise _script_error(source, element_id, exc) from exc

    def execute(
        self,
        source: str,
        variables: MutableMapping[str, Any],
        functions: Mapping[str, Any] = {},
        *,
        element_id: str | None = None,
    ) -> None:
        """Run a script; the variables it assigns or deletes are written back to ``variables``."""
        code = self.compile(source, "exec", element_id=element_id)
        scope = dict(_GUARDS)
        scope.update(functions)
        scope.update(variables)
        try:
            exec(code, scope)
        except EfficacyFlowError:
            raise
        except Exception as exc:
            raise _script_error(source, element_id, exc) from exc
        for name in list(variables):
            if name not in scope:
                del variables[name]
        for name, value in scope.items():
            if name in _GUARDS or name.startswith("_") or (name in functions and value is functions[name]):
                continue
            variables[name] = value

    @staticmethod
    def _compile(source: str, mode: Mode, element_id: str | None) -> CodeType:
        def refuse(problem: str) -> UnsafeExpression:
            where = f" in element {element_id}" if element_id else ""
            return UnsafeExpression(
                f"unsafe or invalid expression{where}: {problem}: {source!r}",
                expression=source,
                element_id=element_id,
                problem=problem,
            )

        try:
            tree = ast.parse(source, mode=mode)
        except SyntaxError as exc:
            raise refuse(f"syntax error: {exc.msg}") from None
        for node in ast.walk(tree):
            if isinstance(node, ast.Import | ast.ImportFrom):
                raise refuse("imports are not allowed")
            if isinstance(node, ast.Name) and node.id in FORBIDDEN_NAMES:
                raise refuse(f"{node.id!r} is not allowed")
            if isinstance(node, ast.Attribute) and (
                node.attr.startswith("_") or node.attr in FORBIDDEN_ATTRIBUTES
            ):
                raise refuse(f"attribute {node.attr!r} is not allowed")
            if isinstance(node, ast.Global | ast.Nonlocal):
                raise refuse("global and nonlocal are not allowed")
        compiler = compile_restricted_eval if mode == "eval" else compile_restricted_exec
        result = compiler(source, filename=f"<{element_id or 'expression'}>")
        if result.errors or result.code is None:
            raise refuse("; ".join(result.errors) or "refused by RestrictedPython")
        code: CodeType = result.code
        return code


def _script_error(source: str, element_id: str | None, exc: Exception) -> ScriptError:
    where = f"element {element_id}" if element_id else "an expression"
    return ScriptError(
        f"{where}: {source!r} raised {type(exc).__name__}: {exc}",
        expression=source,
        element_id=element_id,
        error=type(exc).__name__,
    )
