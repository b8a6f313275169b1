"""The per-unit table: Chinese headings in order, columns aligned by display width."""

from __future__ import annotations

import pytest
from tests.metrics._factories import case

from efficacy_flow.metrics import (
    INDICATOR_HEADINGS,
    display_width,
    render_indicators,
    render_table,
    total_indicators,
    unit_indicators,
)


@pytest.mark.parametrize(
    ("text", "width"),
    [
        pytest.param("abc", 3, id="ascii"),
        pytest.param("市住建局", 8, id="cjk"),
        pytest.param("98.7%", 5, id="rate"),
        pytest.param("（未派单）", 10, id="full-width-brackets"),
    ],
)
def test_display_width(text: str, width: int) -> None:
    """CJK and full-width characters take two columns."""
    assert display_width(text) == width


def test_indicator_table_has_the_headings_and_aligned_columns() -> None:
    """Headings 承办单位 … 满意率 in order; lines equally wide; the 合计 row last; rates as percentages."""
    records = [
        case("市住建局", n=1, ratings=("满意",)),
        case("市市场监管局", n=2, late=1),
        case("市住建局", n=3),
    ]
    rows = unit_indicators(records)
    lines = render_indicators(rows, total_indicators(rows)).splitlines()
    assert lines[0].split() == list(INDICATOR_HEADINGS)
    assert len({display_width(line) for line in lines}) == 1
    assert lines[2].split() == ["市住建局", "2", "2", "2", "1", "100.0%", "100.0%", "100.0%"]
    assert lines[-1].split() == ["合计", "3", "3", "2", "1", "100.0%", "66.7%", "100.0%"]


def test_render_table_refuses_ragged_rows() -> None:
    """A row with the wrong number of cells is an error, not a misaligned table."""
    with pytest.raises(ValueError, match="one cell per heading"):
        render_table(("a", "b"), [["1"]])
