"""Durable counters (counters.yaml): counted in the start's transaction, per key and period, audited.

The counted process is the shipped supervision_ladder (000_187e340a21ee818c.txt §二(三)) on the real engine,
on SQLite and PostgreSQL; counters.yaml is written per test.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from efficacy_flow.calendar import china
from efficacy_flow.clock import CHINA_TZ
from efficacy_flow.engine import Actor, Engine
from efficacy_flow.engine._counters import period_start
from efficacy_flow.errors import InvalidData, InvalidInput, ProcessDefinitionError
from efficacy_flow.store import Store, Transaction
from efficacy_flow.testing import FakeClock

PROCESSES = Path(__file__).parents[2] / "processes"
INSPECTOR = Actor("inspector-1", ["效能督查员"])
COUNTER = "supervision_findings"
#: Seconds before a wait is declared hung: a guard against deadlocks, never a measured expectation.
GUARD = 60.0

COUNTERS_YAML = """\
version: 1
counters:
  supervision_findings:
    label: 常态化督查发现问题次数
    process: supervision_ladder
    key: unit
    period: {period}
    variable: findings_in_period
    source: 000_187e340a21ee818c.txt §二(三)
"""


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    """An instant in Asia/Shanghai."""
    return datetime(year, month, day, hour, minute, second, tzinfo=CHINA_TZ)


def ladder_folder(root: Path, counters: str | None) -> Path:
    """The supervision ladder with the shared tables, and ``counters`` as counters.yaml (None: no file)."""
    folder = root / "processes"
    folder.mkdir(exist_ok=True)
    for name in ("supervision_ladder.bpmn", "supervision_ladder.dmn", "schemas.yaml", "time_limits.yaml"):
        shutil.copy(PROCESSES / name, folder)
    target = folder / "counters.yaml"
    if counters is None:
        target.unlink(missing_ok=True)
    else:
        target.write_text(counters, encoding="utf-8")
    return folder


def finding(unit: str, **extra: Any) -> dict[str, Any]:
    return {"unit": unit, "finding": "窗口工作人员脱岗", **extra}


@pytest.fixture
def ladder(make_engine: Callable[..., Engine], tmp_path: Path) -> Engine:
    """An engine with the supervision ladder and a calendar-year counter by unit."""
    return make_engine(ladder_folder(tmp_path, COUNTERS_YAML.format(period="calendar_year")))


# -- counting ------------------------------------------------------------------------------------------------


def test_each_start_gets_the_count_including_itself_per_unit(ladder: Engine) -> None:
    """findings_in_period is 1, 2, 3 for one unit; another unit counts on its own; counter() agrees."""
    counts = [ladder.start("supervision_ladder", finding("市住建局"), INSPECTOR).data for _ in range(3)]
    other = ladder.start("supervision_ladder", finding("市教育局"), INSPECTOR).data
    assert [c["findings_in_period"] for c in counts] == [1, 2, 3]
    assert [c["ladder_step"] for c in counts] == ["告知提醒", "通报预警", "考评运用"]
    assert other["findings_in_period"] == 1
    assert ladder.counter(COUNTER, "市住建局") == 3
    assert ladder.counter(COUNTER, "市教育局") == 1
    assert ladder.counter(COUNTER, "市民政局") == 0


def test_the_count_is_durable_across_engines(make_engine: Callable[..., Engine], tmp_path: Path) -> None:
    """A second engine on the same database (a restart, another worker) continues the count."""
    folder = ladder_folder(tmp_path, COUNTERS_YAML.format(period="calendar_year"))
    first = make_engine(folder)
    first.start("supervision_ladder", finding("市住建局"), INSPECTOR)
    second = make_engine(folder)
    view = second.start("supervision_ladder", finding("市住建局"), INSPECTOR)
    assert view.data["findings_in_period"] == 2
    assert first.counter(COUNTER, "市住建局") == 2


def test_a_caller_value_is_overridden_and_both_are_audited(ladder: Engine) -> None:
    """The durable count wins over findings_in_period passed by the caller; the audit event keeps both."""
    view = ladder.start("supervision_ladder", finding("市住建局", findings_in_period=5), INSPECTOR)
    assert view.data["findings_in_period"] == 1
    assert view.data["ladder_step"] == "告知提醒"
    events = {e.kind: e for e in ladder.history(view.id)}
    counted = events["counter_incremented"]
    assert counted.before == {"findings_in_period": 5}
    assert counted.after["count"] == 1
    assert counted.after["caller_value"] == 5
    assert events["started"].after["data"]["findings_in_period"] == 1


def test_the_count_is_audited_and_the_history_verifies(ladder: Engine) -> None:
    """Each start writes a counter_incremented event (counter, key, period start, count) in the hash chain."""
    ladder.start("supervision_ladder", finding("市住建局"), INSPECTOR)
    view = ladder.start("supervision_ladder", finding("市住建局"), INSPECTOR)
    history = ladder.history(view.id)
    assert [e.kind for e in history][:2] == ["started", "counter_incremented"]
    assert history[1].before is None
    assert history[1].after == {
        "counter": COUNTER,
        "key": "市住建局",
        "period": "calendar_year",
        "period_start": "2025-01-01T00:00:00+08:00",
        "count": 2,
        "variable": "findings_in_period",
    }
    assert ladder.verify_history(view.id).ok


def test_a_failed_start_is_not_counted(ladder: Engine) -> None:
    """Start data that fails its schema leaves no event: the next start is still the first."""
    with pytest.raises(InvalidData):
        ladder.start("supervision_ladder", {"unit": "市住建局"}, INSPECTOR)
    assert ladder.counter(COUNTER, "市住建局") == 0
    assert ladder.start("supervision_ladder", finding("市住建局"), INSPECTOR).data["findings_in_period"] == 1


def test_without_counters_yaml_the_caller_supplies_the_count(
    make_engine: Callable[..., Engine], tmp_path: Path
) -> None:
    """No counters.yaml: nothing is counted, findings_in_period is what the caller passed."""
    engine = make_engine(ladder_folder(tmp_path, None))
    view = engine.start("supervision_ladder", finding("市住建局", findings_in_period=2), INSPECTOR)
    assert view.data["ladder_step"] == "通报预警"
    assert "counter_incremented" not in [e.kind for e in engine.history(view.id)]
    with pytest.raises(InvalidInput):
        engine.counter(COUNTER, "市住建局")


def test_a_start_without_a_key_is_not_counted(make_engine: Callable[..., Engine], tmp_path: Path) -> None:
    """With ``unit`` optional (a host schema), a unit-less finding counts nowhere; its variable is kept."""
    schemas = yaml.safe_load((PROCESSES / "schemas.yaml").read_text(encoding="utf-8"))["supervision_ladder"]
    schemas["start"]["unit"] = {"type": "string", "max_length": 100}
    folder = ladder_folder(tmp_path, COUNTERS_YAML.format(period="calendar_year"))
    engine = make_engine(folder, schemas={"supervision_ladder": schemas})
    engine.start("supervision_ladder", finding("市住建局"), INSPECTOR)
    view = engine.start("supervision_ladder", {"finding": "无单位", "findings_in_period": 2}, INSPECTOR)
    assert view.data["findings_in_period"] == 2
    assert "counter_incremented" not in [e.kind for e in engine.history(view.id)]
    assert engine.counter(COUNTER, "市住建局") == 1
    assert engine.counter(COUNTER, "") == 0


# -- periods -------------------------------------------------------------------------------------------------

# (when, expected count) per period, for starts of one unit across a year end.
_STARTS = [
    at(2025, 3, 1, 10),
    at(2025, 9, 26, 10),
    at(2025, 12, 31, 23, 59, 59),
    at(2026, 1, 1),
    at(2026, 3, 1, 10),
]


@pytest.mark.parametrize(
    ("period", "expected"),
    [
        # 2026-01-01 00:00 opens a new year (inclusive start).
        pytest.param("calendar_year", [1, 2, 3, 1, 2], id="calendar_year"),
        # (now − 12 months, now]: at 2026-03-01 10:00 the start of 2025-03-01 10:00 has just dropped out.
        pytest.param("rolling_12_months", [1, 2, 3, 4, 4], id="rolling_12_months"),
        pytest.param("all_time", [1, 2, 3, 4, 5], id="all_time"),
    ],
)
def test_periods_across_a_year_end(
    make_engine: Callable[..., Engine], clock: FakeClock, tmp_path: Path, period: str, expected: list[int]
) -> None:
    """The count is of the period that ends at the clock's now (Asia/Shanghai)."""
    engine = make_engine(ladder_folder(tmp_path, COUNTERS_YAML.format(period=period)))
    counts = []
    for when in _STARTS:
        clock.set(when)
        counts.append(
            engine.start("supervision_ladder", finding("市住建局"), INSPECTOR).data["findings_in_period"]
        )
    assert counts == expected
    assert engine.counter(COUNTER, "市住建局") == expected[-1]


