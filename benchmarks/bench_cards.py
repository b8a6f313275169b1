"""Cards (issue 14): issuing the yellow cards of 10,000 limits that run out at once.

``N`` instances (10,000; ``--quick``: 1,000) of the ladder fixture (tests/engine/fixtures/ladder: a
3-working-day limit with a deadline ladder) are started at the same instant, so every limit runs out at
2025-10-01 00:00. The clock is then set to that instant and ``tick()`` runs on 1 worker, and on 2 workers
(two processes, each its own engine on the same database, sharing the due rows through their leases); the
table shows the round's wall time and cards issued per second. The baseline is the same round on the same
process whose limit has no ladder (the timers fire, no card is issued), populated the same way and measured
in the same run: the ratio is what the cards cost.

On PostgreSQL (``EFFICACY_FLOW_TEST_PG``, default ``postgresql://postgres@127.0.0.1:5432/test``; a fresh
schema per round, dropped afterwards) and, for one worker, on SQLite.

Run: ``python -m benchmarks cards [--quick]``. Exits 1 if a count is wrong (every limit must give one yellow
card, none twice).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime
from pathlib import Path

from benchmarks._postgres import PG_DSN, pg_available
from efficacy_flow import CHINA_TZ, Actor, Engine, china
from efficacy_flow.store import Store
from efficacy_flow.testing import FakeClock

LADDER = Path(__file__).resolve().parents[1] / "tests" / "engine" / "fixtures" / "ladder"
CLERK = Actor("clerk", {"承办单位"})
T0 = datetime(2025, 9, 26, 10, 0, tzinfo=CHINA_TZ)
DUE = datetime(2025, 10, 1, 0, 0, tzinfo=CHINA_TZ)


def _folders(tmp: Path) -> dict[str, Path]:
    """The ladder fixture, and a copy whose limit has no ladder (the baseline)."""
    plain = tmp / "plain"
    shutil.copytree(LADDER, plain)
    text = (plain / "time_limits.yaml").read_text(encoding="utf-8")
    (plain / "time_limits.yaml").write_text(text.split("    ladder:")[0], encoding="utf-8")
    return {"ladder": LADDER, "plain": plain}


def _store(url: str, schema: str | None) -> Store:
    return Store(url, schema=schema) if schema else Store(url)


def _populate(url: str, schema: str | None, folder: Path, n: int) -> None:
    store = _store(url, schema)
    engine = Engine(store, folder, china(), FakeClock(T0))
    for i in range(n):
        engine.start("fx_ladder", {"title": f"工单{i}", "unit": f"单位{i % 20}"}, CLERK)
    store.close()


def _tick(url: str, schema: str | None, folder: str) -> tuple[float, float, int]:
    """One worker's round (in its own process): (start, end, timers fired)."""
    store = _store(url, schema)
    engine = Engine(store, Path(folder), china(), FakeClock(DUE), worker_id=f"w-{uuid.uuid4().hex[:6]}")
    # perf_counter is CLOCK_MONOTONIC on Linux: one clock for every process of the machine, so the workers'
    # instants compare.
    begin = time.perf_counter()
    fired = engine.tick()
    end = time.perf_counter()
    store.close()
    return begin, end, len(fired)


def _round(url: str, schema: str | None, folder: Path, n: int, workers: int) -> tuple[float, int, int, int]:
    """Populate, then run the round on ``workers`` processes: (wall s, fired, yellow cards, distinct)."""
    _populate(url, schema, folder, n)
    with ProcessPoolExecutor(workers) as pool:
        results = list(pool.map(_tick, [url] * workers, [schema] * workers, [str(folder)] * workers))
    wall = max(r[1] for r in results) - min(r[0] for r in results)
    fired = sum(r[2] for r in results)
    store = _store(url, schema)
    with store.read() as reader:
        cards = reader.cards(level="yellow")
    if schema:
        store.drop_schema()
    store.close()
    return wall, fired, len(cards), len({c.instance_id for c in cards})


def main(argv: list[str] | None = None) -> int:
    """Print the table; 1 if a count is wrong."""
    parser = argparse.ArgumentParser(prog="bench_cards", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1,000 limits, 1 round")
    args = parser.parse_args(argv)
    n, rounds = (1_000, 1) if args.quick else (10_000, 3)
    ok = True
    print(f"{n:,} limits running out at once; round wall time min/median/max of {rounds} rounds")
    print(
        f"{'backend':<12}{'workers':>8}{'ladder':>8}{'fired':>8}{'cards':>8}{'ms min/med/max':>22}"
        f"{'cards/s':>10}{'ratio':>7}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        folders = _folders(Path(tmp))
        setups: list[tuple[str, int]] = [("sqlite", 1)]
        if pg_available():
            setups += [("postgresql", 1), ("postgresql", 2)]
        else:
            print(f"PostgreSQL at {PG_DSN} does not answer: its rows are skipped")
        for backend, workers in setups:
            walls: dict[str, list[float]] = {"plain": [], "ladder": []}
            counts: dict[str, tuple[int, int, int]] = {}
            for r in range(rounds):
                for kind in ("plain", "ladder"):  # interleaved: load from elsewhere tilts neither side
                    if backend == "sqlite":
                        url, schema = f"sqlite:///{Path(tmp) / f'{kind}-{r}.db'}", None
                    else:
                        url, schema = PG_DSN, f"bench_cards_{uuid.uuid4().hex[:8]}"
                    wall, fired, cards, distinct = _round(url, schema, folders[kind], n, workers)
                    walls[kind].append(wall)
                    counts[kind] = (fired, cards, distinct)
                    expected = n if kind == "ladder" else 0
                    ok &= fired == n and cards == expected and distinct == expected
            for kind in ("plain", "ladder"):
                w = sorted(walls[kind])
                fired, cards, _ = counts[kind]
                rate = f"{cards / w[0]:,.0f}" if cards else "-"
                ratio = w[0] / min(walls["plain"])
                print(
                    f"{backend:<12}{workers:>8}{'yes' if kind == 'ladder' else 'no':>8}{fired:>8}{cards:>8}"
                    f"{f'{w[0] * 1e3:.0f}/{statistics.median(w) * 1e3:.0f}/{w[-1] * 1e3:.0f}':>22}"
                    f"{rate:>10}{ratio:>7.2f}"
                )
    print("ratio: the round's best time against the same round without a ladder (no cards), same backend")
    print("counts as required" if ok else "A COUNT IS WRONG")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
