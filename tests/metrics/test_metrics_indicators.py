"""Per-unit indicators: what each case adds to 受理/办结/按时办结/参评/满意, under each formula setting."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.metrics._factories import case

from efficacy_flow.metrics import (
    TOTAL_LABEL,
    UNASSIGNED_LABEL,
    CaseRecord,
    MetricsConfig,
    format_rate,
    total_indicators,
    unit_indicators,
)


def _counts(record: CaseRecord, config: MetricsConfig | None = None) -> tuple[int, int, int, int, int]:
    (row,) = unit_indicators([record], config or MetricsConfig())
    return row.received, row.closed, row.closed_on_time, row.rated, row.satisfied


@pytest.mark.parametrize(
    ("record", "expected"),
    [
        pytest.param(case(), (1, 1, 1, 0, 0), id="closed-unrated"),
        pytest.param(case(closed=False), (1, 0, 0, 0, 0), id="open"),
        pytest.param(case(late=1), (1, 1, 0, 0, 0), id="closed-late"),
        pytest.param(case(ratings=("满意",)), (1, 1, 1, 1, 1), id="satisfied"),
        pytest.param(case(ratings=("基本满意",)), (1, 1, 1, 1, 1), id="fairly-satisfied-counts"),
        pytest.param(case(ratings=("不满意",), closed=False), (1, 0, 0, 1, 0), id="dissatisfied-open"),
        pytest.param(case(ratings=("不满意", "满意")), (1, 1, 1, 1, 1), id="final-rating-after-rework"),
        pytest.param(case(ratings=("满意",), defaulted=(True,)), (1, 1, 1, 0, 0), id="defaulted-not-rated"),
        pytest.param(
            case(ratings=("不满意", "满意"), defaulted=(False, True)), (1, 1, 1, 1, 0), id="last-real-rating"
        ),
    ],
)
def test_each_case_counts_under_the_default_formulas(record: CaseRecord, expected: tuple[int, ...]) -> None:
    """Defaults: 办结 = process ended; 按时 = no limit ran out; 满意 = final real rating 满意 or 基本满意."""
    assert _counts(record) == expected


@pytest.mark.parametrize(
    ("record", "config", "expected"),
    [
        pytest.param(
            case(closed=False, replied=True),
            MetricsConfig(closure_basis="replied"),
            (1, 1, 1, 0, 0),
            id="replied-counts-as-closed",
        ),
        pytest.param(
            case(ratings=("基本满意",)),
            MetricsConfig(satisfied_ratings=frozenset({"满意"})),
            (1, 1, 1, 1, 0),
            id="strict-satisfaction",
        ),
        pytest.param(
            case(ratings=("不满意", "满意")),
            MetricsConfig(rating_basis="first"),
            (1, 1, 1, 1, 0),
            id="first-rating",
        ),
        pytest.param(
            case(ratings=("满意",), defaulted=(True,)),
            MetricsConfig(count_defaulted_ratings=True),
            (1, 1, 1, 1, 1),
            id="defaulted-counted",
        ),
    ],
)
def test_formula_settings_change_what_counts(
    record: CaseRecord, config: MetricsConfig, expected: tuple[int, ...]
) -> None:
    """Each setting of MetricsConfig changes exactly the count it names."""
    assert _counts(record, config) == expected


def test_on_time_denominator_setting() -> None:
    """按时办结率 divides by 办结 by default, by 受理 when configured."""
    records = [case(n=0), case(n=1, late=1), case(n=2, closed=False), case(n=3, closed=False)]
    (default,) = unit_indicators(records)
    (by_received,) = unit_indicators(records, MetricsConfig(on_time_denominator="received"))
    assert default.on_time_rate == Fraction(1, 2)
    assert by_received.on_time_rate == Fraction(1, 4)
    assert default.closure_rate == Fraction(2, 4)


def test_rows_per_unit_ordered_by_received_then_name() -> None:
    """One row per unit (the one the case ended with), most received first; undispatched cases get a label."""
    records = [case("市城管局", n=1), case("市住建局", n=2), case("市城管局", n=3), case(None, n=4)]
    rows = unit_indicators(records)
    assert [(r.unit, r.received) for r in rows] == [("市城管局", 2), ("市住建局", 1), (UNASSIGNED_LABEL, 1)]


def test_process_filter() -> None:
    """process_id restricts the count to that process's cases."""
    records = [case(n=1), case(n=2, process_id="window_escalation")]
    (row,) = unit_indicators(records, process_id="window_escalation")
    assert row.received == 1


def test_rates_are_none_when_the_denominator_is_zero() -> None:
    """An unrated, unclosed unit has no on-time or satisfaction rate (shown as '-')."""
    (row,) = unit_indicators([case(closed=False)])
    assert row.closure_rate == 0
    assert row.on_time_rate is None
    assert row.satisfaction_rate is None
    assert format_rate(row.on_time_rate) == "-"
    assert row.to_dict()["satisfaction_rate"] is None


@pytest.mark.parametrize(
    ("rate", "places", "text"),
    [
        pytest.param(Fraction(52532, 53201), 1, "98.7%", id="seed-003-closure"),
        pytest.param(Fraction(581, 583), 2, "99.66%", id="seed-003-window"),
        pytest.param(Fraction(1, 8), 0, "13%", id="half-up-not-bankers"),
        pytest.param(Fraction(1, 1), 1, "100.0%", id="all"),
        pytest.param(Fraction(0, 1), 1, "0.0%", id="none"),
    ],
)
def test_format_rate_reproduces_seed_figures(rate: Fraction, places: int, text: str) -> None:
    """Seed 003's 53201 received / 52532 replied is 98.7%; 583 / 581 is 99.66%; rounding is half up."""
    assert format_rate(rate, places) == text


_records = st.lists(
    st.builds(
        case,
        unit=st.sampled_from(["市住建局", "市城管局", "市市场监管局", None]),
        closed=st.booleans(),
        late=st.integers(0, 2),
        ratings=st.lists(st.sampled_from(["满意", "基本满意", "不满意"]), max_size=3).map(tuple),
        n=st.integers(0, 10_000),
    ),
    max_size=40,
)
_configs = st.builds(
    MetricsConfig,
    closure_basis=st.sampled_from(["completed", "replied"]),
    on_time_denominator=st.sampled_from(["closed", "received"]),
    satisfied_ratings=st.sampled_from([frozenset({"满意"}), frozenset({"满意", "基本满意"})]),
    rating_basis=st.sampled_from(["final", "first"]),
    count_defaulted_ratings=st.booleans(),
)


@given(records=_records, config=_configs)
def test_counts_nest_and_totals_add_up(records: list[CaseRecord], config: MetricsConfig) -> None:
    """For any records and formulas: 按时办结 ≤ 办结 ≤ 受理, 满意 ≤ 参评 ≤ 受理, rates in [0, 1], and 合计 is
    the sum of the rows with every case counted once."""
    rows = unit_indicators(records, config)
    total = total_indicators(rows, config)
    assert total.unit == TOTAL_LABEL
    assert total.received == len(records)
    assert total.closed == sum(r.closed for r in rows)
    assert total.satisfied == sum(r.satisfied for r in rows)
    for row in (*rows, total):
        assert 0 <= row.closed_on_time <= row.closed <= row.received
        assert 0 <= row.satisfied <= row.rated <= row.received
        for rate in (row.closure_rate, row.on_time_rate, row.satisfaction_rate):
            assert rate is None or 0 <= rate <= 1