@given(st.datetimes(min_value=datetime(2001, 1, 1), max_value=datetime(2098, 12, 31), timezones=st.just(UTC)))
def test_period_starts_bound_the_period(now: datetime) -> None:
    """calendar_year starts on 1 January 00:00 of now's year (Beijing); rolling_12_months a year back."""
    year_start, inclusive = period_start("calendar_year", now)
    local = now.astimezone(CHINA_TZ)
    assert inclusive
    assert year_start == datetime(local.year, 1, 1, tzinfo=CHINA_TZ)
    assert year_start <= now < datetime(local.year + 1, 1, 1, tzinfo=CHINA_TZ)
    rolling, inclusive = period_start("rolling_12_months", now)
    assert not inclusive
    assert rolling is not None
    assert timedelta(days=365) <= now - rolling <= timedelta(days=366)
    assert rolling.astimezone(CHINA_TZ).month == local.month
    assert period_start("all_time", now) == (None, True)


# -- races ---------------------------------------------------------------------------------------------------


def test_concurrent_starts_from_many_threads_get_distinct_counts(
    make_engine: Callable[..., Engine], tmp_path: Path
) -> None:
    """Eight starts for one unit from four engines in eight threads get the counts 1..8, each once."""
    folder = ladder_folder(tmp_path, COUNTERS_YAML.format(period="calendar_year"))
    engines = [make_engine(folder) for _ in range(4)]
    results: list[int] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def start(engine: Engine) -> None:
        try:
            count = engine.start("supervision_ladder", finding("市住建局"), INSPECTOR).data[
                "findings_in_period"
            ]
            with lock:
                results.append(count)
        except BaseException as exc:  # handed to the test thread
            errors.append(exc)

    threads = [threading.Thread(target=start, args=(engines[i % 4],)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(GUARD)
    assert errors == []
    assert sorted(results) == list(range(1, 9))


class _Blocked:
    """True once engine B's transaction is seen waiting behind A's (SQLite: B issued ``BEGIN IMMEDIATE``,
    which waits for A's write lock; PostgreSQL: B's backend is in ``pg_blocking_pids`` of A's)."""

    def __init__(self, store: Store) -> None:
        self.began = threading.Event()
        self.backend: int | None = None
        self.pg: Any = None
        if store.dialect == "sqlite":
            with store.transaction() as tx:  # B's engine reuses this one pooled connection
                raw = tx._cursor.connection  # the pinned sqlite3 connection
            assert raw is not None
            raw.set_trace_callback(lambda sql: self.began.set() if sql.startswith("BEGIN") else None)
            self.began.clear()
        else:
            import psycopg

            dsn = os.environ.get("EFFICACY_FLOW_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
            self.pg = psycopg.connect(dsn, autocommit=True)

    def __call__(self) -> bool:
        if self.pg is None:
            return self.began.is_set()
        row = self.pg.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE %s = ANY(pg_blocking_pids(pid))", (self.backend,)
        ).fetchone()
        return bool(row and row[0])


def test_a_start_waits_for_the_counter_lock(store_factory: Callable[[], Store], tmp_path: Path) -> None:
    """Engine A stops just before committing its start; B's start for the same unit waits for A (PostgreSQL:
    on the ``ef_counters`` row lock; SQLite: on the write lock), then counts A's event too: after a first
    finding the counts are 2 and 3, never 2 and 2.

    The first finding is started before the race so that the ``ef_counters`` row exists: on PostgreSQL B then
    waits on ``FOR UPDATE`` itself (on a first-ever key it would already wait on the upsert's index)."""
    folder = ladder_folder(tmp_path, COUNTERS_YAML.format(period="calendar_year"))
    clock = FakeClock(at(2025, 9, 26, 10))
    store_a, store_b = store_factory(), store_factory()
    a = Engine(store=store_a, processes=folder, calendar=china(), clock=clock)
    b = Engine(store=store_b, processes=folder, calendar=china(), clock=clock)
    b.start("supervision_ladder", finding("市住建局"), INSPECTOR)
    blocked = _Blocked(store_b)
    paused, release = threading.Event(), threading.Event()

    def pause(tx: Transaction) -> None:
        if paused.is_set():
            return
        if tx.dialect == "postgresql":
            blocked.backend = int(tx.execute("SELECT pg_backend_pid()")[0][0])
        paused.set()
        release.wait(GUARD)

    store_a.before_commit = pause  # set after deployment: the first transaction paused is A's start
    out: dict[str, Any] = {}

    def run(name: str, engine: Engine) -> None:
        try:
            view = engine.start("supervision_ladder", finding("市住建局"), INSPECTOR)
            out[name] = view.data["findings_in_period"]
        except BaseException as exc:  # handed to the test thread
            out[name] = exc

    first = threading.Thread(target=run, args=("a", a), daemon=True)
    first.start()
    assert paused.wait(GUARD), f"engine A never reached its commit: {out}"
    second = threading.Thread(target=run, args=("b", b), daemon=True)
    second.start()
    waited = False
    poll = threading.Event()  # never set: its wait() is the poll interval
    for _ in range(int(GUARD / 0.005)):
        waited = blocked()
        if waited or not second.is_alive():
            break
        poll.wait(0.005)
    release.set()
    first.join(GUARD)
    second.join(GUARD)
    if blocked.pg is not None:
        blocked.pg.close()
    assert waited, f"engine B did not wait for A: {out}"
    assert (out["a"], out["b"]) == (2, 3)
    assert b.counter(COUNTER, "市住建局") == 3


# -- the table -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "entry", "problem"),
    [
        pytest.param("version: 2\ncounters: {}\n", "version", "must be one of 1", id="version"),
        pytest.param(": : :\n", "(file)", "not valid YAML", id="yaml"),
        pytest.param(
            COUNTERS_YAML.format(period="quarter"),
            f"counters.{COUNTER}.period",
            "must be one of 'calendar_year', 'rolling_12_months' or 'all_time', got 'quarter'",
            id="period",
        ),
        pytest.param(
            COUNTERS_YAML.format(period="calendar_year").replace(
                "process: supervision_ladder", "process: nope"
            ),
            f"counters.{COUNTER}.process",
            "unknown process",
            id="process",
        ),
        pytest.param(
            COUNTERS_YAML.format(period="calendar_year").replace(
                "    source: 000_187e340a21ee818c.txt §二(三)\n", ""
            ),
            f"counters.{COUNTER}.source",
            "is required",
            id="no-source",
        ),
        pytest.param(
            COUNTERS_YAML.format(period="calendar_year").replace("    key: unit\n", ""),
            f"counters.{COUNTER}.key",
            "is required",
            id="no-key",
        ),
        pytest.param(
            COUNTERS_YAML.format(period="calendar_year").replace("    variable: findings_in_period\n", ""),
            f"counters.{COUNTER}.variable",
            "is required",
            id="no-variable",
        ),
        pytest.param(
            COUNTERS_YAML.format(period="calendar_year").replace("key: unit", "key: department"),
            f"counters.{COUNTER}.key",
            "not a start field",
            id="undeclared-key",
        ),
        pytest.param(
            COUNTERS_YAML.format(period="calendar_year").replace(
                "variable: findings_in_period", "variable: 1x"
            ),
            f"counters.{COUNTER}.variable",
            "not a valid variable name",
            id="bad-variable",
        ),
        pytest.param(
            COUNTERS_YAML.format(period="calendar_year").replace("    label:", "    lable:"),
            f"counters.{COUNTER}.lable",
            "unknown field 'lable'",
            id="misspelt-key",
        ),
    ],
)
def test_a_bad_counters_yaml_is_refused_at_deployment(
    make_engine: Callable[..., Engine], tmp_path: Path, text: str, entry: str, problem: str
) -> None:
    """ProcessDefinitionError names the file, the entry (a dotted path) and the problem; nothing of the folder
    is deployed."""
    with pytest.raises(ProcessDefinitionError) as caught:
        make_engine(ladder_folder(tmp_path, text))
    assert caught.value.fields["path"].endswith("counters.yaml")
    assert caught.value.fields["entry"] == entry
    assert problem in caught.value.fields["problem"]


# -- the listing ---------------------------------------------------------------------------------------------


def test_instances_lists_rows_by_filter(ladder: Engine, clock: FakeClock) -> None:
    """instances() filters by process, status and business key, oldest first, without the workflow data."""
    first = ladder.start("supervision_ladder", finding("市住建局"), INSPECTOR, business_key="DC-1")
    clock.advance(timedelta(minutes=1))
    second = ladder.start("supervision_ladder", finding("市教育局"), INSPECTOR, business_key="DC-2")
    assert [i.id for i in ladder.instances()] == [first.id, second.id]
    assert [i.id for i in ladder.instances(business_key="DC-2")] == [second.id]
    assert [i.id for i in ladder.instances(process_id="supervision_ladder", status="active")] == [
        first.id,
        second.id,
    ]
    assert ladder.instances(status="completed") == []
    assert ladder.instances(process_id="complaint_closure") == []
    listed = ladder.instances(business_key="DC-1")[0]
    assert (listed.process_id, listed.status, listed.version, listed.first_responder) == (
        "supervision_ladder",
        "active",
        first.version,
        INSPECTOR.id,
    )
    assert not hasattr(listed, "data")
