"""The 百名科长 appraisal's consequences (seed 003 §一(三)): the top 20 are 优秀, the top 6 come first when
cadres are promoted, the bottom 10 are 一般 and carried over to next year — the DMN decision
``section_chief_grade`` (processes/section_chief_grade.dmn), applied to the ranking of the scores.

The scores themselves (日常考评, 综合考评, 加减扣分) are the appraising offices' (seed 003 §一(一)); this
module ranks them and asks the table what each place means.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction

from efficacy_flow.errors import DecisionError, InvalidInput
from efficacy_flow.policy import Decisions

__all__ = ["SECTION_CHIEF_DECISION", "ChiefGrade", "section_chief_grades"]

#: The decision that says what a place in the ranking means.
SECTION_CHIEF_DECISION = "section_chief_grade"


@dataclass(frozen=True, slots=True)
class ChiefGrade:
    """One section chief's place and what it means: the grade (优秀, 一般, or None), whether they come first
    when cadres are promoted, whether they are carried over to next year's appraisal."""

    name: str
    score: Fraction
    rank: int
    from_bottom: int
    grade: str | None
    promotion_priority: bool
    carry_over: bool


def section_chief_grades(
    scores: Mapping[str, int | float | Fraction], decisions: Decisions
) -> list[ChiefGrade]:
    """Rank ``scores`` (name → score, higher is better; equal scores share a place) and apply the decision
    ``section_chief_grade`` to each place; returned best first, then by name.

    Raises:
        InvalidInput: a score that is not a finite number.
        DecisionError: the decision is not loaded, or answers something that is not a grade.
    """
    if not isinstance(scores, Mapping):
        raise InvalidInput("scores must be a mapping of name to score", argument="scores")
    exact: dict[str, Fraction] = {}
    for name, score in scores.items():
        if isinstance(score, bool) or not isinstance(score, int | float | Fraction) or score != score:
            raise InvalidInput(f"the score of {name} is not a number", field=str(name))
        if isinstance(score, float) and score in (float("inf"), float("-inf")):
            raise InvalidInput(f"the score of {name} is not finite", field=str(name))
        exact[str(name)] = Fraction(score)
    values = sorted(exact.values(), reverse=True)
    graded = []
    for name, score in sorted(exact.items(), key=lambda item: (-item[1], item[0])):
        rank = 1 + sum(1 for v in values if v > score)
        from_bottom = 1 + sum(1 for v in values if v < score)
        result = decisions.decide(SECTION_CHIEF_DECISION, {"rank": rank, "from_bottom": from_bottom})
        if not isinstance(result, Mapping):
            raise DecisionError(
                f"decision {SECTION_CHIEF_DECISION} must give one result, gave {result!r}",
                decision=SECTION_CHIEF_DECISION,
            )
        grade = result.get("grade")
        graded.append(
            ChiefGrade(
                name=name,
                score=score,
                rank=rank,
                from_bottom=from_bottom,
                grade=str(grade) if grade is not None else None,
                promotion_priority=bool(result.get("promotion_priority")),
                carry_over=bool(result.get("carry_over")),
            )
        )
    return graded
