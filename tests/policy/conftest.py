"""Fixtures for the decision-table tests: the shipped example tables and a builder for conformance tables."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from tests.policy import tck_runner
from tests.policy.dmn_builder import FIXTURES, dmn_xml

from efficacy_flow.policy import Decisions, load_decisions


@pytest.fixture
def dmn_table() -> Callable[..., Decisions]:
    """Build a one-decision table from keyword arguments (see ``dmn_xml``) and compile it."""

    def build(**kwargs: object) -> Decisions:
        return Decisions.from_xml(dmn_xml(**kwargs), path="table.dmn")  # type: ignore[arg-type]

    return build


@pytest.fixture(scope="session")
def shipped() -> Decisions:
    """The example policy tables in tests/policy/fixtures, as a modeler saved them."""
    return load_decisions(FIXTURES)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Print the TCK's pass / refused / wrong line after a run that included tests/policy/test_tck.py."""
    if set(tck_runner.RECORDED) == {2, 3}:
        terminalreporter.write_line(tck_runner.summary_line(tck_runner.RECORDED[2], tck_runner.RECORDED[3]))
