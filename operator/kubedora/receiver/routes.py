"""The routes that write: PagerDuty Generic Webhooks (v3) and the
Datadog-compatible DORA API. Every one takes the same path: check the
headers, authenticate, read the body, parse it, write, answer.

Any 2xx tells PagerDuty the event is durable; 5xx and 429 make it retry; any
other 4xx drops the event, and three in a row disable the subscription. So
a valid, authenticated delivery gets 202 (also for event types kubedora
ignores) or 503, never a 4xx.

Existing pipelines (`datadog-ci dora deployment`, the Datadog API clients)
work unchanged once pointed at kubedora: same paths, bodies, DD-API-KEY
header, and answers (`202 {"data": {"id", "type"}}`, `{"errors": [...]}`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from aiohttp import web
from prometheus_client import CollectorRegistry

from kubedora.config import ReceiverConfig
from kubedora.ingest import datadog, pagerduty
from kubedora.ingest.payload import PayloadError, check_label
from kubedora.k8s.errors import Rejected, Unavailable
from kubedora.k8s.objects import Outcome, Upserted
from kubedora.models import DeploymentSource, FailureSource
from kubedora.receiver.auth import (
    API_KEY_HEADER,
    SIGNATURE_HEADER,
    CredentialWatch,
    Denied,
    Source,
    SourceCredentials,
    signed_by,
)
from kubedora.receiver.problems import Problem, check_headers, read_body
from kubedora.receiver.telemetry import Telemetry
from kubedora.receiver.writer import Writer

log = logging.getLogger("kubedora.receiver.routes")

# PagerDuty sends what the subscription's custom headers say; `dd_env` is
# the Datadog convention. Proxies that drop underscored headers (nginx by
# default) leave `dd-env` as the way through.
ENV_HEADERS = ("dd_env", "dd-env")

Probe = Callable[[], Awaitable[bool]]


@dataclass(frozen=True)
class ReceiverState:
    """What every route shares, kept on the aiohttp application."""

    config: ReceiverConfig
    writer: Writer
    credentials: CredentialWatch
    telemetry: Telemetry
    registry: CollectorRegistry
    readiness: Probe


STATE_KEY = web.AppKey("receiver_state", ReceiverState)

_Input = TypeVar("_Input")
_Parsed = TypeVar("_Parsed")


async def pagerduty_webhook(request: web.Request) -> web.Response:
    state = request.app[STATE_KEY]
    source = FailureSource.PAGERDUTY
    async with asyncio.timeout(state.config.deadline):
        credentials, body = await _authenticated(request, source, signed=True)
        webhook = parse_or_refuse(state, source, "unparsed", pagerduty.parse_webhook, body)
        event = parse_or_refuse(state, source, "unparsed", pagerduty.incident_event, webhook)
        ids: dict[str, object] = {
            "event_id": webhook.event.id,
            "event_type": webhook.event.event_type,
        }
        if event is None:
            state.telemetry.event(source, webhook.event.event_type, "ignored")
            log.info("event ignored", extra={**ids, "outcome": "ignored"})
            return web.json_response(
                {"data": None, "meta": {"outcome": "ignored", "event_id": webhook.event.id}},
                status=202,
            )
        defaults = credentials.spec.pagerduty
        env = _header(request, ENV_HEADERS) or (defaults.default_env if defaults else None)
        ids |= {"incident_id": event.incident_id, "dorasource": credentials.name, "env": env}
        # The event was valid; a Failure the API server refuses is a bug
        # here. 500 makes PagerDuty retry instead of dropping it.
        result = await store_or_refuse(
            state,
            source,
            event.event_type,
            "failure",
            state.writer.incident(event, env),
            rejected_status=500,
            ids=ids,
        )
    log.info("event applied", extra={**ids, "failure": result.name, **_outcome(result)})
    return web.json_response(
        {
            "data": {"id": result.name, "type": "dora_failure"},
            "meta": {"outcome": result.outcome.value, "event_id": event.event_id},
        },
        status=202,
    )


async def dora_deployment(request: web.Request) -> web.Response:
    state = request.app[STATE_KEY]
    return await _dora(
        request,
        DeploymentSource.API,
        "deployment",
        datadog.parse_deployment,
        state.writer.deployment,
    )


async def dora_failure(request: web.Request) -> web.Response:
    state = request.app[STATE_KEY]
    return await _dora(
        request, FailureSource.API, "failure", datadog.parse_failure, state.writer.failure
    )


async def _dora(
    request: web.Request,
    source: Source,
    noun: str,
    parse: Callable[[bytes], _Parsed],
    write: Callable[[_Parsed], Awaitable[Upserted]],
) -> web.Response:
    state = request.app[STATE_KEY]
    kind = f"dora_{noun}"
    async with asyncio.timeout(state.config.deadline):
        _, body = await _authenticated(request, source, signed=False)
        attributes = parse_or_refuse(state, source, kind, parse, body)
        # What the API server refuses here is the sender's data (a CEL rule).
        result = await store_or_refuse(
            state, source, kind, noun, write(attributes), rejected_status=400, ids={}
        )
    log.info(f"{noun} applied", extra={"event_type": kind, noun: result.name, **_outcome(result)})
    return web.json_response({"data": {"id": result.name, "type": kind}}, status=202)


async def _authenticated(
    request: web.Request, source: Source, *, signed: bool
) -> tuple[SourceCredentials, bytes]:
    """The DoraSource that accepts this request, and the raw body (signatures
    are computed over these exact bytes); a Problem otherwise."""
    state = request.app[STATE_KEY]
    limit = state.config.max_body_bytes
    check_headers(request, limit)
    try:
        accepted = await state.credentials.authorized(
            source, request.headers.get(API_KEY_HEADER) or None
        )
        body = await read_body(request, limit, state.config.body_timeout)
        if not signed:
            return accepted[0], body
        return signed_by(accepted, body, request.headers.get(SIGNATURE_HEADER)), body
    except Denied as denied:
        log.info("delivery refused", extra={"status": denied.status, "detail": denied.detail})
        raise Problem(denied.status, denied.detail) from None


def parse_or_refuse(
    state: ReceiverState,
    source: Source,
    event_type: str,
    parse: Callable[[_Input], _Parsed],
    given: _Input,
) -> _Parsed:
    try:
        return parse(given)
    except PayloadError as error:
        state.telemetry.event(source, event_type, "invalid")
        log.info("delivery invalid", extra={"event_type": event_type, "detail": error.detail})
        raise Problem(400, error.detail) from None


async def store_or_refuse(
    state: ReceiverState,
    source: Source,
    event_type: str,
    noun: str,
    writing: Awaitable[Upserted],
    *,
    rejected_status: int,
    ids: dict[str, object],
) -> Upserted:
    try:
        result = await writing
    except (Unavailable, TimeoutError):
        state.telemetry.event(source, event_type, "unavailable")
        raise
    except Rejected as rejected:
        state.telemetry.event(source, event_type, "failed" if rejected_status >= 500 else "invalid")
        if rejected_status >= 500:
            log.exception(f"{noun} refused", extra={**ids, "detail": str(rejected)})
            raise Problem(rejected_status, f"the {noun.capitalize()} could not be stored") from None
        log.info(f"{noun} refused by the API server", extra={"detail": str(rejected)})
        raise Problem(rejected_status, str(rejected)) from None
    state.telemetry.event(source, event_type, result.outcome.value)
    if result.conflicts:
        state.telemetry.conflicts.labels(noun.capitalize()).inc(result.conflicts)
    return result


def _header(request: web.Request, names: tuple[str, ...]) -> str | None:
    for name in names:
        value = request.headers.get(name, "").strip()
        if value:
            try:
                return check_label(value, f"the {name} header")
            except PayloadError as error:
                raise Problem(400, error.detail) from None
    return None


def _outcome(result: Upserted) -> dict[str, object]:
    return {"outcome": result.outcome.value, "conflicts": result.conflicts}


async def dora_deployment_patch(request: web.Request) -> web.Response:
    """Datadog's "mark a deployment as failed" by id (PATCH .../deployments/{id})."""
    state = request.app[STATE_KEY]
    source, kind = FailureSource.API, "dora_deployment_patch"
    async with asyncio.timeout(state.config.deadline):
        _, body = await _authenticated(request, source, signed=False)
        attributes = parse_or_refuse(state, source, kind, datadog.parse_deployment_patch, body)
        names = datadog.names_for_id(request.match_info["id"])
        name = await state.writer.existing(names)
        if name is None:
            raise Problem(404, f"no deployment with id {request.match_info['id']!r}")
        return await _mark(state, kind, [name], attributes, service_env=None)


