"""Going back (issue 13), on SQLite and PostgreSQL: return_to (退回/驳回) an earlier step with a new deadline,
withdraw (撤回) one's own step while the next is untouched, and done (已办): what a person completed."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from tests.processes._drive import at

from efficacy_flow import shipped_processes
from efficacy_flow.engine import Actor, Engine
from efficacy_flow.errors import ConcurrentUpdate, InvalidInput, InvalidState, NotAuthorized
from efficacy_flow.testing import FakeClock, complete_task

OPERATOR = Actor("op-1", {"受理员"})
ZJ_1 = Actor("zj-1", {"承办单位"}, unit="市住建局")
ZJ_2 = Actor("zj-2", {"承办单位"}, unit="市住建局")
REVIEWER = Actor("rv-1", {"审核员"})
START = {"title": "路灯不亮", "unit": "市住建局"}
NOT_RESOLVED = {"reply": "需进一步核实", "resolved": False}


def _to_review(engine: Engine) -> tuple[str, str, str]:
    """A case whose handling was completed unresolved: (instance, handle task, review task)."""
    case = engine.start("fx_handle", START, OPERATOR)
    (handle,) = engine.tasks(instance_id=case.id)
    view = engine.complete(handle.id, NOT_RESOLVED, ZJ_1)
    (review,) = view.tasks
    return case.id, handle.id, review.id


def test_return_to_an_earlier_step_gives_it_a_new_deadline(engine: Engine, clock: FakeClock) -> None:
    """The reviewer sends the case back to 办理: the review task closes, Task_Handle is ready again (the same
    id) with the data it had before it ran, a ready time of now and a deadline counted from now."""
    case_id, handle_id, review_id = _to_review(engine)
    clock.advance(timedelta(days=1))
    view = engine.return_to(review_id, "Task_Handle", "答复未解决诉求", REVIEWER)
    (again,) = view.tasks
    assert (again.id, again.element_id) == (handle_id, "Task_Handle")
    assert again.ready_at == clock.now()
    assert again.due_at is not None
    assert again.due_at > clock.now() + timedelta(days=1)
    assert "reply" not in view.data  # the data it had when it first became ready
    assert engine.tasks(instance_id=case_id) == [again]
    event = engine.history(case_id)[-1]
    assert (event.kind, event.after["to_element"], event.after["reason"]) == (
        "returned",
        "Task_Handle",
        "答复未解决诉求",
    )
    assert [e.kind for e in engine.events(limit=10_000)][-3:] == ["task_cancelled", "returned", "task_ready"]
    assert engine.check_consistency().ok
    done = engine.complete(handle_id, {"reply": "已修复", "resolved": True}, ZJ_1)
    assert done.status == "completed"


def test_return_to_refusals(engine: Engine) -> None:
    """A step the case never completed is InvalidState; a completed task cannot be returned from; nothing is
    written."""
    case_id, _, review_id = _to_review(engine)
    version = engine.instance(case_id).version
    with pytest.raises(InvalidState, match="no completed Task_Escalate"):
        engine.return_to(review_id, "Task_Escalate", "x", REVIEWER)
    with pytest.raises(InvalidInput, match="reason"):
        engine.return_to(review_id, "Task_Handle", "", REVIEWER)
    assert engine.instance(case_id).version == version
    engine.complete(review_id, {}, REVIEWER)
    with pytest.raises(ConcurrentUpdate):
        engine.return_to(review_id, "Task_Handle", "x", REVIEWER)


def test_withdraw_while_the_next_step_is_untouched(engine: Engine) -> None:
    """撤回: the handler takes the step back; it is theirs again (assigned), the review is gone."""
    case_id, handle_id, _ = _to_review(engine)
    with pytest.raises(NotAuthorized, match="completed by zj-1"):
        engine.withdraw(handle_id, ZJ_2)
    view = engine.withdraw(handle_id, ZJ_1)
    (again,) = view.tasks
    assert (again.id, again.assignee) == (handle_id, "zj-1")
    assert engine.tasks(instance_id=case_id) == [again]
    with pytest.raises(ConcurrentUpdate, match="not completed"):
        engine.withdraw(handle_id, ZJ_1)
    assert engine.history(case_id)[-1].kind == "withdrawn"
    assert engine.check_consistency().ok


@pytest.mark.parametrize(
    "touch",
    [
        pytest.param(lambda e, review: e.claim(review, REVIEWER), id="claimed"),
        pytest.param(lambda e, review: e.urge(review, OPERATOR, "请审核"), id="urged"),
        pytest.param(lambda e, review: e.complete(review, {}, REVIEWER), id="completed"),
    ],
)
def test_withdraw_after_the_next_step_moved_is_refused(engine: Engine, touch: Callable[..., Any]) -> None:
    """Once the next step is claimed, urged or done, the step cannot be taken back: ConcurrentUpdate."""
    case_id, handle_id, review_id = _to_review(engine)
    touch(engine, review_id)
    version = engine.instance(case_id).version
    with pytest.raises(ConcurrentUpdate):
        engine.withdraw(handle_id, ZJ_1)
    assert engine.instance(case_id).version == version


def test_a_comment_does_not_stop_a_withdrawal(engine: Engine) -> None:
    """A comment changes nothing of the case's course."""
    case_id, handle_id, _ = _to_review(engine)
    engine.comment(case_id, OPERATOR, "已电话联系")
    assert engine.withdraw(handle_id, ZJ_1).tasks[0].id == handle_id


