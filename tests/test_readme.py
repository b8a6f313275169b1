"""README.md's Python example runs as written, from any working directory."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_readme_python_example_runs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The example starts a complaint, dispatches it and lists the unit's 签收 task with a due time, run
    from a directory with no processes/ folder (it opens the shipped processes)."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    assert blocks, "README.md has no Python example"
    cwd = Path.cwd()
    os.chdir(tmp_path)
    try:
        for block in blocks:
            exec(compile(block, "README.md", "exec"), {})
    finally:
        os.chdir(cwd)
    printed = capsys.readouterr().out.splitlines()
    assert len(printed) == 1
    name, due = printed[0].split(" ", 1)
    assert name == "签收"
    assert due.endswith("+08:00")
    assert (tmp_path / "efficacy.db").exists()