async def dora_deployment_patch_by_version(request: web.Request) -> web.Response:
    """Datadog's "mark a deployment as failed" by service, env and version:
    the most recently finished such deployment."""
    state = request.app[STATE_KEY]
    source, kind = FailureSource.API, "dora_deployment_patch"
    async with asyncio.timeout(state.config.deadline):
        _, body = await _authenticated(request, source, signed=False)
        attributes = parse_or_refuse(
            state, source, kind, datadog.parse_deployment_patch_by_version, body
        )
        name = await state.writer.latest(attributes.service, attributes.env, attributes.version)
        if name is None:
            raise Problem(
                404,
                f"no deployment of {attributes.service} in {attributes.env} "
                f"with version {attributes.version!r}",
            )
        return await _mark(
            state, kind, [name], attributes, service_env=(attributes.service, attributes.env)
        )


async def _mark(
    state: ReceiverState,
    kind: str,
    names: list[str],
    attributes: datadog.DoraDeploymentPatchAttributes,
    *,
    service_env: tuple[str, str] | None,
) -> web.Response:
    remediated_by = await _remediation(state, attributes, names[0], service_env)
    result = await store_or_refuse(
        state,
        FailureSource.API,
        kind,
        "deployment",
        state.writer.mark_deployment(names, attributes.change_failure, remediated_by),
        rejected_status=400,
        ids={},
    )
    if result.outcome == Outcome.SKIPPED:
        # Deleted between the look-up and the write.
        raise Problem(404, f"no deployment {names[0]!r}")
    log.info("deployment marked", extra={"deployment": result.name, **_outcome(result)})
    return web.json_response({"data": {"id": result.name, "type": "dora_deployment"}}, status=202)


async def _remediation(
    state: ReceiverState,
    attributes: datadog.DoraDeploymentPatchAttributes,
    failed: str,
    service_env: tuple[str, str] | None,
) -> str | None:
    remediation = attributes.remediation
    if remediation is None or not attributes.change_failure:
        return None
    if remediation.id is not None:
        found = await state.writer.existing(datadog.names_for_id(remediation.id))
        if found is None:
            raise Problem(400, f"remediation: no deployment with id {remediation.id!r}")
        return found
    assert remediation.version is not None  # the model requires one of the two
    if service_env is None:
        stored = await state.writer.spec_of(failed)
        if stored is None or stored.env is None:
            raise Problem(400, "remediation: by version needs a deployment with an env")
        service_env = (stored.service, stored.env)
    found = await state.writer.latest(*service_env, remediation.version)
    if found is None:
        raise Problem(400, f"remediation: no deployment with version {remediation.version!r}")
    return found
