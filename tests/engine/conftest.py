"""Fixtures for the engine contract suite: one engine per test on SQLite and on PostgreSQL."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from efficacy_flow.calendar import china
from efficacy_flow.clock import CHINA_TZ
from efficacy_flow.engine import Engine
from efficacy_flow.store import Store
from efficacy_flow.testing import FakeClock

FIXTURES = Path(__file__).parent / "fixtures"
BASIC = FIXTURES / "basic"
PG_DSN = os.environ.get("EFFICACY_FLOW_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
SESSION = uuid.uuid4().hex[:8]


def _pg_reason() -> str | None:
    try:
        import psycopg

        with psycopg.connect(PG_DSN, connect_timeout=3):
            return None
    except Exception as exc:
        return f"PostgreSQL at {PG_DSN} is unreachable ({type(exc).__name__}: {exc})"


_PG_UNAVAILABLE = _pg_reason()


def _skip_or_fail_pg() -> None:
    if _PG_UNAVAILABLE is None:
        return
    if os.environ.get("EFFICACY_FLOW_REQUIRE_POSTGRES") == "1":
        pytest.fail(f"EFFICACY_FLOW_REQUIRE_POSTGRES=1 but {_PG_UNAVAILABLE}")
    pytest.skip(_PG_UNAVAILABLE)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store_factory(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[], Store]]:
    """Opens stores on one database per test: a temp SQLite file, or a fresh PostgreSQL schema."""
    opened: list[Store] = []
    schema = f"ef_{SESSION}_{uuid.uuid4().hex[:8]}"
    if request.param == "postgresql":
        _skip_or_fail_pg()

    def make() -> Store:
        if request.param == "sqlite":
            store = Store(f"sqlite:///{tmp_path / 'engine.db'}")
        else:
            store = Store(PG_DSN, schema=schema)
        opened.append(store)
        return store

    yield make
    if request.param == "postgresql" and opened:
        opened[0].drop_schema()
    for store in opened:
        store.close()


@pytest.fixture
def clock() -> FakeClock:
    """Friday 2025-09-26 10:00 in Beijing: the issue's scenario start."""
    return FakeClock(datetime(2025, 9, 26, 10, 0, tzinfo=CHINA_TZ))


@pytest.fixture
def make_engine(store_factory: Callable[[], Store], clock: FakeClock) -> Callable[..., Engine]:
    """Builds engines on the test's database (several calls share it, like several processes would)."""

    def make(processes: Path | None = BASIC, **kwargs: Any) -> Engine:
        kwargs.setdefault("calendar", china())
        kwargs.setdefault("clock", clock)
        return Engine(store=store_factory(), processes=processes, **kwargs)

    return make


@pytest.fixture
def engine(make_engine: Callable[..., Engine]) -> Engine:
    """An engine with the basic fixtures deployed."""
    return make_engine()
