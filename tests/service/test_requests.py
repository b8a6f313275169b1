"""What a client can get wrong over HTTP — malformed JSON, wrong types, 10 MB bodies, unknown ids, missing,
unknown and expired tokens, a stale version, another unit's task — each answered with a problem and
nothing written; idempotent replays; the rate limit; the event stream and the cursor API."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.service.conftest import EXPIRED, TICKET, Running, bearer, serve, settings

from efficacy_flow import Engine, shipped_processes
from efficacy_flow.calendar import china
from efficacy_flow.clock import SystemClock

PROBLEM = "application/problem+json"


def _written(running: Running) -> tuple[Any, ...]:
    """Everything a request could have written: instances and their versions, history lengths, the outbox's
    last event, the idempotency keys."""
    engine = running.engine
    instances = [(i.id, i.version, i.status) for i in engine.instances()]
    histories = [len(engine.history(i)) for i, _, _ in instances]
    events = engine.events(limit=10_000)
    with engine.store.read() as reader:
        keys = reader.execute("SELECT count(*) FROM ef_idempotency_keys")
    return instances, histories, events[-1].seq if events else 0, keys


def _problem(answer: httpx.Response, status: int) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == PROBLEM
    body: dict[str, Any] = answer.json()
    assert body["status"] == status
    assert body["type"].startswith("https://")
    assert body["title"]
    assert "Traceback" not in answer.text
    return body


@pytest.fixture
def case(running: Running, start_case: Callable[..., dict[str, Any]]) -> dict[str, Any]:
    return start_case()


def test_bad_input_gets_a_problem_and_writes_nothing(running: Running, case: dict[str, Any]) -> None:
    api = running.as_("tok-operator")
    task_id = case["tasks"][0]["id"]
    before = _written(running)
    headers = {"Content-Type": "application/json", "Idempotency-Key": "bad-1"}
    _problem(api.post("/instances", content=b'{"process_id": "complaint_closure", ', headers=headers), 400)
    wrong = _problem(api.post("/instances", json={"process_id": 12345, "data": []}), 422)
    assert {e["field"] for e in wrong["errors"]} == {"process_id", "data"}
    _problem(api.post(f"/tasks/{task_id}/complete", json={"data": {}, "expected_version": "1"}), 422)
    _problem(api.post(f"/tasks/{task_id}/complete", json={"data": {}, "extra": 1}), 422)
    invalid = _problem(api.post("/instances", json={"process_id": "complaint_closure", "data": {}}), 422)
    assert invalid["error"] == "InvalidData"
    assert {e["field"] for e in invalid["errors"]} == {"title", "content"}  # every field
    huge = b'{"process_id": "complaint_closure", "data": {"title": "' + b"x" * (10 << 20) + b'"}}'
    _problem(api.post("/instances", content=huge, headers={"Content-Type": "application/json"}), 413)
    chunks = (b"x" * (1 << 20) for _ in range(10))  # no Content-Length: counted as it arrives
    try:
        answer = api.post("/instances", content=chunks, headers={"Content-Type": "application/json"})
    except httpx.TransportError:
        pass  # the server may close the connection before the client has sent it all
    else:
        _problem(answer, 413)
    assert (
        _problem(api.post("/tasks/no-such-task/complete", json={"data": {}}), 404)["error"] == "UnknownTask"
    )
    assert _problem(api.post("/instances/no-such-case/suspend", json={"reason": "x"}), 404)
    assert _problem(api.get("/instances/no-such-case"), 404)["instance_id"] == "no-such-case"
    _problem(api.get("/no/such/route"), 404)
    _problem(
        api.post(f"/tasks/{task_id}/complete", json={"data": {"unit": "市城管局"}, "expected_version": 99}),
        409,
    )
    for headers in ({}, bearer("tok-nobody"), bearer(EXPIRED), {"Authorization": "Basic b3A6cHc="}):
        answer = running.client.post(
            "/instances", json={"process_id": "complaint_closure", "data": TICKET}, headers=headers
        )
        assert _problem(answer, 401)["type"].endswith("NotAuthenticated")
        assert answer.headers["www-authenticate"] == "Bearer"
    assert "expired" in _problem(running.client.get("/tasks", headers=bearer(EXPIRED)), 401)["detail"]
    assert _written(running) == before
    # A refusal (403) changes nothing of the case; the engine audits it (a ``refused`` event) and no more.
    other = running.as_("tok-unit")
    assert _problem(other.post(f"/tasks/{task_id}/complete", json={"data": {"unit": "市城管局"}}), 403)[
        "error"
    ] == ("NotAuthorized")
    instances, histories, last_event, keys = _written(running)
    assert (instances, last_event, keys) == (before[0], before[2], before[3])
    assert histories == [before[1][0] + 1]
    assert running.engine.history(case["id"])[-1].kind == "refused"


def test_a_replayed_write_returns_the_first_answer_and_runs_once(running: Running) -> None:
    api = running.as_("tok-operator")
    body = {"process_id": "complaint_closure", "data": TICKET, "business_key": "12345-0007"}
    first = api.post("/instances", json=body, headers={"Idempotency-Key": "k-7"})
    assert first.status_code == 201, first.text
    spaced = json.dumps(body, indent=2, ensure_ascii=False).encode()
    again = api.post(
        "/instances", content=spaced, headers={"Idempotency-Key": "k-7", "Content-Type": "application/json"}
    )
    assert (again.status_code, again.content) == (201, first.content)
    assert again.headers["idempotent-replayed"] == "true"
    assert len(running.engine.instances(business_key="12345-0007")) == 1
    before = _written(running)
    changed = api.post(
        "/instances", json={**body, "business_key": "12345-0008"}, headers={"Idempotency-Key": "k-7"}
    )
    assert _problem(changed, 422)["type"].endswith("IdempotencyKeyReused")
    _problem(api.post("/instances", json=body, headers={"Idempotency-Key": "has space"}), 400)
    assert _written(running) == before
    # The same key of another actor is another key; a refusal is recorded and replayed as well.
    refused = running.as_("tok-unit").post("/instances", json=body, headers={"Idempotency-Key": "k-7"})
    assert _problem(refused, 403)["error"] == "NotAuthorized"
    replayed = running.as_("tok-unit").post("/instances", json=body, headers={"Idempotency-Key": "k-7"})
    assert (replayed.status_code, replayed.content) == (403, refused.content)
    # A conflict releases its key: the retry runs (and here conflicts again, the key being in use).
    duplicate = api.post("/instances", json=body, headers={"Idempotency-Key": "k-8"})
    assert _problem(duplicate, 409)["error"] == "DuplicateBusinessKey"
    with running.engine.store.read() as reader:
        assert reader.idempotency_key("op-17", "k-8") is None


def test_the_rate_limit_answers_429_with_retry_after(tmp_path: Path) -> None:
    engine = Engine(
        store=f"sqlite:///{tmp_path / 'rate.db'}",
        processes=shipped_processes(),
        calendar=china(),
        clock=SystemClock(),
    )
    config = settings(rate_limit={"requests": 3, "per_seconds": 60})
    for running in serve(engine, config):
        api = running.as_("tok-operator")
        assert [api.get("/tasks").status_code for _ in range(3)] == [200, 200, 200]
        answer = api.get("/tasks")
        _problem(answer, 429)
        assert 1 <= int(answer.headers["retry-after"]) <= 20
        assert running.as_("tok-unit").get("/tasks").status_code == 200  # per token
    engine.store.close()


def _sse(lines: Iterator[str]) -> Iterator[dict[str, str]]:
    message: dict[str, str] = {}
    for line in lines:
        if not line:
            if message:
                yield message
            message = {}
        elif not line.startswith(":"):
            name, _, value = line.partition(": ")
            message[name] = value


def test_the_event_stream_sends_task_ready_and_resumes(
    running: Running, start_case: Callable[..., dict[str, Any]]
) -> None:
    api = running.as_("tok-operator")
    with api.stream("GET", "/events/stream", params={"after": 0}) as stream:
        assert stream.headers["content-type"].startswith("text/event-stream")
        case = start_case()
        for message in _sse(stream.iter_lines()):
            if message.get("event") == "task_ready":
                break
    data = json.loads(message["data"])
    assert (data["instance_id"], data["kind"], int(message["id"])) == (case["id"], "task_ready", data["seq"])
    page = api.get("/events", params={"after": 0, "limit": 100}).json()
    assert data in page["items"]
    assert page["next_after"] == page["items"][-1]["seq"]
    start_case()
    with api.stream("GET", "/events/stream", headers={"Last-Event-ID": message["id"]}) as stream:
        resumed = next(m for m in _sse(stream.iter_lines()) if "id" in m)
    assert int(resumed["id"]) > int(message["id"])
    _problem(api.get("/events/stream", headers={"Last-Event-ID": "abc"}), 400)
