"""The store's contract, identical on SQLite and PostgreSQL (every test takes the parametrized ``store``)."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
from tests.store.rows import T0, deadline, incident, instance, task

from efficacy_flow.calendar import MINUTES, WORKING_DAYS, TimeLimit
from efficacy_flow.errors import ConcurrentUpdate, InvalidInput, NaiveDatetime, StoreError
from efficacy_flow.store import AuditRecord, Store

# -- definitions, instances, tasks, deadlines, audit -------------------------------------------------------


def test_definition_stored_once(store: Store) -> None:
    """A definition with a known hash is not stored twice."""
    with store.transaction() as tx:
        assert tx.put_definition("a" * 64, "p", b"content", T0) is True
        assert tx.put_definition("a" * 64, "p", b"other", T0) is False
        assert tx.get_definition("a" * 64) == b"content"
        assert tx.get_definition("b" * 64) is None


def test_every_column_of_every_record_round_trips(store: Store) -> None:
    """What is written comes back equal, field for field (instants aware in Asia/Shanghai, bytes, booleans,
    time limits, None), through a write transaction and a read transaction alike."""
    record = instance(
        "i1",
        business_key="12345-0001",
        state=b"\x00\x01state\xff",
        suspended_at=T0 + timedelta(days=1, microseconds=7),
        incident_id="n1",
    )
    tasks = [task("t1", "i1"), task("t2", "i1", role=None, unit=None, due_at=None)]
    deadlines = [
        deadline("d1", "i1", None, remaining=TimeLimit(5, WORKING_DAYS), interrupting=False, task_id="t1"),
        deadline("d2", "i1", T0, remaining=TimeLimit(120, MINUTES), kind="elapsed", incident_id="n1"),
    ]
    event = AuditRecord("i1", 1, T0, "op", "started", None, '{"a":"张三"}', "0" * 64, "f" * 64)
    with store.transaction() as tx:
        tx.insert_instance(record)
        tx.sync_tasks("i1", tasks, closed_status="cancelled", at=T0, by=None, previous=[])
        tx.replace_deadlines("i1", deadlines, previous=[])
        tx.append_audit(event)
        assert tx.get_instance("i1") == record
    with store.read() as reader:
        assert reader.get_instance("i1") == record
        assert [reader.get_task("t1"), reader.get_task("t2")] == tasks
        assert reader.deadlines_of("i1") == deadlines
        assert reader.audit_of("i1") == [event]
    stored = reader_instant(store, "i1")
    assert stored.utcoffset() == timedelta(hours=8)


def reader_instant(store: Store, instance_id: str) -> datetime:
    with store.read() as reader:
        found = reader.get_instance(instance_id)
    assert found is not None
    return found.created_at


def test_version_check(store: Store) -> None:
    """An update naming the current version bumps it; an outdated one raises ConcurrentUpdate."""
    with store.transaction() as tx:
        tx.insert_instance(instance("i1"))
        assert tx.update_instance("i1", 1, status="suspended", incident_id="n1") == 2
    with pytest.raises(ConcurrentUpdate) as caught, store.transaction() as tx:
        tx.update_instance("i1", 1, status="active")
    assert caught.value.fields == {"instance_id": "i1", "expected_version": 1}
    with store.read() as reader:
        record = reader.get_instance("i1")
    assert record is not None
    assert (record.version, record.status, record.incident_id) == (2, "suspended", "n1")


def test_update_instance_writes_only_the_named_columns(store: Store) -> None:
    """update_instance writes the named columns and the bumped version, nothing else; an unknown column is
    refused before anything is written."""
    with store.transaction() as tx:
        tx.insert_instance(instance("i1"))
        assert tx.update_instance("i1", 1, state=b"new", audit_seq=2, audit_head="a" * 64) == 2
    with pytest.raises(InvalidInput), store.transaction() as tx:
        tx.update_instance("i1", 2, colour="red")
    with store.read() as reader:
        assert reader.get_instance("i1") == instance(
            "i1", version=2, state=b"new", audit_seq=2, audit_head="a" * 64
        )


def test_set_instance_incident_keeps_the_version(store: Store) -> None:
    """The instance's incident is set and cleared without a version bump; an unknown instance reports
    False."""
    with store.transaction() as tx:
        tx.insert_instance(instance("i1"))
        assert tx.set_instance_incident("i1", "n1") is True
        assert tx.set_instance_incident("nope", "n1") is False
    with store.read() as reader:
        found = reader.get_instance("i1")
    assert found is not None
    assert (found.incident_id, found.version) == ("n1", 1)
    with store.transaction() as tx:
        tx.set_instance_incident("i1", None)
        cleared = tx.get_instance("i1")
    assert cleared == instance("i1")


def test_transaction_rolls_back_on_error(store: Store) -> None:
    """Nothing written inside a failing transaction survives."""

    def failing_call() -> None:
        with store.transaction() as tx:
            tx.insert_instance(instance("i1"))
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        failing_call()
    with store.read() as reader:
        assert reader.get_instance("i1") is None


def test_naive_instants_are_refused_and_nothing_is_written(store: Store) -> None:
    """Instants come back aware; a naive one is refused with NaiveDatetime wherever it is bound."""

    def insert_two() -> None:
        with store.transaction() as tx:
            tx.insert_instance(instance("i1"))
            tx.insert_instance(instance("i2", created_at=datetime(2025, 1, 1)))

    with pytest.raises(NaiveDatetime):
        insert_two()
    with pytest.raises(NaiveDatetime), store.read() as reader:
        reader.due_instance_ids(datetime(2025, 1, 1), 10)
    with store.read() as reader:
        assert reader.count_instances() == 0


def test_due_query_returns_only_due_unfired_unparked(store: Store) -> None:
    """due_instance_ids returns instances with an unparked timer due at now ((-inf, now]), earliest first,
    and nothing else."""
    with store.transaction() as tx:
        for n in range(6):
            tx.insert_instance(instance(f"i{n}"))
        tx.replace_deadlines("i0", [deadline("d0", "i0", T0 + timedelta(hours=2))])
        tx.replace_deadlines("i1", [deadline("d1", "i1", T0 + timedelta(hours=1))])
        tx.replace_deadlines("i2", [deadline("d2", "i2", T0 + timedelta(hours=3))])
        tx.replace_deadlines("i3", [deadline("d3", "i3", None)])  # suspended
        tx.replace_deadlines("i4", [deadline("d4a", "i4", T0), deadline("d4b", "i4", T0)])
        tx.replace_deadlines("i5", [deadline("d5", "i5", T0, incident_id="n5")])  # parked
    with store.read() as reader:
        assert reader.due_instance_ids(T0 - timedelta(seconds=1), 10) == []
        assert reader.due_instance_ids(T0, 10) == ["i4"]
        assert reader.due_instance_ids(T0 + timedelta(hours=2), 10) == ["i4", "i1", "i0"]
        assert reader.due_instance_ids(T0 + timedelta(hours=2), 2) == ["i4", "i1"]


def test_replace_deadlines_is_exact(store: Store) -> None:
    """replace_deadlines leaves exactly the given rows (added, changed, removed)."""
    with store.transaction() as tx:
        tx.insert_instance(instance("i1"))
        tx.replace_deadlines("i1", [deadline("a", "i1", T0), deadline("b", "i1", T0)])
        paused = deadline("c", "i1", None, remaining=TimeLimit(2, WORKING_DAYS), incident_id="n1")
        tx.replace_deadlines("i1", [deadline("b", "i1", T0 + timedelta(days=1)), paused])
    with store.read() as reader:
        rows = reader.deadlines_of("i1")
    assert rows == [deadline("b", "i1", T0 + timedelta(days=1)), paused]


def test_tasks_sync_and_close(store: Store) -> None:
    """Ready rows follow sync_tasks; closing twice reports the second close as lost."""
    with store.transaction() as tx:
        tx.insert_instance(instance("i1"))
        tx.sync_tasks("i1", [task("t1", "i1")], closed_status="cancelled", at=T0, by=None)
        assert [t.id for t in tx.ready_tasks(role="承办单位", unit="市住建局")] == ["t1"]
        assert tx.ready_tasks(unit="市交通局") == []
        assert tx.close_task("t1", status="completed", at=T0, by="u") is True
        assert tx.close_task("t1", status="completed", at=T0, by="u") is False
    with store.read() as reader:
        closed = reader.get_task("t1")
        assert reader.ready_tasks() == []
    assert closed is not None
    assert (closed.status, closed.closed_by, closed.closed_at) == ("completed", "u", T0)


def test_sync_tasks_closes_inserts_and_retimes(store: Store) -> None:
    """The common calls: one completed and one opened; one whose due time and unit moved; the rest
    cancelled."""
    a, b, c = task("a", "i1"), task("b", "i1"), task("c", "i1")
    with store.transaction() as tx:
        tx.insert_instance(instance("i1"))
        tx.sync_tasks("i1", [a, b], closed_status="cancelled", at=T0, by=None, previous=[])
    later = T0 + timedelta(hours=1)
    moved = task("b", "i1", unit="市交通局", due_at=T0 + timedelta(days=9))
    with store.transaction() as tx:
        tx.sync_tasks("i1", [moved, c], closed_status="cancelled", at=later, by="op", completed_id="a")
    with store.transaction() as tx:
        assert tx.get_task("a") == task("a", "i1", status="completed", closed_at=later, closed_by="op")
        assert tx.get_task("b") == moved
        assert tx.ready_tasks(instance_id="i1") == [moved, c]
        tx.sync_tasks("i1", [], closed_status="cancelled", at=later, by="op", completed_id="x")
        assert tx.get_task("c") == task("c", "i1", status="cancelled", closed_at=later)


def test_listing_and_counting_instances(store: Store) -> None:
    """list_instances filters by every argument given, oldest first, without the state; the counts and the
    business-key lookup agree."""
    with store.transaction() as tx:
        tx.insert_instance(instance("i2", business_key="k", created_at=T0 + timedelta(hours=1)))
        tx.insert_instance(instance("i1", business_key="k", status="completed"))
        tx.insert_instance(instance("i3", process_id="q"))
    with store.read() as reader:
        everything = reader.list_instances(process_id=None, status=None, business_key=None)
        assert [r.id for r in everything] == ["i1", "i3", "i2"]
        assert {r.state for r in everything} == {b""}
        assert everything[0] == instance("i1", business_key="k", status="completed", state=b"")
        keyed = reader.list_instances(process_id="p", status=None, business_key="k")
        assert [r.id for r in keyed] == ["i1", "i2"]
        assert [r.id for r in reader.list_instances(process_id="p", status="active", business_key=None)] == [
            "i2"
        ]
        assert reader.instance_ids_by_business_key("k") == ["i1", "i2"]
        assert (reader.count_instances(), reader.count_instances("completed")) == (3, 1)


def test_counter_events_count_by_period(store: Store) -> None:
    """Counts include ``until`` and start strictly after ``after`` or at ``at_or_after``; an instance's
    events are listed by counter."""
    with store.transaction() as tx:
        tx.lock_counter("c", "k", T0)
        tx.lock_counter("c", "k", T0)  # idempotent
        for n in range(3):
            tx.add_counter_event("c", "k", T0 + timedelta(hours=n), f"i{n}")
        tx.add_counter_event("d", "k", T0, "i0")
    with store.read() as reader:
        count = reader.count_counter_events
        assert count("c", "k", after=None, at_or_after=None, until=T0 + timedelta(hours=2)) == 3
        assert count("c", "k", after=T0, at_or_after=None, until=T0 + timedelta(hours=2)) == 2
        assert count("c", "k", after=None, at_or_after=T0, until=T0 + timedelta(hours=1)) == 2
        assert count("c", "other", after=None, at_or_after=None, until=T0) == 0
        assert reader.counter_events_of("i0") == [("c", "k", T0), ("d", "k", T0)]


def test_batched_scans_for_the_consistency_checker(store: Store) -> None:
    """instances_after pages by id (optionally among given ids); rows_of_instances groups every row by
    instance; orphan_instance_ids names rows whose instance is missing."""
    with store.transaction() as tx:
        for n in range(5):
            tx.insert_instance(instance(f"i{n}"))
        tx.sync_tasks("i1", [task("t1", "i1")], closed_status="cancelled", at=T0, by=None, previous=[])
        tx.replace_deadlines("i1", [deadline("d1", "i1", T0)], previous=[])
        tx.append_audit(AuditRecord("i1", 1, T0, None, "started", None, None, "0" * 64, "1" * 64))
        tx.sync_tasks("gone", [task("t9", "gone")], closed_status="cancelled", at=T0, by=None, previous=[])
        tx.insert_incident(incident("n9", "gone"))
    with store.read() as reader:
        assert [r.id for r in reader.instances_after(None, 2)] == ["i0", "i1"]
        assert [r.id for r in reader.instances_after("i1", 10)] == ["i2", "i3", "i4"]
        assert [r.id for r in reader.instances_after(None, 2, ids=["i4", "i1", "i3"])] == ["i1", "i3"]
        tasks, deadlines, audit = reader.rows_of_instances(["i1", "i2"])
        assert (list(tasks), list(deadlines), list(audit)) == (["i1"], ["i1"], ["i1"])
        assert reader.orphan_instance_ids() == {"tasks": ["gone"], "incidents": ["gone"]}


# -- claims ---------------------------------------------------------------------------------------------


def test_claims_skip_claimed_parked_and_expire(store: Store) -> None:
    """claim_due takes due rows earliest first, never a row another worker's live lease holds or an incident
    parks; an expired lease is claimable again; release_claims frees only the worker's own rows."""
    lease = T0 + timedelta(minutes=5)
    with store.transaction() as tx:
        for n in range(4):
            tx.insert_instance(instance(f"i{n}"))
            tx.replace_deadlines(f"i{n}", [deadline(f"d{n}", f"i{n}", T0 - timedelta(hours=n))])
        tx.park_deadlines("i3", "n3")
        assert tx.claim_due(T0, "a", lease, 2) == ["i2", "i1"]
        assert tx.claim_due(T0, "b", lease, 10) == ["i0"]
        assert tx.claim_due(T0, "c", lease, 10) == []
    with store.read() as reader:
        claims = [(r.id, r.claimed_by) for r in reader.claimed_rows()]
        assert claims == [("d2", "a"), ("d1", "a"), ("d0", "b")]
        assert [r.id for r in reader.claimed_rows("b")] == ["d0"]
    with store.transaction() as tx:
        assert sorted(tx.claim_due(lease, "c", lease + timedelta(minutes=5), 10)) == ["i0", "i1", "i2"]
        assert tx.release_claims("a", ["i0", "i1", "i2"]) == 0
        assert tx.release_claims("c", ["i0", "i1"]) == 2
        assert [r.id for r in tx.claimed_rows()] == ["d2"]


