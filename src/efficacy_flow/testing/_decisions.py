"""Table-driven tests of a decision, written the way the table reads.

::

    from efficacy_flow.testing import assert_decision_table

    def test_admonition_consequence(decisions):
        assert_decision_table(decisions, "admonition_consequence", [
            ({"admonitions_this_year": 0}, {"grade_cap": "优秀"}),
            ({"admonitions_this_year": 1}, {"grade_cap": "基本称职"}),
            ({"admonitions_this_year": 2}, {"grade_cap": "不称职"}),
            ({"admonitions_this_year": -1}, DecisionError),   # a row may expect the decision to refuse
        ])

Every row is evaluated, and one ``AssertionError`` lists every row that failed, so a policy owner sees the
whole picture of a wrong table at once instead of fixing it one row at a time.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from efficacy_flow.errors import DecisionError
from efficacy_flow.policy import DecisionResult, Decisions

__all__ = ["assert_decision_table"]

#: What a row expects: the exact result (a dict, or a list of dicts for multi-hit tables), or an error class
#: (usually ``DecisionError``) that the decision must raise.
Expected = DecisionResult | type[BaseException]


def assert_decision_table(
    decisions: Decisions,
    decision_id: str,
    rows: Iterable[tuple[Mapping[str, Any], Expected]],
) -> None:
    """Check that ``decisions.decide(decision_id, inputs)`` gives each row's expected result.

    Args:
        decisions: the loaded decisions.
        decision_id: the decision under test.
        rows: ``(inputs, expected)`` pairs; ``expected`` is the exact result (dict, or list of dicts for
            multi-hit tables) or an exception class the decision must raise (``DecisionError``).

    Raises:
        AssertionError: one or more rows failed; the message has one line per failing row (1-based row number,
            inputs, expected, actual).
        DecisionError: ``decision_id`` is not loaded (a typo in the test, reported before any row runs).
    """
    if decision_id not in decisions:
        decisions.decide(decision_id, {})  # raises DecisionError naming the known ids
    failures: list[str] = []
    count = 0
    for number, (inputs, expected) in enumerate(rows, 1):
        count = number
        actual: Any
        try:
            actual = decisions.decide(decision_id, inputs)
        except DecisionError as exc:
            if isinstance(expected, type) and isinstance(exc, expected):
                continue
            actual = f"{type(exc).__name__}: {exc}"
        else:
            if not isinstance(expected, type) and actual == expected:
                continue
        shown = expected.__name__ if isinstance(expected, type) else repr(expected)
        failures.append(f"  row {number}: {dict(inputs)!r}\n    expected {shown}\n    got      {actual!r}")
    if count == 0:
        raise AssertionError(f"decision {decision_id!r}: no rows to check")
    if failures:
        header = f"decision {decision_id!r}: {len(failures)} of {count} rows failed"
        raise AssertionError("\n".join([header, *failures]))
