"""load_yaml: PyYAML's safe loader without anchors, aliases or duplicate keys, decoding as YAML allows.

Every YAML file a designer, policy owner or calendar maintainer edits goes through it, so each refusal is
shown on each kind of file through its public loader.
"""

from __future__ import annotations

import itertools
import json
import shutil
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from efficacy_flow._parsing import load_yaml
from efficacy_flow.calendar import china
from efficacy_flow.engine._counters import load_counters
from efficacy_flow.engine._definitions import read_folder
from efficacy_flow.errors import CalendarDataError, EfficacyFlowError, ProcessDefinitionError
from efficacy_flow.policy import load_settings, parse_time_limits

BASIC = Path(__file__).parents[1] / "engine" / "fixtures" / "basic"


def alias_bomb(levels: int = 9) -> str:
    """The billion-laughs of YAML: each level lists the previous one nine times (9^9 "lol"s expanded)."""
    names = "abcdefghijklmnop"[:levels]
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    lines += [f"{n}: &{n} [{','.join([f'*{p}'] * 9)}]" for p, n in itertools.pairwise(names)]
    return "\n".join(lines) + "\n"


def _schemas_folder(tmp_path: Path, text: str) -> Path:
    folder = tmp_path / "processes"
    shutil.copytree(BASIC, folder)
    (folder / "schemas.yaml").write_text(text, encoding="utf-8")
    return folder


def _holiday_folder(tmp_path: Path, text: str) -> Path:
    (tmp_path / "national").mkdir()
    (tmp_path / "national" / "2027.yaml").write_text(text, encoding="utf-8")
    return tmp_path


def _file(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


#: Each kind of file, read by its own loader: (the loader given a folder and the text, the file's name).
LOADERS: dict[str, tuple[Callable[[Path, str], Any], str]] = {
    "schemas.yaml": (lambda tmp, text: read_folder(_schemas_folder(tmp, text)), "schemas.yaml"),
    "time_limits.yaml": (
        lambda tmp, text: parse_time_limits(text, str(tmp / "time_limits.yaml")),
        "time_limits.yaml",
    ),
    "counters.yaml": (
        lambda tmp, text: load_counters(_file(tmp, "counters.yaml", text).parent, {}),
        "counters.yaml",
    ),
    "settings.yaml": (lambda tmp, text: load_settings(_file(tmp, "settings.yaml", text)), "settings.yaml"),
    "holidays": (lambda tmp, text: china(data_dir=_holiday_folder(tmp, text)), "2027.yaml"),
}


@pytest.mark.parametrize("kind", sorted(LOADERS))
def test_the_alias_bomb_is_refused_by_every_loader(tmp_path: Path, kind: str) -> None:
    """The ~350-byte nine-level alias bomb (which took main 37 s into MemoryError in schemas.yaml) is a typed
    error naming the file and the line of the first anchor, before anything is expanded."""
    load, name = LOADERS[kind]
    with pytest.raises(EfficacyFlowError) as caught:
        load(tmp_path, alias_bomb())
    error = caught.value
    assert isinstance(error, CalendarDataError if kind == "holidays" else ProcessDefinitionError)
    assert error.path.endswith(name)
    assert error.line == 1
    assert error.entry == "(file)"
    assert "anchors and aliases (&name / *name) are not allowed" in str(error)


@pytest.mark.parametrize(
    ("text", "line"),
    [
        pytest.param("a: &x 1\n", 1, id="anchor-without-alias"),
        pytest.param("a: 1\nb: *x\n", 2, id="alias-without-anchor"),
        pytest.param("base: &b {x: 1}\nmerged:\n  <<: *b\n", 1, id="merge-key"),
        pytest.param("- &s [1]\n- *s\n", 1, id="sequence"),
    ],
)
def test_anchors_and_aliases_are_refused_outright(text: str, line: int) -> None:
    """Not only bombs: any anchor or alias is refused, naming its line (no file needs one)."""
    with pytest.raises(ProcessDefinitionError) as caught:
        load_yaml(text, "x.yaml", ProcessDefinitionError)
    assert caught.value.line == line
    assert "anchors and aliases" in caught.value.problem


def test_a_duplicate_key_names_both_lines() -> None:
    """PyYAML silently keeps the last of two equal keys; here both lines are named and nothing is read."""
    text = "version: 1\nlimits:\n  a: {label: x, limit: 1日, source: s}\n"
    text += "  b: {label: y, limit: 2日, source: s}\n  a: {label: z, limit: 3日, source: s}\n"
    with pytest.raises(ProcessDefinitionError) as caught:
        parse_time_limits(text, "time_limits.yaml")
    assert caught.value.line == 5
    assert "duplicate key 'a' on lines 3 and 5" in caught.value.problem
    assert str(caught.value).startswith("time_limits.yaml, line 5: ")


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("a: 1\n'a': 2\n", id="quoted-and-plain"),
        pytest.param("- {x: 1, x: 1}\n", id="flow-mapping"),
        pytest.param("a:\n  b:\n    c: 1\n    c: 2\n", id="nested"),
    ],
)
def test_duplicate_keys_are_refused_wherever_they_are(text: str) -> None:
    """A key written twice in one mapping, in any style, is refused."""
    with pytest.raises(ProcessDefinitionError, match="duplicate key"):
        load_yaml(text, "x.yaml", ProcessDefinitionError)


