"""The engine's settings that bound failure: how failed steps are retried, and how large data may grow.

Both are frozen values passed to :class:`~efficacy_flow.engine.Engine` (``retry=``, ``limits=``); the defaults
are this project's, marked ``[local]`` where a jurisdiction might choose otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from efficacy_flow.errors import InvalidInput

__all__ = ["Limits", "RetryPolicy"]


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How a step that fails inside ``tick()`` or ``message()`` is retried before it becomes an incident.

    Camunda 7's failed-job semantics: the first failure schedules another attempt after ``delay``, each later
    one waits ``factor`` times longer (at most ``max_delay``); after ``attempts`` failed attempts in all the
    step is an open incident until an operator retries it.

    Attributes:
        attempts: failed attempts before the incident opens (default 3, Camunda 7's default retries) [local].
        delay: the wait after the first failure (default 30 seconds) [local].
        factor: how much longer each further wait is (default 2) [local].
        max_delay: the longest wait (default 1 hour) [local].
    """

    attempts: int = 3
    delay: timedelta = timedelta(seconds=30)
    factor: float = 2.0
    max_delay: timedelta = timedelta(hours=1)

    def __post_init__(self) -> None:
        if isinstance(self.attempts, bool) or not isinstance(self.attempts, int) or self.attempts < 1:
            raise InvalidInput(f"retry attempts must be a whole number >= 1, got {self.attempts!r}")
        if not isinstance(self.delay, timedelta) or self.delay < timedelta(0):
            raise InvalidInput(f"the retry delay must be a timedelta >= 0, got {self.delay!r}")
        if not isinstance(self.max_delay, timedelta) or self.max_delay < self.delay:
            raise InvalidInput(f"max_delay must be a timedelta >= delay, got {self.max_delay!r}")
        if isinstance(self.factor, bool) or not isinstance(self.factor, int | float) or not self.factor >= 1:
            raise InvalidInput(f"the retry factor must be a number >= 1, got {self.factor!r}")

    def wait_after(self, failed: int) -> timedelta | None:
        """How long to wait after the ``failed``-th failed attempt (1-based); None when no attempt is left."""
        if failed >= self.attempts:
            return None
        seconds = self.delay.total_seconds() * self.factor ** (failed - 1)
        return min(timedelta(seconds=seconds), self.max_delay)


@dataclass(frozen=True, slots=True)
class Limits:
    """Upper bounds on what a process may hold or compute.

    Attributes:
        data_bytes: the process data of one instance, as JSON (default 1 MiB; Temporal refuses payloads over
            2 MB) [local]. A step that would leave more is refused.
        event_bytes: the data one audit event records (a call's input, a message's payload; default 1 MiB)
            [local].
        expression_seconds: the time budget of one expression, condition, script or timer evaluation
            (default 1 second) [local].
    """

    data_bytes: int = 1 << 20
    event_bytes: int = 1 << 20
    expression_seconds: float = 1.0

    def __post_init__(self) -> None:
        for name in ("data_bytes", "event_bytes"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1024:
                raise InvalidInput(f"{name} must be a whole number of bytes >= 1024, got {value!r}")
        budget = self.expression_seconds
        if isinstance(budget, bool) or not isinstance(budget, int | float) or not 0 < budget <= 60:
            raise InvalidInput(f"expression_seconds must be a number in (0, 60], got {budget!r}")
