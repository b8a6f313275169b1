"""Tasks (the work list, 待办): list, 已办, complete, claim, unclaim, assign, delegate, transfer, return,
withdraw, urge, extend."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel

from efficacy_flow.engine import Actor, CompletedTask, InstanceView, TaskView, Urge
from efficacy_flow.service._context import (
    PROBLEMS,
    CallerDep,
    IdempotencyKey,
    Service,
    ServiceDep,
    reply,
    write,
)
from efficacy_flow.service._models import (
    AssignBody,
    CompleteBody,
    DelegateBody,
    ExtendBody,
    Page,
    ReturnBody,
    TransferBody,
    UrgeBody,
    dump,
    page,
)

__all__ = ["router"]

router = APIRouter(tags=["任务 tasks"], responses=PROBLEMS)
Limit = Annotated[int | None, Query(ge=1, le=10_000, description="每页条数 (1–10000)")]
After = Annotated[str | None, Query(description="上一页最后一条的 id（键集分页）")]


@router.get("/tasks", summary="待办列表（最紧急的在前）", response_model=Page)
def tasks(
    service: ServiceDep,
    _: CallerDep,
    instance_id: str | None = None,
    role: str | None = None,
    unit: str | None = None,
    assignee: str | None = None,
    process_id: str | None = None,
    business_key: str | None = None,
    due_before: Annotated[datetime | None, Query(description="截止时间早于此时刻（须带时区）")] = None,
    overdue: bool | None = None,
    limit: Limit = None,
    after: After = None,
) -> Response:
    found = service.engine.tasks(
        instance_id,
        role,
        unit,
        assignee=assignee,
        process_id=process_id,
        business_key=business_key,
        due_before=due_before,
        overdue=overdue,
        limit=limit,
        after=after,
    )
    return reply(page(TaskView, found, limit))


@router.get("/done", summary="我的已办（最近的在前）", response_model=Page)
def done(service: ServiceDep, actor: CallerDep, limit: Limit = None, after: After = None) -> Response:
    return reply(page(CompletedTask, service.engine.done(actor.id, limit=limit, after=after), limit))


def _on_task(
    request: Request,
    service: Service,
    actor: Actor,
    key: str | None,
    body: BaseModel | None,
    cls: type,
    run: Callable[[], object],
) -> Response:
    return write(request, service, actor, key, body, lambda: (200, dump(cls, run())))


@router.post("/tasks/{task_id}/complete", summary="办理完成任务（提交表单）", response_model=InstanceView)
def complete(
    task_id: str,
    body: CompleteBody,
    request: Request,
    service: ServiceDep,
    actor: CallerDep,
    key: IdempotencyKey = None,
) -> Response:
    def run() -> object:
        return service.engine.complete(task_id, body.data, actor, expected_version=body.expected_version)

    return _on_task(request, service, actor, key, body, InstanceView, run)


@router.post("/tasks/{task_id}/claim", summary="认领任务", response_model=TaskView)
def claim(
    task_id: str, request: Request, service: ServiceDep, actor: CallerDep, key: IdempotencyKey = None
) -> Response:
    def run() -> object:
        return service.engine.claim(task_id, actor)

    return _on_task(request, service, actor, key, None, TaskView, run)


@router.post("/tasks/{task_id}/unclaim", summary="取消认领", response_model=TaskView)
def unclaim(
    task_id: str, request: Request, service: ServiceDep, actor: CallerDep, key: IdempotencyKey = None
) -> Response:
    def run() -> object:
        return service.engine.unclaim(task_id, actor)

    return _on_task(request, service, actor, key, None, TaskView, run)


@router.post("/tasks/{task_id}/assign", summary="指派任务", response_model=TaskView)
def assign(
    task_id: str,
    body: AssignBody,
    request: Request,
    service: ServiceDep,
    actor: CallerDep,
    key: IdempotencyKey = None,
) -> Response:
    def run() -> object:
        return service.engine.assign(task_id, body.assignee, actor)

    return _on_task(request, service, actor, key, body, TaskView, run)


@router.post("/tasks/{task_id}/delegate", summary="委派任务", response_model=TaskView)
def delegate(
    task_id: str,
    body: DelegateBody,
    request: Request,
    service: ServiceDep,
    actor: CallerDep,
    key: IdempotencyKey = None,
) -> Response:
    def run() -> object:
        return service.engine.delegate(task_id, body.to, actor)

    return _on_task(request, service, actor, key, body, TaskView, run)


@router.post("/tasks/{task_id}/transfer", summary="转办（改派单位或人员，时限照计）", response_model=TaskView)
def transfer(
    task_id: str,
    body: TransferBody,
    request: Request,
    service: ServiceDep,
    actor: CallerDep,
    key: IdempotencyKey = None,
) -> Response:
    def run() -> object:
        return service.engine.transfer(
            task_id, actor, body.reason, to_unit=body.to_unit, to_assignee=body.to_assignee
        )

    return _on_task(request, service, actor, key, body, TaskView, run)


@router.post("/tasks/{task_id}/return", summary="退回到已办步骤", response_model=InstanceView)
def return_to(
    task_id: str,
    body: ReturnBody,
    request: Request,
    service: ServiceDep,
    actor: CallerDep,
    key: IdempotencyKey = None,
) -> Response:
    def run() -> object:
        return service.engine.return_to(task_id, body.element_id, body.reason, actor)

    return _on_task(request, service, actor, key, body, InstanceView, run)


@router.post("/tasks/{task_id}/withdraw", summary="撤回（收回刚办理的任务）", response_model=InstanceView)
def withdraw(
    task_id: str, request: Request, service: ServiceDep, actor: CallerDep, key: IdempotencyKey = None
) -> Response:
    def run() -> object:
        return service.engine.withdraw(task_id, actor)

    return _on_task(request, service, actor, key, None, InstanceView, run)


@router.post("/tasks/{task_id}/urge", summary="催办", response_model=Urge)
def urge(
    task_id: str,
    body: UrgeBody,
    request: Request,
    service: ServiceDep,
    actor: CallerDep,
    key: IdempotencyKey = None,
) -> Response:
    def run() -> object:
        return service.engine.urge(task_id, actor, body.message, cc=body.cc)

    return _on_task(request, service, actor, key, body, Urge, run)


@router.post("/tasks/{task_id}/extend", summary="延期（批准人为调用者）", response_model=TaskView)
def extend(
    task_id: str,
    body: ExtendBody,
    request: Request,
    service: ServiceDep,
    actor: CallerDep,
    key: IdempotencyKey = None,
) -> Response:
    def run() -> object:
        return service.engine.extend(task_id, body.limit, body.reason, approved_by=actor)

    return _on_task(request, service, actor, key, body, TaskView, run)
