"""Process data is JSON data: the check every step's output passes before the workflow runs on.

A value that would not come back identical from a save — a set, a tuple, a key that is not a string, a
function, NaN or an infinity, a string with a lone surrogate, an integer beyond 64 bits, nesting deeper than
:data:`MAX_DEPTH` — is refused at the step that made it, so a workflow kept in memory and one loaded from the
store always decide the same (a tuple ``(1, 2)`` equals itself in memory but is the list ``[1, 2]`` after a
load; ``{1: "a"}[1]`` works only until the key has become ``"1"``).
"""

from __future__ import annotations

import math

__all__ = ["MAX_DEPTH", "MAX_INT", "RESERVED_KEY", "json_problem"]

#: The deepest nesting of lists and dicts accepted (a 10,000-deep dict would overflow Python's stack when
#: saved).
MAX_DEPTH = 64
#: Integers are 64-bit signed, like PostgreSQL's bigint, Java's long and orjson's (and what most JSON readers
#: other than Python's hold exactly).
MAX_INT = 2**63 - 1

#: SpiffWorkflow's serializer reads a dict holding this key as an object of that type: such data could be
#: saved but never loaded again.
RESERVED_KEY = "typename"
_NAMES = {
    set: "a set",
    frozenset: "a set",
    tuple: "a tuple",
    bytes: "bytes",
    bytearray: "bytes",
    complex: "a complex number",
}


def json_problem(value: object, path: str = "") -> tuple[str, str] | None:
    """The first place in ``value`` that is not JSON data, as (path, problem), or None when all of it is.

    ``path`` names ``value`` itself (a top-level field name); nested places are written ``a.b[3]``.
    """
    stack: list[tuple[object, str, int]] = [(value, path, 0)]
    pop, push = stack.pop, stack.append
    while stack:
        item, where, depth = pop()
        kind = type(item)
        if kind is str:
            if not item.isascii():  # type: ignore[attr-defined]
                try:
                    item.encode("utf-8")  # type: ignore[attr-defined]
                except UnicodeEncodeError:
                    return where, "a string with a lone surrogate (not valid Unicode) is not JSON data"
        elif kind is int:
            if not -MAX_INT - 1 <= item <= MAX_INT:  # type: ignore[operator]
                return where, "an integer beyond 64 bits is not kept exactly by JSON readers"
        elif kind is float:
            if not math.isfinite(item):  # type: ignore[arg-type]
                return where, f"{item!r} is not a JSON number"
        elif kind is bool or item is None:
            pass
        elif kind is dict or kind is list:
            if depth >= MAX_DEPTH:
                return where, f"nested deeper than {MAX_DEPTH} levels"
            if kind is dict:
                for key, child in item.items():  # type: ignore[attr-defined]
                    if type(key) is not str:
                        return where, f"the key {key!r} is not a string"
                    if key == RESERVED_KEY:
                        return where, f"the key {RESERVED_KEY!r} is reserved by the saved-state format"
                    push((child, f"{where}.{key}" if where else key, depth + 1))
            else:
                for index, child in enumerate(item):  # type: ignore[arg-type]
                    push((child, f"{where}[{index}]", depth + 1))
        else:
            name = _NAMES.get(kind)
            if name is None:
                name = "a function" if callable(item) else f"a {kind.__name__}"
            return where, f"{name} is not JSON data (it would not come back from a save as it is)"
    return None
