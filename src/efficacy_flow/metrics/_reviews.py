"""差评 removed by 申诉复核 (好差评, 国办发〔2019〕51号): which cases' bad ratings leave 满意率 and 差评率.

The review of a 差评 is its own process (processes/good_bad_review.bpmn): started with the rated case's id
(``case_id``: its instance id or business key), it ends with ``rating_removed = True`` when the
efficiency office upholds the unit's appeal (误评, 恶意差评). The rated case itself is not rewritten — its
facts and history stay as they happened — so the figures read the reviews: a case whose 差评 was removed is
not 参评 when its counted rating (first or final, :class:`~efficacy_flow.metrics.MetricsConfig`) is a 差评,
and so counts in neither 满意率 nor 差评率 (docs/metrics.md, "Ratings removed by 申诉复核").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from efficacy_flow.engine import Engine

__all__ = ["GOOD_BAD_REVIEW", "RatingReview", "removed_ratings"]


@dataclass(frozen=True, slots=True)
class RatingReview:
    """Where a review process keeps the outcome of 申诉复核 (defaults: processes/good_bad_review.bpmn).

    Attributes:
        process_id: the review process.
        case_variable: the process variable naming the rated case (its instance id or business key).
        removed_variable: the process variable set True when the appeal was upheld (剔除差评).
    """

    process_id: str = "good_bad_review"
    case_variable: str = "case_id"
    removed_variable: str = "rating_removed"


#: The shipped review process: good_bad_review's 剔除差评 sets ``rating_removed``.
GOOD_BAD_REVIEW = RatingReview()


def removed_ratings(
    engine: Engine, review: RatingReview = GOOD_BAD_REVIEW, *, since: datetime | None = None
) -> frozenset[str]:
    """The instance ids of the cases whose 差评 a completed review removed (``removed_variable`` True).

    The rated case is named by business key (every instance with that key, reviews left out) or, when no
    instance has it as its key, by instance id. ``since``: only reviews started from then on (a review of a
    case received in a period starts after the period's start). One listing query, then one read per
    completed review started since then.
    """
    found: set[str] = set()
    for summary in engine.instances(process_id=review.process_id, status="completed"):
        if since is not None and summary.created_at < since:
            continue
        data = engine.instance(summary.id).data
        case = data.get(review.case_variable)
        if data.get(review.removed_variable) is not True or not isinstance(case, str) or not case:
            continue
        keyed = [i.id for i in engine.instances(business_key=case) if i.process_id != review.process_id]
        found.update(keyed or [case])
    return frozenset(found)