def test_parking_sets_and_clears_incident_ids_and_drops_claims(store: Store) -> None:
    """park_deadlines marks every row of the instance with the incident and clears their claims; with None
    it unparks them, and they are claimable again."""
    with store.transaction() as tx:
        tx.insert_instance(instance("i1"))
        tx.insert_instance(instance("i2"))
        tx.replace_deadlines("i1", [deadline("a", "i1", T0), deadline("b", "i1", None)])
        tx.replace_deadlines("i2", [deadline("c", "i2", T0)])
        assert tx.claim_due(T0, "w", T0 + timedelta(minutes=5), 10) == ["i1", "i2"]
        assert tx.park_deadlines("i1", "n1") == 2
    with store.read() as reader:
        parked = reader.deadlines_of("i1")
        assert [(r.incident_id, r.claimed_by, r.lease_until) for r in parked] == [("n1", None, None)] * 2
        assert [r.claimed_by for r in reader.deadlines_of("i2")] == ["w"]
    with store.transaction() as tx:
        assert tx.claim_due(T0 + timedelta(minutes=10), "v", T0 + timedelta(minutes=15), 10) == ["i2"]
        assert tx.park_deadlines("i1", None) == 2
        assert tx.claim_due(T0 + timedelta(minutes=10), "v", T0 + timedelta(minutes=15), 10) == ["i1"]


