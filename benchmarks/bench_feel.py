"""FEEL through the public API (issue 17): a literal expression's cost, loading the DMN TCK, running it.

Three measurements, each against what the issue asks:

- **A literal-expression decision** ``Monthly Salary * 12 + abs(Bonus) - 1000`` (arithmetic and a built-in
  call) evaluated by ``Decisions.evaluate``: µs per evaluation (target ≤ 10 µs). Baselines in the same run:
  the same arithmetic hand-written in Python on the same inputs (plain ``float``/``int``: the fastest a
  hand-coded rule can be), and on ``Decimal`` in FEEL's decimal128 context (what FEEL's numbers mean; the
  evaluator returns ``Decimal``). The answers are compared before anything is timed.
- **Loading the whole TCK compliance level 3**: every folder under tests/policy/tck/compliance-level-3 with
  ``load_decisions(folder, strict=False)``, refusals included (a refusal is an ``EfficacyFlowError``, and
  deciding to refuse is part of loading); seconds for all folders (target: a few seconds).
- **The TCK run** as CI runs it: ``python -m tests.policy.tck_runner`` in a fresh interpreter (levels 2 and 3,
  every result), wall seconds including the interpreter's start; its summary line is printed.

Only the public API (``Decisions``, ``load_decisions``, ``EfficacyFlowError``) and the runner's command line
are used, so the benchmark keeps working while the FEEL compiler and the TCK runner change underneath.

Run: ``python -m benchmarks feel [--quick]``. Timings are never asserted (the machine is shared and noisy);
it exits 1 only if an answer is wrong or the runner fails.

Measured on the shared development machine (2 cores, load average 5–7 from other work), 2026-12-07, with
``.venv/bin/python -m benchmarks feel`` on branch ``table``, before the FEEL compiler rewrite is merged
(today's compiler: lark, closures; level 3 mostly refused at load, so its load time will grow as more loads):

| case | result |
|---|---|
| ``Decisions.evaluate``, literal expression | 2.6 µs (float Python 0.14 µs: 18.9×; Decimal 1.31: 2.0×) |
| loading TCK level 3, 118 folders (7 loaded, 111 refused) | 0.10 s CPU |
| TCK run, levels 2 and 3 | 2.0–2.5 s wall, 1.4–1.6 s CPU (126 / 0 / 0; 53 pass / 3316 refused / 0 wrong) |
"""

from __future__ import annotations

import argparse
import decimal
import re
import resource
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from benchmarks.bench_decisions import interleaved_rates
from efficacy_flow.errors import EfficacyFlowError
from efficacy_flow.policy import Decisions, load_decisions

ROOT = Path(__file__).resolve().parent.parent
LEVEL_3 = ROOT / "tests" / "policy" / "tck" / "compliance-level-3"
EXPRESSION = "Monthly Salary * 12 + abs(Bonus) - 1000"
TARGET_US = 10.0
DATA: dict[str, Any] = {"Monthly Salary": 10000.5, "Bonus": -500}
#: FEEL numbers: IEEE 754 decimal128 (DMN 1.5 section 10.3.2.3.1).
DECIMAL128 = decimal.Context(prec=34, rounding=decimal.ROUND_HALF_EVEN, Emax=6144, Emin=-6143)


def build() -> Decisions:
    """One literal-expression decision reading two input data, in a DMN 1.3 document."""
    return Decisions.from_xml(
        '<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="feel" name="feel" '
        'namespace="bench">'
        '<inputData id="salary" name="Monthly Salary" /><inputData id="bonus" name="Bonus" />'
        '<decision id="yearly" name="Yearly Income">'
        '<informationRequirement id="r1"><requiredInput href="#salary" /></informationRequirement>'
        '<informationRequirement id="r2"><requiredInput href="#bonus" /></informationRequirement>'
        f'<literalExpression id="e1"><text>{EXPRESSION}</text></literalExpression></decision>'
        "</definitions>",
        path="<benchmark>",
        strict=False,
    )


def baseline_float(data: dict[str, Any]) -> Any:
    """The expression hand-written in Python on the inputs as given."""
    return data["Monthly Salary"] * 12 + abs(data["Bonus"]) - 1000


