"""Accountability outcomes: decisions by kind, admonitions per person and unit, the year they count in."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from tests.metrics._factories import T0, admonition

from efficacy_flow.clock import CHINA_TZ
from efficacy_flow.metrics import (
    MetricsConfig,
    accountability_outcomes,
    admonitions_in_year,
    in_admonition_year,
    render_accountability,
)

LATER = datetime(2025, 10, 20, 9, 0, tzinfo=CHINA_TZ)


def test_decisions_are_counted_by_kind_and_pending_separately() -> None:
    """Every decision kind of 001 §五(五) is listed (zeros too); undecided cases are pending."""
    records = [
        admonition("王某", n=1),
        admonition("李某", decision="监察建议", n=2),
        admonition("赵某", decision=None, n=3),
    ]
    outcomes = accountability_outcomes(records, LATER)
    assert outcomes.cases == 3
    assert dict(outcomes.decisions) == {
        "不予追究": 0,
        "监察建议": 1,
        "效能告诫": 1,
        "组织处理": 0,
        "立案查处": 0,
    }
    assert outcomes.pending == 1


def test_person_grade_cap_comes_from_the_latest_admonition() -> None:
    """Twice admonished: the count is 2 and the cap is the latest decision table result (不称职)."""
    records = [
        admonition("王某", at=T0, grade_cap="基本称职", n=1),
        admonition("王某", at=LATER, grade_cap="不称职", n=2),
        admonition("李某", unit="市城管局", at=T0, grade_cap="基本称职", n=3),
    ]
    outcomes = accountability_outcomes(records, LATER)
    assert [(p.name, p.admonitions, p.grade_cap) for p in outcomes.persons] == [
        ("王某", 2, "不称职"),
        ("李某", 1, "基本称职"),
    ]


def test_units_gather_staff_and_own_admonitions() -> None:
    """A unit's row counts its people's admonitions and its own; 通报批评 follows the table's result."""
    records = [
        admonition("王某", n=1),
        admonition("市住建局", subject_type="单位", public_criticism=True, honours_revoked=True, n=2),
        admonition("李某", unit="市城管局", n=3),
    ]
    units = {u.unit: u for u in accountability_outcomes(records, LATER).units}
    assert (units["市住建局"].staff_admonitions, units["市住建局"].unit_admonitions) == (1, 1)
    assert units["市住建局"].public_criticism
    assert units["市住建局"].honours_revoked
    assert not units["市城管局"].public_criticism


def test_decisions_after_as_of_are_pending() -> None:
    """A decision after the report date is not counted yet."""
    outcomes = accountability_outcomes([admonition("王某", at=LATER)], LATER - timedelta(hours=1))
    assert outcomes.cases == 1
    assert outcomes.pending == 1
    assert outcomes.persons == ()


@pytest.mark.parametrize(
    ("decided", "as_of", "basis", "inside"),
    [
        pytest.param("2024-12-20", "2025-03-01", "calendar", False, id="calendar-last-year"),
        pytest.param("2024-12-20", "2025-03-01", "rolling_12_months", True, id="rolling-last-december"),
        pytest.param("2025-01-01", "2025-12-31", "calendar", True, id="calendar-same-year"),
        pytest.param("2024-03-01", "2025-03-01", "rolling_12_months", False, id="rolling-start-excluded"),
        pytest.param("2024-03-02", "2025-03-01", "rolling_12_months", True, id="rolling-day-after-start"),
        pytest.param("2025-03-02", "2025-03-01", "calendar", False, id="after-as-of"),
    ],
)
def test_the_admonition_year(decided: str, as_of: str, basis: str, inside: bool) -> None:
    """calendar: [1 January, as_of]; rolling_12_months: (as_of − 12 months, as_of] (settings.yaml)."""
    decided_at = datetime.fromisoformat(decided + "T10:00").replace(tzinfo=CHINA_TZ)
    as_of_at = datetime.fromisoformat(as_of + "T10:00").replace(tzinfo=CHINA_TZ)
    assert in_admonition_year(decided_at, as_of_at, basis) is inside  # type: ignore[arg-type]


def test_admonitions_in_year_counts_only_the_subject_and_the_year() -> None:
    """The host's count for admonitions_this_year: this subject, 效能告诫 only, inside the year."""
    old = datetime(2024, 11, 1, 10, tzinfo=CHINA_TZ)
    records = [
        admonition("王某", at=old, n=1),
        admonition("王某", at=T0, n=2),
        admonition("王某", decision="监察建议", n=3),
        admonition("李某", n=4),
    ]
    assert admonitions_in_year(records, "个人", "王某", LATER) == 1
    assert admonitions_in_year(records, "个人", "王某", LATER, "rolling_12_months") == 2
    outcomes = accountability_outcomes(records, LATER, MetricsConfig(admonition_year="rolling_12_months"))
    assert {p.name: p.admonitions for p in outcomes.persons} == {"王某": 2, "李某": 1}


def test_render_names_persons_caps_and_units() -> None:
    """The Chinese report lists each admonished person with the cap and each unit with 通报批评."""
    records = [
        admonition("王某", grade_cap="基本称职", n=1),
        admonition("市住建局", subject_type="单位", public_criticism=True, honours_revoked=True, n=2),
    ]
    text = render_accountability(accountability_outcomes(records, LATER))
    assert "问责案件：2 件" in text
    assert "效能告诫 2" in text
    person_line = next(line for line in text.splitlines() if line.startswith("王某"))
    assert "基本称职" in person_line
    unit_line = next(line for line in text.splitlines() if line.startswith("市住建局"))
    assert unit_line.split()[-2:] == ["是", "是"]
