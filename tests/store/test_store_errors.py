"""Driver errors at the store's seam (store/_driver_errors.py): typed, free of bound values, nothing
half-written — on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from tests._postgres import PG_DSN, fresh_schema, require_postgres
from tests.store.rows import T0, instance

from efficacy_flow.errors import ConcurrentUpdate, DuplicateBusinessKey, InvalidInput, StoreError
from efficacy_flow.store import AuditRecord, Store

#: Personal data planted in violating values: it must never appear in an error.
PHONE = "13800138000"


def _everything_said(error: BaseException) -> str:
    """All the text an error exposes: its str and repr, its fields, and those of every chained exception."""
    said = []
    seen: BaseException | None = error
    while seen is not None:
        said += [str(seen), repr(seen), repr(getattr(seen, "fields", None)), repr(seen.args)]
        seen = seen.__cause__ or seen.__context__
    return "\n".join(said)


def _duplicate_key(store: Store) -> None:
    with store.transaction() as tx:  # the id taken twice (the business key is another one: not that index)
        tx.insert_instance(instance(f"{PHONE}-x", business_key=f"{PHONE}-2"))


def _missing_value(store: Store) -> None:
    with store.transaction() as tx:
        tx.execute('INSERT INTO ef_meta ("key", value) VALUES (:k, NULL)', {"k": PHONE})


def _unreadable_value(store: Store) -> None:
    with store.read() as reader:
        reader.execute("SELECT CAST(:v AS INTEGER) + 1", {"v": f"tel {PHONE}"})


def _too_long(store: Store) -> None:
    with store.transaction() as tx:
        tx.insert_instance(instance(f"{PHONE}-{'9' * 40}"))


def _assert_says_nothing_of_the_value(error: StoreError, dialect: str) -> None:
    assert PHONE not in _everything_said(error)
    assert error.__cause__ is None
    assert error.__context__ is None
    assert set(error.fields) == {"driver_error", "code"}
    assert error.fields["code"].startswith("SQLSTATE " if dialect == "postgresql" else "SQLITE_")


@pytest.fixture
def postgres_store() -> Iterator[Store]:
    """A PostgreSQL store on a fresh schema (for what only PostgreSQL refuses or reports)."""
    require_postgres()
    opened = Store(PG_DSN, schema=fresh_schema())
    yield opened
    opened.drop_schema()
    opened.close()


@pytest.mark.parametrize(
    "violate",
    [
        pytest.param(_duplicate_key, id="duplicate-primary-key"),
        pytest.param(_missing_value, id="not-null"),
    ],
)
def test_a_store_error_never_carries_a_bound_value(store: Store, violate: Any) -> None:
    """A row the database refuses (PostgreSQL's DETAIL ``Key (id)=(…) already exists`` and ``Failing row
    contains (…)``) leaves no trace of its values in the error's text, fields or chained causes: only the
    driver's primary message and code."""
    with store.transaction() as tx:
        tx.insert_instance(instance(f"{PHONE}-x", business_key=PHONE))
    with pytest.raises(StoreError) as raised:
        violate(store)
    _assert_says_nothing_of_the_value(raised.value, store.dialect)


def test_a_shared_business_key_is_its_own_error_and_says_nothing_of_it(store: Store) -> None:
    """A second open instance of the process with the key: DuplicateBusinessKey (the engine names the open
    instance), whose text and fields hold no bound value either."""
    with store.transaction() as tx:
        tx.insert_instance(instance(f"{PHONE}-x", business_key=PHONE))
    with pytest.raises(DuplicateBusinessKey) as raised, store.transaction() as tx:
        tx.insert_instance(instance("other", business_key=PHONE))
    _assert_says_nothing_of_the_value(raised.value, store.dialect)
    with store.transaction() as tx:  # another process may use the key, and so may a closed instance
        tx.insert_instance(instance("elsewhere", process_id="other", business_key=PHONE))
        tx.update_instance(f"{PHONE}-x", 1, status="completed")
        tx.insert_instance(instance("again", business_key=PHONE))


