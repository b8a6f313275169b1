"""The application: ``create_app(engine, settings)`` builds the FastAPI app over one engine.

Routes live under ``/api/v1/`` (one module per resource), the OpenAPI 3.1 document at ``/openapi.json``, the
supervision cockpit (static files in ``static/``, docs/service.md "Cockpit") at ``/`` and ``/static/``.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.responses import FileResponse, Response
from fastapi.staticfiles import StaticFiles

from efficacy_flow import __version__
from efficacy_flow.engine import Engine
from efficacy_flow.service import _cases, _events, _supervision, _tasks
from efficacy_flow.service._auth import Authenticator, TokenAuthenticator
from efficacy_flow.service._context import CallerDep, Service, ServiceDep, reply
from efficacy_flow.service._idempotency import Idempotency
from efficacy_flow.service._limits import BodyLimit, RateLimiter
from efficacy_flow.service._problems import install_handlers
from efficacy_flow.service._settings import ServiceSettings

__all__ = ["API_PREFIX", "create_app"]

API_PREFIX = "/api/v1"
#: The cockpit: plain HTML, CSS and JavaScript modules, its libraries vendored in ``static/vendor/``.
STATIC = Path(__file__).parent / "static"

_DESCRIPTION = """机关效能建设流程引擎的 HTTP 接口：受理案件、待办与办理、认领/指派/转办/退回/撤回、消息、
暂停/恢复/延期/撤销/迁移、审计历史、电子监察亮牌、考核指标、异常、事件（游标与 Server-Sent Events）。

认证：`Authorization: Bearer <token>`；写操作可带 `Idempotency-Key`；错误为 RFC 9457
`application/problem+json`。见 docs/service.md。"""


def create_app(
    engine: Engine, settings: ServiceSettings | None = None, *, authenticator: Authenticator | None = None
) -> FastAPI:
    """The HTTP API over ``engine``.

    Args:
        engine: the engine every request uses (its store keeps the idempotency keys too).
        settings: tokens, limits (default: no tokens, the default limits).
        authenticator: who a request is (the single sign-on seam); default the tokens of ``settings``.
    """
    settings = settings if settings is not None else ServiceSettings()
    if authenticator is None:
        authenticator = TokenAuthenticator(settings.tokens, engine.clock)
    app = FastAPI(
        title="efficacy_flow 机关效能建设流程引擎",
        version=__version__,
        description=_DESCRIPTION,
        openapi_url="/openapi.json",
        docs_url=None,  # Swagger UI loads its scripts from a CDN: not on a government intranet
        redoc_url=None,
    )
    app.state.service = Service(
        engine=engine,
        settings=settings,
        authenticator=authenticator,
        idempotency=Idempotency(engine.store, engine.clock, settings.idempotency_hours),
    )
    install_handlers(app)
    api = APIRouter(prefix=API_PREFIX)
    api.add_api_route(
        "/health", _health, methods=["GET"], summary="健康检查（无需认证）", tags=["服务 service"]
    )
    api.add_api_route(
        "/me", _me, methods=["GET"], summary="当前登录人（编号、角色、单位）", tags=["服务 service"]
    )
    for module in (_cases, _tasks, _supervision, _events):
        api.include_router(module.router)
    app.include_router(api)
    app.add_api_route("/", _cockpit, methods=["GET"], include_in_schema=False)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    # The last middleware added runs first: the rate limit, then the body limit, then the routes.
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes)
    app.add_middleware(RateLimiter, limit=settings.rate_limit)
    return app


def _health() -> Response:
    return reply({"status": "ok", "version": __version__})


def _me(service: ServiceDep, actor: CallerDep) -> Response:
    roles = sorted(actor.roles)
    labels = {role: service.engine.role_label(role) for role in roles}
    now = service.engine.clock.now().isoformat()  # the engine's clock: what overdue is judged by
    return reply({"id": actor.id, "roles": roles, "role_labels": labels, "unit": actor.unit, "now": now})


def _cockpit() -> FileResponse:
    return FileResponse(STATIC / "index.html", media_type="text/html; charset=utf-8")
