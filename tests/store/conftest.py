"""A store per test on SQLite and on PostgreSQL (a fresh schema; skipped with a reason if the server is
absent)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from tests._postgres import PG_DSN, fresh_schema, require_postgres

from efficacy_flow.store import Store


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """An empty store."""
    if request.param == "sqlite":
        opened = Store(f"sqlite:///{tmp_path / 'store.db'}")
        yield opened
        opened.close()
        return
    require_postgres()
    opened = Store(PG_DSN, schema=fresh_schema())
    yield opened
    opened.drop_schema()
    opened.close()
