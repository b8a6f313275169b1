"""The outbox over HTTP: a cursor API and a Server-Sent Events stream.

``GET /api/v1/events?after=N&limit=M`` is one page of ``engine.events``; ``GET /api/v1/events/stream``
sends every event after ``after`` (or after the ``Last-Event-ID`` a reconnecting EventSource sends, which
wins) as ``id: seq`` / ``event: kind`` / ``data: <the event as JSON>``, then waits for more, looking every
``sse_poll_seconds``; a comment line every 15 s keeps proxies from closing an idle stream.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Header, Query
from fastapi.responses import Response, StreamingResponse
from starlette.concurrency import run_in_threadpool

from efficacy_flow.engine import Engine, OutboxEvent
from efficacy_flow.service._context import PROBLEMS, CallerDep, ServiceDep, reply
from efficacy_flow.service._idempotency import dump_json
from efficacy_flow.service._models import Page, dump
from efficacy_flow.service._problems import Problem

__all__ = ["router", "sse_lines"]

router = APIRouter(tags=["事件 events"], responses=PROBLEMS)
After = Annotated[int | None, Query(ge=0, description="上次处理到的事件序号 seq（不含）")]
#: Seconds of silence after which a stream sends a comment line.
KEEP_ALIVE = 15.0
_BATCH = 100


@router.get("/events", summary="事件（发件箱）游标分页", response_model=Page)
def events(
    service: ServiceDep,
    _: CallerDep,
    after: After = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 100,
) -> Response:
    found = service.engine.events(after, limit)
    last = found[-1].seq if found else after
    return reply({"items": dump(OutboxEvent, found), "next_after": last})


def sse_lines(event: OutboxEvent) -> str:
    """One event as a Server-Sent Events message."""
    data = dump_json(dump(OutboxEvent, event)).decode("utf-8")
    return f"id: {event.seq}\nevent: {event.kind}\ndata: {data}\n\n"


async def _stream(engine: Engine, after: int, poll: float) -> AsyncIterator[str]:
    yield "retry: 2000\n\n"
    cursor = after
    quiet = 0.0
    while True:
        batch = await run_in_threadpool(engine.events, cursor, _BATCH)
        for event in batch:
            yield sse_lines(event)
            cursor = event.seq
        if len(batch) == _BATCH:
            continue
        if batch:
            quiet = 0.0
        await asyncio.sleep(poll)
        quiet += poll
        if quiet >= KEEP_ALIVE:
            quiet = 0.0
            yield ": keep-alive\n\n"


@router.get(
    "/events/stream",
    summary="事件流（Server-Sent Events，可用 Last-Event-ID 续传）",
    response_class=StreamingResponse,
    responses={
        200: {"content": {"text/event-stream": {}}, "description": "id: seq / event: kind / data: JSON"}
    },
)
async def stream(
    service: ServiceDep,
    _: CallerDep,
    after: After = None,
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID")] = None,
) -> StreamingResponse:
    start = after or 0
    if last_event_id is not None:
        if not last_event_id.strip().isdigit():
            raise Problem(
                400, "请求无效 / bad request", "Last-Event-ID must be an event's seq", kind="BadLastEventId"
            )
        start = int(last_event_id.strip())
    return StreamingResponse(
        _stream(service.engine, start, service.settings.sse_poll_seconds),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