def test_done_lists_what_a_person_completed(engine: Engine, clock: FakeClock) -> None:
    """已办: most recent first, paged by key; another person's completions are not listed."""
    completed = []
    for _ in range(5):
        case = engine.start("fx_handle", START, OPERATOR)
        (task,) = engine.tasks(instance_id=case.id)
        clock.advance(timedelta(minutes=5))
        engine.complete(task.id, {"reply": "好", "resolved": True}, ZJ_1)
        completed.append(task.id)
    other = engine.start("fx_handle", START, OPERATOR)
    engine.complete(engine.tasks(instance_id=other.id)[0].id, {"reply": "好", "resolved": True}, ZJ_2)
    mine = engine.done("zj-1")
    assert [t.id for t in mine] == completed[::-1]
    assert all(t.completed_by == "zj-1" for t in mine)
    assert [t.completed_at for t in mine] == sorted((t.completed_at for t in mine), reverse=True)
    first = engine.done("zj-1", limit=2)
    rest = engine.done("zj-1", limit=10, after=first[-1].id)
    assert first + rest == mine
    assert [t.id for t in engine.done("zj-2")] == [engine.history(other.id)[1].after["task_id"]]
    with pytest.raises(InvalidInput):
        engine.done("zj-1", after="nope")


def test_a_reply_is_returned_to_handling(make_engine: Callable[..., Engine], clock: FakeClock) -> None:
    """The shipped 12345 loop: a reply that does not answer the request is returned from 审核答复 to 办理 by
    the reviewer (settings.yaml permits 审核员); the unit handles it again with a new 5个工作日."""
    engine = make_engine(shipped_processes())
    clock.set(at(2025, 10, 9, 9))
    cg = Actor("cg-1", {"承办单位"}, unit="市城管局")
    case = engine.start("complaint_closure", {"title": "路灯不亮", "content": "幸福小区"}, OPERATOR)

    complete_task(engine, case.id, "Task_Dispatch", {"unit": "市城管局", "dispatch_note": "路灯"}, OPERATOR)
    complete_task(engine, case.id, "Task_Acknowledge", {"ack_decision": "签收"}, cg)
    complete_task(engine, case.id, "Task_Handle", {"reply": "已处理", "resolved": True}, cg)
    head = Actor("cg-head", {"单位负责人"}, unit="市城管局")
    complete_task(engine, case.id, "Task_SignOff", {"signed_off": True}, head)  # 领导签发
    (review,) = engine.tasks(instance_id=case.id)
    assert review.element_id == "Task_Review"
    with pytest.raises(NotAuthorized):
        engine.return_to(review.id, "Task_Handle", "答非所问", cg)
    clock.set(at(2025, 10, 13, 10))
    view = engine.return_to(review.id, "Task_Handle", "答非所问", Actor("rv-1", {"审核员"}))
    (handle,) = view.tasks
    assert (handle.element_id, handle.unit) == ("Task_Handle", "市城管局")
    # Ready Monday 10-13 10:00: 10-14, 10-15, 10-16, 10-17, 10-20; due at the end of 10-20.
    assert handle.due_at == at(2025, 10, 21)
    assert engine.check_consistency().ok


def test_return_across_parallel_branches(make_engine: Callable[..., Engine]) -> None:
    """fx_durable splits after 办理 into 审核 and 通知. Returning from 通知 to the completed 审核 would leave
    通知 open: refused, nothing changed. Returning from 通知 to 办理 closes both branches (both come from
    it) and their timers; 办理 is ready again."""
    from tests.engine.test_competing import DURABLE

    engine = make_engine(DURABLE)
    handler, reviewer = Actor("cb-01", {"承办单位"}), Actor("sh-01", {"审核员"})
    case = engine.start("fx_durable", {"title": "路灯"}, OPERATOR)
    complete_task(engine, case.id, "Task_Handle", {"reply": "已办"}, handler)
    complete_task(engine, case.id, "Task_Check", {"approved": True}, reviewer)
    (notify,) = engine.tasks(instance_id=case.id)
    assert notify.element_id == "Task_Notify"
    version = engine.instance(case.id).version
    with pytest.raises(InvalidState, match="not on the way"):
        engine.return_to(notify.id, "Task_Check", "x", reviewer)
    assert engine.instance(case.id).version == version
    view = engine.return_to(notify.id, "Task_Handle", "重新办理", reviewer)
    assert [t.element_id for t in view.tasks] == ["Task_Handle"]
    assert engine.check_consistency().ok
    complete_task(engine, case.id, "Task_Handle", {"reply": "重办"}, handler)
    assert sorted(t.element_id for t in engine.tasks(instance_id=case.id)) == ["Task_Check", "Task_Notify"]
    assert engine.check_consistency().ok


def test_a_withdrawn_step_gets_fresh_timers_after_a_suspension(
    make_engine: Callable[..., Engine], clock: FakeClock
) -> None:
    """Found by the Hypothesis state machine: suspend and resume at once (the 4-hour warning timer then counts
    the minutes that remained), complete the step, withdraw it. The step's timers are counted anew — the
    warning in hours again, due at the same instant — and the cached engine's deadline rows say so, as the
    saved state does (check_consistency compares them)."""
    from tests.engine.conftest import FIXTURES

    engine = make_engine(FIXTURES / "durable")
    actor = Actor("zb-01", {"受理员", "审核员", "承办单位", "督办员"})
    case = engine.start("fx_durable", {"title": "路灯不亮"}, Actor("op", {"受理员"})).id
    engine.suspend(case, "听证", actor)
    engine.resume(case, actor)
    (task,) = engine.tasks(instance_id=case)
    engine.complete(task.id, {"reply": "已办"}, actor)
    engine.withdraw(task.id, actor)
    with engine.store.read() as reader:
        kinds = {d.element_id: d.kind for d in reader.deadlines_of(case)}
    assert kinds == {"Timer_Warn": "hours", "Timer_Limit": "working_days"}
    assert engine.check_consistency().ok
