"""engine.diagram: the BPMN XML of the definition an instance runs (what the cockpit draws), on SQLite and
PostgreSQL; after a migration, the version the case moved to."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from tests.engine.conftest import BASIC

from efficacy_flow.engine import Actor, Engine
from efficacy_flow.errors import UnknownInstance

OPERATOR = Actor("op-1", {"受理员"})
START = {"title": "路灯不亮", "unit": "市住建局"}


def test_the_diagram_is_the_deployed_bpmn_of_the_instance(
    make_engine: Callable[..., Engine], tmp_path: Path
) -> None:
    engine = make_engine()
    case = engine.start("fx_handle", START, OPERATOR)
    text = (BASIC / "fx_handle.bpmn").read_text(encoding="utf-8")
    assert engine.diagram(case.id) == text

    folder = tmp_path / "v2"
    shutil.copytree(BASIC, folder)
    changed = text.replace("</bpmn:definitions>", "<!-- v2 --></bpmn:definitions>")
    assert changed != text
    (folder / "fx_handle.bpmn").write_text(changed, encoding="utf-8")
    engine.deploy(folder)
    assert engine.diagram(case.id) == text  # the case still runs its own version
    engine.migrate(case.id, OPERATOR)
    assert engine.diagram(case.id) == changed

    # a new engine over the same store reads it from the store, not from its own folder
    assert make_engine(None).diagram(case.id) == changed


def test_an_unknown_instance_has_no_diagram(make_engine: Callable[..., Engine]) -> None:
    with pytest.raises(UnknownInstance):
        make_engine().diagram("no-such-case")
