"""Runs the vendored DMN TCK (tests/policy/tck/) against efficacy_flow.policy.

Each result node of each test case is one result: PASS (the value is the expected one, by the TCK's rules),
REFUSED (the project raised its typed refusal: ``EfficacyFlowError`` at load or at evaluation), WRONG (a value
that is not the expected one) or CRASH (any other exception). ``python -m tests.policy.tck_runner`` prints the
summary line and the refusals grouped by what was refused.
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import cache
from pathlib import Path
from typing import Any, Final

from lxml import etree

from efficacy_flow.errors import DecisionError, DecisionTableError, EfficacyFlowError
from efficacy_flow.policy import Decisions, _feel_temporal, _feel_values, load_decisions
from efficacy_flow.policy._feel_temporal import DayTimeDuration, FeelTime, YearMonthDuration
from efficacy_flow.policy._feel_values import FeelError
from efficacy_flow.policy._feel_values import kind as feel_kind

TCK: Final = Path(__file__).parent / "tck"
LEVELS: Final = {2: TCK / "compliance-level-2", 3: TCK / "compliance-level-3"}

_TEST_NS: Final = "{http://www.omg.org/spec/DMN/20160719/testcase}"
_XSI: Final = "{http://www.w3.org/2001/XMLSchema-instance}"
_NUMBER_TYPES: Final = frozenset({"decimal", "double", "float", "integer", "int", "long", "short", "byte"})
#: Numbers are equal when they differ by less than this, relative to the expected value (at least 1): the
#: TCK's expected values carry up to 34 digits (decimal128), more than a float result holds.
TOLERANCE: Final = Decimal("1e-9")
#: An expected number written with at least this many significant digits and a fraction is read as rounded to
#: its last digit (the TCK writes ``exp(-1)`` as ``0.36787944``): a result within half a unit of that digit
#: matches. Shorter expected values (``1``, ``0.5``) get only ``TOLERANCE``, so a rounded-off wrong answer
#: never passes.
ROUNDED_DIGITS: Final = 8

#: Load a model's decisions one by one (``load_decisions(defer_refusals=True)``): a decision that cannot be
#: compiled is refused alone (when it is evaluated), not with every other decision of its model.
DEFER_REFUSALS: Final = True

#: The outcomes of each level run in this process (the terminal summary prints them).
RECORDED: dict[int, Sequence[Outcome]] = {}

PASS: Final = "pass"
REFUSED: Final = "refused"
WRONG: Final = "wrong"
CRASH: Final = "crash"


@dataclass(frozen=True, slots=True)
class Outcome:
    """One result node of one test case."""

    folder: str
    case: str
    result: str
    status: str
    detail: str = ""

    def __str__(self) -> str:
        return f"{self.folder} case {self.case} {self.result!r}: {self.status.upper()} {self.detail}"


class Untyped:
    """An expected value of an XML Schema type the runner does not model (it equals nothing)."""

    def __init__(self, kind: str, text: str) -> None:
        self.kind = kind
        self.text = text

    def __repr__(self) -> str:
        return f"{self.kind}({self.text!r})"


# --- reading test files -------------------------------------------------------------------------------------


def _nil(element: Any) -> bool:
    return element.get(f"{_XSI}nil") == "true"


def read_value(element: Any) -> Any:
    """The value of a testCases.xsd ``valueType`` element (inputNode, expected, component, item)."""
    if _nil(element):
        return None
    value = element.find(f"{_TEST_NS}value")
    if value is not None:
        return _scalar(value)
    listed = element.find(f"{_TEST_NS}list")
    if listed is not None:
        if _nil(listed):
            return None
        return [read_value(item) for item in listed.findall(f"{_TEST_NS}item")]
    components = element.findall(f"{_TEST_NS}component")
    if components:
        return {component.get("name"): read_value(component) for component in components}
    return None


def _scalar(element: Any) -> Any:
    if _nil(element):
        return None
    kind = (element.get(f"{_XSI}type") or "").rpartition(":")[2]
    text = element.text or ""
    if kind == "string":
        return text
    if kind in _NUMBER_TYPES:
        try:
            return Decimal(text.strip())
        except InvalidOperation:
            return Untyped(kind, text)
    if kind == "boolean":
        return text.strip() == "true"
    if kind == "date":
        try:
            return date.fromisoformat(text.strip())
        except ValueError:
            return Untyped(kind, text)
    if kind in _TEMPORAL_TYPES:
        return _temporal(kind, text)
    return Untyped(kind or "untyped", text)


#: XML Schema temporal types → the FEEL kinds their lexical forms may hold.
_TEMPORAL_TYPES: Final = {
    "dateTime": ("date and time",),
    "time": ("time",),
    "duration": ("days and time duration", "years and months duration"),
}


def _temporal(kind: str, text: str) -> Any:
    """An xsd ``dateTime``, ``time`` or ``duration`` read as FEEL reads its ``@"…"`` literal; a value the
    engine cannot hold (a year beyond 9999, nanoseconds) or of another form is Untyped (it equals nothing)."""
    try:
        value = _feel_temporal.parse_at_literal(text.strip())
    except (FeelError, EfficacyFlowError):
        return Untyped(kind, text)
    return value if feel_kind(value) in _TEMPORAL_TYPES[kind] else Untyped(kind, text)


@dataclass(frozen=True, slots=True)
class ResultNode:
    name: str
    expected: Any
    error: bool


@dataclass(frozen=True, slots=True)
class TestCase:
    case: str
    kind: str
    inputs: Mapping[str, Any]
    results: tuple[ResultNode, ...]
    #: What a ``decisionService`` (or ``bkm``) test case invokes, by name.
    invocable: str = ""


def read_tests(path: Path) -> list[TestCase]:
    root = etree.parse(str(path)).getroot()
    cases = []
    for number, element in enumerate(root.findall(f"{_TEST_NS}testCase"), 1):
        inputs = {node.get("name"): read_value(node) for node in element.findall(f"{_TEST_NS}inputNode")}
        results = []
        for node in element.findall(f"{_TEST_NS}resultNode"):
            expected = node.find(f"{_TEST_NS}expected")
            results.append(
                ResultNode(
                    node.get("name") or "",
                    read_value(expected) if expected is not None else None,
                    node.get("errorResult") == "true",
                )
            )
        cases.append(
            TestCase(
                element.get("id") or str(number),
                element.get("type") or "decision",
                inputs,
                tuple(results),
                element.get("invocableName") or "",
            )
        )
    return cases


def decision_ids_by_name(folder: Path, element: str = "decision") -> dict[str, str]:
    """Each decision's (or ``element``'s: ``decisionService``) name → its id, over the models the tests
    run against."""
    names: dict[str, str] = {}
    source = model_file(folder)
    for model in [source] if source.is_file() else sorted(folder.glob("*.dmn")):
        for found in etree.parse(str(model)).getroot().iter(f"{{*}}{element}"):
            name = (found.get("name") or "").strip()
            names.setdefault(name, found.get("id") or name)
    return names


# --- comparing ----------------------------------------------------------------------------------------------


def same(expected: Any, got: Any) -> bool:
    """Whether ``got`` is ``expected`` by the TCK's rules (numbers as decimals, lists in order, contexts)."""
    if expected is None:
        return got is None
    if isinstance(expected, bool):
        return type(got) is bool and got is expected
    if isinstance(expected, Decimal):
        if isinstance(got, bool) or not isinstance(got, int | float | Decimal):
            return False
        actual = got if isinstance(got, Decimal) else Decimal(repr(got))
        if not actual.is_finite():
            return False
        difference = abs(actual - expected)
        if difference <= TOLERANCE * max(abs(expected), Decimal(1)):
            return True
        shape = expected.as_tuple()
        exponent = shape.exponent
        if isinstance(exponent, int) and exponent < 0 and len(shape.digits) >= ROUNDED_DIGITS:
            return difference <= Decimal(5).scaleb(exponent - 1)
        return False
    if isinstance(expected, str):
        return isinstance(got, str) and got == expected
    if isinstance(expected, datetime | FeelTime | DayTimeDuration | YearMonthDuration):
        return _same_temporal(expected, got)
    if isinstance(expected, date):
        return isinstance(got, date) and not isinstance(got, datetime) and got == expected
    if isinstance(expected, list):
        return (
            isinstance(got, list | tuple)
            and len(got) == len(expected)
            and all(same(e, g) for e, g in zip(expected, got, strict=True))
        )
    if isinstance(expected, dict):
        return (
            isinstance(got, Mapping)
            and set(got) == set(expected)
            and all(same(value, got[key]) for key, value in expected.items())
        )
    return False  # Untyped: a type the runner cannot check is never a pass


