"""Instance ids are RFC 9562 version 7 UUIDs: the creation instant first, always increasing."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from efficacy_flow.clock import CHINA_TZ
from efficacy_flow.engine import Actor, Engine
from efficacy_flow.engine._instance_ids import InstanceIds
from efficacy_flow.testing import FakeClock

_AT = datetime(2025, 9, 26, 10, 0, 0, 123000, tzinfo=CHINA_TZ)


def _ms(text: str) -> int:
    return uuid.UUID(text).int >> 80


def test_ids_are_version_7_with_the_clock_millisecond_first() -> None:
    ids = InstanceIds()
    text = ids.next(_AT)
    parsed = uuid.UUID(text)
    assert str(parsed) == text
    assert (parsed.version, parsed.variant) == (7, uuid.RFC_4122)
    assert _ms(text) == int(_AT.timestamp() * 1000)


def test_ids_increase_while_the_clock_stands_still_even_past_the_counter() -> None:
    ids = InstanceIds()
    made = [ids.next(_AT) for _ in range(10_000)]  # more than the 12-bit counter holds in one millisecond
    assert made == sorted(made)
    assert len(set(made)) == len(made)
    # The millisecond is borrowed forward only when the counter runs out: at most a few milliseconds.
    assert _ms(made[0]) == int(_AT.timestamp() * 1000)
    assert _ms(made[-1]) - _ms(made[0]) <= 10_000 // 2048 + 1


def test_ids_increase_when_the_clock_goes_back() -> None:
    ids = InstanceIds()
    first = ids.next(_AT)
    earlier = ids.next(_AT - timedelta(days=3))
    later = ids.next(_AT + timedelta(seconds=1))
    assert first < earlier < later
    assert _ms(later) == int((_AT + timedelta(seconds=1)).timestamp() * 1000)


def test_two_generators_at_one_instant_give_different_ids() -> None:
    a, b = InstanceIds(), InstanceIds()
    assert {a.next(_AT) for _ in range(100)}.isdisjoint({b.next(_AT) for _ in range(100)})


def test_instants_outside_the_48_bit_range_are_clamped() -> None:
    ids = InstanceIds()
    assert _ms(ids.next(datetime(1960, 1, 1, tzinfo=UTC))) == 0
    assert uuid.UUID(ids.next(datetime(9999, 12, 31, tzinfo=UTC))).version == 7


def test_an_engine_numbers_its_instances_in_start_order(engine: Engine, clock: FakeClock) -> None:
    """Started in a row, at one instant and a day later, the instances' ids sort in start order; listing
    them oldest first gives the same order."""
    clerk = Actor("c", {"受理员"})
    started = [engine.start("fx_ten", {}, clerk).id for _ in range(3)]
    clock.advance(timedelta(days=1))
    started += [engine.start("fx_ten", {}, clerk).id for _ in range(2)]
    assert started == sorted(started)
    assert {uuid.UUID(i).version for i in started} == {7}
    assert _ms(started[-1]) == int(clock.now().timestamp() * 1000)
    assert [s.id for s in engine.instances(process_id="fx_ten")] == started
