"""SpiffWorkflow's script engine, answered by the engine's services (the sandbox, the calendar, the
decisions).

SpiffWorkflow evaluates conditions, runs scripts and asks for timer and decision values through its workflow's
script engine; :class:`EngineScriptEngine` hands each request to :class:`~.base.Services` with the element it
comes from, so every error names it. Data goes in as the task's JSON data: a script runs on the task's own
data with its lists and dicts copied first, and an expression on a copy, so neither can change data it shares
with tasks that already ran (SpiffWorkflow copies a parent's data into a child only one level deep).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment

from efficacy_flow.engine.runtime.base import Json, Services

__all__ = ["EngineScriptEngine", "private_copy"]

_MUTABLE = (dict, list)


def _copy(value: Json) -> Json:
    copied: Json = orjson.loads(orjson.dumps(value))  # JSON data (checked after every step): an exact copy
    return copied


def private_copy(data: Mapping[str, Json]) -> dict[str, Json]:
    """``data`` with its lists and dicts deep-copied (its strings and numbers are immutable, shared)."""
    return {key: _copy(value) if type(value) in _MUTABLE else value for key, value in data.items()}


def _element(task: Any) -> str:
    return str(task.task_spec.bpmn_id or task.task_spec.name)


class _Environment(BasePythonScriptEngineEnvironment):  # type: ignore[misc]
    """Where SpiffWorkflow evaluates through ``script_engine.environment`` directly (message correlations, a
    process's completion condition): there is no task, so no element to name but the process."""

    def __init__(self, services: Services) -> None:
        super().__init__({})
        self.services = services

    def evaluate(self, expression: str, context: Mapping[str, Json], external_context: Any = None) -> Any:
        return self.services.evaluate(expression, {**(external_context or {}), **private_copy(context)}, "")

    def execute(self, script: str, context: dict[str, Json], external_context: Any = None) -> bool:
        self.services.execute(script, context, "")
        return True


class EngineScriptEngine(PythonScriptEngine):  # type: ignore[misc]
    """One per deployed definition; every request goes to the engine's :class:`~.base.Services`."""

    def __init__(self, services: Services) -> None:
        super().__init__(environment=_Environment(services))
        self.services = services

    def validate(self, expression: str) -> None:
        # Every expression was compiled in the sandbox at deployment (engine/_definitions.py).
        return None

    def evaluate(self, task: Any, expression: str, external_context: Any = None) -> Any:
        data = private_copy(task.data)
        if external_context:  # BPMN data objects, shadowed by the task's own data (as SpiffWorkflow does)
            data = {**external_context, **data}
        return self.services.evaluate(expression, data, _element(task))

    def execute(self, task: Any, script: str, external_context: Any = None) -> bool:
        data = task.data
        for key, value in data.items():
            if type(value) in _MUTABLE:
                data[key] = _copy(value)
        self.services.execute(script, data, _element(task))
        return True
