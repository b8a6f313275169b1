"""A seeded month of 12345 tickets, "办不成事" window cases and the accountability cases they lead to.

:class:`Simulation` drives the shipped processes (complaint_closure, window_escalation, accountability,
good_bad_review) on a real engine with a :class:`~efficacy_flow.clock.FakeClock`, hour by hour, calling
``engine.tick()`` as time moves: tickets arrive (some shared by a lead unit and co-handling units,
主办/协办), units acknowledge, return, handle (some late, some after an extension the lead requested and
the hotline centre approved), requesters rate on the five levels of 好差评 (some not at all; a 差评 sends
the ticket to rework and is verified, rectified or appealed in good_bad_review), supervisors refer
repeated dissatisfaction to accountability, and accountability cases are investigated and decided. It is
the engine of ``efficacy-flow demo`` and a load generator for integrators.

Every choice comes from a random generator seeded with the plan's seed and the case's business key, the
element and how often the case reached it, so the same seed gives the same month whatever order tasks are
listed in.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from efficacy_flow.calendar import WorkingDayCalendar
from efficacy_flow.clock import CHINA_TZ, FakeClock
from efficacy_flow.engine import Actor, Engine, InstanceView, TaskView
from efficacy_flow.errors import ConcurrentUpdate, InvalidState, UnknownInstance, UnknownTask

__all__ = ["DEMO_UNITS", "ScenarioPlan", "Simulation", "SimulationResult"]

#: Handling units of a city (承办单位) with the request categories they own, and a weight for their volume.
DEMO_UNITS: Mapping[str, tuple[tuple[str, ...], int]] = {
    "市住建局": (("物业管理", "房屋质量", "老旧小区改造"), 6),
    "市城管局": (("占道经营", "市容环境", "违章搭建"), 6),
    "市市场监管局": (("消费维权", "食品安全", "价格投诉"), 5),
    "市人社局": (("欠薪讨薪", "社保办理", "就业服务"), 4),
    "市交通运输局": (("公交线路", "出租车服务", "道路养护"), 3),
    "市生态环境局": (("噪声扰民", "油烟污染", "水体污染"), 3),
    "市教育局": (("招生入学", "校外培训"), 2),
    "市卫生健康委": (("医疗服务", "疫苗接种"), 2),
}
_SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林"
#: An approved extension of the handling limit (安阳市政务服务条例 第五十条; time_limits.yaml
#: complaint_extension).
_EXTENSION = "5个工作日"
_EXTENSION_REASON = "情况复杂，经单位负责人批准延期（安阳市政务服务条例第五十条）"
#: The five levels of 好差评 (国办发〔2019〕51号); the bottom two are 差评.
_RATINGS = ("非常满意", "满意", "基本满意", "不满意", "非常不满意")
_BAD_RATINGS = frozenset(_RATINGS[3:])
#: Timers whose firing the result counts, with a Chinese label.
_TIMER_LABELS = {
    "Timer_VerifyLimit": "差评视为属实",
    "Timer_RectifyLimit": "差评整改逾期督办",
    "Timer_HandlingLimit": "办理逾期督办",
    "Timer_ReturnWindow": "视为签收",
    "Timer_RatingPeriod": "未评价按默认评价",
    "Timer_CoordinationLimit": "窗口协调逾期",
    "Timer_ConferenceLimit": "一事一议逾期",
    "Timer_ComplexLimit": "延长期逾期",
    "Timer_StatementPeriod": "视为放弃陈述申辩",
}


@dataclass(frozen=True, slots=True)
class ScenarioPlan:
    """What to simulate.

    Attributes:
        seed: the seed every random choice derives from.
        tickets: 12345 tickets (complaint_closure) arriving over the period.
        window_cases: "办不成事" window cases (window_escalation); default a fifth of ``tickets``.
        start: the first day (00:00, China time); default Monday 2025-09-15.
        end: the last day (the simulation stops at its 24:00); default Friday 2025-10-24, so the month crosses
            National Day and Mid-Autumn 2025 (10-01..10-08 off, make-up days 09-28 and 10-11).
        arrivals_until: the last day new cases arrive (default 5 days before ``end``, so most can close).
        step: how far the clock moves between two rounds of work (default one hour).
    """

    seed: int = 2025
    tickets: int = 300
    window_cases: int | None = None
    start: date = date(2025, 9, 15)
    end: date = date(2025, 10, 24)
    arrivals_until: date | None = None
    step: timedelta = timedelta(hours=1)

    @property
    def window_count(self) -> int:
        """The number of window cases to simulate."""
        return self.tickets // 5 if self.window_cases is None else self.window_cases


@dataclass(frozen=True, slots=True)
class SimulationResult:
    """What a simulation did.

    Attributes:
        instance_ids: every instance it started, in business-key order.
        business_keys: the business key of each instance id.
        counts: what happened, as ``(Chinese label, count)`` in a fixed order.
        ended_at: the clock at the end.
    """

    instance_ids: tuple[str, ...]
    business_keys: Mapping[str, str]
    counts: tuple[tuple[str, int], ...]
    ended_at: datetime


@dataclass(slots=True)
class _Case:
    key: str
    process_id: str
    instance_id: str = ""
    attrs: dict[str, Any] = field(default_factory=dict)
    seen: Counter[str] = field(default_factory=Counter)


@dataclass(slots=True)
class _Plan:
    at: datetime
    data: dict[str, Any]


#: When a task nobody acts on is done: never (its timer acts).
_NEVER = datetime.max.replace(tzinfo=CHINA_TZ)


class Simulation:
    """Drive a month of cases through an engine whose clock is ``clock``.

    Args:
        engine: an engine with complaint_closure, window_escalation and accountability deployed, reading
            ``clock``.
        clock: the engine's clock; the simulation moves it from ``plan.start`` to the end of ``plan.end``.
        calendar: the engine's working-day calendar (office hours follow it; the holiday stalls the units).
        plan: what to simulate.
        in_admonition_year: ``(decided_at, as_of) -> bool``, whether an earlier admonition counts in the year
            (the host's count passed as ``admonitions_this_year``; default: the same calendar year).
        progress: called after each simulated day with ``(days done, days in all, the day)``.
    """

    def __init__(
        self,
        engine: Engine,
        clock: FakeClock,
        calendar: WorkingDayCalendar,
        plan: ScenarioPlan | None = None,
        *,
        in_admonition_year: Callable[[datetime, datetime], bool] | None = None,
        progress: Callable[[int, int, date], None] | None = None,
    ) -> None:
        self._engine = engine
        self._clock = clock
        self._cal = calendar
        self._plan = plan or ScenarioPlan()
        self._in_year = in_admonition_year or (lambda decided, as_of: decided.year == as_of.year)
        self._progress = progress
        self._cases: dict[str, _Case] = {}
        self._by_instance: dict[str, _Case] = {}
        self._plans: dict[str, _Plan] = {}
        self._ratings: list[tuple[datetime, str, str]] = []
        self._referrals: list[tuple[_Case, str]] = []
        self._admonitions: list[tuple[str, datetime]] = []
        self._counts: Counter[str] = Counter()
        # Two staff per unit (fictional names), so a person can be admonished twice within the month.
        self._staff = {
            unit: [f"{_SURNAMES[(index * 2 + i) % len(_SURNAMES)]}某" for i in range(2)]
            for index, unit in enumerate(DEMO_UNITS)
        }

    # -- the run --------------------------------------------------------------------------------------------

    def run(self) -> SimulationResult:
        """Simulate from ``plan.start`` 00:00 to ``plan.end`` 24:00 and return what happened."""
        plan = self._plan
        first = datetime.combine(plan.start, time(0), CHINA_TZ)
        last = datetime.combine(plan.end + timedelta(days=1), time(0), CHINA_TZ)
        arrivals = self._arrivals()
        self._clock.set(first)
        days = (plan.end - plan.start).days + 1
        day = plan.start
        reported = 0
        while self._clock.now() < last:
            now = self._clock.advance(plan.step)
            for fired in self._engine.tick():
                label = _TIMER_LABELS.get(fired.element_id)
                if label:
                    self._counts[label] += 1
                if fired.element_id == "Timer_HandlingLimit":
                    self._refer_overdue(self._by_instance[fired.instance_id])
            while arrivals and arrivals[0][0] <= now:
                self._start(arrivals.pop(0)[1])
            self._start_referrals()
            self._deliver_ratings(now)
            self._work(now)
            if self._progress is not None and now.date() != day:
                reported = (now.date() - plan.start).days
                self._progress(reported, days, day)
                day = now.date()
        if self._progress is not None and reported < days:
            self._progress(days, days, plan.end)
        cases = sorted(self._cases.values(), key=lambda c: c.key)
        return SimulationResult(
            instance_ids=tuple(c.instance_id for c in cases if c.instance_id),
            business_keys={c.instance_id: c.key for c in cases if c.instance_id},
            counts=tuple((label, self._counts[label]) for label in _COUNT_ORDER),
            ended_at=self._clock.now(),
        )

    def _rng(self, case: _Case, what: str) -> random.Random:
        # A string seed is hashed with SHA-512, so this is stable across runs and Python processes.
        return random.Random(f"{self._plan.seed}:{case.key}:{what}:{case.seen[what]}")

    def _arrivals(self) -> list[tuple[datetime, _Case]]:
        plan = self._plan
        until = plan.arrivals_until or plan.end - timedelta(days=5)
        span = max((until - plan.start).days, 0) + 1
        rng = random.Random(f"{plan.seed}:arrivals")
        units = list(DEMO_UNITS)
        weights = [DEMO_UNITS[u][1] for u in units]
        arrivals: list[tuple[datetime, _Case]] = []
        for n in range(1, plan.tickets + 1):
            # The hotline answers every day, 08:00-20:00.
            day = plan.start + timedelta(days=rng.randrange(span))
            at = datetime.combine(day, time(rng.randint(8, 19), rng.choice((0, 15, 30, 45))), CHINA_TZ)
            unit = rng.choices(units, weights)[0]
            case = _Case(f"GD{n:04d}", "complaint_closure")
            # About one ticket in eight needs other units too (主办/协办: 国办发〔2020〕53号; the first unit
            # leads, 北京市接诉即办工作条例 第十四条).
            others = [u for u in units if u != unit]
            co_units = rng.sample(others, rng.choice((1, 1, 2))) if rng.random() < 0.12 else []
            case.attrs = {
                "unit": unit,
                "co_units": co_units,
                "category": rng.choice(DEMO_UNITS[unit][0]),
                "urgency": "较急" if rng.random() < 0.1 else "一般",
                "misrouted_to": rng.choice([u for u in units if u != unit]) if rng.random() < 0.05 else None,
            }
            arrivals.append((at, case))
        working = [plan.start + timedelta(days=i) for i in range(span)]
        working = [d for d in working if self._cal.is_working_day(d)] or [plan.start]
        for n in range(1, plan.window_count + 1):
            # The service hall's window is open on working days, 09:00-17:00.
            day = rng.choice(working)
            at = datetime.combine(day, time(rng.randint(9, 16), rng.choice((0, 30))), CHINA_TZ)
            case = _Case(f"BCS{n:04d}", "window_escalation", attrs={"unit": rng.choices(units, weights)[0]})
            arrivals.append((at, case))
        arrivals.sort(key=lambda a: (a[0], a[1].key))
        return arrivals

    def _start(self, case: _Case) -> None:
        if case.process_id == "complaint_closure":
            data: dict[str, Any] = {
                "title": f"{case.attrs['category']}问题",
                "content": f"市民反映{case.attrs['category']}问题，请求协调解决。",
                "category": case.attrs["category"],
                "urgency": case.attrs["urgency"],
                "channel": "12345热线",
            }
            if case.attrs["co_units"]:
                data["co_units"] = "、".join(case.attrs["co_units"])
                self._counts["主办协办件"] += 1
            actor = _actor("受理员")
            self._counts["受理诉求"] += 1
        elif case.process_id == "window_escalation":
            data = {
                "matter": "窗口未能办理的事项，申请协调",
                "applicant_type": "企业",
                "unit": case.attrs["unit"],
            }
            actor = _actor("窗口协调员")
            self._counts["窗口登记"] += 1
        elif case.process_id == "good_bad_review":
            data = dict(case.attrs["start"])
            actor = _actor("受理员")
            self._counts["差评核实整改"] += 1
        else:
            data = dict(case.attrs["start"])
            actor = _actor("效能办")
            self._counts["启动效能问责"] += 1
        view = self._engine.start(case.process_id, data, actor, business_key=case.key)
        case.instance_id = view.id
        self._cases[case.key] = case
        self._by_instance[view.id] = case

    # -- work on ready tasks --------------------------------------------------------------------------------

    def _work(self, now: datetime) -> None:
        # Only the cases this scenario started: an accountability case a red card referred (电子监察,
        # docs/supervision.md) waits for the 效能办, whom the scenario does not play.
        tasks = [t for t in self._engine.tasks() if t.instance_id in self._by_instance]
        ready = {t.id for t in tasks}
        for stale in [task_id for task_id in self._plans if task_id not in ready]:
            del self._plans[stale]
        ordered = sorted(
            tasks, key=lambda t: (self._by_instance[t.instance_id].key, t.element_id, t.ready_at)
        )
        for task in ordered:
            case = self._by_instance[task.instance_id]
            if task.id not in self._plans:
                planned = self._decide(case, task, now)
                case.seen[task.element_id] += 1
                # None: nobody acts, so the task waits for its timer; remembered, so that the next round does
                # not decide again (and, hour after hour, almost surely act after all).
                self._plans[task.id] = planned if planned is not None else _Plan(_NEVER, {})
            step = self._plans[task.id]
            if step.at > now:
                continue
            del self._plans[task.id]
            try:
                view = self._engine.complete(task.id, step.data, _actor(task.role or "", task.unit))
            except (ConcurrentUpdate, UnknownTask, InvalidState):
                continue  # a timer took the task away first: the next round sees what replaced it
            self._after(case, task, step.data, view, now)

    def _after(
        self, case: _Case, task: TaskView, data: Mapping[str, Any], view: InstanceView, now: datetime
    ) -> None:
        element = task.element_id
        if element == "Task_Reply":
            self._schedule_rating(case, now)
        elif element == "Task_Acknowledge" and data.get("ack_decision") == "退单":
            self._counts["退单"] += 1
        elif (
            element == "Task_Review" and case.process_id == "complaint_closure" and not data["review_passed"]
        ):
            self._counts["审核退回（答非所问）"] += 1
        elif element == "Task_ReworkDispatch":
            self._counts["不满意重办"] += 1
        elif element == "Task_Callback" and case.process_id == "complaint_closure":
            self._rated(case, str(data["rating"]))
        elif element == "Task_ApproveExtension" and case.process_id == "complaint_closure":
            self._apply_extension(case, data)
        elif element == "Task_AppealReview":
            self._counts["申诉成立剔除差评" if data["appeal_upheld"] else "申诉驳回"] += 1
        elif element == "Task_Decide":
            self._counts[f"决定：{data['decision']}"] += 1
            if data["decision"] == "效能告诫":
                self._admonitions.append((case.attrs["subject"], now))
        if view.status == "completed" and view.data.get("accountability_requested"):
            clue = (
                "诉求多次办理不满意"
                if case.process_id == "complaint_closure"
                else "窗口事项推诿扯皮、办事拖拉"
            )
            self._referrals.append((case, clue))

    def _refer_overdue(self, case: _Case) -> None:
        # The efficiency office opens a case for some tickets whose handling limit ran out (慢作为: seed 003
        # §二(五), 对不作为、乱作为、慢作为等造成严重影响的，进行追责问责).
        if self._rng(case, "overdue-referral").random() < 0.4:
            self._referrals.append((case, "诉求办理超过时限"))

    def _decide(self, case: _Case, task: TaskView, now: datetime) -> _Plan | None:
        """What the holder of ``task`` will do, and when (None: nothing; a timer will act)."""
        rng = self._rng(case, task.element_id)
        behaviour = _BEHAVIOUR.get(case.process_id)
        if behaviour is None:
            return None
        return behaviour(self, case, task, rng, now)

    # -- time helpers ---------------------------------------------------------------------------------------

    def _office(self, now: datetime, working_days: int, rng: random.Random) -> datetime:
        """An office hour ``working_days`` working days after today (0: today if it is one, else the next)."""
        today = now.date()
        day = (
            self._cal.add_working_days(today, working_days)
            if working_days
            else self._cal.next_working_day(today)
        )
        at = datetime.combine(day, time(rng.randint(9, 16), rng.choice((0, 30))), CHINA_TZ)
        return max(at, now)

    @staticmethod
    def _hours(now: datetime, low: int, high: int, rng: random.Random) -> datetime:
        return now + timedelta(hours=rng.randint(low, high))

    # -- ratings and referrals ------------------------------------------------------------------------------

    def _schedule_rating(self, case: _Case, now: datetime) -> None:
        rng = self._rng(case, "rating")
        case.seen["rating"] += 1
        if rng.random() < 0.15:
            return  # no rating: the rating period runs out and the default rating is recorded
        reworked = case.seen["rating"] > 1
        # Seed 003 reports 满意度 73.7%; a reworked ticket's requester is harder to satisfy.
        weights = (0.15, 0.20, 0.25, 0.30, 0.10) if reworked else (0.25, 0.25, 0.18, 0.24, 0.08)
        value = rng.choices(_RATINGS, weights)[0]
        # The hotline calls back (回访) the working day after the reply and records what the requester says;
        # some rate by SMS first (短信评价), which the call then finds done.
        case.attrs["rating"] = value
        if rng.random() < 0.4:
            self._ratings.append((self._hours(now, 2, 30, rng), case.key, value))
            self._ratings.sort()

    def _deliver_ratings(self, now: datetime) -> None:
        while self._ratings and self._ratings[0][0] <= now:
            _, key, value = self._ratings.pop(0)
            try:
                # A requester who is not dissatisfied says it was solved (解决率).
                payload = {"rating": value, "solved": value not in _BAD_RATINGS}
                self._engine.message("rating", payload, {"business_key": key})
            except (InvalidState, UnknownInstance):
                continue  # the rating period ran out first, or the call back recorded it (and it closed)
            self._rated(self._cases[key], value)

    def _rated(self, case: _Case, value: str) -> None:
        """A rating was recorded (by SMS or on the call back): counted, and a 差评 reviewed."""
        case.attrs.pop("rating", None)
        self._counts[f"评价：{value}"] += 1
        if value in _BAD_RATINGS:
            self._review(case, value)

    def _review(self, rated: _Case, rating: str) -> None:
        """Every 差评 is verified and rectified or appealed (好差评, 国办发〔2019〕51号): a good_bad_review
        case on the rated ticket, registered by the hotline (受理员)."""
        n = sum(1 for c in self._cases.values() if c.process_id == "good_bad_review") + 1
        rng = self._rng(rated, "review")
        rated.seen["review"] += 1
        named = rng.random() < 0.6
        start = {
            "case_id": rated.key,
            "unit": rated.attrs["unit"],
            "rating": rating,
            "named": named,
            "callback_wanted": not named and rng.random() < 0.3,
            "channel": "12345热线",
        }
        self._start(
            _Case(f"HC{n:04d}", "good_bad_review", attrs={"unit": rated.attrs["unit"], "start": start})
        )

    def _apply_extension(self, case: _Case, data: Mapping[str, Any]) -> None:
        """The hotline centre approved the lead's request: the host moves the handling deadline (a process
        step cannot: docs/processes.md §2, "Extension")."""
        if not data["extension_approved"]:
            return
        handling = [
            t for t in self._engine.tasks(instance_id=case.instance_id) if t.element_id == "Task_Handle"
        ]
        for task in handling:
            reason = _EXTENSION_REASON
            self._engine.extend(task.id, data["extension_granted"], reason, _actor("热线中心"))
            self._counts["批准延期"] += 1

    def _start_referrals(self) -> None:
        referrals, self._referrals = self._referrals, []
        for origin, clue in sorted(referrals, key=lambda r: (r[0].key, r[1])):
            n = sum(1 for c in self._cases.values() if c.process_id == "accountability") + 1
            case = _Case(f"WZ{n:04d}", "accountability")
            rng = self._rng(origin, "referral")
            origin.seen["referral"] += 1
            unit = origin.attrs["unit"]
            person = origin.process_id == "complaint_closure" or rng.random() < 0.4
            subject = rng.choice(self._staff[unit]) if person else unit
            now = self._clock.now()
            earlier = sum(1 for name, at in self._admonitions if name == subject and self._in_year(at, now))
            start = {
                "subject_type": "个人" if person else "单位",
                "subject_name": subject,
                "unit": unit,
                "clue": f"{origin.key}：{clue}",
                "clue_source": _CLUE_SOURCES[clue],
                "admonitions_this_year": earlier,
                "origin_instance": origin.instance_id,
            }
            case.attrs = {"unit": unit, "subject": subject, "start": start}
            self._start(case)


def _actor(role: str, unit: str | None = None) -> Actor:
    # A unit's staff are restricted to their unit's tasks (conventions §3); the hotline centre, the service
    # hall and the efficiency office act for every unit.
    if role not in _UNIT_ROLES:
        unit = None
    return Actor(f"{unit}{role}" if unit else role, [role], unit=unit)


#: Roles bound to a unit: processes/settings.yaml unit_lanes, and the unit head who approves extensions.
_UNIT_ROLES = frozenset({"承办单位", "单位负责人", "责任单位", "牵头单位", "被问责对象"})
_CLUE_SOURCES = {
    "诉求多次办理不满意": "12345热线",
    "窗口事项推诿扯皮、办事拖拉": "办不成事窗口",
    "诉求办理超过时限": "效能督查",
}


_Behaviour = Callable[[Simulation, _Case, TaskView, random.Random, datetime], _Plan | None]


def _complaint(
    sim: Simulation, case: _Case, task: TaskView, rng: random.Random, now: datetime
) -> _Plan | None:
    element = task.element_id
    attrs = case.attrs
    if element == "Task_Dispatch":
        misrouted = attrs["misrouted_to"] if case.seen[element] == 0 else None
        return _Plan(
            sim._hours(now, 0, 2, rng), {"unit": misrouted or attrs["unit"], "dispatch_note": "请依职责办理"}
        )
    if element == "Task_Acknowledge":
        if task.unit != attrs["unit"]:
            return _Plan(
                sim._hours(now, 2, 8, rng), {"ack_decision": "退单", "return_reason": "不属于本单位职责"}
            )
        if rng.random() < 0.03:
            return (
                None  # nobody acknowledges: after 24 hours the ticket is deemed acknowledged (安阳 第五十条)
            )
        return _Plan(sim._hours(now, 1, 6, rng), {"ack_decision": "签收"})
    if element == "Task_ReviewReturn":
        return _Plan(sim._hours(now, 1, 3, rng), {"return_approved": True, "return_opinion": "退单理由成立"})
    if element == "Task_Handle":
        return _handle(sim, case, task, rng, now)
    if element == "Task_Supervise":
        return _Plan(sim._hours(now, 1, 4, rng), {"supervision_opinion": "已逾期，请立即办理"})
    if element == "Task_Callback":
        value = attrs.get("rating")
        if value is None:
            return None  # not reached: 回访期满, then the rating period (and the default rating)
        said = {"rating": value, "solved": value not in _BAD_RATINGS}
        return _Plan(sim._office(now, 1, rng), said)
    if element == "Task_SignOff":
        return _Plan(sim._hours(now, 1, 4, rng), {"signed_off": True, "sign_off_opinion": "同意签发"})
    if element == "Task_Review":
        passed = rng.random() >= 0.08
        opinion = "答复合格" if passed else "答非所问，退回重办"
        return _Plan(sim._hours(now, 1, 6, rng), {"review_passed": passed, "review_opinion": opinion})
    if element == "Task_Reply":
        return _Plan(sim._hours(now, 1, 4, rng), {"reply_channel": rng.choice(("电话", "短信", "网络平台"))})
    if element == "Task_ReworkDispatch":
        return _Plan(sim._hours(now, 1, 4, rng), {"rework_note": "诉求人不满意，请再次办理"})
    if element == "Task_CoHandle":  # a co-handling unit's part (协办), for the lead to merge
        return _Plan(
            sim._office(now, rng.choice((0, 1, 1, 2)), rng), {"co_reply": f"{task.unit}已就职责部分办理"}
        )
    if element == "Task_MergeReplies":
        reply = f"主办单位汇总各协办单位意见，已就{attrs['category']}问题答复"
        return _Plan(sim._hours(now, 1, 6, rng), {"reply": reply, "resolved": True})
    if element == "Task_ApproveExtension":
        approved = rng.random() < 0.85
        data: dict[str, Any] = {
            "extension_approved": approved,
            "approval_opinion": "情况属实" if approved else "不符合延期条件",
        }
        if approved:
            data["extension_granted"] = _EXTENSION
        return _Plan(sim._hours(now, 1, 4, rng), data)
    if element == "Task_NotifyExtension":
        return _Plan(
            sim._hours(now, 1, 4, rng), {"notify_channel": "短信", "notice": "您的诉求已批准延期办理"}
        )
    if element == "Task_EscalateUnsatisfied":
        refer = rng.random() < 0.8
        return _Plan(
            sim._office(now, 1, rng), {"supervision_opinion": "多次办理不满意", "refer_accountability": refer}
        )
    return None


def _handle(sim: Simulation, case: _Case, task: TaskView, rng: random.Random, now: datetime) -> _Plan:
    data = {"reply": f"已就{case.attrs['category']}问题调查处理并答复", "resolved": True}
    first = case.seen["Task_Handle"] == 0
    late = first and rng.random() < 0.16
    if case.attrs["urgency"] == "较急":
        # 24 hours, counted as elapsed time (time_limits.yaml complaint_handling, urgency 较急).
        return _Plan(sim._hours(now, 26, 40, rng) if late else sim._hours(now, 2, 20, rng), data)
    if not late:
        return _Plan(sim._office(now, rng.choice((0, 1, 1, 2, 2, 3, 4)), rng), data)
    if rng.random() < 0.35:
        # Late, but the lead asks in time for 5 more working days (安阳 第五十条), which the hotline centre
        # approves or refuses (延期审批) and the host applies (Simulation._apply_extension).
        request = {"extension_reason": _EXTENSION_REASON, "extension_requested": _EXTENSION}
        sim._engine.message("extension_request", request, {"instance_id": case.instance_id})
        sim._counts["申请延期"] += 1
    return _Plan(sim._office(now, rng.choice((6, 7, 8)), rng), data)


def _window(sim: Simulation, case: _Case, task: TaskView, rng: random.Random, now: datetime) -> _Plan | None:
    element = task.element_id
    roll = rng.random()
    if element == "Task_OnSpot":
        solved = roll < 0.4
        return _Plan(sim._hours(now, 0, 1, rng), {"solved_on_spot": solved, "on_spot_result": "现场协调"})
    if element == "Task_Coordinate":
        if roll < 0.2:
            return _Plan(sim._office(now, 4, rng), {"coordination_result": "已解决", "feedback": "逾期反馈"})
        result = "已解决" if roll < 0.65 else "难以协调"
        return _Plan(
            sim._office(now, rng.choice((0, 1, 2)), rng),
            {"coordination_result": result, "feedback": "已反馈"},
        )
    if element == "Task_CaseConference":
        if roll < 0.1:
            return _Plan(sim._office(now, 6, rng), {"conference_result": "已解决", "feedback": "逾期反馈"})
        result = "已解决" if roll < 0.65 else "特别复杂" if roll < 0.92 else "依规不予办理"
        return _Plan(
            sim._office(now, rng.randint(1, 4), rng), {"conference_result": result, "feedback": "已研究"}
        )
    if element == "Task_ApproveExtension":
        return _Plan(
            sim._office(now, 1, rng), {"extension_approved": roll < 0.85, "approval_opinion": "同意延长"}
        )
    if element == "Task_ComplexHandling":
        days = 11 if roll < 0.1 else rng.randint(4, 9)
        return _Plan(sim._office(now, days, rng), {"handling_result": "已解决", "feedback": "已办结"})
    if element == "Task_EfficiencyCheck":
        data = sim._engine.instance(task.instance_id).data
        overdue = any(data.get(k) for k in ("coordination_overdue", "conference_overdue", "complex_overdue"))
        delay = overdue and roll < 0.8
        shirking = not overdue and roll < 0.25
        opinion = "存在办事拖拉" if delay else "存在推诿扯皮" if shirking else "未发现问题"
        check = {"shirking_found": shirking, "delay_found": delay, "check_opinion": opinion}
        return _Plan(sim._office(now, 1, rng), check)
    return None


def _accountability(
    sim: Simulation, case: _Case, task: TaskView, rng: random.Random, now: datetime
) -> _Plan | None:
    element = task.element_id
    roll = rng.random()
    if element == "Task_Investigate":
        found = roll < 0.85
        return _Plan(
            sim._office(now, rng.randint(1, 2), rng), {"facts": "经调查核实", "violation_found": found}
        )
    if element == "Task_NotifyFacts":
        return _Plan(sim._office(now, 1, rng), {"notice": "已告知调查认定的事实和依据"})
    if element == "Task_StateDefence":
        if roll < 0.2:
            return None  # silent: the statement period runs out (视为放弃陈述申辩)
        return _Plan(sim._office(now, rng.randint(0, 2), rng), {"statement": "对事实无异议，已整改"})
    if element == "Task_Decide":
        decision = rng.choices(
            ("效能告诫", "监察建议", "不予追究", "组织处理", "立案查处"), (60, 18, 10, 8, 4)
        )[0]
        data: dict[str, Any] = {"decision": decision, "decision_basis": "001_a86978e3ab2b148c.txt §五(五)"}
        if decision == "组织处理":
            data["organisational_measure"] = "调整"
        return _Plan(sim._office(now, 1, rng), data)
    if element == "Task_Transfer":
        return _Plan(sim._office(now, 1, rng), {"transfer_note": "移送纪检监察机关"})
    if element == "Task_Serve":
        return _Plan(sim._office(now, 1, rng), {"service_note": "已送达"})
    if element == "Task_Rectify":
        return _Plan(sim._office(now, rng.randint(5, 12), rng), {"rectification_report": "已完成整改"})
    if element == "Task_UrgeRectification":
        return _Plan(sim._office(now, 1, rng), {"urge_note": "请按期整改"})
    if element == "Task_VerifyRectification":
        return _Plan(sim._office(now, rng.randint(1, 2), rng), {"rectification_verified": True})
    return None


def _good_bad_review(
    sim: Simulation, case: _Case, task: TaskView, rng: random.Random, now: datetime
) -> _Plan | None:
    element = task.element_id
    roll = rng.random()
    if element == "Task_Verify":
        if roll < 0.05:
            return None  # nobody verifies in time: the 差评 is deemed true (Timer_VerifyLimit)
        if roll < 0.65:
            return _Plan(
                sim._hours(now, 2, 8, rng), {"verification": "属实", "verification_note": "经核实属实"}
            )
        if roll < 0.80:
            return _Plan(
                sim._hours(now, 2, 8, rng), {"verification": "不属实", "verification_note": "已按期办结"}
            )
        ground = "误评" if rng.random() < 0.6 else "恶意差评"
        note = "评价对象有误" if ground == "误评" else "评价人多次恶意差评"
        return _Plan(
            sim._hours(now, 2, 8, rng),
            {"verification": "申诉", "verification_note": note, "appeal_ground": ground},
        )
    if element == "Task_Explain":
        return _Plan(sim._hours(now, 1, 4, rng), {"explanation": "已向评价人解释说明办理情况"})
    if element == "Task_AppealReview":
        upheld = roll < 0.5
        opinion = "申诉成立，剔除该差评" if upheld else "申诉不成立，责令整改"
        return _Plan(sim._office(now, 1, rng), {"appeal_upheld": upheld, "appeal_opinion": opinion})
    if element == "Task_Rectify":
        # Most within the limit (10 working days by default, time_limits.yaml bad_rating_rectification).
        days = rng.randint(11, 13) if roll < 0.12 else rng.randint(1, 6)
        return _Plan(sim._office(now, days, rng), {"rectification": "已整改并建立长效机制"})
    if element == "Task_Supervise":
        return _Plan(sim._office(now, 0, rng), {"supervision_opinion": "整改逾期，请立即完成"})
    if element == "Task_Report":
        return _Plan(
            sim._hours(now, 1, 6, rng), {"feedback": "已向评价人反馈整改情况", "feedback_channel": "电话"}
        )
    if element == "Task_Callback":
        result = rng.choices(("满意", "基本满意", "不满意"), (0.55, 0.3, 0.15))[0]
        sim._counts[f"整改回访：{result}"] += 1
        return _Plan(sim._hours(now, 1, 8, rng), {"callback_result": result})
    return None


#: What the people of each process do, by process id (each function answers for its process's user tasks).
_BEHAVIOUR: dict[str, _Behaviour] = {
    "complaint_closure": _complaint,
    "window_escalation": _window,
    "accountability": _accountability,
    "good_bad_review": _good_bad_review,
}

#: The order of :attr:`SimulationResult.counts`.
_COUNT_ORDER = (
    "受理诉求",
    "主办协办件",
    "窗口登记",
    "退单",
    "视为签收",
    "办理逾期督办",
    "申请延期",
    "批准延期",
    "审核退回（答非所问）",
    "评价：非常满意",
    "评价：满意",
    "评价：基本满意",
    "评价：不满意",
    "评价：非常不满意",
    "未评价按默认评价",
    "不满意重办",
    "差评核实整改",
    "差评视为属实",
    "申诉成立剔除差评",
    "申诉驳回",
    "差评整改逾期督办",
    "整改回访：满意",
    "整改回访：基本满意",
    "整改回访：不满意",
    "窗口协调逾期",
    "一事一议逾期",
    "延长期逾期",
    "启动效能问责",
    "视为放弃陈述申辩",
    "决定：效能告诫",
    "决定：监察建议",
    "决定：不予追究",
    "决定：组织处理",
    "决定：立案查处",
)
