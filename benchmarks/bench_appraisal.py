"""Appraisal (issue 14): a month's figures over 1,000,000 cases against the hand-written ``GROUP BY``.

The store holds ``N`` cases' facts (1,000,000; ``--quick``: 100,000), spread over the twelve months of 2025,
100 units, 8 regions and 5 case types, with responses, closings, missed limits, five-level ratings and
"solved" answers drawn from a fixed seed (written through the store's own batch upsert, as the engine's saves
would leave them). Then, in interleaved rounds on the same database:

- **baseline**: the hand-written SQL a DBA would write for October's figures per unit — one ``GROUP BY unit``
  with the same ``CASE`` sums over ``ef_case_facts`` — run on the raw driver connection and fetched;
- **appraise**: ``efficacy_flow.metrics.appraise(engine, October, by=("unit",))``, rows built with their
  rates.

Target: appraise at most 3x the baseline, on SQLite and on PostgreSQL (``EFFICACY_FLOW_TEST_PG``, default
``postgresql://postgres@127.0.0.1:5432/test``; a fresh schema, dropped afterwards). min/median/max of the
rounds are printed; the ratio is of the best rounds. Exits 1 if the two disagree on a count.

Run: ``python -m benchmarks appraisal [--quick]``.
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from benchmarks._postgres import PG_DSN, pg_available
from efficacy_flow import CHINA_TZ, Engine, china
from efficacy_flow.metrics import appraise
from efficacy_flow.store import CaseFactsRecord, Store
from efficacy_flow.testing import FakeClock

PROCESSES = Path(__file__).resolve().parents[1] / "processes"
START = datetime(2025, 1, 1, tzinfo=CHINA_TZ)
OCTOBER = (datetime(2025, 10, 1, tzinfo=CHINA_TZ), datetime(2025, 11, 1, tzinfo=CHINA_TZ))
RATINGS = ("非常满意", "满意", "基本满意", "不满意", "非常不满意")

#: The baseline: what a DBA writes for the month's figures per unit (the same sums appraise asks for).
HAND_WRITTEN = """
SELECT unit, count(*),
  sum(CASE WHEN signed_at IS NOT NULL THEN 1 ELSE 0 END),
  sum(CASE WHEN signed_at IS NOT NULL AND NOT sign_late THEN 1 ELSE 0 END),
  sum(CASE WHEN closed_at IS NOT NULL THEN 1 ELSE 0 END),
  sum(CASE WHEN closed_at IS NOT NULL AND limits_missed = 0 THEN 1 ELSE 0 END),
  sum(CASE WHEN rating IS NOT NULL AND (rating_defaulted IS NULL OR NOT rating_defaulted) THEN 1 ELSE 0 END),
  sum(CASE WHEN rating IN ('非常满意', '满意', '基本满意')
           AND (rating_defaulted IS NULL OR NOT rating_defaulted) THEN 1 ELSE 0 END),
  sum(CASE WHEN rating IN ('不满意', '非常不满意')
           AND (rating_defaulted IS NULL OR NOT rating_defaulted) THEN 1 ELSE 0 END),
  sum(CASE WHEN solved IS NOT NULL THEN 1 ELSE 0 END),
  sum(CASE WHEN solved THEN 1 ELSE 0 END)
