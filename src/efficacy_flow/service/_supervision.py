"""Supervision: the cards of electronic supervision (预警/黄牌/红牌), the appraisal figures, incidents."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from efficacy_flow.engine import Card, Incident, InstanceView
from efficacy_flow.metrics import appraise
from efficacy_flow.service._context import PROBLEMS, CallerDep, IdempotencyKey, ServiceDep, reply, write
from efficacy_flow.service._models import AppraisalFigures, Page, dump, figures, page

__all__ = ["router"]

router = APIRouter(tags=["监察 supervision"], responses=PROBLEMS)
_BY = "维度，逗号分隔：unit、region、case_type、category、sector、period、week；空：全部合计"
Instant = Annotated[datetime, Query(description="ISO 8601 时刻，须带时区（如 2025-10-01T00:00:00+08:00）")]


@router.get("/cards", summary="电子监察亮牌（预警、黄牌、红牌）", response_model=Page)
def cards(
    service: ServiceDep,
    _: CallerDep,
    unit: str | None = None,
    since: Annotated[datetime | None, Query(description="亮牌时间不早于（须带时区）")] = None,
    until: Annotated[datetime | None, Query(description="亮牌时间早于（须带时区）")] = None,
    level: Annotated[str | None, Query(description="warning、yellow 或 red")] = None,
    instance_id: str | None = None,
    limit_name: str | None = None,
    limit: Annotated[int | None, Query(ge=1, le=10_000)] = None,
    after: str | None = None,
) -> Response:
    found = service.engine.cards(
        unit,
        since,
        until,
        level,
        instance_id=instance_id,
        limit_name=limit_name,
        limit=limit,
        after=after,
    )
    return reply(page(Card, found, limit))


@router.get("/appraisal", summary="考核指标（五率等，按单位等维度）", response_model=list[AppraisalFigures])
def appraisal(
    service: ServiceDep,
    _: CallerDep,
    since: Instant,
    until: Instant,
    by: Annotated[str, Query(description=_BY)] = "unit",
    process_id: str | None = None,
) -> Response:
    dimensions = [d.strip() for d in by.split(",") if d.strip()]
    rows = appraise(service.engine, since, until, by=dimensions, process_id=process_id)
    return reply([figures(row) for row in rows])


@router.get("/incidents", summary="异常列表（重试耗尽的失败步骤）", response_model=list[Incident])
def incidents(service: ServiceDep, _: CallerDep, instance_id: str | None = None) -> Response:
    return reply(dump(Incident, service.engine.incidents(instance_id)))


@router.post("/incidents/{incident_id}/retry", summary="修复后重试异常步骤", response_model=InstanceView)
def retry_incident(
    incident_id: str, request: Request, service: ServiceDep, actor: CallerDep, key: IdempotencyKey = None
) -> Response:
    def call() -> tuple[int, object]:
        return 200, dump(InstanceView, service.engine.retry_incident(incident_id, actor))

    return write(request, service, actor, key, None, call)
