"""The decision requirements graph (DMN 1.5 chapter 6): what a decision sees, typed input data, decisions
without logic, decision services (invoked directly and as functions), and decision tables with FEEL cells."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from tests.policy.dmn_builder import DMN13
from tests.policy.test_boxed import decision, knows, lit, model

from efficacy_flow.errors import DecisionError, DecisionTableError
from efficacy_flow.policy import _boxed, load_decisions
from efficacy_flow.policy._expr import CompiledTests


def requires(*ids: str) -> str:
    return "".join(
        f'<informationRequirement><requiredDecision href="#{i}"/></informationRequirement>' for i in ids
    )


def requires_input(*ids: str) -> str:
    return "".join(
        f'<informationRequirement><requiredInput href="#{i}"/></informationRequirement>' for i in ids
    )


def input_data(input_id: str, type_ref: str = "") -> str:
    typed = f' typeRef="{type_ref}"' if type_ref else ""
    return f'<inputData id="{input_id}" name="{input_id}"><variable name="{input_id}"{typed}/></inputData>'


def service(
    service_id: str,
    outputs: list[str],
    decisions: tuple[str, ...] | list[str] = (),
    data: tuple[str, ...] | list[str] = (),
) -> str:
    parts = "".join(f'<outputDecision href="#{o}"/>' for o in outputs)
    parts += "".join(f'<inputDecision href="#{d}"/>' for d in decisions)
    parts += "".join(f'<inputData href="#{i}"/>' for i in data)
    return f'<decisionService id="{service_id}" name="{service_id}">{parts}</decisionService>'


# --- scopes and input data ----------------------------------------------------------------------------------


def test_a_decision_does_not_see_a_decision_it_does_not_require() -> None:
    decisions = model(decision("a", lit("1")) + decision("b", lit("a")), strict=False)
    assert decisions.evaluate("b", {"a": 5}) is None  # "a" names a decision b does not require
    with_requirement = model(decision("a", lit("1")) + decision("b", lit("a + 1"), extra=requires("a")))
    assert with_requirement.evaluate("b", {"a": 5}) == Decimal(2)  # the required decision's value wins


def test_required_input_data_are_converted_to_their_type() -> None:
    body = input_data("age", "number") + decision("d", lit("age"), extra=requires_input("age"))
    assert model(body, strict=False).evaluate("d", {"age": 30}) == Decimal(30)
    assert model(body, strict=False).evaluate("d", {"age": "thirty"}) is None
    with pytest.raises(DecisionError, match="does not conform to type number") as caught:
        model(body).evaluate("d", {"age": "thirty"})
    assert caught.value.fields["input"] == "age"


def test_item_definitions_type_input_data_and_decision_results() -> None:
    types = (
        '<itemDefinition name="tGrade"><typeRef>string</typeRef>'
        '<allowedValues><text>"A", "B"</text></allowedValues></itemDefinition>'
        '<itemDefinition name="tGrades" isCollection="true"><typeRef>tGrade</typeRef></itemDefinition>'
    )
    body = (
        types
        + input_data("grade", "tGrade")
        + decision("g", lit("grade"), extra=requires_input("grade"))
        + decision("all", lit("grade"), extra=requires_input("grade"), type_ref="tGrades")
    )
    decisions = model(body, strict=False)
    assert decisions.evaluate("g", {"grade": "A"}) == "A"
    assert decisions.evaluate("g", {"grade": "C"}) is None  # outside the allowed values
    assert decisions.evaluate("all", {"grade": "B"}) == ["B"]  # an element becomes a singleton list


def test_an_unknown_type_ref_is_refused_at_load() -> None:
    with pytest.raises(DecisionTableError, match="tNowhere"):
        model(input_data("x", "tNowhere") + decision("d", lit("x"), extra=requires_input("x")))


# --- decisions without logic and decision services ----------------------------------------------------------


def test_a_decision_without_logic_loads_and_is_an_error_when_evaluated() -> None:
    decisions = model('<decision id="n" name="n"/>')
    with pytest.raises(DecisionError, match="has no decision logic"):
        decisions.evaluate("n", {})


def test_a_decision_service_evaluates_its_outputs_with_its_inputs_given() -> None:
    body = (
        input_data("x", "number")
        + decision("base", lit("100"))
        + decision("out", lit("base + x"), extra=requires("base") + requires_input("x"))
        + decision("other", lit("base * 2"), extra=requires("base"))
        + service("one", ["out"], ["base"], ["x"])
        + service("two", ["out", "other"], [], ["x"])
    )
    decisions = model(body, strict=False)
    assert decisions.service_ids == frozenset({"one", "two"})
    assert decisions.evaluate_service("one", {"base": 1, "x": 2}) == Decimal(3)  # base given, not evaluated
    assert decisions.evaluate_service("one", {"x": 2}) is None  # base not given: null
    assert decisions.evaluate_service("two", {"x": 2}) == {"out": Decimal(102), "other": Decimal(200)}
    with pytest.raises(DecisionError, match="no decision service 'ghost'"):
        decisions.evaluate_service("ghost", {})


def test_a_decision_invokes_a_service_as_a_function_of_its_parameters() -> None:
    body = (
        input_data("x", "number")
        + decision("base", lit("100"))
        + decision("out", lit("base + x"), extra=requires("base") + requires_input("x"))
        + service("svc", ["out"], ["base"], ["x"])
        + decision("caller", lit("svc(1, 2) * 100 + svc(10, 0)"), extra=knows("svc"))
    )
    # Positional arguments are the input data (x), then the input decisions (base): TCK 0085.
    assert model(body).evaluate("caller", {}) == Decimal(300 + 10)


def test_a_service_gives_an_input_decision_that_has_no_logic() -> None:
    """TCK 0088: a service's input decision may have no logic; its value is the service's argument."""
    body = (
        '<decision id="given" name="given"/>'
        + decision("out", lit('"got " + given'), extra=requires("given"))
        + service("svc", ["out"], ["given"])
    )
    assert model(body).evaluate_service("svc", {"given": "it"}) == "got it"


def test_a_service_that_names_a_missing_decision_is_refused() -> None:
    with pytest.raises(DecisionTableError, match="'ghost' is not a decision here"):
        model(service("svc", ["ghost"]))


def test_a_reference_into_another_model_is_refused() -> None:
    body = decision(
        "b",
        lit("1"),
        extra='<informationRequirement><requiredDecision href="urn:other#a"/></informationRequirement>',
    )
    with pytest.raises(DecisionTableError, match="not a local"):
        model(body)


def test_an_href_with_the_model_s_own_namespace_is_local() -> None:
    """TCK 0091: ``namespace#id`` of the model itself names one of its elements."""
    body = decision("a", lit("2")) + decision(
        "b",
        lit("a * 3"),
        extra='<informationRequirement><requiredDecision href="urn:t#a"/></informationRequirement>',
    )
    assert model(body).evaluate("b", {}) == Decimal(6)


