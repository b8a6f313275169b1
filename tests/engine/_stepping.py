"""Driving a workflow step by step through the runtime seam, below the engine: user tasks, time limits
running out, a message."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

from efficacy_flow.calendar import china
from efficacy_flow.engine._definitions import Deployment, Services, build_deployment, read_folder
from efficacy_flow.engine._sandbox import Sandbox
from efficacy_flow.engine.runtime.workflow import SpiffWorkflow
from efficacy_flow.testing import FakeClock


def deployments(folder: Path, clock: FakeClock, *, fast: bool = True) -> dict[str, Deployment]:
    """Every process of a fixture folder, deployed as the engine deploys it (``fast``: the runtime's fast
    paths, else SpiffWorkflow's stock ones)."""
    sources, _ = read_folder(folder)
    services = Services(sandbox=Sandbox(), clock=clock, calendar=china(), fast_paths=fast)
    return {source.process_id: build_deployment(source, services) for source in sources}


def steps(
    deployment: Deployment, clock: FakeClock, start: Mapping[str, Any], data: Mapping[str, Any], offset: int
) -> Iterator[SpiffWorkflow]:
    """Yield a fresh workflow after its first steps, then after each of up to 24 steps.

    Two of three steps complete a ready user task with ``data``; the third lets every time limit run out or
    sends a dissatisfied rating (caught or, where nothing waits for it, kept as an event); ``offset`` shifts
    that rhythm (2: time runs out first).
    """
    workflow = deployment.runtime.new("00000000-0000-7000-8000-000000000001")
    assert isinstance(workflow, SpiffWorkflow)
    workflow.start(dict(start), clock.now())
    yield workflow
    for step in range(24):
        if workflow.completed:
            return
        ready = workflow.snapshot(clock.now()).tasks
        if ready and (step + offset) % 3 != 2:
            workflow.complete(ready[0].id, dict(data), clock.now())
        elif step % 2 == 0:
            clock.advance(timedelta(days=20))  # let every time limit run out
            workflow.fire_due(clock.now())
        else:
            workflow.catch("rating", {"rating": "不满意", "comment": "未修复"}, clock.now())
        yield workflow
