"""The operator's own HTTP server (--http-address, default 127.0.0.1:8082):
`/metrics` for Prometheus and the read-only dashboard page at `/`. Never on
the receiver's public port: these figures are internal.

Every replica serves it. The page reads DoraSources from the API server and
the open failures and newest deployments from this replica's informers, so
a standby shows the same page as the active replica."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Collection, Mapping
from datetime import UTC, datetime
from typing import Any

from aiohttp import web
from kubernetes_asyncio import client
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import ValidationError

from kubedora.handlers import recent
from kubedora.handlers.telemetry import Telemetry
from kubedora.k8s.errors import API_ERRORS
from kubedora.metrics import DeploymentFact
from kubedora.models import DORASOURCES, DoraSourceSpec, DoraSourceStatus
from kubedora.web.page import OpenFailure, SourceView, index_page, namespace_page
from kubedora.web.style import STYLESHEET, STYLESHEET_PATH

log = logging.getLogger("kubedora.web")

# The page loads nothing but its own stylesheet and runs no script.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; "
        "form-action 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def parse_address(address: str) -> tuple[str, int]:
    """HOST:PORT, with [v6]:PORT for IPv6 hosts."""
    host, sep, port = address.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(
            f"invalid --http-address {address!r}: expected HOST:PORT, e.g. 0.0.0.0:8082"
        )
    return host.removeprefix("[").removesuffix("]"), int(port)


@web.middleware
async def _secure(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        response = await handler(request)
    except web.HTTPException as error:
        response = error
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if isinstance(response, web.HTTPException):
        raise response
    return response


class DashboardServer:
    def __init__(
        self,
        *,
        address: str,
        telemetry: Telemetry,
        api: client.ApiClient,
        namespaces: list[str] | None,
        open_failures: Mapping[str, Collection[OpenFailure]],
        deployments: Mapping[str, Collection[DeploymentFact]],
    ) -> None:
        self.host, self.port = parse_address(address)
        self.telemetry = telemetry
        self.api = api
        self.namespaces = namespaces
        self.open_failures = open_failures
        self.deployments = deployments
        self._runner: web.AppRunner | None = None

    def app(self) -> web.Application:
        app = web.Application(middlewares=[_secure])
        app.router.add_get("/metrics", self.metrics)
        app.router.add_get("/healthz", self.healthz)
        app.router.add_get(STYLESHEET_PATH, self.stylesheet)
        app.router.add_get("/", self.index)
        app.router.add_get("/namespaces/{namespace}", self.namespace)
        return app

    async def start(self) -> None:
        runner = web.AppRunner(self.app(), access_log=None)
        await runner.setup()
        try:
            await web.TCPSite(runner, self.host, self.port).start()
        except OSError:
            await runner.cleanup()
            raise
        self._runner = runner
        log.info("serving /metrics and the dashboard on http://%s:%s/", self.host, self.port)

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def metrics(self, request: web.Request) -> web.Response:
        body = generate_latest(self.telemetry.registry)
        response = web.Response(body=body)
        response.headers["Content-Type"] = CONTENT_TYPE_LATEST
        return response

    async def healthz(self, request: web.Request) -> web.Response:
        return web.Response(text="ok\n")

    async def stylesheet(self, request: web.Request) -> web.Response:
        return web.Response(text=STYLESHEET, content_type="text/css")

    async def _dorasources(self, namespace: str | None) -> list[dict[str, Any]]:
        objects = client.CustomObjectsApi(self.api)
        group, version, plural = DORASOURCES.coordinates
        if namespace is None:
            found = await objects.list_cluster_custom_object(group, version, plural)
        else:
            found = await objects.list_namespaced_custom_object(group, version, namespace, plural)
        items: list[dict[str, Any]] = found.get("items") or []
        return items

    async def index(self, request: web.Request) -> web.Response:
        try:
            if self.namespaces is None:
                items = await self._dorasources(None)
            else:
                items = [i for ns in self.namespaces for i in await self._dorasources(ns)]
        except API_ERRORS as error:
            raise _unavailable(error) from error
        counts: dict[str, int] = {}
        for item in items:
            namespace = item["metadata"]["namespace"]
            counts[namespace] = counts.get(namespace, 0) + 1
        return _html(index_page(sorted(counts.items()), datetime.now(UTC)))

    async def namespace(self, request: web.Request) -> web.Response:
        namespace = request.match_info["namespace"]
        if self.namespaces is not None and namespace not in self.namespaces:
            raise web.HTTPNotFound(text=f"this operator does not serve namespace {namespace}\n")
        try:
            items = await self._dorasources(namespace)
        except API_ERRORS as error:
            raise _unavailable(error) from error
        sources = []
        for item in sorted(items, key=lambda i: str(i["metadata"]["name"])):
            try:
                sources.append(
                    SourceView(
                        name=item["metadata"]["name"],
                        spec=DoraSourceSpec.model_validate(item.get("spec") or {}),
                        status=DoraSourceStatus.model_validate(item.get("status") or {}),
                    )
                )
            except ValidationError as error:
                log.warning("DoraSource %s/%s unreadable: %s", namespace, item["metadata"], error)
        page = namespace_page(
            namespace,
            sources,
            recent.newest_failures(self.open_failures.get(namespace, ())),
            recent.newest_deployments(self.deployments.get(namespace, ())),
            datetime.now(UTC),
        )
        return _html(page)


def _html(text: str) -> web.Response:
    return web.Response(text=text, content_type="text/html", charset="utf-8")


def _unavailable(error: BaseException) -> web.HTTPServiceUnavailable:
    log.warning("dashboard: the API server did not answer: %s", error)
    return web.HTTPServiceUnavailable(
        text="The API server did not answer; try again shortly.\n", headers={"Retry-After": "5"}
    )
