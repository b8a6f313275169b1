"""The per-evaluation budget of process code (time and call depth), and the signal every sandbox limit raises.

A `Budget` is made for each evaluation whose code has a loop, a comprehension or a function, and put into
its scope as ``_budget_``: a name process code cannot spell, because RestrictedPython refuses every name that
starts with an underscore. The compiled code calls ``_budget_.tick()`` at the top of every loop body and in
every comprehension, and every function it defines is wrapped by ``_budget_.function``. Nothing is shared
between evaluations, so two threads evaluating at once never charge each other.
"""

from __future__ import annotations

from collections.abc import Callable
from time import perf_counter
from typing import Any, Literal

__all__ = ["Budget", "Limit", "LimitReached"]

Limit = Literal["time", "size", "depth"]


class LimitReached(BaseException):
    """Raised inside process code that passes a limit; the sandbox turns it into `ExpressionLimitExceeded`.

    A `BaseException`, not an `Exception`: a bare ``except:`` in process code is compiled as
    ``except Exception:`` and no exception class is in scope, so process code cannot catch it; ``return``,
    ``break`` and ``continue`` in ``finally`` (which would swallow it) are refused at deployment.
    """

    def __init__(self, limit: Limit, budget: float, problem: str) -> None:
        super().__init__(problem)
        self.limit: Limit = limit
        self.budget = budget
        self.problem = problem


class Budget:
    """What one evaluation may still spend: wall time until ``deadline`` and ``max_depth`` nested calls."""

    __slots__ = ("deadline", "depth", "max_depth", "seconds")

    def __init__(self, seconds: float, max_depth: int) -> None:
        self.seconds = seconds
        self.max_depth = max_depth
        self.depth = 0
        # The clock starts when the evaluation does: perf_counter measures a duration, never a date.
        self.deadline = perf_counter() + seconds

    def tick(self) -> bool:
        """Stop the evaluation once its time is spent; True otherwise (it also serves as a comprehension's
        ``if``).

        Raises:
            LimitReached: ``limit="time"``.
        """
        if perf_counter() > self.deadline:
            raise LimitReached("time", self.seconds, f"ran past its time budget of {self.seconds:g} s")
        return True

    def function(self, function: Callable[..., Any]) -> Callable[..., Any]:
        """``function`` wrapped so that each call is charged: the clock is checked and the depth counted."""
        budget = self

        def budgeted(*args: Any, **kwargs: Any) -> Any:
            if budget.depth >= budget.max_depth:
                raise LimitReached(
                    "depth", budget.max_depth, f"called functions more than {budget.max_depth} deep"
                )
            budget.tick()
            budget.depth += 1
            try:
                return function(*args, **kwargs)
            finally:
                budget.depth -= 1

        return budgeted