def test_the_claim_reads_only_unparked_rows_through_the_due_time_index(tmp_path: Path) -> None:
    """SQLite plans tick()'s claim as a search of the partial due-time index (rows no incident parks): parked
    rows are never rescanned, and no other index or table scan is involved."""
    store = Store(f"sqlite:///{tmp_path / 'plan.db'}")
    text = store._sql.claimable  # the claim's own statement, with its placeholders
    try:
        with store.read() as reader:
            plan = reader.execute(
                "EXPLAIN QUERY PLAN " + text.replace("?", ":t", 2).replace("?", ":n"), {"t": T0, "n": 10}
            )
    finally:
        store.close()
    assert [row[-1] for row in plan] == [
        "SEARCH ef_deadlines USING INDEX ix_ef_deadlines_due_unparked (due_at<?)"
    ]


def test_stale_claims_are_those_whose_lease_ran_out(store: Store) -> None:
    """stale_claims lists claimed rows with ``lease_until <= now`` (held by no one) and nothing else."""
    with store.transaction() as tx:
        tx.insert_instance(instance("i1"))
        tx.replace_deadlines("i1", [deadline("a", "i1", T0), deadline("b", "i1", T0 + timedelta(hours=1))])
        tx.claim_due(T0, "w", T0 + timedelta(minutes=5), 10)
    with store.read() as reader:
        assert reader.stale_claims(T0 + timedelta(minutes=4)) == []
        stale = reader.stale_claims(T0 + timedelta(minutes=5))
    assert [(r.id, r.claimed_by, r.lease_until) for r in stale] == [("a", "w", T0 + timedelta(minutes=5))]


