"""The event-log exports (issue 14): XES and OCEL 2.0 files of a real engine's audit trail on the shipped
processes, read back by pm4py — the reference process-mining library — with the cases, events, activities
and instants the store holds, and none of the personal data or free text the events carried."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pandas as pd
import pm4py
import pytest

from efficacy_flow.calendar import china
from efficacy_flow.cli import main
from efficacy_flow.clock import CHINA_TZ
from efficacy_flow.engine import Actor, Engine
from efficacy_flow.errors import InvalidInput, NaiveDatetime
from efficacy_flow.metrics import _event_log, write_ocel, write_xes
from efficacy_flow.store import AuditRecord
from efficacy_flow.testing import FakeClock

# pm4py suggests an optional faster reader when it reads XES; the suite turns warnings into errors.
pytestmark = pytest.mark.filterwarnings("ignore:Install the optional requirement:UserWarning")

PROCESSES = Path(__file__).resolve().parents[2] / "processes"
DESK = Actor("hotline", ["受理员", "审核员", "督办员", "办理不满意专区"])
UNITS = {
    "市城管局": Actor("cg", ["承办单位"], unit="市城管局"),
    "市住建局": Actor("zj", ["承办单位"], unit="市住建局"),
}
START = datetime(2025, 9, 26, 10, tzinfo=CHINA_TZ)
PERIOD = (datetime(2025, 9, 1, tzinfo=CHINA_TZ), datetime(2025, 11, 1, tzinfo=CHINA_TZ))
#: Personal data and free text the tickets carry: none of it may reach an event log.
SECRETS = ("张三丰", "13812345678", "路灯不亮", "幸福路", "已修复灯泡", "请尽快办理", "群众要求转办")
CLOSED_ACTIVITIES = [
    "started",
    "task_completed:Task_Dispatch",
    "task_completed:Task_Acknowledge",
    "task_completed:Task_Handle",
    "task_completed:Task_SignOff",
    "task_completed:Task_Review",
    "task_completed:Task_Reply",
    "message:rating",
    "instance_completed",
]


def _task(engine: Engine, case: str, element: str) -> str:
    (task,) = [t for t in engine.tasks(case) if t.element_id == element]
    return task.id


def _do(
    engine: Engine, clock: FakeClock, case: str, element: str, data: dict[str, object], actor: Actor
) -> None:
    clock.advance(timedelta(minutes=1))  # one minute per step: every event has its own instant
    engine.complete(_task(engine, case, element), data, actor)


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    """Three tickets with a requester's name and phone: one closed and rated (a message); one urged, whose
    handling limit runs out (timers fired by tick, a yellow then a red card, which refers it to an
    accountability case); one transferred to another unit. Returns the database and the ticket ids."""
    path = tmp_path_factory.mktemp("event_log") / "efficacy.db"
    clock = FakeClock(START)
    engine = Engine(f"sqlite:///{path}", PROCESSES, china(), clock)
    start = {
        "title": "路灯不亮",
        "content": "幸福路路灯不亮",
        "requester_name": "张三丰",
        "requester_phone": "13812345678",
    }
    cases = []
    for unit in ("市城管局", "市住建局", "市城管局"):
        case = engine.start("complaint_closure", start, DESK).id
        _do(engine, clock, case, "Task_Dispatch", {"unit": unit}, DESK)
        _do(engine, clock, case, "Task_Acknowledge", {"ack_decision": "签收"}, UNITS[unit])
        cases.append(case)
    closed, urged, transferred = cases
    _do(engine, clock, closed, "Task_Handle", {"reply": "已修复灯泡"}, UNITS["市城管局"])
    head = Actor("cg-head", ["单位负责人"], unit="市城管局")
    _do(engine, clock, closed, "Task_SignOff", {"signed_off": True}, head)
    _do(engine, clock, closed, "Task_Review", {"review_passed": True}, DESK)
    _do(engine, clock, closed, "Task_Reply", {"reply_channel": "电话"}, DESK)
    clock.advance(timedelta(minutes=1))
    engine.message("rating", {"rating": "满意", "solved": True}, {"instance_id": closed})
    clock.advance(timedelta(minutes=1))
    engine.urge(_task(engine, urged, "Task_Handle"), DESK, "请尽快办理，张三丰 13812345678")
    clock.advance(timedelta(minutes=1))
    engine.transfer(_task(engine, transferred, "Task_Handle"), DESK, "群众要求转办", to_unit="市住建局")
    clock.set(datetime(2025, 10, 15, tzinfo=CHINA_TZ))
    engine.tick()
    engine.store.close()
    return path, cases


@pytest.fixture
def engine(db: tuple[Path, list[str]]) -> Iterator[Engine]:
    opened = Engine(f"sqlite:///{db[0]}", PROCESSES, china())
    yield opened
    opened.store.close()


def _trail(engine: Engine) -> dict[str, tuple[str, list[AuditRecord]]]:
    """Every instance's process and audit events in the period, read straight from the store."""
    found: dict[str, tuple[str, list[AuditRecord]]] = {}
    with engine.store.read() as reader:
        for summary in reader.list_instances(process_id=None, status=None, business_key=None):
            events = [e for e in reader.audit_of(summary.id) if PERIOD[0] <= e.at < PERIOD[1]]
            if events:
                found[summary.id] = (summary.process_id, events)
    return found


