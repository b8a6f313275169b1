"""FEEL functions (DMN 1.5 10.3.2.13, 10.3.4): function literals as closures, invocation with positional and
named arguments of lambdas, knowledge models, context entries and built-ins; ``external`` is refused;
``instance of`` asks ``_feel_types``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

import pytest

from efficacy_flow.policy import _feel_builtins, _feel_types
from efficacy_flow.policy._expr import FeelError, compile_expression
from efficacy_flow.policy._feel import FeelSyntaxError
from efficacy_flow.policy._feel_values import FeelFunction as FeelFunctionBase
from efficacy_flow.policy._feel_values import LambdaFunction


def feel(text: str, scope: dict[str, Any] | None = None, **kwargs: Any) -> Any:
    return compile_expression(text, **kwargs).evaluate(scope or {})


def test_function_literals() -> None:
    assert feel("(function(a, b) a + b)(1, 2)") == Decimal(3)
    assert feel("(function() 42)()") == Decimal(42)
    assert feel("(function(a, b) a - b)(b: 1, a: 5)") == Decimal(4)
    assert feel("(function(a, b) b)(a: 1)") is None  # a parameter not given is null
    function = feel("function(x) x * 2")
    assert isinstance(function, LambdaFunction)
    assert function.parameters == ("x",)
    assert function([Decimal(4)]) == Decimal(8)


def test_a_function_literal_closes_over_its_scope() -> None:
    assert feel("{k: 3, f: function(x) x * k}.f(2)") == Decimal(6)
    assert feel("(for k in [1, 2] return function(x) x + k)[2](10)") == Decimal(12)
    assert feel("{add: function(a) function(b) a + b, add2: add(2)}.add2(5)") == Decimal(7)


def test_a_context_entry_function_may_recurse() -> None:
    assert feel("{fact: function(n) if n <= 1 then 1 else n * fact(n - 1)}.fact(10)") == Decimal(3628800)


def test_runaway_recursion_is_null_or_an_error_in_strict_mode() -> None:
    text = "{f: function(n) f(n + 1)}.f(1)"
    assert feel(text) is None
    with pytest.raises(FeelError, match="recurse"):
        feel(text, strict=True)


@pytest.mark.parametrize(
    "text",
    [
        "(function(a) a)(1, 2)",  # too many arguments
        "(function(a) a)(b: 1)",  # no such parameter
        "(5)(1)",  # not a function
        '"f"(1)',
    ],
)
def test_an_invocation_without_a_value_is_null_or_an_error_in_strict_mode(text: str) -> None:
    assert feel(text) is None
    with pytest.raises(FeelError):
        feel(text, strict=True)


def test_named_arguments_given_twice_are_refused() -> None:
    with pytest.raises(FeelSyntaxError, match="twice"):
        compile_expression("(function(a) a)(a: 1, a: 2)")
    with pytest.raises(FeelSyntaxError, match="twice"):
        compile_expression("function(a, a) a")


def test_knowledge_models_are_called_by_name() -> None:
    fee = LambdaFunction("Fee", ("amount", "rate"), lambda scope: scope["amount"] * scope["rate"])
    compiled = compile_expression("Fee(100, 0.5) + Fee(rate: 2, amount: 3)", functions={"Fee": fee})
    assert compiled.evaluate({}) == Decimal(56)
    assert compiled.reads == set()  # a knowledge model is no input
    assert compile_expression("string length(s) + abs(n)").reads == {"s", "n"}  # nor is a built-in
    assert feel("Fee", functions={"Fee": fee}) is fee  # a function is a value too


def test_external_functions_are_refused() -> None:
    with pytest.raises(FeelSyntaxError, match="external"):
        compile_expression(
            'function(a) external {java: {class: "java.lang.Math", method signature: "abs(int)"}}'
        )


class _Echo(FeelFunctionBase):
    """A test double of a built-in: returns what it was given."""

    name = "echo"
    parameters = ("a", "b")

    def invoke(self, positional: Sequence[Any] | None, named: Mapping[str, Any] | None) -> Any:
        if positional is not None:
            return ["positional", list(positional)]
        return ["named", dict(named or {})]


class _Failing(FeelFunctionBase):
    name = "failing"
    parameters = ("a",)

    def invoke(self, positional: Sequence[Any] | None, named: Mapping[str, Any] | None) -> Any:
        raise FeelError("failing has no value")


def test_built_ins_of_the_library_are_called_with_positional_or_named_arguments(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    library = {"echo this": _Echo(), "failing": _Failing()}
    monkeypatch.setattr(_feel_builtins, "BUILTINS", library)
    assert feel("echo this(1, 2)") == ["positional", [Decimal(1), Decimal(2)]]
    assert feel('echo   this(b: "x", a: null)') == ["named", {"b": "x", "a": None}]
    assert feel("failing(1)") is None
    with pytest.raises(FeelError, match="failing has no value"):
        feel("failing(1)", strict=True)


def test_the_library_overrides_this_module_s_stop_gap_built_ins(monkeypatch: pytest.MonkeyPatch) -> None:
    assert feel('string length("abc")') == Decimal(3)
    monkeypatch.setattr(_feel_builtins, "BUILTINS", {"string length": _Echo()})
    assert feel('string length("abc")') == ["positional", ["abc"]]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('string length("abc")', Decimal(3)),
        ('upper case("abc")', "ABC"),
        ('lower case(string: "ABC")', "abc"),
        ('contains("abc", "b")', True),
        ('starts with("abc", "ab")', True),
        ('ends with("abc", "bc")', True),
        ("abs(-2)", Decimal(2)),
        ("not(false)", True),
        ("not(null)", None),
        ("string length(null)", None),
        ('abs("x")', None),
    ],
)
def test_stop_gap_built_ins(text: str, expected: Any) -> None:
    assert feel(text) == expected


def test_instance_of_asks_the_types_module(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[str] = []

    def parse_type(text: str, named: Any = None) -> _feel_types.FeelType:
        seen.append(text)
        if text == "nonsense":
            raise FeelError("no such type")
        return _feel_types.FeelType(text)

    def conforms(value: Any, type_: _feel_types.FeelType) -> bool:
        return type_.name == "number" and isinstance(value, Decimal)

    monkeypatch.setattr(_feel_types, "parse_type", parse_type)
    monkeypatch.setattr(_feel_types, "conforms", conforms)
    assert feel("1 instance of number") is True
    assert feel('"a" instance of number') is False
    assert feel("x instance of date and time", {"x": 1}) is False
    assert feel("[1] instance of list<number>") is False
    compile_expression("f instance of function<number, string>->context<a: number, b c: date>")
    assert seen == [
        "number",
        "number",
        "date and time",
        "list<number>",
        "function<number, string>->context<a: number, b c: date>",
    ]
    with pytest.raises(FeelSyntaxError, match="no such type"):
        compile_expression("1 instance of nonsense")
    assert feel("[1 instance of number]") == [True]
    compile_expression("x instance of context<> or x instance of function<> -> Any")
    assert seen[-2:] == ["context<>", "function<>->Any"]


def test_instance_of_knows_the_model_s_item_definitions(monkeypatch: pytest.MonkeyPatch) -> None:
    given: list[Any] = []

    def parse_type(text: str, named: Any = None) -> _feel_types.FeelType:
        given.append((text, named))
        return (named or {}).get(text) or _feel_types.FeelType(text)

    monkeypatch.setattr(_feel_types, "parse_type", parse_type)
    monkeypatch.setattr(_feel_types, "conforms", lambda value, type_: type_.name == "list")
    person = _feel_types.FeelType("list")
    compiled = compile_expression("x instance of t Person List", types={"t Person List": person})
    assert compiled.evaluate({"x": []}) is True
    assert given == [("t Person List", {"t Person List": person})]


def test_typed_parameters_check_their_arguments(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_feel_types, "parse_type", lambda text, named=None: _feel_types.FeelType(text))
    monkeypatch.setattr(_feel_types, "conforms", lambda value, type_: isinstance(value, Decimal))
    assert feel("(function(a: number, b) a)(1, 2)") == Decimal(1)
    assert feel('(function(a: number) a)("x")') is None


def test_a_knowledge_model_may_use_built_ins_and_local_names() -> None:
    """The loader refuses a knowledge model that reads names other than its parameters: built-ins and local
    names are not such reads."""
    from efficacy_flow.policy import Decisions

    body = "abs(v) + (function(k) k * 2)(v) + (for i in [v] return i)[1] + {w: v}.w"
    bkm = (
        '<businessKnowledgeModel id="b" name="Calc"><encapsulatedLogic>'
        f'<formalParameter name="v"/><literalExpression><text>{body}</text></literalExpression>'
        "</encapsulatedLogic></businessKnowledgeModel>"
    )
    decision = (
        '<decision id="d" name="D">'
        '<knowledgeRequirement><requiredKnowledge href="#b"/></knowledgeRequirement>'
        '<literalExpression id="LE_d"><text>Calc(x)</text></literalExpression></decision>'
    )
    namespace = "https://www.omg.org/spec/DMN/20191111/MODEL/"
    text = (
        f'<definitions xmlns="{namespace}" id="defs" name="m" namespace="urn:t">{bkm}{decision}</definitions>'
    )
    assert Decisions.from_xml(text, path="m.dmn").decide("d", {"x": -3}) == 3 - 6 - 3 - 3
