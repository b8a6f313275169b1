"""Competing calls on one instance, interleaved at a chosen point (Camunda 7's Competing* tests, issue 7).

Two engines share one database (SQLite file or PostgreSQL schema), as two worker processes would. Engine A
runs its call in a thread and stops inside its transaction, after every write and just before the commit
(``Store.before_commit``, the test seam). Engine B then makes a competing call in a second thread; the test
waits until B is blocked behind A's transaction (SQLite: B has issued ``BEGIN IMMEDIATE``; PostgreSQL: B's
backend is in ``pg_blocking_pids`` of A's) or has finished, and only then lets A commit. The outcome asserted
is the engine's promise: the loser gets ``ConcurrentUpdate`` or waits and then acts on the winner's state; no
update is lost; no audit event is duplicated; the history chain verifies.

Waiting for B is a wait for a condition (bounded by ``GUARD`` so a broken engine fails instead of hanging),
not a timing assumption: every assertion holds whichever way the database schedules the two transactions.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from tests._postgres import PG_DSN

from efficacy_flow.calendar import china
from efficacy_flow.clock import CHINA_TZ
from efficacy_flow.engine import Actor, Engine
from efficacy_flow.errors import ConcurrentUpdate
from efficacy_flow.store import Store, Transaction
from efficacy_flow.testing import FakeClock

DURABLE = Path(__file__).parent / "fixtures" / "durable"
HANDLER = Actor("cb-01", {"承办单位"})
OTHER_HANDLER = Actor("cb-02", {"承办单位"})
REVIEWER = Actor("sh-01", {"审核员"})
SUPERVISOR = Actor("db-01", {"督办员"})
#: Seconds before a wait is declared hung: a guard against deadlocks, never a measured expectation.
GUARD = 60.0
#: Fixture due times for an instance started Friday 2025-09-26 10:00 (fx_durable.bpmn): Timer_Warn hours(4),
#: Timer_Limit working_days(2) — the 28th is a make-up Sunday, so the period ends with the 29th.
WARN_DUE = datetime(2025, 9, 26, 14, 0, tzinfo=CHINA_TZ)
LIMIT_DUE = datetime(2025, 9, 30, 0, 0, tzinfo=CHINA_TZ)


class PauseBeforeCommit:
    """A ``before_commit`` hook: once armed, the first transaction that changes a watched instance's version
    stops before committing until :attr:`release` is set (other transactions pass through)."""

    def __init__(self) -> None:
        self.watched: dict[str, int] = {}
        self.paused = threading.Event()
        self.release = threading.Event()
        self.backend_pid: int | None = None

    def arm(self, engine: Engine, *instance_ids: str) -> None:
        """Watch these instances at their current versions (read through ``engine``)."""
        versions = {i: engine.instance(i).version for i in instance_ids}
        self.paused.clear()
        self.release.clear()
        self.watched = versions

    def __call__(self, tx: Transaction) -> None:
        if not self.watched:
            return
        changed = False
        for instance_id, version in self.watched.items():
            record = tx.get_instance(instance_id)
            changed = changed or (record is not None and record.version != version)
        if not changed:
            return
        self.watched = {}
        if tx.dialect == "postgresql":
            self.backend_pid = int(tx.execute("SELECT pg_backend_pid()")[0][0])
        self.paused.set()
        if not self.release.wait(GUARD):
            raise RuntimeError("the paused transaction was never released")


class Call(threading.Thread):
    """One engine call in its own thread; keeps its result or the exception it raised."""

    def __init__(self, fn: Callable[[], Any]) -> None:
        super().__init__(daemon=True)
        self.fn = fn
        self.result: Any = None
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self.result = self.fn()
        except BaseException as exc:  # handed to the test thread, which asserts on it
            self.error = exc


@dataclass
class Race:
    """Two engines on one database; A's store carries the pause, B's the probe that sees B blocked."""

    a: Engine
    b: Engine
    clock: FakeClock
    gate: PauseBeforeCommit
    b_blocked: Probe
    #: Whether B was seen blocked behind A's open transaction when A was let go (False: B had finished).
    b_waited: bool = False

    def run(self, call_a: Callable[[], Any], call_b: Callable[[], Any]) -> tuple[Call, Call]:
        """A runs until just before its commit; B starts; once B is blocked (or done), A commits."""
        self.b_blocked.reset()
        first = Call(call_a)
        first.start()
        if not self.gate.paused.wait(GUARD):
            first.join(GUARD)
            pytest.fail(f"engine A never reached its commit (error: {first.error!r})")
        second = Call(call_b)
        second.start()
        _wait_until(lambda: self.b_blocked() or not second.is_alive(), "engine B to block or finish")
        self.b_waited = self.b_blocked()
        self.gate.release.set()
        first.join(GUARD)
        second.join(GUARD)
        assert not first.is_alive(), "engine A hung"
        assert not second.is_alive(), "engine B hung"
        return first, second


def _wait_until(condition: Callable[[], bool], what: str) -> None:
    pause = threading.Event()  # never set: its wait() is the poll interval
    for _ in range(int(GUARD / 0.005)):
        if condition():
            return
        pause.wait(0.005)
    pytest.fail(f"gave up waiting for {what}")


class Probe:
    """True once engine B's transaction is blocked behind A's (reset before each race)."""

    def __init__(self, store: Store, gate: PauseBeforeCommit) -> None:
        self.gate = gate
        self.began = threading.Event()
        self.pg: Any = None
        if store.dialect == "sqlite":
            # B's engine reuses its one pooled connection; SQLite traces BEGIN IMMEDIATE before it waits for
            # the write lock that A holds.
            with store.transaction() as tx:
                raw = tx._cursor.connection  # the pinned sqlite3 connection
            assert raw is not None
            raw.set_trace_callback(self._trace)
        else:
            import psycopg

            self.pg = psycopg.connect(PG_DSN, autocommit=True)

    def _trace(self, sql: str) -> None:
        if sql.startswith("BEGIN"):
            self.began.set()

    def reset(self) -> None:
        self.began.clear()

    def __call__(self) -> bool:
        if self.pg is None:
            return self.began.is_set()
        row = self.pg.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE %s = ANY(pg_blocking_pids(pid))",
            (self.gate.backend_pid,),
        ).fetchone()
        return bool(row[0])

    def close(self) -> None:
        if self.pg is not None:
            self.pg.close()


@pytest.fixture
def race(store_factory: Callable[[], Store]) -> Iterator[Race]:
    """Engines A and B on the test's database, both with fx_durable deployed."""
    clock = FakeClock(datetime(2025, 9, 26, 10, 0, tzinfo=CHINA_TZ))
    gate = PauseBeforeCommit()
    store_a, store_b = store_factory(), store_factory()
    store_a.before_commit = gate
    calendar = china()
    a = Engine(store=store_a, processes=DURABLE, calendar=calendar, clock=clock)
    b = Engine(store=store_b, processes=DURABLE, calendar=calendar, clock=clock)
    probe = Probe(store_b, gate)
    yield Race(a, b, clock, gate, probe)
    gate.release.set()
    probe.close()