def test_equal_keys_of_different_types_are_different_keys() -> None:
    """1 and '1' are two keys, as YAML reads them."""
    assert load_yaml("1: a\n'1': b\n", "x.yaml", ProcessDefinitionError) == {1: "a", "1": "b"}


TEXT = "title: 受理诉求\n"


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(TEXT.encode("utf-8"), id="utf-8"),
        pytest.param(TEXT.encode("utf-8-sig"), id="utf-8-bom"),
        pytest.param(TEXT.encode("utf-16"), id="utf-16-bom"),
        pytest.param(b"\xfe\xff" + TEXT.encode("utf-16-be"), id="utf-16-be-bom"),
        pytest.param(TEXT.encode("utf-32"), id="utf-32-bom"),
        pytest.param(b"\x00\x00\xfe\xff" + TEXT.encode("utf-32-be"), id="utf-32-be-bom"),
    ],
)
def test_yaml_encodings_are_read(data: bytes) -> None:
    """UTF-8, and UTF-8/16/32 with a byte-order mark, are read; the Chinese text survives."""
    assert load_yaml(data, "x.yaml", ProcessDefinitionError) == {"title": "受理诉求"}


@pytest.mark.parametrize(
    ("data", "line"),
    [
        pytest.param("a: 1\nb: café\n".encode("latin-1"), 2, id="latin-1"),
        pytest.param("a: 1\n\nb: 告诫\n".encode("gbk"), 3, id="gbk"),
    ],
)
def test_other_encodings_are_a_typed_error_naming_the_file(data: bytes, line: int) -> None:
    """A file in another encoding is refused with its file and line, never a raw UnicodeDecodeError."""
    with pytest.raises(ProcessDefinitionError) as caught:
        load_yaml(data, "settings.yaml", ProcessDefinitionError)
    assert caught.value.line == line
    assert str(caught.value).startswith(f"settings.yaml, line {line}: the file is not UTF-8")


def test_a_holiday_file_in_another_encoding_is_a_calendar_error(tmp_path: Path) -> None:
    """Through the calendar's loader the same refusal is a CalendarDataError naming the file."""
    (tmp_path / "national").mkdir()
    path = tmp_path / "national" / "2027.yaml"
    path.write_bytes("year: 2027\n# 说明\n".encode("gb18030"))
    with pytest.raises(CalendarDataError) as caught:
        china(data_dir=tmp_path)
    assert (caught.value.path, caught.value.entry, caught.value.line) == (str(path), "(file)", 2)


def test_a_file_over_the_cap_is_refused() -> None:
    """The byte cap is a keyword argument (default 10 MB)."""
    text = "a: " + "x" * 100 + "\n"
    assert load_yaml(text, "x.yaml", ProcessDefinitionError, max_bytes=len(text)) == {"a": "x" * 100}
    with pytest.raises(ProcessDefinitionError, match="104 bytes, over the limit of 103 bytes"):
        load_yaml(text, "x.yaml", ProcessDefinitionError, max_bytes=103)


def test_dates_stay_text_when_asked() -> None:
    """dates_as_text keeps 2025-10-01 as written, so its file reports a bad date with its entry."""
    assert load_yaml("d: 2025-10-01\n", "x.yaml", ProcessDefinitionError) == {"d": date(2025, 10, 1)}
    assert load_yaml("d: 2025-10-01\n", "x.yaml", ProcessDefinitionError, dates_as_text=True) == {
        "d": "2025-10-01"
    }


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("a: !!python/object/apply:os.system ['id']\n", id="python-object"),
        pytest.param("a: [1\n", id="unclosed"),
        pytest.param("a: 1\n---\nb: 2\n", id="two-documents"),
    ],
)
def test_other_yaml_errors_are_typed_and_located(text: str) -> None:
    """Tags that build objects, broken syntax and several documents are typed errors with their line."""
    with pytest.raises(ProcessDefinitionError) as caught:
        load_yaml(text, "x.yaml", ProcessDefinitionError)
    assert caught.value.line is not None
    assert caught.value.problem.startswith("not valid YAML: ")


_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**12), 10**12),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=20),
)
_DOCUMENTS = st.recursive(
    _SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(min_size=1, max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)


@given(document=_DOCUMENTS)
def test_anchor_free_documents_read_as_pyyaml_reads_them(document: Any) -> None:
    """Refusing anchors and duplicate keys changes nothing else: every other document reads exactly as
    PyYAML's safe loader reads it."""
    fresh = json.loads(json.dumps(document))  # no shared objects, so safe_dump writes no anchors
    text = yaml.safe_dump(fresh, allow_unicode=True)
    assert load_yaml(text, "x.yaml", ProcessDefinitionError) == yaml.safe_load(text)
