"""Records refuse impossible facts; the formula configuration refuses unknown settings."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from tests.metrics._factories import T0

from efficacy_flow.errors import InvalidInput, NaiveDatetime
from efficacy_flow.metrics import (
    DEFAULT_METRICS_CONFIG,
    AccountabilityRecord,
    CaseRecord,
    MetricsConfig,
    Rating,
)


def test_naive_instants_are_refused() -> None:
    """A record's instants must carry a time zone."""
    with pytest.raises(NaiveDatetime):
        CaseRecord("x", "complaint_closure", "市住建局", received_at=datetime(2025, 9, 15, 9))


def test_closed_before_received_is_refused() -> None:
    """A case cannot close before it was received; the error names both instants."""
    with pytest.raises(InvalidInput) as info:
        CaseRecord("x", "complaint_closure", "市住建局", received_at=T0, closed_at=T0 - timedelta(hours=1))
    assert info.value.fields["instance_id"] == "x"


@pytest.mark.parametrize(
    "kwargs",
    [
        pytest.param({"subject_type": "部门"}, id="unknown-subject-type"),
        pytest.param({"decision": "警告", "decided_at": T0}, id="unknown-decision"),
        pytest.param({"decision": "效能告诫"}, id="decision-without-time"),
    ],
)
def test_accountability_record_validation(kwargs: dict[str, Any]) -> None:
    """Unknown subject types and decisions, and a decision without its time, are refused."""
    values: dict[str, Any] = {"subject_type": "个人", **kwargs}
    with pytest.raises(InvalidInput):
        AccountabilityRecord("a", subject_name="王某", unit="市住建局", opened_at=T0, **values)


def test_unknown_rating_is_refused() -> None:
    """Only 满意, 基本满意 and 不满意 are ratings."""
    with pytest.raises(InvalidInput):
        Rating("很满意", T0)


def test_defaults_are_the_documented_ones() -> None:
    """The defaults docs/metrics.md states."""
    assert DEFAULT_METRICS_CONFIG.describe() == {
        "closure_basis": "completed",
        "on_time_denominator": "closed",
        "satisfied_ratings": ["非常满意", "满意", "基本满意"],
        "bad_ratings": ["不满意", "非常不满意"],
        "rating_basis": "final",
        "count_defaulted_ratings": False,
        "admonition_year": "calendar",
    }


def test_from_mapping_reads_a_yaml_like_document() -> None:
    """A mapping (as YAML loads it) builds a config; lists become sets."""
    config = MetricsConfig.from_mapping({"satisfied_ratings": ["满意"], "closure_basis": "replied"})
    assert config.satisfied_ratings == frozenset({"满意"})
    assert config.closure_basis == "replied"


@pytest.mark.parametrize(
    ("values", "field"),
    [
        pytest.param({"closure_rule": "completed"}, "closure_rule", id="unknown-key"),
        pytest.param({"closure_basis": "answered"}, "closure_basis", id="bad-choice"),
        pytest.param({"satisfied_ratings": []}, "satisfied_ratings", id="empty-satisfied"),
        pytest.param({"satisfied_ratings": ["十分满意"]}, "satisfied_ratings", id="unknown-rating"),
        pytest.param({"bad_ratings": ["满意"]}, "bad_ratings", id="bad-and-satisfied"),
        pytest.param({"bad_ratings": ["很差"]}, "bad_ratings", id="unknown-bad-rating"),
        pytest.param({"admonition_year": "fiscal"}, "admonition_year", id="bad-year"),
    ],
)
def test_bad_settings_name_their_field(values: dict[str, Any], field: str) -> None:
    """Each refused setting raises InvalidInput naming the field."""
    with pytest.raises(InvalidInput) as info:
        MetricsConfig.from_mapping(values)
    assert info.value.fields["field"] == field
