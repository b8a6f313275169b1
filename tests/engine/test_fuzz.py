"""Bad-input fuzzing: Hypothesis drives random sequences of engine calls (issue 7).

A ``RuleBasedStateMachine`` starts fx_durable instances (a time limit, a warning, parallel branches, a call
activity and a message) and then, in any order, completes tasks with random — mostly invalid — data and
actors, ticks, suspends, resumes, extends, sends messages, reads history and jumps the clock (forwards
and backwards). The properties:

- every call either succeeds or raises one of the ``EfficacyFlowError`` classes docs/engine.md documents for
  that call — never a bare exception, never an undocumented error class;
- a rejected call writes nothing: every instance keeps its version and audit head;
- after every step the store is consistent (``engine.check_consistency()`` over every instance, with the
  previous report so no version goes backwards) and every instance's task rows are its ready tasks.

Sized for CI (well under a minute): ``max_examples`` and ``stateful_step_count`` are set below.
"""

from __future__ import annotations

import shutil
import tempfile
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from efficacy_flow.calendar import china
from efficacy_flow.clock import CHINA_TZ
from efficacy_flow.engine import Actor, Engine
from efficacy_flow.errors import (
    ConcurrentUpdate,
    DuplicateBusinessKey,
    EfficacyFlowError,
    InvalidData,
    InvalidInput,
    InvalidState,
    InvalidTimeLimit,
    NotAuthorized,
    UnknownInstance,
    UnknownProcess,
    UnknownTask,
)
from efficacy_flow.testing import FakeClock

DURABLE = Path(__file__).parent / "fixtures" / "durable"
START = datetime(2025, 9, 26, 10, 0, tzinfo=CHINA_TZ)
ROLES = ["承办单位", "审核员", "督办员", "受理员", "路人"]

#: What docs/engine.md says each call may raise (InvalidInput: an argument of the wrong type or unstorable
#: text, such as an actor with an empty id).
DOCUMENTED: dict[str, tuple[type[EfficacyFlowError], ...]] = {
    "start": (UnknownProcess, InvalidData, InvalidInput, DuplicateBusinessKey),
    "complete": (UnknownTask, ConcurrentUpdate, NotAuthorized, InvalidData, InvalidState, InvalidInput),
    "message": (UnknownInstance, InvalidState, InvalidData, InvalidInput),
    "tick": (),
    "suspend": (UnknownInstance, InvalidState, InvalidInput),
    "resume": (UnknownInstance, InvalidState, InvalidInput),
    "extend": (UnknownTask, ConcurrentUpdate, InvalidState, InvalidTimeLimit, InvalidInput),
    "history": (UnknownInstance, InvalidInput),
    "cancel": (UnknownInstance, InvalidState, ConcurrentUpdate, InvalidInput),
    "claim": (UnknownTask, ConcurrentUpdate, NotAuthorized, InvalidState, InvalidInput),
    "unclaim": (UnknownTask, ConcurrentUpdate, NotAuthorized, InvalidState, InvalidInput),
    "assign": (UnknownTask, ConcurrentUpdate, NotAuthorized, InvalidState, InvalidInput),
    "transfer": (UnknownTask, ConcurrentUpdate, NotAuthorized, InvalidState, InvalidInput),
    "urge": (UnknownTask, ConcurrentUpdate, NotAuthorized, InvalidState, InvalidInput),
    "comment": (UnknownInstance, UnknownTask, InvalidInput),
    "return_to": (UnknownTask, ConcurrentUpdate, NotAuthorized, InvalidState, InvalidInput),
    "withdraw": (UnknownTask, ConcurrentUpdate, NotAuthorized, InvalidState, InvalidInput),
}

