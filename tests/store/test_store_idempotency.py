"""Schema 7: the HTTP service's idempotency keys — claimed once per (actor, key) even by concurrent
transactions, answered, released, pruned; a schema-6 database gains the table when it opens, on SQLite and
PostgreSQL."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

from efficacy_flow.clock import CHINA_TZ
from efficacy_flow.store import IdempotencyRecord, Store
from efficacy_flow.store._schema import SCHEMA_VERSION

AT = datetime(2025, 9, 26, 10, 0, 0, 123456, tzinfo=CHINA_TZ)
HASH = "a" * 64


def test_a_key_is_claimed_once_and_answered(store: Store) -> None:
    with store.transaction() as tx:
        assert tx.claim_idempotency_key("op-17", "k1", HASH, AT) is None
    with store.transaction() as tx:
        running = tx.claim_idempotency_key("op-17", "k1", "b" * 64, AT)
    assert running == IdempotencyRecord("op-17", "k1", HASH, None, None, AT, None)
    with store.transaction() as tx:
        assert tx.claim_idempotency_key("zj-03", "k1", HASH, AT) is None  # keys are per actor
        assert tx.answer_idempotency_key("op-17", "k1", 201, b'{"id": "x"}', AT + timedelta(seconds=1))
        assert not tx.answer_idempotency_key("op-17", "k1", 500, b"{}", AT)  # answered once
        assert not tx.release_idempotency_key("op-17", "k1")  # an answered key stays
    with store.read() as reader:
        found = reader.idempotency_key("op-17", "k1")
    assert found == IdempotencyRecord("op-17", "k1", HASH, 201, b'{"id": "x"}', AT, AT + timedelta(seconds=1))


def test_a_released_key_can_be_claimed_again_and_old_keys_are_pruned(store: Store) -> None:
    with store.transaction() as tx:
        tx.claim_idempotency_key("op-17", "k1", HASH, AT)
        assert tx.release_idempotency_key("op-17", "k1")
        assert tx.claim_idempotency_key("op-17", "k1", HASH, AT) is None
        tx.claim_idempotency_key("op-17", "k2", HASH, AT + timedelta(days=2))
        assert tx.prune_idempotency_keys(AT + timedelta(days=1)) == 1
    with store.read() as reader:
        assert reader.idempotency_key("op-17", "k1") is None
        assert reader.idempotency_key("op-17", "k2") is not None


def test_concurrent_claims_of_one_key_have_one_winner(store: Store) -> None:
    results: list[IdempotencyRecord | None] = []
    barrier = threading.Barrier(4)

    def claim() -> None:
        barrier.wait()
        with store.transaction() as tx:
            results.append(tx.claim_idempotency_key("op-17", "race", HASH, AT))

    threads = [threading.Thread(target=claim) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(r is None for r in results) == [False, False, False, True]


def test_a_schema_7_database_gains_the_table(store: Store) -> None:
    with store.transaction() as tx:
        tx._run("DROP TABLE ef_idempotency_keys", ())
        tx._run("UPDATE ef_meta SET value = '7' WHERE \"key\" = 'schema_version'", ())
    reopened = Store(store.url, schema=store.schema)
    try:
        with reopened.read() as reader:
            version = reader.execute("SELECT value FROM ef_meta WHERE \"key\" = 'schema_version'")
        assert version == [(str(SCHEMA_VERSION),)]
        assert SCHEMA_VERSION == 8
        with reopened.transaction() as tx:
            assert tx.claim_idempotency_key("op-17", "k1", HASH, AT) is None
    finally:
        reopened.close()
