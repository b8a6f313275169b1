"""``assert_decision_table``: passes quietly on a right table, and reports every wrong row at once."""

from __future__ import annotations

import pytest

from efficacy_flow.errors import DecisionError
from efficacy_flow.policy import Decisions
from efficacy_flow.testing import assert_decision_table


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
    message = str(caught.value)
    assert message.startswith("decision 'admonition_consequence': 3 of 4 rows failed")
    assert "row 1" not in message
    assert "row 2: {'admonitions_this_year': 1}\n    expected {'grade_cap': '称职'}" in message
    assert "got      {'grade_cap': '基本称职'}" in message
    assert "row 3: {'admonitions_this_year': 2}\n    expected DecisionError" in message
    assert "row 4: {'admonitions_this_year': -1}" in message
    assert "DecisionError: decision 'admonition_consequence': no rule matched" in message


def test_a_typo_in_the_decision_id_is_an_error(shipped: Decisions) -> None:
    """An unknown decision id raises DecisionError before any row runs."""
    with pytest.raises(DecisionError):
        assert_decision_table(shipped, "admonition_consequense", [({}, {})])


def test_no_rows_is_a_failure(shipped: Decisions) -> None:
    """An empty table of rows would pass vacuously; it fails instead."""
    with pytest.raises(AssertionError, match="no rows"):
        assert_decision_table(shipped, "admonition_consequence", [])