# -- what every race must leave behind -----------------------------------------------------------------------


def _consistent(engine: Engine, instance_id: str) -> None:
    """The store agrees with itself: the engine's consistency checker finds nothing, the history chain
    verifies, the task rows are the workflow's ready tasks, audit sequence numbers have no gap or duplicate,
    and the deadline rows fit the instance's status."""
    report = engine.check_consistency(instance_ids=[instance_id])
    assert report.ok, report.summary()
    check = engine.verify_history(instance_id)
    assert check.ok, check.problems
    view = engine.instance(instance_id)
    rows = engine.tasks(instance_id=instance_id)
    assert sorted(t.id for t in rows) == sorted(t.id for t in view.tasks)
    with engine.store.transaction() as tx:
        record = tx.get_instance(instance_id)
        deadlines = tx.deadlines_of(instance_id)
        audit = tx.audit_of(instance_id)
    assert record is not None
    assert [e.seq for e in audit] == list(range(1, record.audit_seq + 1))
    if view.status == "completed":
        assert not rows
        assert not deadlines
    elif view.status == "suspended":
        assert all(d.due_at is None and d.remaining is not None for d in deadlines)
    else:
        assert all(d.due_at is not None for d in deadlines)


def _events(engine: Engine, instance_id: str) -> list[tuple[str, dict[str, Any]]]:
    return [(e.kind, dict(e.after or {})) for e in engine.history(instance_id)]


def _timer_firings(engine: Engine, instance_id: str) -> Counter[str]:
    return Counter(
        after["element_id"] for kind, after in _events(engine, instance_id) if kind == "timer_fired"
    )


def _ready(engine: Engine, instance_id: str) -> list[str]:
    return sorted(t.element_id for t in engine.tasks(instance_id=instance_id))


def _task(engine: Engine, instance_id: str, element_id: str) -> str:
    (task,) = [t for t in engine.tasks(instance_id=instance_id) if t.element_id == element_id]
    return task.id


