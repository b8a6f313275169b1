"""Instance ids: time-ordered UUIDs (RFC 9562 version 7), so that new rows land at the end of every index.

Random (version 4) ids scatter each new instance's rows over the whole of every index keyed by instance id
(the instance's own key, its audit events, its task and deadline rows): each call then dirties a random leaf
page per index, and every page a call dirties is written to SQLite's write-ahead log and copied back at the
next checkpoint (PostgreSQL's B-trees behave alike). Version 7 ids start with the creation instant in
milliseconds, so the instances being worked on share a few hot pages at the end of each index.

The instant comes from the engine's clock (injected, like every other time), and a counter keeps the ids of
one generator strictly increasing when the clock stands still or goes back (RFC 9562 §6.2, method 1: a
12-bit counter in ``rand_a``, seeded randomly each new millisecond; when it runs out, the millisecond is
advanced). 62 random bits in ``rand_b`` keep ids from different processes apart.
"""

from __future__ import annotations

import secrets
import threading
import uuid
from datetime import datetime

__all__ = ["InstanceIds"]

_MS_MASK = (1 << 48) - 1
_COUNTER_MAX = 0xFFF
#: A new millisecond's counter starts below half its range, leaving at least 2048 increments.
_SEED_LIMIT = 0x800


class InstanceIds:
    """A generator of time-ordered instance ids (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._ms = -1
        self._counter = 0

    def next(self, now: datetime) -> str:
        """A new id for an instance created at ``now`` (aware); larger than every id this generator gave."""
        ms = min(max(int(now.timestamp() * 1000), 0), _MS_MASK)
        with self._lock:
            if ms > self._ms:
                self._ms, self._counter = ms, secrets.randbelow(_SEED_LIMIT)
            elif self._counter < _COUNTER_MAX:
                self._counter += 1
            else:  # 4096 ids in one millisecond (or a clock that stands still): borrow the next one
                self._ms, self._counter = min(self._ms + 1, _MS_MASK), secrets.randbelow(_SEED_LIMIT)
            ms, counter = self._ms, self._counter
        value = (ms << 80) | (0x7 << 76) | (counter << 64) | (0b10 << 62) | secrets.randbits(62)
        return str(uuid.UUID(int=value))
