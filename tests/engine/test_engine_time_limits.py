"""The time-limit table loader (conventions §5) and the timer functions built on it."""

from __future__ import annotations

from pathlib import Path

import pytest

from efficacy_flow.calendar import TimeLimit
from efficacy_flow.errors import ProcessDefinitionError
from efficacy_flow.policy._time_limits import load_time_limits, parse_time_limits

BASIC = Path(__file__).parent / "fixtures" / "basic"
REAL = Path(__file__).parents[2] / "processes"


def test_loads_folder_and_resolves_variants() -> None:
    """The first variant whose `when` matches wins; otherwise the entry's own limit."""
    table = load_time_limits(BASIC)
    assert table.jurisdiction == "测试"
    assert "complaint_handling" in table
    assert table.resolve("complaint_handling", urgency="紧急") == TimeLimit.parse("2小时")
    assert table.resolve("complaint_handling", urgency="一般") == TimeLimit.parse("5个工作日")
    assert table.resolve("complaint_handling") == TimeLimit.parse("5个工作日")


def test_real_table_loads() -> None:
    """processes/time_limits.yaml (the processes helper's) loads: every entry parses and cites a source."""
    if not (REAL / "time_limits.yaml").exists():
        pytest.skip("processes/time_limits.yaml is not there yet")
    table = load_time_limits(REAL)
    assert table.names
    assert all(entry.source.strip() for entry in table.entries.values())


def test_unknown_name_raises() -> None:
    """Resolving a name the table lacks is a ProcessDefinitionError naming the entry."""
    with pytest.raises(ProcessDefinitionError) as caught:
        load_time_limits(BASIC).resolve("nope")
    assert caught.value.entry == "nope"


@pytest.mark.parametrize(
    ("body", "entry", "problem"),
    [
        pytest.param("version: 2\nlimits: {}\n", "version", "must be one of 1, got 2", id="wrong-version"),
        pytest.param("version: 1\nlimits: []\n", "limits", "must be a mapping", id="limits-not-mapping"),
        pytest.param(
            "version: 1\nlimits:\n  a: {label: x, limit: 5个工作日}\n",
            "limits.a.source",
            "is required",
            id="no-source",
        ),
        pytest.param(
            "version: 1\nlimits:\n  a: {label: x, limit: 很久, source: s}\n",
            "limits.a.limit",
            "cannot read limit '很久'",
            id="unparseable",
        ),
        pytest.param(
            "version: 1\nlimits:\n  a: {label: x, limit: 1日, source: s, variants: [{limit: 2日, source: s}]}\n",  # noqa: E501
            "limits.a.variants[0].when",
            "is required",
            id="variant-without-when",
        ),
        pytest.param(
            "version: 1\nlimits:\n  a: {label: x, limit: 1日, source: s, variants: [{when: {u: 1}, limit: 2日}]}\n",  # noqa: E501
            "limits.a.variants[0].source",
            "is required",
            id="variant-without-source",
        ),
        pytest.param(
            "version: 1\nlimits:\n  a: {label: x, limit: 1日, source: '  '}\n",
            "limits.a.source",
            "must be non-empty text",
            id="blank-source",
        ),
        pytest.param(
            "version: 1\nlimits:\n  a: {label: x, limit: 1日, source: s, sorce: t}\n",
            "limits.a.sorce",
            "unknown field 'sorce'",
            id="unknown-key",
        ),
        pytest.param("version: 1\nlimits: {a: [\n", "(file)", "not valid YAML", id="bad-yaml"),
    ],
)
def test_bad_tables_are_refused(body: str, entry: str, problem: str) -> None:
    """Every malformed table fails at load, naming the file, the entry (a dotted path) and the problem."""
    with pytest.raises(ProcessDefinitionError) as caught:
        parse_time_limits(body, "t.yaml")
    assert caught.value.fields["entry"] == entry
    assert problem in caught.value.fields["problem"]
    assert caught.value.path == "t.yaml"
    assert str(caught.value).startswith("t.yaml")
