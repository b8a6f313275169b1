"""Hypothesis properties of working-day arithmetic over the bundled years and the provisional ones after
them."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from efficacy_flow.calendar import china

CAL = china()
days = st.dates(min_value=date(2007, 6, 1), max_value=date(2030, 12, 31))
counts = st.integers(min_value=1, max_value=400)


@given(day=days, n=counts)
def test_result_of_adding_working_days_is_a_working_day(day: date, n: int) -> None:
    """For n != 0 the result is always a working day, in either direction."""
    assert CAL.is_working_day(CAL.add_working_days(day, n))
    assert CAL.is_working_day(CAL.add_working_days(day, -min(n, 60)))


@given(day=days, n=counts)
def test_working_days_between_inverts_add_working_days(day: date, n: int) -> None:
    """Counting (day, result] gives n back; counting back, [result, day) holds |n| working days."""
    forward = CAL.add_working_days(day, n)
    assert CAL.working_days_between(day, forward) == n
    back = CAL.add_working_days(day, -min(n, 60))
    one = timedelta(days=1)
    assert CAL.working_days_between(back - one, day - one) == min(n, 60)


@given(day=days, n=counts, more=st.integers(min_value=0, max_value=50))
def test_larger_n_never_lands_earlier(day: date, n: int, more: int) -> None:
    """add_working_days is monotonic in n (strictly, since each step lands on a new working day)."""
    assert CAL.add_working_days(day, n) <= CAL.add_working_days(day, n + more)
    if more:
        assert CAL.add_working_days(day, n) < CAL.add_working_days(day, n + more)


@given(day=days, n=counts)
def test_agrees_with_a_day_by_day_walk(day: date, n: int) -> None:
    """The precomputed arrays give what stepping one day at a time gives."""
    walk, left = day, n
    while left:
        walk += timedelta(days=1)
        left -= CAL.is_working_day(walk)
    assert CAL.add_working_days(day, n) == walk


@given(start=days, end=days)
def test_between_is_antisymmetric(start: date, end: date) -> None:
    """Swapping the arguments negates the count."""
    assert CAL.working_days_between(start, end) == -CAL.working_days_between(end, start)
