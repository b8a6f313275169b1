"""What a 12345 centre does to a case (issue 13), on SQLite and PostgreSQL: claim and unclaim (认领), assign
(指派), transfer (转办), urge (催办), comment; permissions from settings.yaml or a host's authorizer, refusals
typed and audited; instance data masked by default; every call's events in the outbox, in commit order, and
delivered at least once."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from tests.engine.conftest import BASIC

from efficacy_flow import shipped_processes
from efficacy_flow.engine import Actor, Attachment, Engine, OutboxEvent, RolePermissions
from efficacy_flow.errors import (
    ConcurrentUpdate,
    DeliveryFailed,
    InvalidInput,
    InvalidState,
    NotAuthorized,
    UnknownTask,
)
from efficacy_flow.testing import FakeClock, complete_task

OPERATOR = Actor("op-1", {"受理员"})
ZJ_1 = Actor("zj-1", {"承办单位"}, unit="市住建局")
ZJ_2 = Actor("zj-2", {"承办单位"}, unit="市住建局")
CG_1 = Actor("cg-1", {"承办单位"}, unit="市城管局")
HEAD = Actor("zj-head", {"单位负责人"}, unit="市住建局")
START = {"title": "路灯不亮", "unit": "市住建局", "requester_phone": "13812345678"}
REPLY = {"reply": "已修复", "resolved": True}


def _handle(engine: Engine) -> tuple[str, str]:
    case = engine.start("fx_handle", START, OPERATOR)
    (task,) = engine.tasks(instance_id=case.id)
    return case.id, task.id


def _kinds(engine: Engine, instance_id: str) -> list[str]:
    return [e.kind for e in engine.history(instance_id)]


# -- claim, unclaim, assign ----------------------------------------------------------------------------------


def test_a_claimed_task_is_completed_only_by_its_assignee(engine: Engine) -> None:
    """认领: zj-1 claims; zj-2 of the same unit can neither complete nor claim it; zj-1 completes it."""
    case_id, task_id = _handle(engine)
    view = engine.claim(task_id, ZJ_1)
    assert view.assignee == "zj-1"
    assert engine.tasks(assignee="zj-1") == [view]
    assert engine.tasks(assignee="zj-2") == []
    with pytest.raises(NotAuthorized, match="assigned to zj-1"):
        engine.complete(task_id, REPLY, ZJ_2)
    with pytest.raises(NotAuthorized):
        engine.claim(task_id, ZJ_2)
    with pytest.raises(ConcurrentUpdate, match="already claimed"):
        engine.claim(task_id, ZJ_1)
    assert _kinds(engine, case_id)[-3:] == ["claimed", "refused", "refused"]
    done = engine.complete(task_id, REPLY, ZJ_1)
    assert (done.status, done.tasks) == ("completed", ())
    assert engine.check_consistency().ok


def test_claiming_needs_the_role_and_the_unit(engine: Engine) -> None:
    """Only someone who could complete the task may claim it: another unit's handler may not."""
    case_id, task_id = _handle(engine)
    with pytest.raises(NotAuthorized, match="市城管局"):
        engine.claim(task_id, CG_1)
    with pytest.raises(NotAuthorized, match="lacks role"):
        engine.claim(task_id, OPERATOR)
    assert engine.tasks(instance_id=case_id)[0].assignee is None


def test_unclaim_gives_the_task_back(make_engine: Callable[..., Engine]) -> None:
    """取消认领 by the holder frees it for the unit; a colleague who may not assign cannot unclaim it for
    them, a unit head who may can."""
    engine = make_engine(authorizer=RolePermissions({"assign": ["单位负责人"]}))
    case_id, task_id = _handle(engine)
    engine.claim(task_id, ZJ_1)
    with pytest.raises(NotAuthorized, match="held by zj-1"):
        engine.unclaim(task_id, ZJ_2)
    view = engine.unclaim(task_id, ZJ_1)
    assert view.assignee is None
    with pytest.raises(ConcurrentUpdate, match="not claimed"):
        engine.unclaim(task_id, ZJ_1)
    engine.claim(task_id, ZJ_2)
    assert engine.unclaim(task_id, HEAD).assignee is None
    engine.claim(task_id, ZJ_2)
    engine.complete(task_id, REPLY, ZJ_2)
    assert _kinds(engine, case_id).count("unclaimed") == 2