@pytest.mark.postgres
@pytest.mark.parametrize(
    "violate",
    [
        pytest.param(_unreadable_value, id="invalid-text-representation"),
        pytest.param(_too_long, id="value-too-long"),
    ],
)
def test_a_postgresql_data_error_never_quotes_the_value(postgres_store: Store, violate: Any) -> None:
    """PostgreSQL's data exceptions quote the refused value in their primary message (``invalid input syntax
    for type integer: "…"``): the error names the condition and its SQLSTATE only."""
    with pytest.raises(StoreError) as raised:
        violate(postgres_store)
    _assert_says_nothing_of_the_value(raised.value, "postgresql")
    assert raised.value.fields["code"].startswith("SQLSTATE 22")


def test_a_lone_surrogate_is_invalid_input_and_nothing_is_written(store: Store) -> None:
    """A text value that cannot be encoded ("\\ud800") is InvalidInput (not an untyped UnicodeEncodeError),
    and the whole transaction rolls back."""

    def write() -> None:
        with store.transaction() as tx:
            tx.insert_instance(instance("i1"))
            tx.insert_instance(instance("i2", business_key="路灯\ud800"))

    with pytest.raises(InvalidInput) as raised:
        write()
    assert raised.value.fields == {"reason": "unencodable text", "position": 2}
    assert raised.value.__context__ is None
    with store.read() as reader:
        assert reader.count_instances() == 0


def test_a_duplicate_audit_sequence_number_is_a_concurrent_update(store: Store) -> None:
    """Appending an audit event whose (instance, seq) another transaction wrote first means that call lost
    the race: ConcurrentUpdate, as for a stale version."""
    event = AuditRecord("i1", 1, T0, None, "started", None, None, "0" * 64, "1" * 64)
    with store.transaction() as tx:
        tx.append_audit(event)
    with pytest.raises(ConcurrentUpdate), store.transaction() as tx:
        tx.append_audit(event)


def test_a_duplicate_instance_is_a_store_error_not_a_conflict(store: Store) -> None:
    """A duplicate primary key where no race explains it (the same instance inserted twice) stays a
    StoreError, and the transaction's earlier writes are rolled back with it."""
    with store.transaction() as tx:
        tx.insert_instance(instance("i1"))

    def twice() -> None:
        with store.transaction() as tx:
            tx.update_instance("i1", 1, status="suspended")
            tx.insert_instance(instance("i1"))

    with pytest.raises(StoreError) as raised:
        twice()
    assert not isinstance(raised.value, ConcurrentUpdate)
    with store.read() as reader:
        assert reader.get_instance("i1") == instance("i1")


@pytest.mark.postgres
def test_a_postgresql_serialization_failure_is_a_concurrent_update(postgres_store: Store) -> None:
    """Two transactions that change the same row under REPEATABLE READ: the one that commits second is told
    ConcurrentUpdate (SQLSTATE 40001), so the caller retries as after any lost race."""
    store = postgres_store
    with store.transaction() as tx:
        tx.insert_instance(instance("i1"))
    read, changed = threading.Event(), threading.Event()

    def other() -> None:
        read.wait(30)
        with store.transaction() as tx:
            tx.update_instance("i1", 1, status="suspended")
        changed.set()

    thread = threading.Thread(target=other)
    thread.start()
    with pytest.raises(ConcurrentUpdate) as raised:
        _update_after_a_snapshot(store, read, changed)
    thread.join(30)
    assert raised.value.fields["code"] == "SQLSTATE 40001"


def _update_after_a_snapshot(store: Store, read: threading.Event, changed: threading.Event) -> None:
    with store.transaction() as tx:
        tx.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        assert tx.get_instance("i1") is not None  # the snapshot is taken here
        read.set()
        changed.wait(30)
        tx.execute("UPDATE ef_instances SET status = 'completed' WHERE id = 'i1'")