def _start(race: Race) -> str:
    """A fresh instance waiting at Task_Handle, cached in both engines (B's cache goes stale when A wins)."""
    instance_id = race.a.start("fx_durable", {"title": "路灯不亮"}, Actor("op", {"受理员"})).id
    race.b.instance(instance_id)
    return instance_id


# -- complete vs complete ------------------------------------------------------------------------------------


def test_complete_vs_complete_same_task_loser_gets_concurrent_update(race: Race) -> None:
    """Two handlers complete the same task: A (paused before commit) wins; B, blocked behind A, then finds the
    task completed and gets ConcurrentUpdate. A's data stands and one completion is audited."""
    instance_id = _start(race)
    handle = _task(race.a, instance_id, "Task_Handle")
    race.gate.arm(race.a, instance_id)
    first, second = race.run(
        lambda: race.a.complete(handle, {"reply": "甲已办"}, HANDLER),
        lambda: race.b.complete(handle, {"reply": "乙已办"}, OTHER_HANDLER),
    )
    assert race.b_waited
    assert first.error is None
    assert isinstance(second.error, ConcurrentUpdate)
    assert second.error.fields["task_id"] == handle
    view = race.b.instance(instance_id)
    assert view.version == first.result.version
    assert view.data["reply"] == "甲已办"
    completions = [a for k, a in _events(race.b, instance_id) if k == "task_completed"]
    assert [(c["task_id"], c["data"]) for c in completions] == [(handle, {"reply": "甲已办"})]
    assert _ready(race.b, instance_id) == ["Task_Check", "Task_Notify"]
    _consistent(race.b, instance_id)


def test_complete_vs_complete_parallel_branches_loses_no_update(race: Race) -> None:
    """Two branches of a parallel split are completed at once: B waits for A's commit, then completes its
    own task on top of A's state. Both completions survive (no lost update) and the join is passed once."""
    instance_id = _start(race)
    race.a.complete(_task(race.a, instance_id, "Task_Handle"), {"reply": "已办"}, HANDLER)
    race.b.instance(instance_id)
    check = _task(race.a, instance_id, "Task_Check")
    notify = _task(race.a, instance_id, "Task_Notify")
    version = race.a.instance(instance_id).version
    race.gate.arm(race.a, instance_id)
    first, second = race.run(
        lambda: race.a.complete(check, {"approved": True}, REVIEWER),
        lambda: race.b.complete(notify, {"notified": True}, HANDLER),
    )
    assert race.b_waited
    assert first.error is None
    assert second.error is None
    assert (first.result.version, second.result.version) == (version + 1, version + 2)
    view = race.a.instance(instance_id)
    assert view.version == version + 2
    assert (view.data["approved"], view.data["notified"]) == (True, True)
    assert _ready(race.a, instance_id) == ["Task_Confirm"]
    completed = [a["element_id"] for k, a in _events(race.a, instance_id) if k == "task_completed"]
    assert completed == ["Task_Handle", "Task_Check", "Task_Notify"]
    _consistent(race.a, instance_id)


# -- complete vs tick ----------------------------------------------------------------------------------------


def test_complete_paused_vs_tick_timer_does_not_fire(race: Race) -> None:
    """With both of Task_Handle's timers overdue, a completion (A) commits first: B's tick, waiting behind it,
    then finds them cancelled with the task and fires nothing."""
    instance_id = _start(race)
    handle = _task(race.a, instance_id, "Task_Handle")
    race.clock.set(LIMIT_DUE + timedelta(minutes=1))
    race.gate.arm(race.a, instance_id)
    first, second = race.run(
        lambda: race.a.complete(handle, {"reply": "已办"}, HANDLER),
        race.b.tick,
    )
    assert first.error is None
    assert second.error is None
    assert second.result == []
    assert _timer_firings(race.a, instance_id) == Counter()
    assert _ready(race.a, instance_id) == ["Task_Check", "Task_Notify"]
    _consistent(race.a, instance_id)


def test_tick_paused_vs_complete_loser_gets_concurrent_update(race: Race) -> None:
    """The time limit fires first (A, interrupting Task_Handle): B's completion, blocked behind the tick, gets
    ConcurrentUpdate and the case goes to the supervisor. Each timer fires once."""
    instance_id = _start(race)
    handle = _task(race.a, instance_id, "Task_Handle")
    race.clock.set(LIMIT_DUE + timedelta(minutes=1))
    race.gate.arm(race.a, instance_id)
    first, second = race.run(race.a.tick, lambda: race.b.complete(handle, {"reply": "迟了"}, HANDLER))
    assert race.b_waited
    assert first.error is None
    assert isinstance(second.error, ConcurrentUpdate)
    assert sorted(f.element_id for f in first.result) == ["Timer_Limit", "Timer_Warn"]
    assert _timer_firings(race.a, instance_id) == Counter({"Timer_Limit": 1, "Timer_Warn": 1})
    assert not [k for k, _ in _events(race.a, instance_id) if k == "task_completed"]
    assert _ready(race.a, instance_id) == ["Task_Escalate"]
    _consistent(race.a, instance_id)