# -- incidents ------------------------------------------------------------------------------------------


def test_incidents_round_trip_and_list_oldest_first(store: Store) -> None:
    """An incident reads back equal; incidents() filters by status (default: open) and instance, oldest
    first."""
    payload = '{"name": "rating", "payload": {"rating": "满意"}}'
    first = incident("n1", "i1", status="open", kind="message", payload=payload, next_attempt_at=None)
    second = incident("n2", "i2", status="open", created_at=T0 + timedelta(hours=1))
    third = incident("n3", "i1", created_at=T0 - timedelta(hours=1))
    with store.transaction() as tx:
        for record in (second, first, third):
            tx.insert_incident(record)
    with store.read() as reader:
        assert reader.get_incident("n1") == first
        assert reader.get_incident("nope") is None
        assert reader.incidents() == [first, second]
        assert reader.incidents(instance_id="i1") == [first]
        assert reader.incidents(statuses=("open", "retrying")) == [third, first, second]
        assert reader.incidents(instance_id="i1", statuses=None) == [third, first]
        assert reader.incidents(statuses=()) == []


def test_update_incident_sets_named_columns(store: Store) -> None:
    """update_incident writes exactly the named columns and says whether the incident exists; other columns
    are refused."""
    with store.transaction() as tx:
        tx.insert_incident(incident("n1", "i1"))
        resolved = T0 + timedelta(hours=2)
        changed = tx.update_incident(
            "n1", status="resolved", resolved_at=resolved, resolved_by="admin", updated_at=resolved
        )
        assert changed is True
        assert tx.update_incident("nope", attempts=2) is False
        with pytest.raises(InvalidInput):
            tx.update_incident("n1", instance_id="i2")
    with store.read() as reader:
        assert reader.get_incident("n1") == incident(
            "n1", "i1", status="resolved", resolved_at=resolved, resolved_by="admin", updated_at=resolved
        )


