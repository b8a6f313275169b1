"""Reads that never wait for a writer (issue 12): ``engine.tasks(instance_id=…)`` on SQLite while another
process holds a write transaction.

A second process opens the same database, takes SQLite's write lock (``BEGIN IMMEDIATE``), changes rows and
holds the uncommitted transaction for 5 s (``--quick``: 2 s). Meanwhile this process calls
``engine.tasks(instance_id=…)`` in a loop and times each call; the same loop runs unblocked just before and
just after, in the same run. Reported: the median latency while blocked against the unblocked median (target
ratio <= 2), and the unblocked µs per call. Every blocked call must also return the last committed rows.

Before issue 12 every read began ``BEGIN IMMEDIATE``: each call during the hold waited for the lock and,
past the store's 30 s busy timeout, failed.

Run: ``python -m benchmarks reads`` or ``PYTHONPATH=src python benchmarks/bench_reads.py [--quick]``.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from efficacy_flow.calendar import china
from efficacy_flow.clock import SystemClock
from efficacy_flow.engine import Actor, Engine

FIXTURES = Path(__file__).resolve().parents[1] / "tests" / "engine" / "fixtures" / "basic"
CLERK = Actor("clerk", {"受理员"})

#: The other process: take the write lock, change every task row, hold it uncommitted, then roll back.
_WRITER = """
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("BEGIN IMMEDIATE")
db.execute("UPDATE ef_tasks SET name = 'uncommitted'")
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
db.execute("ROLLBACK")
print("released", flush=True)
"""


def _latencies(engine: Engine, instance_id: str, seconds: float, expected: list[str]) -> list[float]:
    """Time single ``tasks()`` calls for ``seconds``; every call must return ``expected`` (task names)."""
    samples: list[float] = []
    stop = time.perf_counter() + seconds
    while True:
        began = time.perf_counter()
        tasks = engine.tasks(instance_id=instance_id)
        ended = time.perf_counter()
        samples.append(ended - began)
        if [t.name for t in tasks] != expected:
            raise AssertionError(f"tasks() returned {tasks}, not the committed rows")
        if ended > stop:
            return samples


def _per_call(engine: Engine, instance_id: str, n: int) -> float:
    """Mean µs per call over a tight loop of ``n`` calls (best of 5)."""
    best = float("inf")
    for _ in range(5):
        began = time.perf_counter()
        for _ in range(n):
            engine.tasks(instance_id=instance_id)
        best = min(best, (time.perf_counter() - began) / n)
    return best * 1e6


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a 2 s hold instead of 5 s")
    args = parser.parse_args(argv)
    hold = 2.0 if args.quick else 5.0
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "reads.db"
        engine = Engine(f"sqlite:///{path}", FIXTURES, calendar=china(), clock=SystemClock())
        ids = [engine.start("fx_ten", {}, CLERK).id for _ in range(50)]
        instance_id = ids[len(ids) // 2]
        expected = [t.name for t in engine.tasks(instance_id=instance_id)]
        _per_call(engine, instance_id, 2000)  # warm up: caches, the read connection, the statement cache
        before = _latencies(engine, instance_id, hold / 2, expected)
        writer = subprocess.Popen(
            [sys.executable, "-c", _WRITER, str(path), str(hold)], stdout=subprocess.PIPE, text=True
        )
        assert writer.stdout is not None
        if writer.stdout.readline() != "locked\n":
            raise AssertionError("the writer process did not take the lock")
        blocked = _latencies(engine, instance_id, hold * 0.9, expected)
        if writer.stdout.readline() != "released\n":
            raise AssertionError("the writer process did not hold the lock for the whole window")
        writer.wait(30)
        after = _latencies(engine, instance_id, hold / 2, expected)
        per_call = _per_call(engine, instance_id, 5000)
        engine.store.close()
    unblocked = statistics.median(before + after)
    during = statistics.median(blocked)
    ratio = during / unblocked
    n_unblocked, n_blocked = len(before) + len(after), len(blocked)
    rows = [
        (f"tasks(instance_id) unblocked, median of {n_unblocked}", f"{unblocked * 1e6:.1f} µs", "1.00"),
        (
            f"tasks(instance_id) while a write is held {hold:.0f} s, median of {n_blocked}",
            f"{during * 1e6:.1f} µs",
            f"{ratio:.2f}",
        ),
        ("tasks(instance_id) unblocked, µs per call (tight loop, best of 5)", f"{per_call:.1f} µs", ""),
    ]
    width = max(len(r[0]) for r in rows)
    print(f"{'measure':<{width}}  {'time':>10}  {'ratio':>6}")
    for name, value, shown in rows:
        print(f"{name:<{width}}  {value:>10}  {shown:>6}")
    print(f"target: blocked/unblocked <= 2 ({'met' if ratio <= 2 else 'NOT met'})")
    return 0 if ratio <= 2 else 1


if __name__ == "__main__":
    sys.exit(main())
