"""Errors as RFC 9457 problem details (``application/problem+json``).

Every class of the error tree (efficacy_flow.errors) has its status and title in :data:`ERROR_STATUS`,
chosen one by one (tests/service/test_problems.py walks ``errors.__all__``); an error's fields travel as
members of the problem (``errors`` of InvalidData with every field, ``element_id``, ``task_id``, ...). A
5xx problem says only what failed, never the error's text or fields (the server's log has them); no problem
carries a trace.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from efficacy_flow import errors
from efficacy_flow.errors import EfficacyFlowError
from efficacy_flow.service._auth import AuthenticationFailed

__all__ = [
    "ERROR_STATUS",
    "PROBLEM_JSON",
    "Problem",
    "install_handlers",
    "json_safe",
    "problem_body",
    "problem_response",
    "status_of",
]

PROBLEM_JSON = "application/problem+json"
#: Where a problem's ``type`` points: this base and the error's class name (docs/service.md, "Errors").
TYPE_BASE = "https://efficacy-flow.org/problems/"
#: Members of a problem that an error's fields must not replace.
_RESERVED = frozenset({"type", "title", "status", "detail", "instance"})

log = logging.getLogger("efficacy_flow.service")

#: Every error class → (HTTP status, title). A subclass not listed takes its nearest listed ancestor's.
ERROR_STATUS: dict[type[EfficacyFlowError], tuple[int, str]] = {
    # Not raised by any call the API makes; an unknown subclass is a server bug.
    errors.EfficacyFlowError: (500, "内部错误 / internal error"),
    # The caller's input: the request was understood, its content cannot be processed.
    errors.InvalidInput: (422, "输入无效 / invalid input"),
    errors.NaiveDatetime: (422, "时间缺少时区 / datetime without a time zone"),
    errors.InvalidTimeLimit: (422, "时限无效 / invalid time limit"),
    errors.UnknownRegion: (422, "未知区域 / unknown region"),
    errors.InvalidData: (422, "数据不符合表单 / invalid process data"),
    # A script or condition raised, or ran past its budget, on this call's data: the same call with other
    # data may pass, so it is the request's content that cannot be processed.
    errors.ScriptError: (422, "脚本执行出错 / a script failed on this data"),
    errors.ExpressionLimitExceeded: (422, "表达式超出限制 / an expression exceeded its limits"),
    # The deployed files are at fault, not the caller: a server-side problem.
    errors.ProcessDefinitionError: (500, "流程定义错误 / process definition error"),
    errors.UnsafeExpression: (500, "表达式不安全 / unsafe expression in a definition"),
    errors.DecisionTableError: (500, "决策表错误 / decision table error"),
    errors.CalendarDataError: (500, "节假日数据错误 / holiday data error"),
    # A date in a year the strict calendar has no notice for: the caller asked about that year.
    errors.CalendarDataMissing: (422, "缺少节假日数据 / no holiday data for that year"),
    errors.NotFound: (404, "未找到 / not found"),
    errors.UnknownProcess: (404, "未知流程 / unknown process"),
    errors.UnknownInstance: (404, "未知案件 / unknown instance"),
    errors.UnknownTask: (404, "未知任务 / unknown task"),
    errors.UnknownIncident: (404, "未知异常 / unknown incident"),
    errors.NotAuthorized: (403, "无权操作 / not authorized"),
    errors.ConcurrentUpdate: (409, "并发修改 / concurrent update"),
    errors.InvalidState: (409, "状态不允许 / invalid state"),
    errors.DuplicateBusinessKey: (409, "业务编号重复 / duplicate business key"),
    # No rule matched the case's inputs, or UNIQUE matched twice: the data given cannot be decided on.
    errors.DecisionError: (422, "决策无结果 / decision failed on its inputs"),
    # Raised by engine.deliver only, which the API does not offer.
    errors.DeliveryFailed: (500, "事件投递失败 / delivery failed"),
    # The database failed: the call did nothing and may be retried.
    errors.StoreError: (503, "数据库不可用 / the database failed"),
}


class Problem(Exception):
    """A problem the service itself answers with (authentication, limits, idempotency, HTTP errors)."""

    def __init__(
        self,
        status: int,
        title: str,
        detail: str,
        *,
        kind: str,
        headers: Mapping[str, str] | None = None,
        **fields: Any,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.title = title
        self.detail = detail
        self.kind = kind
        self.headers = dict(headers or {})
        self.fields = fields


def status_of(error: EfficacyFlowError) -> tuple[int, str]:
    """The status and title of an engine error: its class's, or its nearest listed ancestor's."""
    for cls in type(error).__mro__:
        found = ERROR_STATUS.get(cls)
        if found is not None:
            return found
    return ERROR_STATUS[EfficacyFlowError]  # pragma: no cover - every error derives from the root


def json_safe(value: Any) -> Any:
    """A field's value as JSON carries it (instants in ISO 8601 with their offset; anything else as text)."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, Sequence | set | frozenset):
        return [json_safe(v) for v in value]
    return str(value)