def test_claim_retries_takes_due_free_retrying_incidents_earliest_first(store: Store) -> None:
    """claim_retries claims incidents with status retrying, next_attempt_at <= now and a free lease, earliest
    first, and returns them as claimed; a live lease keeps others off until it expires."""
    lease = T0 + timedelta(minutes=5)
    with store.transaction() as tx:
        tx.insert_incident(incident("late", "i1", next_attempt_at=T0))
        tx.insert_incident(incident("early", "i2", next_attempt_at=T0 - timedelta(minutes=1)))
        tx.insert_incident(incident("future", "i3", next_attempt_at=T0 + timedelta(seconds=1)))
        tx.insert_incident(incident("open", "i4", status="open", next_attempt_at=T0 - timedelta(hours=1)))
        claimed = tx.claim_retries(T0, "a", lease, 10)
        assert [(r.id, r.claimed_by, r.lease_until) for r in claimed] == [
            ("early", "a", lease),
            ("late", "a", lease),
        ]
        soon = T0 + timedelta(seconds=1)
        assert tx.claim_retries(soon, "b", lease, 10) == [
            incident("future", "i3", next_attempt_at=soon, claimed_by="b", lease_until=lease)
        ]
        assert tx.claim_retries(T0, "c", lease, 10) == []
        assert [r.id for r in tx.claim_retries(lease, "c", lease + timedelta(minutes=5), 1)] == ["early"]