def test_the_xes_log_reads_back_in_pm4py(engine: Engine, db: tuple[Path, list[str]], tmp_path: Path) -> None:
    closed, urged, transferred = db[1]
    trail = _trail(engine)
    assert {process for process, _ in trail.values()} == {"complaint_closure", "accountability"}
    path = write_xes(engine, tmp_path / "log.xes", *PERIOD)
    log = pm4py.read_xes(str(path))
    assert log["case:concept:name"].nunique() == len(trail)
    assert len(log) == sum(len(events) for _, events in trail.values())
    for case, (process, events) in trail.items():
        rows = log[log["case:concept:name"] == case]
        assert len(rows) == len(events), case
        assert set(rows["case:process"]) == {process}
        assert list(rows["seq"]) == [e.seq for e in events]  # in sequence order within the trace
    first = log[log["case:concept:name"] == closed]
    assert list(first["concept:name"]) == CLOSED_ACTIVITIES
    assert list(first["org:resource"])[:3] == ["hotline", "hotline", "cg"]
    assert set(first["lifecycle:transition"]) == {"complete"}
    # Instants keep their zone: the ticket started at 10:00 in Beijing, 02:00 UTC.
    stamps = list(first["time:timestamp"])
    assert stamps[0] == pd.Timestamp(START) == pd.Timestamp("2025-09-26T02:00:00Z")
    assert stamps == [pd.Timestamp(e.at) for e in trail[closed][1]]
    late = log[log["case:concept:name"] == urged]
    fired = late[late["concept:name"] == "timer_fired:Timer_HandlingLimit"]
    assert list(fired["time:timestamp"]) == [pd.Timestamp("2025-10-14T16:00:00Z")]
    assert pd.isna(fired["org:resource"].iloc[0])  # a timer has no actor
    assert "urged:Task_Handle" in set(late["concept:name"])
    assert set(late[late["concept:name"] == "card_issued:Task_Handle"]["unit"]) == {"市住建局"}
    moved = log[log["case:concept:name"] == transferred]
    assert "transferred:Task_Handle" in set(moved["concept:name"])