def test_an_import_needs_the_imported_file() -> None:
    text = '<import namespace="urn:other" name="other" importType="https://www.omg.org/spec/DMN/20191111/MODEL/"/>'
    with pytest.raises(DecisionTableError, match="imports 'urn:other', which no DMN file of the same folder"):
        model(text)


def write_model(path: Path, namespace: str, body: str) -> None:
    path.write_text(
        f'<definitions xmlns="{DMN13}" id="d_{path.stem}" name="{path.stem}" namespace="{namespace}">'
        f"{body}</definitions>",
        encoding="utf-8",
    )


IMPORT = '<import namespace="urn:lib" name="lib" importType="https://www.omg.org/spec/DMN/20191111/MODEL/"/>'


def test_an_imported_model_s_decisions_functions_and_types_are_seen_qualified(tmp_path: Path) -> None:
    """TCK 0086/0089: a model of the same folder, found by namespace; ``lib.Base`` is its decision,
    ``lib.twice`` its knowledge model, ``lib.tSmall`` its item definition."""
    write_model(
        tmp_path / "lib.dmn",
        "urn:lib",
        '<itemDefinition name="tSmall"><typeRef>number</typeRef><allowedValues><text>&lt; 10</text>'
        "</allowedValues></itemDefinition>"
        + input_data("seed", "number")
        + decision("Base", lit("seed + 1"), extra=requires_input("seed"))
        + '<businessKnowledgeModel id="twice" name="twice"><encapsulatedLogic><formalParameter name="n"/>'
        + lit("n * 2")
        + "</encapsulatedLogic></businessKnowledgeModel>",
    )
    base = '<informationRequirement><requiredDecision href="urn:lib#Base"/></informationRequirement>'
    twice = '<knowledgeRequirement><requiredKnowledge href="urn:lib#twice"/></knowledgeRequirement>'
    binding = f'<binding><parameter name="n"/>{lit("lib.Base")}</binding>'
    invocation = f"<invocation>{lit('lib.twice')}{binding}</invocation>"
    write_model(
        tmp_path / "main.dmn",
        "urn:main",
        IMPORT
        + decision("top", lit("lib.Base * 10"), extra=base)
        + decision("doubled", invocation, extra=base + twice)
        + decision("small", lit("lib.Base"), extra=base, type_ref="lib.tSmall"),
    )
    decisions = load_decisions(tmp_path / "main.dmn", strict=False)
    assert sorted(decisions) == ["doubled", "small", "top"]  # the imported model is not loaded beside it
    assert decisions.evaluate("top", {"seed": 4}) == Decimal(50)
    assert decisions.evaluate("doubled", {"seed": 4}) == Decimal(10)
    assert decisions.evaluate("small", {"seed": 4}) == Decimal(5)
    assert decisions.evaluate("small", {"seed": 40}) is None  # 41 is outside lib.tSmall
    assert decisions.evaluate("top", {"lib": {"seed": 1}}) == Decimal(20)  # input data under the import name


