"""A file may hold a main process and the processes its call activities call, all marked executable."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from efficacy_flow import Actor, Engine, ProcessDefinitionError, UnsafeExpression

CALLER = Path(__file__).parent / "fixtures" / "called" / "fx_caller.bpmn"
HANDLER = Actor("h", {"承办单位"})


def _folder(tmp_path: Path, script: str, *, rename_called: bool = False) -> Path:
    text = CALLER.read_text(encoding="utf-8").replace("SCRIPT", script)
    if rename_called:  # the call activity no longer calls the second process: two main processes
        text = text.replace('calledElement="fx_called"', 'calledElement="fx_elsewhere"')
    folder = tmp_path / "processes"
    folder.mkdir()
    (folder / "fx_caller.bpmn").write_text(text, encoding="utf-8")
    return folder


def test_the_called_process_runs_inside_the_caller(
    make_engine: Callable[..., Engine], tmp_path: Path
) -> None:
    """The main process is the executable one nobody calls; the called one runs as its call activity."""
    engine = make_engine(_folder(tmp_path, "marked = True"))
    assert engine.process_ids == frozenset({"fx_caller"})
    instance = engine.start("fx_caller", {}, HANDLER)
    (task,) = engine.tasks(instance_id=instance.id)
    assert task.element_id == "Task_Sub"
    done = engine.complete(task.id, {}, HANDLER)
    assert done.status == "completed"
    assert done.data["marked"] is True


def test_an_unsafe_script_in_the_called_process_fails_at_deployment(
    make_engine: Callable[..., Engine], tmp_path: Path
) -> None:
    """Deployment compiles the called process's scripts too, naming the element."""
    with pytest.raises(UnsafeExpression) as caught:
        make_engine(_folder(tmp_path, "x = __import__('os')"))
    assert caught.value.fields["element_id"] == "Script_Sub"


def test_two_uncalled_executable_processes_in_one_file_are_refused(
    make_engine: Callable[..., Engine], tmp_path: Path
) -> None:
    """Without a call linking them, a file with two executable processes is ambiguous."""
    with pytest.raises(ProcessDefinitionError, match="exactly one executable process"):
        make_engine(_folder(tmp_path, "marked = True", rename_called=True))
