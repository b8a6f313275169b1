"""One open instance per (process, business key) — 重复工单 refused at start (issue 13), on SQLite and
PostgreSQL: the error names the open instance, nothing of the refused start is written, and two starts racing
with one key cannot both succeed (the store's unique index decides, not a read before the write)."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest

from efficacy_flow.engine import Actor, Engine
from efficacy_flow.errors import DuplicateBusinessKey

OPERATOR = Actor("op-1", {"受理员"})
HANDLER = Actor("h-1", {"承办单位"}, unit="市住建局")
REVIEWER = Actor("r-1", {"审核员"})
START = {"title": "路灯不亮", "unit": "市住建局"}


def _counts(engine: Engine) -> tuple[int, int]:
    with engine.store.read() as reader:
        instances = reader.execute("SELECT count(*) FROM ef_instances")[0][0]
        events = reader.execute("SELECT count(*) FROM ef_audit_events")[0][0]
    return int(instances), int(events)


def test_a_second_open_instance_with_the_key_is_refused(engine: Engine) -> None:
    """The second start names the first instance and writes nothing; another process may use the key; once
    the first instance is completed the key is free for a new case."""
    first = engine.start("fx_handle", START, OPERATOR, business_key="12345-0001")
    before = _counts(engine)
    with pytest.raises(DuplicateBusinessKey, match=first.id) as raised:
        engine.start("fx_handle", START, OPERATOR, business_key="12345-0001")
    assert raised.value.fields["instance_id"] == first.id
    assert raised.value.fields["process_id"] == "fx_handle"
    assert raised.value.fields["business_key"] == "12345-0001"
    assert _counts(engine) == before
    other = engine.start("fx_ten", {}, OPERATOR, business_key="12345-0001")
    assert other.business_key == "12345-0001"
    handle = engine.tasks(instance_id=first.id)[0]
    review = engine.complete(handle.id, {"reply": "已修复", "resolved": True}, HANDLER)
    while review.status != "completed":
        review = engine.complete(review.tasks[0].id, {"approved": True}, REVIEWER)
    again = engine.start("fx_handle", START, OPERATOR, business_key="12345-0001")
    assert again.id != first.id


def test_starts_without_a_key_never_collide(engine: Engine) -> None:
    ids = {engine.start("fx_handle", START, OPERATOR).id for _ in range(3)}
    assert len(ids) == 3


def test_two_engines_racing_with_one_key_give_one_instance(make_engine: Callable[..., Engine]) -> None:
    """Eight threads, each with its own engine (as processes would), start the same key at once: exactly one
    succeeds, the others get DuplicateBusinessKey naming it."""
    engines = [make_engine() for _ in range(8)]
    barrier = threading.Barrier(len(engines))
    results: list[object] = [None] * len(engines)

    def run(n: int) -> None:
        barrier.wait(30)
        try:
            results[n] = engines[n].start("fx_handle", START, OPERATOR, business_key="12345-race").id
        except Exception as exc:  # collected and checked below
            results[n] = exc

    threads = [threading.Thread(target=run, args=(n,)) for n in range(len(engines))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    started = [r for r in results if isinstance(r, str)]
    refused = [r for r in results if isinstance(r, DuplicateBusinessKey)]
    assert len(started) == 1, results
    assert len(refused) == len(engines) - 1, results
    assert all(r.fields["instance_id"] == started[0] for r in refused)
    assert [i.id for i in engines[0].instances(business_key="12345-race")] == started
