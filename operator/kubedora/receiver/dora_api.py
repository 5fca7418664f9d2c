"""The Datadog-compatible DORA API: `POST /api/v2/dora/deployment` and
`POST /api/v2/dora/failure` (alias `/api/v2/dora/incident`).

Existing pipelines (`datadog-ci dora deployment`, the Datadog API clients)
work unchanged once pointed at kubedora: same paths, bodies, DD-API-KEY
header, and answers (`202 {"data": {"id", "type"}}`, `{"errors": [...]}`)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from aiohttp import web

from kubedora.k8s.errors import Rejected, Unavailable
from kubedora.k8s.upsert import Upserted
from kubedora.models import FailureSource
from kubedora.receiver import datadog, intake
from kubedora.receiver.auth import Denied
from kubedora.receiver.invalid import PayloadError
from kubedora.receiver.problems import Problem
from kubedora.receiver.state import STATE_KEY

log = logging.getLogger("kubedora.receiver.dora")

SOURCE = "api"
_Attributes = TypeVar("_Attributes")


async def dora_deployment(request: web.Request) -> web.Response:
    writer = request.app[STATE_KEY].writer
    return await _accept(
        request, "dora_deployment", "deployment", datadog.parse_deployment, writer.deployment
    )


async def dora_failure(request: web.Request) -> web.Response:
    writer = request.app[STATE_KEY].writer
    return await _accept(request, "dora_failure", "failure", datadog.parse_failure, writer.failure)


async def _accept(
    request: web.Request,
    kind: str,
    noun: str,
    parse: Callable[[bytes], _Attributes],
    write: Callable[[_Attributes], Awaitable[Upserted]],
) -> web.Response:
    state = request.app[STATE_KEY]
    settings = state.settings
    intake.check_headers(request, settings.max_body_bytes)
    api_key = intake.api_key(request)
    async with asyncio.timeout(settings.deadline):
        try:
            await state.credentials.authorized(FailureSource.API, api_key)
        except Denied as denied:
            log.info("post refused", extra={"status": denied.status, "detail": denied.detail})
            raise Problem(denied.status, denied.detail) from None
        body = await intake.read_body(request, settings.max_body_bytes)
        try:
            attributes = parse(body)
        except PayloadError as error:
            state.metrics.event(SOURCE, kind, "invalid")
            log.info("post invalid", extra={"event_type": kind, "detail": error.detail})
            raise Problem(400, error.detail) from None
        try:
            result = await write(attributes)
        except (Unavailable, TimeoutError):
            state.metrics.event(SOURCE, kind, "unavailable")
            raise
        except Rejected as rejected:
            state.metrics.event(SOURCE, kind, "invalid")
            log.info("post refused by the API server", extra={"detail": str(rejected)})
            raise Problem(400, str(rejected)) from None

    state.metrics.event(SOURCE, kind, result.outcome.value)
    if result.conflicts:
        state.metrics.conflicts.labels(noun.capitalize()).inc(result.conflicts)
    log.info(
        f"{noun} applied",
        extra={
            "event_type": kind,
            noun: result.name,
            "outcome": result.outcome.value,
            "conflicts": result.conflicts,
        },
    )
    return web.json_response({"data": {"id": result.name, "type": kind}}, status=202)
