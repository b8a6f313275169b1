"""The cockpit at ``/`` driven in a real headless Chromium (Debian's, through Playwright's Python package; no
browser is downloaded) against a real server on a FakeClock over the shipped processes: sign in with a token,
the 待办 list with its due times and card colours, completing a task through its form (a refused submission
shows the problem) and its card clearing, the case page's diagram, deadlines, history and comments, the 督查
page's chart, ranking, cards and overdue list, and signing out.

Assertions wait on the DOM (Playwright's ``expect``), never on sleeps. Screenshots go to the test's tmp dir,
and to ``$EFFICACY_FLOW_SCREENSHOTS`` when set (``EFFICACY_FLOW_SCREENSHOTS=docs/cockpit`` refreshes the
pictures docs/service.md shows).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from tests.service.conftest import TICKET, Running, actor, serve, settings

from efficacy_flow import Engine, shipped_processes
from efficacy_flow.calendar import china
from efficacy_flow.clock import CHINA_TZ
from efficacy_flow.store import Store
from efficacy_flow.testing import FakeClock

#: Friday 2025-09-26 10:00 in Beijing.
START = datetime(2025, 9, 26, 10, 0, tzinfo=CHINA_TZ)


def _chromium() -> str:
    """Debian's Chromium (skip where absent, but fail when CI says it must be there)."""
    required = os.environ.get("EFFICACY_FLOW_REQUIRE_CHROMIUM") == "1"
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        if required:
            pytest.fail("Chromium is required here (EFFICACY_FLOW_REQUIRE_CHROMIUM=1) but not installed")
        pytest.skip("no headless Chromium on this machine (Debian: apt-get install chromium fonts-noto-cjk)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        if required:
            pytest.fail(
                "Playwright is required here (EFFICACY_FLOW_REQUIRE_CHROMIUM=1): pip install -e '.[dev]'"
            )
        pytest.skip("the playwright package is not installed (pip install -e '.[dev]')")
    return found


def _do(engine: Engine, instance_id: str, element_id: str, token: str, data: dict[str, Any]) -> None:
    [task] = [t for t in engine.tasks(instance_id=instance_id) if t.element_id == element_id]
    if element_id == "Task_Acknowledge":
        engine.claim(task.id, actor(token))
    engine.complete(task.id, data, actor(token))


@pytest.fixture
def cockpit(tmp_path: Path) -> Iterator[tuple[Running, dict[str, str]]]:
    """A server on a FakeClock with four cases: one closed on time at 市城管局 (rated 满意); one at
    市城管局's 办理 past its warning (a 预警 card); one just dispatched to 市城管局 (no card); one at
    市水务局 past its limit, which no tick has seen yet (overdue)."""
    clock = FakeClock(START)
    store = Store(f"sqlite:///{tmp_path / 'cockpit.db'}")
    engine = Engine(store=store, processes=shipped_processes(), calendar=china(), clock=clock)
    operator = actor("tok-operator")
    carded = engine.start("complaint_closure", TICKET, operator).id
    _do(engine, carded, "Task_Dispatch", "tok-operator", {"unit": "市城管局"})
    _do(engine, carded, "Task_Acknowledge", "tok-unit", {"ack_decision": "签收"})
    closed = engine.start(
        "complaint_closure", {**TICKET, "title": "垃圾清运不及时"}, operator, business_key="K-1"
    )
    for element_id, token, data in [
        ("Task_Dispatch", "tok-operator", {"unit": "市城管局"}),
        ("Task_Acknowledge", "tok-unit", {"ack_decision": "签收"}),
        ("Task_Handle", "tok-unit", {"reply": "已清运", "resolved": True}),
        ("Task_SignOff", "tok-head", {"signed_off": True}),
        ("Task_Review", "tok-reviewer", {"review_passed": True}),
        ("Task_Reply", "tok-operator", {"reply_channel": "电话"}),
    ]:
        _do(engine, closed.id, element_id, token, data)
    rated = engine.message("rating", {"rating": "满意"}, {"business_key": "K-1"})
    assert rated.status == "completed"
    [handle] = engine.tasks(instance_id=carded)
    assert (handle.element_id, handle.due_at) == ("Task_Handle", datetime(2025, 10, 11, tzinfo=CHINA_TZ))
    # a 较急 ticket has 24 hours: handled by 市水务局 from Thu 10-09 18:00, due Fri 10-10 18:00
    clock.set(datetime(2025, 10, 9, 18, 0, tzinfo=CHINA_TZ))
    late = engine.start("complaint_closure", {**TICKET, "title": "井盖缺失", "urgency": "较急"}, operator).id
    _do(engine, late, "Task_Dispatch", "tok-operator", {"unit": "市水务局"})
    _do(engine, late, "Task_Acknowledge", "tok-water", {"ack_decision": "签收"})
    # the worker ticks past the warning of the 城管局 case (one working day before its limit) ...
    clock.set(datetime(2025, 10, 10, 1, 0, tzinfo=CHINA_TZ))
    while engine.tick():
        pass
    levels = [c.level for c in engine.cards(instance_id=carded) if c.cleared_at is None]
    assert levels == ["warning"], levels
    # ... and has not yet ticked past the 水务局 case's limit: it is overdue
    clock.set(datetime(2025, 10, 10, 20, 0, tzinfo=CHINA_TZ))
    assert [t.instance_id for t in engine.tasks(overdue=True)] == [late]
    fresh = engine.start("complaint_closure", {**TICKET, "title": "噪音扰民"}, operator).id
    _do(engine, fresh, "Task_Dispatch", "tok-operator", {"unit": "市城管局"})
    cases = {"carded": carded, "handle": handle.id, "fresh": fresh, "late": late}
    yield from ((running, cases) for running in serve(engine, settings()))
    store.close()


def _shoot(page: Any, tmp_path: Path, name: str) -> None:
    page.screenshot(path=str(tmp_path / name), full_page=True)
    target = os.environ.get("EFFICACY_FLOW_SCREENSHOTS")
    if target:
        Path(target).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(target) / name), full_page=True)
    assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_cockpit_in_chromium(cockpit: tuple[Running, dict[str, str]], tmp_path: Path) -> None:
    browser_path = _chromium()
    from playwright.sync_api import expect, sync_playwright

    running, cases = cockpit
    outside: list[str] = []
    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=browser_path, args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="zh-CN")
            page.on(
                "request",
                lambda request: None if request.url.startswith(running.url) else outside.append(request.url),
            )
            errors: list[str] = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.goto(running.url + "/")

            # 登录: a wrong token is refused, the right one shows who is signed in
            page.fill("#token", "not-a-token")
            page.click("#login button[type=submit]")
            expect(page.locator("#login-problem")).to_contain_text("令牌无效")
            assert page.evaluate("sessionStorage.getItem('efficacy_flow.token')") is None
            page.fill("#token", "tok-unit")
            page.click("#login button[type=submit]")
            expect(page.locator("#who-name")).to_contain_text("cg-01")
            expect(page.locator("#who-name")).to_contain_text("市城管局")

            # 待办: the carded case's 办理 with its 预警 card and due time; the fresh case has no card
            handle = page.locator(f"tr.task-row[data-task-id='{cases['handle']}']")
            expect(handle).to_have_count(1)
            expect(handle.locator(".card-warning")).to_have_text("预警")
            expect(handle.locator("td.due")).to_have_text("2025-10-11 00:00")
            expect(handle.locator("td.due")).to_have_class("due")  # not yet overdue
            fresh = page.locator(f"tr.task-row[data-instance-id='{cases['fresh']}']")
            expect(fresh).to_have_count(1)
            expect(fresh.locator(".card")).to_have_count(0)
            expect(page.locator(f"tr.task-row[data-instance-id='{cases['late']}']")).to_have_count(0)
            _shoot(page, tmp_path, "待办.png")

            # the form: a refused submission shows the problem; a valid one completes the task
            handle.click()
            form = page.locator(f"#task-form[data-task-id='{cases['handle']}']")
            expect(form.locator("[name=reply]")).to_have_count(1)
            form.locator("button[type=submit]").click()
            expect(page.locator("#form-problem")).not_to_be_empty()
            expect(handle).to_have_count(1)  # still there: nothing was done
            form.locator("[name=reply]").fill("已派员更换灯具，路灯恢复照明")
            form.locator("[name=resolved]").check()
            form.locator("button[type=submit]").click()
            expect(page.locator("#notice")).to_contain_text("已提交")
            expect(handle).to_have_count(0)
            expect(page.locator("tr.task-row .card")).to_have_count(0)  # its card cleared
            expect(fresh).to_have_count(1)
            assert all(c.cleared_at is not None for c in running.engine.cards(instance_id=cases["carded"]))

            # 已办: the completed task, with its completion time on the engine's clock
            page.click("nav a[data-page=done]")
            expect(page.locator("tr.done-row", has_text="办理")).to_contain_text(["2025-10-10 20:00"])

            # the case page: the diagram with the ready task highlighted and the done ones marked
            page.goto(f"{running.url}/#/cases/{cases['carded']}")
            diagram = page.locator("#diagram[data-rendered=true]")
            expect(diagram.locator("svg").first).to_be_visible()
            expect(diagram.locator(".djs-element.ef-ready[data-element-id='Task_SignOff']")).to_have_count(1)
            expect(diagram.locator(".djs-element.ef-done[data-element-id='Task_Handle']")).to_have_count(1)
            expect(diagram.locator(".djs-element.ef-done[data-element-id='Task_Dispatch']")).to_have_count(1)
            expect(page.locator("tr.deadline-row")).to_have_count(1)
            expect(page.locator("tr.deadline-row")).to_contain_text("签发")
            expect(page.locator("tr.history-row").first).to_contain_text("受理")
            expect(page.locator("tr.history-row", has_text="办理完成（办理）")).to_contain_text("cg-01")
            page.fill("#comment-text", "已电话联系群众")
            page.click("#comment-form button[type=submit]")
            expect(page.locator("#comments li")).to_contain_text(["已电话联系群众"])
            _shoot(page, tmp_path, "case.png")
            kinds = [e.kind for e in running.engine.history(cases["carded"])]
            assert kinds[-1] == "commented"

            # 督查: the chart is drawn, the units ranked, cards counted, the 水务局 case overdue
            page.click("nav a[data-page=supervision]")
            chart = page.locator("#chart[data-rendered=true]")
            expect(chart.locator("canvas")).to_have_count(1)
            expect(page.locator("tr.rank-row", has_text="市城管局")).to_contain_text("100.0%")
            expect(page.locator("tr.rank-row").first).to_contain_text("市城管局")  # ranked first
            expect(page.locator("tr.card-unit-row", has_text="市城管局")).to_have_count(1)
            expect(page.locator("tr.overdue-row")).to_contain_text(["市水务局"])
            expect(page.locator("tr.overdue-row td.due.overdue")).to_have_count(1)
            expect(page.locator(f"tr.overdue-row a[href='#/cases/{cases['late']}']")).to_have_count(1)
            _shoot(page, tmp_path, "督查.png")

            # 退出: the token is forgotten, the login page is back
            page.click("#sign-out")
            expect(page.locator("#token")).to_be_visible()
            assert page.evaluate("sessionStorage.getItem('efficacy_flow.token')") is None
            assert errors == []
        finally:
            browser.close()
    assert outside == [], "the cockpit loads nothing from outside the server"
