"""The JSON Schemas in docs/schemas/ are what the file models produce, and every shipped file validates
against its schema, so an editor checking a file against them agrees with the engine.

Regenerate the schemas after changing a model:
``EFFICACY_FLOW_WRITE_SCHEMAS=1 .venv/bin/python -m pytest tests/architecture/test_config_schemas.py``.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from pydantic import BaseModel

from efficacy_flow._parsing import load_yaml
from efficacy_flow.calendar._data import NationalFile, RegionFile
from efficacy_flow.engine._counters import CountersFile
from efficacy_flow.engine._schemas import SchemasFile
from efficacy_flow.errors import EfficacyFlowError
from efficacy_flow.policy._settings import Settings
from efficacy_flow.policy._time_limits import TimeLimitsFile

ROOT = Path(__file__).resolve().parents[2]
SCHEMA_DIR = ROOT / "docs" / "schemas"
DATA = ROOT / "src" / "efficacy_flow" / "calendar" / "data"
REGENERATE = (
    "EFFICACY_FLOW_WRITE_SCHEMAS=1 .venv/bin/python -m pytest tests/architecture/test_config_schemas.py"
)

#: Schema file → (the model it is exported from, the title editors show).
MODELS: dict[str, tuple[type[BaseModel], str]] = {
    "time_limits.schema.json": (TimeLimitsFile, "efficacy_flow time_limits.yaml"),
    "schemas.schema.json": (SchemasFile, "efficacy_flow schemas.yaml"),
    "settings.schema.json": (Settings, "efficacy_flow settings.yaml"),
    "counters.schema.json": (CountersFile, "efficacy_flow counters.yaml"),
    "holidays-national.schema.json": (NationalFile, "efficacy_flow holiday data: national/YYYY.yaml"),
    "holidays-region.schema.json": (RegionFile, "efficacy_flow holiday data: regions/NAME.yaml"),
}
#: The processes/ files and the schema each one names in its yaml-language-server comment.
PROCESS_FILES = {
    "time_limits.yaml": "time_limits.schema.json",
    "schemas.yaml": "schemas.schema.json",
    "settings.yaml": "settings.schema.json",
    "counters.yaml": "counters.schema.json",
}
_MODELINE = re.compile(r"^# yaml-language-server: \$schema=(\S+)$", re.MULTILINE)


def exported(name: str) -> str:
    """The text docs/schemas/<name> must hold: the model's JSON Schema (draft 2020-12), titled for editors."""
    model, title = MODELS[name]
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        **model.model_json_schema(),
        "title": title,
    }
    return json.dumps(schema, ensure_ascii=False, indent=2) + "\n"


def shipped() -> list[tuple[Path, str]]:
    """Every file the project ships or tests with, paired with the schema it must fit."""
    files = [(ROOT / "processes" / name, schema) for name, schema in PROCESS_FILES.items()]
    for name, schema in PROCESS_FILES.items():
        files += [(path, schema) for path in sorted((ROOT / "tests").rglob(name))]
    files += [(path, "holidays-national.schema.json") for path in sorted((DATA / "national").glob("*.yaml"))]
    files += [(path, "holidays-region.schema.json") for path in sorted((DATA / "regions").glob("*.yaml"))]
    return files


@pytest.mark.parametrize("name", sorted(MODELS))
def test_exported_schema_is_what_the_model_produces(name: str) -> None:
    """docs/schemas/<name> equals the model's JSON Schema (EFFICACY_FLOW_WRITE_SCHEMAS=1 rewrites it)."""
    path = SCHEMA_DIR / name
    expected = exported(name)
    if os.environ.get("EFFICACY_FLOW_WRITE_SCHEMAS") == "1":
        SCHEMA_DIR.mkdir(exist_ok=True)
        path.write_text(expected, encoding="utf-8")
    actual = path.read_text(encoding="utf-8") if path.exists() else "(missing)"
    assert actual == expected, f"docs/schemas/{name} is out of date with its model; run: {REGENERATE}"


def test_every_schema_file_has_a_model() -> None:
    """No stale schema lingers in docs/schemas/ after a model is removed or renamed."""
    assert sorted(p.name for p in SCHEMA_DIR.glob("*.json")) == sorted(MODELS)


def _loaded(path: Path) -> Any:
    # Editors read YAML 1.2, where 2025-10-01 is text: so do the schemas (IsoDate is "format": "date").
    return load_yaml(path.read_bytes(), str(path), EfficacyFlowError, dates_as_text=True)


@pytest.mark.parametrize(("path", "schema"), shipped(), ids=[str(p.relative_to(ROOT)) for p, _ in shipped()])
def test_shipped_files_validate_against_their_exported_schema(path: Path, schema: str) -> None:
    """What an editor checks a file against accepts every file the engine accepts and ships."""
    document = json.loads((SCHEMA_DIR / schema).read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(document)
    errors = [e.message for e in jsonschema.Draft202012Validator(document).iter_errors(_loaded(path))]
    assert errors == []


@pytest.mark.parametrize(
    ("schema", "document", "wrong"),
    [
        pytest.param(
            "time_limits.schema.json",
            {"version": 1, "limits": {"a": {"label": "x", "limit": "5个工作日"}}},
            "'source' is a required property",
            id="time-limit-without-source",
        ),
        pytest.param(
            "counters.schema.json",
            {
                "version": 1,
                "counters": {"c": {"label": "l", "process": "p", "key": "k", "period": "quarter"}},
            },
            "'quarter' is not one of",
            id="counter-period",
        ),
        pytest.param(
            "settings.schema.json",
            {"version": 1, "settings": {"s": {"value": 1, "source": "x", "sauce": "y"}}},
            "Additional properties are not allowed ('sauce' was unexpected)",
            id="setting-unknown-key",
        ),
        pytest.param(
            "schemas.schema.json",
            {"p": {"start": {"f": {"type": "text"}}}},
            "'text' is not one of",
            id="field-type",
        ),
        pytest.param(
            "holidays-national.schema.json",
            {"year": 2027, "notices": []},
            "[] should be non-empty",
            id="year-without-notices",
        ),
    ],
)
def test_exported_schemas_refuse_what_the_models_refuse(schema: str, document: Any, wrong: str) -> None:
    """The exported schemas carry the models' rules (required sources, enums, unknown keys), so an editor
    flags the mistake before deployment does."""
    validator = jsonschema.Draft202012Validator(json.loads((SCHEMA_DIR / schema).read_text(encoding="utf-8")))
    pending = list(validator.iter_errors(document))
    messages = []
    while pending:  # the errors under an anyOf (an optional section) are in each error's context
        error = pending.pop()
        messages.append(error.message)
        pending.extend(error.context or ())
    assert any(wrong in m for m in messages), messages


@pytest.mark.parametrize("name", sorted(PROCESS_FILES))
def test_process_files_point_editors_at_their_schema(name: str) -> None:
    """Each processes/*.yaml names its schema in a yaml-language-server comment (VS Code's YAML extension)."""
    path = ROOT / "processes" / name
    found = _MODELINE.search(path.read_text(encoding="utf-8"))
    assert found is not None, f"{name} has no '# yaml-language-server: $schema=...' line"
    assert (path.parent / found.group(1)).resolve() == SCHEMA_DIR / PROCESS_FILES[name]