def test_models_that_import_each_other_are_refused(tmp_path: Path) -> None:
    other = IMPORT.replace("urn:lib", "urn:main").replace('name="lib"', 'name="main"')
    write_model(tmp_path / "lib.dmn", "urn:lib", other + decision("a", lit("1")))
    write_model(tmp_path / "main.dmn", "urn:main", IMPORT + decision("b", lit("2")))
    with pytest.raises(DecisionTableError, match="import each other in a cycle"):
        load_decisions(tmp_path / "main.dmn")


# --- decision tables with FEEL ----------------------------------------------------------------------------


def table(inputs: list[str], rules: list[tuple[list[str], str]], hit_policy: str = "UNIQUE") -> str:
    columns = "".join(
        f"<input><inputExpression><text>{text}</text></inputExpression></input>" for text in inputs
    )
    rows = "".join(
        "<rule>"
        + "".join(f"<inputEntry><text>{cell}</text></inputEntry>" for cell in cells)
        + f"<outputEntry><text>{output}</text></outputEntry></rule>"
        for cells, output in rules
    )
    return f'<decisionTable hitPolicy="{hit_policy}">{columns}<output name="out"/>{rows}</decisionTable>'


def test_a_table_s_input_expression_may_be_any_feel_and_its_outputs_expressions() -> None:
    logic = table(
        ["price * quantity"], [(["&gt;= 100"], "price * quantity * 0.9"), (["&lt; 100"], "price * quantity")]
    )
    decisions = model(decision("t", logic))
    assert decisions.evaluate("t", {"price": 30, "quantity": 4}) == Decimal("108.0")
    assert decisions.decide("t", {"price": 30, "quantity": 4}) == {"out": 108}
    assert decisions.evaluate("t", {"price": 3, "quantity": 4}) == Decimal(12)
    assert decisions.inputs("t") == frozenset({"price", "quantity"})