def test_assign_needs_the_permission(make_engine: Callable[..., Engine]) -> None:
    """指派 by a unit head the authorizer allows; anyone else is refused, and the refusal is audited with
    nothing else changed. The assignee, not the head, completes it."""
    engine = make_engine(authorizer=RolePermissions({"assign": ["单位负责人"]}))
    case_id, task_id = _handle(engine)
    version = engine.instance(case_id).version
    with pytest.raises(NotAuthorized, match="may not assign") as refused:
        engine.assign(task_id, "zj-2", ZJ_1)
    assert refused.value.fields["action"] == "assign"
    assert engine.instance(case_id).version == version
    refusal = engine.history(case_id)[-1]
    assert (refusal.kind, refusal.actor, refusal.after["action"]) == ("refused", "zj-1", "assign")
    view = engine.assign(task_id, "zj-2", HEAD)
    assert view.assignee == "zj-2"
    assert engine.history(case_id)[-1].after["previous_assignee"] is None
    view = engine.assign(task_id, "zj-1", HEAD)  # reassigning a leaver's task
    assert engine.history(case_id)[-1].after["previous_assignee"] == "zj-2"
    with pytest.raises(NotAuthorized):
        engine.complete(task_id, REPLY, ZJ_2)
    engine.complete(task_id, REPLY, ZJ_1)


# -- transfer ------------------------------------------------------------------------------------------------


def test_a_transfer_moves_the_task_and_keeps_its_deadline(engine: Engine, clock: FakeClock) -> None:
    """转办 from 市住建局 to 市城管局: the same task and due time, in the new unit's list, completed there."""
    case_id, task_id = _handle(engine)
    engine.claim(task_id, ZJ_1)
    before = engine.tasks(instance_id=case_id)[0]
    clock.advance(timedelta(hours=5))
    view = engine.transfer(task_id, OPERATOR, "属城管职责", to_unit="市城管局")
    assert (view.id, view.unit, view.assignee, view.due_at) == (task_id, "市城管局", None, before.due_at)
    assert engine.tasks(unit="市城管局") == [view]
    assert engine.tasks(unit="市住建局") == []
    event = engine.history(case_id)[-1]
    assert event.kind == "transferred"
    assert (event.after["from_unit"], event.after["to_unit"], event.after["from_assignee"]) == (
        "市住建局",
        "市城管局",
        "zj-1",
    )
    with pytest.raises(NotAuthorized):
        engine.complete(task_id, REPLY, ZJ_1)
    engine.complete(task_id, REPLY, CG_1)
    assert engine.check_consistency().ok


def test_a_transfer_to_a_person_and_its_refusals(engine: Engine) -> None:
    """改派 to a person within the unit; a transfer that names nothing, or changes nothing, is refused."""
    case_id, task_id = _handle(engine)
    view = engine.transfer(task_id, OPERATOR, "人员调整", to_assignee="zj-2")
    assert (view.unit, view.assignee) == ("市住建局", "zj-2")
    with pytest.raises(InvalidInput, match="to_unit or to_assignee"):
        engine.transfer(task_id, OPERATOR, "x")
    with pytest.raises(InvalidInput, match="already with"):
        engine.transfer(task_id, OPERATOR, "x", to_assignee="zj-2")
    with pytest.raises(InvalidInput, match="reason"):
        engine.transfer(task_id, OPERATOR, "", to_unit="市城管局")
    with pytest.raises(UnknownTask):
        engine.transfer("nope", OPERATOR, "x", to_unit="市城管局")
    engine.suspend(case_id, "听证", OPERATOR)
    with pytest.raises(InvalidState):
        engine.transfer(task_id, OPERATOR, "x", to_unit="市城管局")


