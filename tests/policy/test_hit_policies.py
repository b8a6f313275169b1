"""Hit policies: what each returns when zero, one or several rules match.

The table under test is the same for most rows: x is tested against overlapping rows, so several can match.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from tests.policy.dmn_builder import dmn_xml

from efficacy_flow.errors import DecisionError, DecisionTableError
from efficacy_flow.policy import Decisions

Build = Callable[..., Decisions]

# x = 1 matches rows 1 and 3; x = 2 matches rows 2 and 3; x = 5 matches row 3 only; x = 9 matches nothing.
OVERLAPPING = [
    (["1"], ['"low"', "10"]),
    (["2"], ['"high"', "20"]),
    (["[1..5]"], ['"mid"', "5"]),
]
OUTPUTS = [("level", "string"), ("points", "number")]
LEVEL_ORDER = {"level": '"high","mid","low"'}


def decide(dmn_table: Build, policy: str, x: int, **kwargs: Any) -> Any:
    kwargs.setdefault("rules", OVERLAPPING)
    kwargs.setdefault("outputs", OUTPUTS)
    return dmn_table(hit_policy=policy, **kwargs).decide("d", {"x": x})


@pytest.mark.parametrize(
    ("policy", "x", "expected"),
    [
        pytest.param("UNIQUE", 5, {"level": "mid", "points": 5}, id="unique-one-match"),
        pytest.param(None, 5, {"level": "mid", "points": 5}, id="unique-is-the-default"),
        pytest.param("FIRST", 1, {"level": "low", "points": 10}, id="first-takes-rule-order"),
        pytest.param("FIRST", 5, {"level": "mid", "points": 5}, id="first-single"),
        pytest.param("ANY", 5, {"level": "mid", "points": 5}, id="any-single"),
        pytest.param(
            "RULE ORDER", 1, [{"level": "low", "points": 10}, {"level": "mid", "points": 5}], id="rule-order"
        ),
        pytest.param(
            "COLLECT", 2, [{"level": "high", "points": 20}, {"level": "mid", "points": 5}], id="collect"
        ),
        pytest.param("COLLECT", 5, [{"level": "mid", "points": 5}], id="collect-single-is-a-list"),
    ],
)
def test_policies_without_priorities(dmn_table: Build, policy: str | None, x: int, expected: Any) -> None:
    """Single-hit policies return a dict, multi-hit ones a list in rule order."""
    assert decide(dmn_table, policy, x) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("policy", "x", "expected"),
    [
        pytest.param("PRIORITY", 1, {"level": "mid", "points": 5}, id="priority-beats-rule-order"),
        pytest.param("PRIORITY", 2, {"level": "high", "points": 20}, id="priority-first-value-wins"),
        pytest.param(
            "OUTPUT ORDER",
            1,
            [{"level": "mid", "points": 5}, {"level": "low", "points": 10}],
            id="output-order",
        ),
        pytest.param(
            "OUTPUT ORDER",
            2,
            [{"level": "high", "points": 20}, {"level": "mid", "points": 5}],
            id="output-order-2",
        ),
    ],
)
def test_priority_policies_follow_output_values(dmn_table: Build, policy: str, x: int, expected: Any) -> None:
    """PRIORITY and OUTPUT ORDER rank matches by the position of their output in outputValues."""
    assert decide(dmn_table, policy, x, output_values=LEVEL_ORDER) == expected


def test_priority_ties_keep_rule_order(dmn_table: Build) -> None:
    """Among equal priorities, PRIORITY returns the earlier row and OUTPUT ORDER keeps rule order."""
    rules = [(["-"], ['"a"', "1"]), (["-"], ['"a"', "2"]), (["-"], ['"b"', "3"])]
    values = {"level": '"a","b"'}
    assert decide(dmn_table, "PRIORITY", 0, rules=rules, output_values=values) == {"level": "a", "points": 1}
    assert [r["points"] for r in decide(dmn_table, "OUTPUT ORDER", 0, rules=rules, output_values=values)] == [
        1,
        2,
        3,
    ]


def test_priority_uses_later_outputs_to_break_ties(dmn_table: Build) -> None:
    """With outputValues on two outputs, the second ranks rows the first ranks equal."""
    rules = [(["-"], ['"a"', '"y"']), (["-"], ['"a"', '"x"'])]
    out = decide(
        dmn_table,
        "PRIORITY",
        0,
        rules=rules,
        outputs=["level", "tier"],
        output_values={"level": '"a","b"', "tier": '"x","y"'},
    )
    assert out == {"level": "a", "tier": "x"}


def test_unique_with_two_matches_is_an_error(dmn_table: Build) -> None:
    """UNIQUE refuses overlapping rows at evaluation, naming every matching rule."""
    with pytest.raises(DecisionError) as caught:
        decide(dmn_table, "UNIQUE", 1)
    assert caught.value.rules == ["Rule_1", "Rule_3"]
    assert "rules 1 (Rule_1), 3 (Rule_3)" in str(caught.value)


def test_any_with_disagreeing_matches_is_an_error(dmn_table: Build) -> None:
    """ANY accepts several matches only when their outputs agree."""
    with pytest.raises(DecisionError) as caught:
        decide(dmn_table, "ANY", 2)
    assert caught.value.rules == ["Rule_2", "Rule_3"]


def test_any_with_agreeing_matches(dmn_table: Build) -> None:
    """ANY returns the common output when overlapping rows agree."""
    rules = [(["< 5"], ['"x"', "1"]), (["> 0"], ['"x"', "1"])]
    assert decide(dmn_table, "ANY", 3, rules=rules) == {"level": "x", "points": 1}


@pytest.mark.parametrize(
    "policy", ["UNIQUE", "FIRST", "PRIORITY", "ANY", "COLLECT", "RULE ORDER", "OUTPUT ORDER"], ids=str.lower
)
def test_no_match_without_default_is_an_error(dmn_table: Build, policy: str) -> None:
    """Every policy raises when nothing matches and the table declares no default."""
    with pytest.raises(DecisionError, match="no rule matched") as caught:
        decide(dmn_table, policy, 9, output_values=LEVEL_ORDER)
    assert caught.value.problem == "no match"


@pytest.mark.parametrize(
    ("policy", "aggregation", "expected"),
    [
        pytest.param("UNIQUE", None, {"level": "none", "points": None}, id="single-hit-dict"),
        pytest.param("COLLECT", None, [{"level": "none", "points": None}], id="collect-list"),
        pytest.param("RULE ORDER", None, [{"level": "none", "points": None}], id="rule-order-list"),
    ],
)
def test_default_output_when_nothing_matches(
    dmn_table: Build, policy: str, aggregation: str | None, expected: Any
) -> None:
    """defaultOutputEntry (DMN 1.3) answers when no row matches; outputs without one default to null."""
    got = decide(dmn_table, policy, 9, aggregation=aggregation, defaults={"level": '"none"'})
    assert got == expected


SUMS = [(["> 0"], ["3"]), (["> 1"], ["4.5"]), (["> 2"], ["-1"]), (["> 3"], ["0.1"]), (["> 4"], ["0.2"])]


@pytest.mark.parametrize(
    ("aggregation", "x", "expected"),
    [
        pytest.param("SUM", 1, 3, id="sum-one"),
        pytest.param("SUM", 3, 6.5, id="sum-three"),
        pytest.param("SUM", 5, 6.8, id="sum-decimal-exact"),
        pytest.param("MIN", 3, -1, id="min"),
        pytest.param("MAX", 3, 4.5, id="max"),
        pytest.param("COUNT", 4, 4, id="count"),
    ],
)
def test_collect_aggregations(dmn_table: Build, aggregation: str, x: int, expected: Any) -> None:
    """COLLECT with SUM/MIN/MAX/COUNT returns one dict keyed by the output name."""
    out = dmn_table(hit_policy="COLLECT", aggregation=aggregation, outputs=["total"], rules=SUMS).decide(
        "d", {"x": x}
    )
    assert out == {"total": expected}
    assert type(out["total"]) is type(expected)


def test_sum_of_integers_stays_an_integer(dmn_table: Build) -> None:
    """Summing integer outputs gives an int, not a float (it lands in JSON process data)."""
    rules = [(["-"], ["1"]), (["-"], ["2"])]
    out = dmn_table(hit_policy="COLLECT", aggregation="SUM", outputs=["n"], rules=rules).decide("d", {"x": 0})
    assert out == {"n": 3}
    assert type(out["n"]) is int


def test_min_max_over_strings_and_count_over_anything(dmn_table: Build) -> None:
    """MIN and MAX compare values of one kind (strings too); COUNT counts matching rows whatever they hold."""
    rules = [(["-"], ['"b"']), (["-"], ['"a"']), (["-"], ['"c"'])]
    build = lambda aggregation: dmn_table(  # noqa: E731
        hit_policy="COLLECT", aggregation=aggregation, outputs=["v"], rules=rules
    )
    assert build("MIN").decide("d", {"x": 0}) == {"v": "a"}
    assert build("MAX").decide("d", {"x": 0}) == {"v": "c"}
    assert build("COUNT").decide("d", {"x": 0}) == {"v": 3}


@pytest.mark.parametrize(
    ("kwargs", "problem"),
    [
        pytest.param(
            {"hit_policy": "COLLECT", "aggregation": "SUM", "rules": [(["-"], ['"a"'])]},
            "adds numbers",
            id="sum-of-strings",
        ),
        pytest.param(
            {"hit_policy": "COLLECT", "aggregation": "SUM", "rules": [(["-"], ["null"])]},
            "adds numbers",
            id="sum-of-null",
        ),
        pytest.param(
            {"hit_policy": "COLLECT", "aggregation": "MAX", "rules": [(["-"], ["1"]), (["-"], ['"a"'])]},
            "one kind",
            id="max-mixed",
        ),
        pytest.param(
            {
                "hit_policy": "COLLECT",
                "aggregation": "SUM",
                "outputs": ["a", "b"],
                "rules": [(["-"], ["1", "2"])],
            },
            "exactly one output",
            id="sum-two-outputs",
        ),
        pytest.param(
            {"hit_policy": "FIRST", "aggregation": "SUM", "rules": [(["-"], ["1"])]},
            "needs hit policy",
            id="sum-on-first",
        ),
        pytest.param(
            {"hit_policy": "COLLECT", "aggregation": "AVG", "rules": [(["-"], ["1"])]},
            "unknown aggregation",
            id="avg",
        ),
        pytest.param(
            {"hit_policy": "SOMETIMES", "rules": [(["-"], ["1"])]}, "unknown hit policy", id="bad-policy"
        ),
        pytest.param(
            {"hit_policy": "PRIORITY", "rules": [(["-"], ["1"])]},
            "outputValues",
            id="priority-without-values",
        ),
        pytest.param(
            {"hit_policy": "OUTPUT ORDER", "rules": [(["-"], ['"z"'])], "output_values": {"out": '"a","b"'}},
            "not among the output values",
            id="output-not-in-values",
        ),
    ],
)
def test_tables_that_cannot_be_aggregated_or_ranked_are_refused(
    dmn_table: Build, kwargs: dict[str, Any], problem: str
) -> None:
    """Aggregators and priorities that could not give a correct answer fail at load."""
    with pytest.raises(DecisionTableError) as caught:
        dmn_table(**kwargs)
    assert problem in caught.value.problem
    assert caught.value.decision == "d"


@given(
    amounts=st.lists(
        st.decimals(min_value=-1000, max_value=1000, places=2, allow_nan=False, allow_infinity=False),
        min_size=1,
        max_size=12,
    )
)
def test_sum_is_the_exact_decimal_sum(amounts: list[Decimal]) -> None:
    """COLLECT SUM over decimal outputs equals the decimal sum of the written numbers (no float drift)."""
    rules = [(["-"], [format(amount, "f")]) for amount in amounts]
    decisions = Decisions.from_xml(
        dmn_xml(hit_policy="COLLECT", aggregation="SUM", outputs=["n"], rules=rules)
    )
    total = decisions.decide("d", {"x": 0})["n"]  # type: ignore[call-overload]
    assert Decimal(str(total)) == sum(amounts, Decimal(0))


@given(counts=st.lists(st.integers(0, 3), min_size=1, max_size=20), probe=st.integers(0, 3))
def test_count_is_the_number_of_matching_rows(counts: list[int], probe: int) -> None:
    """COLLECT COUNT returns how many rows match, whatever they output."""
    assume(probe in counts)
    rules = [([str(n)], [f'"{n}"']) for n in counts]
    decisions = Decisions.from_xml(
        dmn_xml(hit_policy="COLLECT", aggregation="COUNT", outputs=["n"], rules=rules)
    )
    assert decisions.decide("d", {"x": probe}) == {"n": counts.count(probe)}


GRADES = ["不称职", "基本称职", "称职", "优秀"]


@given(
    rows=st.lists(
        st.tuples(st.sampled_from(["-", "1", "2"]), st.sampled_from(GRADES)), min_size=1, max_size=10
    )
)
def test_priority_and_output_order_rank_by_allowed_values(rows: list[tuple[str, str]]) -> None:
    """PRIORITY returns the match earliest in outputValues; OUTPUT ORDER sorts the matches that way."""
    rules = [([cell], [f'"{grade}"']) for cell, grade in rows]
    values = {"grade": ",".join(f'"{g}"' for g in GRADES)}
    matching = [grade for cell, grade in rows if cell in ("-", "1")]
    kwargs: dict[str, Any] = {"outputs": ["grade"], "rules": rules, "output_values": values}
    priority = Decisions.from_xml(dmn_xml(hit_policy="PRIORITY", **kwargs))
    ordered = Decisions.from_xml(dmn_xml(hit_policy="OUTPUT ORDER", **kwargs))
    if not matching:
        with pytest.raises(DecisionError):
            priority.decide("d", {"x": 1})
        return
    assert priority.decide("d", {"x": 1}) == {"grade": min(matching, key=GRADES.index)}
    assert ordered.decide("d", {"x": 1}) == [{"grade": g} for g in sorted(matching, key=GRADES.index)]
