"""The routes of the CD tools: Flux's notification-controller
(`POST /hooks/flux`) and Argo CD notifications (`POST /hooks/argocd`).

Both take the path of the other routes (headers, DD-API-KEY, body, parse,
write, answer), for deployment sources: a DoraSource must list `flux` or
`argocd` in `deploymentSources`. Flux's `generic-hmac` Provider signs the
body (`X-Signature: sha256=<hex>`); when the DoraSource names that key in
`spec.flux.signingSecretRef` the signature must match, else 401 and
nothing is written. An event that is no deployment (another kind, a
progress message) is accepted and ignored, so that Flux and Argo CD never
see a 4xx for a valid delivery."""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web

from kubedora.ingest import argocd, flux
from kubedora.k8s.objects import Upserted
from kubedora.models import DeploymentSource
from kubedora.receiver.auth import (
    API_KEY_HEADER,
    FLUX_SIGNATURE_HEADER,
    Denied,
    SourceCredentials,
    flux_signed_by,
)
from kubedora.receiver.problems import Problem, check_headers, read_body

# One request path for every sender: the parse and write steps are those
# of the other routes.
from kubedora.receiver.routes import STATE_KEY, ReceiverState, parse_or_refuse, store_or_refuse

log = logging.getLogger("kubedora.receiver.hooks")


async def flux_event(request: web.Request) -> web.Response:
    state = request.app[STATE_KEY]
    source = DeploymentSource.FLUX
    async with asyncio.timeout(state.config.deadline):
        credentials, body = await _authenticated(request, source)
        event = parse_or_refuse(state, source, "unparsed", flux.parse_event, body)
        obj = event.involved_object
        ids: dict[str, object] = {
            "event_type": event.reason,
            "object": f"{obj.kind}/{obj.namespace}/{obj.name}",
            "revision": event.revision,
            "dorasource": credentials.name,
        }
        if flux.outcome_of(event) is None:
            return _ignored(state, source, event.reason, ids)
        default_env = credentials.spec.flux.default_env if credentials.spec.flux else None
        result = await store_or_refuse(
            state,
            source,
            event.reason,
            "deployment",
            state.writer.flux_event(event, default_env),
            rejected_status=400,
            ids=ids,
        )
    return _applied(result, ids)


async def argocd_sync(request: web.Request) -> web.Response:
    state = request.app[STATE_KEY]
    source = DeploymentSource.ARGOCD
    async with asyncio.timeout(state.config.deadline):
        credentials, body = await _authenticated(request, source)
        note = parse_or_refuse(state, source, "unparsed", argocd.parse_notification, body)
        event_type = f"sync.{note.phase}"
        ids: dict[str, object] = {
            "event_type": event_type,
            "app": note.app,
            "revision": note.revision,
            "dorasource": credentials.name,
        }
        if argocd.outcome_of(note) is None:
            return _ignored(state, source, event_type, ids)
        default_env = credentials.spec.argocd.default_env if credentials.spec.argocd else None
        result = await store_or_refuse(
            state,
            source,
            event_type,
            "deployment",
            state.writer.argocd_sync(note, default_env),
            rejected_status=400,
            ids=ids,
        )
    return _applied(result, ids)


async def _authenticated(
    request: web.Request, source: DeploymentSource
) -> tuple[SourceCredentials, bytes]:
    state = request.app[STATE_KEY]
    limit = state.config.max_body_bytes
    check_headers(request, limit)
    try:
        accepted = await state.credentials.authorized(
            source, request.headers.get(API_KEY_HEADER) or None
        )
        body = await read_body(request, limit, state.config.body_timeout)
        if source is not DeploymentSource.FLUX:
            return accepted[0], body
        signature = request.headers.get(FLUX_SIGNATURE_HEADER)
        return flux_signed_by(accepted, body, signature), body
    except Denied as denied:
        log.info("delivery refused", extra={"status": denied.status, "detail": denied.detail})
        raise Problem(denied.status, denied.detail) from None


def _ignored(
    state: ReceiverState, source: DeploymentSource, event_type: str, ids: dict[str, object]
) -> web.Response:
    state.telemetry.event(source, event_type, "ignored")
    log.info("event ignored", extra={**ids, "outcome": "ignored"})
    return web.json_response({"data": None, "meta": {"outcome": "ignored"}}, status=202)


def _applied(result: Upserted, ids: dict[str, object]) -> web.Response:
    log.info(
        "deployment applied",
        extra={**ids, "deployment": result.name, "outcome": result.outcome.value},
    )
    return web.json_response(
        {
            "data": {"id": result.name, "type": "dora_deployment"},
            "meta": {"outcome": result.outcome.value},
        },
        status=202,
    )
