"""Reader.audit_between, the read behind the event-log exports: audit events of a period across instances
with their process, in (at, instance_id, seq) order, in keyset pages that add up to the whole period,
filtered by process; on SQLite and PostgreSQL alike. The page walks the schema-5 index on ``at`` (no sort),
and an upgraded database has that index too."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
from tests.store.conftest import Legacy
from tests.store.rows import T0, instance

from efficacy_flow.errors import InvalidInput, NaiveDatetime
from efficacy_flow.store import AuditRecord, Store

#: The period the tests read: [T0, T0 + 1 day).
UNTIL = T0 + timedelta(days=1)


def _fill(store: Store) -> list[tuple[AuditRecord, str]]:
    """Six instances of two processes, four events each: instants shared across instances and within one,
    one event before the period and one at its (excluded) end. Returns the events in the period, in order."""
    made: list[tuple[AuditRecord, str]] = []
    with store.transaction() as tx:
        for n in range(6):
            iid = f"i{(n * 5) % 6}"  # inserted out of id order
            process = "complaint_closure" if n % 2 else "accountability"
            tx.insert_instance(instance(iid, process_id=process))
            moments = [
                T0 - timedelta(seconds=1),  # before the period
                T0 + timedelta(minutes=n % 3),  # shared by two instances
                T0 + timedelta(minutes=n % 3),  # twice in one instance: seq orders them
                UNTIL,  # the end is excluded
            ]
            for seq, at in enumerate(moments, start=1):
                actor = "op" if seq % 2 else None
                event = AuditRecord(iid, seq, at, actor, "k", None, "{}", "0" * 64, "1" * 64)
                tx.append_audit(event)
                if T0 <= at < UNTIL:
                    made.append((event, process))
    made.sort(key=lambda pair: (pair[0].at, pair[0].instance_id, pair[0].seq))
    return made


def _pages(store: Store, size: int, process_id: str | None = None) -> list[list[tuple[AuditRecord, str]]]:
    pages = []
    after = None
    while True:
        with store.read() as reader:
            page = reader.audit_between(T0, UNTIL, process_id=process_id, after=after, limit=size)
        if not page:
            return pages
        assert len(page) <= size
        pages.append(page)
        last = page[-1][0]
        after = (last.at, last.instance_id, last.seq)


def test_events_come_in_time_then_instance_then_sequence_order(store: Store) -> None:
    expected = _fill(store)
    assert len(expected) == 12
    with store.read() as reader:
        found = reader.audit_between(T0, UNTIL)
    assert found == expected
    assert [r.at for r, _ in found] == sorted(r.at for r, _ in found)
    assert found[0][0].at.utcoffset() == timedelta(hours=8)  # instants read back aware, as written


@pytest.mark.parametrize("size", [1, 2, 5, 12, 100])
def test_keyset_pages_add_up_to_the_period(store: Store, size: int) -> None:
    expected = _fill(store)
    pages = _pages(store, size)
    assert [pair for page in pages for pair in page] == expected
    assert len(pages) == -(-len(expected) // size)


def test_the_process_filter_keeps_its_instances_only(store: Store) -> None:
    expected = _fill(store)
    for process in ("complaint_closure", "accountability"):
        kept = [pair for pair in expected if pair[1] == process]
        assert kept
        with store.read() as reader:
            assert reader.audit_between(T0, UNTIL, process_id=process) == kept
        assert [pair for page in _pages(store, 2, process) for pair in page] == kept
    with store.read() as reader:
        assert reader.audit_between(T0, UNTIL, process_id="nope") == []
        assert reader.audit_between(UNTIL, T0) == []  # an empty period


def test_bad_arguments_are_refused(store: Store) -> None:
    _fill(store)
    with store.read() as reader:
        with pytest.raises(NaiveDatetime):
            reader.audit_between(datetime(2025, 9, 26), UNTIL)  # naive: refused
        with pytest.raises(NaiveDatetime):
            reader.audit_between(T0, UNTIL, after=(datetime(2025, 9, 26), "i1", 1))
        for limit in (0, -1, True):
            with pytest.raises(InvalidInput, match="limit"):
                reader.audit_between(T0, UNTIL, limit=limit)


def test_a_page_walks_the_time_index_in_order(tmp_path: Path) -> None:
    """SQLite's plan for a keyed page searches ``ix_ef_audit_events_at`` and sorts nothing (no TEMP B-TREE):
    a page costs what it returns, not the length of the history."""
    store = Store(f"sqlite:///{tmp_path / 'plan.db'}")
    try:
        _fill(store)
        for by_process in (False, True):
            text = store._sql.audit_between(by_process, True).replace("?", "NULL")
            with store.read() as reader:
                plan = " ".join(str(row[-1]) for row in reader.execute(f"EXPLAIN QUERY PLAN {text}"))
            assert "ix_ef_audit_events_at" in plan
            assert "TEMP B-TREE" not in plan
    finally:
        store.close()


def test_an_upgraded_database_has_the_time_index(legacy: Legacy) -> None:
    store = legacy.open()
    try:
        query = (
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'ef_audit_events'"
            if store.dialect == "sqlite"
            else "SELECT indexname FROM pg_indexes WHERE tablename = 'ef_audit_events'"
            " AND schemaname = current_schema()"
        )
        with store.read() as reader:
            assert "ix_ef_audit_events_at" in {str(row[0]) for row in reader.execute(query)}
    finally:
        store.close()