junk_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**12), 10**12),
    st.floats(allow_nan=True),
    st.text(max_size=8),
    st.lists(st.integers(), max_size=2),
)
junk_keys = st.one_of(
    st.sampled_from(["reply", "approved", "notified", "confirmed", "rating", "title", "requester_phone"]),
    st.text(max_size=6),
)
#: Completion data: the right fields, the right fields with wrong values, or junk (incl. non-mappings).
task_data = st.one_of(
    st.sampled_from(
        [
            {"reply": "已办"},
            {"approved": True},
            {"approved": False},
            {"notified": True},
            {"confirmed": True},
            {},
        ]
    ),
    st.dictionaries(junk_keys, junk_values, max_size=3),
    st.sampled_from([None, [], "reply", 7]),
)
#: Marks "the data this task's schema wants" (chosen once the task is known).
FITTING: dict[str, Any] = {
    "Task_Handle": {"reply": "已办"},
    "Task_Check": {"approved": True},
    "Task_Notify": {"notified": True},
    "Task_Confirm": {"confirmed": True},
    "Task_Escalate": {},
}
start_data = st.one_of(
    st.fixed_dictionaries({"title": st.text(min_size=1, max_size=10)}),
    st.fixed_dictionaries(
        {"title": st.just("诉求"), "requester_phone": st.sampled_from(["13800138000", "12"])}
    ),
    st.dictionaries(junk_keys, junk_values, max_size=3),
)
#: Half the time an actor who may do anything (so that processes move on), else a random one.
actors = st.one_of(
    st.just(Actor("zb-01", ROLES[:4])),
    st.builds(
        Actor,
        st.sampled_from(["cb-01", "sh-01", "db-01", "", "用户"]),
        st.frozensets(st.sampled_from(ROLES), max_size=3),
        st.sampled_from([None, None, "市住建局"]),
    ),
)
limits = st.sampled_from(
    ["2个工作日", "3天", "4小时", "1个月", "", "abc", "-1个工作日", "0个工作日", "五个工作日"]
)
reasons = st.sampled_from(["情况复杂", "", "   "])
messages = st.sampled_from(["rating", "rating", "withdraw", ""])
payloads = st.one_of(
    st.sampled_from([{"rating": "满意"}, {"rating": "不满意"}, {"rating": "很好"}, {}]),
    st.dictionaries(junk_keys, junk_values, max_size=2),
)


