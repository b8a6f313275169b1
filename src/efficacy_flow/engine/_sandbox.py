"""The sandbox every BPMN expression, condition, script and timer runs in (conventions §7).

Code is checked at deployment (`_sandbox_checks`), compiled by RestrictedPython with the sandbox's policy
(`_sandbox_policy`: budget checks in every loop and function, size guards on the operators that can explode)
and cached by source text: evaluation never recompiles. It runs with a whitelist of builtins, guarded
attribute and item access and size-checked methods (`_sandbox_guards`), within a per-evaluation budget of
time and call depth (`_sandbox_budget`). Whatever it raises leaves as a typed error:
`ExpressionLimitExceeded` past a limit, `ScriptError` for an exception of the code itself; an
`EfficacyFlowError` from a function the caller passed in passes through unchanged.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Mapping, MutableMapping
from threading import Lock
from types import CodeType
from typing import Any, Literal, cast

from RestrictedPython.compile import compile_restricted_eval, compile_restricted_exec

from efficacy_flow.engine._sandbox_budget import Budget, LimitReached
from efficacy_flow.engine._sandbox_checks import assigns_names, needs_budget, refusal
from efficacy_flow.engine._sandbox_guards import SAFE_BUILTIN_NAMES, Guards, text_size
from efficacy_flow.engine._sandbox_policy import BudgetingPolicy
from efficacy_flow.errors import (
    EfficacyFlowError,
    ExpressionLimitExceeded,
    InvalidInput,
    ScriptError,
    UnsafeExpression,
)

__all__ = ["SAFE_BUILTIN_NAMES", "Sandbox"]

Mode = Literal["eval", "exec"]

#: How much of the source and of an exception's text an error message quotes (the fields keep all of it).
_QUOTED = 200


class _Compiled:
    """A compiled expression or script and how it must be run."""

    __slots__ = ("budgeted", "code", "in_place")

    def __init__(self, code: CodeType, *, budgeted: bool, in_place: bool) -> None:
        self.code = code
        #: It has a loop, a comprehension or a function: each run gets a Budget.
        self.budgeted = budgeted
        #: An expression that neither nests a scope nor assigns: it can read the variables where they are.
        self.in_place = in_place


class Sandbox:
    """Compiles (once) and runs process code under restrictions and limits.

    The defaults, and why:

    - ``time_budget=1.0`` seconds of wall time per evaluation, measured with ``time.perf_counter`` and checked
      at every loop iteration and function call. A shipped condition takes about a microsecond and a script a
      few; a second is far beyond both, yet short enough that a stuck expression cannot hold an instance (or a
      tick's batch) for long.
    - ``max_size=1_000_000`` elements, characters or bytes in one value built by the code: as much as the
      engine's default cap on one instance's data (1 MB); nothing an expression computes needs more, and
      building that much takes milliseconds.
    - ``max_int_bits=8192`` bits (2,467 decimal digits) in one integer: amounts, counts and ids are far
      smaller, every admitted integer converts to text (Python refuses int↔str beyond 4,300 digits) so it can
      be saved as JSON and quoted in a message, and multiplying two of them takes about a microsecond.
    - ``max_depth=50`` nested calls of functions the code defines: recursion in process code walks small
      structures; each level costs two interpreter frames (the function and its budget wrapper), so 50 levels
      stay far below Python's limit of 1,000 with the engine's and SpiffWorkflow's frames beneath.

    Each limit is refused *before* the value is built (``9**9**9`` never starts), except the few that are
    built first and measured, because their growth is a small factor (``encode``, ``hex``,
    ``int.from_bytes``). Thread-safe: the cache is guarded by a lock, compiled code objects are immutable and
    every evaluation has a budget of its own.

    Raises:
        InvalidInput: a limit that is not positive.
    """

    def __init__(
        self,
        *,
        time_budget: float = 1.0,
        max_size: int = 1_000_000,
        max_int_bits: int = 8192,
        max_depth: int = 50,
    ) -> None:
        for name, value in (
            ("time_budget", time_budget),
            ("max_size", max_size),
            ("max_int_bits", max_int_bits),
            ("max_depth", max_depth),
        ):
            if not value > 0:
                raise InvalidInput(f"Sandbox {name} must be positive, not {value!r}", field=name, value=value)
        self.time_budget = time_budget
        self.max_size = max_size
        self.max_int_bits = max_int_bits
        self.max_depth = max_depth
        self._builtins = Guards(max_size, max_int_bits).builtins()
        # Globals for expressions that read the variables in place: only the builtins (guards included).
        self._globals: dict[str, Any] = {"__builtins__": self._builtins}
        self._cache: dict[Mode, dict[str, _Compiled]] = {"eval": {}, "exec": {}}
        self._lock = Lock()

    def compile(self, source: str, mode: Mode, *, element_id: str | None = None) -> CodeType:
        """Compile ``source`` (an expression for ``eval``, statements for ``exec``), or fetch it cached.

        Raises:
            UnsafeExpression: the code is not valid Python or uses something the sandbox refuses
                (``expression``, ``element_id`` and ``problem`` say which and why).
        """
        return self._compiled(source, mode, element_id).code

    def evaluate(
        self,
        source: str,
        variables: Mapping[str, Any],
        functions: Mapping[str, Any] = {},
        *,
        element_id: str | None = None,
    ) -> Any:
        """The value of an expression with process ``variables`` and helper ``functions`` in scope
        (variables win over functions of the same name).

        Raises:
            UnsafeExpression: the expression is refused (see `compile`).
            ExpressionLimitExceeded: it ran past its time budget, nested calls too deep, or was about to
                build too large a value (``limit`` and ``budget`` say which).
            ScriptError: it raised (``error`` names the exception).
        """
        compiled = self._cache["eval"].get(source) or self._compiled(source, "eval", element_id)
        if compiled.in_place:
            # No nested scope and no assignment: read the variables where they are, copying nothing.
            scope = self._globals if not functions else {**functions, "__builtins__": self._builtins}
            return self._run(compiled, source, element_id, scope, variables)
        return self._run(compiled, source, element_id, self._scope(compiled, variables, functions))

    def execute(
        self,
        source: str,
        variables: MutableMapping[str, Any],
        functions: Mapping[str, Any] = {},
        *,
        element_id: str | None = None,
    ) -> None:
        """Run a script; the variables it assigns or deletes are written back to ``variables`` (only if it
        completes).

        Raises:
            UnsafeExpression: the script is refused (see `compile`).
            ExpressionLimitExceeded: it ran past its time budget, nested calls too deep, or was about to
                build too large a value (``limit`` and ``budget`` say which).
            ScriptError: it raised (``error`` names the exception).
        """
        compiled = self._cache["exec"].get(source) or self._compiled(source, "exec", element_id)
        scope = self._scope(compiled, variables, functions)
        self._run(compiled, source, element_id, scope)
        for name in list(variables):
            if name not in scope:
                del variables[name]
        for name, value in scope.items():
            if name.startswith("_") or (name in functions and value is functions[name]):
                continue
            variables[name] = value

    def _run(
        self,
        compiled: _Compiled,
        source: str,
        element_id: str | None,
        scope: dict[str, Any],
        variables: Mapping[str, Any] | None = None,
    ) -> Any:
        """Run compiled code (eval runs statements as well, giving None) and type whatever it raises."""
        try:
            return eval(compiled.code, scope, variables)
        except LimitReached as hit:
            raise self._stopped(hit, source, element_id) from None
        except EfficacyFlowError:
            raise
        except Exception as exc:
            raise self._failed(exc, source, element_id) from exc

    def _scope(
        self, compiled: _Compiled, variables: Mapping[str, Any], functions: Mapping[str, Any]
    ) -> dict[str, Any]:
        scope = {**functions, **variables, "__builtins__": self._builtins}
        if compiled.budgeted:
            scope["_budget_"] = Budget(self.time_budget, self.max_depth)
        return scope

    def _compiled(self, source: str, mode: Mode, element_id: str | None) -> _Compiled:
        cache = self._cache[mode]
        compiled = cache.get(source)
        if compiled is None:
            compiled = self._compile(source, mode, element_id)
            with self._lock:
                cache[source] = compiled
        return compiled

    @staticmethod
    def _compile(source: str, mode: Mode, element_id: str | None) -> _Compiled:
        def refuse(problem: str) -> UnsafeExpression:
            return UnsafeExpression(
                f"unsafe or invalid expression{_in(element_id)}: {problem}: {_quote(source)}",
                expression=source,
                element_id=element_id,
                problem=problem,
            )

        compiler = compile_restricted_eval if mode == "eval" else compile_restricted_exec
        try:
            tree = cast(ast.Module | ast.Expression, ast.parse(source, mode=mode))
            problem = refusal(tree)
            if problem is not None:
                raise refuse(problem)
            budgeted = needs_budget(tree)
            in_place = mode == "eval" and not budgeted and not assigns_names(tree)
            # RestrictedPython rewrites the tree it is given: it is parsed for this call only.
            result = compiler(tree, filename=f"<{element_id or 'expression'}>", policy=BudgetingPolicy)
        except SyntaxError as exc:
            # From the parser, or from CPython's compiler ("'return' outside function").
            raise refuse(f"syntax error: {exc.msg}") from None
        except UnsafeExpression:
            raise  # the refusal above (itself a ValueError): not wrapped a second time
        except ValueError as exc:
            raise refuse(f"not compilable: {exc}") from None  # a null byte in the source
        except (RecursionError, MemoryError):
            raise refuse("nested too deeply to compile") from None
        if result.errors or result.code is None:
            raise refuse("; ".join(result.errors) or "refused by RestrictedPython")
        return _Compiled(result.code, budgeted=budgeted, in_place=in_place)

    @staticmethod
    def _stopped(hit: LimitReached, source: str, element_id: str | None) -> ExpressionLimitExceeded:
        return ExpressionLimitExceeded(
            f"expression{_in(element_id)} stopped: {hit.problem}: {_quote(source)}",
            expression=source,
            element_id=element_id,
            limit=hit.limit,
            budget=hit.budget,
            problem=hit.problem,
        )

    def _failed(self, exc: Exception, source: str, element_id: str | None) -> EfficacyFlowError:
        if isinstance(exc, RecursionError):
            limit = sys.getrecursionlimit()
            return self._stopped(
                LimitReached("depth", limit, f"nested deeper than Python allows ({limit} frames)"),
                source,
                element_id,
            )
        if isinstance(exc, MemoryError):
            return self._stopped(LimitReached("size", self.max_size, "ran out of memory"), source, element_id)
        error = type(exc).__name__
        # The text of an exception can quote a huge value (a KeyError's key): measure before building it.
        if text_size(exc.args, 10 * _QUOTED) > 10 * _QUOTED:
            text = "(its text is too long to quote)"
        else:
            text = str(exc)
            text = text if len(text) <= _QUOTED else text[:_QUOTED] + "…"
        return ScriptError(
            f"expression{_in(element_id)} raised {error}: {text}: {_quote(source)}",
            expression=source,
            element_id=element_id,
            error=error,
        )


def _in(element_id: str | None) -> str:
    return f" in element {element_id}" if element_id else ""


def _quote(source: str) -> str:
    return repr(source) if len(source) <= _QUOTED else repr(source[:_QUOTED]) + "…"
