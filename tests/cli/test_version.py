"""``efficacy-flow --version`` through its runner."""

from __future__ import annotations

from importlib import metadata

import pytest

import efficacy_flow
from efficacy_flow.cli import main


def test_version_prints_the_distribution_version(capsys: pytest.CaptureFixture[str]) -> None:
    """``--version`` prints ``efficacy-flow <version>`` on stdout and exits 0, with no subcommand needed; the
    version is both ``efficacy_flow.__version__`` and the installed metadata's."""
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    captured = capsys.readouterr()
    assert captured.out == f"efficacy-flow {metadata.version('efficacy-flow')}\n"
    assert captured.out == f"efficacy-flow {efficacy_flow.__version__}\n"
    assert captured.err == ""
