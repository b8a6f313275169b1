"""Opening an engine: the processes folder is read before the store is opened, settings are checked."""

from __future__ import annotations

from pathlib import Path

import pytest

from efficacy_flow.engine import Engine, Limits
from efficacy_flow.errors import InvalidInput, ProcessDefinitionError


def test_a_missing_processes_folder_leaves_no_database_behind(tmp_path: Path) -> None:
    """Engine(processes=<no such folder>) fails before the store exists: no empty database file is left."""
    db = tmp_path / "efficacy.db"
    with pytest.raises(ProcessDefinitionError):
        Engine(store=f"sqlite:///{db}", processes=tmp_path / "processes")
    assert list(tmp_path.iterdir()) == []


def test_a_bad_processes_folder_leaves_no_database_behind(tmp_path: Path) -> None:
    """A folder whose file cannot run fails the same way: nothing is created."""
    folder = tmp_path / "processes"
    folder.mkdir()
    (folder / "broken.bpmn").write_text("<not-bpmn", encoding="utf-8")
    with pytest.raises(ProcessDefinitionError):
        Engine(store=f"sqlite:///{tmp_path / 'efficacy.db'}", processes=folder)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["processes"]


@pytest.mark.parametrize(
    "kwargs",
    [
        pytest.param({"tick_batch": 0}, id="tick-batch-zero"),
        pytest.param({"tick_batch": "10"}, id="tick-batch-text"),
        pytest.param({"cache_size": -1}, id="negative-cache"),
        pytest.param({"limits": None, "cache_size": True}, id="cache-bool"),
    ],
)
def test_bad_settings_are_refused(tmp_path: Path, kwargs: dict[str, object]) -> None:
    """Settings of the wrong type or range are InvalidInput, before anything is opened."""
    with pytest.raises(InvalidInput):
        Engine(store=f"sqlite:///{tmp_path / 'e.db'}", processes=None, **kwargs)  # type: ignore[arg-type]
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "kwargs",
    [
        pytest.param({"data_bytes": 10}, id="tiny-data"),
        pytest.param({"event_bytes": "1MB"}, id="text-event"),
        pytest.param({"expression_seconds": 0}, id="zero-budget"),
        pytest.param({"expression_seconds": 120}, id="huge-budget"),
    ],
)
def test_bad_limits_are_refused(kwargs: dict[str, object]) -> None:
    """Limits outside their ranges are InvalidInput."""
    with pytest.raises(InvalidInput):
        Limits(**kwargs)  # type: ignore[arg-type]
