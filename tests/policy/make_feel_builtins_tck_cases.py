"""Writes tests/policy/feel_builtins_tck_cases.py: the DMN TCK's built-in function cases as direct calls.

The TCK (tests/policy/tck/compliance-level-3) tests the built-ins through DMN models: each decision's literal
expression is a call such as ``substring("foobar", -2, 1)`` and each test case gives the expected value (or an
error). This script reads the folders listed in ``FOLDERS``, keeps every expression that is one call of a
built-in with literal arguments (numbers, strings, booleans, null, lists, contexts, ranges, simple arithmetic
on numbers, ``@"…"`` and ``date("…")``-style temporal literals, the model's input data and other decisions'
expected values), and writes each as ``Case(folder, case id, function, positional, named, expected)``.
Expressions that need the FEEL compiler (function literals, filters, nested calls, ``instance of``) are
left out; the hand-written tests cover those functions.

Run: ``.venv/bin/python -m tests.policy.make_feel_builtins_tck_cases`` (then ``ruff format`` the output).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from lxml import etree
from tests.policy.tck_runner import Untyped, read_tests

from efficacy_flow.policy._feel_builtins import BUILTINS
from efficacy_flow.policy._feel_temporal import DayTimeDuration, FeelTime, YearMonthDuration
from efficacy_flow.policy._feel_values import CONTEXT, FeelRange

LEVEL_3 = Path(__file__).parent / "tck" / "compliance-level-3"
OUTPUT = Path(__file__).parent / "feel_builtins_tck_cases.py"
FOLDERS = [
    "0002",
    "0008",
    "0009",
    "0010",
    "0011",
    "0012",
    "0013",
    "0021",
    "0050",
    "0051",
    "0052",
    "0053",
    "0054",
    "0055",
    "0056",
    "0057",
    "0058",
    "0059",
    "0060",
    "0061",
    "0062",
    "0063",
    "0066",
    "0067",
    "0080",
    "0081",
    "0082",
    "0083",
    "0094",
    "0103",
    "1100",
    "1101",
    "1102",
    "1103",
    "1104",
    "1105",
    "1106",
    "1107",
    "1108",
    "1109",
    "1110",
    "1111",
    "1130",
    "1140",
    "1141",
    "1142",
    "1143",
    "1144",
    "1145",
    "1146",
    "1147",
    "1155",
    "1156",
]


#: Cases whose expected value comes from the decision's typeRef (a singleton list becomes its item).
CONVERTED_BY_THE_DECISION = frozenset({"0021-001-decision2", "0082-decision_context_03"})


_TEMPORAL_CALL = r"(date|time|duration)\\?\("


class Skip(Exception):
    """The expression is not one call with literal arguments."""


def _numbers(*values: Any) -> None:
    if not all(isinstance(value, Decimal) and not isinstance(value, bool) for value in values):
        raise Skip("arithmetic on values that are not numbers")


class Parser:
    """A small reader of FEEL literal call expressions (only what the TCK's built-in cases use)."""

    def __init__(self, text: str, names: dict[str, Any]) -> None:
        self.text = text
        self.pos = 0
        self.names = names

    def ws(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1

    def peek(self, token: str) -> bool:
        self.ws()
        return self.text.startswith(token, self.pos)

    def expect(self, token: str) -> None:
        if not self.peek(token):
            raise Skip(f"expected {token!r} at {self.pos} in {self.text!r}")
        self.pos += len(token)

    def call(self) -> tuple[str, list[Any] | None, dict[str, Any] | None]:
        self.ws()
        for name in sorted(BUILTINS, key=len, reverse=True):
            if re.match(re.escape(name) + r"\s*\(", self.text[self.pos :]):
                self.pos += len(name)
                break
        else:
            raise Skip("not a built-in call")
        self.expect("(")
        positional: list[Any] = []
        named: dict[str, Any] = {}
        while not self.peek(")"):
            self.ws()
            match = re.compile(r"([A-Za-z][\w ]*?)\s*:(?!:)").match(self.text, self.pos)
            if match and not self.text.startswith(("true", "false", "null"), self.pos):
                self.pos = match.end()
                named[match.group(1).strip()] = self.expression()
            else:
                positional.append(self.expression())
            if self.peek(","):
                self.pos += 1
        self.expect(")")
        if positional and named:
            raise Skip("mixed arguments")
        return name, (None if named else positional), (named or None)

    def expression(self) -> Any:
        value = self.term()
        while self.peek("+") or self.peek("- ") or self.peek("-"):
            op = self.text[self.pos]
            self.pos += 1
            right = self.term()
            _numbers(value, right)
            value = CONTEXT.add(value, right) if op == "+" else CONTEXT.subtract(value, right)
        return value

    def term(self) -> Any:
        value = self.primary()
        while self.peek("*") or self.peek("/"):
            op = self.text[self.pos]
            self.pos += 1
            right = self.primary()
            _numbers(value, right)
            value = CONTEXT.multiply(value, right) if op == "*" else CONTEXT.divide(value, right)
        return value

    def primary(self) -> Any:
        self.ws()
        text, pos = self.text, self.pos
        number = re.compile(r"-?(\d+(\.\d+)?|\.\d+)").match(text, pos)
        if number:
            self.pos = number.end()
            return Decimal(number.group(0))
        if text.startswith('"', pos):
            return self.string()
        if text.startswith('@"', pos):
            self.pos += 1
            return temporal(self.string())
        for word, value in (("true", True), ("false", False), ("null", None)):
            if re.match(word + r"\b", text[pos:]):
                self.pos += len(word)
                return value
        for function in ("date and time", "date", "time", "duration"):
            if re.match(re.escape(function) + r'\s*\(\s*"', text[pos:]):
                self.pos += len(function)
                self.expect("(")
                self.ws()
                value = temporal(self.string())
                self.expect(")")
                return value
        if text.startswith("(", pos):
            self.pos += 1
            value = self.expression()
            if self.peek(".."):
                return self.range_rest(value, False)
            self.expect(")")
            return value
        if text.startswith("]", pos):
            self.pos += 1
            return self.range_rest(self.expression(), False)
        if text.startswith("[", pos):
            self.pos += 1
            if self.peek("]"):
                self.pos += 1
                return []
            first = self.expression()
            if self.peek(".."):
                return self.range_rest(first, True)
            items = [first]
            while self.peek(","):
                self.pos += 1
                items.append(self.expression())
            self.expect("]")
            return items
        if text.startswith("{", pos):
            self.pos += 1
            context: dict[str, Any] = {}
            while not self.peek("}"):
                self.ws()
                if self.text.startswith('"', self.pos):
                    key = self.string()
                else:
                    match = re.compile(r"[^:]+").match(self.text, self.pos)
                    if match is None:
                        raise Skip("context key")
                    key = match.group(0).strip()
                    self.pos = match.end()
                self.expect(":")
                if key in context:
                    raise Skip("duplicate key")
                context[key] = self.expression()
                if self.peek(","):
                    self.pos += 1
            self.expect("}")
            return context
        name = re.compile(r"[A-Za-z_]\w*").match(text, pos)
        if name and name.group(0) in self.names and not re.match(r"\s*\(", text[name.end() :]):
            self.pos = name.end()
            return self.names[name.group(0)]
        raise Skip(f"not a literal at {pos} in {text!r}")

    def range_rest(self, start: Any, start_included: bool) -> FeelRange:
        self.expect("..")
        end = self.expression()
        self.ws()
        close = self.text[self.pos]
        if close not in "])[":
            raise Skip("range end")
        self.pos += 1
        return FeelRange(start, start_included, end, close == "]")

    def string(self) -> str:
        self.expect('"')
        out = []
        while self.text[self.pos] != '"':
            char = self.text[self.pos]
            if char == "\\":
                nxt = self.text[self.pos + 1]
                if nxt in "uU":
                    digits = 4 if nxt == "u" else 6
                    out.append(chr(int(self.text[self.pos + 2 : self.pos + 2 + digits], 16)))
                    self.pos += 2 + digits
                    continue
                escapes = {'"': '"', "'": "'", "\\": "\\", "n": "\n", "r": "\r", "t": "\t"}
                out.append(escapes.get(nxt, "\\" + nxt))
                self.pos += 2
                continue
            out.append(char)
            self.pos += 1
        self.pos += 1
        # \uD83D\uDCA9: a surrogate pair is one code point
        return "".join(out).encode("utf-16", "surrogatepass").decode("utf-16")


_ZONE = re.compile(r"(Z|[+-]\d\d:\d\d|@[A-Za-z_/+-]+)?$")


def _zone(text: str) -> Any:
    if not text:
        return None
    if text == "Z":
        return UTC
    if text.startswith("@"):
        return ZoneInfo(text[1:])
    sign = -1 if text[0] == "-" else 1
    return timezone(sign * timedelta(hours=int(text[1:3]), minutes=int(text[4:6])))


_DURATION = r"(-)?P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?"


def temporal(text: str) -> Any:
    """The value of a date, time, date and time or duration literal (the TCK's forms only)."""
    duration = re.fullmatch(
        r"(-)?P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?", text
    )
    if duration:
        sign = -1 if duration.group(1) else 1
        years, months, days, hours, minutes, seconds = (int(g or 0) for g in duration.groups()[1:])
        if duration.group(2) is not None or duration.group(3) is not None:
            if days or hours or minutes or seconds:
                raise Skip("mixed duration")
            return YearMonthDuration(sign * (years * 12 + months))
        return DayTimeDuration(Decimal(sign * (((days * 24 + hours) * 60 + minutes) * 60 + seconds)))
    clock = re.fullmatch(r"(\d\d):(\d\d):(\d\d)(.*)", text)
    if clock and _ZONE.match(clock.group(4)):
        return FeelTime(
            int(clock.group(1)), int(clock.group(2)), Decimal(clock.group(3)), _zone(clock.group(4))
        )
    stamp = re.fullmatch(r"(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(.*)", text)
    if stamp and _ZONE.match(stamp.group(7)):
        parts = [int(g) for g in stamp.groups()[:6]]
        return datetime(*parts, tzinfo=_zone(stamp.group(7)))
    day = re.fullmatch(r"(\d{4})-(\d\d)-(\d\d)", text)
    if day:
        return date(int(day.group(1)), int(day.group(2)), int(day.group(3)))
    raise Skip(f"temporal literal {text!r}")


def expected_value(value: Any) -> Any:
    if isinstance(value, Untyped):
        if value.kind == "duration":
            return temporal(value.text.strip())
        raise Skip(f"expected {value!r}")
    if isinstance(value, list):
        return [expected_value(item) for item in value]
    if isinstance(value, dict):
        return {key: expected_value(item) for key, item in value.items()}
    return value


def emit(value: Any) -> str:
    """Python source for a FEEL value."""
    if isinstance(value, Decimal):
        return f'D("{value}")'
    if isinstance(value, list):
        return "[" + ", ".join(emit(item) for item in value) + "]"
    if isinstance(value, tuple):
        return "(" + "".join(emit(item) + ", " for item in value) + ")"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{key!r}: {emit(item)}" for key, item in value.items()) + "}"
    if isinstance(value, FeelRange):
        return (
            f"FeelRange({emit(value.start)}, {value.start_included}, {emit(value.end)}, {value.end_included})"
        )
    if isinstance(value, DayTimeDuration):
        return f"DayTimeDuration({emit(value.seconds)})"
    if isinstance(value, YearMonthDuration):
        return f"YearMonthDuration({value.months})"
    if isinstance(value, FeelTime):
        return f"FeelTime({value.hour}, {value.minute}, {emit(value.second)}, {emit_zone(value.zone)})"
    if isinstance(value, datetime):
        fields = ", ".join(str(part) for part in value.timetuple()[:6])
        return f"datetime({fields}, tzinfo={emit_zone(value.tzinfo)})"
    if isinstance(value, date):
        return f"date({value.year}, {value.month}, {value.day})"
    if isinstance(value, time):
        raise Skip("python time")
    return repr(value)


def emit_zone(zone: Any) -> str:
    if zone is None:
        return "None"
    if isinstance(zone, ZoneInfo):
        return f'ZoneInfo("{zone.key}")'
    offset = zone.utcoffset(None)
    if offset == timedelta(0) and zone is UTC:
        return "UTC"
    return f"timezone(timedelta(seconds={int(offset.total_seconds())}))"


def texts(folder: Path) -> dict[str, str]:
    """Each decision's (and each context entry's) name → its FEEL text."""
    found: dict[str, str] = {}
    for model in folder.glob("*.dmn"):
        for decision in etree.parse(str(model)).getroot().iter("{*}decision"):
            literal = decision.find("{*}literalExpression/{*}text")
            if literal is not None and literal.text:
                found[decision.get("name") or ""] = literal.text
            for entry in decision.iter("{*}contextEntry"):
                variable, text = entry.find("{*}variable"), entry.find(".//{*}text")
                if variable is not None and text is not None and text.text:
                    found[variable.get("name") or ""] = text.text
    return found


def cases() -> tuple[list[str], list[str]]:
    rows: list[str] = []
    skipped: list[str] = []
    for folder in sorted(LEVEL_3.iterdir()):
        if folder.name[:4] not in FOLDERS:
            continue
        expressions = texts(folder)
        for test_file in sorted(folder.glob("*test*.xml")):
            for case in read_tests(test_file):
                expected_by_name = {result.name: result for result in case.results}
                results: list[tuple[str, Any, bool]] = []
                for result in case.results:
                    if isinstance(result.expected, dict) and result.name not in expressions:
                        results.extend((key, value, False) for key, value in result.expected.items())
                    else:
                        results.append((result.name, result.expected, result.error))
                names = dict(case.inputs)
                names.update({name: r.expected for name, r in expected_by_name.items() if not r.error})
                for name, expected, error in results:
                    text = expressions.get(name)
                    ident = f"{folder.name[:4]}-{case.case}" + (f"-{name}" if name != case.case else "")
                    try:
                        if ident in CONVERTED_BY_THE_DECISION:
                            raise Skip("the expected value is the decision's type conversion, not the call's")
                        if text is None:
                            raise Skip("no literal expression")
                        parser = Parser(text, names)
                        function, positional, named = parser.call()
                        parser.ws()
                        wanted = expected_value(expected)
                        if parser.pos != len(text):
                            rest = text[parser.pos :].strip()
                            if not rest.startswith("=") or wanted is not True:
                                raise Skip("more than one call")
                            parser.pos += 1
                            wanted = parser.expression()
                            parser.ws()
                            if parser.pos != len(text):
                                raise Skip("trailing text")
                        args = emit(tuple(positional)) if positional is not None else "None"
                        kw = emit(named) if named is not None else "None"
                        result_text = "ERROR" if error else emit(wanted)
                        temporal_text = (
                            "@" in text or re.search(r"(date|time|duration)\\?\(", text) is not None
                        )
                        rows.append(
                            f"    Case({ident!r}, {' '.join(text.split())!r}, {function!r}, {args}, {kw},"
                            f" {result_text}, {temporal_text}),"
                        )
                    except Skip as why:
                        skipped.append(f"{ident}: {why} | {text!r}")
    return rows, skipped


HEADER = '''# ruff: noqa: E501
"""The DMN TCK's built-in function cases as direct calls: GENERATED by make_feel_builtins_tck_cases.py.

Each Case: the TCK folder and case id (and result name), the FEEL text of the decision, the built-in, its
positional or named arguments as FEEL values, and the expected value (``ERROR``: the TCK expects an error).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal as D
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from efficacy_flow.policy._feel_temporal import DayTimeDuration, FeelTime, YearMonthDuration
from efficacy_flow.policy._feel_values import FeelRange

#: The expected outcome "an error" (FeelError).
ERROR = object()


class Case(NamedTuple):
    id: str
    feel: str
    function: str
    positional: tuple[Any, ...] | None
    named: dict[str, Any] | None
    expected: Any
    #: The FEEL text holds temporal literals (the range() cases read them with ``_feel_temporal``).
    temporal: bool


CASES = [
'''


def main() -> None:
    rows, skipped = cases()
    OUTPUT.write_text(HEADER + "\n".join(rows) + "\n]\n")
    print(f"{len(rows)} cases written to {OUTPUT}; {len(skipped)} left out:")
    for line in skipped:
        print("  " + line)


if __name__ == "__main__":
    main()
