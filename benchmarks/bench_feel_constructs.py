"""FEEL expressions compiled once, evaluated many times (policy/_expr.py): microseconds per evaluation.

The bound is 10 µs for a literal expression with arithmetic and a function call (the first row); the others
show what iteration, filters, contexts and unary tests cost. Each row is the best of five runs.

Run: ``python -m benchmarks feel_constructs [--quick]``. Exits 1 if the first row takes more than 10 µs.
(``python -m benchmarks feel`` measures the same bound through the public API, beside a baseline, and the
TCK's load and run times.)
"""

from __future__ import annotations

import argparse
import timeit
from typing import Any

from efficacy_flow.policy._expr import compile_expression, compile_unary_tests

BOUND_US = 10.0

EXPRESSIONS: tuple[tuple[str, str, dict[str, Any]], ...] = (
    (
        "arithmetic and a call",
        "Monthly Salary * 12 + abs(Bonus) - 100 / 3",
        {"Monthly Salary": 5000, "Bonus": -200},
    ),
    ("if, and, comparisons", 'if Age >= 18 and Score > 600 then "A" else "B"', {"Age": 20, "Score": 700}),
    ("string concatenation", 'upper case(Name) + " ok"', {"Name": "abc"}),
    ("context literal", "{a: x, b: a * 2, c: b + 1}.c", {"x": 3}),
    ("for over 1..10", "for i in 1..10 return i * 2", {}),
    ("filter of 5 items", "[1, 2, 3, 4, 5][item > 2]", {}),
    ("lambda call", "(function(a, b) a + b)(x, 2)", {"x": 1}),
)
TESTS: tuple[tuple[str, str, Any], ...] = (
    ("unary tests: interval list", "[0..9], [20..29], > 100", 25),
    ("unary tests: not(strings)", 'not("a", "b", "c")', "d"),
)


def _time(call: Any, number: int) -> float:
    return min(timeit.repeat(call, number=number, repeat=5)) / number * 1e6


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="bench_feel", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    number = 2_000 if args.quick else 50_000
    print(f"{'case':<30}{'µs each':>10}  expression")
    first = None
    for name, text, scope in EXPRESSIONS:
        compiled = compile_expression(text, names=list(scope))
        took = _time(lambda compiled=compiled, scope=scope: compiled.evaluate(scope), number)  # type: ignore[misc]
        first = took if first is None else first
        print(f"{name:<30}{took:>10.2f}  {text}")
    for name, text, value in TESTS:
        tests = compile_unary_tests(text)
        took = _time(lambda tests=tests, value=value: tests.test(value, {}), number)  # type: ignore[misc]
        print(f"{name:<30}{took:>10.2f}  {text}")
    assert first is not None
    if first > BOUND_US:
        print(f"the first row takes {first:.2f} µs, more than {BOUND_US} µs")
        return 1
    return 0


if __name__ == "__main__":
    import sys

    raise SystemExit(main(sys.argv[1:]))
