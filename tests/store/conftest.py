"""A store per test on SQLite and on PostgreSQL (a fresh schema; skipped with a reason if the server is
absent), and databases of the previous schema version to open with it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, insert, text
from tests._postgres import PG_DSN, fresh_schema, require_postgres
from tests.store import schema_v1

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


class Legacy:
    """An empty database with store schema 1's tables (tests/store/schema_v1.py), written through SQLAlchemy
    exactly as the previous version wrote it; :meth:`open` opens it with today's store."""

    def __init__(self, url: str, schema: str | None) -> None:
        connect_args = {"options": f"-csearch_path={schema}"} if schema is not None else {}
        driver_url = url.replace("postgresql://", "postgresql+psycopg://", 1)
        if schema is not None:
            maker = create_engine(driver_url)
            with maker.begin() as conn:
                conn.execute(text(f'CREATE SCHEMA "{schema}"'))
            maker.dispose()
        self.url = url
        self.schema = schema
        self.engine = create_engine(driver_url, connect_args=connect_args)
        schema_v1.METADATA.create_all(self.engine)
        with self.engine.begin() as conn:
            conn.execute(insert(schema_v1.meta).values(key="schema_version", value="1"))

    def insert(self, table: Any, *rows: dict[str, Any]) -> None:
        """Insert rows through SQLAlchemy Core and the schema-1 column types."""
        with self.engine.begin() as conn:
            conn.execute(insert(table), list(rows))

    def open(self) -> Store:
        return Store(self.url, schema=self.schema)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def legacy(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Legacy]:
    """A schema-1 database on SQLite (a file) or PostgreSQL (a fresh schema)."""
    if request.param == "sqlite":
        made = Legacy(f"sqlite:///{tmp_path / 'v1.db'}", None)
    else:
        require_postgres()
        made = Legacy(PG_DSN, fresh_schema())
    yield made
    if made.schema is not None:
        with made.engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{made.schema}" CASCADE'))
    made.engine.dispose()
