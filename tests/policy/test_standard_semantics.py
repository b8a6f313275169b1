"""DMN 1.5 semantics beside the project's: unnamed outputs, decisions read by name, literal expressions,
business knowledge models, and the strict mode's typed errors where DMN gives null."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest
from tests.policy.dmn_builder import DMN13, dmn_xml

from efficacy_flow.errors import DecisionError, DecisionTableError
from efficacy_flow.policy import Decisions

Build = Callable[..., Decisions]


def _model(body: str, *, strict: bool = True) -> Decisions:
    text = f'<definitions xmlns="{DMN13}" id="defs" name="m" namespace="urn:t">{body}</definitions>'
    return Decisions.from_xml(text, path="m.dmn", strict=strict)


def _literal(decision_id: str, name: str, text: str, *, requires: str = "", knowledge: str = "") -> str:
    req = f'<informationRequirement><requiredDecision href="#{requires}"/></informationRequirement>' * bool(
        requires
    )
    kr = f'<knowledgeRequirement><requiredKnowledge href="#{knowledge}"/></knowledgeRequirement>' * bool(
        knowledge
    )
    return (
        f'<decision id="{decision_id}" name="{name}">{req}{kr}'
        f'<literalExpression id="LE_{decision_id}"><text>{text}</text></literalExpression></decision>'
    )


def test_an_unnamed_single_output_yields_its_value(dmn_table: Build) -> None:
    decisions = dmn_table(
        inputs=[("x", "number")], outputs=[""], rules=[(["< 5"], ['"low"']), ([">= 5"], ['"high"'])]
    )
    assert decisions.decide("d", {"x": 1}) == "low"
    assert decisions.evaluate("d", {"x": 7}) == "high"


def test_an_unnamed_output_of_a_multi_hit_table_yields_a_list_of_values(dmn_table: Build) -> None:
    decisions = dmn_table(outputs=[""], hit_policy="RULE ORDER", rules=[(["-"], ['"a"']), (["-"], ['"b"'])])
    assert decisions.decide("d", {"x": 1}) == ["a", "b"]


def test_named_outputs_keep_the_project_shape_but_evaluate_gives_the_dmn_value(dmn_table: Build) -> None:
    decisions = dmn_table(outputs=["grade"], rules=[(["-"], ['"A"'])])
    assert decisions.decide("d", {"x": 1}) == {"grade": "A"}  # what processes merge into their data
    assert decisions.evaluate("d", {"x": 1}) == "A"  # DMN: one output is the value itself


def test_a_required_decision_is_seen_by_its_name_as_its_value() -> None:
    table = dmn_xml(
        decision_id="base", outputs=["level"], inputs=[("x", "number")], rules=[(["-"], ['"gold"'])]
    )
    body = table[table.index("<decision ") : table.index("</definitions>")]
    decisions = _model(body + _literal("top", "Top", '"level is " + Decision base', requires="base"))
    assert decisions.decide("top", {"x": 1}) == "level is gold"


def test_a_required_decision_with_several_outputs_is_seen_as_a_context() -> None:
    table = dmn_xml(decision_id="base", outputs=["a", "b"], rules=[(["-"], ["1", "2"])])
    body = table[table.index("<decision ") : table.index("</definitions>")]
    decisions = _model(
        body + _literal("top", "Top", "Decision base.a + Decision base.b * 10", requires="base")
    )
    assert decisions.evaluate("top", {"x": 0}) == Decimal(21)
    assert decisions.decide("top", {"x": 0}) == 21  # decide gives JSON types


def test_literal_expressions_compute_in_decimal() -> None:
    decisions = _model(
        _literal("sum", "Sum", "0.1 + 0.2") + _literal("pay", "Pay", "(p*r/12)/(1-(1+r/12)**-n)")
    )
    assert decisions.evaluate("sum", {}) == Decimal("0.3")
    payment = decisions.evaluate("pay", {"p": 600000, "r": Decimal("0.0375"), "n": 360})
    assert abs(payment - Decimal("2778.693549432766768088520383236299")) < Decimal("1e-20")


def test_names_with_spaces_declared_by_the_model_are_one_name() -> None:
    body = '<inputData id="i" name="Full Name"/>' + _literal("g", "Greeting", '"Hello " + Full Name')
    assert _model(body).decide("g", {"Full Name": "Ada"}) == "Hello Ada"


def test_a_business_knowledge_model_is_called_by_name() -> None:
    bkm = (
        '<businessKnowledgeModel id="b" name="Double"><encapsulatedLogic>'
        '<formalParameter name="v"/><literalExpression><text>v * 2</text></literalExpression>'
        "</encapsulatedLogic></businessKnowledgeModel>"
    )
    decisions = _model(bkm + _literal("d", "D", "Double(x) + 1", knowledge="b"))
    assert decisions.decide("d", {"x": 4}) == 9


def test_feel_errors_are_null_in_dmn_mode_and_typed_errors_in_strict_mode() -> None:
    text = (
        _literal("d", "D", "(10 + 20) / 0") + _literal("e", "E", '1 + "a"') + _literal("n", "N", "null + 1")
    )
    standard = _model(text, strict=False)
    assert standard.evaluate("d", {}) is None
    assert standard.evaluate("e", {}) is None
    strict = _model(text)
    with pytest.raises(DecisionError, match="has no value"):
        strict.decide("d", {})
    with pytest.raises(DecisionError, match="not defined"):
        strict.decide("e", {})
    assert strict.decide("n", {}) is None  # null in, null out: not an error


def test_three_valued_logic() -> None:
    decisions = _model(_literal("and", "And", "a and b") + _literal("or", "Or", "a or b"), strict=False)
    assert decisions.evaluate("and", {"a": False, "b": None}) is False
    assert decisions.evaluate("and", {"a": True, "b": None}) is None
    assert decisions.evaluate("or", {"a": True, "b": None}) is True
    assert decisions.evaluate("or", {"a": False, "b": None}) is None


@pytest.mark.parametrize(
    "text",
    [
        "for x in [1, 2]",
        "{a: 1",
        "[1, 2",
        "x in",
        "some x in y",
        "if x then y",
        'function(a) external {java: {class: "java.lang.Math", method signature: "abs(int)"}}',
        "1 instance of",
    ],
)
def test_unsupported_feel_is_refused_at_load_naming_the_decision(text: str) -> None:
    with pytest.raises(DecisionTableError) as caught:
        _model(_literal("d", "D", text))
    assert caught.value.decision == "d"
    assert caught.value.cell == "LE_d"


def test_only_feel_functions_can_be_called() -> None:
    strict = _model(_literal("d", "D", "__import__(1)"))
    with pytest.raises(DecisionError, match="not a function"):
        strict.evaluate("d", {})
    assert _model(_literal("d", "D", "__import__(1)"), strict=False).evaluate("d", {}) is None


def test_an_equality_of_different_kinds_is_null_or_a_typed_error_in_strict_mode() -> None:
    lenient = _model(_literal("d", "D", 'x = "1"'), strict=False)
    assert lenient.evaluate("d", {"x": 1}) is None  # DMN 1.5 10.3.2.2: different kinds are not comparable
    strict = _model(_literal("d", "D", 'x = "1"'))
    with pytest.raises(DecisionError, match="number = string cannot be compared"):
        strict.evaluate("d", {"x": 1})


def test_decide_gives_times_and_durations_as_their_feel_strings() -> None:
    xml = (
        f'<definitions xmlns="{DMN13}" id="d" name="d" namespace="t"><decision id="when" name="when">'
        '<literalExpression><text>[duration("P1DT2H"), duration("-P2Y3M"), time("10:30:00"), '
        'date and time("2020-01-01T10:00:00Z"), date("2020-01-02")]</text></literalExpression>'
        "</decision></definitions>"
    )
    decisions = Decisions.from_xml(xml, strict=False)
    assert decisions.decide("when", {}) == [
        "P1DT2H",
        "-P2Y3M",
        "10:30:00",
        "2020-01-01T10:00:00+00:00",
        "2020-01-02",
    ]  # JSON types, for process data; evaluate keeps the FEEL values
    assert type(decisions.evaluate("when", {})[0]).__name__ == "DayTimeDuration"
