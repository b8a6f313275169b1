"""百名科长 (seed 003 §一(三)): the shipped decision section_chief_grade applied to a ranking of scores."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest

from efficacy_flow.errors import InvalidInput
from efficacy_flow.metrics._section_chiefs import section_chief_grades
from efficacy_flow.policy import load_decisions

DECISIONS = load_decisions(Path(__file__).resolve().parents[2] / "processes")


def test_a_hundred_chiefs_top_20_excellent_top_6_first_bottom_10_ordinary() -> None:
    scores = {f"科长{i:03d}": 100 - i for i in range(100)}  # 科长000 best, 科长099 last
    graded = {g.name: g for g in section_chief_grades(scores, DECISIONS)}
    assert [graded[f"科长{i:03d}"].rank for i in (0, 5, 6, 19, 20, 99)] == [1, 6, 7, 20, 21, 100]
    assert sum(g.promotion_priority for g in graded.values()) == 6
    assert {g.name for g in graded.values() if g.promotion_priority} == {f"科长{i:03d}" for i in range(6)}
    assert sum(g.grade == "优秀" for g in graded.values()) == 20
    ordinary = {g.name for g in graded.values() if g.grade == "一般"}
    assert ordinary == {f"科长{i:03d}" for i in range(90, 100)}
    assert all(graded[n].carry_over for n in ordinary)
    assert graded["科长050"].grade is None
    assert not graded["科长050"].carry_over


def test_ties_share_a_place_and_a_small_field_ranks_from_the_top_first() -> None:
    graded = section_chief_grades({"甲": 90, "乙": 90, "丙": Fraction(171, 2), "丁": 80.5}, DECISIONS)
    assert [(g.name, g.rank, g.from_bottom) for g in graded] == [
        ("乙", 1, 3),
        ("甲", 1, 3),
        ("丙", 3, 2),
        ("丁", 4, 1),
    ]
    # With fewer than 30 the top places are also among the last ten: the table reads the top first.
    assert all(g.grade == "优秀" for g in graded)
    assert [g.promotion_priority for g in graded] == [True, True, True, True]


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), "90", True, None])
def test_a_score_that_is_not_a_number_is_refused(bad: object) -> None:
    with pytest.raises(InvalidInput):
        section_chief_grades({"甲": 90, "乙": bad}, DECISIONS)  # type: ignore[dict-item]


def test_scores_that_are_not_a_mapping_are_refused() -> None:
    with pytest.raises(InvalidInput):
        section_chief_grades([("甲", 90)], DECISIONS)  # type: ignore[arg-type]
