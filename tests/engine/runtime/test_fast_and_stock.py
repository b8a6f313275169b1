"""The engine with its fast paths (the state writer and reader, the task walk) and with SpiffWorkflow's stock
paths only (``Engine(fast_paths=False)``) runs the shipped processes alike: a simulated month on each, with
the same plan, gives the same instances with the same histories, the same ready tasks and the same saved
workflows, event for event and byte for byte once ids are numbered in order of appearance (task ids are
random UUIDs, instance ids carry random bits). Each engine also reloads every state written by the other.

Every call loads its instance (``cache_size=0``), so the readers are compared at every step too."""

from __future__ import annotations

import json
import re
from datetime import date, datetime
from pathlib import Path
from typing import Any

from efficacy_flow.calendar import china
from efficacy_flow.clock import CHINA_TZ
from efficacy_flow.engine import Engine
from efficacy_flow.engine.runtime import serializer
from efficacy_flow.testing import FakeClock, ScenarioPlan, Simulation, make_test_engine

PROCESSES = Path(__file__).resolve().parents[3] / "processes"
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
#: The instant each task became ready as SpiffWorkflow records it (time.time(), the wall clock): not the
#: engine's, so it differs between any two runs. Nothing in the engine reads it.
_STATE_CHANGE = re.compile(r'"last_state_change":[0-9.e+-]+')


class _Numbering:
    """Replaces every UUID in a text by its number in order of first appearance (across all texts given)."""

    def __init__(self) -> None:
        self.numbers: dict[str, str] = {}

    def __call__(self, text: str) -> str:
        def number(match: re.Match[str]) -> str:
            return self.numbers.setdefault(match.group(0), f"<id {len(self.numbers)}>")

        return _UUID.sub(number, text)


def _run(tmp_path: Path, fast: bool) -> tuple[Engine, list[str]]:
    calendar = china()
    plan = ScenarioPlan(seed=11, tickets=14, window_cases=4, start=date(2025, 9, 22), end=date(2025, 10, 20))
    clock = FakeClock(datetime(2025, 9, 22, tzinfo=CHINA_TZ))
    folder = tmp_path / ("fast" if fast else "stock")
    folder.mkdir()
    engine = make_test_engine(
        folder,
        PROCESSES,
        clock=clock,
        calendar=calendar,
        cache_size=0,
        fast_paths=fast,
    )
    result = Simulation(engine, clock, calendar, plan).run()
    return engine, list(result.instance_ids)


def _record(engine: Engine, instance_ids: list[str], numbering: _Numbering) -> list[str]:
    """Everything the runs are compared by, one text per instance, ids numbered."""
    texts = []
    for instance_id in instance_ids:
        view = engine.instance(instance_id)
        history = [
            (e.seq, e.at.isoformat(), e.actor, e.kind, e.before, e.after) for e in engine.history(instance_id)
        ]
        tasks = [(t.element_id, t.role, t.unit, str(t.ready_at), str(t.due_at)) for t in view.tasks]
        with engine.store.read() as reader:
            record = reader.get_instance(instance_id)
            assert record is not None
            state = serializer.decompress_state(record.state).decode("utf-8")
        parts = {
            "instance": instance_id,
            "status": view.status,
            "version": view.version,
            "data": view.data,
            "tasks": tasks,
            "history": history,
            "state": _STATE_CHANGE.sub('"last_state_change":0', state),
        }
        texts.append(numbering(json.dumps(parts, ensure_ascii=False, sort_keys=True, default=str)))
    return texts


def test_the_fast_and_the_stock_paths_run_a_month_alike(tmp_path: Path) -> None:
    fast, fast_ids = _run(tmp_path, fast=True)
    stock, stock_ids = _run(tmp_path, fast=False)
    try:
        assert len(fast_ids) == len(stock_ids) >= 18
        fast_texts = _record(fast, fast_ids, _Numbering())
        stock_texts = _record(stock, stock_ids, _Numbering())
        for mine, theirs in zip(fast_texts, stock_texts, strict=True):
            assert mine == theirs
        assert any('"status": "completed"' in text for text in fast_texts)
        assert any('"timer_fired"' in text for text in fast_texts)
        # Each path reads what the other wrote: every state, through the other engine's runtime.
        for writer_engine, reader_engine, ids in ((fast, stock, fast_ids), (stock, fast, stock_ids)):
            for instance_id in ids:
                with writer_engine.store.read() as reader:
                    record = reader.get_instance(instance_id)
                assert record is not None
                runtime = reader_engine._current[record.process_id].runtime
                loaded = runtime.load(record.state, instance_id, suspended=record.status == "suspended")
                assert loaded.completed == (record.status == "completed")
                assert _payload(loaded.dump()) == _payload(record.state)
    finally:
        fast.store.close()
        stock.store.close()


def _payload(state: bytes) -> Any:
    return json.loads(serializer.decompress_state(state))
