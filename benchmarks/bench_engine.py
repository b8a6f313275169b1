"""Engine benchmarks (issues 4 and 12): durable speed against bare SpiffWorkflow, the cost of an uncached
instance, and stored bytes per instance.

1. The integrator loop (issue 12): per instance, ``start``; then ``engine.tasks(instance_id=…)`` and
   complete each ready task until none is ready — a 10-user-task process, SystemClock, durable SQLite (one
   transaction per call) — against the same process in memory on bare SpiffWorkflow (stock parser and script
   engine, no persistence). Target: ratio (bare time / engine time) >= 0.33, goal 0.5.
2. The loop of issue 4, kept as a second row: each call's returned view gives the next task (no ``tasks()``
   query), on a FakeClock.
3. For transparency, a reference row runs the bare loop on the engine's workflow class
   (engine/runtime/walk.py: the same SpiffWorkflow with a cheaper task walk); the targets are against the
   stock, unmodified baseline.
4. ``complete`` on an instance that is not cached (``cache_size=0``: every call loads the saved state)
   against one that is: target at most 1.5x.
5. Stored state per instance at a wait state: ours (zstd, no definition) against bare SpiffWorkflow's JSON.

Both sides of every ratio are timed in interleaved rounds in one process and the best round of each counts, so
load from elsewhere on a shared machine tilts no ratio. Run: ``python -m benchmarks engine [--quick]``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.camunda.parser.CamundaParser import CamundaParser
from SpiffWorkflow.camunda.serializer.config import CAMUNDA_CONFIG
from SpiffWorkflow.util.task import TaskState

from efficacy_flow.calendar import china
from efficacy_flow.clock import CHINA_TZ, FakeClock, SystemClock
from efficacy_flow.engine import Actor, Engine
from efficacy_flow.engine.runtime.walk import EngineWorkflow

FIXTURES = Path(__file__).resolve().parents[1] / "tests" / "engine" / "fixtures" / "basic"
CLERK = Actor("clerk", {"受理员"})


def _bare_spec() -> object:
    parser = CamundaParser()
    parser.add_bpmn_file(str(FIXTURES / "fx_ten.bpmn"))
    return parser.get_spec("fx_ten")


def _bare_run(spec: object, workflow_class: type[BpmnWorkflow] = BpmnWorkflow) -> BpmnWorkflow:
    workflow = workflow_class(spec)
    workflow.do_engine_steps()
    while not workflow.completed:
        task = workflow.get_next_task(state=TaskState.READY, manual=True)
        task.data["note"] = "ok"
        task.run()
        workflow.do_engine_steps()
    return workflow


def _integrator_run(engine: Engine) -> None:
    """What an integrator writes: find the work with tasks(), complete it, until none is left."""
    case = engine.start("fx_ten", {}, CLERK)
    while True:
        ready = engine.tasks(instance_id=case.id)
        if not ready:
            break
        for task in ready:
            engine.complete(task.id, {"note": "ok"}, CLERK)


def _view_run(engine: Engine) -> None:
    """Issue 4's loop: each call's returned view gives the next task."""
    view = engine.start("fx_ten", {}, CLERK)
    while view.tasks:
        view = engine.complete(view.tasks[0].id, {"note": "ok"}, CLERK)
    assert view.status == "completed"


def _best_per_run(runs: dict[str, tuple[Callable[[], object], int]], rounds: int) -> dict[str, float]:
    """Seconds per run of each callable: the best of ``rounds`` rounds, the callables interleaved.

    Interleaving and taking the best round keep the ratio honest on a shared, busy machine: a burst of load
    from elsewhere slows whichever round it hits, and the best round of each side is the one it spared.
    """
    best = dict.fromkeys(runs, float("inf"))
    for _ in range(rounds):
        for name, (run, repeats) in runs.items():
            begin = time.perf_counter()
            for _ in range(repeats):
                run()
            best[name] = min(best[name], (time.perf_counter() - begin) / repeats)
    return best


class _Waiting:
    """Instances parked at their sixth task, completed one by one (``complete`` on a cached or uncached
    engine): a fresh supply is made before each round, outside the timing."""

    def __init__(self, engine: Engine, count: int) -> None:
        self.engine = engine
        self.count = count
        self.tasks: list[str] = []

    def refill(self) -> None:
        self.tasks = []
        for _ in range(self.count):
            view = self.engine.start("fx_ten", {}, CLERK)
            for _ in range(5):
                view = self.engine.complete(view.tasks[0].id, {"note": "ok"}, CLERK)
            self.tasks.append(view.tasks[0].id)

    def complete_all(self) -> None:
        for task_id in self.tasks:
            self.engine.complete(task_id, {"note": "ok"}, CLERK)


def _complete_cost(cached: Engine, uncached: Engine, count: int, rounds: int) -> tuple[float, float]:
    """Seconds per ``complete`` on a cached and on an uncached engine (best of interleaved rounds)."""
    sides = {"cached": _Waiting(cached, count), "uncached": _Waiting(uncached, count)}
    best = dict.fromkeys(sides, float("inf"))
    for _ in range(rounds):
        for name, side in sides.items():
            side.refill()
            begin = time.perf_counter()
            side.complete_all()
            best[name] = min(best[name], (time.perf_counter() - begin) / count)
    return best["cached"], best["uncached"]


def main(argv: list[str] | None = None) -> int:
    """Run the benchmarks and print a table; returns 0."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions (well under 30 s)")
    args = parser.parse_args(argv)
    repeats = 20 if args.quick else 200
    rounds = 7 if args.quick else 15

    spec = _bare_spec()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        system = Engine(
            store=f"sqlite:///{folder / 'system.db'}",
            processes=FIXTURES,
            calendar=china(),
            clock=SystemClock(),
        )
        fake = Engine(
            store=f"sqlite:///{folder / 'fake.db'}",
            processes=FIXTURES,
            calendar=china(),
            clock=FakeClock(datetime(2025, 9, 26, 10, 0, tzinfo=CHINA_TZ)),
        )
        _integrator_run(system)  # warm caches (compiled code, parsed definitions)
        _view_run(fake)
        _bare_run(spec)
        timings = _best_per_run(
            {
                "bare": (lambda: _bare_run(spec), repeats),
                "walk": (lambda: _bare_run(spec, EngineWorkflow), repeats),
                "integrator": (lambda: _integrator_run(system), max(repeats // 4, 5)),
                "view": (lambda: _view_run(fake), max(repeats // 4, 5)),
            },
            rounds=rounds,
        )
        uncached_engine = Engine(
            store=f"sqlite:///{folder / 'uncached.db'}",
            processes=FIXTURES,
            calendar=china(),
            clock=SystemClock(),
            cache_size=0,
        )
        cached_cost, uncached_cost = _complete_cost(
            system, uncached_engine, 10 if args.quick else 40, rounds=5 if args.quick else 9
        )

        # Stored bytes at a wait state (after 5 of 10 tasks).
        inst = system.start("fx_ten", {}, CLERK)
        for _ in range(5):
            system.complete(system.tasks(instance_id=inst.id)[0].id, {"note": "ok"}, CLERK)
        with system.store.read() as reader:
            record = reader.get_instance(inst.id)
        assert record is not None
        ours = len(record.state)
        for engine in (system, fake, uncached_engine):
            engine.store.close()

    workflow = BpmnWorkflow(spec)
    workflow.do_engine_steps()
    for _ in range(5):
        task = workflow.get_next_task(state=TaskState.READY, manual=True)
        task.data["note"] = "ok"
        task.run()
        workflow.do_engine_steps()
    serializer = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(CAMUNDA_CONFIG))
    theirs = len(serializer.serialize_json(workflow).encode("utf-8"))

    bare, walk = timings["bare"], timings["walk"]
    integrator, view = timings["integrator"], timings["view"]
    rows = [
        ("10-task process, bare SpiffWorkflow in memory (baseline)", f"{bare * 1000:.2f} ms", "1.00"),
        (
            "10-task process, bare loop on the engine's workflow class (reference)",
            f"{walk * 1000:.2f} ms",
            f"{bare / walk:.2f}",
        ),
        (
            "10-task process, integrator loop: tasks() + complete, SystemClock, durable SQLite",
            f"{integrator * 1000:.2f} ms",
            f"{bare / integrator:.2f}",
        ),
        (
            "10-task process, issue-4 loop: the returned view's tasks, FakeClock",
            f"{view * 1000:.2f} ms",
            f"{bare / view:.2f}",
        ),
        ("complete, instance cached (baseline)", f"{cached_cost * 1e6:.0f} µs", "1.00"),
        (
            "complete, instance not cached (cache_size=0)",
            f"{uncached_cost * 1e6:.0f} µs",
            f"{uncached_cost / cached_cost:.2f}",
        ),
        ("stored state at a wait state, bare SpiffWorkflow JSON (baseline)", f"{theirs} B", "1.00"),
        ("stored state at a wait state, efficacy_flow", f"{ours} B", f"{ours / theirs:.2f}"),
    ]
    width = max(len(r[0]) for r in rows)
    print(f"{'benchmark':<{width}}  {'value':>10}  {'ratio':>6}")
    for name, value, ratio in rows:
        print(f"{name:<{width}}  {value:>10}  {ratio:>6}")
    print(
        f"integrator loop: {bare / integrator:.2f} of bare (target >= 0.33, goal 0.5); issue-4 loop: "
        f"{bare / view:.2f}; uncached complete: {uncached_cost / cached_cost:.2f}x cached (target <= 1.5); "
        f"state: {ours} B (target <= 4096 B)"
    )
    print(
        f"against the reference row (SpiffWorkflow's steps as the engine runs them): {walk / integrator:.2f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