# -- tick vs tick --------------------------------------------------------------------------------------------


def test_tick_vs_tick_fires_every_timer_exactly_once(race: Race) -> None:
    """Two workers tick at the same instant over three due instances: A stops before committing the first one
    it fires; B fires what it can reach and waits for (or skips) the rest. Every due timer fires exactly once,
    in the audit and in the two workers' results together."""
    instance_ids = [_start(race) for _ in range(3)]
    race.clock.set(LIMIT_DUE + timedelta(minutes=1))
    race.gate.arm(race.a, *instance_ids)
    first, second = race.run(race.a.tick, race.b.tick)
    assert first.error is None
    assert second.error is None
    fired = Counter((f.instance_id, f.element_id) for f in [*first.result, *second.result])
    expected = {(i, e): 1 for i in instance_ids for e in ("Timer_Limit", "Timer_Warn")}
    assert fired == expected
    for instance_id in instance_ids:
        assert _timer_firings(race.a, instance_id) == Counter({"Timer_Limit": 1, "Timer_Warn": 1})
        assert _ready(race.a, instance_id) == ["Task_Escalate"]
        _consistent(race.a, instance_id)
    assert race.a.tick() == []
    assert race.b.tick() == []


# -- suspend vs timer ----------------------------------------------------------------------------------------


def test_timer_paused_vs_suspend_suspends_the_fired_state(race: Race) -> None:
    """The warning timer fires (A) while a supervisor suspends (B): B waits and suspends the state A
    committed, so the suspension records only the timer still pending (Timer_Limit), not the fired one."""
    instance_id = _start(race)
    race.clock.set(WARN_DUE + timedelta(minutes=1))
    race.gate.arm(race.a, instance_id)
    first, second = race.run(race.a.tick, lambda: race.b.suspend(instance_id, "听证", SUPERVISOR))
    assert race.b_waited
    assert first.error is None
    assert second.error is None
    assert [f.element_id for f in first.result] == ["Timer_Warn"]
    assert second.result.status == "suspended"
    events = _events(race.b, instance_id)
    assert [k for k, _ in events] == ["started", "timer_fired", "suspended"]
    assert sorted(events[-1][1]["remaining"]) == ["Timer_Limit"]
    assert _ready(race.b, instance_id) == ["Task_Handle"]
    _consistent(race.b, instance_id)


def test_suspend_paused_vs_timer_does_not_fire_while_suspended(race: Race) -> None:
    """A suspends while B ticks with the warning overdue: B waits behind the suspension and fires nothing.
    Resuming fires the warning that had run out (audited like a tick), the next ticks the time limit: each
    timer fires exactly once."""
    instance_id = _start(race)
    race.clock.set(WARN_DUE + timedelta(minutes=1))
    race.gate.arm(race.a, instance_id)
    first, second = race.run(lambda: race.a.suspend(instance_id, "听证", SUPERVISOR), race.b.tick)
    assert first.error is None
    assert second.error is None
    assert second.result == []
    assert race.b.instance(instance_id).status == "suspended"
    assert _timer_firings(race.b, instance_id) == Counter()
    _consistent(race.b, instance_id)
    race.b.resume(instance_id, SUPERVISOR)
    assert _timer_firings(race.b, instance_id) == Counter({"Timer_Warn": 1})
    race.clock.advance(timedelta(days=10))
    fired = race.a.tick() + race.b.tick()
    assert [f.element_id for f in fired] == ["Timer_Limit"]
    assert _timer_firings(race.a, instance_id) == Counter({"Timer_Limit": 1, "Timer_Warn": 1})
    _consistent(race.a, instance_id)


