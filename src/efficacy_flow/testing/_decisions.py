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

Every row is evaluated, and one ``AssertionError`` lists every row that failed as a short table (row, inputs,
expected, got: only the outputs that differ), so a policy owner sees the whole picture of a wrong table
at once instead of fixing it one row at a time. ``outputs=["grade_cap"]`` compares only those outputs.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Final

from efficacy_flow.errors import DecisionError
from efficacy_flow.policy import DecisionResult, Decisions

__all__ = ["assert_decision_table"]

#: What a row expects: the exact result (a dict, or a list of dicts for multi-hit tables), or an error class
#: (usually ``DecisionError``) that the decision must raise.
Expected = DecisionResult | type[BaseException]

#: The widest a value is shown in the failure table.
WIDTH: Final = 60


class _Missing:
    def __repr__(self) -> str:
        return "(missing)"


_MISSING: Final = _Missing()


def assert_decision_table(
    decisions: Decisions,
    decision_id: str,
    rows: Iterable[tuple[Mapping[str, Any], Expected]],
    *,
    outputs: Sequence[str] | None = None,
) -> None:
    """Check that ``decisions.decide(decision_id, inputs)`` gives each row's expected result.

    Args:
        decisions: the loaded decisions.
        decision_id: the decision under test.
        rows: ``(inputs, expected)`` pairs; ``expected`` is the result (dict, or list of dicts for multi-hit
            tables) or an exception class the decision must raise (``DecisionError``).
        outputs: compare only these outputs (each row's ``expected`` then names just these); None compares
            the whole result.

    Raises:
        AssertionError: one or more rows failed; the message is a table with one line per failing row
            (1-based row number, inputs, expected, got; for dicts only the outputs that differ). Also when
            ``outputs`` names an output the decision does not have, or there are no rows.
        DecisionError: ``decision_id`` is not loaded (a typo in the test, reported before any row runs).
    """
    if decision_id not in decisions:
        decisions.decide(decision_id, {})  # raises DecisionError naming the known ids
    if outputs is not None:
        unknown = [name for name in outputs if name not in decisions.outputs(decision_id)]
        if unknown or not outputs:
            known = ", ".join(decisions.outputs(decision_id)) or "none"
            raise AssertionError(f"decision {decision_id!r} has no outputs {unknown} (its outputs: {known})")
    failures: list[tuple[str, str, str, str]] = []
    count = 0
    for number, (inputs, expected) in enumerate(rows, 1):
        count = number
        actual: Any
        try:
            actual = decisions.decide(decision_id, inputs)
        except DecisionError as exc:
            if isinstance(expected, type) and isinstance(exc, expected):
                continue
            failures.append(
                (str(number), _inputs(inputs), _shown(expected), _clip(f"{type(exc).__name__}: {exc}"))
            )
            continue
        if isinstance(expected, type):
            failures.append((str(number), _inputs(inputs), expected.__name__, _shown(actual)))
            continue
        want, got = _project(expected, outputs), _project(actual, outputs)
        if want != got:
            failures.append((str(number), _inputs(inputs), *_difference(want, got)))
    if count == 0:
        raise AssertionError(f"decision {decision_id!r}: no rows to check")
    if failures:
        compared = f" (comparing {', '.join(outputs)})" if outputs is not None else ""
        header = f"decision {decision_id!r}: {len(failures)} of {count} rows failed{compared}"
        raise AssertionError("\n".join([header, *_table(failures)]))


def _project(result: Any, outputs: Sequence[str] | None) -> Any:
    if outputs is None:
        return result
    if isinstance(result, Mapping):
        return {name: result.get(name, _MISSING) for name in outputs}
    if isinstance(result, list):
        return [_project(item, outputs) for item in result]
    return result


def _difference(want: Any, got: Any) -> tuple[str, str]:
    # For two dicts, only the outputs that differ: the rest of the row is right and would be noise.
    if isinstance(want, Mapping) and isinstance(got, Mapping):
        keys = [
            key for key in dict.fromkeys([*want, *got]) if want.get(key, _MISSING) != got.get(key, _MISSING)
        ]
        return (
            _clip(", ".join(f"{key}={want.get(key, _MISSING)!r}" for key in keys)),
            _clip(", ".join(f"{key}={got.get(key, _MISSING)!r}" for key in keys)),
        )
    return _shown(want), _shown(got)


def _inputs(inputs: Mapping[str, Any]) -> str:
    return _clip(", ".join(f"{key}={value!r}" for key, value in inputs.items()) or "(none)")


def _shown(value: Any) -> str:
    if isinstance(value, type):
        return value.__name__
    return _clip(repr(value))


def _clip(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= WIDTH else text[: WIDTH - 1] + "…"


def _table(rows: list[tuple[str, str, str, str]]) -> list[str]:
    heading = ("row", "inputs", "expected", "got")
    widths = [max(len(row[column]) for row in [heading, *rows]) for column in range(4)]
    return [
        "  " + "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in [heading, *rows]
    ]
