"""The decision tables shipped in processes/ say what their sources say, row by row.

admonition_consequence (a person) and unit_admonition_consequence (a unit): 001_a86978e3ab2b148c.txt §四(五);
supervision_ladder: 000_187e340a21ee818c.txt §二(三);
complaint_urgency: statutory-rules.md §3 (济南 第二十四条 for 一般, [secondary] tiers otherwise).
"""

from __future__ import annotations

import pytest
from tests.processes._model import PROCESSES, resolve_limit, yaml_file

from efficacy_flow.errors import DecisionError
from efficacy_flow.policy import Decisions, load_decisions
from efficacy_flow.testing import assert_decision_table


@pytest.fixture(scope="module")
def decisions() -> Decisions:
    return load_decisions(PROCESSES)


def _individual(grade: str | None, text: str) -> dict[str, object]:
    return {"grade_cap": grade, "consequence": text}


def _unit(criticism: bool, honours: bool, text: str) -> dict[str, object]:
    return {"public_criticism": criticism, "honours_revoked": honours, "consequence": text}


def test_the_published_contract_call_reads_processes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 5's call, verbatim, from the repository root: two admonitions in a year give 不称职."""
    monkeypatch.chdir(PROCESSES.parent)
    decisions = load_decisions("processes/")
    out = decisions.decide("admonition_consequence", {"admonitions_this_year": 2})
    assert isinstance(out, dict)
    assert out["grade_cap"] == "不称职"


def test_the_consequence_decisions_read_only_the_count(decisions: Decisions) -> None:
    """Both admonition decisions read admonitions_this_year alone: the process routes by subject_type."""
    assert decisions.inputs("admonition_consequence") == {"admonitions_this_year"}
    assert decisions.inputs("unit_admonition_consequence") == {"admonitions_this_year"}
    assert decisions.outputs("admonition_consequence") == ("grade_cap", "consequence")
    assert decisions.outputs("unit_admonition_consequence") == (
        "public_criticism",
        "honours_revoked",
        "consequence",
    )
    assert not decisions.returns_list("admonition_consequence")
    assert not decisions.returns_list("unit_admonition_consequence")


def test_admonition_consequence(decisions: Decisions) -> None:
    """A person: none → no cap; once → at most 基本称职; twice or more in a year → 不称职; negative: error."""
    none = _individual(None, "无")
    once = _individual("基本称职", "当年考核不得评为称职以上等次")
    twice = _individual("不称职", "一年内被告诫两次以上，当年考核定为不称职")
    assert_decision_table(
        decisions,
        "admonition_consequence",
        [
            ({"admonitions_this_year": 0}, none),
            ({"admonitions_this_year": 1}, once),
            ({"admonitions_this_year": 2}, twice),
            ({"admonitions_this_year": 5}, twice),
            ({"admonitions_this_year": -1}, DecisionError),
            ({}, DecisionError),
        ],
    )


def test_unit_admonition_consequence(decisions: Decisions) -> None:
    """A unit admonished once or more: 通报批评, its leadership loses that year's 评优评先; none: nothing."""
    none = _unit(False, False, "无")
    admonished = _unit(True, True, "通报批评，取消领导班子当年评优评先资格")
    assert_decision_table(
        decisions,
        "unit_admonition_consequence",
        [
            ({"admonitions_this_year": 0}, none),
            ({"admonitions_this_year": 1}, admonished),
            ({"admonitions_this_year": 3}, admonished),
            ({"admonitions_this_year": -1}, DecisionError),
        ],
    )


def test_supervision_ladder(decisions: Decisions) -> None:
    """1st finding 告知提醒, 2nd 通报预警, 3rd and later 考评运用 with a deduction; 0 is a host error."""
    assert_decision_table(
        decisions,
        "supervision_ladder",
        [
            (
                {"findings_in_period": 1},
                {"ladder_step": "告知提醒", "score_deduction": 0, "step_label": "首次发现：告知提醒"},
            ),
            (
                {"findings_in_period": 2},
                {"ladder_step": "通报预警", "score_deduction": 0, "step_label": "二次发现：通报预警"},
            ),
            (
                {"findings_in_period": 3},
                {
                    "ladder_step": "考评运用",
                    "score_deduction": 1,
                    "step_label": "三次及以上：考评运用，绩效考评扣分",
                },
            ),
            (
                {"findings_in_period": 9},
                {
                    "ladder_step": "考评运用",
                    "score_deduction": 1,
                    "step_label": "三次及以上：考评运用，绩效考评扣分",
                },
            ),
            ({"findings_in_period": 0}, DecisionError),
        ],
    )


@pytest.mark.parametrize("category", ["", "路灯", "咨询", "求助", "建议", "投诉举报"])
@pytest.mark.parametrize("urgency", ["紧急", "较急", "一般", "复杂"])
def test_complaint_urgency_matches_the_time_limit_table(
    decisions: Decisions, urgency: str, category: str
) -> None:
    """Evaluated, the urgency table gives each tier and category the handling limit time_limits.yaml resolves
    for it (the urgency tiers first, then the ticket types)."""
    result = decisions.decide("complaint_urgency", {"urgency": urgency, "category": category})
    assert isinstance(result, dict)
    entry = yaml_file("time_limits.yaml")["limits"]["complaint_handling"]
    assert result["handling_limit"] == resolve_limit(entry, urgency=urgency, category=category)
    assert urgency in result["handling_limit_label"]
    expected = {"咨询": "3个工作日", "求助": "3个工作日", "建议": "13个工作日", "投诉举报": "13个工作日"}
    if urgency == "一般":
        assert result["handling_limit"] == expected.get(category, "5个工作日")


def test_complaint_urgency_refuses_an_unknown_tier(decisions: Decisions) -> None:
    """A tier outside the table is an error, not a silent default."""
    with pytest.raises(DecisionError):
        decisions.decide("complaint_urgency", {"urgency": "特急", "category": ""})
