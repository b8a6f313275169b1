"""``efficacy-flow check [FOLDER]``: check a folder of processes before committing it (issue 15, item 4).

A thin shell over :func:`efficacy_flow.engine.check_processes`: one ``file:element: severity: message`` line
per finding, then a summary; exit 1 when there is an error (what CI runs too), 0 otherwise.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from efficacy_flow import shipped_processes
from efficacy_flow.engine import check_processes

__all__ = ["register", "run"]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``check`` subcommand."""
    parser = subparsers.add_parser(
        "check",
        help="检查流程文件夹（部署校验与跨文件规则）(check a folder of processes)",
        description=(
            "按部署时的规则检查流程文件夹，并检查跨文件规则：预警须早于时限、"
            "文档所写时限与 time_limits.yaml 一致、每个流程都有 schemas.yaml 条目、图中名称不写数字。"
            "每条发现一行：文件:元素: 级别: 说明。"
        ),
    )
    parser.add_argument("folder", nargs="?", help="the folder (default: the processes this release ships)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Print the findings; 1 when one is an error."""
    folder = Path(args.folder) if args.folder is not None else shipped_processes()
    findings = check_processes(folder)
    for finding in findings:
        print(finding.line())
    errors = sum(1 for f in findings if f.severity == "error")
    warnings = len(findings) - errors
    print(
        f"{folder}: {errors} 个错误，{warnings} 个警告 ({errors} errors, {warnings} warnings)",
        file=sys.stderr,
    )
    return 1 if errors else 0
