"""What the sandbox refuses at deployment, read off the syntax tree before RestrictedPython compiles it.

RestrictedPython already refuses names and attributes that begin with an underscore, ``exec``/``eval``,
``nonlocal``, ``async``, ``try``/``except*`` and every node it does not know. These checks add what it lets
through but process code must not do:

- reach outside: imports, the escape-hatch names (`FORBIDDEN_NAMES`), ``format``/``format_map`` and the frame
  attributes, ``global``;
- keep state where other instances see it: ``class`` definitions, and any attribute write, augmented write
  or delete (``x.y = …``, ``x.y += …``, ``del x.y``). Process data is JSON (dicts, lists, strings, numbers)
  and has no attributes to write; everything else in scope — builtins, functions — is shared by every
  instance;
- dodge the limits: ``with`` (a context manager can swallow exceptions), generators (``yield``, which can
  suspend a frame past its budget), ``return``/``break``/``continue`` in ``finally`` (they discard the
  exception in flight, the sandbox's stop included), ``*``-unpacking into a display or a call and ``**`` into
  a call (``[*a, *a]`` doubles a list without an operator to check), and slice assignment (``a[:0] = a``
  does the same).

Starred assignment targets (``first, *rest = items``) stay allowed: RestrictedPython guards the unpacking and
the result is never larger than the value unpacked.
"""

from __future__ import annotations

import ast
from collections.abc import Sequence

from efficacy_flow.engine._sandbox_guards import FORBIDDEN_ATTRIBUTES

__all__ = ["FORBIDDEN_NAMES", "assigns_names", "needs_budget", "refusal"]

#: Names refused at deployment even as variables: the usual ways out of a sandbox, and print (process code
#: has no output; RestrictedPython would compile it into a collector the sandbox does not provide).
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
        "print",
        "printed",
        "property",
        "setattr",
        "staticmethod",
        "super",
        "type",
        "vars",
    }
)

_NESTED_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)
_LOOPS = (ast.For, ast.AsyncFor, ast.While)


def refusal(tree: ast.AST) -> str | None:
    """The first thing in ``tree`` the sandbox refuses, as a sentence naming it, or None."""
    for node in ast.walk(tree):
        problem = _refused(node)
        if problem is not None:
            return problem
    return None


def needs_budget(tree: ast.AST) -> bool:
    """Whether the code can repeat work (a loop, a comprehension, a function): only then does an evaluation
    need a `Budget`."""
    return any(isinstance(node, (*_LOOPS, ast.comprehension, *_NESTED_SCOPES)) for node in ast.walk(tree))


def assigns_names(tree: ast.AST) -> bool:
    """Whether an expression assigns a name (``(x := 1)``), so it cannot read the variables in place."""
    return any(isinstance(node, ast.NamedExpr) for node in ast.walk(tree))


def _refused(node: ast.AST) -> str | None:
    if isinstance(node, ast.Import | ast.ImportFrom):
        return "imports are not allowed"
    if isinstance(node, ast.Name) and node.id in FORBIDDEN_NAMES:
        return f"{node.id!r} is not allowed"
    if isinstance(node, ast.Attribute):
        if node.attr.startswith("_") or node.attr in FORBIDDEN_ATTRIBUTES:
            return f"attribute {node.attr!r} is not allowed"
        if not isinstance(node.ctx, ast.Load):
            return (
                f"writing attribute {node.attr!r} is not allowed: process data has no attributes, "
                "and everything else in scope is shared by every instance"
            )
    if isinstance(node, ast.Global | ast.Nonlocal):
        return "global and nonlocal are not allowed"
    if isinstance(node, ast.ClassDef):
        return "class definitions are not allowed"
    if isinstance(node, ast.With | ast.AsyncWith):
        return "with statements are not allowed"
    if isinstance(node, ast.AsyncFunctionDef | ast.AsyncFor | ast.Await):
        return "async and await are not allowed"
    if isinstance(node, ast.Yield | ast.YieldFrom):
        return "generators (yield) are not allowed: build a list"
    if isinstance(node, ast.Starred) and isinstance(node.ctx, ast.Load):
        return "unpacking with * into a list, tuple, set or call is not allowed: use + or list()"
    if isinstance(node, ast.keyword) and node.arg is None:
        return "unpacking with ** into a call is not allowed"
    if isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Store) and _has_slice(node.slice):
        return "slice assignment is not allowed: build a new list"
    if isinstance(node, ast.Try | ast.TryStar) and _leaves(node.finalbody, in_loop=False):
        return "return, break or continue in a finally block is not allowed: it discards any exception"
    return None


def _has_slice(index: ast.expr) -> bool:
    return isinstance(index, ast.Slice) or (
        isinstance(index, ast.Tuple) and any(isinstance(e, ast.Slice) for e in index.elts)
    )


def _leaves(statements: Sequence[ast.AST], *, in_loop: bool) -> bool:
    """Whether ``statements`` hold a ``return``, or a ``break``/``continue`` of a loop they are not inside."""
    for node in statements:
        if isinstance(node, _NESTED_SCOPES):
            continue
        if isinstance(node, ast.Return):
            return True
        if isinstance(node, ast.Break | ast.Continue) and not in_loop:
            return True
        if isinstance(node, _LOOPS):
            # A loop's own break and continue stay inside it; its else clause belongs to the outer level.
            if _leaves(node.body, in_loop=True) or _leaves(node.orelse, in_loop=in_loop):
                return True
        elif _leaves(list(ast.iter_child_nodes(node)), in_loop=in_loop):
            return True
    return False
