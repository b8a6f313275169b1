"""The benchmarks stay runnable: every ``benchmarks/bench_*.py`` imports against the current code and exposes
``main(argv)`` (their figures are read from ``python -m benchmarks``, never asserted here)."""

from __future__ import annotations

import importlib
import inspect
from pathlib import Path

import pytest

NAMES = sorted(p.stem for p in (Path(__file__).parents[1] / "benchmarks").glob("bench_*.py"))


def test_the_benchmarks_are_found() -> None:
    assert {"bench_engine", "bench_incidents", "bench_expressions", "bench_reads"} <= set(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_a_benchmark_imports_and_has_main(name: str) -> None:
    module = importlib.import_module(f"benchmarks.{name}")
    assert list(inspect.signature(module.main).parameters) == ["argv"]
