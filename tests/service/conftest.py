"""A real uvicorn server on a free port, in a thread, over a real store (a SQLite file, or a fresh PostgreSQL
schema), with the shipped processes; tests talk to it with httpx over HTTP."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import httpx
import pytest
import uvicorn
from tests._postgres import PG_DSN, fresh_schema, require_postgres

from efficacy_flow import Actor, Engine, shipped_processes
from efficacy_flow.calendar import china
from efficacy_flow.clock import CHINA_TZ, SystemClock
from efficacy_flow.service import ServiceSettings, TokenSettings, create_app, hash_token
from efficacy_flow.store import Store

#: token → (actor id, roles, unit); each token's SHA-256 is what the settings hold.
PEOPLE = {
    "tok-operator": ("op-17", ("受理员",), None),
    "tok-unit": ("cg-01", ("承办单位",), "市城管局"),
    "tok-unit-2": ("cg-02", ("承办单位",), "市城管局"),
    "tok-water": ("sw-01", ("承办单位",), "市水务局"),
    "tok-reviewer": ("rv-01", ("审核员",), None),
    "tok-head": ("head-1", ("单位负责人",), "市城管局"),
    "tok-office": ("xn-01", ("效能办",), None),
}
EXPIRED = "tok-expired"
TICKET = {"title": "小区路灯不亮", "content": "幸福小区3号楼前路灯已坏一周", "requester_phone": "13812345678"}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def settings(**overrides: object) -> ServiceSettings:
    tokens = [
        TokenSettings(sha256=hash_token(token), actor=actor, roles=roles, unit=unit)
        for token, (actor, roles, unit) in PEOPLE.items()
    ]
    tokens.append(
        TokenSettings(
            sha256=hash_token(EXPIRED),
            actor="op-old",
            roles=("受理员",),
            expires_at=datetime(2020, 1, 1, tzinfo=CHINA_TZ),
        )
    )
    return ServiceSettings.model_validate({"tokens": tokens, "sse_poll_seconds": 0.05, **overrides})


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Running:
    """A server and what it runs on."""

    url: str
    engine: Engine
    client: httpx.Client
    opened: list[httpx.Client] = field(default_factory=list)

    def as_(self, token: str) -> httpx.Client:
        """A client sending ``token`` (closed when the server stops)."""
        made = httpx.Client(base_url=self.url + "/api/v1", headers=bearer(token), timeout=30)
        self.opened.append(made)
        return made


def serve(engine: Engine, config: ServiceSettings) -> Iterator[Running]:
    """Run the app over ``engine`` until the generator is closed."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(engine, config),
            host="127.0.0.1",
            port=port,
            log_level="warning",
            timeout_graceful_shutdown=1,
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive(), "the server stopped"
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.02)
    url = f"http://127.0.0.1:{port}"
    with httpx.Client(base_url=url + "/api/v1", timeout=30) as client:
        running = Running(url, engine, client)
        try:
            yield running
        finally:
            for made in running.opened:
                made.close()
    server.should_exit = True
    thread.join(10)


def open_store(kind: str, tmp_path: Path) -> Store:
    if kind == "sqlite":
        return Store(f"sqlite:///{tmp_path / 'service.db'}")
    require_postgres()
    return Store(PG_DSN, schema=fresh_schema())


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def running(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Running]:
    """A server over the shipped processes on the system clock (SQLite file or PostgreSQL schema)."""
    store = open_store(request.param, tmp_path)
    engine = Engine(store=store, processes=shipped_processes(), calendar=china(), clock=SystemClock())
    yield from serve(engine, settings())
    if store.dialect == "postgresql":
        store.drop_schema()
    store.close()


@pytest.fixture
def start_case(running: Running) -> Callable[..., dict[str, object]]:
    """Start a 12345 ticket over HTTP as the operator; return the instance."""

    def start(**extra: object) -> dict[str, object]:
        with running.as_("tok-operator") as api:
            answer = api.post("/instances", json={"process_id": "complaint_closure", "data": TICKET, **extra})
        assert answer.status_code == 201, answer.text
        found: dict[str, object] = answer.json()
        return found

    return start


def actor(token: str) -> Actor:
    actor_id, roles, unit = PEOPLE[token]
    return Actor(actor_id, roles=roles, unit=unit)
