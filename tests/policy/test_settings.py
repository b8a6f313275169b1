"""load_settings: processes/settings.yaml read through its model; every setting names its source."""

from __future__ import annotations

from pathlib import Path

import pytest

from efficacy_flow.errors import ProcessDefinitionError
from efficacy_flow.policy import Setting, Settings, load_settings

PROCESSES = Path(__file__).parents[2] / "processes"

GOOD = """\
version: 1
jurisdiction: 测试市
settings:
  admonition_year:
    value: calendar
    allowed: [calendar, rolling_12_months]
    source: 001_a86978e3ab2b148c.txt §四(五)
  max_rework:
    value: 2
    schema: complaint_closure.start.max_rework
    source: "[setting] 默认"
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "settings.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_shipped_settings_load() -> None:
    """processes/settings.yaml loads; each setting has its value, allowed values, schema field and source."""
    settings = load_settings(PROCESSES)
    assert isinstance(settings, Settings)
    assert settings.jurisdiction == "默认"
    assert settings.settings["admonition_year"].value == "calendar"
    assert settings.settings["max_rework"].schema_field == "complaint_closure.start.max_rework"
    assert all(isinstance(s, Setting) and s.source.strip() for s in settings.settings.values())


def test_a_folder_or_a_file_loads_alike(tmp_path: Path) -> None:
    """load_settings takes the folder (its settings.yaml) or the file itself."""
    path = _write(tmp_path, GOOD)
    assert load_settings(tmp_path) == load_settings(path)
    assert load_settings(path).settings["max_rework"].value == 2


def test_settings_are_frozen(tmp_path: Path) -> None:
    """The loaded settings cannot be changed in place (configuration is loaded once, at the edge)."""
    settings = load_settings(_write(tmp_path, GOOD))
    with pytest.raises(ValueError, match="frozen"):
        settings.settings["max_rework"].value = 3  # type: ignore[misc]


@pytest.mark.parametrize(
    ("replace", "by", "entry", "problem"),
    [
        pytest.param(
            '    source: "[setting] 默认"\n', "", "settings.max_rework.source", "is required", id="no-source"
        ),
        pytest.param(
            '    source: "[setting] 默认"',
            '    source: "  "',
            "settings.max_rework.source",
            "non-empty",
            id="blank-source",
        ),
        pytest.param(
            "value: calendar",
            "value: fiscal",
            "settings.admonition_year",
            "value 'fiscal' is not one of the allowed values ['calendar', 'rolling_12_months']",
            id="value-not-allowed",
        ),
        pytest.param(
            "schema: complaint_closure.start.max_rework",
            "schema: max_rework",
            "settings.max_rework.schema",
            "String should match pattern",
            id="schema-not-a-path",
        ),
        pytest.param(
            "    value: 2\n",
            "    valeu: 2\n",
            "settings.max_rework.valeu",
            "unknown field 'valeu'",
            id="misspelt-key",
        ),
        pytest.param("version: 1", "version: 2", "version", "must be one of 1, got 2", id="version"),
        pytest.param(
            "    value: 2\n",
            "    value: [2]\n",
            "settings.max_rework.value",
            "must be text, a number",
            id="list-value",
        ),
    ],
)
def test_bad_settings_name_the_file_and_entry(
    tmp_path: Path, replace: str, by: str, entry: str, problem: str
) -> None:
    """Each problem is a ProcessDefinitionError with the file's path and the entry as a dotted path."""
    assert replace in GOOD
    path = _write(tmp_path, GOOD.replace(replace, by, 1))
    with pytest.raises(ProcessDefinitionError) as caught:
        load_settings(path)
    assert caught.value.path == str(path)
    assert caught.value.entry == entry
    assert problem in caught.value.problem


def test_a_missing_file_is_a_typed_error(tmp_path: Path) -> None:
    """A folder without settings.yaml is refused naming the file it looked for."""
    with pytest.raises(ProcessDefinitionError) as caught:
        load_settings(tmp_path)
    assert caught.value.path == str(tmp_path / "settings.yaml")
    assert "cannot read the file" in caught.value.problem
