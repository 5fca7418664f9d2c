"""`POST /api/v2/webhook`: PagerDuty Generic Webhooks (v3).

Any 2xx tells PagerDuty the event is durable; 5xx and 429 make it retry; any
other 4xx drops the event, and three in a row disable the subscription. So
a valid, authenticated delivery gets 202 (also for event types kubedora
ignores) or 503, never a 4xx."""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web

from kubedora.k8s.errors import Rejected, Unavailable
from kubedora.k8s.upsert import Upserted
from kubedora.models import FailureSource
from kubedora.receiver import intake
from kubedora.receiver.auth import Denied, signed_by
from kubedora.receiver.invalid import PayloadError
from kubedora.receiver.pagerduty import incident_event, parse_webhook
from kubedora.receiver.problems import Problem
from kubedora.receiver.signatures import SIGNATURE_HEADER
from kubedora.receiver.state import STATE_KEY

log = logging.getLogger("kubedora.receiver.pagerduty")

# PagerDuty sends what the subscription's custom headers say; `dd_env` is
# the Datadog convention. Proxies that drop underscored headers (nginx by
# default) leave `dd-env` as the way through.
ENV_HEADERS = ("dd_env", "dd-env")
SOURCE = "pagerduty"


async def pagerduty_webhook(request: web.Request) -> web.Response:
    state = request.app[STATE_KEY]
    settings = state.settings
    intake.check_headers(request, settings.max_body_bytes)
    api_key = intake.api_key(request)
    async with asyncio.timeout(settings.deadline):
        try:
            accepted = await state.credentials.authorized(FailureSource.PAGERDUTY, api_key)
            body = await intake.read_body(request, settings.max_body_bytes)
            source = signed_by(accepted, body, request.headers.get(SIGNATURE_HEADER))
        except Denied as denied:
            log.info("delivery refused", extra={"status": denied.status, "detail": denied.detail})
            raise Problem(denied.status, denied.detail) from None

        try:
            webhook = parse_webhook(body)
            event = incident_event(webhook)
        except PayloadError as error:
            state.metrics.event(SOURCE, "unparsed", "invalid")
            log.info("delivery invalid", extra={"detail": error.detail})
            raise Problem(400, error.detail) from None

        ids: dict[str, object] = {
            "event_id": webhook.event.id,
            "event_type": webhook.event.event_type,
        }
        if event is None:
            state.metrics.event(SOURCE, webhook.event.event_type, "ignored")
            log.info("event ignored", extra={**ids, "outcome": "ignored"})
            return web.json_response(
                {"data": None, "meta": {"outcome": "ignored", "event_id": webhook.event.id}},
                status=202,
            )

        defaults = source.spec.pagerduty
        env = _header(request, ENV_HEADERS) or (defaults.default_env if defaults else None)
        ids |= {"incident_id": event.incident_id, "dorasource": source.name, "env": env}
        try:
            result = await state.writer.incident(event, env)
        except (Unavailable, TimeoutError):
            state.metrics.event(SOURCE, event.event_type, "unavailable")
            raise
        except Rejected as rejected:
            # The event was valid; a Failure the API server refuses is a bug
            # here. 500 makes PagerDuty retry instead of dropping it.
            state.metrics.event(SOURCE, event.event_type, "failed")
            log.exception("failure refused", extra={**ids, "detail": str(rejected)})
            raise Problem(500, "the Failure could not be stored") from rejected

    _record(request, event.event_type, result)
    log.info("event applied", extra={**ids, **_fields(result)})
    return web.json_response(
        {
            "data": {"id": result.name, "type": "dora_failure"},
            "meta": {"outcome": result.outcome.value, "event_id": event.event_id},
        },
        status=202,
    )


def _header(request: web.Request, names: tuple[str, ...]) -> str | None:
    for name in names:
        value = request.headers.get(name, "").strip()
        if value:
            return value
    return None


def _record(request: web.Request, event_type: str, result: Upserted) -> None:
    metrics = request.app[STATE_KEY].metrics
    metrics.event(SOURCE, event_type, result.outcome.value)
    if result.conflicts:
        metrics.conflicts.labels("Failure").inc(result.conflicts)


def _fields(result: Upserted) -> dict[str, object]:
    return {"failure": result.name, "outcome": result.outcome.value, "conflicts": result.conflicts}