def test_a_table_without_inputs_has_one_rule_that_always_matches() -> None:
    """TCK 0036/0035: a table with no input columns; its rule matches every time."""
    assert model(decision("t", table([], [([], '"always"')]))).evaluate("t", {}) == "always"


def test_a_date_output_is_a_date_for_feel_and_an_iso_string_for_processes() -> None:
    logic = table(["x"], [(["-"], 'date("2025-03-01")')])
    decisions = model(decision("t", logic) + decision("next", lit("t"), extra=requires("t")))
    assert decisions.decide("t", {"x": 1}) == {"out": "2025-03-01"}
    assert str(decisions.evaluate("next", {"x": 1})) == "2025-03-01"
    assert type(decisions.evaluate("t", {"x": 1})).__name__ == "date"


def test_an_input_entry_that_no_compiler_reads_is_refused_naming_the_cell() -> None:
    with pytest.raises(DecisionTableError, match="cannot read") as caught:
        model(decision("t", table(["x"], [(["[1.."], "1")])))
    assert caught.value.decision == "t"


def test_a_service_s_function_type_converts_its_result() -> None:
    """TCK 0082 decisionService_001: the service's variable is typed by a functionItem whose output type is
    string; a number result does not conform and is null."""
    body = (
        '<itemDefinition name="tService"><functionItem outputTypeRef="string"/></itemDefinition>'
        + decision("n", lit("1000"))
        + decision("s", lit('"text"'))
        + service("numeric", ["n"]).replace(
            'name="numeric">', 'name="numeric"><variable name="numeric" typeRef="tService"/>'
        )
        + service("textual", ["s"]).replace(
            'name="textual">', 'name="textual"><variable name="textual" typeRef="tService"/>'
        )
    )
    assert model(body, strict=False).evaluate_service("numeric", {}) is None
    assert model(body, strict=False).evaluate_service("textual", {}) == "text"
    with pytest.raises(DecisionError, match="does not conform to type string"):
        model(body).evaluate_service("numeric", {})


def test_a_service_argument_that_does_not_conform_means_the_service_is_not_invoked() -> None:
    """TCK 0085 decisionService_007: the output would say true for a null argument; the service never runs."""
    body = (
        decision("given", lit('"never"'), type_ref="string")
        + decision("out", lit("given = null"), extra=requires("given"))
        + service("svc", ["out"], ["given"])
        + decision("caller", lit("svc(123)"), extra=knows("svc"))
    )
    decisions = model(body, strict=False)
    assert decisions.evaluate_service("svc", {"given": "x"}) is False
    with pytest.raises(DecisionError, match="argument 'given'"):
        decisions.evaluate_service("svc", {"given": 123})
    with pytest.raises(DecisionError, match="does not conform to type string"):
        model(body).evaluate("caller", {})  # strict: the typed error (DMN 1.5: null)


def test_the_strict_mode_keeps_the_cell_grammar_for_input_entries() -> None:
    """A bare name in an input entry is refused in the strict mode (often a string meant to be quoted)."""
    with pytest.raises(DecisionTableError, match="is a name"):
        model(decision("t", table(["x"], [(["limit"], "1")])))


