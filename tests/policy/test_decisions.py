"""The ``Decisions`` contract the engine codes against, and the policy tables the product ships.

Policy rows cite their sources: 001_a86978e3ab2b148c.txt §四(五) for admonitions,
000_187e340a21ee818c.txt §二(三) for the supervision ladder.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from tests.policy.dmn_builder import dmn_xml

import efficacy_flow.policy
from efficacy_flow.errors import DecisionError, DecisionTableError
from efficacy_flow.policy import Decisions
from efficacy_flow.testing import assert_decision_table

Build = Callable[..., Decisions]


def test_public_surface_is_pinned() -> None:
    """The decision API is exported from efficacy_flow.policy, in a sorted __all__ (constants first, as
    ruff's RUF022 sorts)."""
    exported = efficacy_flow.policy.__all__
    assert {"DecisionResult", "Decisions", "load_decisions"} <= set(exported)
    assert exported == sorted(exported, key=lambda n: (not n.isupper(), n))
    assert all(hasattr(efficacy_flow.policy, name) for name in exported)


def test_decision_ids_and_membership(shipped: Decisions) -> None:
    """decision_ids lists every loaded decision; ``in`` tests one."""
    assert shipped.decision_ids == frozenset(
        {"admonition_consequence", "unit_admonition_consequence", "appraisal_grade", "supervision_ladder"}
    )
    assert "supervision_ladder" in shipped
    assert "Supervision_Ladder" not in shipped
    assert len(shipped) == 4


@pytest.mark.parametrize(
    ("decision_id", "names"),
    [
        pytest.param("admonition_consequence", {"admonitions_this_year"}, id="plain"),
        pytest.param("unit_admonition_consequence", {"unit"}, id="dotted-path-top-name"),
        pytest.param(
            "appraisal_grade", {"proposed_grade", "admonitions_this_year"}, id="through-requirement"
        ),
    ],
)
def test_inputs_name_what_the_caller_supplies(shipped: Decisions, decision_id: str, names: set[str]) -> None:
    """inputs() gives the top-level data names to supply; names a required decision provides are left out."""
    assert shipped.inputs(decision_id) == names


def test_outputs_and_list_results(shipped: Decisions, dmn_table: Build) -> None:
    """outputs() names the result keys; returns_list() says whether decide() gives a list."""
    assert shipped.outputs("supervision_ladder") == ("step", "score_deduction")
    assert shipped.returns_list("supervision_ladder") is False
    assert dmn_table(hit_policy="RULE ORDER", rules=[(["-"], ["1"])]).returns_list("d") is True


@pytest.mark.parametrize("method", ["decide", "inputs", "outputs", "returns_list"])
def test_unknown_decision_id(shipped: Decisions, method: str) -> None:
    """An unknown id raises DecisionError with the id in ``decision``."""
    call = getattr(shipped, method)
    args: tuple[Any, ...] = ("no_such", {}) if method == "decide" else ("no_such",)
    with pytest.raises(DecisionError) as caught:
        call(*args)
    assert caught.value.decision == "no_such"
    assert "admonition_consequence" in str(caught.value)


def test_admonition_consequence_reads_like_the_source(shipped: Decisions) -> None:
    """001 §四(五): once → no grade above 基本称职; twice or more in the year → 不称职."""
    assert_decision_table(
        shipped,
        "admonition_consequence",
        [
            ({"admonitions_this_year": 0}, {"grade_cap": "优秀"}),
            ({"admonitions_this_year": 1}, {"grade_cap": "基本称职"}),
            ({"admonitions_this_year": 2}, {"grade_cap": "不称职"}),
            ({"admonitions_this_year": 5}, {"grade_cap": "不称职"}),
            ({"admonitions_this_year": -1}, DecisionError),
            ({"admonitions_this_year": "2"}, DecisionError),
        ],
    )


def test_unit_admonition_consequence(shipped: Decisions) -> None:
    """001 §四(五): an admonished or low-ranked unit gets 通报批评 and loses 评优评先.

    The table is ANY: its overlapping rows agree."""
    both = {"public_criticism": True, "honours_revoked": True}
    assert_decision_table(
        shipped,
        "unit_admonition_consequence",
        [
            ({"unit": {"admonished": True, "ranked_low": False}}, both),
            ({"unit": {"admonished": False, "ranked_low": True}}, both),
            ({"unit": {"admonished": True, "ranked_low": True}}, both),
            (
                {"unit": {"admonished": False, "ranked_low": False}},
                {"public_criticism": False, "honours_revoked": False},
            ),
            ({"unit": {"admonished": False}}, DecisionError),
        ],
    )


def test_supervision_ladder(shipped: Decisions) -> None:
    """000 §二(三): first finding 告知提醒, second 通报预警, third and later 考评运用 with a deduction."""
    assert_decision_table(
        shipped,
        "supervision_ladder",
        [
            ({"finding_count": 1}, {"step": "告知提醒", "score_deduction": 0}),
            ({"finding_count": 2}, {"step": "通报预警", "score_deduction": 0}),
            ({"finding_count": 3}, {"step": "考评运用", "score_deduction": 1}),
            ({"finding_count": 7}, {"step": "考评运用", "score_deduction": 1}),
            ({"finding_count": 0}, DecisionError),
        ],
    )


def test_required_decision_feeds_the_requiring_one(shipped: Decisions) -> None:
    """appraisal_grade reads grade_cap from admonition_consequence and keeps the lower grade (PRIORITY)."""
    assert_decision_table(
        shipped,
        "appraisal_grade",
        [
            ({"admonitions_this_year": 0, "proposed_grade": "优秀"}, {"grade": "优秀"}),
            ({"admonitions_this_year": 1, "proposed_grade": "优秀"}, {"grade": "基本称职"}),
            ({"admonitions_this_year": 1, "proposed_grade": "不称职"}, {"grade": "不称职"}),
            ({"admonitions_this_year": 3, "proposed_grade": "称职"}, {"grade": "不称职"}),
            # The required decision's result wins over a stale value in the caller's data.
            (
                {"admonitions_this_year": 2, "proposed_grade": "优秀", "grade_cap": "优秀"},
                {"grade": "不称职"},
            ),
        ],
    )


def test_required_results_are_offered_by_id_and_name(dmn_table: Build) -> None:
    """A requiring table reads a required decision's result by that decision's id, through a dotted path."""
    base = dmn_xml(decision_id="base", outputs=["level"], rules=[(["-"], ['"high"'])])
    base_decision = base[base.index("<decision ") : base.index("</definitions>")]
    text = dmn_xml(
        decision_id="top",
        requires=["base"],
        inputs=["base.level"],
        rules=[(['"high"'], ["1"]), (['"low"'], ["2"])],
        extra_decisions=base_decision,
    )
    decisions = Decisions.from_xml(text)
    assert decisions.decide("top", {"x": 0}) == {"out": 1}
    assert decisions.inputs("top") == {"x"}


def test_two_required_decisions_with_one_output_name_are_refused() -> None:
    """Two required decisions offering the same output name would make the reading ambiguous: refused."""
    parts = []
    for decision_id in ("a", "b"):
        text = dmn_xml(decision_id=decision_id, outputs=["level"], rules=[(["-"], ["1"])])
        parts.append(text[text.index("<decision ") : text.index("</definitions>")])
    text = dmn_xml(
        decision_id="top",
        requires=["a", "b"],
        inputs=["level"],
        rules=[(["-"], ["1"])],
        extra_decisions="".join(parts),
    )
    with pytest.raises(DecisionTableError, match="both provide 'level'"):
        Decisions.from_xml(text)


def test_decide_does_not_mutate_its_input(shipped: Decisions) -> None:
    """decide() only reads its data, also when it layers required results over it."""
    data = {"admonitions_this_year": 1, "proposed_grade": "优秀", "nested": {"a": [1]}}
    before = copy.deepcopy(data)
    shipped.decide("appraisal_grade", data)
    assert data == before


def test_results_are_fresh_objects(dmn_table: Build) -> None:
    """Changing one result never changes the next (no shared dicts, not even for defaults)."""
    decisions = dmn_table(rules=[(["1"], ['"one"'])], defaults={"out": '"none"'})
    first = decisions.decide("d", {"x": 2})
    first["out"] = "changed"
    assert decisions.decide("d", {"x": 2}) == {"out": "none"}


def test_decide_is_safe_from_several_threads(shipped: Decisions) -> None:
    """Many threads deciding at once on one Decisions get exactly the sequential answers."""
    cases = [
        {"admonitions_this_year": n % 4, "proposed_grade": g} for n in range(200) for g in ("优秀", "称职")
    ]
    expected = [shipped.decide("appraisal_grade", case) for case in cases]
    with ThreadPoolExecutor(max_workers=8) as pool:
        got = list(pool.map(lambda case: shipped.decide("appraisal_grade", case), cases))
    assert got == expected


def test_missing_and_null_inputs(shipped: Decisions, dmn_table: Build) -> None:
    """A missing key is an error naming the input; an explicit null is FEEL null (matches only null or -)."""
    with pytest.raises(DecisionError) as caught:
        shipped.decide("unit_admonition_consequence", {"unit": {"ranked_low": True}})
    assert caught.value.input == "unit.admonished"
    decisions = dmn_table(inputs=["case.unit.type"], rules=[(["null"], ['"none"']), (['"a"'], ['"a"'])])
    assert decisions.decide("d", {"case": {"unit": None}}) == {"out": "none"}
    assert decisions.decide("d", {"case": {"unit": {"type": "a"}}}) == {"out": "a"}
    with pytest.raises(DecisionError, match="has no 'unit'"):
        decisions.decide("d", {"case": {}})


def test_input_values_are_enforced() -> None:
    """Allowed input values (inputValues) turn an unexpected value into an error, not a silent non-match."""
    text = dmn_xml(inputs=[("kind", "string")], rules=[(['"个人"'], ["1"]), (['"单位"'], ["2"])]).replace(
        '<inputExpression id="InputExpression_0" typeRef="string"><text>kind</text></inputExpression>',
        '<inputExpression id="InputExpression_0" typeRef="string"><text>kind</text></inputExpression>'
        '<inputValues id="IV_0"><text>"个人","单位"</text></inputValues>',
    )
    decisions = Decisions.from_xml(text)
    assert decisions.decide("d", {"kind": "单位"}) == {"out": 2}
    with pytest.raises(DecisionError, match="outside its allowed values") as caught:
        decisions.decide("d", {"kind": "部门"})
    assert (caught.value.input, caught.value.problem) == ("kind", "not allowed")
    numbers = dmn_xml(inputs=[("kind", "number")], rules=[(["1"], ["1"])]).replace(
        "<text>kind</text></inputExpression>",
        '<text>kind</text></inputExpression><inputValues id="IV_0"><text>"个人"</text></inputValues>',
    )
    with pytest.raises(DecisionTableError, match="do not fit type number") as refused:
        Decisions.from_xml(numbers)
    assert refused.value.cell == "Input_0"
