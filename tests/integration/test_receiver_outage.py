"""The API server goes away: deliveries get 503 (PagerDuty and datadog-ci
retry), and once it is back the retried deliveries land exactly once.

Uses a control plane of its own (fixed port, data kept across a restart),
not the session's, since it stops and pauses it."""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client

from tests.support import controlplane
from tests.support.kube import apply_crds, close_client, new_client, poll, unique_name
from tests.support.operator import free_port
from tests.support.receiver import (
    DORA_DEPLOYMENT,
    WEBHOOK,
    Reply,
    RunningReceiver,
    encode,
    fixture_bytes,
    install_source,
    objects_of,
    pd_delivery,
    start_receiver,
    written,
)

ROOT = Path(__file__).resolve().parents[2]
T0 = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
API_TIMEOUT, DEADLINE = 1.0, 2.5


@dataclass
class Outage:
    """A control plane that can be paused, stopped and restarted, with a
    receiver in front of it."""

    workdir: Path
    port: int
    plane: controlplane.ControlPlane
    objects: client.CustomObjectsApi
    namespace: str
    receiver: RunningReceiver

    def pause(self) -> None:
        assert self.plane.process is not None
        self.plane.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        if self.plane.process is not None and self.plane.process.poll() is None:
            self.plane.process.send_signal(signal.SIGCONT)

    def stop(self) -> None:
        self.plane.stop()

    def restart(self) -> None:
        self.plane = controlplane.start(self.workdir, port=self.port, keep_data=True)

    def written(self) -> list[str]:
        return written(self.objects, self.namespace)


@pytest.fixture
def outage(tmp_path: Path) -> Iterator[Outage]:
    port = free_port()
    # A fixed port, so that a restart on the kept data is the same server to clients.
    plane = controlplane.start(tmp_path, port=port)
    api = new_client(plane.kubeconfig)
    receiver = None
    running: Outage | None = None
    try:
        apply_crds(api, sorted((ROOT / "crds").glob("*.kubedora.io.yaml")))
        core = client.CoreV1Api(api)
        objects = client.CustomObjectsApi(api)
        namespace = unique_name("outage")
        core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=namespace)))
        install_source(core, objects, namespace, default_env="prod")
        # The watched credentials stay in force through the outage: it hits
        # the writes.
        receiver = start_receiver(
            plane.kubeconfig, namespace, api_timeout=API_TIMEOUT, deadline=DEADLINE
        )
        running = Outage(tmp_path, port, plane, objects, namespace, receiver)
        yield running
    finally:
        if running is not None:
            # A paused process would not see the SIGTERM that stops it.
            running.resume()
        if receiver is not None:
            receiver.stop()
        close_client(api)
        # After a restart the running control plane is another process.
        (running.plane if running is not None else plane).stop()


def incident(kind: str, minute: int, event_id: str) -> bytes:
    at = T0 + timedelta(minutes=minute)
    return encode(pd_delivery(kind, "POUT01", at, created_at=T0, event_id=event_id))


TRIGGER = incident("incident.triggered", 0, "e1")
ACK = incident("incident.acknowledged", 2, "e2")
RESOLVE = incident("incident.resolved", 20, "e3")
DEPLOYMENT = fixture_bytes("datadog", "datadog-ci-deployment.json")


def deliver(receiver: RunningReceiver, path: str, body: bytes) -> Reply:
    return receiver.post(path, body, headers={"X-Webhook-Id": "same-on-every-retry"})


def assert_unavailable(reply: Reply) -> None:
    assert reply.status == 503, reply.body
    assert reply.headers["Retry-After"] == "5"
    (error,) = reply.json()["errors"]
    assert error["status"] == "503"
    assert "unavailable" in error["detail"]


def test_stopped_api_server_503_then_retries_land_exactly_once(outage: Outage) -> None:
    receiver = outage.receiver
    assert deliver(receiver, WEBHOOK, TRIGGER).status == 202

    outage.stop()
    pending = [(WEBHOOK, ACK), (WEBHOOK, RESOLVE), (DORA_DEPLOYMENT, DEPLOYMENT)]
    for path, body in pending:
        assert_unavailable(deliver(receiver, path, body))
    assert receiver.get("/readyz").status == 503
    assert receiver.get("/healthz").status == 200
    # A replica starting now cannot read the keys either: 503, not 403.
    cold = start_receiver(outage.plane.kubeconfig, outage.namespace, api_timeout=API_TIMEOUT)
    try:
        assert_unavailable(deliver(cold, WEBHOOK, ACK))
    finally:
        cold.stop()

    outage.restart()
    poll(lambda: receiver.get("/readyz").status == 200, what="readiness after the restart")
    # PagerDuty retries each 503'd delivery, maybe more than once.
    for _ in range(2):
        for path, body in pending:
            assert deliver(receiver, path, body).status == 202

    deployment, failure = outage.written()
    assert deployment.startswith("deployments/dd-checkout-")
    assert failure == "failures/pd-pout01"
    (stored,) = objects_of(outage.objects, outage.namespace, "failures")
    spec: dict[str, Any] = stored["spec"]
    assert [e["state"] for e in spec["timeline"]] == ["active", "resolved"]
    assert spec["state"] == "resolved"
    # Trigger, then the resolve; the ack and every repeat wrote nothing.
    assert stored["metadata"]["generation"] == 2
    assert receiver.metric(
        "kubedora_receiver_events_total",
        {"source": "pagerduty", "type": "incident.resolved", "outcome": "unavailable"},
    ) == pytest.approx(1)
    assert receiver.metric(
        "kubedora_receiver_requests_total", {"route": "/api/v2/webhook", "code": "503"}
    ) == pytest.approx(2)


def test_a_hanging_api_server_is_503_before_pagerduty_gives_up(outage: Outage) -> None:
    receiver = outage.receiver
    assert deliver(receiver, WEBHOOK, TRIGGER).status == 202
    outage.pause()
    try:
        started = time.monotonic()
        reply = deliver(receiver, WEBHOOK, RESOLVE)
        elapsed = time.monotonic() - started
    finally:
        outage.resume()
    assert_unavailable(reply)
    # PagerDuty waits 5 s; the answer comes within the receiver's deadline.
    assert elapsed < DEADLINE + 1.0

    assert deliver(receiver, WEBHOOK, RESOLVE).status == 202
    (stored,) = objects_of(outage.objects, outage.namespace, "failures")
    assert stored["spec"]["state"] == "resolved"
