"""The HTTP API against a running server (tests/service/conftest.py) over real HTTP, on SQLite and
PostgreSQL: a 12345 ticket from 受理 to 办结, each case operation, idempotent replay, the problems."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import httpx
from tests.service.conftest import TICKET, Running

REPLY = {"reply": "已派员更换灯具，路灯恢复照明", "resolved": True}
CJK = re.compile(r"[\u4e00-\u9fff]")


def _task(api: httpx.Client, instance_id: object, element_id: str) -> dict[str, Any]:
    answer = api.get("/tasks", params={"instance_id": str(instance_id)})
    assert answer.status_code == 200, answer.text
    found = [t for t in answer.json()["items"] if t["element_id"] == element_id]
    assert len(found) == 1, answer.json()
    return dict(found[0])


def _do(api: httpx.Client, instance_id: object, element_id: str, data: dict[str, Any]) -> dict[str, Any]:
    task = _task(api, instance_id, element_id)
    answer = api.post(f"/tasks/{task['id']}/complete", json={"data": data})
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def test_a_12345_ticket_from_start_to_close(running: Running) -> None:
    """受理—派单—认领—签收—办理—领导签发—审核—反馈—短信评价—办结, each step a request by its own person;
    the history, the operator's 已办 and the appraisal figures see it."""
    operator, unit, reviewer = (
        running.as_("tok-operator"),
        running.as_("tok-unit"),
        running.as_("tok-reviewer"),
    )
    started = operator.post(
        "/instances",
        json={"process_id": "complaint_closure", "data": TICKET, "business_key": "12345-0001"},
        headers={"Idempotency-Key": "start-0001"},
    )
    assert started.status_code == 201, started.text
    case = started.json()
    assert (case["status"], case["business_key"], case["first_responder"]) == (
        "active",
        "12345-0001",
        "op-17",
    )
    assert datetime.fromisoformat(case["created_at"]).utcoffset() == timedelta(hours=8)
    assert [t["element_id"] for t in case["tasks"]] == ["Task_Dispatch"]
    assert case["tasks"][0]["form"], "a task carries its form"
    _do(operator, case["id"], "Task_Dispatch", {"unit": "市城管局"})
    acknowledge = _task(unit, case["id"], "Task_Acknowledge")
    assert acknowledge["unit"] == "市城管局"
    assert acknowledge["due_at"] is not None
    claimed = unit.post(f"/tasks/{acknowledge['id']}/claim")
    assert (claimed.status_code, claimed.json()["assignee"]) == (200, "cg-01")
    _do(unit, case["id"], "Task_Acknowledge", {"ack_decision": "签收"})
    _do(unit, case["id"], "Task_Handle", REPLY)
    _do(running.as_("tok-head"), case["id"], "Task_SignOff", {"signed_off": True})  # 领导签发
    _do(reviewer, case["id"], "Task_Review", {"review_passed": True})
    replied = _do(operator, case["id"], "Task_Reply", {"reply_channel": "电话"})
    assert [t["element_id"] for t in replied["tasks"]] == [
        "Task_Callback"
    ]  # 回访; an SMS rating may come first
    rated = operator.post(
        "/messages",
        json={"name": "rating", "payload": {"rating": "满意"}, "correlation": {"business_key": "12345-0001"}},
    )
    assert rated.status_code == 200, rated.text
    assert rated.json()["status"] == "completed"
    shown = operator.get(f"/instances/{case['id']}").json()
    assert shown["status"] == "completed"
    assert shown["data"]["requester_phone"] != TICKET["requester_phone"]  # masked when read
    kinds = [e["kind"] for e in operator.get(f"/instances/{case['id']}/history").json()]
    assert kinds[0] == "started"
    assert "task_completed" in kinds
    done = operator.get("/done").json()["items"]
    assert {t["element_id"] for t in done} == {"Task_Dispatch", "Task_Reply"}
    now = running.engine.clock.now()
    params = {"since": (now - timedelta(days=1)).isoformat(), "until": (now + timedelta(days=1)).isoformat()}
    figures = operator.get("/appraisal", params=params).json()
    (row,) = [r for r in figures if r["key"] == {"unit": "市城管局"}]
    assert (row["counts"]["received"], row["counts"]["closed"], row["rates"]["satisfaction_rate"]) == (
        1,
        1,
        1.0,
    )
    listed = operator.get("/instances", params={"business_key": "12345-0001"}).json()["items"]
    assert [i["id"] for i in listed] == [case["id"]]
    assert operator.get("/cards", params={"instance_id": case["id"]}).json() == {
        "items": [],
        "next_after": None,
    }
    assert operator.get("/incidents").json() == []


