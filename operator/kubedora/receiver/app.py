"""The aiohttp application factory: routes, probes, metrics and error answers."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from functools import partial

from aiohttp import web
from kubernetes_asyncio import client
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from kubedora.k8s.client import api_reachable
from kubedora.k8s.dorasources import read_credentials
from kubedora.k8s.errors import Unavailable
from kubedora.receiver.credentials import CredentialCache
from kubedora.receiver.dora_api import dora_deployment, dora_failure
from kubedora.receiver.metrics import ReceiverMetrics
from kubedora.receiver.problems import Problem, problem_response
from kubedora.receiver.settings import ReceiverSettings
from kubedora.receiver.state import STATE_KEY, Probe, ReceiverState
from kubedora.receiver.webhook import pagerduty_webhook
from kubedora.receiver.writer import Writer

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

log = logging.getLogger("kubedora.receiver")


def create_app(
    api: client.ApiClient,
    settings: ReceiverSettings,
    *,
    registry: CollectorRegistry | None = None,
    readiness: Probe | None = None,
) -> web.Application:
    """The receiver for `settings.namespace`, writing through `api`.

    `readiness` says whether the API server is reachable (default: ask it)."""
    metrics_registry = registry or CollectorRegistry()
    credentials = CredentialCache(
        partial(read_credentials, api, settings.namespace, timeout=settings.api_timeout),
        ttl=settings.credentials_ttl,
        min_refresh=settings.credentials_min_refresh,
    )
    state = ReceiverState(
        settings=settings,
        writer=Writer(api, settings.namespace, timeout=settings.api_timeout),
        credentials=credentials,
        metrics=ReceiverMetrics.register(metrics_registry),
        registry=metrics_registry,
        readiness=readiness or partial(api_reachable, api),
    )
    # The body limit is enforced while reading, also for chunked bodies.
    app = web.Application(
        middlewares=[_observe, _answer_problems], client_max_size=settings.max_body_bytes
    )
    app[STATE_KEY] = state
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics_endpoint)
    for path in ("/api/v2/webhook", "/api/v2/webhook/"):
        app.router.add_post(path, pagerduty_webhook)
    for path in ("/api/v2/dora/failure", "/api/v2/dora/incident"):
        app.router.add_post(path, dora_failure)
    app.router.add_post("/api/v2/dora/deployment", dora_deployment)
    return app


async def healthz(_: web.Request) -> web.Response:
    return web.Response(text="ok\n")


async def readyz(request: web.Request) -> web.Response:
    if await request.app[STATE_KEY].readiness():
        return web.Response(text="ok\n")
    return web.Response(status=503, text="API server unreachable\n")


async def metrics_endpoint(request: web.Request) -> web.Response:
    body = generate_latest(request.app[STATE_KEY].registry)
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})


def _route(request: web.Request) -> str:
    resource = request.match_info.route.resource
    if resource is None:
        return "unmatched"
    # `/api/v2/webhook/` and `/api/v2/webhook` are one route to a reader.
    return resource.canonical.rstrip("/") or "/"


@web.middleware
async def _observe(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Requests by route and status, and their latency."""
    metrics = request.app[STATE_KEY].metrics
    route = _route(request)
    started = time.perf_counter()
    status = 500
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        status = exc.status
        raise
    else:
        status = response.status
        return response
    finally:
        # Anything else escaping is answered 500 by aiohttp, which logs it.
        metrics.requests.labels(route, str(status)).inc()
        metrics.latency.labels(route).observe(time.perf_counter() - started)


@web.middleware
async def _answer_problems(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Problems as JSON errors; an unreachable API server as 503, which
    makes PagerDuty (and datadog-ci) retry later."""
    try:
        return await handler(request)
    except Problem as problem:
        return problem.response()
    except (Unavailable, TimeoutError) as exc:
        log.warning("API server unavailable", extra={"route": _route(request), "detail": str(exc)})
        retry_after = str(request.app[STATE_KEY].settings.retry_after)
        return problem_response(
            503,
            "the Kubernetes API server is unavailable; retry later",
            {"Retry-After": retry_after},
        )
