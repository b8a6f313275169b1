"""The RestrictedPython policy that compiles process code with its limits built in.

RestrictedPython's `RestrictingNodeTransformer` is the hook it offers for this (``compile_restricted_*(...,
policy=...)``): it already rewrites attribute reads to ``_getattr_``, item access to ``_getitem_``/``_write_``
and iteration to ``_getiter_``. `BudgetingPolicy` adds, after RestrictedPython has checked each node:

- ``_budget_.tick()`` as the first statement of every ``for`` and ``while`` body and as the first condition of
  every comprehension, so ``while True: pass`` stops even though its body calls nothing;
- ``_budget_.function`` around every ``def`` and ``lambda``, which charges each call and counts the depth;
- ``_add_``, ``_mul_``, ``_pow_``, ``_lshift_`` and ``_mod_`` in place of the operators that can build a huge
  value, except where an operand makes that impossible (``n + 1``, ``x * 0.5``); ``x += y`` is compiled as
  ``x = x + y`` with the same checks;
- ``_format_`` around every f-string part, and ``except _catchable_`` (``Exception``) for a bare ``except``.

The names it writes start with an underscore, so they cannot be spelled by process code, and they are added
after RestrictedPython's check of the node, so its name check does not refuse them.
"""

from __future__ import annotations

import ast
from typing import Any, cast

from RestrictedPython.transformer import RestrictingNodeTransformer

__all__ = ["BudgetingPolicy"]

_GUARDED_OPERATORS: dict[type[ast.operator], str] = {
    ast.Add: "_add_",
    ast.Mult: "_mul_",
    ast.Pow: "_pow_",
    ast.LShift: "_lshift_",
    ast.Mod: "_mod_",
}


def _located(new: Any, old: ast.AST) -> Any:
    """``new`` with ``old``'s source position on every node of it that has none."""
    for node in ast.walk(new):
        if "lineno" in node._attributes and not hasattr(node, "lineno"):
            ast.copy_location(node, old)
    return new


def _budget(method: str) -> ast.Attribute:
    return ast.Attribute(value=ast.Name("_budget_", ast.Load()), attr=method, ctx=ast.Load())


def _call(name: str, *args: ast.expr) -> ast.Call:
    return ast.Call(func=ast.Name(name, ast.Load()), args=list(args), keywords=[])


def _tick() -> ast.Call:
    return ast.Call(func=_budget("tick"), args=[], keywords=[])


def _constant(node: ast.expr, kinds: tuple[type, ...]) -> bool:
    return isinstance(node, ast.Constant) and type(node.value) in kinds


def _cannot_explode(node: ast.BinOp) -> bool:
    """Whether an operand makes a huge result impossible, so the operator needs no check."""
    if isinstance(node.op, ast.Add):
        # Concatenating a literal grows a value by at most the literal per step.
        return isinstance(node.left, ast.Constant) or isinstance(node.right, ast.Constant)
    if isinstance(node.op, ast.Mult | ast.Pow):
        # A float or complex operand never repeats a sequence or builds a big integer.
        return _constant(node.left, (float, complex)) or _constant(node.right, (float, complex))
    if isinstance(node.op, ast.Mod):
        # A number on the left is arithmetic, never %-formatting.
        return _constant(node.left, (int, float))
    return False


class BudgetingPolicy(RestrictingNodeTransformer):
    """RestrictedPython's checks and rewrites, plus the sandbox's budget checks and size guards."""

    def visit_For(self, node: ast.For) -> Any:
        node = cast(ast.For, super().visit_For(node))
        node.body.insert(0, _located(ast.Expr(_tick()), node))
        return node

    def visit_While(self, node: ast.While) -> Any:
        node = cast(ast.While, super().visit_While(node))
        node.body.insert(0, _located(ast.Expr(_tick()), node))
        return node

    def visit_comprehension(self, node: ast.comprehension) -> Any:
        node = cast(ast.comprehension, super().visit_comprehension(node))
        node.ifs.insert(0, _located(_tick(), node.iter))
        return node

    def visit_FunctionDef(self, node: ast.FunctionDef) -> Any:
        node = cast(ast.FunctionDef, super().visit_FunctionDef(node))
        # Last in the list is applied first: the budget wraps the function itself, under any decorator.
        node.decorator_list.append(_located(_budget("function"), node))
        return node

    def visit_Lambda(self, node: ast.Lambda) -> Any:
        node = cast(ast.Lambda, super().visit_Lambda(node))
        return _located(ast.Call(func=_budget("function"), args=[node], keywords=[]), node)

    def visit_BinOp(self, node: ast.BinOp) -> Any:
        node = cast(ast.BinOp, super().visit_BinOp(node))
        guard = _GUARDED_OPERATORS.get(type(node.op))
        if guard is None or _cannot_explode(node):
            return node
        return _located(_call(guard, node.left, node.right), node)

    def visit_AugAssign(self, node: ast.AugAssign) -> Any:
        if not isinstance(node.target, ast.Name):
            return super().visit_AugAssign(node)  # RestrictedPython refuses these
        # ``x op= y`` as ``x = x op y``: the operator then gets the same checks as everywhere else, and the
        # meaning RestrictedPython's _inplacevar_ gave it (a new value rather than an in-place change).
        name = node.target.id
        value = ast.BinOp(left=ast.Name(name, ast.Load()), op=node.op, right=node.value)
        assign = _located(ast.Assign(targets=[ast.Name(name, ast.Store())], value=value), node)
        return self.visit(assign)

    def visit_FormattedValue(self, node: ast.FormattedValue) -> Any:
        node = cast(ast.FormattedValue, super().visit_FormattedValue(node))
        spec: ast.expr = node.format_spec if node.format_spec is not None else ast.Constant("")
        call = _call("_format_", node.value, ast.Constant(node.conversion), spec)
        return _located(ast.FormattedValue(value=call, conversion=-1, format_spec=None), node)

    def visit_ExceptHandler(self, node: ast.ExceptHandler) -> Any:
        node = cast(ast.ExceptHandler, super().visit_ExceptHandler(node))
        if node.type is None:
            node.type = _located(ast.Name("_catchable_", ast.Load()), node)
        return node
