"""Schema 6: the case facts gain ``week`` and ``repeated``; a schema-5 table is upgraded in place, its rows
given the ISO week they were received in (China time), on SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from efficacy_flow.clock import CHINA_TZ
from efficacy_flow.store import CaseFactsRecord, Store
from efficacy_flow.store._schema import SCHEMA_VERSION

RECEIVED = datetime(2025, 9, 28, 23, 30, tzinfo=CHINA_TZ)  # Sunday night in Beijing: ISO week 39, not 40


def _facts(instance_id: str) -> CaseFactsRecord:
    return CaseFactsRecord(
        instance_id=instance_id,
        process_id="complaint_closure",
        period="2025-09",
        week="2025-W39",
        repeated=True,
        received_at=RECEIVED,
        status="active",
        unit="市城管局",
        region=None,
        case_type=None,
        category=None,
        sector=None,
        signed_at=None,
        sign_late=None,
        replied_at=None,
        closed_at=None,
        limits_missed=0,
        first_rating=None,
        rating=None,
        rating_defaulted=None,
        solved=None,
        updated_at=RECEIVED,
    )


def test_a_schema_5_facts_table_is_upgraded(store: Store) -> None:
    with store.transaction() as tx:
        tx.save_case_facts(_facts("c-1"))
        # Back to schema 5: the table without the two columns, the version recorded as 5.
        for column in ("week", "repeated"):
            tx._run(f"ALTER TABLE ef_case_facts DROP COLUMN {column}", ())
        tx._run("UPDATE ef_meta SET value = '5' WHERE \"key\" = 'schema_version'", ())
    reopened = Store(store.url, schema=store.schema)
    try:
        with reopened.read() as reader:
            found = reader.case_facts("c-1")
            version = reader.execute("SELECT value FROM ef_meta WHERE \"key\" = 'schema_version'")
        assert version == [(str(SCHEMA_VERSION),)]
        assert found == replace(_facts("c-1"), repeated=None)  # the week computed; repeated unknown
        with reopened.transaction() as tx:
            tx.save_case_facts(replace(_facts("c-2"), week="2025-W40", repeated=False))
        with reopened.read() as reader:
            assert reader.case_facts("c-2") is not None
            assert reader.case_facts("c-2").repeated is False  # type: ignore[union-attr]
    finally:
        reopened.close()
