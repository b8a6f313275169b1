"""The ``efficacy-flow`` command: a thin shell that parses, calls the public API and renders.

Each subcommand lives in its own module with ``register(subparsers)``; its handler returns an exit code.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from efficacy_flow import __version__
from efficacy_flow.errors import EfficacyFlowError

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    from efficacy_flow.cli import _check, _deadline, _demo, _report, _serve

    parser = argparse.ArgumentParser(
        prog="efficacy-flow",
        description="机关效能建设流程引擎 — efficiency-supervision processes on BPMN.",
    )
    parser.add_argument("--version", action="version", version=f"efficacy-flow {__version__}")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _deadline.register(subparsers)
    _demo.register(subparsers)
    _report.register(subparsers)
    _check.register(subparsers)
    _serve.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the process exit code (2 for bad input, 1 for other errors)."""
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        code: int = args.handler(args)
    except EfficacyFlowError as exc:
        print(f"错误 / error: {exc}", file=sys.stderr)
        return 2 if isinstance(exc, ValueError | LookupError) else 1
    return code
