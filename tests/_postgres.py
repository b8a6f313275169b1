"""Where the PostgreSQL half of the contract suite runs, and what happens where it cannot.

The server is ``EFFICACY_FLOW_TEST_PG`` (default: the development and CI machines' local server). Where it
is unreachable, PostgreSQL tests skip and say why — unless ``EFFICACY_FLOW_REQUIRE_POSTGRES=1`` (set by
.ci/run on CI), where a missing server is a failure, never a silent skip.
"""

from __future__ import annotations

import os
import uuid

import pytest

PG_DSN = os.environ.get("EFFICACY_FLOW_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
#: Prefix of this test session's schemas, so parallel runs on one server never collide.
SESSION = uuid.uuid4().hex[:8]


def _unavailable() -> str | None:
    try:
        import psycopg

        with psycopg.connect(PG_DSN, connect_timeout=3):
            return None
    except Exception as exc:
        return f"PostgreSQL at {PG_DSN} is unreachable ({type(exc).__name__}: {exc})"


PG_UNAVAILABLE = _unavailable()


def require_postgres() -> None:
    """Skip the calling test (with the reason) where PostgreSQL is absent, or fail it where CI requires it."""
    if PG_UNAVAILABLE is None:
        return
    if os.environ.get("EFFICACY_FLOW_REQUIRE_POSTGRES") == "1":
        pytest.fail(f"EFFICACY_FLOW_REQUIRE_POSTGRES=1 but {PG_UNAVAILABLE}")
    pytest.skip(PG_UNAVAILABLE)


def fresh_schema() -> str:
    """A schema name unique to this session and call."""
    return f"ef_{SESSION}_{uuid.uuid4().hex[:8]}"
