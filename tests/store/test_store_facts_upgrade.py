"""Schemas 6 and 7: the case facts gain ``week`` and ``repeated``, then ``rating_removed``; older tables are
upgraded in place (a schema-5 table's rows given the ISO week they were received in, China time), on SQLite
and PostgreSQL."""

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


def test_a_schema_6_facts_table_gains_rating_removed(store: Store) -> None:
    """Schema 7: ``rating_removed`` (申诉复核, 好差评) is added, NULL for the rows kept; a removal marks a
    row, and the appraisal counts leave that 差评 out of 参评 and 差评 (counted in ``removed``)."""
    bad = replace(_facts("c-3"), rating="不满意", first_rating="不满意")
    with store.transaction() as tx:
        tx.save_case_facts(bad)
        tx._run("ALTER TABLE ef_case_facts DROP COLUMN rating_removed", ())
        tx._run("UPDATE ef_meta SET value = '6' WHERE \"key\" = 'schema_version'", ())
    reopened = Store(store.url, schema=store.schema)
    try:
        with reopened.read() as reader:
            assert reader.case_facts("c-3") == bad  # rating_removed NULL
        since, until = datetime(2025, 9, 1, tzinfo=CHINA_TZ), datetime(2025, 10, 1, tzinfo=CHINA_TZ)

        def counts() -> tuple[int, int, int]:
            with reopened.read() as reader:
                (row,) = reader.appraisal(since, until, by=(), satisfied=["满意"], bad=["不满意"])
            return row.rated, row.bad, row.removed

        assert counts() == (1, 1, 0)
        with reopened.transaction() as tx:
            assert tx.remove_ratings(["c-3", "no-such-case"], RECEIVED) == 1
            tx.save_case_facts(replace(bad, status="completed"))  # a later save of the case keeps the mark
        with reopened.read() as reader:
            assert reader.case_facts("c-3").rating_removed is True  # type: ignore[union-attr]
        assert counts() == (0, 0, 1)
    finally:
        reopened.close()
