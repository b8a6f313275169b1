"""``efficacy-flow serve`` (the HTTP API, docs/service.md) and ``efficacy-flow worker`` (the loop that fires
what is due: ``engine.tick()`` on the system clock).

The service's modules (FastAPI, uvicorn) are imported only when one of the two runs, so the other
subcommands start as fast as before.
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import signal
import sys
import threading
from types import FrameType

from efficacy_flow.errors import InvalidInput

__all__ = ["interval_seconds", "register"]

DEFAULT_STORE = "sqlite:///efficacy.db"
_INTERVAL = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m)?\s*$")


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``serve`` and ``worker`` subcommands."""
    serve = subparsers.add_parser(
        "serve",
        help="运行 HTTP 接口 (serve the engine's API over HTTP)",
        description=(
            "以 HTTP 提供引擎接口（/api/v1/，OpenAPI 3.1 文档在 /openapi.json）：受理、待办、办理、认领、"
            "指派、转办、退回、撤回、消息、暂停、恢复、延期、撤销、迁移、审计历史、亮牌、考核指标、异常、事件流。"
            "令牌与限额见 --config（service.yaml）；默认使用 SQLite，多进程（--workers > 1）须用 PostgreSQL。"
            " Serve the engine's API over HTTP (docs/service.md)."
        ),
    )
    serve.add_argument("--store", default=DEFAULT_STORE, help=f"store URL (default {DEFAULT_STORE})")
    serve.add_argument("--processes", help="folder of the processes to run (default the shipped ones)")
    serve.add_argument("--config", help="service.yaml: bearer tokens (SHA-256 hashes) and limits")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="port to listen on (default 8000)")
    serve.add_argument(
        "--workers", type=int, default=1, help="API processes (default 1; more than 1 needs PostgreSQL)"
    )
    serve.set_defaults(handler=run_serve)
    worker = subparsers.add_parser(
        "worker",
        help="运行定时器工作进程：到期即触发 (fire due timers: engine.tick() in a loop)",
        description=(
            "循环调用 engine.tick()（系统时钟），触发到期的时限、催办与亮牌；收到 SIGTERM 或 SIGINT 后"
            "完成当前一轮再退出。PostgreSQL 上可运行多个。"
            " Fire what is due, every --interval, until SIGTERM or SIGINT."
        ),
    )
    worker.add_argument("--store", default=DEFAULT_STORE, help=f"store URL (default {DEFAULT_STORE})")
    worker.add_argument("--processes", help="folder of the processes to run (default the shipped ones)")
    worker.add_argument("--interval", default="1s", help="pause between ticks with nothing due (default 1s)")
    worker.set_defaults(handler=run_worker)


def interval_seconds(text: str) -> float:
    """``"500ms"``, ``"1s"``, ``"2m"`` or a bare number of seconds, as seconds.

    Raises:
        InvalidInput: anything else, or zero.
    """
    found = _INTERVAL.match(text)
    if found is None or float(found.group(1)) <= 0:
        raise InvalidInput(
            f"--interval {text!r}: expected a duration such as 500ms, 1s or 2m", argument="interval"
        )
    scale = {"ms": 0.001, "s": 1.0, "m": 60.0}[found.group(2) or "s"]
    return float(found.group(1)) * scale


def run_serve(args: argparse.Namespace) -> int:
    """Serve until stopped; return the exit code."""
    import uvicorn

    from efficacy_flow.service import ENVIRONMENT, ServiceSettings, create_app, open_engine

    if args.workers < 1:
        raise InvalidInput("--workers must be at least 1", argument="workers")
    if args.workers > 1 and not args.store.startswith("postgresql"):
        raise InvalidInput(
            f"--workers {args.workers} needs a PostgreSQL store: SQLite takes one writer at a time, so"
            " several API processes on one file would only wait for each other; use --workers 1, or"
            " --store postgresql://…",
            argument="workers",
        )
    settings = ServiceSettings.from_yaml(args.config) if args.config else ServiceSettings()
    if not settings.tokens:
        print("注意 / note: no tokens configured (--config): every /api/ request gets 401", file=sys.stderr)
    # Opened here first: the schema is created or upgraded and the processes deployed once, before any
    # worker process starts, and a bad store or folder fails now with its message.
    engine = open_engine(args.store, args.processes)
    options = {"host": args.host, "port": args.port, "timeout_graceful_shutdown": 5, "log_level": "info"}
    if args.workers == 1:
        try:
            uvicorn.run(create_app(engine, settings), **options)
        finally:
            engine.store.close()
        return 0
    engine.store.close()
    os.environ[ENVIRONMENT["store"]] = args.store
    os.environ[ENVIRONMENT["processes"]] = args.processes or ""
    os.environ[ENVIRONMENT["config"]] = args.config or ""
    uvicorn.run(
        "efficacy_flow.service:app_from_environment",
        factory=True,
        workers=args.workers,
        **options,
    )
    return 0


def run_worker(args: argparse.Namespace) -> int:
    """Tick until SIGTERM or SIGINT; return the exit code."""
    from efficacy_flow.service import open_engine
    from efficacy_flow.service import run_worker as loop

    interval = interval_seconds(args.interval)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s", stream=sys.stderr)
    engine = open_engine(args.store, args.processes)
    stop = threading.Event()

    def _stop(signum: int, _frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, _stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    print(f"worker {engine.worker_id} ticking every {interval:g} s", file=sys.stderr, flush=True)
    try:
        fired = loop(engine, interval, stop)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        engine.store.close()
    print(f"worker stopped: {fired} timers fired", file=sys.stderr, flush=True)
    return 0
