"""Several workers (issue 7): claims with a lease, exactly-once firing across processes (SQLite, PostgreSQL).

The file doubles as the worker program: ``python test_workers.py URL SCHEMA WORKER_ID NOW`` opens an engine,
says ``ready``, waits for a line on stdin (so all workers start together), ticks until nothing is left and
prints how many timers it fired.
"""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import sys
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import pytest

import efficacy_flow
from efficacy_flow.calendar import china
from efficacy_flow.clock import CHINA_TZ
from efficacy_flow.engine import Actor, Engine
from efficacy_flow.engine._audit import audit_record
from efficacy_flow.engine.runtime import serializer as _spiff
from efficacy_flow.errors import InvalidInput
from efficacy_flow.store import Store
from efficacy_flow.testing import FakeClock

FIXTURES = Path(__file__).parent / "fixtures" / "basic"
OPERATOR = Actor("op-1", {"受理员"})
START = {"title": "路灯不亮", "unit": "市住建局"}
#: After the handling limit (2025-10-01 00:00) of an instance started 2025-09-26: both its timers are due.
DUE = datetime(2025, 10, 2, 9, 0, tzinfo=CHINA_TZ)
#: Long variants: deselected by default (pyproject addopts `-m "not slow"`); `pytest -m slow` runs them.
SLOW = [pytest.mark.slow]
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def clone_instances(store: Store, template_id: str, n: int) -> list[str]:
    """Copy an instance ``n`` times through the store's API: fresh ids everywhere, audit chains re-hashed.

    Every UUID in the saved state (workflow and task ids) is replaced consistently per copy, so each copy is a
    real, distinct instance (its timers and tasks have their own ids) that the engine loads and runs.
    """
    with store.transaction() as tx:
        inst = tx.get_instance(template_id)
        assert inst is not None
        ready = tx.ready_tasks(instance_id=template_id)
        pending = tx.deadlines_of(template_id)
        audit = tx.audit_of(template_id)
    body = _spiff.decompress_state(inst.state).decode("utf-8")
    ids = sorted(set(_UUID.findall(body)))
    created = []
    with store.transaction() as tx:
        for _ in range(n):
            fresh = {old: str(uuid.uuid4()) for old in ids}
            instance_id = str(uuid.uuid4())
            seq, head, records = 0, "0" * 64, []
            for event in audit:
                before = json.loads(event.before) if event.before else None
                after = json.loads(event.after) if event.after else None
                record = audit_record(
                    instance_id, seq, head, (event.kind, event.actor, before, after), event.at
                )
                records.append(record)
                seq, head = record.seq, record.hash
            renamed = _UUID.sub(lambda m, fresh=fresh: fresh[m.group(0)], body)  # type: ignore[misc]
            state = _spiff.compress_state(renamed.encode("utf-8"))
            tx.insert_instance(replace(inst, id=instance_id, state=state, audit_seq=seq, audit_head=head))
            for record in records:
                tx.append_audit(record)
            tasks = [replace(t, id=fresh[t.id], instance_id=instance_id) for t in ready]
            tx.sync_tasks(
                instance_id, tasks, closed_status="cancelled", at=inst.created_at, by=None, previous=[]
            )
            rows = [
                replace(d, id=fresh[d.id], instance_id=instance_id, task_id=fresh.get(d.task_id or ""))
                for d in pending
            ]
            tx.replace_deadlines(instance_id, rows, previous=[])
            created.append(instance_id)
    return created


def _fired_counts(store: Store) -> Counter[tuple[str, str]]:
    """How often each (instance, timer element) fired, counted from the audit events."""
    with store.transaction() as tx:
        rows = tx.execute("SELECT instance_id, after FROM ef_audit_events WHERE kind = 'timer_fired'")
    return Counter((str(r[0]), json.loads(r[1])["element_id"]) for r in rows)


@pytest.fixture
def populated(
    make_engine: Callable[..., Engine], clock: FakeClock
) -> Callable[[int], tuple[Engine, list[str]]]:
    """``populated(n)``: an engine and ``n`` instances of fx_handle, each with two timers due at DUE."""

    def make(n: int) -> tuple[Engine, list[str]]:
        engine = make_engine(worker_id="main")
        template = engine.start("fx_handle", START, OPERATOR).id
        ids = [template, *clone_instances(engine.store, template, n - 1)]
        clock.set(DUE)
        return engine, ids

    return make