def test_case_operations(running: Running, start_case: Callable[..., dict[str, Any]]) -> None:
    """指派, 取消认领, 转办, 催办, 延期, 撤回, 退回, 备注, 暂停/恢复, 迁移 (refused), 撤销."""
    operator, office, reviewer = (
        running.as_("tok-operator"),
        running.as_("tok-office"),
        running.as_("tok-reviewer"),
    )
    water = running.as_("tok-water")
    case = start_case()
    _do(operator, case["id"], "Task_Dispatch", {"unit": "市城管局"})
    ack = _task(operator, case["id"], "Task_Acknowledge")
    assigned = office.post(f"/tasks/{ack['id']}/assign", json={"assignee": "cg-02"})
    assert (assigned.status_code, assigned.json()["assignee"]) == (200, "cg-02"), assigned.text
    unassigned = running.as_("tok-unit-2").post(f"/tasks/{ack['id']}/unclaim")
    assert (unassigned.status_code, unassigned.json()["assignee"]) == (200, None), unassigned.text
    moved = office.post(f"/tasks/{ack['id']}/transfer", json={"reason": "属供水", "to_unit": "市水务局"})
    assert (moved.status_code, moved.json()["unit"]) == (200, "市水务局"), moved.text
    assert moved.json()["due_at"] == ack["due_at"]  # the limit keeps running
    urged = office.post(f"/tasks/{ack['id']}/urge", json={"message": "请尽快签收"})
    assert (urged.status_code, urged.json()["count"]) == (200, 1), urged.text
    _do(water, case["id"], "Task_Acknowledge", {"ack_decision": "签收"})
    # 办理 goes to the unit the case names (the transfer moved the one step only).
    unit = running.as_("tok-unit")
    handle = _task(unit, case["id"], "Task_Handle")
    extended = office.post(f"/tasks/{handle['id']}/extend", json={"limit": "5个工作日", "reason": "需协调"})
    assert extended.status_code == 200, extended.text
    assert datetime.fromisoformat(extended.json()["due_at"]) > datetime.fromisoformat(handle["due_at"])
    _do(unit, case["id"], "Task_Handle", REPLY)
    head = running.as_("tok-head")
    assert _task(head, case["id"], "Task_SignOff")
    withdrawn = unit.post(f"/tasks/{handle['id']}/withdraw")  # 撤回 what one completed, before it is taken up
    assert withdrawn.status_code == 200, withdrawn.text
    assert [t["element_id"] for t in withdrawn.json()["tasks"]] == ["Task_Handle"]
    _do(unit, case["id"], "Task_Handle", REPLY)
    _do(head, case["id"], "Task_SignOff", {"signed_off": True})
    review = _task(operator, case["id"], "Task_Review")
    back = reviewer.post(
        f"/tasks/{review['id']}/return", json={"element_id": "Task_Handle", "reason": "答复不全"}
    )
    assert back.status_code == 200, back.text
    assert [t["element_id"] for t in back.json()["tasks"]] == ["Task_Handle"]
    noted = operator.post(f"/instances/{case['id']}/comments", json={"text": "已电话联系市民"})
    assert (noted.status_code, noted.json()["text"]) == (201, "已电话联系市民"), noted.text
    suspended = office.post(f"/instances/{case['id']}/suspend", json={"reason": "待现场核实"})
    assert (suspended.status_code, suspended.json()["status"]) == (200, "suspended"), suspended.text
    resumed = office.post(f"/instances/{case['id']}/resume")
    assert (resumed.status_code, resumed.json()["status"]) == (200, "active"), resumed.text
    refused = office.post(f"/instances/{case['id']}/migrate", json={})
    assert (refused.status_code, refused.json()["error"]) == (403, "NotAuthorized"), (
        refused.text
    )  # 系统管理员
    cancelled = operator.post(f"/instances/{case['id']}/cancel", json={"reason": "重复工单"})
    assert (cancelled.status_code, cancelled.json()["status"]) == (200, "cancelled"), cancelled.text
    again = operator.post(f"/instances/{case['id']}/cancel", json={"reason": "重复工单"})
    assert (again.status_code, again.headers["content-type"]) == (409, "application/problem+json")
    assert again.json()["error"] == "InvalidState"


def test_a_delegated_task_comes_back_to_its_owner(
    running: Running, start_case: Callable[..., dict[str, Any]]
) -> None:
    """委派: the delegate's completion is a proposal; the owner's completion takes it."""
    operator, unit, colleague = (
        running.as_("tok-operator"),
        running.as_("tok-unit"),
        running.as_("tok-unit-2"),
    )
    case = start_case()
    _do(operator, case["id"], "Task_Dispatch", {"unit": "市城管局"})
    ack = _task(unit, case["id"], "Task_Acknowledge")
    delegated = unit.post(f"/tasks/{ack['id']}/delegate", json={"to": "cg-02"})
    assert (delegated.status_code, delegated.json()["assignee"]) == (200, "cg-02"), delegated.text
    proposed = _do(colleague, case["id"], "Task_Acknowledge", {"ack_decision": "签收"})
    assert [t["element_id"] for t in proposed["tasks"]] == ["Task_Acknowledge"]
    confirmed = _do(unit, case["id"], "Task_Acknowledge", {})
    assert [t["element_id"] for t in confirmed["tasks"]] == ["Task_Handle"]


def test_the_openapi_document_is_3_1_with_a_chinese_summary_on_every_operation(running: Running) -> None:
    document = httpx.get(running.url + "/openapi.json").json()
    assert document["openapi"].startswith("3.1")
    operations = [(path, method, op) for path, ops in document["paths"].items() for method, op in ops.items()]
    assert len(operations) >= 29
    assert all(path.startswith("/api/v1/") for path, _, _ in operations)
    missing = [(m, p) for p, m, op in operations if not CJK.search(op.get("summary", ""))]
    assert missing == []
