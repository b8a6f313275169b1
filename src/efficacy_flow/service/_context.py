"""What every route reaches through the request: the engine, the settings, the caller, idempotent writes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Header, Request
from fastapi.responses import Response
from pydantic import BaseModel

from efficacy_flow.engine import Actor, Engine
from efficacy_flow.service._auth import Authenticator
from efficacy_flow.service._idempotency import Idempotency, dump_json, fingerprint
from efficacy_flow.service._models import ProblemDetails
from efficacy_flow.service._problems import PROBLEM_JSON, unauthenticated
from efficacy_flow.service._settings import ServiceSettings

__all__ = ["PROBLEMS", "CallerDep", "IdempotencyKey", "Service", "ServiceDep", "reply", "write"]


@dataclass(frozen=True)
class Service:
    engine: Engine
    settings: ServiceSettings
    authenticator: Authenticator
    idempotency: Idempotency


def _service(request: Request) -> Service:
    service: Service = request.app.state.service
    return service


def _caller(request: Request, service: Annotated[Service, Depends(_service)]) -> Actor:
    actor = service.authenticator.authenticate(request.headers)
    if actor is None:
        raise unauthenticated("a bearer token the service knows is required (Authorization: Bearer <token>)")
    return actor


ServiceDep = Annotated[Service, Depends(_service)]
CallerDep = Annotated[Actor, Depends(_caller)]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        description=(
            "幂等键：同一调用者以同一键重发同一请求，返回首次的响应而不重复执行（保留 idempotency_hours）"
        ),
    ),
]

_PROBLEM = {"model": ProblemDetails, "content": {PROBLEM_JSON: {}}}
#: The problems every operation may answer with (documented in the OpenAPI document).
PROBLEMS: dict[int | str, dict[str, Any]] = {
    status: {**_PROBLEM, "description": text}
    for status, text in {
        400: "请求格式错误（JSON 无法解析、幂等键无效）",
        401: "未认证（缺少、未知或过期的令牌）",
        403: "无权操作",
        404: "对象不存在",
        409: "并发修改或状态不允许",
        413: "请求体过大",
        422: "输入无效（每个字段的问题见 errors）",
        429: "请求过于频繁（见 Retry-After）",
        503: "数据库不可用",
    }.items()
}


def write(
    request: Request,
    service: Service,
    actor: Actor,
    key: str | None,
    body: BaseModel | None,
    call: Callable[[], tuple[int, Any]],
) -> Response:
    """Run a write under its idempotency key (if any); the request is its method, path and parsed body."""
    payload = body.model_dump(mode="json") if body is not None else None
    request_hash = fingerprint(request.method, request.url.path, payload)
    return service.idempotency.run(actor, key, request_hash, call)


def reply(payload: Any, status: int = 200) -> Response:
    """A read's answer: the JSON payload as is (already dumped from the views: not validated again)."""
    return Response(dump_json(payload), status_code=status, media_type="application/json")