def test_clones_are_consistent_instances(populated: Callable[[int], tuple[Engine, list[str]]]) -> None:
    """The cloning helper makes real instances: the checker finds nothing and each one runs."""
    engine, ids = populated(5)
    report = engine.check_consistency()
    assert (report.instances, report.findings) == (5, ())
    assert len({t.id for i in ids for t in engine.tasks(instance_id=i)}) == 5


def test_expired_lease_is_claimed_again(
    populated: Callable[[int], tuple[Engine, list[str]]], make_engine: Callable[..., Engine], clock: FakeClock
) -> None:
    """A worker that claims rows and dies strands nothing: past its lease another worker fires them."""
    engine, ids = populated(6)
    lease = timedelta(minutes=5)
    with engine.store.transaction() as tx:
        claimed = tx.claim_due(clock.now(), "dead-worker", clock.now() + lease, limit=100)
    assert sorted(claimed) == sorted(ids)
    worker = make_engine(worker_id="live-worker", lease=lease)
    assert worker.tick() == []  # the dead worker's lease still holds
    clock.advance(lease - timedelta(seconds=1))
    assert worker.tick() == []
    clock.advance(timedelta(seconds=1))  # lease_until <= now: claimable
    fired = worker.tick()
    assert sorted((f.instance_id, f.element_id) for f in fired) == sorted(
        (i, e) for i in ids for e in ("Timer_HandlingLimit", "Timer_Warning")
    )
    assert set(_fired_counts(engine.store).values()) == {1}
    with engine.store.transaction() as tx:
        assert tx.claimed_rows() == []  # the fired rows are gone, claims with them
    assert engine.check_consistency().ok


def test_claims_skip_rows_other_workers_hold(populated: Callable[[int], tuple[Engine, list[str]]]) -> None:
    """Two claims at the same instant divide the due rows: no row is claimed twice, none is left out."""
    engine, ids = populated(10)
    now = engine.clock.now()
    with engine.store.transaction() as tx:
        first = tx.claim_due(now, "a", now + timedelta(minutes=1), limit=7)
    with engine.store.transaction() as tx:
        second = tx.claim_due(now, "b", now + timedelta(minutes=1), limit=100)
        rows_a, rows_b = tx.claimed_rows("a"), tx.claimed_rows("b")
    assert (len(rows_a), len(rows_b)) == (7, 13)
    assert not {r.id for r in rows_a} & {r.id for r in rows_b}
    assert set(first) | set(second) == set(ids)


def test_failed_instance_releases_its_claim_and_others_fire(
    populated: Callable[[int], tuple[Engine, list[str]]], caplog: pytest.LogCaptureFixture
) -> None:
    """An instance that cannot be fired is logged, recorded for a retry and its rows parked (no claim is left
    on them, the next tick does not take them before the retry is due); the others fire in the same round."""
    engine, ids = populated(4)
    with engine.store.transaction() as tx:
        tx.execute("UPDATE ef_instances SET state = :s WHERE id = :i", {"s": b"junk", "i": ids[1]})
    with caplog.at_level(logging.WARNING, logger="efficacy_flow.engine"):
        fired = engine.tick()
    assert {f.instance_id for f in fired} == {ids[0], ids[2], ids[3]}
    assert ids[1] in caplog.text
    with engine.store.transaction() as tx:
        assert tx.claimed_rows() == []
        rows = tx.deadlines_of(ids[1])
        (incident,) = tx.incidents(instance_id=ids[1], statuses=("retrying",))
    assert len(rows) == 2
    assert {r.incident_id for r in rows} == {incident.id}  # parked
    assert engine.tick() == []  # nothing else is due, and the retry is not yet


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"worker_id": ""}, "worker_id"),
        ({"worker_id": "x" * 201}, "worker_id"),
        ({"lease": timedelta(0)}, "lease"),
    ],
    ids=["empty-worker-id", "long-worker-id", "zero-lease"],
)
def test_invalid_worker_options(
    make_engine: Callable[..., Engine], kwargs: dict[str, object], field: str
) -> None:
    """A worker id must be 1-200 characters and a lease positive."""
    with pytest.raises(InvalidInput) as raised:
        make_engine(**kwargs)
    assert field in raised.value.fields


