"""Work-list pages against store size (issue 13): a page of 50 ready tasks of one unit.

Per size (1,000, 100,000 and 1,000,000 open instances; ``--quick``: 1,000, 10,000 and 100,000), one SQLite
store holds that many open fx_handle instances spread over 10 units (each a ready 办理 with a due time and two
timers), made as benchmarks/bench_scale.py makes them: real started instances copied with fresh ids. Timed,
as an integrator's service calls it (SystemClock, a fresh engine, no cache): ``engine.tasks(unit=…,
limit=50)`` (the first page), a page from the middle of the unit's list (``after=`` the last id of the page
before), and
``overdue=True`` across units (50 of them). Median of 30 calls each; target: the largest size at most 2x the
smallest. For contrast, the unpaged ``engine.tasks(unit=…)`` (every task of the unit) is timed too.

The outbox at the same sizes: the store holds two events per instance (what their starts append:
``instance_started`` and ``task_ready``; at least 20,000), written in large batches; timed is reading 10,000
events from the middle, ``engine.events(after=…, limit=1000)`` ten times, as a delivery loop reads them;
target as above.

Run: ``python -m benchmarks pages [--quick]``.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from benchmarks.bench_scale import FIXTURES, OPERATOR, T0, Template, populate
from efficacy_flow.calendar import china
from efficacy_flow.clock import SystemClock
from efficacy_flow.engine import Engine, TaskView
from efficacy_flow.store import Store
from efficacy_flow.testing import FakeClock

UNITS = [f"区{n}局" for n in range(10)]
PAGE = 50


def _templates(store: Store) -> list[Template]:
    """One started instance per unit (their starts a day apart, so the due times differ), then removed."""
    clock = FakeClock(T0)
    engine = Engine(store, FIXTURES, china(), clock)
    made = []
    for unit in UNITS:
        made.append(
            Template(store, engine.start("fx_handle", {"title": "路灯不亮", "unit": unit}, OPERATOR).id)
        )
        clock.advance(timedelta(days=1))
    with store.transaction() as tx:
        for table in ("ef_audit_events", "ef_deadlines", "ef_tasks", "ef_instances"):
            tx.execute(f"DELETE FROM {table}")
    return made


def _median_ms(call: Callable[[], list[TaskView]], rounds: int = 30) -> tuple[float, int]:
    times, count = [], 0
    for _ in range(rounds):
        begin = time.perf_counter()
        count = len(call())
        times.append(time.perf_counter() - begin)
    return statistics.median(times) * 1000, count


def measure(tmp: Path, size: int, unpaged: bool) -> dict[str, float]:
    path = tmp / f"pages_{size}.db"
    store = Store(f"sqlite:///{path}")
    templates = _templates(store)
    per_unit = size // len(templates)
    begin = time.perf_counter()
    populate(store, [(t, per_unit) for t in templates])
    events_n = max(2 * size, 20_000)  # at least 10,000 after the middle
    _fill_outbox(store, events_n)
    made_s = time.perf_counter() - begin
    store.close()
    engine = Engine(f"sqlite:///{path}", FIXTURES, china(), SystemClock(), cache_size=0)
    unit = UNITS[3]
    first, got = _median_ms(lambda: engine.tasks(unit=unit, limit=PAGE))
    assert got == PAGE
    after = None
    for _ in range(per_unit // 2 // PAGE):  # to the middle of the unit's list, page by page
        after = engine.tasks(unit=unit, limit=PAGE, after=after)[-1].id
    deep, got = _median_ms(lambda: engine.tasks(unit=unit, limit=PAGE, after=after))
    assert got == PAGE
    overdue, got = _median_ms(lambda: engine.tasks(overdue=True, limit=PAGE))
    assert got == PAGE  # every fixture due time lies in 2025: all are overdue by the system clock
    whole = _median_ms(lambda: engine.tasks(unit=unit), rounds=3)[0] if unpaged else float("nan")
    middle = events_n // 2

    def read_10k() -> list[int]:
        seen, after = [], middle
        for _ in range(10):
            page = engine.events(after=after, limit=1000)
            seen += [e.seq for e in page]
            after = page[-1].seq
        return seen

    events, got = _median_ms(read_10k, rounds=10)  # type: ignore[arg-type]
    assert got == 10_000
    engine.store.close()
    path.unlink()
    return {
        "first": first,
        "deep": deep,
        "overdue": overdue,
        "whole": whole,
        "events": events,
        "made_s": made_s,
    }


def _fill_outbox(store: Store, n: int) -> None:
    """``n`` outbox events as starts append them (one instance_started and one task_ready per start)."""
    at = T0
    payload = '{"element_id":"Task_Handle","name":"办理诉求","role":"承办单位","assignee":null,"due_at":null}'
    for first in range(0, n, 20_000):
        with store.transaction() as tx:
            for _ in range(first, min(n, first + 20_000), 2):
                tx.append_outbox(
                    [
                        ("instance_started", None, None, None, at, '{"actor":"op-1"}'),
                        ("task_ready", None, None, UNITS[0], at, payload),
                    ]
                )


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print a table; returns 0."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1,000 / 10,000 / 100,000 instances")
    args = parser.parse_args(argv)
    sizes = [1_000, 10_000, 100_000] if args.quick else [1_000, 100_000, 1_000_000]
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for size in sizes:
            results[size] = measure(Path(tmp), size, unpaged=size <= 100_000)
    base = results[sizes[0]]
    heads = ("first page", "middle page", "overdue page", "whole unit", "10k events")
    print(f"{'open instances':>15}  " + "  ".join(f"{h:>12}" for h in heads))
    for size, r in results.items():
        print(
            f"{size:>15,}  {r['first']:>9.2f} ms  {r['deep']:>9.2f} ms  {r['overdue']:>9.2f} ms  "
            f"{r['whole']:>9.1f} ms  {r['events']:>9.1f} ms   (made in {r['made_s']:.0f} s)"
        )
    top = results[sizes[-1]]
    print(
        f"largest / smallest: first page {top['first'] / base['first']:.2f}, middle page "
        f"{top['deep'] / base['deep']:.2f}, overdue page {top['overdue'] / base['overdue']:.2f}, 10k events "
        f"{top['events'] / base['events']:.2f} (target <= 2)"
    )
    return 0
