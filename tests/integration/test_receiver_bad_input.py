"""Every refusal: a clear error in the Datadog shape, and nothing written."""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client

from kubedora.receiver.auth import sign
from tests.support.receiver import (
    API_KEY,
    DORA_DEPLOYMENT,
    DORA_FAILURE,
    WEBHOOK,
    Reply,
    RunningReceiver,
    encode,
    fixture_bytes,
    install_source,
    pd_delivery,
    start_receiver,
    written,
)

pytestmark = pytest.mark.usefixtures("crds")

SIGNING_SECRET = "whsec-test-0123456789"
T0 = datetime(2026, 2, 1, 9, 0, tzinfo=UTC)
TRIGGER = encode(pd_delivery("incident.triggered", "PBAD01", T0, created_at=T0))
DEPLOYMENT = fixture_bytes("datadog", "datadog-ci-deployment.json")
FAILURE = fixture_bytes("datadog", "api-reference-failure.json")
VALID = {WEBHOOK: TRIGGER, DORA_DEPLOYMENT: DEPLOYMENT, DORA_FAILURE: FAILURE}
SIGNED = {"X-PagerDuty-Signature": sign(TRIGGER, SIGNING_SECRET.encode())}


def attributes(**overrides: Any) -> bytes:
    base: dict[str, Any] = json.loads(DEPLOYMENT)
    base["data"]["attributes"].update(overrides)
    return json.dumps(base).encode()


def event(**overrides: Any) -> bytes:
    base: dict[str, Any] = json.loads(TRIGGER)
    base["event"].update(overrides)
    return json.dumps(base).encode()


@pytest.fixture
def receiver(
    kubeconfig: Path,
    namespace: str,
    core_v1: client.CoreV1Api,
    custom_objects: client.CustomObjectsApi,
) -> Iterator[RunningReceiver]:
    install_source(core_v1, custom_objects, namespace, signing_secrets={"current": SIGNING_SECRET})
    # One that enables only the Datadog API, with a key of its own.
    install_source(
        core_v1,
        custom_objects,
        namespace,
        name="api-only",
        api_keys={"ci": "api-only-key-0123"},
        sources=("api",),
    )
    running = start_receiver(kubeconfig, namespace)
    yield running
    running.stop()


def signature_for(path: str, body: bytes, mode: str) -> dict[str, str]:
    """Deliveries are signed correctly unless a case says otherwise, so that
    each refusal is about what the case changed."""
    if path != WEBHOOK or mode == "none":
        return {}
    signed = TRIGGER if mode == "original" else body
    return {"X-PagerDuty-Signature": sign(signed, SIGNING_SECRET.encode())}


def assert_error(reply: Reply, status: int, detail: str) -> None:
    assert reply.status == status, reply.body
    assert reply.headers["Content-Type"].startswith("application/json")
    (error,) = reply.json()["errors"]
    assert error["status"] == str(status)
    assert error["title"]
    assert detail in error["detail"], error["detail"]


CASES = [
    # Authentication.
    pytest.param(WEBHOOK, TRIGGER, {"api_key": None}, 401, "missing DD-API-KEY", id="pd-no-key"),
    pytest.param(WEBHOOK, TRIGGER, {"api_key": "nope"}, 403, "not accepted", id="pd-wrong-key"),
    pytest.param(
        WEBHOOK,
        TRIGGER,
        {"api_key": "api-only-key-0123"},
        403,
        "no DoraSource that accepts this DD-API-KEY enables the pagerduty source",
        id="pd-key-of-a-source-without-pagerduty",
    ),
    pytest.param(
        DORA_DEPLOYMENT, DEPLOYMENT, {"api_key": None}, 401, "missing", id="deploy-no-key"
    ),
    pytest.param(
        DORA_FAILURE,
        FAILURE,
        {"api_key": API_KEY.upper()},
        403,
        "not accepted",
        id="fail-wrong-key",
    ),
    # Signatures (the key is right).
    pytest.param(
        WEBHOOK, TRIGGER, {"sign": "none"}, 401, "X-PagerDuty-Signature", id="pd-unsigned"
    ),
    pytest.param(
        WEBHOOK,
        TRIGGER.replace(b"PBAD01", b"PBAD02"),
        {"sign": "original"},
        403,
        "does not match",
        id="pd-tampered-body",
    ),
    pytest.param(
        WEBHOOK,
        TRIGGER,
        {"headers": {"X-PagerDuty-Signature": sign(TRIGGER, b"another-secret")}},
        403,
        "does not match",
        id="pd-signed-with-another-secret",
    ),
    # Content type.
    pytest.param(WEBHOOK, TRIGGER, {"content_type": "text/plain"}, 415, "text/plain", id="pd-text"),
    pytest.param(
        DORA_DEPLOYMENT,
        DEPLOYMENT,
        {"content_type": "application/x-www-form-urlencoded"},
        415,
        "application/json",
        id="deploy-curl-d-default",
    ),
    pytest.param(DORA_FAILURE, FAILURE, {"content_type": None}, 415, "none", id="fail-no-type"),
    # Size.
    pytest.param(
        WEBHOOK, b"{" + b" " * (256 * 1024) + b"}", {}, 413, "at most 262144", id="pd-too-big"
    ),
    # Malformed JSON, wrong types, missing fields.
    pytest.param(WEBHOOK, b'{"event": ', {}, 400, "not valid JSON", id="pd-malformed"),
    pytest.param(WEBHOOK, b"[1, 2]", {}, 400, "object", id="pd-not-an-object"),
    pytest.param(WEBHOOK, event(occurred_at=12), {}, 400, "event.occurred_at", id="pd-wrong-type"),
    pytest.param(WEBHOOK, event(id=None), {}, 400, "event.id", id="pd-no-event-id"),
    pytest.param(
        WEBHOOK,
        event(data={"type": "incident", "status": "triggered"}),
        {},
        400,
        "event.data.id",
        id="pd-incident-without-id",
    ),
    pytest.param(DORA_DEPLOYMENT, b"{", {}, 400, "not valid JSON", id="deploy-malformed"),
    pytest.param(
        DORA_DEPLOYMENT,
        attributes(service=None),
        {},
        400,
        "data.attributes.service",
        id="deploy-no-service",
    ),
    pytest.param(
        DORA_DEPLOYMENT,
        attributes(started_at="yesterday"),
        {},
        400,
        "data.attributes.started_at",
        id="deploy-string-time",
    ),
    pytest.param(
        DORA_DEPLOYMENT,
        attributes(finished_at=1),
        {},
        400,
        "finished_at must not be before started_at",
        id="deploy-finished-before-started",
    ),
    pytest.param(
        DORA_DEPLOYMENT,
        attributes(custom_tags=["no-colon"]),
        {},
        400,
        "data.attributes.custom_tags.0",
        id="deploy-bad-tag",
    ),
    pytest.param(
        DORA_FAILURE,
        json.dumps({"data": {"attributes": {"started_at": 1699960648}}}).encode(),
        {},
        400,
        "services or team is required",
        id="fail-no-services-no-team",
    ),
    pytest.param(
        DORA_FAILURE,
        json.dumps({"attributes": {"services": ["a"], "started_at": 1}}).encode(),
        {},
        400,
        "data: Field required",
        id="fail-no-envelope",
    ),
]


