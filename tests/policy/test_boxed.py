"""Boxed expressions (DMN 1.5 chapter 7 and 10.2–10.3) in decisions and knowledge models: contexts,
relations, lists, invocations, function definitions, conditionals, filters, iterators and nested tables;
their refusals at load and their errors (null, or typed in strict mode)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from tests.policy.dmn_builder import DMN13

from efficacy_flow.errors import DecisionError, DecisionTableError
from efficacy_flow.policy import Decisions


def model(body: str, *, strict: bool = True) -> Decisions:
    text = f'<definitions xmlns="{DMN13}" id="defs" name="m" namespace="urn:t">{body}</definitions>'
    return Decisions.from_xml(text, path="m.dmn", strict=strict)


def lit(text: str) -> str:
    return f"<literalExpression><text>{text}</text></literalExpression>"


def decision(decision_id: str, logic: str, *, extra: str = "", type_ref: str = "") -> str:
    typed = f' typeRef="{type_ref}"' if type_ref else ""
    return (
        f'<decision id="{decision_id}" name="{decision_id}"><variable name="{decision_id}"{typed}/>'
        f"{extra}{logic}</decision>"
    )


def entry(name: str | None, logic: str, type_ref: str = "") -> str:
    typed = f' typeRef="{type_ref}"' if type_ref else ""
    variable = f'<variable name="{name}"{typed}/>' if name is not None else ""
    return f"<contextEntry>{variable}{logic}</contextEntry>"


def knows(*ids: str) -> str:
    return "".join(
        f'<knowledgeRequirement><requiredKnowledge href="#{i}"/></knowledgeRequirement>' for i in ids
    )


def bkm(model_id: str, parameters: list[str], logic: str, *, requires: tuple[str, ...] = ()) -> str:
    formal = "".join(f'<formalParameter name="{p}"/>' for p in parameters)
    return (
        f'<businessKnowledgeModel id="{model_id}" name="{model_id}">{knows(*requires)}'
        f"<encapsulatedLogic>{formal}{logic}</encapsulatedLogic></businessKnowledgeModel>"
    )


# --- contexts, relations, lists -----------------------------------------------------------------------------


def test_a_context_s_entries_see_the_earlier_ones_and_a_last_unnamed_entry_is_its_value() -> None:
    entries = entry("a", lit("x + 1")) + entry("b", lit("a * 2"))
    decisions = model(
        decision("c", f"<context>{entries}{entry(None, lit('b - a'))}</context>")
        + decision("d", f"<context>{entries}</context>")
    )
    assert decisions.evaluate("c", {"x": 2}) == Decimal(3)
    assert decisions.evaluate("d", {"x": 2}) == {"a": Decimal(3), "b": Decimal(6)}
    assert decisions.decide("d", {"x": 2}) == {"a": 3, "b": 6}  # JSON types for processes
    assert decisions.inputs("c") == frozenset({"x"})  # a and b are the context's own


def test_contexts_nest_and_an_entry_with_a_typeref_is_converted() -> None:
    inner = f"<context>{entry('n', lit('x'))}</context>"
    decisions = model(
        decision("c", f"<context>{entry('inner', inner)}{entry('s', lit('x'), 'string')}</context>"),
        strict=False,
    )
    assert decisions.evaluate("c", {"x": 5}) == {"inner": {"n": Decimal(5)}, "s": None}  # 5 is no string
    assert decisions.evaluate("c", {"x": "five"}) == {"inner": {"n": "five"}, "s": "five"}


def test_only_the_last_context_entry_may_go_without_a_variable() -> None:
    with pytest.raises(DecisionTableError, match="only the last entry") as caught:
        model(decision("c", f"<context>{entry(None, lit('1'))}{entry('a', lit('2'))}</context>"))
    assert caught.value.decision == "c"


def test_a_relation_is_a_list_of_contexts_and_a_list_a_list() -> None:
    relation = (
        '<relation><column name="name"/><column name="age"/>'
        f"<row>{lit('&quot;Ada&quot;')}{lit('x')}</row><row>{lit('&quot;Bo&quot;')}{lit('x + 1')}</row>"
        "</relation>"
    )
    decisions = model(decision("r", relation) + decision("l", f"<list>{lit('x')}{lit('x * x')}</list>"))
    assert decisions.evaluate("r", {"x": 3}) == [
        {"name": "Ada", "age": Decimal(3)},
        {"name": "Bo", "age": Decimal(4)},
    ]
    assert decisions.evaluate("l", {"x": 3}) == [Decimal(3), Decimal(9)]


def test_a_relation_row_needs_a_cell_per_column() -> None:
    with pytest.raises(DecisionTableError, match="1 cells for 2 columns"):
        model(
            decision("r", f'<relation><column name="a"/><column name="b"/><row>{lit("1")}</row></relation>')
        )


# --- invocations and functions ------------------------------------------------------------------------------


def invocation(name: str, **bindings: str) -> str:
    bound = "".join(
        f'<binding><parameter name="{key}"/>{lit(value) if value else ""}</binding>'
        for key, value in bindings.items()
    )
    return f"<invocation>{lit(name)}{bound}</invocation>"


def test_an_invocation_binds_a_knowledge_model_s_parameters_by_name() -> None:
    decisions = model(
        bkm("scale", ["a", "b"], lit("a * 10 + b"))
        + decision("i", invocation("scale", b="y", a="x"), extra=knows("scale"))
        + decision("n", invocation("scale", a="x", b=""), extra=knows("scale")),
        strict=False,
    )
    assert decisions.evaluate("i", {"x": 2, "y": 3}) == Decimal(23)
    assert decisions.evaluate("n", {"x": 2}) is None  # a binding without an expression passes null


def test_an_invocation_of_no_visible_function_is_refused_at_load() -> None:
    with pytest.raises(DecisionTableError, match="no function named 'ghost'"):
        model(decision("i", invocation("ghost", a="1")))


def test_an_invocation_with_an_unknown_parameter_is_an_error() -> None:
    text = bkm("f", ["a"], lit("a")) + decision("i", invocation("f", zz="1"), extra=knows("f"))
    assert model(text, strict=False).evaluate("i", {}) is None
    with pytest.raises(DecisionError, match="no parameter 'zz'"):
        model(text).evaluate("i", {})


def function_definition(parameters: list[str], body: str, kind: str = "") -> str:
    formal = "".join(f'<formalParameter name="{p}" typeRef="number"/>' for p in parameters)
    kind_attribute = f' kind="{kind}"' if kind else ""
    return f"<functionDefinition{kind_attribute}>{formal}{body}</functionDefinition>"


def test_a_context_may_define_a_function_its_later_entries_invoke() -> None:
    body = (
        f"<context>{entry('offset', lit('x'))}"
        f"{entry('add', function_definition(['a'], lit('a + offset')))}"
        f"{entry(None, invocation('add', a='5'))}</context>"
    )
    decisions = model(decision("f", body), strict=False)
    assert decisions.evaluate("f", {"x": 1}) == Decimal(6)  # the function closes over offset
    assert decisions.evaluate("f", {"x": None}) is None


def test_typed_function_parameters_are_converted() -> None:
    body = (
        f"<context>{entry('twice', function_definition(['a'], lit('a * 2')))}"
        f"{entry(None, invocation('twice', a='x'))}</context>"
    )
    decisions = model(decision("f", body), strict=False)
    assert decisions.evaluate("f", {"x": 4}) == Decimal(8)
    assert decisions.evaluate("f", {"x": "4"}) is None  # a string does not conform to number: null
    with pytest.raises(DecisionError, match="does not conform to type number"):
        model(decision("f", body)).evaluate("f", {"x": "4"})


@pytest.mark.parametrize("kind", ["Java", "PMML"])
def test_java_and_pmml_functions_are_refused_at_load(kind: str) -> None:
    body = f"<context>{entry('f', function_definition(['a'], lit('a'), kind))}</context>"
    with pytest.raises(DecisionTableError, match=f"function of kind {kind} is not supported") as caught:
        model(decision("f", body))
    assert caught.value.decision == "f"


def test_a_knowledge_model_may_require_another_and_may_recurse() -> None:
    decisions = model(
        bkm("double", ["n"], lit("n * 2"))
        + bkm("quad", ["n"], lit("double(double(n))"), requires=("double",))
        + bkm("fact", ["n"], lit("if n &lt;= 1 then 1 else n * fact(n - 1)"), requires=("fact",))
        + decision("q", lit("quad(x) + fact(5)"), extra=knows("quad", "fact"))
    )
    assert decisions.evaluate("q", {"x": 3}) == Decimal(12 + 120)


def test_a_knowledge_model_whose_logic_is_a_decision_table_reads_its_parameters() -> None:
    table = (
        '<decisionTable hitPolicy="FIRST"><input><inputExpression><text>age</text></inputExpression></input>'
        '<output name="band"/>'
        "<rule><inputEntry><text>&lt; 18</text></inputEntry>"
        '<outputEntry><text>"minor"</text></outputEntry></rule>'
        '<rule><inputEntry><text>-</text></inputEntry><outputEntry><text>"adult"</text></outputEntry></rule>'
        "</decisionTable>"
    )
    decisions = model(bkm("band", ["age"], table) + decision("b", lit("band(x)"), extra=knows("band")))
    assert decisions.evaluate("b", {"x": 12}) == "minor"
    assert decisions.evaluate("b", {"x": 40}) == "adult"


def test_a_knowledge_model_without_logic_is_refused() -> None:
    text = '<businessKnowledgeModel id="k" name="k"/>' + decision("d", lit("1"))
    with pytest.raises(DecisionTableError, match="has no encapsulatedLogic"):
        model(text)


# --- conditionals, filters, iterators -----------------------------------------------------------------------


def part(name: str, text: str) -> str:
    return f"<{name}>{lit(text)}</{name}>"


def test_a_boxed_conditional_chooses_by_a_boolean_and_an_other_condition_is_an_error() -> None:
    branches = part("then", "&quot;yes&quot;") + part("else", "&quot;no&quot;")
    logic = f"<conditional>{part('if', 'x')}{branches}</conditional>"
    decisions = model(decision("c", logic), strict=False)
    assert decisions.evaluate("c", {"x": True}) == "yes"
    assert decisions.evaluate("c", {"x": False}) == "no"
    assert decisions.evaluate("c", {"x": None}) == "no"
    assert decisions.evaluate("c", {"x": "abc"}) is None  # TCK 1150: not a boolean
    with pytest.raises(DecisionError, match="not a boolean"):
        model(decision("c", logic)).evaluate("c", {"x": "abc"})


def test_a_boxed_filter_keeps_the_items_whose_match_is_true() -> None:
    decisions = model(
        decision("f", f"<filter>{part('in', 'xs')}{part('match', 'item > 2')}</filter>")
        + decision("g", f"<filter>{part('in', 'people')}{part('match', 'age >= 18')}</filter>")
        + decision(
            "h", f"<filter>{part('in', 'xs')}{part('match', 'if item > 2 then true else 1')}</filter>"
        ),
        strict=False,
    )
    assert decisions.evaluate("f", {"xs": [1, 2, 3, 4]}) == [Decimal(3), Decimal(4)]
    assert decisions.evaluate("f", {"xs": []}) == []
    people = [{"name": "a", "age": 17}, {"name": "b", "age": 30}]
    assert decisions.evaluate("g", {"people": people}) == [{"name": "b", "age": Decimal(30)}]
    assert decisions.evaluate("h", {"xs": [1, 3]}) is None  # a match that is not a boolean is an error


def test_a_boxed_for_returns_a_value_per_item() -> None:
    logic = f'<for iteratorVariable="n">{part("in", "xs")}{part("return", "n * 2")}</for>'
    decisions = model(decision("f", logic))
    assert decisions.evaluate("f", {"xs": [1, 2, 3]}) == [Decimal(2), Decimal(4), Decimal(6)]
    assert decisions.evaluate("f", {"xs": 5}) == [Decimal(10)]  # a single value is a singleton list
    assert decisions.inputs("f") == frozenset({"xs"})


@pytest.mark.parametrize(
    ("quantifier", "items", "expected"),
    [
        ("every", [3, 4], True),
        ("every", [1, 4], False),
        ("every", [], True),
        ("some", [1, 4], True),
        ("some", [1, 2], False),
        ("some", [], False),
    ],
)
def test_boxed_every_and_some(quantifier: str, items: list[int], expected: bool) -> None:
    logic = (
        f'<{quantifier} iteratorVariable="n">{part("in", "xs")}{part("satisfies", "n > 2")}</{quantifier}>'
    )
    assert model(decision("q", logic)).evaluate("q", {"xs": items}) is expected


def test_a_quantifier_over_values_that_are_not_booleans_is_an_error() -> None:
    logic = f'<some iteratorVariable="n">{part("in", "xs")}{part("satisfies", "n")}</some>'
    assert model(decision("q", logic), strict=False).evaluate("q", {"xs": [1]}) is None
    with pytest.raises(DecisionError, match="not a boolean"):
        model(decision("q", logic)).evaluate("q", {"xs": [1]})


def test_an_iterator_without_its_variable_is_refused() -> None:
    with pytest.raises(DecisionTableError, match="has no iteratorVariable"):
        model(decision("f", f"<for>{part('in', 'xs')}{part('return', '1')}</for>"))


def test_an_expression_in_another_language_is_refused_naming_the_decision() -> None:
    python = "<literalExpression expressionLanguage='python'><text>1</text></literalExpression>"
    with pytest.raises(DecisionTableError, match="expression language 'python' is not supported") as caught:
        model(decision("c", f"<context>{entry('a', python)}</context>"))
    assert caught.value.decision == "c"


# --- typeRefs of expressions and parameters (DMN 1.5 10.3.2.9.4, TCK 0082) ---------------------------------


def typed_bkm(model_id: str, parameter_type: str, logic: str) -> str:
    return (
        f'<businessKnowledgeModel id="{model_id}" name="{model_id}"><encapsulatedLogic>'
        f'<formalParameter name="p" typeRef="{parameter_type}"/>{logic}</encapsulatedLogic>'
        "</businessKnowledgeModel>"
    )


def test_an_argument_that_does_not_conform_means_the_function_is_not_invoked() -> None:
    """TCK 0082 decision_bkm_002: the knowledge model is never invoked (its body would say true)."""
    body = typed_bkm("k", "number", lit("p = null")) + decision("d", invocation("k", p="x"), extra=knows("k"))
    decisions = model(body, strict=False)
    assert decisions.evaluate("d", {"x": 1}) is False
    assert decisions.evaluate("d", {"x": "one"}) is None
    with pytest.raises(DecisionError, match="argument 'p'"):
        model(body).evaluate("d", {"x": "one"})


def test_the_typeref_of_an_expression_converts_its_value() -> None:
    """TCK 0082: a literal expression typed as a list makes an element a singleton list; an invocation typed
    string makes a boolean null; a typed list's items."""
    numbers = '<itemDefinition name="tNumbers" isCollection="true"><typeRef>number</typeRef></itemDefinition>'
    body = (
        numbers
        + bkm("k", ["p"], lit("p > 1"))
        + decision("listed", '<literalExpression typeRef="tNumbers"><text>x</text></literalExpression>')
        + decision("single", '<literalExpression typeRef="number"><text>x</text></literalExpression>')
        + decision(
            "invoked",
            invocation("k", p="x").replace("<invocation>", '<invocation typeRef="string">'),
            extra=knows("k"),
        )
    )
    decisions = model(body, strict=False)
    assert decisions.evaluate("listed", {"x": 10}) == [Decimal(10)]
    assert decisions.evaluate("listed", {"x": "ten"}) is None
    assert decisions.evaluate("single", {"x": [10]}) == Decimal(10)
    assert decisions.evaluate("invoked", {"x": 2}) is None  # true is no string


