"""Fixtures for the engine contract suite: one engine per test on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from tests._postgres import PG_DSN, fresh_schema, require_postgres

from efficacy_flow.calendar import china
from efficacy_flow.clock import CHINA_TZ
from efficacy_flow.engine import Engine
from efficacy_flow.store import Store
from efficacy_flow.testing import FakeClock

FIXTURES = Path(__file__).parent / "fixtures"
BASIC = FIXTURES / "basic"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store_factory(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[], Store]]:
    """Opens stores on one database per test: a temp SQLite file, or a fresh PostgreSQL schema."""
    opened: list[Store] = []
    schema = fresh_schema()
    if request.param == "postgresql":
        require_postgres()

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