def _same_temporal(expected: Any, got: Any) -> bool:
    """A date and time, time or duration is the expected one when it has the same kind and value exactly:
    the same wall clock and the same offset (a local value is never a zoned one; ``+01:00`` at the same
    instant as ``Z`` is not the same lexical value), every fraction digit, the same length of duration."""
    if isinstance(expected, datetime):
        return (
            isinstance(got, datetime)
            and got.replace(tzinfo=None) == expected.replace(tzinfo=None)
            and got.utcoffset() == expected.utcoffset()
        )
    if isinstance(expected, FeelTime):
        return (
            isinstance(got, FeelTime)
            and (got.hour, got.minute, got.second) == (expected.hour, expected.minute, expected.second)
            and (got.zone is None) == (expected.zone is None)
            and (got.zone is None or got.zone.utcoffset(None) == _zone_offset(expected))
        )
    return type(got) is type(expected) and _feel_values.equal(expected, got) is True


def _zone_offset(value: FeelTime) -> Any:
    return None if value.zone is None else value.zone.utcoffset(None)


# --- running ------------------------------------------------------------------------------------------------


def model_file(folder: Path) -> Path:
    """What the folder's tests run against: the file their ``modelName`` names when the folder holds several
    models (the others are the models it imports), else the folder."""
    if len(list(folder.glob("*.dmn"))) > 1:
        for test in sorted(folder.glob("*-test-*.xml")):
            name = etree.parse(str(test)).getroot().findtext(f"{_TEST_NS}modelName")
            if name and (folder / name.strip()).is_file():
                return folder / name.strip()
    return folder


