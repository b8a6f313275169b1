"""The one seam to SpiffWorkflow (issue 12): the only package that imports it.

The rest of the engine calls :func:`deploy` for a parsed BPMN document and then the typed interface of
runtime/base.py (:class:`ProcessRuntime`, :class:`Workflow`); only the frozen values defined there, JSON data
and calendar values cross the seam. SpiffWorkflow's errors are translated here, by the table in
runtime/exceptions.py. The fast paths worth keeping (the state writer in runtime/serializer.py, the task walk
in runtime/walk.py) live here beside the stock paths they mirror; the private SpiffWorkflow names they read
are listed in runtime/private_names.py. docs/engine.md ("The runtime seam") describes it.
"""

from __future__ import annotations

from efficacy_flow.engine.runtime.base import (
    Due,
    Json,
    JsonObject,
    PendingMessage,
    PendingTimer,
    ProcessRuntime,
    ReadyTask,
    Services,
    Snapshot,
    Workflow,
)
from efficacy_flow.engine.runtime.formats import STATE_FORMAT_VERSION, UPGRADES
from efficacy_flow.engine.runtime.json_data import json_problem
from efficacy_flow.engine.runtime.parser import CALENDAR_ATTRIBUTES
from efficacy_flow.engine.runtime.workflow import deploy

__all__ = [
    "CALENDAR_ATTRIBUTES",
    "STATE_FORMAT_VERSION",
    "UPGRADES",
    "Due",
    "Json",
    "JsonObject",
    "PendingMessage",
    "PendingTimer",
    "ProcessRuntime",
    "ReadyTask",
    "Services",
    "Snapshot",
    "Workflow",
    "deploy",
    "json_problem",
]