FROM ef_case_facts
WHERE received_at >= {p} AND received_at < {p} AND status <> 'cancelled'
GROUP BY unit ORDER BY unit
"""


def _facts(n: int, seed: int = 14) -> list[CaseFactsRecord]:
    rng = random.Random(seed)
    span = 365 * 24 * 3600
    found = []
    for _ in range(n):
        received = START + timedelta(seconds=rng.randrange(span))
        signed = received + timedelta(hours=rng.uniform(0.2, 30)) if rng.random() < 0.97 else None
        closed = received + timedelta(days=rng.uniform(1, 12)) if rng.random() < 0.9 else None
        rated = closed is not None and rng.random() < 0.8
        rating = rng.choices(RATINGS, (30, 40, 15, 10, 5))[0] if rated else None
        found.append(
            CaseFactsRecord(
                instance_id=str(uuid.UUID(int=rng.getrandbits(128))),
                process_id="complaint_closure",
                period=received.strftime("%Y-%m"),
                received_at=received,
                status="completed" if closed else rng.choice(("active", "active", "cancelled")),
                unit=f"单位{rng.randrange(100):03d}",
                region=f"区{rng.randrange(8)}",
                case_type=rng.choice(("投诉", "求助", "咨询", "建议", "举报")),
                category=f"类别{rng.randrange(30)}",
                sector=f"行业{rng.randrange(12)}",
                signed_at=signed,
                sign_late=None if signed is None else signed - received > timedelta(hours=24),
                replied_at=closed,
                closed_at=closed,
                limits_missed=1 if closed is not None and rng.random() < 0.08 else 0,
                first_rating=rating,
                rating=rating,
                rating_defaulted=(rng.random() < 0.1) if rating else None,
                solved=(rng.random() < 0.85) if rated and rng.random() < 0.7 else None,
                updated_at=closed or received,
            )
        )
    return found


def _populate(store: Store, n: int) -> None:
    facts = _facts(n)
    for i in range(0, n, 20_000):
        with store.transaction() as tx:
            tx.save_many_case_facts(facts[i : i + 20_000])


def _best(runs: dict[str, Callable[[], Any]], rounds: int) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(rounds):
        for name, run in runs.items():
            begin = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - begin)
    return times


def _connect(url: str, schema: str | None) -> Any:
    """The driver's own connection to the store's database (the hand-written baseline's)."""
    if schema is None:
        return sqlite3.connect(url.removeprefix("sqlite:///"))
    import psycopg

    return psycopg.connect(PG_DSN, options=f"-csearch_path={schema}")


def _utc_naive(moment: datetime) -> datetime:
    """An instant as the store keeps it: naive UTC (store/_schema.py)."""
    return moment.astimezone(UTC).replace(tzinfo=None)


def _measure(
    url: str, schema: str | None, engine: Engine, rounds: int
) -> tuple[dict[str, list[float]], bool]:
    sqlite = schema is None
    text = HAND_WRITTEN.format(p="?" if sqlite else "%s")
    lower, upper = (_utc_naive(d) for d in OCTOBER)
    # SQLite keeps instants as text, YYYY-MM-DD HH:MM:SS.ffffff (what SQLAlchemy's DATETIME writes).
    bounds: tuple[Any, ...] = (
        tuple(d.strftime("%Y-%m-%d %H:%M:%S.%f") for d in (lower, upper)) if sqlite else (lower, upper)
    )
    raw = _connect(url, schema)
    try:

        def baseline() -> list[Any]:
            cursor = raw.cursor()
            cursor.execute(text, bounds)
            rows = cursor.fetchall()
            cursor.close()
            raw.rollback()
            return list(rows)

        def ours() -> list[Any]:
            return appraise(engine, *OCTOBER)

        times = _best({"baseline": baseline, "appraise": ours}, rounds)
        hand = {r[0]: tuple(int(v or 0) for v in r[1:]) for r in baseline()}
        mine = {
            r.key["unit"]: (
                r.received,
                r.responded,
                r.responded_on_time,
                r.closed,
                r.closed_on_time,
                r.rated,
                r.satisfied,
                r.bad,
                r.solved_answered,
                r.solved,
            )
            for r in ours()
        }
        return times, hand == mine and len(hand) == 100
    finally:
        raw.close()


def main(argv: list[str] | None = None) -> int:
    """Print the table; 1 if the hand-written SQL and appraise disagree."""
    parser = argparse.ArgumentParser(prog="bench_appraisal", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100,000 cases, 5 rounds")
    args = parser.parse_args(argv)
    n, rounds = (100_000, 5) if args.quick else (1_000_000, 9)
    ok = True
    print(f"{n:,} cases over 2025; October's figures per unit; min/median/max of {rounds} rounds")
    print(f"{'backend':<12}{'query':<12}{'ms min/med/max':>24}{'ratio':>8}")
    with tempfile.TemporaryDirectory() as tmp:
        backends = ["sqlite"] + (["postgresql"] if pg_available() else [])
        if "postgresql" not in backends:
            print(f"PostgreSQL at {PG_DSN} does not answer: its rows are skipped")
        for backend in backends:
            if backend == "sqlite":
                url, schema = f"sqlite:///{Path(tmp) / 'appraisal.db'}", None
                store = Store(url)
            else:
                url, schema = PG_DSN, f"bench_appraisal_{uuid.uuid4().hex[:8]}"
                store = Store(url, schema=schema)
            try:
                populate_begin = time.perf_counter()
                _populate(store, n)
                populated = time.perf_counter() - populate_begin
                engine = Engine(store, PROCESSES, china(), FakeClock(OCTOBER[1]))
                times, agree = _measure(url, schema, engine, rounds)
                ok &= agree
                base = min(times["baseline"])
                for name in ("baseline", "appraise"):
                    t = sorted(times[name])
                    shown = f"{t[0] * 1e3:.1f}/{statistics.median(t) * 1e3:.1f}/{t[-1] * 1e3:.1f}"
                    print(f"{backend:<12}{name:<12}{shown:>24}{t[0] / base:>8.2f}")
                print(f"{backend:<12}(populated in {populated:.0f} s; counts agree: {agree})")
            finally:
                if backend == "postgresql":
                    store.drop_schema()
                store.close()
    print("target: appraise <= 3x the hand-written GROUP BY on the same database")
    print("counts agree" if ok else "THE COUNTS DISAGREE")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
