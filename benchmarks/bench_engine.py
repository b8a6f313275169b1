"""Engine benchmarks (issue 4): durable speed against bare SpiffWorkflow, and stored bytes per instance.

1. A 10-user-task process run to completion: efficacy_flow with durable SQLite (one transaction per call,
   start + 10 completions) against the same process in memory on bare SpiffWorkflow (stock parser and script
   engine, no persistence). Target: ratio (bare time / engine time) >= 0.33. For transparency a reference row
   runs the bare loop on the engine's workflow class (engine/_workflow.py: the same SpiffWorkflow with a
   cheaper task walk), so the share of the ratio that comes from SpiffWorkflow's own steps running faster
   inside the engine is visible; the target is measured against the stock, unmodified baseline.
2. Stored state per instance at a wait state: our zstd-compressed, definition-free state against bare
   SpiffWorkflow's JSON (which embeds the definition). Target: <= 4 KB.

Run: ``PYTHONPATH=src python benchmarks/bench_engine.py [--quick]``.
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
from efficacy_flow.clock import CHINA_TZ
from efficacy_flow.engine import Actor, Engine
from efficacy_flow.engine._workflow import EngineWorkflow
from efficacy_flow.testing import FakeClock

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


def _engine_run(engine: Engine) -> None:
    # Each call returns the instance's ready tasks, as an integrator's UI would use them.
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


def main(argv: list[str] | None = None) -> int:
    """Run the benchmarks and print a table; returns 0."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions (well under 20 s)")
    args = parser.parse_args(argv)
    repeats = 20 if args.quick else 200

    spec = _bare_spec()
    with tempfile.TemporaryDirectory() as tmp:
        clock = FakeClock(datetime(2025, 9, 26, 10, 0, tzinfo=CHINA_TZ))
        engine = Engine(
            store=f"sqlite:///{Path(tmp) / 'bench.db'}", processes=FIXTURES, calendar=china(), clock=clock
        )
        _engine_run(engine)  # warm caches (compiled code, parsed definitions)
        _bare_run(spec)
        timings = _best_per_run(
            {
                "bare": (lambda: _bare_run(spec), repeats),
                "walk": (lambda: _bare_run(spec, EngineWorkflow), repeats),
                "durable": (lambda: _engine_run(engine), max(repeats // 4, 5)),
            },
            rounds=7 if args.quick else 15,
        )
        bare, walk, durable = timings["bare"], timings["walk"], timings["durable"]

        # Stored bytes at a wait state (after 5 of 10 tasks).
        inst = engine.start("fx_ten", {}, CLERK)
        for _ in range(5):
            engine.complete(engine.tasks(instance_id=inst.id)[0].id, {"note": "ok"}, CLERK)
        with engine.store.transaction() as tx:
            record = tx.get_instance(inst.id)
        assert record is not None
        ours = len(record.state)
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

    speed_ratio = bare / durable
    rows = [
        ("10-task process, bare SpiffWorkflow in memory (baseline)", f"{bare * 1000:.2f} ms", "1.00"),
        (
            "10-task process, bare loop on the engine's workflow class (reference)",
            f"{walk * 1000:.2f} ms",
            f"{bare / walk:.2f}",
        ),
        ("10-task process, efficacy_flow durable SQLite", f"{durable * 1000:.2f} ms", f"{speed_ratio:.2f}"),
        ("stored state at a wait state, bare SpiffWorkflow JSON (baseline)", f"{theirs} B", "1.00"),
        ("stored state at a wait state, efficacy_flow", f"{ours} B", f"{ours / theirs:.2f}"),
    ]
    width = max(len(r[0]) for r in rows)
    print(f"{'benchmark':<{width}}  {'value':>10}  {'ratio':>6}")
    for name, value, ratio in rows:
        print(f"{name:<{width}}  {value:>10}  {ratio:>6}")
    print(f"speed: {speed_ratio:.2f} of bare (target >= 0.33); state: {ours} B (target <= 4096 B)")
    print(f"against the reference row (SpiffWorkflow's steps as the engine runs them): {walk / durable:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
