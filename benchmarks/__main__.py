"""Run every benchmark: ``python -m benchmarks [--quick] [NAME ...]``.

Each ``bench_<name>.py`` module exposes ``main(argv) -> int`` and prints its own table. Timings are never
asserted in tests (the machine is shared and noisy); ratios against a baseline measured in the same run are
what to read.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
import time
from pathlib import Path


def _names() -> list[str]:
    here = Path(__file__).parent
    modules = pkgutil.iter_modules([str(here)])
    return sorted(m.name.removeprefix("bench_") for m in modules if m.name.startswith("bench_"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller sizes, for a smoke run (~20 s each)")
    parser.add_argument("names", nargs="*", help=f"benchmarks to run (default: all of {', '.join(_names())})")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.names) - set(_names()))
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(unknown)}")
    failures = 0
    for name in args.names or _names():
        print(f"\n=== {name} " + "=" * (60 - len(name)), flush=True)
        module = importlib.import_module(f"benchmarks.bench_{name}")
        started = time.perf_counter()
        code = module.main(["--quick"] if args.quick else [])
        print(f"--- {name}: exit {code}, {time.perf_counter() - started:.1f} s", flush=True)
        failures += code != 0
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
