"""Rollouts of annotated workloads become kubedora Deployments: real
kube-controller-manager rollouts (kubectl set image, rollout undo, scale),
a real operator process, restarts in the middle of a rollout."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import pytest
from kubernetes import client

from tests.integration.test_controllers import KUBECTL, NEVER_READY, apply, kubectl, ok
from tests.support.kube import poll
from tests.support.operator import OperatorProcess, start_operator
from tests.support.receiver import API_KEY, GROUP, VERSION, objects_of, put_secret, start_receiver

pytestmark = [
    pytest.mark.usefixtures("crds"),
    pytest.mark.skipif(KUBECTL is None, reason="kubectl is not installed"),
]

SHA1 = "1111111aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
SHA2 = "2222222bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
# The acceptance bound: recorded within this long of `kubectl rollout status`.
RECORDED_WITHIN = 10.0


def parse(moment: str) -> datetime:
    return datetime.fromisoformat(moment.replace("Z", "+00:00"))


def workload(kind: str, name: str, image: str, **spec: Any) -> dict[str, Any]:
    labels = {"app": name}
    body: dict[str, Any] = {
        "apiVersion": "apps/v1",
        "kind": kind,
        "metadata": {
            "name": name,
            "annotations": {
                "kubedora.io/service": "checkout",
                "kubedora.io/team": "shop",
                "kubedora.io/env": "prod",
            },
        },
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {
                    "labels": labels,
                    "annotations": {"kubedora.io/git-commit-sha": SHA1},
                },
                "spec": {"containers": [{"name": "web", "image": image}]},
            },
            **spec,
        },
    }
    if kind == "StatefulSet":
        body["spec"]["serviceName"] = name
    return body


def recorded(custom_objects: client.CustomObjectsApi, namespace: str) -> list[dict[str, Any]]:
    """The rollouts recorded in the namespace, in revision order."""
    found = [
        item
        for item in objects_of(custom_objects, namespace, "deployments")
        if item["spec"].get("source") == "kubernetes"
    ]
    return sorted(found, key=lambda item: revision(item))


def revision(item: dict[str, Any]) -> int:
    tag = next(t for t in item["spec"]["customTags"] if t.startswith("k8s_revision:"))
    return int(tag.split(":", 1)[1])


def wait_for_records(
    custom_objects: client.CustomObjectsApi, namespace: str, count: int, timeout: float = 60.0
) -> list[dict[str, Any]]:
    def probe() -> list[dict[str, Any]] | None:
        found = recorded(custom_objects, namespace)
        assert len(found) <= count, [item["spec"] for item in found]
        return found if len(found) == count else None

    return poll(probe, timeout=timeout, interval=0.2, what=f"{count} recorded rollouts")


def rollout(kubeconfig: Path, namespace: str, target: str) -> datetime:
    """`kubectl rollout status` to success; the moment it returned."""
    ok(kubectl(kubeconfig, namespace, "rollout", "status", target, "--timeout=120s"))
    return datetime.now(UTC)


@pytest.fixture
def apps_v1(api_client: client.ApiClient) -> client.AppsV1Api:
    return client.AppsV1Api(api_client)


@pytest.fixture
def operator_in(
    kubeconfig: Path, namespace: str, tmp_path: Path
) -> Iterator[list[OperatorProcess]]:
    """`kubedora operator --namespace NS`, restartable: the list holds the
    running one last."""
    running = [start_operator(kubeconfig, tmp_path / "operator-0.log", "--namespace", namespace)]
    yield running
    for process in running:
        process.stop()


def restart(operators: list[OperatorProcess], kubeconfig: Path, namespace: str, tmp: Path) -> None:
    operators[-1].stop()
    log = tmp / f"operator-{len(operators)}.log"
    operators.append(start_operator(kubeconfig, log, "--namespace", namespace))


def test_set_image_records_one_deployment_scaling_and_metadata_none(
    kubeconfig: Path,
    namespace: str,
    custom_objects: client.CustomObjectsApi,
    apps_v1: client.AppsV1Api,
    operator_in: list[OperatorProcess],
) -> None:
    apply(kubeconfig, namespace, workload("Deployment", "web", "example.test/web:1.0"))
    rollout(kubeconfig, namespace, "deployment/web")
    (first,) = wait_for_records(custom_objects, namespace, 1)
    assert first["spec"]["version"] == "1.0"

    ok(kubectl(kubeconfig, namespace, "set", "image", "deployment/web", "web=example.test/web:1.1"))
    done = rollout(kubeconfig, namespace, "deployment/web")
    second = poll(
        lambda: next((r for r in recorded(custom_objects, namespace) if revision(r) == 2), None),
        timeout=RECORDED_WITHIN,
        interval=0.1,
        what="the rollout of web:1.1",
    )
    spec = second["spec"]
    assert (spec["service"], spec["team"], spec["env"]) == ("checkout", "shop", "prod")
    assert (spec["version"], spec["outcome"]) == ("1.1", "succeeded")
    assert spec["git"] == {"commitSha": SHA1}
    metas = [
        cast("client.V1ObjectMeta", rs.metadata)
        for rs in apps_v1.list_namespaced_replica_set(namespace).items
    ]
    new_rs = next(
        meta
        for meta in metas
        if (meta.annotations or {}).get("deployment.kubernetes.io/revision") == "2"
    )
    assert parse(spec["startedAt"]) == new_rs.creation_timestamp
    finished = parse(spec["finishedAt"])
    assert parse(spec["startedAt"]) <= finished <= done
    assert (done - finished).total_seconds() < RECORDED_WITHIN
    assert second["metadata"]["namespace"] == namespace

    # Scaling and metadata are no deployments; the next image is.
    ok(kubectl(kubeconfig, namespace, "scale", "deployment/web", "--replicas=3"))
    rollout(kubeconfig, namespace, "deployment/web")
    ok(kubectl(kubeconfig, namespace, "label", "deployment/web", "tier=frontend"))
    ok(kubectl(kubeconfig, namespace, "annotate", "deployment/web", "note=hello"))
    ok(kubectl(kubeconfig, namespace, "set", "image", "deployment/web", "web=example.test/web:1.2"))
    rollout(kubeconfig, namespace, "deployment/web")
    records = wait_for_records(custom_objects, namespace, 3)
    assert [r["spec"]["version"] for r in records] == ["1.0", "1.1", "1.2"]


def test_rollout_undo_records_the_older_version(
    kubeconfig: Path,
    namespace: str,
    custom_objects: client.CustomObjectsApi,
    operator_in: list[OperatorProcess],
) -> None:
    apply(kubeconfig, namespace, workload("Deployment", "web", "example.test/web:1.0"))
    rollout(kubeconfig, namespace, "deployment/web")
    ok(kubectl(kubeconfig, namespace, "set", "image", "deployment/web", "web=example.test/web:2.0"))
    rollout(kubeconfig, namespace, "deployment/web")
    wait_for_records(custom_objects, namespace, 2)
    ok(kubectl(kubeconfig, namespace, "rollout", "undo", "deployment/web"))
    rollout(kubeconfig, namespace, "deployment/web")
    records = wait_for_records(custom_objects, namespace, 3)
    assert [r["spec"]["version"] for r in records] == ["1.0", "2.0", "1.0"]
    undo, before = records[2]["spec"], records[1]["spec"]
    # The reused ReplicaSet is old; the rollback began after the 2.0 rollout.
    assert parse(undo["startedAt"]) >= parse(before["finishedAt"])


def test_a_rollout_past_its_deadline_is_one_failed_deployment(
    kubeconfig: Path,
    namespace: str,
    custom_objects: client.CustomObjectsApi,
    operator_in: list[OperatorProcess],
) -> None:
    manifest = workload("Deployment", "web", "example.test/web:1.0", progressDeadlineSeconds=3)
    apply(kubeconfig, namespace, manifest)
    rollout(kubeconfig, namespace, "deployment/web")
    wait_for_records(custom_objects, namespace, 1)
    bad = f"web=example.test/web-{NEVER_READY}:2.0"
    ok(kubectl(kubeconfig, namespace, "set", "image", "deployment/web", bad))
    failed = kubectl(kubeconfig, namespace, "rollout", "status", "deployment/web", "--timeout=90s")
    assert failed.returncode != 0
    records = wait_for_records(custom_objects, namespace, 2)
    spec = records[1]["spec"]
    assert (spec["outcome"], spec["outcomeReason"]) == ("failed", "ProgressDeadlineExceeded")
    assert spec["version"] == "2.0"
    # It stays one record while the Deployment sits past its deadline.
    ok(kubectl(kubeconfig, namespace, "annotate", "deployment/web", "poke=1"))
    ok(kubectl(kubeconfig, namespace, "set", "image", "deployment/web", "web=example.test/web:3.0"))
    rollout(kubeconfig, namespace, "deployment/web")
    assert [r["spec"]["outcome"] for r in wait_for_records(custom_objects, namespace, 3)] == [
        "succeeded",
        "failed",
        "succeeded",
    ]


@pytest.mark.parametrize("kind", ["Deployment", "StatefulSet"])
def test_a_restart_in_the_middle_of_a_rollout_records_it_once(
    kind: str,
    kubeconfig: Path,
    namespace: str,
    tmp_path: Path,
    custom_objects: client.CustomObjectsApi,
    apps_v1: client.AppsV1Api,
    operator_in: list[OperatorProcess],
) -> None:
    # minReadySeconds keeps each pod unavailable for a while: a slow rollout.
    target = f"{kind.lower()}/web"
    apply(kubeconfig, namespace, workload(kind, "web", "example.test/web:1.0", minReadySeconds=5))
    rollout(kubeconfig, namespace, target)
    wait_for_records(custom_objects, namespace, 1)
    ok(kubectl(kubeconfig, namespace, "set", "image", target, "web=example.test/web:2.0"))

    def in_progress() -> bool:
        read = apps_v1.read_namespaced_deployment if kind == "Deployment" else None
        body = (read or apps_v1.read_namespaced_stateful_set)("web", namespace)
        status: Any = body.status
        generation = cast("client.V1ObjectMeta", body.metadata).generation
        complete = (status.updated_replicas, status.available_replicas, status.replicas) == (
            2,
            2,
            2,
        )
        return status.observed_generation == generation and not complete

    poll(in_progress, timeout=30, what="the rollout under way")
    restart(operator_in, kubeconfig, namespace, tmp_path)
    rollout(kubeconfig, namespace, target)
    try:
        records = wait_for_records(custom_objects, namespace, 2)
    except AssertionError:
        print(ok(kubectl(kubeconfig, namespace, "get", target, "-o", "yaml")))
        print(ok(kubectl(kubeconfig, namespace, "get", "controllerrevisions", "-o", "yaml")))
        print(operator_in[-1].log()[-8000:])
        raise
    assert [r["spec"]["version"] for r in records] == ["1.0", "2.0"]
    # Once more, after it completed: the restarted operator re-lists, finds
    # both recorded, and records only what is new.
    restart(operator_in, kubeconfig, namespace, tmp_path)
    ok(kubectl(kubeconfig, namespace, "set", "image", target, "web=example.test/web:3.0"))
    rollout(kubeconfig, namespace, target)
    records = wait_for_records(custom_objects, namespace, 3)
    assert [r["spec"]["version"] for r in records] == ["1.0", "2.0", "3.0"]


def test_a_statefulset_set_image_scale_and_undo(
    kubeconfig: Path,
    namespace: str,
    custom_objects: client.CustomObjectsApi,
    operator_in: list[OperatorProcess],
) -> None:
    apply(kubeconfig, namespace, workload("StatefulSet", "db", "example.test/db:1.0"))
    rollout(kubeconfig, namespace, "statefulset/db")
    wait_for_records(custom_objects, namespace, 1)
    ok(kubectl(kubeconfig, namespace, "set", "image", "statefulset/db", "web=example.test/db:1.1"))
    done = rollout(kubeconfig, namespace, "statefulset/db")
    second = poll(
        lambda: next((r for r in recorded(custom_objects, namespace) if revision(r) == 2), None),
        timeout=RECORDED_WITHIN,
        interval=0.1,
        what="the StatefulSet's rollout of db:1.1",
    )["spec"]
    assert (second["service"], second["version"]) == ("checkout", "1.1")
    assert parse(second["startedAt"]) <= parse(second["finishedAt"])
    assert abs((parse(second["finishedAt"]) - done).total_seconds()) < RECORDED_WITHIN
    ok(kubectl(kubeconfig, namespace, "scale", "statefulset/db", "--replicas=3"))
    rollout(kubeconfig, namespace, "statefulset/db")
    ok(kubectl(kubeconfig, namespace, "rollout", "undo", "statefulset/db"))
    rollout(kubeconfig, namespace, "statefulset/db")
    records = wait_for_records(custom_objects, namespace, 3)
    assert [r["spec"]["version"] for r in records] == ["1.0", "1.1", "1.0"]


def test_a_flux_event_and_the_rollout_it_caused_count_once(
    kubeconfig: Path,
    namespace: str,
    core_v1: client.CoreV1Api,
    custom_objects: client.CustomObjectsApi,
    operator_in: list[OperatorProcess],
) -> None:
    put_secret(core_v1, namespace, "api-keys", {"ci": API_KEY})
    custom_objects.create_namespaced_custom_object(
        GROUP,
        VERSION,
        namespace,
        "dorasources",
        {
            "apiVersion": f"{GROUP}/{VERSION}",
            "kind": "DoraSource",
            "metadata": {"name": "prod"},
            "spec": {"apiKeySecretRef": {"name": "api-keys"}},
        },
    )
    apply(kubeconfig, namespace, workload("Deployment", "web", "example.test/web:1.0"))
    rollout(kubeconfig, namespace, "deployment/web")
    wait_for_records(custom_objects, namespace, 1)
    # Flux applies the commit SHA2: the template changes, the rollout follows.
    patch = {
        "spec": {
            "template": {
                "metadata": {"annotations": {"kubedora.io/git-commit-sha": SHA2}},
                "spec": {"containers": [{"name": "web", "image": "example.test/web:2.0"}]},
            }
        }
    }
    ok(kubectl(kubeconfig, namespace, "patch", "deployment/web", "-p", json.dumps(patch)))
    rollout(kubeconfig, namespace, "deployment/web")
    wait_for_records(custom_objects, namespace, 2)
    event = {
        "involvedObject": {"kind": "Kustomization", "name": "shop", "namespace": "flux-system"},
        "severity": "info",
        "timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "reason": "ReconciliationSucceeded",
        "message": "Reconciliation finished in 1.5s, next run in 10m0s",
        "metadata": {"revision": f"main@sha1:{SHA2}", "service": "checkout", "env": "prod"},
        "reportingController": "kustomize-controller",
    }
    receiver = start_receiver(kubeconfig, namespace)
    try:
        assert receiver.post("/hooks/flux", event).status == 202
    finally:
        receiver.stop()
    stored = objects_of(custom_objects, namespace, "deployments")
    assert sorted(d["spec"]["source"] for d in stored) == ["flux", "kubernetes", "kubernetes"]

    def summary() -> dict[str, Any] | None:
        found = cast(
            "dict[str, Any]",
            custom_objects.get_namespaced_custom_object(
                GROUP, VERSION, namespace, "dorasources", "prod"
            ),
        )
        figures: dict[str, Any] = (found.get("status") or {}).get("summary") or {}
        # Three records, two deployments: the Flux reconcile and its rollout are one.
        return figures if figures.get("deployments") == 2 else None

    figures = poll(summary, timeout=60, interval=0.3, what="the scoreboard")
    assert figures["deploymentsPerDay"] == pytest.approx(2 / 30)
    assert figures["deploymentFrequency"] == "medium"
    status = cast(
        "dict[str, Any]",
        custom_objects.get_namespaced_custom_object(
            GROUP, VERSION, namespace, "dorasources", "prod"
        ),
    )["status"]
    row = next(
        r for r in status["breakdown"] if (r["dimension"], r["key"]) == ("service", "checkout")
    )
    assert (row["deployments"], row["deploymentFrequency"]) == (2, "medium")
    assert row["deploymentsPerDay"] == pytest.approx(2 / 30)
    assert status["display"]["deploymentFrequency"] == "medium (2/month)"


def test_a_daemonset_rollout_is_recorded(
    kubeconfig: Path,
    namespace: str,
    custom_objects: client.CustomObjectsApi,
    operator_in: list[OperatorProcess],
) -> None:
    manifest = workload("DaemonSet", "agent", "example.test/agent:7.0")
    del manifest["spec"]["replicas"]
    apply(kubeconfig, namespace, manifest)
    rollout(kubeconfig, namespace, "daemonset/agent")
    wait_for_records(custom_objects, namespace, 1)
    ok(
        kubectl(
            kubeconfig, namespace, "set", "image", "daemonset/agent", "web=example.test/agent:7.1"
        )
    )
    rollout(kubeconfig, namespace, "daemonset/agent")
    records = wait_for_records(custom_objects, namespace, 2)
    assert [r["spec"]["version"] for r in records] == ["7.0", "7.1"]