# -- opening --------------------------------------------------------------------------------------------


def test_reopening_reads_existing_rows(tmp_path: Path) -> None:
    """Opening an existing store keeps its rows (the schema is created once)."""
    url = f"sqlite:///{tmp_path / 's.db'}"
    with Store(url).transaction() as tx:
        tx.insert_instance(instance("i1"))
    with Store(url).read() as reader:
        assert reader.count_instances() == 1


def test_newer_schema_is_refused(store: Store) -> None:
    """A database written by a newer schema version is refused with StoreError naming the version."""
    with store.transaction() as tx:
        tx.execute("UPDATE ef_meta SET value = '99' WHERE \"key\" = 'schema_version'")
    with pytest.raises(StoreError) as caught:
        Store(store.url, schema=store.schema)
    assert caught.value.fields == {"schema_version": 99}


@pytest.mark.parametrize(
    ("durability", "expected"),
    [pytest.param("default", 1, id="normal"), pytest.param("power-loss", 2, id="full")],
)
def test_sqlite_durability_settings(tmp_path: Path, durability: str, expected: int) -> None:
    """SQLite runs in WAL mode; synchronous is NORMAL (1) by default, FULL (2) for power-loss durability;
    every connection waits up to 30 s for a lock."""
    store = Store(f"sqlite:///{tmp_path / 's.db'}", durability=durability)  # type: ignore[arg-type]
    with store.transaction() as tx:
        assert tx.execute("PRAGMA journal_mode") == [("wal",)]
        assert tx.execute("PRAGMA synchronous") == [(expected,)]
        assert tx.execute("PRAGMA busy_timeout") == [(30000,)]
    with store.read() as reader:
        assert reader.execute("PRAGMA busy_timeout") == [(30000,)]
    store.close()


def test_bad_durability_and_schema_names() -> None:
    """Unknown durability settings and unsafe schema names are refused before anything is opened."""
    with pytest.raises(InvalidInput):
        Store("sqlite://", durability="fast")  # type: ignore[arg-type]
    with pytest.raises(InvalidInput):
        Store("postgresql://postgres@127.0.0.1:1/x", schema='x"; drop')


def test_unreachable_database_is_a_store_error() -> None:
    """A store that cannot be opened raises StoreError without echoing a password."""
    with pytest.raises(StoreError) as caught:
        Store("postgresql://user:secret@127.0.0.1:1/x")
    assert "secret" not in str(caught.value)
    assert "secret" not in repr(caught.value.fields)