class EngineCalls(RuleBasedStateMachine):
    """One engine on a fresh SQLite file per example; the rules are the public calls."""

    def __init__(self) -> None:
        super().__init__()
        self.folder = Path(tempfile.mkdtemp(prefix="ef-fuzz-"))
        self.clock = FakeClock(START)
        self.engine = Engine(
            store=f"sqlite:///{self.folder / 'fuzz.db'}",
            processes=DURABLE,
            calendar=china(),
            clock=self.clock,
        )
        self.instances: list[str] = []
        self.task_ids: list[str] = []  # every task id ever seen, ready or not
        self.report: Any = None

    def teardown(self) -> None:
        self.engine.store.close()
        shutil.rmtree(self.folder, ignore_errors=True)

    # -- helpers ---------------------------------------------------------------------------------------------

    def _heads(self) -> dict[str, tuple[int, int, str]]:
        heads = {}
        with self.engine.store.transaction() as tx:
            for instance_id in self.instances:
                record = tx.get_instance(instance_id)
                assert record is not None
                heads[instance_id] = (record.version, record.audit_seq, record.audit_head)
            count = tx.count_instances()
        assert count == len(self.instances)
        return heads

    def _call(self, name: str, fn: Callable[[], Any]) -> Any:
        """Run a call; a rejection must be documented for it and must leave every instance untouched."""
        before = self._heads()
        error: EfficacyFlowError | None = None
        try:
            result = fn()
        except EfficacyFlowError as exc:  # anything else propagates and fails the test
            error = exc
        if error is not None:
            event(f"{name}: {type(error).__name__}")
            assert isinstance(error, DOCUMENTED[name]), f"{name} raised undocumented {error!r}"
            after = self._heads()
            if isinstance(error, NotAuthorized):
                # A refusal changes nothing but is audited: one `refused` event on the instance it names.
                for instance_id, (version, seq, _head) in before.items():
                    now_version, now_seq, _ = after[instance_id]
                    assert now_version == version, f"{name} was refused ({error!r}) but changed the instance"
                    if now_seq != seq:
                        assert now_seq == seq + 1
                        assert instance_id == error.fields.get("instance_id")
                        last = self.engine.history(instance_id)[-1]
                        assert last.kind == "refused"
                        assert last.actor is not None
                return None
            assert after == before, f"{name} was rejected ({error!r}) but wrote to the store"
            return None
        event(f"{name}: ok")
        self._note_tasks()
        return result

    def _note_tasks(self) -> None:
        for task in self.engine.tasks():
            if task.id not in self.task_ids:
                self.task_ids.append(task.id)

    def _task_id(self, pick: int) -> str:
        """Mostly a ready task; else one seen before (maybe closed) or an id nobody has."""
        ready = [t.id for t in self.engine.tasks()]
        if ready and pick % 4 != 0:
            return ready[pick % len(ready)]
        if self.task_ids and pick % 4 == 0 and pick % 3 != 0:
            return self.task_ids[pick % len(self.task_ids)]
        return str(uuid.UUID(int=pick))

    def _instance_id(self, pick: int) -> str:
        if not self.instances or pick % 9 == 0:
            return str(uuid.UUID(int=pick))
        return self.instances[pick % len(self.instances)]

    # -- rules -----------------------------------------------------------------------------------------------

    @initialize(titles=st.lists(st.text(min_size=1, max_size=10), min_size=1, max_size=3))
    def open_cases(self, titles: list[str]) -> None:
        for title in titles:
            self.start({"title": title}, Actor("op", {"受理员"}), "fx_durable")

    @precondition(lambda self: len(self.instances) < 8)
    @rule(data=start_data, actor=actors, process=st.sampled_from(["fx_durable", "fx_durable", "nope"]))
    def start(self, data: Any, actor: Actor, process: str) -> None:
        view = self._call("start", lambda: self.engine.start(process, data, actor, business_key="bk-1"))
        if view is not None:
            assert view.status == "active"
            assert view.version == 1
            self.instances.append(view.id)

    @rule(
        pick=st.integers(0, 10**6),
        data=st.one_of(st.just(FITTING), task_data),
        actor=actors,
        version=st.sampled_from(["none", "none", "current", "stale"]),
    )
    def complete(self, pick: int, data: Any, actor: Actor, version: str) -> None:
        task_id = self._task_id(pick)
        if data is FITTING:
            ready = {t.id: t.element_id for t in self.engine.tasks()}
            data = FITTING.get(ready.get(task_id, ""), {})
        expected = None
        if version != "none":
            task = self.engine.tasks()
            owner = next((t.instance_id for t in task if t.id == task_id), None)
            current = self.engine.instance(owner).version if owner else 1
            expected = current if version == "current" else current - 1
        view = self._call("complete", lambda: self.engine.complete(task_id, data, actor, expected))
        if view is not None:
            assert task_id not in {t.id for t in view.tasks}

    @precondition(lambda self: bool(self.instances))
    @rule(pick=st.integers(0, 10**6))
    def progress(self, pick: int) -> None:
        """Move a case on, so that fuzzing reaches the call activity and the message wait: complete one of its
        ready tasks with fitting data as an actor holding every role, or, with none ready, send a rating.
        Half the time the first case, so that one case gets deep."""
        instance_id = self.instances[0 if pick % 2 else pick % len(self.instances)]
        ready = self.engine.tasks(instance_id=instance_id)
        if ready:
            task = ready[pick % len(ready)]
            data = FITTING[task.element_id]
            self._call("complete", lambda: self.engine.complete(task.id, data, Actor("zb-01", ROLES[:4])))
        else:
            target = {"instance_id": instance_id}
            self._call("message", lambda: self.engine.message("rating", {"rating": "满意"}, target))

    @rule()
    def tick(self) -> None:
        fired = self._call("tick", self.engine.tick)
        assert all(f.due_at <= self.clock.now() for f in fired)

    @rule(pick=st.integers(0, 10**6), actor=actors)
    def suspend(self, pick: int, actor: Actor) -> None:
        instance_id = self._instance_id(pick)
        view = self._call("suspend", lambda: self.engine.suspend(instance_id, "听证", actor))
        if view is not None:
            assert view.status == "suspended"

    @rule(pick=st.integers(0, 10**6), actor=actors)
    def resume(self, pick: int, actor: Actor) -> None:
        instance_id = self._instance_id(pick)
        view = self._call("resume", lambda: self.engine.resume(instance_id, actor))
        if view is not None:
            assert view.status in ("active", "completed")

    @rule(pick=st.integers(0, 10**6), limit=limits, reason=reasons, actor=actors)
    def extend(self, pick: int, limit: str, reason: str, actor: Actor) -> None:
        task_id = self._task_id(pick)
        view = self._call("extend", lambda: self.engine.extend(task_id, limit, reason, approved_by=actor))
        if view is not None:
            assert view.id == task_id

    @rule(
        name=messages,
        payload=payloads,
        pick=st.integers(0, 10**6),
        by_key=st.sampled_from(["instance_id", "instance_id", "business_key", "nothing"]),
    )
    def message(self, name: str, payload: Any, pick: int, by_key: str) -> None:
        correlation: dict[str, Any] = {
            "instance_id": {"instance_id": self._instance_id(pick)},
            # bk-1: every start uses it, so one open instance has it at a time (DuplicateBusinessKey)
            "business_key": {"business_key": "bk-1" if pick % 2 else "bk-none"},
            "nothing": {},
        }[by_key]
        self._call("message", lambda: self.engine.message(name, payload, correlation))

    @rule(pick=st.integers(0, 10**6), unmasked=st.booleans(), actor=st.one_of(st.none(), actors))
    def history(self, pick: int, unmasked: bool, actor: Actor | None) -> None:
        instance_id = self._instance_id(pick)
        events = self._call(
            "history", lambda: self.engine.history(instance_id, unmasked=unmasked, actor=actor)
        )
        if events is not None:
            assert events[0].kind == "started"

    @rule(
        jump=st.one_of(
            st.timedeltas(timedelta(minutes=1), timedelta(days=12)),
            st.timedeltas(-timedelta(days=1), timedelta(0)),
        )
    )
    def move_clock(self, jump: timedelta) -> None:
        self.clock.set(self.clock.now() + jump)

    # -- case operations (issue 13) ---------------------------------------------------------------------

    @rule(pick=st.integers(0, 10**6), actor=actors, duplicate=st.booleans())
    def cancel(self, pick: int, actor: Actor, duplicate: bool) -> None:
        instance_id = self._instance_id(pick)
        of = self._instance_id(pick + 1) if duplicate else None
        view = self._call(
            "cancel", lambda: self.engine.cancel(instance_id, "重复工单", actor, duplicate_of=of)
        )
        if view is not None:
            assert (view.status, view.tasks) == ("cancelled", ())

    @rule(pick=st.integers(0, 10**6), actor=actors, give_back=st.booleans())
    def claim(self, pick: int, actor: Actor, give_back: bool) -> None:
        task_id = self._task_id(pick)
        call = self.engine.unclaim if give_back else self.engine.claim
        view = self._call("unclaim" if give_back else "claim", lambda: call(task_id, actor))
        if view is not None:
            assert view.assignee == (None if give_back else actor.id)

    @rule(pick=st.integers(0, 10**6), actor=actors, who=st.sampled_from(["cb-01", "sh-01", ""]))
    def assign(self, pick: int, actor: Actor, who: str) -> None:
        task_id = self._task_id(pick)
        view = self._call("assign", lambda: self.engine.assign(task_id, who, actor))
        if view is not None:
            assert view.assignee == who

    @rule(
        pick=st.integers(0, 10**6),
        actor=actors,
        unit=st.sampled_from([None, "市住建局", "市城管局"]),
        person=st.sampled_from([None, "cb-01"]),
    )
    def transfer(self, pick: int, actor: Actor, unit: str | None, person: str | None) -> None:
        task_id = self._task_id(pick)
        due = {t.id: t.due_at for t in self.engine.tasks()}.get(task_id)
        view = self._call("transfer", lambda: self.engine.transfer(task_id, actor, "转办", unit, person))
        if view is not None:
            assert view.due_at == due  # a transfer keeps the deadline running

    @rule(pick=st.integers(0, 10**6), actor=actors, message=reasons)
    def urge(self, pick: int, actor: Actor, message: str) -> None:
        task_id = self._task_id(pick)
        urged = self._call("urge", lambda: self.engine.urge(task_id, actor, message, cc=["sh-01"]))
        if urged is not None:
            assert urged.count >= 1

    @rule(pick=st.integers(0, 10**6), actor=actors, text=reasons)
    def comment(self, pick: int, actor: Actor, text: str) -> None:
        instance_id = self._instance_id(pick)
        self._call("comment", lambda: self.engine.comment(instance_id, actor, text))

    @rule(
        pick=st.integers(0, 10**6),
        actor=actors,
        to=st.sampled_from(["Task_Handle", "Task_Check", "Task_Notify", "Nope"]),
    )
    def return_to(self, pick: int, actor: Actor, to: str) -> None:
        task_id = self._task_id(pick)
        view = self._call("return_to", lambda: self.engine.return_to(task_id, to, "退回重办", actor))
        if view is not None:
            assert to in {t.element_id for t in view.tasks}

    @rule(pick=st.integers(0, 10**6), actor=actors)
    def withdraw(self, pick: int, actor: Actor) -> None:
        done = self.engine.done(actor.id) if actor.id else []
        task_id = done[0].id if done and pick % 3 else self._task_id(pick)  # the latest: withdrawable
        view = self._call("withdraw", lambda: self.engine.withdraw(task_id, actor))
        if view is not None:
            assert task_id in {t.id for t in view.tasks}

    # -- the invariant ---------------------------------------------------------------------------------------

    @invariant()
    def store_is_consistent(self) -> None:
        report = self.engine.check_consistency(previous=self.report)
        assert report.ok, report.summary() + "\n" + repr(report.problems)
        assert report.instances == len(self.instances)
        seqs = [e.seq for e in self.engine.events(limit=10_000)]
        assert seqs == list(range(1, len(seqs) + 1)), "the outbox has a gap"
        self.report = report
        rows = {t.id for t in self.engine.tasks()}
        views = {t.id for i in self.instances for t in self.engine.instance(i).tasks}
        assert rows == views


EngineCalls.TestCase.settings = settings(
    max_examples=75,
    stateful_step_count=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
TestEngineCalls = EngineCalls.TestCase