def test_the_ocel_log_reads_back_in_pm4py(engine: Engine, db: tuple[Path, list[str]], tmp_path: Path) -> None:
    closed, _, transferred = db[1]
    trail = _trail(engine)
    ocel = pm4py.read_ocel2_json(str(write_ocel(engine, tmp_path / "log.jsonocel", *PERIOD)))
    events = ocel.events
    assert len(events) == sum(len(e) for _, e in trail.values())
    objects = ocel.objects
    cases = objects[objects["ocel:type"] == "case"]
    assert set(cases["ocel:oid"]) == set(trail)
    assert dict(zip(cases["ocel:oid"], cases["process_id"], strict=True)) == {
        case: process for case, (process, _) in trail.items()
    }
    assert set(objects[objects["ocel:type"] == "unit"]["ocel:oid"]) == {"市城管局", "市住建局"}
    relations = ocel.relations
    by_case = relations[relations["ocel:qualifier"] == "case"]
    assert len(by_case) == len(events)  # every event relates to its case, once
    for case, (_, kept) in trail.items():
        assert (by_case["ocel:oid"] == case).sum() == len(kept)
    ours = events[events["ocel:eid"].str.startswith(f"{closed}:")]
    assert list(ours["ocel:activity"]) == CLOSED_ACTIVITIES
    assert list(ours["ocel:timestamp"]) == [pd.Timestamp(e.at) for e in trail[closed][1]]
    assert list(ours["actor"])[:3] == ["hotline", "hotline", "cg"]
    # Task objects relate to their case; a task event relates to its task.
    tasks = relations[(relations["ocel:qualifier"] == "task") & relations["ocel:eid"].isin(ours["ocel:eid"])]
    assert len(tasks) == 6  # the six completed tasks
    assert set(ocel.o2o[ocel.o2o["ocel:oid"].isin(tasks["ocel:oid"])]["ocel:oid_2"]) == {closed}
    # The transfer names the unit it left and the one it went to.
    moves = relations[
        relations["ocel:eid"].str.startswith(f"{transferred}:")
        & (relations["ocel:activity"] == "transferred:Task_Handle")
    ]
    assert dict(zip(moves["ocel:qualifier"], moves["ocel:oid"], strict=True)) == {
        "case": transferred,
        "task": _task_of(moves),
        "from_unit": "市城管局",
        "to_unit": "市住建局",
    }
    xes = pm4py.read_xes(str(write_xes(engine, tmp_path / "log.xes", *PERIOD)))
    assert set(events["ocel:activity"]) == set(xes["concept:name"])


def _task_of(relations: pd.DataFrame) -> str:
    (task,) = relations[relations["ocel:qualifier"] == "task"]["ocel:oid"]
    return str(task)


def test_no_personal_data_or_free_text_reaches_the_files(engine: Engine, tmp_path: Path) -> None:
    with engine.store.read() as reader:
        raw = " ".join(e.after or "" for case in _trail(engine) for e in reader.audit_of(case))
    assert all(secret in raw for secret in SECRETS)  # the audit trail holds them ...
    for path in (
        write_xes(engine, tmp_path / "log.xes", *PERIOD),
        write_ocel(engine, tmp_path / "log.jsonocel", *PERIOD),
    ):
        text = path.read_text(encoding="utf-8")
        assert [secret for secret in SECRETS if secret in text] == []  # ... the logs none of it
        assert "市住建局" in text  # units are kept


def test_a_process_and_a_period_select_their_events(engine: Engine, tmp_path: Path) -> None:
    trail = _trail(engine)
    tickets = {case for case, (process, _) in trail.items() if process == "complaint_closure"}
    log = pm4py.read_xes(str(write_xes(engine, tmp_path / "c.xes", *PERIOD, process_id="complaint_closure")))
    assert set(log["case:concept:name"]) == tickets
    ocel = write_ocel(engine, tmp_path / "c.jsonocel", *PERIOD, process_id="complaint_closure")
    body = json.loads(ocel.read_text(encoding="utf-8"))
    assert {o["id"] for o in body["objects"] if o["type"] == "case"} == tickets
    # September only: the tick of 15 October (timers, cards, the accountability case) is left out.
    september = (PERIOD[0], datetime(2025, 10, 1, tzinfo=CHINA_TZ))
    early = pm4py.read_xes(str(write_xes(engine, tmp_path / "s.xes", *september)))
    assert set(early["case:concept:name"]) == tickets
    assert not any(name.startswith(("timer_fired", "card_issued")) for name in early["concept:name"])


