"""Durable counters: what counting costs a start, and what the cheap instance listing saves.

1. Starts of supervision_ladder over 20 units on durable SQLite: counted by counters.yaml (lock, event row,
   count query, audit event, first steps inside the transaction) against the same starts with the count passed
   by the caller (no counters.yaml). Reported: time per start and the ratio counted / uncounted.
2. Listing every instance: ``engine.instances()`` (rows only) against ``engine.instance(id)`` for each (which
   loads the workflow), with a cold workflow cache (``cache_size=0``).

Run: ``PYTHONPATH=src python benchmarks/bench_counters.py [--quick]``.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

from efficacy_flow.calendar import china
from efficacy_flow.clock import CHINA_TZ
from efficacy_flow.engine import Actor, Engine
from efficacy_flow.testing import FakeClock

PROCESSES = Path(__file__).resolve().parents[1] / "processes"
INSPECTOR = Actor("inspector-1", ["效能督查员"])
UNITS = [f"单位{i:02d}" for i in range(20)]


def _engine(root: Path, counted: bool) -> Engine:
    folder = root / "processes"
    folder.mkdir(parents=True)
    names = ["supervision_ladder.bpmn", "supervision_ladder.dmn", "schemas.yaml", "time_limits.yaml"]
    if counted:
        names.append("counters.yaml")
    for name in names:
        shutil.copy(PROCESSES / name, folder)
    clock = FakeClock(datetime(2025, 9, 26, 10, tzinfo=CHINA_TZ))
    return Engine(f"sqlite:///{root / 'bench.db'}", folder, calendar=china(), clock=clock, cache_size=0)


def _starts(engine: Engine, n: int, counted: bool) -> float:
    began = time.perf_counter()
    for i in range(n):
        data = {"unit": UNITS[i % len(UNITS)], "finding": "窗口工作人员脱岗"}
        if not counted:
            data["findings_in_period"] = i // len(UNITS) + 1
        engine.start("supervision_ladder", data, INSPECTOR)
    return time.perf_counter() - began


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer starts (finishes in seconds)")
    args = parser.parse_args(argv)
    n = 100 if args.quick else 1000
    rows: list[tuple[str, str, str, str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        plain = _engine(Path(tmp) / "plain", counted=False)
        counted = _engine(Path(tmp) / "counted", counted=True)
        base = _starts(plain, n, counted=False)
        cost = _starts(counted, n, counted=True)
        assert counted.counter("supervision_findings", UNITS[0]) == n // len(UNITS)
        rows.append((f"start ×{n} (uncounted, baseline)", f"{base / n * 1e3:.2f} ms", "1.00", ""))
        rows.append(
            (f"start ×{n} (counted)", f"{cost / n * 1e3:.2f} ms", f"{cost / base:.2f}", "counted/base")
        )
        began = time.perf_counter()
        ids = [view.id for view in counted.instances()]
        listing = time.perf_counter() - began
        began = time.perf_counter()
        for instance_id in ids:
            counted.instance(instance_id)
        loading = time.perf_counter() - began
        rows.append((f"instance(id) ×{len(ids)} (baseline)", f"{loading * 1e3:.1f} ms", "1.00", ""))
        rows.append(
            (f"instances() of {len(ids)}", f"{listing * 1e3:.1f} ms", f"{loading / listing:.1f}", "speed-up")
        )
        plain.store.close()
        counted.store.close()
    width = max(len(r[0]) for r in rows)
    print(f"{'measure':<{width}}  {'time':>10}  {'ratio':>6}")
    for name, value, ratio, note in rows:
        print(f"{name:<{width}}  {value:>10}  {ratio:>6}  {note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
