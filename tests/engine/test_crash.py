"""Crash tests (issue 7): a worker killed with SIGKILL at random points loses nothing it reported committed.

The file doubles as the worker program: ``python test_crash.py URL SCHEMA SEED SIDE_FILE`` opens an engine on
the store, then runs a seeded random mix of start / complete / tick / suspend / resume calls on hundreds of
instances, moving a fake clock forward. It announces each call on stdout before making it, and after each
successful call appends what committed (started instance ids, completed task ids, fired timers) to SIDE_FILE
and fsyncs it; every commit is announced too. The test reads a random number of announcements (every other
run: up to the next tick, then 1-4 commits into it) and kills the worker with SIGKILL, so the kill lands at a
random point of a call (in Python, in SpiffWorkflow, in a commit, between a tick's claim and its firings).
After every kill the checker
must find the store consistent, with every reported commit present exactly once.

``EFFICACY_FLOW_CRASH_KILLS`` sets the number of kills (default 20).
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import efficacy_flow
from efficacy_flow.calendar import china
from efficacy_flow.clock import CHINA_TZ
from efficacy_flow.engine import Actor, ConsistencyReport, Engine
from efficacy_flow.errors import ConcurrentUpdate, InvalidState
from efficacy_flow.store import Store, Transaction
from efficacy_flow.testing import FakeClock

FIXTURES = Path(__file__).parent / "fixtures" / "basic"
START = datetime(2025, 9, 26, 10, 0, tzinfo=CHINA_TZ)
EVERYONE = Actor("crash-worker", {"受理员", "承办单位", "审核员", "督办员"})
KILLS = int(os.environ.get("EFFICACY_FLOW_CRASH_KILLS", "20"))


def _run_and_kill(store: Store, side: Path, seed: int, lines: int, *, in_tick: int) -> None:
    """Start a worker, read ``lines`` announcements, then SIGKILL it.

    ``in_tick`` > 0: first read on to the next tick and ``in_tick`` commits into it. A kill inside tick()
    leaves claimed rows behind: the lease must then bring them back.
    """
    env = {**os.environ, "PYTHONPATH": str(Path(efficacy_flow.__file__).parents[1])}
    proc = subprocess.Popen(
        [sys.executable, __file__, store.url, store.schema or "-", str(seed), str(side)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert proc.stdout is not None
    try:
        line, seen = "", 0
        while seen < lines or (in_tick and not line.endswith(" tick\n")):
            line = proc.stdout.readline()
            assert line, f"the worker stopped by itself: {proc.stderr.read() if proc.stderr else ''}"
            seen += 1
        for _ in range(in_tick):
            proc.stdout.readline()
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=60)
    assert proc.returncode == -signal.SIGKILL


def _reported(side: Path) -> dict[str, list[str]]:
    """What the killed workers reported as committed (a line cut off by the kill is ignored)."""
    found: dict[str, list[str]] = {"started": [], "completed": [], "fired": []}
    text_ = side.read_text(encoding="utf-8") if side.exists() else ""
    for line in text_.splitlines(keepends=True):
        if line.endswith("\n"):
            kind, _, rest = line.strip().partition(" ")
            found[kind].append(rest)
    return found


def _assert_reported_commits_present(store: Store, reported: dict[str, list[str]]) -> None:
    with store.transaction() as tx:
        instances = {row[0] for row in tx.execute("SELECT id FROM ef_instances")}
        completed = Counter(
            json.loads(after)["task_id"]
            for (after,) in tx.execute("SELECT after FROM ef_audit_events WHERE kind = 'task_completed'")
        )
        fired = Counter(
            (row[0], json.loads(row[1])["element_id"])
            for row in tx.execute("SELECT instance_id, after FROM ef_audit_events WHERE kind = 'timer_fired'")
        )
    assert set(reported["started"]) <= instances
    assert all(completed[task_id] == 1 for task_id in reported["completed"]), (
        "a completion is lost or doubled"
    )
    for entry in reported["fired"]:
        instance_id, element_id = entry.split()
        assert fired[(instance_id, element_id)] == 1, (
            f"timer {entry} fired {fired[(instance_id, element_id)]}x"
        )


def _crash_loop(store: Store, tmp_path: Path, kills: int, seed: int) -> None:
    side = tmp_path / "committed.txt"
    rng = random.Random(seed)
    checker = Engine(store, FIXTURES, china(), FakeClock(START))
    previous: ConsistencyReport | None = None
    for run in range(kills):
        in_tick = rng.randint(1, 4) if run % 2 else 0
        _run_and_kill(store, side, seed * 1000 + run, rng.randint(5, 80), in_tick=in_tick)
        report = checker.check_consistency(previous=previous)
        assert report.ok, f"after kill {run + 1}:\n{report.summary()}\n{report.problems}"
        _assert_reported_commits_present(store, _reported(side))
        previous = report
    # No timer is stranded by a worker killed holding claims: far enough ahead every lease has expired and one
    # tick fires everything that is due (suspended instances' timers have no due time).
    checker.clock.set(START + timedelta(days=3650))  # type: ignore[attr-defined]
    checker.tick()
    with store.transaction() as tx:
        ((left,),) = tx.execute("SELECT count(*) FROM ef_deadlines WHERE due_at IS NOT NULL")
    assert left == 0
    assert checker.check_consistency(previous=previous).ok
    reported = _reported(side)
    assert len(reported["started"]) >= min(100, 5 * kills)  # hundreds of instances at the default size
    assert reported["completed"]
    assert reported["fired"]


@pytest.mark.parametrize("store_factory", ["sqlite"], indirect=True)
def test_sigkill_loses_nothing_committed_sqlite(store_factory: Callable[[], Store], tmp_path: Path) -> None:
    """SQLite: after each of KILLS random SIGKILLs the store is consistent, every reported commit present."""
    _crash_loop(store_factory(), tmp_path, KILLS, seed=7)


@pytest.mark.postgres
@pytest.mark.parametrize("store_factory", ["postgresql"], indirect=True)
def test_sigkill_loses_nothing_committed_postgresql(
    store_factory: Callable[[], Store], tmp_path: Path
) -> None:
    """PostgreSQL: the same, with fewer kills by default (a third of KILLS, at least 5)."""
    _crash_loop(store_factory(), tmp_path, max(5, KILLS // 3), seed=11)


@pytest.mark.slow
@pytest.mark.parametrize("store_factory", ["sqlite"], indirect=True)
@pytest.mark.parametrize("seed", [1, 2, 3], ids=["seed1", "seed2", "seed3"])
def test_sigkill_many_seeds_sqlite(store_factory: Callable[[], Store], tmp_path: Path, seed: int) -> None:
    """The long variant: 100 kills for each of several seeds."""
    _crash_loop(store_factory(), tmp_path, 100, seed=seed)


# -- the worker program -------------------------------------------------------------------------------------


class _AnnouncingStore(Store):
    """A store that says "committed" after every commit (the test counts them to time its kill)."""

    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        with super().transaction() as tx:
            yield tx
        print("committed", flush=True)


def _worker_main(argv: list[str]) -> int:
    url, schema, seed, side_path = argv
    store = _AnnouncingStore(url, schema=None if schema == "-" else schema)
    with store.transaction() as tx:  # continue from the newest change: time never runs backwards
        ((latest,),) = tx.execute("SELECT max(updated_at) FROM ef_instances")
    clock = FakeClock(START)
    if latest is not None:
        clock.set(max(START, _aware(latest)))
    engine = Engine(store, FIXTURES, china(), clock, worker_id=f"crash-{seed}")
    rng = random.Random(int(seed))
    side = open(side_path, "a", encoding="utf-8")  # noqa: SIM115 (kept open until the kill)

    def commit(*lines: str) -> None:
        side.write("".join(f"{line}\n" for line in lines))
        side.flush()
        os.fsync(side.fileno())

    step = 0
    while True:
        step += 1
        clock.advance(timedelta(minutes=rng.randint(0, 12 * 60)))
        op = rng.choices(["start", "complete", "tick", "suspend", "resume"], weights=[5, 6, 2, 1, 1])[0]
        print(step, op, flush=True)  # announced before the call: a kill lands somewhere inside it
        try:
            if op == "start":
                view = engine.start("fx_handle", {"title": f"诉求{step}", "unit": "市住建局"}, EVERYONE)
                commit(f"started {view.id}")
            elif op == "complete":
                ready = engine.tasks()
                if ready:
                    task = rng.choice(ready)
                    data = {"reply": "已办理", "resolved": rng.random() < 0.5}
                    engine.complete(task.id, data if task.element_id == "Task_Handle" else {}, EVERYONE)
                    commit(f"completed {task.id}")
            elif op == "tick":
                fired = engine.tick()
                if fired:
                    commit(*(f"fired {f.instance_id} {f.element_id}" for f in fired))
            else:
                status = "active" if op == "suspend" else "suspended"
                with store.transaction() as tx:
                    found = tx.execute(
                        "SELECT id FROM ef_instances WHERE status = :s ORDER BY id", {"s": status}
                    )
                    ids = [row[0] for row in found]
                if ids:
                    target = rng.choice(ids)
                    if op == "suspend":
                        engine.suspend(target, "补正材料", EVERYONE)
                    else:
                        engine.resume(target, EVERYONE)
        except (ConcurrentUpdate, InvalidState):
            pass  # one worker, so not expected; tolerated rather than ending the run early


def _aware(value: datetime | str) -> datetime:
    # max(updated_at) comes back raw (naive UTC; text on SQLite) since the query bypasses the column type.
    parsed = datetime.fromisoformat(value) if isinstance(value, str) else value
    return parsed.replace(tzinfo=UTC).astimezone(CHINA_TZ) if parsed.tzinfo is None else parsed


if __name__ == "__main__":
    sys.exit(_worker_main(sys.argv[1:]))