def test_before_commit_failure_rolls_the_call_back(race: Race) -> None:
    """The seam itself: a process dying just before its commit (the hook raises) leaves the previous state
    intact — no task closed, no audit event, no version bump — and the next call succeeds."""
    instance_id = _start(race)
    handle = _task(race.a, instance_id, "Task_Handle")
    before = race.a.instance(instance_id)

    def die(tx: Transaction) -> None:
        raise KeyboardInterrupt("killed before commit")

    race.a.store.before_commit = die
    with pytest.raises(KeyboardInterrupt):
        race.a.complete(handle, {"reply": "已办"}, HANDLER)
    race.a.store.before_commit = None
    after = race.a.instance(instance_id)
    assert (after.version, after.data) == (before.version, before.data)
    assert [k for k, _ in _events(race.a, instance_id)] == ["started"]
    assert race.a.complete(handle, {"reply": "已办"}, HANDLER).version == before.version + 1
    _consistent(race.a, instance_id)


# -- case operations (issue 13) ---------------------------------------------------------------------------


def _at_check(race: Race) -> tuple[str, str, str]:
    """An instance whose Task_Handle the handler completed: (instance, handle task, check task)."""
    instance_id = _start(race)
    handle = _task(race.a, instance_id, "Task_Handle")
    race.a.complete(handle, {"reply": "已办"}, HANDLER)
    race.b.instance(instance_id)
    return instance_id, handle, _task(race.a, instance_id, "Task_Check")


def test_return_paused_vs_complete_the_completion_loses(race: Race) -> None:
    """A returns the case from 审核 to 办理 while B completes the review: B finds the review gone
    (ConcurrentUpdate); 办理 is ready again and one return is audited."""
    instance_id, handle, check = _at_check(race)
    race.gate.arm(race.a, instance_id)
    first, second = race.run(
        lambda: race.a.return_to(check, "Task_Handle", "答非所问", REVIEWER),
        lambda: race.b.complete(check, {"approved": True}, REVIEWER),
    )
    assert first.error is None
    assert isinstance(second.error, ConcurrentUpdate)
    assert _ready(race.b, instance_id) == ["Task_Handle"]
    assert [k for k, _ in _events(race.b, instance_id)].count("returned") == 1
    assert _task(race.b, instance_id, "Task_Handle") == handle
    _consistent(race.b, instance_id)


def test_complete_paused_vs_return_the_return_loses(race: Race) -> None:
    """The other way round: the review completes first; the return finds its task closed."""
    instance_id, _, check = _at_check(race)
    race.gate.arm(race.a, instance_id)
    first, second = race.run(
        lambda: race.a.complete(check, {"approved": True}, REVIEWER),
        lambda: race.b.return_to(check, "Task_Handle", "答非所问", REVIEWER),
    )
    assert first.error is None
    assert isinstance(second.error, ConcurrentUpdate)
    assert "returned" not in [k for k, _ in _events(race.b, instance_id)]
    _consistent(race.b, instance_id)


def test_cancel_paused_vs_tick_fires_nothing(race: Race) -> None:
    """A cancels a case whose limits have run out while B ticks: B waits behind the cancel and fires none of
    its timers; the case stays cancelled with no deadline."""
    instance_id = _start(race)
    race.clock.set(LIMIT_DUE + timedelta(minutes=1))
    race.gate.arm(race.a, instance_id)
    first, second = race.run(lambda: race.a.cancel(instance_id, "重复工单", HANDLER), race.b.tick)
    assert first.error is None
    assert second.error is None
    assert [f for f in second.result if f.instance_id == instance_id] == []
    assert race.b.instance(instance_id).status == "cancelled"
    assert _timer_firings(race.b, instance_id) == Counter()
    _consistent(race.b, instance_id)


def test_withdraw_paused_vs_claim_the_claim_loses(race: Race) -> None:
    """The handler withdraws 办理 while the reviewer claims the review: the claim finds the review gone."""
    instance_id, handle, check = _at_check(race)
    race.gate.arm(race.a, instance_id)
    first, second = race.run(lambda: race.a.withdraw(handle, HANDLER), lambda: race.b.claim(check, REVIEWER))
    assert first.error is None
    assert isinstance(second.error, ConcurrentUpdate)
    assert _ready(race.b, instance_id) == ["Task_Handle"]
    _consistent(race.b, instance_id)


def test_claim_paused_vs_withdraw_the_withdrawal_loses(race: Race) -> None:
    """The reviewer claims first: the next step is taken up, so the handler can no longer withdraw."""
    instance_id, handle, check = _at_check(race)
    race.gate.arm(race.a, instance_id)
    first, second = race.run(lambda: race.a.claim(check, REVIEWER), lambda: race.b.withdraw(handle, HANDLER))
    assert first.error is None
    assert isinstance(second.error, ConcurrentUpdate)
    (claimed,) = [t for t in race.b.tasks(instance_id=instance_id) if t.id == check]
    assert claimed.assignee == "sh-01"
    _consistent(race.b, instance_id)
