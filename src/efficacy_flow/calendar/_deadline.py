"""The result of a deadline computation, with the explanation of what it skipped and why."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from efficacy_flow.calendar._data import Notice
from efficacy_flow.calendar._rules import Rule, TimeLimit

__all__ = ["HOLIDAY", "MAKE_UP_DAY", "CrossedDay", "Deadline"]

#: ``CrossedDay.kind`` of a day off set by a notice (or by the statutory rules, provisionally).
HOLIDAY = "holiday"
#: ``CrossedDay.kind`` of a weekend day worked (调休上班).
MAKE_UP_DAY = "make_up_day"

_WEEKDAYS = "一二三四五六日"


@dataclass(frozen=True, slots=True)
class CrossedDay:
    """A day inside a period that is not an ordinary weekday or weekend day, and why.

    Attributes:
        date: the day.
        kind: :data:`HOLIDAY` (off, although maybe a weekday) or :data:`MAKE_UP_DAY` (worked, although a
        weekend). name: the holiday it belongs to ("春节", "国庆节、中秋节", "春节（补假）").
        notice: the notice that set it.
        provisional: True when computed from the statutory rules for a year without a notice.
    """

    date: date
    kind: str
    name: str
    notice: Notice
    provisional: bool = False

    def label(self) -> str:
        """A one-line Chinese description, e.g. "2025-10-01（星期三）放假 国庆节、中秋节"."""
        what = "放假" if self.kind == HOLIDAY else "调休上班"
        mark = "（暂定）" if self.provisional else ""
        return f"{self.date.isoformat()}（星期{_WEEKDAYS[self.date.weekday()]}）{what} {self.name}{mark}"


@dataclass(frozen=True, slots=True)
class Deadline:
    """When a period ends, and why.

    Attributes:
        start: the instant the period started (aware, Asia/Shanghai).
        limit: the limit that was applied.
        due_date: the period's last day (民法典 art. 203: after any roll past rest days).
        due_at: the aware instant the period ends: 24:00 of ``due_date`` (00:00 of the next day) or the
            calendar's closing time on ``due_date``; for hour and minute limits, start + the elapsed time.
        provisional: True when any day the computation looked at lies in a year whose notice is not
            published (its 调休 may still change the answer); recompute when ``calendar_version`` changes.
        calendar_version: the holiday data version that produced this deadline.
        crossed: every holiday and make-up day in (start day, due_date], in date order.
        rolled_from: for calendar-day and month limits whose last day was a rest day, that nominal last day.
        rules: the counting rules applied, each with its statute.
        provisional_years: the years without a notice that the computation looked at.
        sources: the notices (or, for unpublished years, the statutory rules) covering every year the
            computation looked at, whether or not a holiday was crossed.
    """

    start: datetime
    limit: TimeLimit
    due_date: date
    due_at: datetime
    provisional: bool
    calendar_version: str
    crossed: tuple[CrossedDay, ...] = ()
    rolled_from: date | None = None
    rules: tuple[Rule, ...] = ()
    provisional_years: tuple[int, ...] = ()
    sources: tuple[Notice, ...] = ()

    @property
    def notices(self) -> tuple[Notice, ...]:
        """The distinct notices the crossed days came from, in the order first met."""
        seen: dict[tuple[str, str | None], Notice] = {}
        for day in self.crossed:
            seen.setdefault((day.notice.title, day.notice.url), day.notice)
        return tuple(seen.values())

    def explain(self) -> list[str]:
        """The explanation as Chinese lines: the rules, each day crossed, any roll, and provisional status."""
        lines = [f"{rule.source}：{rule.text}" for rule in self.rules]
        lines.extend(day.label() for day in self.crossed)
        if self.rolled_from is not None:
            lines.append(
                f"期间最后一日 {self.rolled_from.isoformat()} 为休息日，顺延至 {self.due_date.isoformat()}"
            )
        if self.provisional:
            years = "、".join(str(y) for y in self.provisional_years)
            lines.append(
                f"暂定：{years}年放假安排通知尚未发布，按法定节假日推算（不含调休），通知发布后应重新计算"
            )
        return lines

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready mapping (ISO-8601 dates and instants)."""
        return {
            "start": self.start.isoformat(),
            "limit": {"n": self.limit.n, "unit": self.limit.unit.value, "text": str(self.limit)},
            "due_date": self.due_date.isoformat(),
            "due_at": self.due_at.isoformat(),
            "provisional": self.provisional,
            "provisional_years": list(self.provisional_years),
            "calendar_version": self.calendar_version,
            "rolled_from": None if self.rolled_from is None else self.rolled_from.isoformat(),
            "rules": [{"key": r.key, "source": r.source, "text": r.text} for r in self.rules],
            "crossed": [
                {
                    "date": d.date.isoformat(),
                    "kind": d.kind,
                    "name": d.name,
                    "notice": d.notice.title,
                    "provisional": d.provisional,
                }
                for d in self.crossed
            ],
            "notices": [
                {
                    "title": n.title,
                    "url": n.url,
                    "number": n.number,
                    "published": None if n.published is None else n.published.isoformat(),
                    "published_basis": n.published_basis,
                    "grade": n.grade,
                }
                for n in self.sources or self.notices
            ],
        }
