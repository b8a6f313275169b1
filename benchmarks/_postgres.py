"""The PostgreSQL server the benchmarks use: ``EFFICACY_FLOW_TEST_PG`` (the tests' variable), default
``postgresql://postgres@127.0.0.1:5432/test``; each store in a fresh schema, dropped afterwards."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from efficacy_flow.store import Store

PG_DSN = os.environ.get("EFFICACY_FLOW_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")


def pg_available() -> bool:
    """Whether the server answers within 3 s."""
    try:
        import psycopg

        with psycopg.connect(PG_DSN, connect_timeout=3):
            return True
    except Exception:
        return False


@contextmanager
def pg_store(prefix: str) -> Iterator[Store]:
    """A store in a fresh schema named ``<prefix>_<8 hex>``, dropped on exit."""
    store = Store(PG_DSN, schema=f"{prefix}_{uuid.uuid4().hex[:8]}")
    try:
        yield store
    finally:
        store.drop_schema()
        store.close()
