"""``check_processes`` / ``efficacy-flow check`` (issue 15, item 4): a designer's edits that deploy silently
but break a rule spanning files are named by file and element; the shipped folder is clean."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from efficacy_flow.cli import main
from efficacy_flow.engine import check_processes
from efficacy_flow.errors import InvalidInput

PROCESSES = Path(__file__).resolve().parents[2] / "processes"


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    copy = tmp_path / "processes"
    shutil.copytree(PROCESSES, copy)
    return copy


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_the_shipped_processes_are_clean(capsys: pytest.CaptureFixture[str]) -> None:
    assert check_processes(PROCESSES) == []
    assert main(["check", str(PROCESSES)]) == 0
    assert "0 个错误，0 个警告" in capsys.readouterr().err


def test_a_shorter_limit_is_caught_where_the_warning_and_the_texts_still_say_otherwise(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """complaint_handling cut to 3个工作日: it deploys, but its 4-working-day warning now comes after it (an
    error on the warning timer), and the texts that name it still say 5个工作日 (warnings)."""
    _edit(
        folder / "time_limits.yaml",
        "    label: 诉求办理时限\n    limit: 5个工作日",
        "    label: 诉求办理时限\n    limit: 3个工作日",
    )
    findings = check_processes(folder)
    errors = [f for f in findings if f.severity == "error"]
    assert [(f.file, f.element) for f in errors] == [("complaint_closure.bpmn", "Timer_HandlingWarning")]
    assert "4个工作日 is not shorter than 3个工作日" in errors[0].message
    stale = [f for f in findings if "says 5个工作日" in f.message or "5个工作日," in f.message]
    assert ("complaint_closure.bpmn", "Task_Handle") in {(f.file, f.element) for f in stale}
    assert main(["check", str(folder)]) == 1
    out = capsys.readouterr().out
    assert (
        "complaint_closure.bpmn:Timer_HandlingWarning: error: the warning complaint_handling_warning" in out
    )


def test_numbers_in_names_missing_schemas_and_ladders_that_never_warn(folder: Path) -> None:
    _edit(folder / "complaint_closure.bpmn", 'name="办理时限届满"', 'name="5个工作日届满"')
    _edit(folder / "schemas.yaml", "task_ledger:", "task_ledger_renamed:")
    _edit(folder / "time_limits.yaml", "warning: {before: 1个工作日}", "warning: {before: 5个工作日}")
    found = {(f.file, f.element, f.severity) for f in check_processes(folder)}
    assert ("complaint_closure.bpmn", "Timer_HandlingLimit", "warning") in found
    assert ("task_ledger.bpmn", "task_ledger", "warning") in found
    assert ("time_limits.yaml", "complaint_handling", "warning") in found


def test_a_file_deployment_refuses_is_an_error_naming_it(folder: Path) -> None:
    _edit(
        folder / "window_escalation.bpmn", 'time_limit("window_coordination")', 'time_limit("no_such_limit")'
    )
    [finding] = check_processes(folder)
    assert finding.severity == "error"
    assert finding.file == "window_escalation.bpmn"
    assert "no_such_limit" in finding.message
    assert finding.line().startswith("window_escalation.bpmn:")


def test_not_a_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput):
        check_processes(tmp_path / "none")
    assert main(["check", str(tmp_path / "none")]) == 2
