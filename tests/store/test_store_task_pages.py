"""Reader.task_page, the work list (issue 13's queries): every filter, the order (due time, then id; tasks
without a due time last), and keyset pages that add up to the whole list, on SQLite and PostgreSQL alike;
and the query plan uses the ready-task indexes."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from tests.store.rows import T0, instance, task

from efficacy_flow.errors import InvalidInput
from efficacy_flow.store import Store, TaskRecord

UNITS = ("市住建局", "市交通局", "市城管局")


def _fill(store: Store, seed: int = 7) -> list[TaskRecord]:
    """Ready and closed tasks over 12 instances of two processes: due times shared, distinct and absent."""
    rng = random.Random(seed)
    made: list[TaskRecord] = []
    with store.transaction() as tx:
        for n in range(12):
            iid = f"i{n:02d}"
            tx.insert_instance(instance(iid, process_id="p" if n % 2 else "q", business_key=f"k{n}"))
            rows = []
            for _ in range(5):
                due = None if rng.random() < 0.25 else T0 + timedelta(hours=rng.choice([1, 2, 2, 5, 30]))
                rows.append(
                    task(
                        f"t{rng.getrandbits(40):010x}",
                        iid,
                        unit=rng.choice(UNITS),
                        role=rng.choice(("承办单位", "审核员")),
                        due_at=due,
                    )
                )
            tx.sync_tasks(iid, rows, closed_status="cancelled", at=T0, by=None, previous=[])
            made += rows
        closed = made.pop(3)  # a closed row is never listed
        tx.close_task(closed.id, status="completed", at=T0, by="u")
    return made


def _order(rows: list[TaskRecord]) -> list[TaskRecord]:
    dated = sorted((r for r in rows if r.due_at is not None), key=lambda r: (r.due_at, r.id))
    return dated + sorted((r for r in rows if r.due_at is None), key=lambda r: r.id)


def _pages(store: Store, size: int, **filters: object) -> list[list[TaskRecord]]:
    pages: list[list[TaskRecord]] = []
    after = None
    while True:
        with store.read() as reader:
            page = reader.task_page(limit=size, after=after, **filters)
        if not page:
            return pages
        assert len(page) <= size
        pages.append(page)
        after = page[-1].id


@pytest.mark.parametrize("size", [1, 3, 7, 100])
def test_pages_add_up_to_the_whole_list_in_order(store: Store, size: int) -> None:
    """Every page size gives the same list: the ready rows in the work list's order, each once."""
    made = _fill(store)
    with store.read() as reader:
        whole = reader.task_page()
    assert whole == _order(made)
    assert [row for page in _pages(store, size) for row in page] == whole


@pytest.mark.parametrize(
    ("filters", "keep"),
    [
        pytest.param({"unit": "市交通局"}, lambda r, i: r.unit == "市交通局", id="unit"),
        pytest.param({"role": "审核员"}, lambda r, i: r.role == "审核员", id="role"),
        pytest.param({"instance_id": "i03"}, lambda r, i: r.instance_id == "i03", id="instance"),
        pytest.param({"process_id": "q"}, lambda r, i: i % 2 == 0, id="process"),
        pytest.param({"business_key": "k1"}, lambda r, i: i == 1, id="business-key"),
        pytest.param(
            {"unit": "市住建局", "role": "承办单位", "process_id": "p"},
            lambda r, i: r.unit == "市住建局" and r.role == "承办单位" and i % 2 == 1,
            id="combined",
        ),
    ],
)
def test_filters_select_and_page_alike(
    store: Store, filters: dict[str, str], keep: Callable[[TaskRecord, int], bool]
) -> None:
    """Each filter keeps exactly its rows, in order, and paging through them gives the same rows."""
    made = _fill(store)
    expected = _order([r for r in made if keep(r, int(r.instance_id[1:]))])
    assert expected  # the fixture has rows of every kind filtered here
    with store.read() as reader:
        assert reader.task_page(**filters) == expected
    assert [row for page in _pages(store, 2, **filters) for row in page] == expected