@cache
def _load(folder: Path) -> Decisions | EfficacyFlowError:
    try:
        return load_decisions(model_file(folder), strict=False, defer_refusals=DEFER_REFUSALS)
    except EfficacyFlowError as exc:
        return exc


def run_folder(folder: Path) -> Iterator[Outcome]:
    tests = sorted(folder.glob("*-test-*.xml"))
    loaded: Decisions | EfficacyFlowError | BaseException
    try:
        loaded = _load(folder)
    except Exception as exc:  # a crash of the loader is a finding, not a runner failure
        loaded = exc
    ids = decision_ids_by_name(folder)
    services = decision_ids_by_name(folder, "decisionService")
    for test in tests:
        for case in read_tests(test):
            for result in case.results:
                yield _run_result(
                    folder.name, loaded, services if case.kind == "decisionService" else ids, case, result
                )


def _run_result(
    folder: str, loaded: Any, ids: Mapping[str, str], case: TestCase, result: ResultNode
) -> Outcome:
    def outcome(status: str, detail: str = "") -> Outcome:
        return Outcome(folder, case.case, result.name, status, detail)

    if isinstance(loaded, EfficacyFlowError):
        return outcome(REFUSED, f"at load: {loaded.fields.get('problem') or loaded}")
    if isinstance(loaded, BaseException):
        return outcome(CRASH, f"at load: {type(loaded).__name__}: {loaded}")
    if case.kind not in ("decision", "decisionService"):
        return outcome(REFUSED, f"test type {case.kind}: the project evaluates decisions and services only")
    try:
        got = _invoke(loaded, ids, case, result)
    except DecisionError as exc:
        if result.error:
            return outcome(PASS)
        return outcome(REFUSED, f"at evaluation: {exc.fields.get('problem') or exc}")
    except DecisionTableError as exc:  # a decision its model loaded without, refused (DEFER_REFUSALS)
        return outcome(REFUSED, f"at load: {exc.fields.get('problem') or exc}")
    except EfficacyFlowError as exc:
        return outcome(REFUSED, f"at evaluation: {type(exc).__name__}: {exc}")
    except Exception as exc:  # an untyped exception is a finding
        return outcome(CRASH, f"{type(exc).__name__}: {exc}")
    if result.error:
        return outcome(PASS) if got is None else outcome(WRONG, f"expected an error, got {got!r}")
    if same(result.expected, got):
        return outcome(PASS)
    return outcome(WRONG, f"expected {result.expected!r}, got {got!r}")


def _invoke(loaded: Decisions, ids: Mapping[str, str], case: TestCase, result: ResultNode) -> Any:
    """Evaluate what the result node names: a decision by name (an unknown name is the DecisionError of
    ``evaluate``: the TCK expects an error for a decision that its model comments out), or for a
    ``decisionService`` case the service ``invocableName`` names, the result node naming one of its outputs
    when it has several."""
    if case.kind == "decisionService":
        got = loaded.evaluate_service(ids.get(case.invocable, case.invocable), case.inputs)
        expected = result.expected
        several = isinstance(got, dict) and result.name in got
        if several and (not isinstance(expected, dict) or result.name not in expected):
            return got[result.name]
        return got
    return loaded.evaluate(ids.get(result.name, result.name), case.inputs)


def run_level(level: int) -> list[Outcome]:
    outcomes: list[Outcome] = []
    for folder in sorted(p for p in LEVELS[level].iterdir() if p.is_dir()):
        outcomes.extend(run_folder(folder))
    return outcomes


def count(outcomes: Sequence[Outcome]) -> Counter[str]:
    return Counter(outcome.status for outcome in outcomes)


def summary_line(level_2: Sequence[Outcome], level_3: Sequence[Outcome]) -> str:
    def part(outcomes: Sequence[Outcome]) -> str:
        counts = count(outcomes)
        text = f"{counts[PASS]} pass / {counts[REFUSED]} refused / {counts[WRONG]} wrong"
        if counts[CRASH]:
            text += f" / {counts[CRASH]} crash"
        return text

    return f"TCK level 2: {part(level_2)}; level 3: {part(level_3)}"


_SPECIFICS: Final = re.compile(r"'[^']*'|\"[^\"]*\"|\d+")


def refusals_by_reason(outcomes: Sequence[Outcome]) -> Counter[str]:
    """Refused results grouped by the refusal's problem, quoted names and numbers blanked out."""
    return Counter(
        _SPECIFICS.sub("…", outcome.detail)[:110] for outcome in outcomes if outcome.status == REFUSED
    )


def main() -> None:
    level_2, level_3 = run_level(2), run_level(3)
    print(summary_line(level_2, level_3))
    if "-v" in sys.argv:
        for level, outcomes in ((2, level_2), (3, level_3)):
            print(f"\nlevel {level} refusals:")
            for reason, number in refusals_by_reason(outcomes).most_common():
                print(f"  {number:5} {reason}")
            for outcome in outcomes:
                if outcome.status in (WRONG, CRASH):
                    print(f"  {outcome}")


if __name__ == "__main__":
    main()