def problem_body(
    status: int, title: str, detail: str, kind: str, fields: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The members of a problem: ``type``, ``title``, ``status``, ``detail`` and the given fields."""
    body: dict[str, Any] = {"type": TYPE_BASE + kind, "title": title, "status": status, "detail": detail}
    for name, value in (fields or {}).items():
        body[f"{name}_" if name in _RESERVED else name] = json_safe(value)
    return body


def error_body(error: EfficacyFlowError) -> tuple[int, dict[str, Any]]:
    """An engine error's status and problem members; a 5xx one without its text and fields."""
    status, title = status_of(error)
    kind = type(error).__name__
    if status >= 500:
        log.error("%s: %s %s", kind, error.message, error.fields)
        return status, problem_body(status, title, f"{title}: see the server's log", kind, {"error": kind})
    return status, problem_body(status, title, error.message, kind, {"error": kind, **error.fields})


def problem_response(
    status: int, body: Mapping[str, Any], headers: Mapping[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(dict(body), status_code=status, media_type=PROBLEM_JSON, headers=dict(headers or {}))


def _validation_errors(exc: RequestValidationError) -> tuple[bool, list[dict[str, str]]]:
    """Whether the body was not JSON at all, and one ``{"field", "in", "problem"}`` per invalid field."""
    malformed = False
    found: list[dict[str, str]] = []
    for item in exc.errors():
        loc = [str(part) for part in item.get("loc", ())]
        if item.get("type") == "json_invalid":
            malformed = True
        where = loc[0] if loc else "body"
        field = ".".join(loc[1:]) or where
        found.append({"field": field, "in": where, "problem": str(item.get("msg", "invalid"))})
    return malformed, found


def install_handlers(app: FastAPI) -> None:
    """Answer every error with a problem: the engine's, the service's, FastAPI's validation, HTTP's own
    (an unknown route, a wrong method) and anything unexpected (500, logged, no trace sent)."""

    @app.exception_handler(EfficacyFlowError)
    async def _engine_error(_: Request, exc: EfficacyFlowError) -> JSONResponse:
        status, body = error_body(exc)
        return problem_response(status, body)

    @app.exception_handler(Problem)
    async def _problem(_: Request, exc: Problem) -> JSONResponse:
        body = problem_body(exc.status, exc.title, exc.detail, exc.kind, exc.fields)
        return problem_response(exc.status, body, exc.headers)

    @app.exception_handler(AuthenticationFailed)
    async def _refused(_: Request, exc: AuthenticationFailed) -> JSONResponse:
        return problem_response(401, _unauthenticated(exc.detail), {"WWW-Authenticate": "Bearer"})

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        malformed, found = _validation_errors(exc)
        if malformed:
            body = problem_body(
                400, "JSON 格式错误 / malformed JSON", "the body is not valid JSON", "MalformedJson"
            )
            return problem_response(400, body)
        detail = "; ".join(f"{e['field']}: {e['problem']}" for e in found)
        body = problem_body(422, "请求无效 / invalid request", detail, "RequestValidation", {"errors": found})
        return problem_response(422, body)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        title = {
            404: "未找到 / not found",
            405: "方法不允许 / method not allowed",
            413: "请求体过大 / body too large",
        }
        body = problem_body(
            exc.status_code,
            title.get(exc.status_code, "HTTP error"),
            str(exc.detail),
            f"Http{exc.status_code}",
        )
        return problem_response(exc.status_code, body, exc.headers)

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error", exc_info=exc)
        body = problem_body(500, "内部错误 / internal error", "see the server's log", "Internal")
        return problem_response(500, body)


def _unauthenticated(detail: str) -> dict[str, Any]:
    return problem_body(401, "未认证 / not authenticated", detail, "NotAuthenticated")


def unauthenticated(detail: str) -> Problem:
    """The problem of a request without credentials the authenticator accepts (401)."""
    return Problem(
        401,
        "未认证 / not authenticated",
        detail,
        kind="NotAuthenticated",
        headers={"WWW-Authenticate": "Bearer"},
    )