def test_due_filters_take_dated_rows_only(store: Store) -> None:
    """``due_before`` and ``due_by`` select dated rows (strictly before / at or before); ``due_after`` with
    ``undated`` the rows not yet due and those without a due time — what the engine's overdue flag asks."""
    made = _fill(store)
    cut = T0 + timedelta(hours=2)
    with store.read() as reader:
        before = reader.task_page(due_before=cut)
        by = reader.task_page(due_by=cut, undated=False)
        after = reader.task_page(due_after=cut)
    dated = [r for r in made if r.due_at is not None]
    assert before == _order([r for r in dated if r.due_at is not None and r.due_at < cut])
    assert by == _order([r for r in dated if r.due_at is not None and r.due_at <= cut])
    assert len(by) > len(before)  # some rows are due exactly at the cut
    assert after == _order([r for r in made if r.due_at is None or r.due_at > cut])
    assert [row for page in _pages(store, 3, due_after=cut) for row in page] == after


def test_paging_after_an_unknown_task_is_refused(store: Store) -> None:
    _fill(store)
    with store.read() as reader, pytest.raises(InvalidInput, match="no task 'nope'"):
        reader.task_page(after="nope")


@pytest.mark.parametrize(
    ("given", "index"),
    [
        pytest.param(("unit",), "ix_ef_tasks_ready_unit", id="unit"),
        pytest.param(("role",), "ix_ef_tasks_ready_due", id="role"),
        pytest.param((), "ix_ef_tasks_ready_due", id="all"),
        pytest.param(("due_by",), "ix_ef_tasks_ready_due", id="overdue"),
    ],
)
@pytest.mark.parametrize("dated", [True, False])
def test_a_page_walks_a_ready_index_in_order(
    tmp_path: Path, given: tuple[str, ...], index: str, dated: bool
) -> None:
    """SQLite's plan for a page walks a partial index over ready rows in the list's order: no sort of the
    matching rows (a TEMP B-TREE), so a page costs what it returns, not what is open."""
    store = Store(f"sqlite:///{tmp_path / 'plan.db'}")
    try:
        _fill(store)
        text = store._sql.task_page(given, dated, True, True).replace("?", "NULL")
        with store.read() as reader:
            plan = " ".join(str(row[-1]) for row in reader.execute(f"EXPLAIN QUERY PLAN {text}"))
        assert index in plan
        assert "TEMP B-TREE" not in plan
    finally:
        store.close()


def test_instance_listings_page_by_key(store: Store) -> None:
    """list_instances pages (created_at, then id; several instances share an instant) add up to the whole
    listing, filtered or not; after an unknown instance is refused."""
    with store.transaction() as tx:
        for n in range(9):
            created = T0 + timedelta(minutes=n // 3)  # three instances per instant
            tx.insert_instance(
                instance(f"i{(n * 7) % 9}", status="active" if n % 2 else "suspended", created_at=created)
            )
    for filters in ({}, {"status": "active"}):
        assert isinstance(filters, dict)
        with store.read() as reader:
            whole = reader.list_instances(process_id=None, business_key=None, status=filters.get("status"))
        assert [(i.created_at, i.id) for i in whole] == sorted((i.created_at, i.id) for i in whole)
        for size in (1, 2, 4):
            seen, after = [], None
            while True:
                with store.read() as reader:
                    page = reader.list_instances(
                        process_id=None,
                        business_key=None,
                        status=filters.get("status"),
                        limit=size,
                        after=after,
                    )
                if not page:
                    break
                seen += page
                after = page[-1].id
            assert seen == whole
    with store.read() as reader, pytest.raises(InvalidInput, match="no instance 'nope'"):
        reader.list_instances(process_id=None, status=None, business_key=None, after="nope")