def test_pages_join_up(engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Read in pages of two events, the files are byte for byte those read in one page."""
    whole = [
        write_xes(engine, tmp_path / "a.xes", *PERIOD).read_bytes(),
        write_ocel(engine, tmp_path / "a.jsonocel", *PERIOD).read_bytes(),
    ]
    monkeypatch.setattr(_event_log, "_PAGE", 2)
    paged = [
        write_xes(engine, tmp_path / "b.xes", *PERIOD).read_bytes(),
        write_ocel(engine, tmp_path / "b.jsonocel", *PERIOD).read_bytes(),
    ]
    assert paged == whole


def test_an_empty_period_gives_valid_empty_logs(engine: Engine, tmp_path: Path) -> None:
    year = (datetime(2024, 1, 1, tzinfo=CHINA_TZ), datetime(2025, 1, 1, tzinfo=CHINA_TZ))
    log = pm4py.read_xes(str(write_xes(engine, tmp_path / "e.xes", *year)))
    assert len(log) == 0
    same = write_xes(engine, tmp_path / "z.xes", year[0], year[0])  # an empty period, [t, t)
    assert "<trace>" not in same.read_text(encoding="utf-8")
    body = json.loads(write_ocel(engine, tmp_path / "e.jsonocel", *year).read_text(encoding="utf-8"))
    # pm4py 2.7 cannot build a log of no events (a KeyError on its timestamp column): the document is checked.
    assert body["objects"] == body["events"] == body["eventTypes"] == []
    assert [t["name"] for t in body["objectTypes"]] == ["case", "task", "unit"]


def test_bad_requests_are_refused_with_typed_errors(engine: Engine, tmp_path: Path) -> None:
    naive = datetime(2025, 9, 1)  # naive: refused
    for write in (write_xes, write_ocel):
        with pytest.raises(NaiveDatetime):
            write(engine, tmp_path / "x", naive, PERIOD[1])
        with pytest.raises(NaiveDatetime):
            write(engine, tmp_path / "x", PERIOD[0], naive)
        with pytest.raises(InvalidInput, match="ends before it starts"):
            write(engine, tmp_path / "x", PERIOD[1], PERIOD[0])
        with pytest.raises(InvalidInput):
            write(engine, tmp_path / "x", "2025-09-01", PERIOD[1])  # type: ignore[arg-type]
        with pytest.raises(InvalidInput):
            write(engine, tmp_path / "x", *PERIOD, process_id="")
        with pytest.raises(InvalidInput):
            write(engine, 42, *PERIOD)  # type: ignore[arg-type]
        with pytest.raises(InvalidInput, match="cannot write"):
            write(engine, tmp_path / "no-such-folder" / "log", *PERIOD)
    assert list(tmp_path.iterdir()) == []  # nothing written, no partial file left


def test_the_command_writes_the_event_logs_beside_the_database(
    db: tuple[Path, list[str]], capsys: pytest.CaptureFixture[str]
) -> None:
    path = db[0]
    for fmt, suffix in (("xes", "xes"), ("ocel", "jsonocel")):
        args = ["report", "--db", str(path), "--from", "2025-09-01", "--to", "2025-10-31", "--format", fmt]
        assert main(args) == 0
        written = path.parent / f"report-2025-09-01-2025-10-31.{suffix}"
        assert str(written) in capsys.readouterr().err
        if fmt == "xes":
            assert pm4py.read_xes(str(written))["case:concept:name"].nunique() >= 3
        else:
            assert len(pm4py.read_ocel2_json(str(written)).events) > 0
