"""Public objects under their public names: ``efficacy_flow.Engine``, not ``efficacy_flow.engine._engine``.

Every package's ``__init__.py`` ends with ``publish(globals())`` (httpx's ``__init__.py`` does the same at its
end), so reprs, tracebacks, ``help()``, documentation tools and pickles name the module an integrator imports
from. The root package claims every class and function it exports; a subpackage claims those of its names
that one of its private modules defines, and leaves names it re-exports from elsewhere as they are.
"""

from __future__ import annotations

import dataclasses
import inspect
import typing
from collections.abc import Mapping
from typing import Any

__all__ = ["publish"]


def publish(namespace: Mapping[str, Any]) -> None:
    """Set ``__module__`` to the package's name on the classes and functions its ``__all__`` lists.

    Args:
        namespace: the package's ``globals()``: its ``__name__``, its ``__all__`` and the objects they name.
            Only objects defined inside the package (``__module__`` is the package or one of its modules) are
            claimed; constants, type aliases and names re-exported from another package keep their own.
    """
    package: str = namespace["__name__"]
    for name in namespace["__all__"]:
        value = namespace[name]
        if not (isinstance(value, type) or inspect.isfunction(value)):
            continue
        module: str = value.__module__
        if module != package and not module.startswith(f"{package}."):
            continue
        if isinstance(value, type):
            _resolve_annotations(value)
        value.__module__ = package


def _resolve_annotations(cls: type) -> None:
    # The modules use ``from __future__ import annotations``: a class's annotations are strings that
    # typing.get_type_hints (and pydantic, FastAPI, Hypothesis, which call it) evaluates in the namespace of
    # ``sys.modules[cls.__module__]``. The public namespace lacks ``datetime``, ``Mapping`` and the rest, so
    # evaluate them now, while ``__module__`` still names the defining module, and keep the evaluated types.
    own = inspect.get_annotations(cls)
    if not own or not any(isinstance(hint, str) for hint in own.values()):
        return
    hints = typing.get_type_hints(cls, include_extras=True)
    cls.__annotations__ = {name: hints.get(name, hint) for name, hint in own.items()}
    if dataclasses.is_dataclass(cls):
        for field in dataclasses.fields(cls):
            field.type = hints.get(field.name, field.type)
