"""The aiohttp application factory and its probes."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, generate_latest

Probe = Callable[[], Awaitable[bool]]

PROBE_KEY: web.AppKey[Probe] = web.AppKey("readiness_probe")
REGISTRY_KEY = web.AppKey("metrics_registry", CollectorRegistry)
REQUESTS_KEY = web.AppKey("requests_total", Counter)


def create_app(readiness: Probe, registry: CollectorRegistry | None = None) -> web.Application:
    """Build the receiver. `readiness` says whether the API server is reachable."""
    app = web.Application(middlewares=[_count_requests])
    metrics = registry or CollectorRegistry()
    app[PROBE_KEY] = readiness
    app[REGISTRY_KEY] = metrics
    app[REQUESTS_KEY] = Counter(
        "kubedora_receiver_requests",
        "HTTP requests answered by the receiver, by route and status code.",
        ["route", "code"],
        registry=metrics,
    )
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics_endpoint)
    return app


async def healthz(_: web.Request) -> web.Response:
    return web.Response(text="ok\n")


async def readyz(request: web.Request) -> web.Response:
    if await request.app[PROBE_KEY]():
        return web.Response(text="ok\n")
    return web.Response(status=503, text="API server unreachable\n")


async def metrics_endpoint(request: web.Request) -> web.Response:
    body = generate_latest(request.app[REGISTRY_KEY])
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})


@web.middleware
async def _count_requests(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    route = request.match_info.route.resource
    name = route.canonical if route is not None else "unmatched"
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        request.app[REQUESTS_KEY].labels(name, str(exc.status)).inc()
        raise
    request.app[REQUESTS_KEY].labels(name, str(response.status)).inc()
    return response
