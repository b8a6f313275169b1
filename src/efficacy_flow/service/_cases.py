"""Cases (instances): start, read, list, history, messages, comments, suspend, resume, cancel, migrate."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from efficacy_flow.engine import AuditEvent, Comment, FormField, InstanceSummary, InstanceView
from efficacy_flow.service._context import PROBLEMS, CallerDep, IdempotencyKey, ServiceDep, reply, write
from efficacy_flow.service._models import (
    CancelBody,
    CommentBody,
    MessageBody,
    MigrateBody,
    Page,
    ReasonBody,
    StartBody,
    dump,
    page,
)

__all__ = ["router"]

router = APIRouter(tags=["案件 cases"], responses=PROBLEMS)
Limit = Annotated[int | None, Query(ge=1, le=10_000, description="每页条数 (1–10000)")]
After = Annotated[str | None, Query(description="上一页最后一条的 id（键集分页）")]


@router.post("/instances", summary="受理：启动案件", status_code=201, response_model=InstanceView)
def start(
    body: StartBody, request: Request, service: ServiceDep, actor: CallerDep, key: IdempotencyKey = None
) -> Response:
    def call() -> tuple[int, object]:
        view = service.engine.start(body.process_id, body.data, actor, business_key=body.business_key)
        return 201, dump(InstanceView, view)

    return write(request, service, actor, key, body, call)


@router.get("/instances", summary="案件列表（按受理时间）", response_model=Page)
def instances(
    service: ServiceDep,
    _: CallerDep,
    process_id: str | None = None,
    status: str | None = None,
    business_key: str | None = None,
    limit: Limit = None,
    after: After = None,
) -> Response:
    found = service.engine.instances(process_id, status, business_key, limit=limit, after=after)
    return reply(page(InstanceSummary, found, limit))


@router.get("/instances/{instance_id}", summary="查看案件（个人信息脱敏）", response_model=InstanceView)
def instance(instance_id: str, service: ServiceDep, _: CallerDep) -> Response:
    return reply(dump(InstanceView, service.engine.instance(instance_id)))


@router.get(
    "/instances/{instance_id}/history", summary="案件审计历史（脱敏）", response_model=list[AuditEvent]
)
def history(instance_id: str, service: ServiceDep, _: CallerDep) -> Response:
    return reply(dump(AuditEvent, service.engine.history(instance_id)))


@router.get(
    "/instances/{instance_id}/diagram",
    summary="案件流程图（所运行版本的 BPMN XML）",
    response_class=Response,
    responses={200: {"content": {"application/xml": {}}, "description": "BPMN 2.0 XML"}},
)
def diagram(instance_id: str, service: ServiceDep, _: CallerDep) -> Response:
    return Response(service.engine.diagram(instance_id), media_type="application/xml")


@router.get("/processes/{process_id}/start-form", summary="受理表单字段", response_model=list[FormField])
def start_form(process_id: str, service: ServiceDep, _: CallerDep) -> Response:
    return reply(dump(FormField, service.engine.start_form(process_id)))


@router.post("/messages", summary="投递消息（如回访评价）", response_model=InstanceView)
def message(
    body: MessageBody, request: Request, service: ServiceDep, actor: CallerDep, key: IdempotencyKey = None
) -> Response:
    def call() -> tuple[int, object]:
        return 200, dump(InstanceView, service.engine.message(body.name, body.payload, body.correlation))

    return write(request, service, actor, key, body, call)


@router.post(
    "/instances/{instance_id}/comments", summary="添加备注或附件", status_code=201, response_model=Comment
)
def comment(
    instance_id: str,
    body: CommentBody,
    request: Request,
    service: ServiceDep,
    actor: CallerDep,
    key: IdempotencyKey = None,
) -> Response:
    def call() -> tuple[int, object]:
        attachments = [a.model_dump() for a in body.attachments]
        made = service.engine.comment(instance_id, actor, body.text, body.task_id, attachments)
        return 201, dump(Comment, made)

    return write(request, service, actor, key, body, call)


@router.post("/instances/{instance_id}/suspend", summary="暂停计时（挂起案件）", response_model=InstanceView)
def suspend(
    instance_id: str,
    body: ReasonBody,
    request: Request,
    service: ServiceDep,
    actor: CallerDep,
    key: IdempotencyKey = None,
) -> Response:
    def call() -> tuple[int, object]:
        return 200, dump(InstanceView, service.engine.suspend(instance_id, body.reason, actor))

    return write(request, service, actor, key, body, call)


@router.post("/instances/{instance_id}/resume", summary="恢复计时", response_model=InstanceView)
def resume(
    instance_id: str, request: Request, service: ServiceDep, actor: CallerDep, key: IdempotencyKey = None
) -> Response:
    def call() -> tuple[int, object]:
        return 200, dump(InstanceView, service.engine.resume(instance_id, actor))

    return write(request, service, actor, key, None, call)


@router.post("/instances/{instance_id}/cancel", summary="撤销（作废）案件", response_model=InstanceView)
def cancel(
    instance_id: str,
    body: CancelBody,
    request: Request,
    service: ServiceDep,
    actor: CallerDep,
    key: IdempotencyKey = None,
) -> Response:
    def call() -> tuple[int, object]:
        view = service.engine.cancel(instance_id, body.reason, actor, duplicate_of=body.duplicate_of)
        return 200, dump(InstanceView, view)

    return write(request, service, actor, key, body, call)


@router.post("/instances/{instance_id}/migrate", summary="迁移到新版流程", response_model=InstanceView)
def migrate(
    instance_id: str,
    body: MigrateBody,
    request: Request,
    service: ServiceDep,
    actor: CallerDep,
    key: IdempotencyKey = None,
) -> Response:
    def call() -> tuple[int, object]:
        view = service.engine.migrate(instance_id, actor, to=body.to, mapping=body.mapping)
        return 200, dump(InstanceView, view)

    return write(request, service, actor, key, body, call)
