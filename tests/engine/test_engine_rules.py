"""Business-rule tasks run DMN through efficacy_flow.policy (conventions §6)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from efficacy_flow.engine import Actor, Engine
from efficacy_flow.errors import ProcessDefinitionError

RULES = Path(__file__).parent / "fixtures" / "rules"
STARTER = Actor("op", {"受理员"})


@pytest.mark.parametrize(
    ("score", "grade", "tags"),
    [
        pytest.param(95, "合格", [{"tag": "已评分"}, {"tag": "优秀"}], id="excellent"),
        pytest.param(70, "合格", [{"tag": "已评分"}], id="pass"),
        pytest.param(30, "不合格", [{"tag": "已评分"}], id="fail"),
    ],
)
def test_single_hit_merges_and_multi_hit_goes_to_result_variable(
    make_engine: Callable[..., Engine], score: int, grade: str, tags: list[dict[str, str]]
) -> None:
    """A single-hit result is merged into the data; a multi-hit list goes under camunda:resultVariable."""
    engine = make_engine(processes=RULES)
    inst = engine.start("fx_rule", {"score": score}, STARTER)
    assert inst.data["grade"] == grade
    assert inst.data["tags"] == tags


def test_unknown_decision_ref_fails_deployment(make_engine: Callable[..., Engine], tmp_path: Path) -> None:
    """A businessRuleTask naming a decision no DMN file defines is a deployment error naming the task."""
    folder = tmp_path / "p"
    folder.mkdir()
    for file in RULES.iterdir():
        (folder / file.name).write_text(file.read_text(encoding="utf-8").replace('"fx_tags"', '"fx_nope"'))
    (folder / "fx_tags.dmn").write_text((RULES / "fx_tags.dmn").read_text(encoding="utf-8"))
    with pytest.raises(ProcessDefinitionError) as caught:
        make_engine(processes=folder)
    assert caught.value.element_id == "Rule_Tags"
