"""``efficacy-flow worker`` as a subprocess fires a due timer on the system clock and stops cleanly on
SIGTERM; ``efficacy-flow serve`` refuses several processes on SQLite, and serves over PostgreSQL with two."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import yaml
from tests._postgres import PG_DSN, fresh_schema, require_postgres
from tests.service.conftest import TICKET, bearer, free_port, settings

from efficacy_flow import Actor
from efficacy_flow.cli import main
from efficacy_flow.service import open_engine
from efficacy_flow.store import Store

FIXTURE = Path(__file__).parent / "fixtures" / "quick_timer"
CLI = [sys.executable, "-m", "efficacy_flow.cli"]


def test_the_worker_fires_a_due_timer_and_stops_on_sigterm(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'worker.db'}"
    engine = open_engine(url, FIXTURE)
    case = engine.start("fx_quick_timer", {}, Actor("clerk", ["承办单位"]))
    worker = subprocess.Popen(
        [*CLI, "worker", "--store", url, "--processes", str(FIXTURE), "--interval", "200ms"],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while engine.instance(case.id).status != "completed":
            assert time.monotonic() < deadline, "the timer did not fire"
            time.sleep(0.2)
        assert "timer_fired" in [e.kind for e in engine.history(case.id)]
    finally:
        worker.send_signal(signal.SIGTERM)
        _, err = worker.communicate(timeout=30)
    assert worker.returncode == 0, err
    assert "worker stopped: 1 timers fired" in err
    engine.store.close()


def test_serve_refuses_several_processes_on_sqlite(tmp_path: Path) -> None:
    assert main(["serve", "--store", f"sqlite:///{tmp_path / 'x.db'}", "--workers", "2"]) == 2


def test_serve_runs_two_api_processes_on_postgresql(tmp_path: Path) -> None:
    require_postgres()
    schema = fresh_schema()
    config = tmp_path / "service.yaml"
    tokens = settings().model_dump(mode="json")["tokens"]
    config.write_text(yaml.safe_dump({"tokens": tokens}, allow_unicode=True), encoding="utf-8")
    port = free_port()
    url = f"{PG_DSN}?options=-csearch_path%3D{schema}"
    Store(PG_DSN, schema=schema).close()  # the schema exists before the URL names it
    server = subprocess.Popen(
        [*CLI, "serve", "--store", url, "--config", str(config), "--port", str(port), "--workers", "2"],
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ},
    )
    try:
        base = f"http://127.0.0.1:{port}/api/v1"
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(base + "/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert server.poll() is None, "the server stopped"
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.3)
        body = {"process_id": "complaint_closure", "data": TICKET}
        with httpx.Client(
            base_url=base, headers={**bearer("tok-operator"), "Idempotency-Key": "pg-1"}
        ) as api:
            answers = [api.post("/instances", json=body) for _ in range(6)]  # spread over both processes
        assert {a.status_code for a in answers} == {201}
        assert len({a.content for a in answers}) == 1
    finally:
        server.send_signal(signal.SIGTERM)
        server.communicate(timeout=30)
        leftover = Store(PG_DSN, schema=schema)
        leftover.drop_schema()
        leftover.close()
