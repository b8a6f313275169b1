"""Hypothesis over the public API (issue 12): whatever a caller passes to any engine call — wrong types, text
a database cannot hold (lone surrogates), a 10,000-deep dict, ``10**5000``, NaN, objects — the call either
works or raises an ``EfficacyFlowError``; never an untyped exception, and a refused call writes nothing."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from efficacy_flow.calendar import china
from efficacy_flow.clock import CHINA_TZ
from efficacy_flow.engine import Actor, Engine
from efficacy_flow.errors import EfficacyFlowError, NotAuthorized
from efficacy_flow.testing import FakeClock

DURABLE = Path(__file__).parent / "fixtures" / "durable"
ALL = Actor("zb-01", {"受理员", "承办单位", "审核员", "督办员"})


def _deep(levels: int) -> dict[str, Any]:
    value: dict[str, Any] = {}
    for _ in range(levels):
        value = {"a": value}
    return value


class _Opaque:
    """An object of a class nobody expects."""


#: Drawn as this marker (Hypothesis prints what it draws, and printing a 10,000-deep dict recurses too far),
#: replaced by the dict itself before the call.
DEEP = "<a 10,000-deep dict>"


def _materialize(value: Any) -> Any:
    if value == DEEP and isinstance(value, str):
        return _deep(10_000)
    if type(value) is dict:
        return {k: _materialize(v) for k, v in value.items()}
    return value


odd_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.sampled_from([10**5000, -(2**63) - 1, 2**64]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.sampled_from(["\ud800", "a\udcffb", "", " ", "x" * 300, "路灯\x00不亮"]),
    st.binary(max_size=8),
    st.just(DEEP),
    st.just(_Opaque()),
    st.just(datetime(2025, 1, 1)),
    st.just({1, 2}),
    st.just((1, 2)),
)
mappings = st.one_of(
    st.dictionaries(st.one_of(st.text(max_size=6), st.integers(), st.none()), odd_values, max_size=3),
    st.just({"title": "路灯不亮"}),
    st.just({"reply": "已办"}),
    odd_values,
)
actors = st.one_of(
    st.just(ALL),
    st.builds(Actor, st.text(max_size=6), st.frozensets(st.text(max_size=4), max_size=2), st.none()),
    st.builds(Actor, st.just("\ud800")),
    odd_values,
)


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    path = tmp_path_factory.mktemp("api") / "e.db"
    engine = Engine(
        store=f"sqlite:///{path}",
        processes=DURABLE,
        calendar=china(),
        clock=FakeClock(datetime(2025, 9, 26, 10, 0, tzinfo=CHINA_TZ)),
    )
    engine.start("fx_durable", {"title": "已有"}, ALL, business_key="K-1")
    yield engine
    engine.store.close()


def _ids(engine: Engine) -> st.SearchStrategy[Any]:
    instances = engine.instances()
    tasks = engine.tasks()
    known = [i.id for i in instances] + [t.id for t in tasks] + ["K-1"]
    return st.one_of(st.sampled_from(known), odd_values)


def _versions(engine: Engine) -> dict[str, tuple[int, int]]:
    return {i.id: (i.version, len(engine.history(i.id))) for i in engine.instances()}


def _calls(engine: Engine) -> dict[str, tuple[Callable[..., Any], list[st.SearchStrategy[Any]]]]:
    ids = _ids(engine)
    return {
        "start": (
            engine.start,
            [st.sampled_from(["fx_durable", "nope"]) | odd_values, mappings, actors, ids],
        ),
        "complete": (engine.complete, [ids, mappings, actors, odd_values]),
        "message": (engine.message, [st.sampled_from(["rating"]) | odd_values, mappings, mappings]),
        "suspend": (engine.suspend, [ids, odd_values, actors]),
        "resume": (engine.resume, [ids, actors]),
        "extend": (engine.extend, [ids, st.sampled_from(["2个工作日"]) | odd_values, odd_values, actors]),
        "tasks": (engine.tasks, [ids, odd_values, odd_values]),
        "start_form": (engine.start_form, [st.sampled_from(["fx_durable", "nope"]) | odd_values]),
        "role_label": (engine.role_label, [odd_values]),
        "instance": (engine.instance, [ids]),
        "instances": (engine.instances, [odd_values, odd_values, odd_values]),
        "counter": (engine.counter, [odd_values, odd_values]),
        "history": (lambda i, u, a: engine.history(i, unmasked=u, actor=a), [ids, odd_values, actors]),
        "verify_history": (engine.verify_history, [ids]),
        "diagram": (engine.diagram, [ids]),
        "incidents": (engine.incidents, [ids]),
        "retry_incident": (engine.retry_incident, [ids, actors]),
        "check_consistency": (
            lambda i: engine.check_consistency(instance_ids=i),
            [st.lists(ids, max_size=2)],
        ),
        "deploy": (engine.deploy, [odd_values]),
        "cancel": (engine.cancel, [ids, odd_values, actors, ids]),
        "claim": (engine.claim, [ids, actors]),
        "unclaim": (engine.unclaim, [ids, actors]),
        "assign": (engine.assign, [ids, odd_values, actors]),
        "transfer": (engine.transfer, [ids, actors, odd_values, odd_values, odd_values]),
        "urge": (engine.urge, [ids, actors, odd_values, odd_values]),
        "comment": (engine.comment, [ids, actors, odd_values, ids, odd_values]),
        "events": (engine.events, [odd_values, odd_values]),
        "deliver": (lambda c, h, n: engine.deliver(c, h, limit=n), [odd_values, odd_values, odd_values]),
        "tick": (engine.tick, []),
        "done": (lambda a, n, k: engine.done(a, limit=n, after=k), [odd_values, odd_values, ids]),
        "return_to": (engine.return_to, [ids, odd_values, odd_values, actors]),
        "withdraw": (engine.withdraw, [ids, actors]),
        "migrate": (engine.migrate, [ids, actors, odd_values, odd_values]),
        "delegate": (engine.delegate, [ids, odd_values, actors]),
        "prune_events": (engine.prune_events, [odd_values]),
        "cards": (
            lambda u, s, t, lv, k: engine.cards(u, s, t, lv, after=k),
            [odd_values, odd_values, odd_values, odd_values, ids],
        ),
    }


NAMES = sorted(
    [
        "start",
        "complete",
        "message",
        "suspend",
        "resume",
        "extend",
        "tasks",
        "start_form",
        "role_label",
        "instance",
        "instances",
        "counter",
        "history",
        "verify_history",
        "diagram",
        "incidents",
        "retry_incident",
        "check_consistency",
        "deploy",
        "cancel",
        "claim",
        "unclaim",
        "assign",
        "transfer",
        "urge",
        "comment",
        "events",
        "deliver",
        "tick",
        "done",
        "return_to",
        "withdraw",
        "migrate",
        "delegate",
        "prune_events",
        "cards",
    ]
)


def test_every_public_call_is_covered() -> None:
    """A new public method of Engine joins the property test."""
    public = {n for n, v in vars(Engine).items() if not n.startswith("_") and callable(v)}
    assert public == set(NAMES)


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_input_either_works_or_raises_a_typed_error(
    engine: Engine, name: str, data: st.DataObject
) -> None:
    """Every public call, any arguments: a result or an EfficacyFlowError — and a refused call changes no
    instance (version and history length)."""
    call, strategies = _calls(engine)[name]
    args = [data.draw(strategy) for strategy in strategies]
    before = _versions(engine)
    try:
        call(*[_materialize(a) for a in args])
    except NotAuthorized as refused:  # changes nothing, but is audited on the instance it names
        after = _versions(engine)
        named = refused.fields.get("instance_id")
        for instance_id, (version, events) in before.items():
            grew = 1 if instance_id == named else 0
            assert after[instance_id][0] == version
            assert after[instance_id][1] in (events, events + grew)
    except EfficacyFlowError:
        after = _versions(engine)
        assert {k: v for k, v in after.items() if k in before} == before
    except Exception as exc:  # pragma: no cover - the failure this test exists to find
        pytest.fail(f"{name}{tuple(map(_short, args))} raised untyped {type(exc).__name__}: {exc}")


def _short(value: Any) -> str:
    try:
        text = repr(value)
    except (ValueError, RecursionError):
        return f"<a {type(value).__name__}>"
    return text if len(text) < 80 else text[:77] + "..."


def test_the_issue_payloads_are_typed(engine: Engine) -> None:
    """The inputs the issue found escaping untyped, each one by name."""
    (task,) = [t for t in engine.tasks() if t.element_id == "Task_Handle"][:1]
    cases: list[Callable[[], Any]] = [
        lambda: engine.start("fx_durable", {"title": "x", "deep": _deep(10_000)}, ALL),
        lambda: engine.start("fx_durable", {"title": "x", "n": 10**5000}, ALL),
        lambda: engine.start("fx_durable", {"title": "\ud800"}, ALL),
        lambda: engine.start("fx_durable", {"title": "x"}, ALL, business_key="\ud800"),
        lambda: engine.start("fx_durable", {"title": "x"}, None),  # type: ignore[arg-type]
        lambda: engine.complete(task.id, {"reply": "ok"}, None),  # type: ignore[arg-type]
        lambda: engine.complete(task.id, {"reply": float("nan")}, ALL),
        lambda: engine.history(task.instance_id, unmasked=True, actor="admin"),  # type: ignore[arg-type]
    ]
    for case in cases:
        with pytest.raises(EfficacyFlowError):
            case()
    assert math.isfinite(1.0)
