"""Drive a shipped process on the real engine (SQLite, SpiffWorkflow, calendar) with a FakeClock."""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml
from tests.processes._model import PROCESSES

from efficacy_flow.clock import CHINA_TZ
from efficacy_flow.engine import Actor, Engine, InstanceView, TaskView, TimerFired
from efficacy_flow.testing import FakeClock

#: complaint_closure's 领导签发 (the handling unit 市城管局's leader) and 回访 (the hotline's 回访员).
LEADER = Actor("chengguan-head", ["单位负责人"], unit="市城管局")
CALLER = Actor("callback-1", ["回访员"])


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    """An instant in Asia/Shanghai."""
    return datetime(year, month, day, hour, minute, second, tzinfo=CHINA_TZ)


def _counts(process_id: str) -> bool:
    """Whether counters.yaml counts this process (alone, a table naming another process is refused)."""
    counters = yaml.safe_load((PROCESSES / "counters.yaml").read_text(encoding="utf-8"))["counters"]
    return any(entry["process"] == process_id for entry in counters.values())


class Desk:
    """One process deployed alone (with the shared tables) on a fresh SQLite file, and a clock to move.

    Deploying one process per test keeps a broken file from failing every other process's scenarios.
    """

    def __init__(self, tmp_path: Path, process_id: str, start: datetime) -> None:
        folder = tmp_path / "processes"
        folder.mkdir()
        shutil.copy(PROCESSES / f"{process_id}.bpmn", folder)
        for pattern in ("*.yaml", "*.dmn"):
            for path in PROCESSES.glob(pattern):
                if path.name != "counters.yaml" or _counts(process_id):
                    shutil.copy(path, folder)
        self.clock = FakeClock(start)
        self.engine = Engine(f"sqlite:///{tmp_path / 'efficacy.db'}", folder, clock=self.clock)
        self.process_id = process_id
        self.id = ""

    def start(self, data: Mapping[str, Any], actor: Actor) -> InstanceView:
        view = self.engine.start(self.process_id, data, actor)
        self.id = view.id
        return view

    def ready(self) -> list[str]:
        """The element ids of the instance's ready user tasks, sorted."""
        return sorted(t.element_id for t in self.engine.tasks(self.id))

    def task(self, element_id: str) -> TaskView:
        found = [t for t in self.engine.tasks(self.id) if t.element_id == element_id]
        assert len(found) == 1, f"{element_id} is not ready; ready: {self.ready()}"
        return found[0]

    def do(self, element_id: str, data: Mapping[str, Any], actor: Actor) -> InstanceView:
        return self.engine.complete(self.task(element_id).id, data, actor)

    def tick(self, when: datetime) -> list[str]:
        """Move the clock to ``when`` and tick; return the element ids of the timers that fired."""
        self.clock.set(when)
        fired: list[TimerFired] = self.engine.tick()
        return sorted(f.element_id for f in fired if f.instance_id == self.id)

    def sign_off(self, actor: Actor = LEADER) -> InstanceView:
        """complaint_closure: the handling unit's leader signs the reply off (领导签发)."""
        return self.do("Task_SignOff", {"signed_off": True, "sign_off_opinion": "同意签发"}, actor)

    def deliver(self, message: str, payload: Mapping[str, Any]) -> InstanceView:
        return self.engine.message(message, payload, {"instance_id": self.id})

    @property
    def view(self) -> InstanceView:
        return self.engine.instance(self.id)

    def history_kinds(self) -> list[str]:
        return [event.kind for event in self.engine.history(self.id)]
