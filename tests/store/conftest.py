"""A store per test on SQLite and on PostgreSQL (a fresh schema; skipped with a reason if the server is
absent)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from efficacy_flow.store import Store

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


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """An empty store."""
    if request.param == "sqlite":
        opened = Store(f"sqlite:///{tmp_path / 'store.db'}")
        yield opened
        opened.close()
        return
    if _PG_UNAVAILABLE is not None:
        if os.environ.get("EFFICACY_FLOW_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"EFFICACY_FLOW_REQUIRE_POSTGRES=1 but {_PG_UNAVAILABLE}")
        pytest.skip(_PG_UNAVAILABLE)
    opened = Store(PG_DSN, schema=f"ef_{SESSION}_{uuid.uuid4().hex[:8]}")
    yield opened
    opened.drop_schema()
    opened.close()
