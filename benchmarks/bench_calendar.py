"""Working-day arithmetic: efficacy_flow's calendar against workalendar's China and chinese-calendar.

Same random questions (start days in 2021–2022, where workalendar's China data is right; 1–30 working days) to
all three in one run; answers must be identical. Prints µs per call and how many times faster efficacy_flow is
(target: ≥ 250× workalendar), then the memory all bundled years take (tracemalloc; target: well under 1 MB).

    python -m benchmarks.bench_calendar [--quick]
"""

from __future__ import annotations

import argparse
import gc
import random
import sys
import time
import tracemalloc
import warnings
from collections.abc import Callable, Sequence
from datetime import date, timedelta
from typing import Any

TARGET_SPEEDUP = 250.0
MEMORY_BUDGET = 1_000_000


def _questions(count: int, seed: int = 20250926) -> list[tuple[date, date, int]]:
    rng = random.Random(seed)
    first = date(2021, 1, 1)
    out = []
    for _ in range(count):
        start = first + timedelta(days=rng.randrange(700))
        out.append((start, start + timedelta(days=rng.randrange(1, 45)), rng.randrange(1, 31)))
    return out


def _time(fn: Callable[[], list[Any]], repeat: int) -> tuple[float, list[Any]]:
    best = float("inf")
    result: list[Any] = []
    for _ in range(repeat):
        gc.collect()
        started = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - started)
    return best, result


def _memory() -> tuple[int, int]:
    """Bytes held by a fresh national calendar (all bundled years parsed, arrays built), and the peak."""
    from efficacy_flow.calendar import _data, china

    _data.bundled.cache_clear()
    gc.collect()
    tracemalloc.start()
    cal = china()
    current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del cal
    return current, peak


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench_calendar", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer questions (a smoke run of a few seconds)")
    args = parser.parse_args(argv)

    import chinese_calendar
    from workalendar.asia import China

    from efficacy_flow.calendar import china

    ours = china()
    theirs = China()
    n_fast, n_slow, repeat = (20_000, 300, 3) if args.quick else (200_000, 3_000, 5)
    fast_q = _questions(n_fast)
    slow_q = fast_q[:n_slow]

    with warnings.catch_warnings():
        # workalendar warns on every year lookup that its China data "needs update every year".
        warnings.simplefilter("ignore")
        theirs.add_working_days(
            date(2021, 1, 4), 1
        )  # warm its per-year caches, as a long-lived process would

        add = ours.add_working_days
        between = ours.working_days_between
        rows: list[tuple[str, str, int, float, list[Any]]] = []

        t, r = _time(lambda: [add(s, n) for s, _e, n in fast_q], repeat)
        rows.append(("add_working_days", "efficacy_flow", n_fast, t, r[:n_slow]))
        t, r = _time(lambda: [theirs.add_working_days(s, n) for s, _e, n in slow_q], 1)
        rows.append(("add_working_days", "workalendar China", n_slow, t, r))
        t, r = _time(
            lambda: [chinese_calendar.find_workday(n - 1, s + timedelta(days=1)) for s, _e, n in slow_q], 1
        )
        rows.append(("add_working_days", "chinese_calendar", n_slow, t, r))

        t, r = _time(lambda: [between(s, e) for s, e, _n in fast_q], repeat)
        rows.append(("working_days_between", "efficacy_flow", n_fast, t, r[:n_slow]))
        t, r = _time(lambda: [theirs.get_working_days_delta(s, e) for s, e, _n in slow_q], 1)
        rows.append(("working_days_between", "workalendar China", n_slow, t, r))
        t, r = _time(
            lambda: [len(chinese_calendar.get_workdays(s + timedelta(days=1), e)) for s, e, _n in slow_q], 1
        )
        rows.append(("working_days_between", "chinese_calendar", n_slow, t, r))

    failures = 0
    print(
        f"{'operation':<22} {'implementation':<18} {'calls':>8} {'µs/call':>10}"
        f" {'efficacy_flow is':>18}  answers"
    )
    baseline: dict[str, tuple[float, list[Any]]] = {}
    for op, impl, calls, seconds, answers in rows:
        per_call = seconds / calls * 1e6
        if impl == "efficacy_flow":
            baseline[op] = (per_call, answers)
            print(f"{op:<22} {impl:<18} {calls:>8} {per_call:>10.3f} {'(baseline)':>18}  -")
            continue
        ours_per_call, ours_answers = baseline[op]
        speedup = per_call / ours_per_call
        same = answers == ours_answers
        failures += not same
        verdict = ""
        if impl.startswith("workalendar"):
            verdict = (
                "  target met" if speedup >= TARGET_SPEEDUP else f"  BELOW the {TARGET_SPEEDUP:.0f}× target"
            )
        print(
            f"{op:<22} {impl:<18} {calls:>8} {per_call:>10.1f} {speedup:>16.0f}× faster"
            f"  {'identical' if same else 'DIFFERENT'}{verdict}"
        )

    current, peak = _memory()
    print()
    print(
        f"memory, all bundled years (2007–2026) parsed and indexed: {current / 1024:.0f} KiB held,"
        f" {peak / 1024:.0f} KiB peak while loading (budget: under 1 MB)"
    )
    if current >= MEMORY_BUDGET:
        failures += 1
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
