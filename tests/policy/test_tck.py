"""The DMN TCK, compliance levels 2 and 3 (vendored in tests/policy/tck/, see its README).

Every result is PASS, REFUSED (a typed refusal of the project) or WRONG. A wrong answer or a crash (an
untyped exception) fails the suite on either level;
docs/policy.md quotes the summary line, and a stale quote fails too.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest
from tests.policy import tck_runner
from tests.policy.tck_runner import CRASH, PASS, WRONG, Outcome

DOCS = Path(__file__).parents[2] / "docs" / "policy.md"
#: Statuses that fail the level's test (None: anything but PASS).
FAILING: dict[int, set[str] | None] = {2: None, 3: {WRONG, CRASH}}


@cache
def outcomes(level: int) -> tuple[Outcome, ...]:
    results = tuple(tck_runner.run_level(level))
    tck_runner.RECORDED[level] = results
    return results


def summary() -> str:
    return tck_runner.summary_line(outcomes(2), outcomes(3))


@pytest.mark.parametrize("level", [2, 3])
def test_tck_level(level: int) -> None:
    results = outcomes(level)
    assert results, f"no TCK results found for level {level}"
    failing = FAILING[level]
    bad = [o for o in results if (o.status != PASS if failing is None else o.status in failing)]
    assert not bad, f"{summary()}\n" + "\n".join(str(o) for o in bad[:40])


def test_docs_quote_the_current_summary() -> None:
    assert summary() in DOCS.read_text(encoding="utf-8"), (
        f"docs/policy.md must quote the current TCK summary line:\n{summary()}"
    )


def test_a_number_the_tck_wrote_rounded_matches_within_half_its_last_digit() -> None:
    from decimal import Decimal

    same = tck_runner.same
    assert same(Decimal("0.36787944"), Decimal("0.3678794411714423215955237701614609"))  # exp(-1), 8 digits
    assert not same(Decimal("0.36787944"), Decimal("0.3678794451"))  # more than half a unit of the 8th digit
    assert not same(Decimal("1"), Decimal("1.4"))  # a short expected value is exact (to 1e-9)
    assert not same(Decimal("0.5"), Decimal("0.50001"))
    assert same(Decimal("2"), Decimal("2.0000000000001"))