def baseline_decimal(data: dict[str, Any]) -> Decimal:
    """The expression hand-written on Decimal in decimal128, as FEEL defines its numbers."""
    context = DECIMAL128
    salary = Decimal(repr(data["Monthly Salary"]))
    bonus = Decimal(data["Bonus"])
    return context.subtract(context.add(context.multiply(salary, 12), abs(bonus)), Decimal(1000))


def _per_call_us(calls: Sequence[Callable[[], object]], iterations: int, repeats: int) -> list[float]:
    """µs per call of each call: ``interleaved_rates``' turns and CPU time, inverted."""
    return [1e6 / rate for rate in interleaved_rates(calls, iterations, repeats)]


def load_level_3() -> tuple[float, int, int]:
    """CPU seconds to load every level-3 folder, and how many loaded and how many were refused."""
    folders = sorted(path for path in LEVEL_3.iterdir() if path.is_dir())
    loaded = refused = 0
    started = time.process_time()
    for folder in folders:
        try:
            load_decisions(folder, strict=False)
        except EfficacyFlowError:
            refused += 1
        else:
            loaded += 1
    return time.process_time() - started, loaded, refused


def run_tck() -> tuple[float, float, str, int]:
    """Wall and CPU seconds of ``python -m tests.policy.tck_runner``, its summary line and its exit code."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "tests.policy.tck_runner"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    lines = [line for line in done.stdout.splitlines() if re.search(r"\bpass\b", line)]
    return elapsed, cpu, (lines[0] if lines else done.stderr.strip()[-200:]), done.returncode


def main(argv: list[str] | None = None) -> int:
    """Print the three measurements, each with its baseline or target."""
    parser = argparse.ArgumentParser(prog="bench_feel", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer iterations (a smoke run)")
    args = parser.parse_args(argv)
    iterations, repeats = (20_000, 3) if args.quick else (200_000, 5)
    load_repeats = 1 if args.quick else 3

    try:
        decisions = build()
        got = decisions.evaluate("yearly", DATA)
    except EfficacyFlowError as exc:
        print(f"the expression is refused: {exc}")
        return 1
    # Same answers first: a benchmark of a wrong evaluator measures nothing.
    if not (got == baseline_decimal(DATA) == Decimal("119506.0") and baseline_float(DATA) == 119506.0):
        print(f"wrong answer: {got!r}")
        return 1

    print(f"literal expression {EXPRESSION!r}; best of {repeats} × {iterations:,} evaluations")
    print(f"{'case':<36}{'µs each':>10}{'vs Python':>12}")
    python, exact, feel = _per_call_us(
        [
            lambda: baseline_float(DATA),
            lambda: baseline_decimal(DATA),
            lambda: decisions.evaluate("yearly", DATA),
        ],
        iterations,
        repeats,
    )
    print(f"{'Python, float (baseline)':<36}{python:>10.2f}{'1.0×':>12}")
    print(f"{'Python, Decimal decimal128':<36}{exact:>10.2f}{exact / python:>11.1f}×")
    print(f"{'Decisions.evaluate (FEEL)':<36}{feel:>10.2f}{feel / python:>11.1f}×")
    verdict = "within" if feel <= TARGET_US else "OVER"
    print(f"target ≤ {TARGET_US:g} µs: {verdict} ({feel / exact:.1f}× the Decimal hand-written code)")

    best_load, loaded, refused = min(load_level_3() for _ in range(load_repeats))
    print(f"\nloading TCK level 3 ({loaded + refused} folders: {loaded} loaded, {refused} refused), best of")
    print(f"{load_repeats}: {best_load:.2f} s CPU ({best_load / (loaded + refused) * 1e3:.1f} ms per folder)")

    elapsed, cpu, summary, code = run_tck()
    print(
        f"\nTCK run (python -m tests.policy.tck_runner, fresh interpreter): {elapsed:.1f} s, {cpu:.1f} s CPU"
    )
    print(f"  {summary}")
    return 0 if code == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
