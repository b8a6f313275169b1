"""The sandbox: what evaluating a simple condition costs, and how long each payload takes to be stopped.

Conditions run on every engine step, so their per-call cost matters. Each is timed through
``Sandbox.evaluate`` and, as the baseline, as bare ``eval`` of the same precompiled code with the variables as
locals (no sandbox, no guards): the difference is what the sandbox adds per call.

Then each of the issue's payloads runs in a sandbox with the default budgets (1 s, 10**6 elements, 8,192 bits,
50 calls); the table gives the time until its typed error, and the error's limit. The issue's bound is 2 s.

    python -m benchmarks.bench_sandbox [--quick]
"""

from __future__ import annotations

import argparse
import sys
import time
import timeit
from typing import Any

from efficacy_flow.engine._sandbox import Sandbox
from efficacy_flow.errors import ExpressionLimitExceeded

CONDITIONS: list[tuple[str, dict[str, Any]]] = [
    ("approved == True", {"approved": True}),
    ('rating in ("满意", "基本满意")', {"rating": "满意"}),
    ("n + 1 > 2", {"n": 3}),
]
#: A task's data is usually a few dozen fields: the sandbox must not pay for each of them.
WIDE = {f"field_{i}": i for i in range(27)}

PAYLOADS = [
    ("eval", "9**9**9"),
    ("eval", "10**10**7"),
    ("eval", "2**10**9"),
    ("eval", "'x' * 10**10"),
    ("eval", "[0] * 10**9"),
    ("eval", "1 << 10**9"),
    ("eval", "'a'.ljust(10**9)"),
    ("eval", "[i for i in range(10**9)]"),
    ("eval", "sum(range(10**9))"),
    ("eval", "int('9' * 5000)"),
    ("eval", "str(10**5000)"),
    ("exec", "while True: pass"),
    ("exec", "while True: x = 1"),
    ("exec", "for i in range(10**9): pass"),
    ("exec", "a = [1]\nfor _ in range(60): a = a + a"),
    ("exec", "f = lambda n: f(n + 1)\nf(0)"),
]


def _per_call(call: Any, iterations: int, repeats: int) -> float:
    """µs per call: the best of ``repeats`` runs of ``iterations`` calls."""
    return min(timeit.repeat(call, number=iterations, repeat=repeats)) / iterations * 1e6


def main(argv: list[str] | None = None) -> int:
    """Print µs per evaluation against bare eval, then the time each payload takes to be stopped."""
    parser = argparse.ArgumentParser(prog="bench_sandbox", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer iterations (a smoke run)")
    args = parser.parse_args(argv)
    iterations, repeats = (5_000, 3) if args.quick else (50_000, 7)

    sandbox = Sandbox()
    print(f"Sandbox.evaluate, best of {repeats} × {iterations:,} calls")
    print(f"{'condition':<34}{'vars':>5}{'bare eval µs':>14}{'sandbox µs':>12}{'added µs':>10}")
    for source, variables in CONDITIONS:
        for scope in (variables, {**WIDE, **variables}):
            code = compile(source, "<bench>", "eval")
            bare_globals: dict[str, Any] = {"__builtins__": {}}
            # Same answer first: a benchmark of a wrong evaluator measures nothing.
            assert sandbox.evaluate(source, scope) == eval(code, bare_globals, scope)
            bare = _per_call(lambda: eval(code, bare_globals, scope), iterations, repeats)  # noqa: B023
            boxed = _per_call(lambda: sandbox.evaluate(source, scope), iterations, repeats)  # noqa: B023
            print(f"{source:<34}{len(scope):>5}{bare:>14.3f}{boxed:>12.3f}{boxed - bare:>10.3f}")

    print("\npayloads, default budgets (the issue's bound: 2 s)")
    print(f"{'payload':<42}{'limit':>7}{'stopped after s':>17}")
    worst = 0.0
    for mode, source in PAYLOADS:
        started = time.perf_counter()
        try:
            if mode == "eval":
                sandbox.evaluate(source, {})
            else:
                sandbox.execute(source, {})
        except ExpressionLimitExceeded as stopped:
            elapsed = time.perf_counter() - started
            worst = max(worst, elapsed)
            print(f"{source.replace(chr(10), '; '):<42}{stopped.limit:>7}{elapsed:>17.3f}")
        else:
            print(f"{source!r}: not stopped")
            return 1
    print(f"worst: {worst:.3f} s")
    return 0 if worst < 2.0 else 1


if __name__ == "__main__":
    sys.exit(main())
