"""``assert_decision_table``: passes quietly on a right table, and reports every wrong row at once."""

from __future__ import annotations

from pathlib import Path

import pytest

from efficacy_flow.errors import DecisionError
from efficacy_flow.policy import Decisions, load_decisions
from efficacy_flow.testing import assert_decision_table

PROCESSES = Path(__file__).parents[2] / "processes"


def test_every_failing_row_is_reported(shipped: Decisions) -> None:
    """Two wrong rows and one unexpected error all appear in one AssertionError, numbered as written."""
    with pytest.raises(AssertionError) as caught:
        assert_decision_table(
            shipped,
            "admonition_consequence",
            [
                ({"admonitions_this_year": 0}, {"grade_cap": "优秀"}),
                ({"admonitions_this_year": 1}, {"grade_cap": "称职"}),
                ({"admonitions_this_year": 2}, DecisionError),
                ({"admonitions_this_year": -1}, {"grade_cap": "优秀"}),
            ],
        )
    lines = str(caught.value).splitlines()
    assert lines[0] == "decision 'admonition_consequence': 3 of 4 rows failed"
    assert lines[1].split() == ["row", "inputs", "expected", "got"]
    assert len(lines) == 5  # a heading, a header row and one line per failing row: short, not 76 lines
    rows = {line.split()[0]: line for line in lines[2:]}
    assert set(rows) == {"2", "3", "4"}
    assert "admonitions_this_year=1" in rows["2"]
    assert "grade_cap='称职'" in rows["2"]
    assert "grade_cap='基本称职'" in rows["2"]
    assert "DecisionError" in rows["3"]
    assert "'grade_cap': '不称职'" in rows["3"]
    assert "DecisionError: decision 'admonition_consequence': no rule m" in rows["4"]


def test_outputs_compares_only_the_outputs_named() -> None:
    """processes/ admonition_consequence has grade_cap and consequence; a row may check grade_cap alone."""
    decisions = load_decisions(PROCESSES / "admonition_consequence.dmn")
    assert len(decisions.outputs("admonition_consequence")) > 1
    rows = [({"admonitions_this_year": 1}, {"grade_cap": "基本称职"})]
    assert_decision_table(decisions, "admonition_consequence", rows, outputs=["grade_cap"])
    with pytest.raises(AssertionError, match="1 of 1 rows failed"):
        assert_decision_table(decisions, "admonition_consequence", rows)  # the whole result differs
    with pytest.raises(AssertionError, match=r"1 of 1 rows failed \(comparing grade_cap\)") as caught:
        assert_decision_table(
            decisions,
            "admonition_consequence",
            [({"admonitions_this_year": 1}, {"grade_cap": "不称职"})],
            outputs=["grade_cap"],
        )
    assert "consequence=" not in str(caught.value)  # the output not compared is not shown


def test_an_unknown_output_name_fails_naming_the_outputs() -> None:
    decisions = load_decisions(PROCESSES / "admonition_consequence.dmn")
    with pytest.raises(AssertionError, match=r"no outputs \['grade'\].*grade_cap"):
        assert_decision_table(decisions, "admonition_consequence", [({}, {})], outputs=["grade"])


def test_long_values_are_clipped_to_one_line(shipped: Decisions) -> None:
    long_inputs = {"admonitions_this_year": 1, "note": "x" * 500}
    with pytest.raises(AssertionError) as caught:
        assert_decision_table(shipped, "admonition_consequence", [(long_inputs, {"grade_cap": "?"})])
    lines = str(caught.value).splitlines()
    assert len(lines) == 3
    assert all(len(line) < 250 for line in lines)
    assert "…" in lines[2]


def test_a_typo_in_the_decision_id_is_an_error(shipped: Decisions) -> None:
    """An unknown decision id raises DecisionError before any row runs."""
    with pytest.raises(DecisionError):
        assert_decision_table(shipped, "admonition_consequense", [({}, {})])


def test_no_rows_is_a_failure(shipped: Decisions) -> None:
    """An empty table of rows would pass vacuously; it fails instead."""
    with pytest.raises(AssertionError, match="no rows"):
        assert_decision_table(shipped, "admonition_consequence", [])