def test_default_worker_id_names_host_and_process(make_engine: Callable[..., Engine]) -> None:
    """Without a worker id an engine is named hostname:pid:random, distinct per engine."""
    first, second = make_engine(processes=None), make_engine(processes=None)
    assert first.worker_id.split(":")[1] == str(os.getpid())
    assert first.worker_id != second.worker_id


# -- several processes -------------------------------------------------------------------------------------


def _run_workers(url: str, schema: str, n_workers: int) -> list[int]:
    """Start ``n_workers`` worker processes, release them together, and return each one's firing count."""
    env = {**os.environ, "PYTHONPATH": str(Path(efficacy_flow.__file__).parents[1])}
    procs = [
        subprocess.Popen(
            [sys.executable, __file__, url, schema, f"worker-{n}", DUE.isoformat()],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for n in range(n_workers)
    ]
    for proc in procs:  # each says "ready" once its engine is open
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "ready", proc.stderr.read() if proc.stderr else ""
    for proc in procs:
        assert proc.stdin is not None
        proc.stdin.write("go\n")
        proc.stdin.flush()
    counts = []
    for proc in procs:
        out, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, err
        counts.append(int(out.split()[-1]))
    return counts


def _shared_populated(store: Store, n: int) -> list[str]:
    engine = Engine(store, FIXTURES, china(), FakeClock(datetime(2025, 9, 26, 10, tzinfo=CHINA_TZ)))
    template = engine.start("fx_handle", START, OPERATOR).id
    return [template, *clone_instances(store, template, n - 1)]


@pytest.mark.postgres
@pytest.mark.parametrize("store_factory", ["postgresql"], indirect=True)
@pytest.mark.parametrize("n_instances", [1000, pytest.param(5000, marks=SLOW)], ids=["1k", "5k"])
def test_four_processes_on_postgresql_fire_each_timer_once(
    store_factory: Callable[[], Store], n_instances: int
) -> None:
    """4 worker processes on one PostgreSQL fire 2 timers of each of n instances: each exactly once.

    Counted from the audit events; the workers' own counts add up to the same total and the store is
    consistent afterwards.
    """
    store = store_factory()
    ids = _shared_populated(store, n_instances)
    counts = _run_workers(store.url, store.schema or "-", 4)
    fired = _fired_counts(store)
    assert len(fired) == 2 * n_instances
    assert set(fired.values()) == {1}
    assert {i for i, _ in fired} == set(ids)
    assert sum(counts) == 2 * n_instances
    assert sum(1 for c in counts if c > 0) >= 2, counts  # the work was shared
    checker = Engine(store, FIXTURES, china(), FakeClock(DUE))
    assert checker.check_consistency().ok


def test_concurrent_ticks_on_sqlite_fire_each_timer_once(tmp_path: Path) -> None:
    """3 worker processes on one SQLite file (BEGIN IMMEDIATE serializes claims): each timer fires once."""
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    store = Store(url)
    try:
        ids = _shared_populated(store, 300)
        counts = _run_workers(url, "-", 3)
        fired = _fired_counts(store)
        assert (len(fired), set(fired.values()), sum(counts)) == (600, {1}, 600)
        assert {i for i, _ in fired} == set(ids)
    finally:
        store.close()


def _worker_main(argv: list[str]) -> int:
    url, schema, worker_id, now = argv
    store = Store(url, schema=None if schema == "-" else schema)
    engine = Engine(store, FIXTURES, china(), FakeClock(datetime.fromisoformat(now)), worker_id=worker_id)
    print("ready", flush=True)
    sys.stdin.readline()  # the parent writes a line once every worker said "ready"
    fired = len(engine.tick())
    store.close()
    print(f"fired {fired}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(_worker_main(sys.argv[1:]))