@pytest.mark.parametrize(("path", "body", "how", "status", "detail"), CASES)
def test_refused_and_nothing_written(
    receiver: RunningReceiver,
    custom_objects: client.CustomObjectsApi,
    namespace: str,
    path: str,
    body: bytes,
    how: dict[str, Any],
    status: int,
    detail: str,
) -> None:
    headers = {**signature_for(path, body, how.get("sign", "body")), **how.get("headers", {})}
    reply = receiver.post(
        path,
        body,
        api_key=how.get("api_key", API_KEY),
        content_type=how.get("content_type", "application/json"),
        headers=headers,
    )
    assert_error(reply, status, detail)
    assert written(custom_objects, namespace) == []


def test_the_valid_versions_of_those_bodies_are_accepted(
    receiver: RunningReceiver, custom_objects: client.CustomObjectsApi, namespace: str
) -> None:
    # The refusals above are about what was changed, not about these bodies.
    for path, body in VALID.items():
        headers = SIGNED if path == WEBHOOK else {}
        assert receiver.post(path, body, headers=headers).status == 202
    assert len(written(custom_objects, namespace)) == 3


def test_a_chunked_body_over_the_limit_is_413(
    receiver: RunningReceiver, custom_objects: client.CustomObjectsApi, namespace: str
) -> None:
    # No Content-Length: the limit is enforced while reading.
    chunk = b" " * 65536
    connection = http.client.HTTPConnection("127.0.0.1", receiver.port, timeout=30)
    try:
        connection.request(
            "POST",
            DORA_DEPLOYMENT,
            body=iter([b"{", *([chunk] * 5), b"}"]),
            headers={"Content-Type": "application/json", "DD-API-KEY": API_KEY},
            encode_chunked=True,
        )
        response = connection.getresponse()
        reply = Reply(response.status, dict(response.getheaders()), response.read())
    finally:
        connection.close()
    assert_error(reply, 413, "over 262144 bytes")
    assert written(custom_objects, namespace) == []


def test_no_dorasource_enabling_the_source_is_403(
    kubeconfig: Path,
    namespace: str,
    core_v1: client.CoreV1Api,
    custom_objects: client.CustomObjectsApi,
) -> None:
    install_source(core_v1, custom_objects, namespace, sources=("api",))
    running = start_receiver(kubeconfig, namespace)
    try:
        reply = running.post(WEBHOOK, TRIGGER)
    finally:
        running.stop()
    # The key is right, so the caller may learn why it is refused.
    assert_error(reply, 403, "accepts this DD-API-KEY enables the pagerduty source")
    assert written(custom_objects, namespace) == []


def test_no_dorasource_at_all_answers_as_a_wrong_key_does(
    kubeconfig: Path, namespace: str, custom_objects: client.CustomObjectsApi
) -> None:
    running = start_receiver(kubeconfig, namespace)
    try:
        replies = [running.post(path, body) for path, body in VALID.items()]
    finally:
        running.stop()
    for reply in replies:
        # An unauthenticated caller learns nothing of what the namespace holds.
        assert_error(reply, 403, "DD-API-KEY is not accepted")
    assert written(custom_objects, namespace) == []


def test_other_methods_and_paths(receiver: RunningReceiver) -> None:
    assert receiver.request("GET", WEBHOOK).status == 405
    assert receiver.post("/api/v2/unknown", TRIGGER).status == 404


def test_refusals_are_counted_by_route_and_code(receiver: RunningReceiver) -> None:
    receiver.post(WEBHOOK, TRIGGER, api_key=None)
    receiver.post(DORA_FAILURE, b"{", headers={})
    assert receiver.metric(
        "kubedora_receiver_requests_total", {"route": "/api/v2/webhook", "code": "401"}
    ) == pytest.approx(1)
    assert receiver.metric(
        "kubedora_receiver_requests_total", {"route": "/api/v2/dora/failure", "code": "400"}
    ) == pytest.approx(1)
    assert receiver.metric(
        "kubedora_receiver_events_total",
        {"source": "api", "type": "dora_failure", "outcome": "invalid"},
    ) == pytest.approx(1)
