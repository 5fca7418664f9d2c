"""Run the webhook receiver in tests and talk to it like PagerDuty and CI do.

The receiver is the real aiohttp app on a real socket, served from its own
event loop in a thread, writing to a real API server; requests go over
HTTP. Builders here make PagerDuty v3 deliveries shaped like the recorded
ones in tests/fixtures/pagerduty/."""

from __future__ import annotations

import asyncio
import base64
import copy
import http.client
import json
import socket
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

from aiohttp import web
from kubernetes import client as sync_client
from kubernetes_asyncio import client as async_client
from kubernetes_asyncio import config as async_config
from prometheus_client import CollectorRegistry

from kubedora.config import ReceiverConfig
from kubedora.receiver.app import create_app
from kubedora.receiver.auth import SIGNATURE_HEADER, sign

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"
GROUP, VERSION = "kubedora.io", "v1alpha1"
API_KEY = "test-api-key-0123456789"
WEBHOOK = "/api/v2/webhook"
DORA_DEPLOYMENT = "/api/v2/dora/deployment"
DORA_FAILURE = "/api/v2/dora/failure"


@dataclass(frozen=True)
class Reply:
    status: int
    headers: Mapping[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def http_request(
    port: int,
    method: str,
    path: str,
    body: bytes | None = None,
    headers: Mapping[str, str] | None = None,
    *,
    timeout: float = 30.0,
) -> Reply:
    """One request on a fresh connection to 127.0.0.1:port."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request(method, path, body=body, headers=dict(headers or {}))
        response = connection.getresponse()
        return Reply(response.status, dict(response.getheaders()), response.read())
    finally:
        connection.close()


@dataclass
class RunningReceiver:
    """A receiver serving on 127.0.0.1:`port` until stop()."""

    port: int
    registry: CollectorRegistry
    _loop: asyncio.AbstractEventLoop
    _thread: threading.Thread
    _runner: web.AppRunner
    _api: async_client.ApiClient
    _stopped: bool = field(default=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float = 30.0,
    ) -> Reply:
        return http_request(self.port, method, path, body, headers, timeout=timeout)

    def post(
        self,
        path: str,
        payload: bytes | Mapping[str, Any],
        *,
        api_key: str | None = API_KEY,
        headers: Mapping[str, str] | None = None,
        content_type: str | None = "application/json",
    ) -> Reply:
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        sent: dict[str, str] = {}
        if content_type is not None:
            sent["Content-Type"] = content_type
        if api_key is not None:
            sent["DD-API-KEY"] = api_key
        sent.update(headers or {})
        return self.request("POST", path, body, sent)

    def get(self, path: str) -> Reply:
        return self.request("GET", path)

    def metric(self, name: str, labels: Mapping[str, str]) -> float:
        """A sample of the receiver's own registry (0 when never incremented)."""
        value = self.registry.get_sample_value(name, dict(labels))
        return value or 0.0

    def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True

        async def shutdown() -> None:
            await self._runner.cleanup()
            await self._api.close()

        asyncio.run_coroutine_threadsafe(shutdown(), self._loop).result(timeout=30)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=30)
        self._loop.close()


# Tests share slow machines: a busy API server must not turn into a 503
# unless the test is about that (those pass their own timeouts).
TEST_TIMEOUTS = {"api_timeout": 10.0, "deadline": 20.0}


def start_receiver(kubeconfig: Path, namespace: str, **settings: Any) -> RunningReceiver:
    """Serve the receiver for namespace; settings override ReceiverConfig."""
    settings = {**TEST_TIMEOUTS, **settings}
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="receiver", daemon=True)
    thread.start()
    registry = CollectorRegistry()
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    port: int = listener.getsockname()[1]

    async def serve() -> tuple[web.AppRunner, async_client.ApiClient]:
        configuration = async_client.Configuration()
        await async_config.load_kube_config(
            config_file=str(kubeconfig), client_configuration=configuration
        )
        api = async_client.ApiClient(configuration)
        app = create_app(api, ReceiverConfig(namespace=namespace, **settings), registry=registry)
        runner = web.AppRunner(app)
        await runner.setup()
        await web.SockSite(runner, listener).start()
        return runner, api

    runner, api = asyncio.run_coroutine_threadsafe(serve(), loop).result(timeout=30)
    return RunningReceiver(port, registry, loop, thread, runner, api)


# --- credentials ---------------------------------------------------------------


def install_source(
    core_v1: sync_client.CoreV1Api,
    custom_objects: sync_client.CustomObjectsApi,
    namespace: str,
    *,
    name: str = "default",
    api_keys: Mapping[str, str] | None = None,
    sources: tuple[str, ...] = ("api", "incident", "pagerduty"),
    signing_secrets: Mapping[str, str] | None = None,
    default_env: str | None = None,
) -> None:
    """A DoraSource enabling `sources`, with its API keys (and PagerDuty
    signing secrets) in Secrets of its own."""
    keys_secret = f"{name}-api-keys"
    put_secret(core_v1, namespace, keys_secret, api_keys or {"ci": API_KEY})
    spec: dict[str, Any] = {
        "failureSources": list(sources),
        "apiKeySecretRef": {"name": keys_secret},
    }
    pagerduty: dict[str, Any] = {}
    if signing_secrets is not None:
        put_secret(core_v1, namespace, f"{name}-signing", signing_secrets)
        pagerduty["signingSecretRef"] = {"name": f"{name}-signing"}
    if default_env is not None:
        pagerduty["defaultEnv"] = default_env
    if pagerduty:
        spec["pagerduty"] = pagerduty
    custom_objects.create_namespaced_custom_object(
        GROUP,
        VERSION,
        namespace,
        "dorasources",
        {
            "apiVersion": f"{GROUP}/{VERSION}",
            "kind": "DoraSource",
            "metadata": {"name": name},
            "spec": spec,
        },
    )


