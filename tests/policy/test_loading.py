"""Loading DMN files: a modeler's file loads unchanged; a table that cannot be evaluated correctly is refused.

Every refusal is a ``DecisionTableError`` whose fields name the file, the decision, the rule and the cell.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from tests.policy.dmn_builder import FIXTURES, dmn_xml

from efficacy_flow.errors import DecisionTableError, InvalidInput
from efficacy_flow.policy import Decisions, load_decisions

Build = Callable[..., Decisions]


def test_modeler_files_load_unchanged_with_their_diagrams() -> None:
    """The modeler's files (DMN 1.3, DMNDI, inputData, descriptions) load as saved.

    The fixtures were serialized by dmn-moddle 12.2.1, the library dmn-js saves with; a round trip through it
    leaves them byte-identical, so they are exactly what the modeler writes.
    """
    decisions = load_decisions(FIXTURES / "admonition.dmn")
    assert decisions.decision_ids == {
        "admonition_consequence",
        "unit_admonition_consequence",
        "appraisal_grade",
    }
    assert "<dmndi:DMNDI>" in (FIXTURES / "admonition.dmn").read_text(encoding="utf-8")


def test_a_folder_loads_every_dmn_file(tmp_path: Path) -> None:
    """A folder loads each *.dmn file in it (not other files, not sub-folders)."""
    (tmp_path / "a.dmn").write_text(dmn_xml(decision_id="a", rules=[(["-"], ["1"])]), encoding="utf-8")
    (tmp_path / "b.dmn").write_text(dmn_xml(decision_id="b", rules=[(["-"], ["2"])]), encoding="utf-8")
    (tmp_path / "notes.txt").write_text("not a table", encoding="utf-8")
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "c.dmn").write_text("broken", encoding="utf-8")
    decisions = load_decisions(str(tmp_path))
    assert decisions.decision_ids == {"a", "b"}
    assert decisions.decide("b", {"x": 0}) == {"out": 2}


@pytest.mark.parametrize(
    "namespace",
    [
        pytest.param("http://www.omg.org/spec/DMN/20151101/dmn.xsd", id="dmn-1.1"),
        pytest.param("http://www.omg.org/spec/DMN/20180521/MODEL/", id="dmn-1.2"),
        pytest.param("https://www.omg.org/spec/DMN/20191111/MODEL/", id="dmn-1.3"),
        pytest.param("https://www.omg.org/spec/DMN/20211108/MODEL/", id="dmn-1.4"),
        pytest.param("https://www.omg.org/spec/DMN/20230324/MODEL/", id="dmn-1.5"),
    ],
)
def test_dmn_versions(dmn_table: Build, namespace: str) -> None:
    """DMN 1.1 to 1.5 documents load and evaluate alike."""
    decisions = dmn_table(namespace=namespace, rules=[(["< 5"], ['"small"']), ([">= 5"], ['"large"'])])
    assert decisions.decide("d", {"x": 7}) == {"out": "large"}


def refused(text: str, tmp_path: Path) -> DecisionTableError:
    path = tmp_path / "bad.dmn"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DecisionTableError) as caught:
        load_decisions(path)
    assert caught.value.path == str(path)
    return caught.value


def test_dtd_and_entities_are_refused(tmp_path: Path) -> None:
    """An XML bomb never reaches the parser: DTDs and entity declarations are refused outright."""
    bomb = (
        '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]>'
        '<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/">&lol2;</definitions>'
    )
    assert "DTD" in refused(bomb, tmp_path).problem


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        pytest.param("<definitions", "not well-formed", id="broken-xml"),
        pytest.param('<definitions xmlns="http://example.com/other"/>', "not a DMN", id="foreign-namespace"),
        pytest.param(
            '<bpmn xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/"/>', "not a DMN", id="wrong-root"
        ),
    ],
)
def test_documents_that_are_not_dmn(tmp_path: Path, text: str, problem: str) -> None:
    """Broken XML and other documents are refused with the file named."""
    assert problem in refused(text, tmp_path).problem


def test_non_utf8_file_is_refused(tmp_path: Path) -> None:
    """A file in another encoding is refused rather than misread."""
    path = tmp_path / "gbk.dmn"
    path.write_bytes(dmn_xml(rules=[(["-"], ['"告诫"'])]).encode("gbk"))
    with pytest.raises(DecisionTableError, match="not UTF-8"):
        load_decisions(path)


def _declared(encoding: str) -> str:
    return dmn_xml(rules=[(["-"], ['"告诫"'])]).replace('encoding="UTF-8"', f'encoding="{encoding}"', 1)


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(_declared("ISO-8859-1").encode("latin-1", "xmlcharrefreplace"), id="iso-8859-1"),
        pytest.param(_declared("UTF-16").encode("utf-16"), id="utf-16"),
        pytest.param(_declared("GB18030").encode("gb18030"), id="gb18030"),
        pytest.param(dmn_xml(rules=[(["-"], ['"告诫"'])]).encode("utf-8-sig"), id="utf-8-bom"),
    ],
)
def test_declared_encodings_are_honoured(tmp_path: Path, data: bytes) -> None:
    """A table saved in the encoding its declaration names loads; its Chinese output reads as written."""
    path = tmp_path / "table.dmn"
    path.write_bytes(data)
    assert load_decisions(path).decide("d", {"x": 1}) == {"out": "告诫"}


SECRET = "TOP-SECRET-7f3a9c"


def _dangerous(case: str, secret: Path) -> bytes:
    table = dmn_xml(rules=[(["-"], ['"告诫"'])])
    head, _, body = table.partition("\n")
    doctypes = {
        "external-entity": f'<!DOCTYPE definitions [<!ENTITY x SYSTEM "{secret.as_uri()}">]>',
        "etc-passwd": '<!DOCTYPE definitions [<!ENTITY x SYSTEM "file:///etc/passwd">]>',
        "internal-entity": '<!DOCTYPE definitions [<!ENTITY x "\\"告诫\\"">]>',
        "parameter-entity": f'<!DOCTYPE definitions [<!ENTITY % p SYSTEM "{secret.as_uri()}"> %p;]>',
    }
    if case in doctypes:
        return f"{head}\n{doctypes[case]}\n{body}".replace('<text>"告诫"</text>', "<text>&x;</text>").encode()
    if case == "xinclude":
        include = '<xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="/etc/passwd" parse="text"/>'
        return table.replace("</definitions>", include + "</definitions>").encode()
    if case == "over-the-cap":
        return table.replace(
            "</definitions>", "<!--" + "x" * (10 * 1024 * 1024) + "--></definitions>"
        ).encode()
    raise AssertionError(case)


@pytest.mark.parametrize(
    ("case", "problem"),
    [
        pytest.param("external-entity", "DTD", id="external-entity"),
        pytest.param("etc-passwd", "DTD", id="etc-passwd"),
        pytest.param("internal-entity", "DTD", id="internal-entity"),
        pytest.param("parameter-entity", "DTD", id="parameter-entity"),
        pytest.param("xinclude", "XInclude", id="xinclude"),
        pytest.param("over-the-cap", "over the limit", id="over-the-cap"),
    ],
)
def test_dangerous_documents_are_refused_without_reading_elsewhere(
    tmp_path: Path, case: str, problem: str
) -> None:
    """Entities, DTDs, XInclude and oversized files are DecisionTableErrors about the whole file (decision,
    rule and cell None); neither the file an entity names nor /etc/passwd reaches the error."""
    secret = tmp_path / "secret.txt"
    secret.write_text(SECRET, encoding="utf-8")
    path = tmp_path / "bad.dmn"
    path.write_bytes(_dangerous(case, secret))
    with pytest.raises(DecisionTableError) as caught:
        load_decisions(path)
    error = caught.value
    assert (error.path, error.decision, error.rule, error.cell) == (str(path), None, None, None)
    assert problem in error.problem
    shown = str(error) + repr(error.fields)
    assert SECRET not in shown
    passwd = Path("/etc/passwd")
    if passwd.exists():
        assert passwd.read_text(encoding="utf-8", errors="replace").splitlines()[0] not in shown


def test_comments_between_decision_elements_are_ignored(tmp_path: Path) -> None:
    """lxml keeps comments as children; a decision whose logic follows a comment is read for that logic."""
    text = dmn_xml(
        rules=[(["-"], ["1"])],
        extra_decisions="""
  <decision id="ctx" name="Context"><!-- a note -->
    <context id="C_1"><!-- another -->
      <contextEntry><variable name="a"/>
        <literalExpression><text>1 + 1</text></literalExpression></contextEntry>
    </context>
  </decision>""",
    )
    path = tmp_path / "ctx.dmn"
    path.write_text(text, encoding="utf-8")
    assert load_decisions(path).decide("ctx", {}) == {"a": 2}


def test_missing_path_is_refused(tmp_path: Path) -> None:
    """A path that does not exist is a DecisionTableError (an InvalidInput, so a ValueError)."""
    with pytest.raises(DecisionTableError) as caught:
        load_decisions(tmp_path / "nowhere")
    assert isinstance(caught.value, InvalidInput)
    assert isinstance(caught.value, ValueError)


LITERAL_DECISION = """
  <decision id="lit" name="Literal">
    <literalExpression id="LE_1"><text>for x in [1, 2] return</text></literalExpression>
  </decision>"""


@pytest.mark.parametrize(
    ("kwargs", "problem", "where"),
    [
        pytest.param(
            {"inputs": ["x +"]},
            "must be a name, a dotted path",
            {"cell": "Input_0"},
            id="input-expression",
        ),
        pytest.param({"inputs": ["count(x"]}, "must be a name", {"cell": "Input_0"}, id="input-function"),
        pytest.param({"inputs": ["then"]}, "must be a name", {"cell": "Input_0"}, id="input-keyword"),
        pytest.param({"inputs": [("x", "dateTime")]}, "not supported", {"cell": "Input_0"}, id="input-type"),
        pytest.param(
            {"outputs": [("out", "duration")]}, "not supported", {"cell": "Output_0"}, id="output-type"
        ),
        pytest.param(
            {"outputs": ["", "b"], "rules": [(["-"], ["1", "2"])]},
            "needs a name",
            {"cell": "Output_0"},
            id="output-without-name",
        ),
        pytest.param(
            {"inputs": [("x", "number")], "rules": [(['"a"'], ["1"])]},
            "typed number",
            {"rule": "Rule_1", "cell": "In_1_0"},
            id="cell-type-vs-typeRef",
        ),
        pytest.param(
            {"rules": [(["1"], ["1"]), (['"a"'], ["2"])]},
            "cells mix",
            {"rule": "Rule_2", "cell": "In_2_0"},
            id="column-mixes-kinds",
        ),
        pytest.param(
            {"outputs": [("out", "number")], "rules": [(["-"], ['"a"'])]},
            "is not a number",
            {"rule": "Rule_1", "cell": "Out_1_0"},
            id="output-type-vs-typeRef",
        ),
        pytest.param(
            {"rules": [(["-", "-"], ["1"])]},
            "2 input and 1 output cells",
            {"rule": "Rule_1"},
            id="cell-count",
        ),
        pytest.param(
            {"defaults": {"out": "x"}, "rules": [(["-"], ["1"])]},
            "default output",
            {"cell": "Output_0"},
            id="default",
        ),
        pytest.param(
            {"requires": ["ghost"], "rules": [(["-"], ["1"])]}, "not loaded", {}, id="missing-required"
        ),
        pytest.param(
            {"rules": [(["-"], ["1"])], "extra_decisions": LITERAL_DECISION},
            "not in the supported FEEL",
            {"decision": "lit", "cell": "LE_1"},
            id="literal-decision",
        ),
    ],
)
def test_tables_that_cannot_be_evaluated_correctly(
    dmn_table: Build, kwargs: dict[str, Any], problem: str, where: dict[str, str]
) -> None:
    """Each refusal names the problem and the place (decision, rule, cell) in its fields."""
    kwargs.setdefault("rules", [(["-"], ["1"])])
    with pytest.raises(DecisionTableError) as caught:
        dmn_table(**kwargs)
    error = caught.value
    assert problem in error.problem
    assert error.path == "table.dmn"
    assert error.decision == where.get("decision", "d")
    for field, value in where.items():
        assert getattr(error, field) == value


def test_non_feel_expression_language_is_refused(dmn_table: Build) -> None:
    """A cell in another expression language (Camunda 7's juel, javascript) is refused, naming the cell."""
    text = dmn_xml(rules=[(["1"], ["2"])]).replace(
        '<inputEntry id="In_1_0">', '<inputEntry id="In_1_0" expressionLanguage="javascript">'
    )
    with pytest.raises(DecisionTableError, match="javascript") as caught:
        Decisions.from_xml(text, path="table.dmn")
    assert (caught.value.rule, caught.value.cell) == ("Rule_1", "In_1_0")


def test_duplicate_decision_id_across_files(tmp_path: Path) -> None:
    """Two files defining one decision id fail the load, naming both files."""
    for name in ("a.dmn", "b.dmn"):
        (tmp_path / name).write_text(dmn_xml(decision_id="same", rules=[(["-"], ["1"])]), encoding="utf-8")
    with pytest.raises(DecisionTableError) as caught:
        load_decisions(tmp_path)
    assert caught.value.decision == "same"
    assert caught.value.path == str(tmp_path / "b.dmn")
    assert caught.value.other_path == str(tmp_path / "a.dmn")


def test_cycles_in_requirements_are_refused() -> None:
    """Decisions that require each other in a cycle fail the load, naming the cycle."""
    second = dmn_xml(decision_id="b", requires=["a"], rules=[(["-"], ["1"])])
    body = second[second.index("<decision ") : second.index("</definitions>")]
    text = dmn_xml(decision_id="a", requires=["b"], rules=[(["-"], ["1"])], extra_decisions=body)
    with pytest.raises(DecisionTableError, match="cycle") as caught:
        Decisions.from_xml(text)
    assert caught.value.cycle in (["a", "b", "a"], ["b", "a", "b"])


def test_error_message_reads_for_a_policy_owner(dmn_table: Build) -> None:
    """The message names the file, decision, rule number and column label, then the problem."""
    with pytest.raises(DecisionTableError) as caught:
        dmn_table(rules=[(["1"], ["1"]), (["基本称职"], ["2"])])
    assert str(caught.value).startswith(
        "table.dmn, decision 'd', rule 2, input 1 ('in 0'): cannot read '基本称职'"
    )