def test_dmn_mode_sends_input_entries_beyond_the_cell_grammar_to_the_full_unary_tests(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With ``strict=False`` an entry the cell grammar does not read is compiled by
    ``_expr.compile_unary_tests`` (given the visible names) and tested with the input and the scope once the
    rule's other cells matched. A stand-in compiler shows the wiring: ``limit`` means ``? <= limit``."""
    seen: list[frozenset[str]] = []

    def full(text: str, *, names: Any = (), strict: bool = False, **_: Any) -> CompiledTests:
        seen.append(frozenset(names))
        assert text.strip() == "limit"
        assert not strict
        return CompiledTests(text, lambda value, scope: value <= scope["limit"], frozenset({"limit"}))

    monkeypatch.setattr(_boxed, "compile_unary_tests", full)
    logic = table(["x", "y"], [(["limit", '"a"'], '"within"'), (["-", "-"], '"beyond"')], hit_policy="FIRST")
    decisions = model(input_data("limit") + decision("t", logic), strict=False)
    assert "limit" in seen[0]
    assert decisions.evaluate("t", {"x": 3, "y": "a", "limit": 5}) == "within"
    assert decisions.evaluate("t", {"x": 9, "y": "a", "limit": 5}) == "beyond"
    assert decisions.evaluate("t", {"x": 3, "y": "b", "limit": 5}) == "beyond"  # the other cell first
    assert decisions.inputs("t") == frozenset({"x", "y", "limit"})


# --- refusals one decision at a time ------------------------------------------------------------------------


def write_refusing_model(path: Path) -> Path:
    write_model(
        path,
        "urn:m",
        bkm_broken()
        + decision("good", lit("1 + 1"))
        + decision("bad", lit("1 +"))
        + decision("needs_bad", lit("bad"), extra=requires("bad"))
        + decision("calls_broken", lit("broken(1)"), extra=knows("broken")),
    )
    return path


def bkm_broken() -> str:
    return (
        '<businessKnowledgeModel id="broken" name="broken"><encapsulatedLogic><formalParameter name="a"/>'
        + lit("a +")
        + "</encapsulatedLogic></businessKnowledgeModel>"
    )


def test_a_decision_that_cannot_be_compiled_refuses_its_model_by_default(tmp_path: Path) -> None:
    path = write_refusing_model(tmp_path / "m.dmn")
    with pytest.raises(DecisionTableError, match="cannot read 'a \\+'"):
        load_decisions(path)


def test_deferred_refusals_refuse_only_the_decisions_that_cannot_be_compiled(tmp_path: Path) -> None:
    decisions = load_decisions(write_refusing_model(tmp_path / "m.dmn"), defer_refusals=True)
    assert decisions.evaluate("good", {}) == Decimal(2)
    with pytest.raises(DecisionTableError, match="cannot read '1 \\+'") as caught:
        decisions.evaluate("bad", {})
    assert caught.value.decision == "bad"
    with pytest.raises(DecisionTableError, match="cannot read '1 \\+'"):
        decisions.evaluate("needs_bad", {})  # through the decision it requires
    with pytest.raises(DecisionTableError, match="business knowledge model 'broken'"):
        decisions.evaluate("calls_broken", {})


def test_another_typed_refusal_while_compiling_is_a_decision_table_error_naming_the_decision(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A refusal the FEEL compiler raises that is not a DecisionTableError (a temporal value the engine
    cannot hold, say) names the decision too."""
    original = _boxed.compile_expression

    def compile_or_refuse(text: str, **kwargs: Any) -> Any:
        if "boom" in text:
            raise DecisionError("a value this engine cannot hold", problem="outside what this engine holds")
        return original(text, **kwargs)

    monkeypatch.setattr(_boxed, "compile_expression", compile_or_refuse)
    with pytest.raises(DecisionTableError, match="outside what this engine holds") as caught:
        model(decision("d", lit('"boom"')))
    assert caught.value.decision == "d"


def test_a_surrogate_pair_escape_is_one_character() -> None:
    """TCK 0083: ``"\\uD83D\\uDCA9"`` is U+1F4A9, in a cell and in an expression; a lone half is refused."""
    logic = table(["x"], [(['"\\uD83D\\uDCA9"'], '"pile"'), (["-"], '"other"')], hit_policy="FIRST")
    decisions = model(decision("t", logic) + decision("n", lit('string length("\\ud83d\\udca9")')))
    assert decisions.evaluate("t", {"x": "\U0001f4a9"}) == "pile"
    assert decisions.evaluate("t", {"x": "p"}) == "other"
    assert decisions.evaluate("n", {}) == Decimal(1)
    with pytest.raises(DecisionTableError, match="surrogate"):
        model(decision("t", table(["x"], [(['"\\uD83D"'], "1")])))
