"""The HTTP service under load (issue 16): concurrent clients completing tasks over real HTTP.

PostgreSQL with 2 API processes (``efficacy-flow serve --workers 2``) and 1 ``efficacy-flow worker``; then the
same run on SQLite with 1 API process. Each client works as an integrator does: start a case of the
10-task fixture (``POST /instances``), then ``GET /tasks?instance_id=…`` to find its work and ``POST
/tasks/{id}/complete`` until none is left, then the next case. A tenth of the clients work in pairs on the
same cases, completing the same tasks at the same time: those races are real, and their losers get 409
(counted apart). At the end ``check_consistency()`` runs over the store, and every completion a client was
told of (200) is looked for in the case's history (a lost update would be missing), and no task was
completed twice.

Prints p50 / p99 latency per request kind, throughput, the status counts, and the checks. ``--quick``: 40
clients for 10 s; the full run: 200 clients for 60 s. Nothing here is asserted in the test suite: this is a
measurement (tests/service/ holds the behaviour).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from benchmarks._postgres import PG_DSN, pg_available
from efficacy_flow.calendar import china
from efficacy_flow.clock import SystemClock
from efficacy_flow.engine import Engine
from efficacy_flow.service import hash_token
from efficacy_flow.store import Store

FIXTURES = Path(__file__).resolve().parents[1] / "tests" / "engine" / "fixtures" / "basic"
CLI = [sys.executable, "-m", "efficacy_flow.cli"]


@dataclass
class Tally:
    """What the clients saw."""

    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    statuses: Counter[tuple[str, int]] = field(default_factory=Counter)
    transport_errors: int = 0
    #: instance id → task ids a client was told it completed (200).
    completed: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    cases_closed: int = 0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _config(folder: Path, tokens: list[str]) -> Path:
    lines = ["tokens:"]
    for n, token in enumerate(tokens):
        lines += [f"  - sha256: {hash_token(token)}", f"    actor: clerk-{n}", "    roles: [受理员]"]
    # The clients are the load: no rate limit in the way (it is per token and per process, docs/service.md).
    lines += ["rate_limit: {requests: 1000000, per_seconds: 1}"]
    path = folder / "service.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@contextmanager
def _servers(store_url: str, config: Path, api_processes: int) -> Iterator[str]:
    """``serve`` (and one ``worker``) as subprocesses on a free port; the base URL while they run."""
    port = _free_port()
    env = {**os.environ}
    serve = [*CLI, "serve", "--store", store_url, "--processes", str(FIXTURES), "--config", str(config)]
    serve += ["--port", str(port), "--workers", str(api_processes)]
    worker = [*CLI, "worker", "--store", store_url, "--processes", str(FIXTURES), "--interval", "1s"]
    procs = [subprocess.Popen(serve, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)]
    procs.append(subprocess.Popen(worker, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE))
    base = f"http://127.0.0.1:{port}/api/v1"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or procs[0].poll() is not None:
                err = (
                    procs[0].stderr.read().decode() if procs[0].stderr and procs[0].poll() is not None else ""
                )
                raise RuntimeError(f"the API did not start: {err[-2000:]}")
            time.sleep(0.2)
        yield base
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()


async def _call(
    client: httpx.AsyncClient, tally: Tally, kind: str, method: str, url: str, **kw: object
) -> httpx.Response | None:
    started = time.perf_counter()
    try:
        answer = await client.request(method, url, **kw)  # type: ignore[arg-type]
    except httpx.HTTPError:
        tally.transport_errors += 1
        return None
    tally.latencies[kind].append(time.perf_counter() - started)
    tally.statuses[(kind, answer.status_code)] += 1
    return answer


async def _work(
    client: httpx.AsyncClient, tally: Tally, until: float, shared: asyncio.Queue[str] | None, lead: bool
) -> None:
    """One client: cases one after another until ``until``; with ``shared``, two clients on each case."""
    while time.monotonic() < until:
        if shared is None or lead:
            started = await _call(
                client, tally, "start", "POST", "/instances", json={"process_id": "fx_ten", "data": {}}
            )
            if started is None or started.status_code != 201:
                continue
            instance_id = started.json()["id"]
            if shared is not None:
                await shared.put(instance_id)
        else:
            try:
                instance_id = await asyncio.wait_for(shared.get(), timeout=max(until - time.monotonic(), 0.1))
            except TimeoutError:
                return
        while time.monotonic() < until:
            listed = await _call(client, tally, "tasks", "GET", "/tasks", params={"instance_id": instance_id})
            if listed is None or listed.status_code != 200:
                break
            items = listed.json()["items"]
            if not items:
                tally.cases_closed += lead or shared is None
                break
            for task in items:
                done = await _call(
                    client,
                    tally,
                    "complete",
                    "POST",
                    f"/tasks/{task['id']}/complete",
                    json={"data": {"note": "ok"}},
                )
                if done is not None and done.status_code == 200:
                    tally.completed[instance_id].append(task["id"])


async def _load(base: str, tokens: list[str], seconds: float) -> tuple[Tally, float]:
    tally = Tally()
    until = time.monotonic() + seconds
    limits = httpx.Limits(max_connections=len(tokens) + 10, max_keepalive_connections=len(tokens) + 10)
    clients = [
        httpx.AsyncClient(base_url=base, headers={"Authorization": f"Bearer {t}"}, timeout=60, limits=limits)
        for t in tokens
    ]
    pairs = max(len(clients) // 20, 1)  # a tenth of the clients, in pairs, race on shared cases
    jobs = []
    for n, client in enumerate(clients):
        if n < 2 * pairs:
            if n % 2 == 0:
                shared: asyncio.Queue[str] = asyncio.Queue()
            jobs.append(_work(client, tally, until, shared, lead=n % 2 == 0))
        else:
            jobs.append(_work(client, tally, until, None, lead=True))
    began = time.perf_counter()
    await asyncio.gather(*jobs)
    elapsed = time.perf_counter() - began
    for client in clients:
        await client.aclose()
    return tally, elapsed


def _checks(store: Store, tally: Tally) -> tuple[bool, int, int]:
    """check_consistency over the store; completions told (200) but missing from the history (lost), and
    tasks completed twice."""
    engine = Engine(store, FIXTURES, calendar=china(), clock=SystemClock())
    report = engine.check_consistency()
    lost = twice = 0
    for instance_id, told in tally.completed.items():
        history = [e for e in engine.history(instance_id) if e.kind == "task_completed"]
        recorded = Counter(str(e.after["task_id"]) for e in history)
        lost += sum(1 for task_id in set(told) if recorded[task_id] == 0)
        twice += sum(1 for count in recorded.values() if count > 1) + len(told) - len(set(told))
    return report.ok, lost, twice


def _report(label: str, tally: Tally, elapsed: float, checks: tuple[bool, int, int]) -> None:
    print(f"-- {label}")
    print(f"{'request':<10} {'count':>7} {'p50 ms':>8} {'p99 ms':>8}")
    total = 0
    for kind in ("start", "tasks", "complete"):
        values = sorted(tally.latencies.get(kind, []))
        total += len(values)
        if values:
            p50 = statistics.median(values) * 1000
            p99 = values[min(len(values) - 1, int(len(values) * 0.99))] * 1000
            print(f"{kind:<10} {len(values):>7} {p50:>8.1f} {p99:>8.1f}")
    completes = sum(len(v) for v in tally.completed.values())
    rate, done = total / elapsed, completes / elapsed
    print(f"throughput: {rate:.0f} requests/s, {done:.0f} completions/s over {elapsed:.0f} s")
    races = tally.statuses.get(("complete", 409), 0)
    unexpected = {k: v for k, v in tally.statuses.items() if k[1] >= 400 and k != ("complete", 409)}
    print(f"status counts: {dict(sorted(tally.statuses.items()))}")
    print(
        f"409s of real races: {races}; other errors: {sum(unexpected.values())} {unexpected or ''}; "
        f"transport errors: {tally.transport_errors}"
    )
    ok, lost, twice = checks
    print(f"check_consistency: {'ok' if ok else 'FINDINGS'}; lost updates: {lost}; completed twice: {twice}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="40 clients for 10 s")
    parser.add_argument("--clients", type=int, default=None)
    parser.add_argument("--seconds", type=float, default=None)
    args = parser.parse_args(argv)
    clients = args.clients or (40 if args.quick else 200)
    seconds = args.seconds or (10.0 if args.quick else 60.0)
    tokens = [uuid.uuid4().hex for _ in range(clients)]
    failed = 0
    with tempfile.TemporaryDirectory(prefix="bench-service-") as tmp:
        folder = Path(tmp)
        config = _config(folder, tokens)
        if pg_available():
            schema = f"bench_service_{uuid.uuid4().hex[:8]}"
            store = Store(PG_DSN, schema=schema)
            try:
                url = _schema_url(PG_DSN, schema)
                with _servers(url, config, 2) as base:
                    tally, elapsed = asyncio.run(_load(base, tokens, seconds))
                checks = _checks(store, tally)
                _report(f"PostgreSQL, 2 API processes + 1 worker, {clients} clients", tally, elapsed, checks)
                failed += not checks[0] or checks[1] > 0 or checks[2] > 0
            finally:
                store.drop_schema()
                store.close()
        else:
            print("PostgreSQL not reachable: its run is skipped")
        sqlite = f"sqlite:///{folder / 'bench.db'}"
        with _servers(sqlite, config, 1) as base:
            tally, elapsed = asyncio.run(_load(base, tokens, seconds))
        store = Store(sqlite)
        try:
            checks = _checks(store, tally)
        finally:
            store.close()
        _report(f"SQLite, 1 API process + 1 worker, {clients} clients", tally, elapsed, checks)
        failed += not checks[0] or checks[1] > 0 or checks[2] > 0
    shutil.rmtree(folder, ignore_errors=True)
    return 1 if failed else 0


def _schema_url(dsn: str, schema: str) -> str:
    """A store URL whose connections work in ``schema`` (its search path), as ``serve`` takes one."""
    return f"{dsn}{'&' if '?' in dsn else '?'}options=-csearch_path%3D{schema}"


if __name__ == "__main__":
    sys.exit(main())
