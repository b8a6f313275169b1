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