def test_transfer_racing_complete_has_one_winner(make_engine: Callable[..., Engine]) -> None:
    """A transfer and a completion of the same task from two engines: one wins, the other gets a typed
    error, and the store is consistent."""
    first, second = make_engine(), make_engine()
    _, task_id = _handle(first)
    errors: list[Exception] = []
    barrier = threading.Barrier(2)

    def run(call: Callable[[], Any]) -> None:
        barrier.wait()
        try:
            call()
        except (ConcurrentUpdate, NotAuthorized) as exc:
            errors.append(exc)

    threads = [
        threading.Thread(target=run, args=(lambda: first.complete(task_id, REPLY, ZJ_1),)),
        threading.Thread(
            target=run, args=(lambda: second.transfer(task_id, OPERATOR, "x", to_unit="市城管局"),)
        ),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(errors) <= 1
    assert first.check_consistency().ok


# -- urge and comment ----------------------------------------------------------------------------------------


def test_urging_counts_and_reaches_the_outbox_masked(engine: Engine, clock: FakeClock) -> None:
    """催办 twice: the count and last time are on the task; the outbox carries the message with the phone
    number masked, the copied ids, and the task's unit."""
    case_id, task_id = _handle(engine)
    first = engine.urge(task_id, OPERATOR, "请尽快处理，来电人13812345678", cc=["zj-head"])
    assert (first.count, first.cc, first.actor) == (1, ("zj-head",), "op-1")
    clock.advance(timedelta(hours=2))
    second = engine.urge(task_id, OPERATOR, "再次催办")
    (task,) = engine.tasks(instance_id=case_id)
    assert (task.urges, task.last_urged_at) == (2, second.at)
    urged = [e for e in engine.events() if e.kind == "urged"]
    assert [e.payload["count"] for e in urged] == [1, 2]
    assert urged[0].payload["message"] == "请尽快处理，来电人138****5678"
    assert (urged[0].unit, urged[0].task_id, urged[0].payload["cc"]) == ("市住建局", task_id, ["zj-head"])
    with pytest.raises(InvalidInput, match="cc"):
        engine.urge(task_id, OPERATOR, "x", cc="zj-head")


def test_a_comment_with_attachments_is_in_the_history(engine: Engine) -> None:
    """A comment keeps its attachment references; the instance's version does not move; a bad digest or a
    task of another case is refused."""
    case_id, task_id = _handle(engine)
    version = engine.instance(case_id).version
    digest = "ab" * 32
    comment = engine.comment(
        case_id,
        OPERATOR,
        "现场照片已上传",
        task_id=task_id,
        attachments=[
            Attachment("现场.jpg", "s3://12345/0001/a.jpg", digest),
            {"name": "b", "uri": "u", "sha256": digest.upper()},
        ],
    )
    assert [a.sha256 for a in comment.attachments] == [digest, digest]
    event = engine.history(case_id)[-1]
    assert (event.kind, event.seq, event.after["text"]) == ("commented", comment.seq, "现场照片已上传")
    assert event.after["attachments"][0] == {
        "name": "现场.jpg",
        "uri": "s3://12345/0001/a.jpg",
        "sha256": digest,
    }
    assert engine.instance(case_id).version == version
    assert engine.verify_history(case_id).ok
    with pytest.raises(InvalidInput, match="sha256"):
        engine.comment(case_id, OPERATOR, "x", attachments=[{"name": "a", "uri": "u", "sha256": "12"}])
    other, _ = _handle(engine)
    with pytest.raises(UnknownTask):
        engine.comment(other, OPERATOR, "x", task_id=task_id)


# -- permissions and masking ---------------------------------------------------------------------------------


@pytest.fixture
def governed(tmp_path: Path) -> Path:
    """The basic fixtures with a settings.yaml that governs cancel, suspend and unmasked reading."""
    folder = tmp_path / "governed"
    shutil.copytree(BASIC, folder)
    (folder / "settings.yaml").write_text(
        "version: 1\n"
        "unit_lanes: {roles: [承办单位], source: '[setting] test'}\n"
        "permissions:\n"
        "  cancel: {roles: [受理员], source: '[setting] test'}\n"
        "  suspend: {roles: [单位负责人], source: '[setting] test'}\n"
        "  read_unmasked: {roles: [效能办], source: '[setting] test'}\n"
        "  start: {roles: [受理员], processes: {fx_rating: [效能办]}, source: '[setting] test'}\n",
        encoding="utf-8",
    )
    return folder


def test_settings_yaml_permissions_govern_the_calls(
    make_engine: Callable[..., Engine], governed: Path
) -> None:
    """The default authorizer reads the folder's permissions: refused calls raise NotAuthorized and are
    audited; an allowed actor succeeds; a per-process rule replaces the general one."""
    engine = make_engine(governed)
    case_id, _ = _handle(engine)
    with pytest.raises(NotAuthorized, match="may not suspend"):
        engine.suspend(case_id, "听证", ZJ_1)
    assert engine.suspend(case_id, "听证", HEAD).status == "suspended"
    with pytest.raises(NotAuthorized, match="may not cancel"):
        engine.cancel(case_id, "重复", HEAD)
    assert engine.cancel(case_id, "重复", OPERATOR).status == "cancelled"
    assert [e.after["action"] for e in engine.history(case_id) if e.kind == "refused"] == [
        "suspend",
        "cancel",
    ]
    with pytest.raises(NotAuthorized, match="may not start"):
        engine.start("fx_rating", {}, OPERATOR)
    with pytest.raises(NotAuthorized, match="may not start"):
        engine.start("fx_handle", START, HEAD)


def test_an_actor_without_a_unit_cannot_complete_a_unit_lane_task(
    make_engine: Callable[..., Engine], governed: Path
) -> None:
    """unit_lanes: 承办单位 tasks need the task's unit; 审核员 tasks (a centre lane) do not, though they carry
    the case's unit too. Without unit_lanes (the basic folder) an actor without a unit is not restricted."""
    engine = make_engine(governed)
    case_id, task_id = _handle(engine)
    nobody = Actor("cb-x", {"承办单位"})
    with pytest.raises(NotAuthorized, match="without a unit"):
        engine.complete(task_id, {"reply": "待核实", "resolved": False}, nobody)
    view = engine.complete(task_id, {"reply": "待核实", "resolved": False}, ZJ_1)
    (review,) = view.tasks
    assert review.unit == "市住建局"
    engine.complete(review.id, {}, Actor("rv-1", {"审核员"}))
    assert engine.instance(case_id).status == "completed"
    open_engine = make_engine()
    _, other = _handle(open_engine)
    open_engine.complete(other, REPLY, nobody)


def test_instance_data_is_masked_unless_read_unmasked(
    make_engine: Callable[..., Engine], governed: Path
) -> None:
    """instance().data masks pii as history does; unmasked needs an actor with read_unmasked and is
    audited; without the permission it is refused."""
    engine = make_engine(governed)
    case_id, _ = _handle(engine)
    assert engine.instance(case_id).data["requester_phone"] == "138****5678"
    office = Actor("xn-1", {"效能办"})
    assert engine.instance(case_id, unmasked=True, actor=office).data["requester_phone"] == "13812345678"
    assert _kinds(engine, case_id)[-1] == "unmasked_data_read"
    with pytest.raises(NotAuthorized):
        engine.instance(case_id, unmasked=True, actor=OPERATOR)
    with pytest.raises(NotAuthorized):
        engine.history(case_id, unmasked=True, actor=OPERATOR)
    with pytest.raises(InvalidInput, match="needs an actor"):
        engine.instance(case_id, unmasked=True)


def test_a_failing_authorizer_refuses(make_engine: Callable[..., Engine]) -> None:
    """A host authorizer that raises is a refusal (NotAuthorized), never its raw error; one that is not an
    authorizer is refused at construction."""

    class Broken:
        def allows(self, action: str, actor: Actor, process_id: str) -> bool:
            raise RuntimeError("LDAP down")

    engine = make_engine(authorizer=Broken())
    with pytest.raises(NotAuthorized):
        engine.start("fx_handle", START, OPERATOR)
    assert engine.instances() == []
    with pytest.raises(InvalidInput, match="authorizer"):
        make_engine(authorizer=object())


# -- the outbox ----------------------------------------------------------------------------------------------


def test_every_call_appends_its_events_in_order(engine: Engine) -> None:
    """start → instance_started, task_ready; complete → task_completed, task_ready; pages by ``after``."""
    case_id, task_id = _handle(engine)
    engine.complete(task_id, REPLY, ZJ_1)
    events = engine.events()
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert [e.kind for e in events] == [
        "instance_started",
        "task_ready",
        "task_completed",
        "instance_completed",
    ]
    assert {e.instance_id for e in events} == {case_id}
    ready, completed = events[1], events[2]
    assert (ready.task_id, ready.unit, ready.payload["element_id"]) == (task_id, "市住建局", "Task_Handle")
    assert (completed.task_id, completed.payload["by"]) == (task_id, "zj-1")
    assert engine.events(after=2, limit=1) == [events[2]]
    assert engine.events(after=len(events)) == []
    assert "13812345678" not in repr(events)
    with pytest.raises(InvalidInput):
        engine.events(after=-1)


def test_a_rejected_call_appends_nothing(engine: Engine) -> None:
    """Events are part of the call's transaction: a refused completion adds none."""
    _, task_id = _handle(engine)
    count = len(engine.events())
    with pytest.raises(InvalidInput):
        engine.complete(task_id, {"reply": ""}, ZJ_1)
    assert len(engine.events()) == count


def test_delivery_is_at_least_once_with_a_stored_cursor(engine: Engine) -> None:
    """deliver hands events in order and keeps the consumer's cursor; a failing handler stops at its event,
    which comes again next time; another consumer has its own cursor."""
    _handle(engine)
    _handle(engine)
    total = len(engine.events())
    seen: list[OutboxEvent] = []

    def flaky(event: OutboxEvent) -> None:
        if event.seq == 3 and not any(e.seq == 3 for e in seen):
            seen.append(event)
            raise ConnectionError("SMS gateway timeout")
        seen.append(event)

    with pytest.raises(DeliveryFailed, match="event 3") as failed:
        engine.deliver("sms", flaky)
    assert isinstance(failed.value.__cause__, ConnectionError)
    assert engine.deliver("sms", flaky) == total - 2
    assert [e.seq for e in seen] == [1, 2, 3, 3, *range(4, total + 1)]
    assert engine.deliver("sms", flaky) == 0
    keys = {e.idempotency_key for e in seen}
    assert len(keys) == total
    webhook: list[int] = []
    assert engine.deliver("webhook", lambda e: webhook.append(e.seq), limit=2) == 2
    assert webhook == [1, 2]


def test_readers_never_see_a_gap_fill_in(make_engine: Callable[..., Engine]) -> None:
    """Four writers start and complete cases at once while a reader polls the outbox: every read is a
    gap-free run from 1, so no event can later appear below one already seen (PostgreSQL's concurrent
    commits included)."""
    writers = [make_engine() for _ in range(4)]
    reader = make_engine()
    stop = threading.Event()
    failures: list[str] = []

    def write(engine: Engine) -> None:
        for _ in range(6):
            _, task_id = _handle(engine)
            engine.complete(task_id, REPLY, ZJ_1)

    def read() -> None:
        while not stop.is_set():
            seqs = [e.seq for e in reader.events(limit=10_000)]
            if seqs != list(range(1, len(seqs) + 1)):
                failures.append(f"gap in {seqs}")

    polling = threading.Thread(target=read)
    polling.start()
    threads = [threading.Thread(target=write, args=(w,)) for w in writers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    stop.set()
    polling.join()
    assert failures == []
    assert len(reader.events(limit=10_000)) == 4 * 6 * 4


# -- on the shipped processes --------------------------------------------------------------------------------


def test_a_ticket_transferred_across_national_day_keeps_its_limit(
    make_engine: Callable[..., Engine], clock: FakeClock
) -> None:
    """12345: dispatched to 市城管局 on the make-up Sunday 2025-09-28, transferred to 市住建局 during 办理 on
    09-30; the 5 working days still end 2025-10-12 00:00 (National Day skipped), and 市住建局 handles it."""
    from tests.processes._drive import at

    engine = make_engine(shipped_processes())
    clock.set(at(2025, 9, 28, 9))
    cg = Actor("cg-1", {"承办单位"}, unit="市城管局")
    zj = Actor("zj-1", {"承办单位"}, unit="市住建局")
    case = engine.start("complaint_closure", {"title": "路灯不亮", "content": "幸福小区"}, OPERATOR)

    complete_task(engine, case.id, "Task_Dispatch", {"unit": "市城管局", "dispatch_note": "路灯"}, OPERATOR)
    complete_task(engine, case.id, "Task_Acknowledge", {"ack_decision": "签收"}, cg)
    (handle,) = engine.tasks(instance_id=case.id)
    assert handle.due_at == at(2025, 10, 12)
    clock.set(at(2025, 9, 30, 10))
    moved = engine.transfer(handle.id, OPERATOR, "属住建职责", to_unit="市住建局")
    assert (moved.unit, moved.due_at) == ("市住建局", at(2025, 10, 12))
    assert [e.kind for e in engine.events(limit=10_000)][-1] == "transferred"
    engine.complete(handle.id, {"reply": "已修复", "resolved": True}, zj)
    assert engine.check_consistency().ok


def test_a_limit_may_restart_on_transfer(
    make_engine: Callable[..., Engine], tmp_path: Path, clock: FakeClock
) -> None:
    """time_limits.yaml ``on_transfer: restart`` on fx_warning: a transfer to another unit counts the warning
    anew from the transfer, while the handling limit (working_days(3), no such rule) keeps running; a transfer
    to a person of the same unit restarts nothing."""
    folder = tmp_path / "restart"
    shutil.copytree(BASIC, folder)
    limits = folder / "time_limits.yaml"
    limits.write_text(
        limits.read_text(encoding="utf-8").replace(
            "    source: 测试用（tests/engine）\n",
            "    source: 测试用（tests/engine）\n"
            "    on_transfer: restart\n"
            "    transfer_source: '[setting] test'\n",
        ),
        encoding="utf-8",
    )
    engine = make_engine(folder)
    case_id, task_id = _handle(engine)

    def dues() -> dict[str, Any]:
        with engine.store.read() as reader:
            return {d.element_id: d.due_at for d in reader.deadlines_of(case_id)}

    before = dues()
    engine.transfer(task_id, OPERATOR, "同单位改派", to_assignee="zj-2")
    assert dues() == before
    clock.advance(timedelta(days=7))
    engine.transfer(task_id, OPERATOR, "属城管职责", to_unit="市城管局")
    after = dues()
    assert after["Timer_HandlingLimit"] == before["Timer_HandlingLimit"]
    assert after["Timer_Warning"] > before["Timer_Warning"]
    assert after["Timer_Warning"] > clock.now()
    restarted = engine.history(case_id)[-1].after["restarted"]
    assert list(restarted) == ["Timer_Warning"]
    assert engine.check_consistency().ok


def test_a_delegated_task_comes_back_to_its_owner(engine: Engine) -> None:
    """委派: zj-1 delegates to zj-2; zj-2's completion does not complete the task but brings it back to zj-1
    with zj-2's data proposed; zj-1 confirms (completing with nothing new) and the proposal is the data."""
    case_id, task_id = _handle(engine)
    with pytest.raises(InvalidInput, match="own owner"):
        engine.delegate(task_id, "zj-1", ZJ_1)
    view = engine.delegate(task_id, "zj-2", ZJ_1)
    assert view.assignee == "zj-2"
    with pytest.raises(NotAuthorized):
        engine.complete(task_id, REPLY, ZJ_1)  # the owner waits for the delegate
    back = engine.complete(task_id, {"reply": "已派员维修", "resolved": True}, ZJ_2)
    assert (back.status, [t.assignee for t in back.tasks]) == ("active", ["zj-1"])
    assert engine.history(case_id)[-1].kind == "delegate_resolved"
    with pytest.raises(NotAuthorized):
        engine.complete(task_id, REPLY, ZJ_2)  # back with the owner
    done = engine.complete(task_id, {}, ZJ_1)
    assert (done.status, done.data["reply"]) == ("completed", "已派员维修")
    assert [t.id for t in engine.done("zj-1")] == [task_id]
    assert engine.check_consistency().ok


def test_pruning_keeps_what_a_consumer_has_not_passed(engine: Engine) -> None:
    """prune_events deletes up to the slowest consumer's cursor and never the newest event; numbering goes on
    after it (no number is given twice)."""
    _handle(engine)
    _handle(engine)
    total = len(engine.events())
    assert engine.deliver("sms", lambda e: None, limit=2) == 2
    assert engine.prune_events(through=total) == 2  # the sms consumer is at 2
    assert [e.seq for e in engine.events()] == list(range(3, total + 1))
    engine.deliver("sms", lambda e: None)
    assert engine.prune_events(through=10_000) == total - 3  # the newest stays
    assert [e.seq for e in engine.events()] == [total]
    _handle(engine)
    assert [e.seq for e in engine.events()][:2] == [total, total + 1]