def put_secret(
    core_v1: sync_client.CoreV1Api, namespace: str, name: str, values: Mapping[str, str]
) -> None:
    """Create or replace an Opaque Secret."""
    body = sync_client.V1Secret(
        metadata=sync_client.V1ObjectMeta(name=name),
        data={k: base64.b64encode(v.encode()).decode() for k, v in values.items()},
    )
    try:
        core_v1.create_namespaced_secret(namespace, body)
    except sync_client.ApiException as exc:
        if exc.status != 409:
            raise
        core_v1.replace_namespaced_secret(name, namespace, body)


# --- reading what was written -------------------------------------------------------


def objects_of(
    custom_objects: sync_client.CustomObjectsApi, namespace: str, plural: str
) -> list[dict[str, Any]]:
    # The client types custom objects as `object`; a listing is a JSON object.
    listing = cast(
        "dict[str, Any]",
        custom_objects.list_namespaced_custom_object(GROUP, VERSION, namespace, plural),
    )
    items: list[dict[str, Any]] = listing["items"]
    return items


def written(custom_objects: sync_client.CustomObjectsApi, namespace: str) -> list[str]:
    """`kind/name` of every Failure and Deployment in the namespace."""
    return sorted(
        f"{plural}/{item['metadata']['name']}"
        for plural in ("failures", "deployments")
        for item in objects_of(custom_objects, namespace, plural)
    )


# --- PagerDuty deliveries --------------------------------------------------------


def fixture_bytes(*parts: str) -> bytes:
    return FIXTURES.joinpath(*parts).read_bytes()


def fixture_json(*parts: str) -> Any:
    return json.loads(fixture_bytes(*parts))


def pd_time(moment: datetime) -> str:
    """occurred_at as PagerDuty writes it: UTC, milliseconds, Z."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + (
        f"{moment.microsecond // 1000:03d}Z"
    )


_STATUS_AFTER = {
    "incident.triggered": "triggered",
    "incident.acknowledged": "acknowledged",
    "incident.unacknowledged": "triggered",
    "incident.resolved": "resolved",
    "incident.reopened": "triggered",
}


def pd_delivery(
    event_type: str,
    incident_id: str,
    occurred_at: datetime,
    *,
    created_at: datetime,
    event_id: str | None = None,
    service: str = "Checkout API",
    teams: tuple[str, ...] = ("Shop",),
    priority: str | None = "P2",
    title: str = "Checkout latency above SLO",
    client: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """A v3 delivery for one incident event, in the shape of the recorded
    incident.triggered delivery (tests/fixtures/pagerduty/)."""
    delivery: dict[str, Any] = copy.deepcopy(fixture_json("pagerduty", "incident.triggered.json"))
    event = delivery["event"]
    event["id"] = event_id or f"{incident_id}-{event_type}-{occurred_at.timestamp():.3f}"
    event["event_type"] = event_type
    event["occurred_at"] = pd_time(occurred_at)
    event["client"] = dict(client) if client is not None else None
    data = event["data"]
    data["id"] = incident_id
    data["self"] = f"https://api.pagerduty.com/incidents/{incident_id}"
    data["html_url"] = f"https://acme.pagerduty.com/incidents/{incident_id}"
    data["status"] = _STATUS_AFTER.get(event_type, "acknowledged")
    data["created_at"] = created_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    data["title"] = title
    service_id = "P" + "".join(c for c in service.upper() if c.isalnum())[:6]
    data["service"] = {
        "html_url": f"https://acme.pagerduty.com/services/{service_id}",
        "id": service_id,
        "self": f"https://api.pagerduty.com/services/{service_id}",
        "summary": service,
        "type": "service_reference",
    }
    data["teams"] = [
        {
            "html_url": f"https://acme.pagerduty.com/teams/T{i}",
            "id": f"T{i}",
            "self": f"https://api.pagerduty.com/teams/T{i}",
            "summary": team,
            "type": "team_reference",
        }
        for i, team in enumerate(teams)
    ]
    data["priority"] = (
        None
        if priority is None
        else {
            "html_url": "https://acme.pagerduty.com/account/incident_priorities",
            "id": "PSO75BM",
            "self": "https://api.pagerduty.com/priorities/PSO75BM",
            "summary": priority,
            "type": "priority_reference",
        }
    )
    return delivery


def pd_note(incident_id: str, occurred_at: datetime, *, event_id: str) -> dict[str, Any]:
    """An incident.annotated delivery: the incident by reference only."""
    delivery: dict[str, Any] = copy.deepcopy(fixture_json("pagerduty", "incident.annotated.json"))
    event = delivery["event"]
    event["id"] = event_id
    event["occurred_at"] = pd_time(occurred_at)
    event["data"]["incident"]["id"] = incident_id
    return delivery


def pd_headers(
    body: bytes, *, secrets: tuple[bytes, ...] = (), env: str | None = None
) -> dict[str, str]:
    """The headers PagerDuty sends: its signature(s), and dd_env when the
    subscription has that custom header."""
    headers = {"X-Webhook-Id": "retry-of-this-delivery"}
    if secrets:
        headers[SIGNATURE_HEADER] = ",".join(sign(body, s) for s in secrets)
    if env is not None:
        headers["dd_env"] = env
    return headers


def encode(delivery: Mapping[str, Any]) -> bytes:
    return json.dumps(delivery, separators=(",", ":")).encode()