def test_a_knowledge_model_s_table_reads_a_parameter_whose_name_has_a_dot() -> None:
    """TCK 0037: the parameter ``Person.Gender`` is one name, which the table's input expression reads."""
    table = (
        '<decisionTable><input><inputExpression typeRef="string"><text>Person.Gender</text></inputExpression>'
        '</input><output name="o"/><rule><inputEntry><text>"Male"</text></inputEntry>'
        '<outputEntry><text>"he"</text></outputEntry></rule><rule><inputEntry><text>"Female"</text>'
        '</inputEntry><outputEntry><text>"she"</text></outputEntry></rule></decisionTable>'
    )
    body = bkm("pronoun", ["Person.Gender"], table) + decision(
        "d", invocation("pronoun", **{"Person.Gender": "g"}), extra=knows("pronoun")
    )
    assert model(body).evaluate("d", {"g": "Female"}) == "she"


def test_a_nested_table_s_refusal_names_the_knowledge_model() -> None:
    table = (
        '<decisionTable hitPolicy="BOGUS"><input><inputExpression><text>a</text></inputExpression></input>'
        '<output name="o"/></decisionTable>'
    )
    with pytest.raises(DecisionTableError, match="unknown hit policy") as caught:
        model(bkm("k", ["a"], table) + decision("d", lit("1")))
    assert caught.value.decision == "k"
