"""A 差评 removed by 申诉复核 (good_bad_review) leaves its case's unit's 满意率 and 差评率 (real engine).

Tickets run through complaint_closure and get their ratings; each 差评 is reviewed by good_bad_review (the
case named by business key or by instance id); only an upheld appeal takes the 差评 out of 参评 and 差评,
in the SQL figures (``appraise``) and the per-instance ones (``collect_records`` → ``unit_indicators``).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from fractions import Fraction
from pathlib import Path

import pytest
from tests._postgres import PG_DSN, fresh_schema, require_postgres

from efficacy_flow.calendar import china
from efficacy_flow.clock import CHINA_TZ
from efficacy_flow.engine import Actor, Engine
from efficacy_flow.metrics import (
    DEFAULT_METRICS_CONFIG,
    MetricsConfig,
    appraise,
    collect_records,
    unit_indicators,
)
from efficacy_flow.store import Store
from efficacy_flow.testing import FakeClock

PROCESSES = Path(__file__).resolve().parents[2] / "processes"
DESK = Actor("hotline", ["受理员", "审核员", "督办员", "办理不满意专区"])
OFFICE = Actor("office", ["效能办"])
UNITS = {u: Actor(f"staff-{u}", ["承办单位"], unit=u) for u in ("市城管局", "市住建局", "市水务局")}
AUTUMN = (datetime(2025, 9, 1, tzinfo=CHINA_TZ), datetime(2026, 1, 1, tzinfo=CHINA_TZ))


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "postgresql":
        require_postgres()
        opened = Store(PG_DSN, schema=fresh_schema())
    else:
        opened = Store(f"sqlite:///{tmp_path / 'removal.db'}")
    yield opened
    if request.param == "postgresql":
        opened.drop_schema()
    opened.close()


@pytest.fixture
def engine(store: Store) -> Engine:
    return Engine(store, PROCESSES, china(), FakeClock(datetime(2025, 9, 28, 9, tzinfo=CHINA_TZ)))


def _do(engine: Engine, instance_id: str, element_id: str, data: dict[str, object], actor: Actor) -> None:
    (task,) = [t for t in engine.tasks(instance_id) if t.element_id == element_id]
    engine.complete(task.id, data, actor)


def _rated_ticket(engine: Engine, key: str, unit: str, *ratings: str, max_rework: int = 0) -> str:
    """A ticket dispatched to ``unit``, handled and rated; a 差评 with reworks left is handled again and
    rated by the next rating; with none left it ends at 不满意督办."""
    staff = UNITS[unit]
    view = engine.start(
        "complaint_closure",
        {"title": "路灯不亮", "content": "小区路灯已坏一周", "max_rework": max_rework},
        DESK,
        business_key=key,
    )
    _do(engine, view.id, "Task_Dispatch", {"unit": unit}, DESK)
    _do(engine, view.id, "Task_Acknowledge", {"ack_decision": "签收"}, staff)
    for n, rating in enumerate(ratings):
        if n:
            _do(engine, view.id, "Task_ReworkDispatch", {"rework_note": "再次办理"}, DESK)
        _do(engine, view.id, "Task_Handle", {"reply": "已修复"}, staff)
        head = Actor("head", ["单位负责人"], unit=staff.unit)
        _do(engine, view.id, "Task_SignOff", {"signed_off": True}, head)
        _do(engine, view.id, "Task_Review", {"review_passed": True}, DESK)
        _do(engine, view.id, "Task_Reply", {"reply_channel": "电话"}, DESK)
        engine.message("rating", {"rating": rating}, {"instance_id": view.id})
    if engine.instance(view.id).status == "active":
        _do(
            engine,
            view.id,
            "Task_EscalateUnsatisfied",
            {"supervision_opinion": "督办", "refer_accountability": False},
            DESK,
        )
    assert engine.instance(view.id).status == "completed"
    return view.id


def _review(engine: Engine, case_id: str, unit: str, rating: str, *, upheld: bool | None) -> str:
    """A good_bad_review of a 差评: appealed and decided (``upheld``), or found 不属实 (None)."""
    view = engine.start(
        "good_bad_review", {"case_id": case_id, "unit": unit, "rating": rating, "named": False}, DESK
    )
    staff = UNITS[unit]
    if upheld is None:
        _do(engine, view.id, "Task_Verify", {"verification": "不属实", "verification_note": "不属实"}, staff)
        _do(engine, view.id, "Task_Explain", {"explanation": "已解释"}, staff)
    else:
        verdict = {"verification": "申诉", "verification_note": "恶意差评", "appeal_ground": "恶意差评"}
        _do(engine, view.id, "Task_Verify", verdict, staff)
        _do(
            engine,
            view.id,
            "Task_AppealReview",
            {"appeal_upheld": upheld, "appeal_opinion": "复核意见"},
            OFFICE,
        )
        if not upheld:
            _do(engine, view.id, "Task_Rectify", {"rectification": "已整改"}, staff)
            _do(engine, view.id, "Task_Report", {"feedback": "已反馈", "feedback_channel": "电话"}, staff)
    assert engine.instance(view.id).status == "completed"
    return view.id


def _counts(
    engine: Engine, config: MetricsConfig = DEFAULT_METRICS_CONFIG, *, keep_removed: bool = False
) -> dict[str | None, tuple[int, int, int]]:
    rows = appraise(engine, *AUTUMN, config=config, keep_removed=keep_removed)
    return {r.key["unit"]: (r.rated, r.satisfied, r.bad) for r in rows}


def test_an_upheld_appeal_takes_the_bad_rating_out_of_its_units_rates(engine: Engine) -> None:
    good = _rated_ticket(engine, "GD1", "市城管局", "满意")
    malicious = _rated_ticket(engine, "GD2", "市城管局", "非常不满意")
    fair = _rated_ticket(engine, "GD3", "市城管局", "不满意")
    untrue = _rated_ticket(engine, "GD4", "市住建局", "不满意")
    before = _counts(engine)
    assert before == {"市城管局": (3, 1, 2), "市住建局": (1, 0, 1)}

    _review(engine, "GD2", "市城管局", "非常不满意", upheld=True)  # named by business key
    _review(engine, fair, "市城管局", "不满意", upheld=False)  # by instance id; rejected: rectified
    _review(engine, untrue, "市住建局", "不满意", upheld=None)  # 不属实: explained, still counted
    assert _removed(engine, [good, malicious, fair, untrue]) == {malicious}

    rows = {r.key["unit"]: r for r in appraise(engine, *AUTUMN)}
    assert (rows["市城管局"].rated, rows["市城管局"].satisfied, rows["市城管局"].bad) == (2, 1, 1)
    assert rows["市城管局"].satisfaction_rate == Fraction(1, 2)  # was 1/3
    assert rows["市城管局"].bad_rate == Fraction(1, 2)  # was 2/3
    assert rows["市城管局"].received == 3  # the case is still received and closed, only its rating left
    assert rows["市城管局"].closed == 3
    assert (rows["市住建局"].rated, rows["市住建局"].bad) == (1, 1)
    [total] = appraise(engine, *AUTUMN, by=())
    assert (total.rated, total.satisfied, total.bad) == (3, 1, 2)
    assert _counts(engine, keep_removed=True) == before  # only the removal changed
    # The review instances are not cases: they are counted in no group.
    assert sum(r.received for r in appraise(engine, *AUTUMN, by=())) == 4

    ids = [good, malicious, fair, untrue]
    per_instance = {
        r.unit: (r.rated, r.satisfied) for r in unit_indicators(collect_records(engine, ids).cases)
    }
    assert per_instance == {"市城管局": (2, 1), "市住建局": (1, 0)}
    kept = {r.unit: r.rated for r in unit_indicators(collect_records(engine, ids, keep_removed=True).cases)}
    assert kept == {"市城管局": 3, "市住建局": 1}


def test_only_a_counted_bad_rating_is_removed(engine: Engine) -> None:
    """Rated 不满意, reworked, then 满意; the 差评's appeal upheld afterwards. By the final rating the case
    counts as satisfied either way; by the first rating it leaves 参评 and 差评."""
    case = _rated_ticket(engine, "GD5", "市水务局", "不满意", "满意", max_rework=2)
    first = MetricsConfig(rating_basis="first")
    assert _counts(engine, config=first) == {"市水务局": (1, 0, 1)}
    _review(engine, case, "市水务局", "不满意", upheld=True)
    assert _counts(engine) == {"市水务局": (1, 1, 0)}
    assert _counts(engine, config=first) == {"市水务局": (0, 0, 0)}
    [record] = collect_records(engine, [case]).cases
    assert record.rating_removed is True
    assert [r.rated for r in unit_indicators([record])] == [1]
    assert [r.rated for r in unit_indicators([record], first)] == [0]


def test_the_review_records_the_removal_in_its_own_history(engine: Engine) -> None:
    """The removal is the review's event (rating_removed, naming the case), in its completing transaction:
    history and outbox show it; the rated case's own history is untouched."""
    case = _rated_ticket(engine, "GD6", "市城管局", "不满意")
    before = [e.kind for e in engine.history(case)]
    review = _review(engine, "GD6", "市城管局", "不满意", upheld=True)
    removal = [e for e in engine.history(review) if e.kind == "rating_removed"]
    assert [e.after for e in removal] == [{"cases": [case]}]
    assert [e.kind for e in engine.history(case)] == before
    events = [e for e in engine.events(limit=1000) if e.kind == "rating_removed"]
    assert [(e.instance_id, e.payload.get("cases")) for e in events] == [(review, [case])]


def test_a_review_naming_no_case_removes_nothing(engine: Engine) -> None:
    case = _rated_ticket(engine, "GD7", "市城管局", "不满意")
    review = _review(engine, "GD-none", "市城管局", "不满意", upheld=True)
    assert "rating_removed" not in [e.kind for e in engine.history(review)]
    assert _removed(engine, [case]) == set()
    assert _counts(engine) == {"市城管局": (1, 0, 1)}


def _removed(engine: Engine, ids: list[str]) -> set[str]:
    """The cases whose facts say 申诉复核 removed their 差评."""
    with engine.store.read() as reader:
        return {i for i in ids if (facts := reader.case_facts(i)) is not None and facts.rating_removed}
