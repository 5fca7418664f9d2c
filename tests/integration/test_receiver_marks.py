"""Marking deployments as change failures through the DORA API:
PATCH /api/v2/dora/deployments/{id} and PATCH /api/v2/dora/deployments."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import pytest
from kubernetes import client

from tests.support.receiver import (
    API_KEY,
    DORA_DEPLOYMENT,
    RunningReceiver,
    install_source,
    start_receiver,
)

pytestmark = pytest.mark.usefixtures("crds")

BY_ID = "/api/v2/dora/deployments/{}"
BY_VERSION = "/api/v2/dora/deployments"


@pytest.fixture
def receiver(
    kubeconfig: Path,
    namespace: str,
    core_v1: client.CoreV1Api,
    custom_objects: client.CustomObjectsApi,
) -> Iterator[RunningReceiver]:
    install_source(core_v1, custom_objects, namespace)
    running = start_receiver(kubeconfig, namespace)
    yield running
    running.stop()


def patch(
    receiver: RunningReceiver, path: str, attributes: dict[str, Any], api_key: str | None = API_KEY
) -> Any:
    headers = {"Content-Type": "application/json", **({"DD-API-KEY": api_key} if api_key else {})}
    body = json.dumps({"data": {"type": "dora_deployment", "attributes": attributes}}).encode()
    return receiver.request("PATCH", path, body, headers)


def deploy(receiver: RunningReceiver, version: str, finished: int, **extra: Any) -> str:
    attributes = {
        "service": "checkout",
        "env": "prod",
        "version": version,
        "started_at": finished - 60,
        "finished_at": finished,
        **extra,
    }
    reply = receiver.post(DORA_DEPLOYMENT, {"data": {"attributes": attributes}})
    assert reply.status == 202, reply.body
    name: str = reply.json()["data"]["id"]
    return name


def stored(api: client.CustomObjectsApi, namespace: str, name: str) -> dict[str, Any]:
    found = api.get_namespaced_custom_object(
        "kubedora.io", "v1alpha1", namespace, "deployments", name
    )
    return cast("dict[str, Any]", found)


def test_mark_by_id_and_by_version(
    receiver: RunningReceiver, custom_objects: client.CustomObjectsApi, namespace: str
) -> None:
    first = deploy(receiver, "1.0", 1_760_000_000, id="checkout-release-0001")
    fix = deploy(receiver, "1.1", 1_760_003_600)
    # By the id given in the POST, remediated by the id the POST answered.
    mark = {"change_failure": True, "remediation": {"id": fix, "type": "rollforward"}}
    reply = patch(receiver, BY_ID.format("checkout-release-0001"), mark)
    assert reply.status == 202, reply.body
    assert reply.json() == {"data": {"id": first, "type": "dora_deployment"}}
    marked = stored(custom_objects, namespace, first)
    assert marked["spec"]["changeFailure"] is True
    assert marked["spec"]["remediatedBy"] == fix
    assert marked["metadata"]["annotations"]["kubedora.io/change-failure-marked-by"] == "api"
    # Idempotent: the same PATCH again changes nothing (the generation counts
    # spec writes; an operator may be writing the status meanwhile).
    generation = marked["metadata"]["generation"]
    again = patch(receiver, BY_ID.format(first), mark)
    assert again.status == 202
    assert stored(custom_objects, namespace, first)["metadata"]["generation"] == generation

    # By service, env and version; the remediation by version; then back to stable.
    by_version = {
        "service": "checkout",
        "env": "prod",
        "version": "1.1",
        "change_failure": True,
        "remediation": {"version": "1.0", "type": "rollback"},
    }
    reply = patch(receiver, BY_VERSION, by_version)
    assert reply.status == 202, reply.body
    assert stored(custom_objects, namespace, fix)["spec"]["remediatedBy"] == first
    stable = patch(
        receiver, BY_VERSION, {**by_version, "change_failure": False, "remediation": None}
    )
    assert stable.status == 202, stable.body
    spec = stored(custom_objects, namespace, fix)["spec"]
    assert spec["changeFailure"] is False
    assert "remediatedBy" not in spec


def test_unknown_deployments_are_404_and_nothing_is_written(
    receiver: RunningReceiver, custom_objects: client.CustomObjectsApi, namespace: str
) -> None:
    name = deploy(receiver, "1.0", 1_760_000_000)
    before = stored(custom_objects, namespace, name)["metadata"]["generation"]
    reply = patch(receiver, BY_ID.format("no-such-deployment-id"), {"change_failure": True})
    assert reply.status == 404
    assert reply.json()["errors"][0]["status"] == "404"
    reply = patch(
        receiver,
        BY_VERSION,
        {"service": "checkout", "env": "prod", "version": "9.9", "change_failure": True},
    )
    assert reply.status == 404
    listed = cast(
        "dict[str, Any]",
        custom_objects.list_namespaced_custom_object(
            "kubedora.io", "v1alpha1", namespace, "deployments"
        ),
    )
    assert [item["metadata"]["name"] for item in listed["items"]] == [name]
    assert stored(custom_objects, namespace, name)["metadata"]["generation"] == before


def test_marks_are_authenticated_and_validated(
    receiver: RunningReceiver, custom_objects: client.CustomObjectsApi, namespace: str
) -> None:
    name = deploy(receiver, "1.0", 1_760_000_000)
    assert patch(receiver, BY_ID.format(name), {"change_failure": True}, api_key=None).status == 401
    assert patch(
        receiver, BY_ID.format(name), {"change_failure": True}, api_key="wrong"
    ).status in (
        401,
        403,
    )
    bad = patch(receiver, BY_ID.format(name), {"change_failure": "maybe"})
    assert bad.status == 400
    assert "change_failure" in bad.json()["errors"][0]["detail"]
    both = patch(
        receiver,
        BY_ID.format(name),
        {"change_failure": True, "remediation": {"id": name, "version": "1.0"}},
    )
    assert both.status == 400
    assert (
        "spec" not in stored(custom_objects, namespace, name)
        or "changeFailure" not in stored(custom_objects, namespace, name)["spec"]
    )
