"""A new Failure costs one write, its status; a restart over Failures whose
status is already current writes nothing: no status patch, no annotation, no
finalizer, not even a patch that changes nothing (the API server's own
request counters would show it)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import pytest
from kubernetes import client

from tests.support import controlplane
from tests.support.dora import GROUP, VERSION, ago, create, rfc3339, timeline
from tests.support.kube import apply_crds, close_client, new_client, poll, unique_name
from tests.support.operator import start_operator
from tests.support.writes import api_server_writes, resource_versions

ROOT = Path(__file__).resolve().parents[2]
COUNT = 50
LISTED = f"failures listed: {COUNT}, of which 0 need their status written"


@pytest.fixture(scope="module")
def plane(tmp_path_factory: pytest.TempPathFactory) -> Iterator[controlplane.ControlPlane]:
    # A control plane of its own: the session's operator serves every
    # namespace and would write to these objects too, and the API server's
    # request counters are per cluster.
    if controlplane.existing() is not None:
        pytest.skip("needs a private control plane")
    running = controlplane.start(tmp_path_factory.mktemp("restart"))
    yield running
    running.stop()


@pytest.fixture(scope="module")
def api(plane: controlplane.ControlPlane) -> Iterator[client.ApiClient]:
    api = new_client(plane.kubeconfig)
    apply_crds(api, sorted((ROOT / "crds").glob("*.kubedora.io.yaml")))
    yield api
    close_client(api)


def spec_of(i: int) -> dict[str, Any]:
    """Every way a Failure's status comes about: a finish time, a state the
    operator keeps a timeline for, a timeline of the sender's, still open."""
    started = ago(hours=i + 2)
    base: dict[str, Any] = {"services": [f"service-{i % 7}"], "team": f"team-{i % 3}"}
    match i % 4:
        case 0:
            return {**base, "startedAt": rfc3339(started), "finishedAt": rfc3339(ago(hours=i + 1))}
        case 1:
            return {**base, "startedAt": rfc3339(started), "state": "stable"}
        case 2:
            entries = timeline(("active", started), ("resolved", ago(hours=i + 1)))
            return {**base, "startedAt": rfc3339(started), "timeline": entries}
        case _:
            return {**base, "startedAt": rfc3339(started)}


def all_current(objects: client.CustomObjectsApi, namespace: str) -> bool:
    listed = cast(
        "dict[str, Any]",
        objects.list_namespaced_custom_object(GROUP, VERSION, namespace, "failures"),
    )
    items = listed["items"]
    return len(items) == COUNT and all(
        (item.get("status") or {}).get("observedGeneration") == item["metadata"]["generation"]
        and (item.get("status") or {}).get("state")
        for item in items
    )


def test_a_restart_over_current_failures_writes_nothing(
    plane: controlplane.ControlPlane, api: client.ApiClient, tmp_path: Path
) -> None:
    core, objects = client.CoreV1Api(api), client.CustomObjectsApi(api)
    namespace = unique_name("restart")
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=namespace)))
    for i in range(COUNT):
        create(objects, namespace, "Failure", f"f{i:03d}", spec_of(i))
    args = ("--namespace", namespace, "--standalone")

    first = start_operator(plane.kubeconfig, tmp_path / "first.log", *args)
    try:
        poll(lambda: all_current(objects, namespace), timeout=60, what="every status")
    finally:
        # A graceful stop lets in-flight patches land before we count.
        first.stop()
    writes = api_server_writes(api, "failures")
    versions = resource_versions(objects, namespace, "failures")
    # A new object costs one write: its status, with no annotation patch.
    assert (writes["status"], writes[""]) == (COUNT, 0), first.log()

    second = start_operator(plane.kubeconfig, tmp_path / "second.log", *args)
    try:
        poll(
            lambda: LISTED in second.log(),
            timeout=60,
            what=f"the operator to list {COUNT} failures and find them current",
        )
    finally:
        second.stop()
    assert api_server_writes(api, "failures") == writes, second.log()
    assert resource_versions(objects, namespace, "failures") == versions
