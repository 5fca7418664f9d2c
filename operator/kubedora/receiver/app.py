"""The receiver's aiohttp application: the factory (routes, probes, Prometheus,
error answers) and `serve`, which runs it until SIGTERM/SIGINT."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from functools import partial

from aiohttp import web
from kubernetes_asyncio import client
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from kubedora.config import ReceiverConfig
from kubedora.k8s.client import api_reachable, connect
from kubedora.k8s.errors import Unavailable
from kubedora.receiver import openapi, telemetry
from kubedora.receiver.auth import CredentialWatch
from kubedora.receiver.hooks import argocd_sync, flux_event
from kubedora.receiver.problems import Problem, problem_response
from kubedora.receiver.routes import (
    STATE_KEY,
    Probe,
    ReceiverState,
    dora_deployment,
    dora_deployment_patch,
    dora_deployment_patch_by_version,
    dora_failure,
    pagerduty_webhook,
)
from kubedora.receiver.telemetry import Telemetry
from kubedora.receiver.writer import Writer

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

log = logging.getLogger("kubedora.receiver")


def create_app(
    api: client.ApiClient,
    config: ReceiverConfig,
    *,
    registry: CollectorRegistry | None = None,
    readiness: Probe | None = None,
) -> web.Application:
    """The receiver for `config.namespace`, writing through `api`.

    `readiness` says whether the API server is reachable (default: ask it);
    the receiver is ready when it is and the credentials are listed."""
    metrics_registry = registry or CollectorRegistry()
    credentials = CredentialWatch(api, config.namespace)
    state = ReceiverState(
        config=config,
        writer=Writer(api, config.namespace, timeout=config.api_timeout),
        credentials=credentials,
        telemetry=Telemetry.register(metrics_registry),
        registry=metrics_registry,
        readiness=readiness or partial(api_reachable, api),
    )
    # The body limit is enforced while reading, also for chunked bodies.
    app = web.Application(
        middlewares=[_count_requests, _answer_problems], client_max_size=config.max_body_bytes
    )
    app[STATE_KEY] = state
    app.cleanup_ctx.append(_watching)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics_endpoint)
    app.router.add_get("/openapi.json", partial(_document, openapi.kept()))
    for path in ("/api/v2/webhook", "/api/v2/webhook/"):
        app.router.add_post(path, pagerduty_webhook)
    for path in ("/api/v2/dora/failure", "/api/v2/dora/incident"):
        app.router.add_post(path, dora_failure)
    app.router.add_post("/api/v2/dora/deployment", dora_deployment)
    app.router.add_patch("/api/v2/dora/deployments/{id}", dora_deployment_patch)
    app.router.add_patch("/api/v2/dora/deployments", dora_deployment_patch_by_version)
    app.router.add_post("/hooks/flux", flux_event)
    app.router.add_post("/hooks/argocd", argocd_sync)
    return app


async def healthz(_: web.Request) -> web.Response:
    return web.Response(text="ok\n")


async def readyz(request: web.Request) -> web.Response:
    state = request.app[STATE_KEY]
    if not state.credentials.synced:
        return web.Response(status=503, text="credentials not listed yet\n")
    if await state.readiness():
        return web.Response(text="ok\n")
    return web.Response(status=503, text="API server unreachable\n")


async def _watching(app: web.Application) -> AsyncIterator[None]:
    """The credential informers run as long as the app does."""
    informers = app[STATE_KEY].credentials.informers
    tasks = [
        asyncio.create_task(informer.supervised(), name=f"receiver {informer.resource.plural}")
        for informer in informers
    ]
    yield
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


async def metrics_endpoint(request: web.Request) -> web.Response:
    body = generate_latest(request.app[STATE_KEY].registry)
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})


async def _document(body: bytes, _: web.Request) -> web.Response:
    return web.Response(body=body, content_type="application/json")


def _route(request: web.Request) -> str:
    resource = request.match_info.route.resource
    if resource is None:
        return "unmatched"
    # `/api/v2/webhook/` and `/api/v2/webhook` are one route to a reader.
    return resource.canonical.rstrip("/") or "/"


@web.middleware
async def _count_requests(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Requests by route and status, and their latency."""
    counters = request.app[STATE_KEY].telemetry
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
        counters.requests.labels(route, str(status)).inc()
        counters.latency.labels(route).observe(time.perf_counter() - started)


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
        retry_after = str(request.app[STATE_KEY].config.retry_after)
        return problem_response(
            503,
            "the Kubernetes API server is unavailable; retry later",
            {"Retry-After": retry_after},
        )


async def serve(host: str, port: int, config: ReceiverConfig) -> None:
    telemetry.configure_logs()
    api = await connect()
    try:
        app = create_app(api, config)
        # No access log: every request that reaches a route logs one JSON
        # line of its own, with the ids an access log would not have.
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, host, port)
        await site.start()
        log.info(
            "receiver listening on http://%s:%d for namespace %s", host, port, config.namespace
        )
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(sig, stop.set)
        await stop.wait()
        await runner.cleanup()
    finally:
        await api.close()
