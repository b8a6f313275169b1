"""Incidents (issue 12): one failing instance among many due timers stops nothing.

``N`` instances (1,000; ``--quick``: 200) wait on a one-hour timer followed by a script ``quotient = 100 //
divisor``; one was started with ``divisor = 0``. After the hour, one ``tick()`` — the round — must fire the
``N - 1`` others, roll the failing step back and hold it for its retries; once the retries (the default
:class:`RetryPolicy`: 3 attempts, 30 s then 60 s apart) have run out, exactly one incident is open, naming the
script, and ``check_consistency()`` reports it. The round's time is compared with the same round where no
instance fails (the baseline, measured in the same run on a store populated the same way), so the table shows
what the failure costs the others.

Both on SQLite and, when it answers, on PostgreSQL (``EFFICACY_FLOW_TEST_PG``, default
``postgresql://postgres@127.0.0.1:5432/test``; a fresh schema per run, dropped afterwards).

Run: ``python -m benchmarks incidents [--quick]``. Exits 1 if a count is wrong.
"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path

from benchmarks._postgres import PG_DSN, pg_available, pg_store
from efficacy_flow import CHINA_TZ, Actor, Engine, china
from efficacy_flow.store import Store
from efficacy_flow.testing import FakeClock

FIXTURES = Path(__file__).resolve().parents[1] / "tests" / "engine" / "fixtures" / "steps"
CLERK = Actor("clerk", {"受理员"})
T0 = datetime(2025, 9, 26, 10, 0, tzinfo=CHINA_TZ)


@contextmanager
def _sqlite_store(tmp: Path) -> Iterator[Store]:
    store = Store(f"sqlite:///{tmp / f'{uuid.uuid4().hex[:8]}.db'}")
    try:
        yield store
    finally:
        store.close()


def _round(store: Store, instances: int, failing: int) -> dict[str, float]:
    """Populate, then time the first round after the hour; then run out the retries."""
    clock = FakeClock(T0)
    engine = Engine(store, FIXTURES, china(), clock)
    bad = set()
    for i in range(instances):
        view = engine.start("fx_divide", {"divisor": 0 if i < failing else 1}, CLERK)
        if i < failing:
            bad.add(view.id)
    clock.advance(timedelta(hours=1, seconds=1))
    begin = time.perf_counter()
    fired = engine.tick()
    wall = time.perf_counter() - begin
    fired_ids = {f.instance_id for f in fired}
    result = {
        "wall": wall,
        "fired": len(fired_ids),
        "failing_fired": len(fired_ids & bad),
        "incidents_after_round": len(engine.incidents()),
    }
    for wait in (30, 60):  # the default RetryPolicy: 3 attempts, 30 s then 60 s between them
        clock.advance(timedelta(seconds=wait + 1))
        engine.tick()
    incidents = engine.incidents()
    result["incidents"] = len(incidents)
    result["incident_ok"] = float(
        all(i.instance_id in bad and i.element_id == "Script_Divide" and i.attempts == 3 for i in incidents)
    )
    report = engine.check_consistency()
    result["reported"] = float(
        sum(1 for f in report.findings if f.check == "open_incident") == failing and not report.ok
    )
    return result


def main(argv: list[str] | None = None) -> int:
    """Print the table; 1 if any count is not what the issue requires."""
    parser = argparse.ArgumentParser(prog="bench_incidents", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="200 instances, 2 rounds")
    args = parser.parse_args(argv)
    logging.getLogger("efficacy_flow").setLevel(logging.ERROR)  # each failed attempt is logged: not the table
    instances, rounds = (200, 2) if args.quick else (1_000, 3)
    backends = ["sqlite"] + (["postgresql"] if pg_available() else [])
    if "postgresql" not in backends:
        print(f"PostgreSQL at {PG_DSN} does not answer: its rows are skipped")
    ok = True
    print(f"{instances:,} due timers, best/median/max of {rounds} rounds (the baseline: none failing)")
    print(
        f"{'backend':<12}{'failing':>8}{'fired':>7}{'held':>6}{'incidents':>11}"
        f"{'round ms min/med/max':>24}{'ratio':>7}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        for backend in backends:
            walls: dict[int, list[float]] = {0: [], 1: []}
            last: dict[int, dict[str, float]] = {}
            for _ in range(rounds):
                for failing in (0, 1):  # interleaved: load from elsewhere tilts neither side
                    opened = _sqlite_store(Path(tmp)) if backend == "sqlite" else pg_store("bench_incidents")
                    with opened as store:
                        result = _round(store, instances, failing)
                    walls[failing].append(result["wall"])
                    last[failing] = result
                    ok &= result["fired"] == instances - failing and result["failing_fired"] == 0
                    ok &= result["incidents_after_round"] == 0 and result["incidents"] == failing
                    ok &= bool(result["incident_ok"])
                    ok &= bool(result["reported"]) if failing else True
            for failing in (0, 1):
                w = sorted(walls[failing])
                ratio = min(walls[1]) / min(walls[0]) if failing else 1.0
                held = instances - int(last[failing]["fired"])
                print(
                    f"{backend:<12}{failing:>8}{int(last[failing]['fired']):>7}{held:>6}"
                    f"{int(last[failing]['incidents']):>11}"
                    f"{f'{w[0] * 1e3:.0f}/{statistics.median(w) * 1e3:.0f}/{w[-1] * 1e3:.0f}':>24}"
                    f"{ratio:>7.2f}"
                )
    print(
        "fired: instances whose timer fired in the round; held: failed and held for retry; incidents: open "
        "after the retries ran out"
    )
    print("counts as required" if ok else "A COUNT IS WRONG")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
