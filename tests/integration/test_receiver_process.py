"""`kubedora receiver` as the pod runs it: a process of its own, JSON logs
that tie each line to a delivery and never show a key, probes and metrics."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client

from tests.support.dora import NOW
from tests.support.kube import poll
from tests.support.operator import free_port
from tests.support.processes import KUBEDORA
from tests.support.receiver import (
    API_KEY,
    WEBHOOK,
    encode,
    http_request,
    install_source,
    pd_delivery,
    written,
)

pytestmark = pytest.mark.usefixtures("crds")

WRONG_KEY = "not-the-key-but-still-secret-42"


def reachable(port: int) -> bool:
    try:
        return http_request(port, "GET", "/healthz", timeout=1).status == 200
    except OSError:
        return False


def test_serves_logs_json_and_counts(
    kubeconfig: Path,
    namespace: str,
    core_v1: client.CoreV1Api,
    custom_objects: client.CustomObjectsApi,
    tmp_path: Path,
) -> None:
    install_source(core_v1, custom_objects, namespace, default_env="prod")
    port = free_port()
    log_path = tmp_path / "receiver.log"
    environ = {**os.environ, "KUBECONFIG": str(kubeconfig)}
    command = [KUBEDORA, "receiver", "--namespace", namespace]
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [*command, "--port", str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=environ,
        )
    body = encode(pd_delivery("incident.triggered", "PPROC01", NOW, created_at=NOW))
    json_headers = {"Content-Type": "application/json"}
    try:
        poll(lambda: reachable(port), timeout=30, what="the receiver to listen")
        # Ready once its credentials are listed, as a readiness probe would wait.
        poll(
            lambda: http_request(port, "GET", "/readyz").status == 200,
            timeout=30,
            what="the receiver to be ready",
        )
        accepted = http_request(
            port, "POST", WEBHOOK, body, {**json_headers, "DD-API-KEY": API_KEY}
        )
        refused = http_request(
            port, "POST", WEBHOOK, body, {**json_headers, "DD-API-KEY": WRONG_KEY}
        )
        metrics = http_request(port, "GET", "/metrics").body.decode()
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=20)

    assert accepted.status == 202
    assert refused.status == 403
    assert process.returncode == 0
    assert written(custom_objects, namespace) == ["failures/pd-pproc01"]

    assert (
        'kubedora_receiver_events_total{outcome="created",source="pagerduty",'
        'type="incident.triggered"} 1.0' in metrics
    )
    assert 'kubedora_receiver_requests_total{code="403",route="/api/v2/webhook"} 1.0' in metrics
    assert (
        'kubedora_receiver_request_duration_seconds_bucket{le="0.5",route="/api/v2/webhook"}'
        in metrics
    )

    text = log_path.read_text()
    lines: list[dict[str, Any]] = [json.loads(line) for line in text.splitlines() if line]
    applied = next(line for line in lines if line["message"] == "event applied")
    assert applied["event_id"] == json.loads(body)["event"]["id"]
    assert applied["incident_id"] == "PPROC01"
    assert applied["failure"] == "pd-pproc01"
    assert applied["outcome"] == "created"
    assert applied["env"] == "prod"
    refusal = next(line for line in lines if line["message"] == "delivery refused")
    assert refusal["status"] == 403
    assert API_KEY not in text
    assert WRONG_KEY not in text
