"""What the cockpit needs from the API, over real HTTP on SQLite and PostgreSQL: ``GET /`` and ``/static/``
(the page and its vendored libraries: nothing from a CDN), ``GET /api/v1/me`` and the BPMN XML of a case."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
from tests.service.conftest import Running, bearer

from efficacy_flow import shipped_processes

STATIC = Path(__file__).parents[2] / "src" / "efficacy_flow" / "service" / "static"


def test_the_cockpit_page_and_its_libraries_are_served(running: Running) -> None:
    page = httpx.get(running.url + "/", timeout=30)
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "机关效能监察驾驶舱" in page.text
    referenced = re.findall(r'(?:src|href)="(/[^"]+)"', page.text)
    assert "/static/vendor/bpmn-js/bpmn-navigated-viewer.production.min.js" in referenced
    assert "/static/vendor/echarts/echarts.min.js" in referenced
    for path in referenced:
        answer = httpx.get(running.url + path, timeout=30)
        assert answer.status_code == 200, path
        assert len(answer.content) > 100, path
    assert not re.search(r'(?:src|href)="(?:https?:)?//', page.text), "no CDN"
    assert httpx.get(running.url + "/static/nothing.js", timeout=30).status_code == 404


def test_the_vendored_libraries_are_the_pinned_ones() -> None:
    versions = json.loads((STATIC / "vendor" / "VERSIONS.json").read_text(encoding="utf-8"))
    pinned = json.loads((Path(__file__).parents[2] / "package.json").read_text(encoding="utf-8"))
    assert versions == {name: pinned["devDependencies"][name] for name in ("bpmn-js", "echarts")}
    for name in ("bpmn-js/LICENSE", "echarts/LICENSE", "echarts/NOTICE"):
        assert (STATIC / "vendor" / name).is_file()


def test_me_is_the_caller(running: Running) -> None:
    shown = running.as_("tok-unit").get("/me")
    assert shown.status_code == 200, shown.text
    body = shown.json()
    assert {k: body[k] for k in ("id", "roles", "unit")} == {
        "id": "cg-01",
        "roles": ["承办单位"],
        "unit": "市城管局",
    }
    assert body["role_labels"] == {"承办单位": running.engine.role_label("承办单位")}
    assert datetime.fromisoformat(body["now"]).utcoffset() is not None
    assert running.as_("tok-operator").get("/me").json()["unit"] is None
    assert running.client.get("/me").status_code == 401
    assert running.client.get("/me", headers=bearer("tok-expired")).status_code == 401


def test_the_diagram_of_a_case(running: Running, start_case: Callable[..., dict[str, Any]]) -> None:
    case = start_case()
    answer = running.as_("tok-unit").get(f"/instances/{case['id']}/diagram")
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("application/xml")
    shipped = (shipped_processes() / "complaint_closure.bpmn").read_text(encoding="utf-8")
    assert answer.text == shipped
    assert "bpmndi:BPMNDiagram" in answer.text or "BPMNDiagram" in answer.text
    missing = running.as_("tok-unit").get("/instances/no-such-case/diagram")
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("application/problem+json")
    assert running.client.get(f"/instances/{case['id']}/diagram").status_code == 401
