"""The local control plane runs the built-in controllers, a scheduler and
simulated kubelets: apps/v1 rollouts, rollbacks and progress deadlines,
StatefulSets, namespace deletion and garbage collection behave as on a real
cluster. What kubectl does is checked with kubectl."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any, cast

import pytest
import yaml
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from tests.support.kube import poll, unique_name

KUBECTL = shutil.which("kubectl")
pytestmark = pytest.mark.skipif(KUBECTL is None, reason="kubectl is not installed")

# An image whose name contains this runs but never becomes Ready (see the
# README's "The local control plane").
NEVER_READY = "never-ready"
ROLLOUT_TIMEOUT = "--timeout=90s"


def kubectl(
    kubeconfig: Path, namespace: str, *args: str, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    assert KUBECTL is not None
    return subprocess.run(
        [KUBECTL, "--kubeconfig", str(kubeconfig), "--namespace", namespace, *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, f"{result.args}: {result.stdout}{result.stderr}"
    return result.stdout


def rollout_status(kubeconfig: Path, namespace: str, target: str) -> str:
    """`kubectl rollout status`, which must succeed."""
    return ok(kubectl(kubeconfig, namespace, "rollout", "status", target, ROLLOUT_TIMEOUT))


def apply(kubeconfig: Path, namespace: str, manifest: dict[str, Any]) -> None:
    ok(kubectl(kubeconfig, namespace, "apply", "-f", "-", stdin=yaml.safe_dump(manifest)))


def web_deployment(name: str, image: str, **spec: Any) -> dict[str, Any]:
    labels = {"app": name}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{"name": "web", "image": image}]},
            },
            **spec,
        },
    }


def replica_sets(apps: client.AppsV1Api, namespace: str, app: str) -> list[client.V1ReplicaSet]:
    return apps.list_namespaced_replica_set(namespace, label_selector=f"app={app}").items


def image_of(replica_set: client.V1ReplicaSet) -> str:
    template = cast("client.V1PodTemplateSpec", replica_set.spec.template)
    pod_spec = cast("client.V1PodSpec", template.spec)
    return cast(str, pod_spec.containers[0].image)


def replicas_by_image(apps: client.AppsV1Api, namespace: str, app: str) -> dict[str, int]:
    return {image_of(rs): rs.spec.replicas or 0 for rs in replica_sets(apps, namespace, app)}


def pods(core_v1: client.CoreV1Api, namespace: str, selector: str) -> list[client.V1Pod]:
    return core_v1.list_namespaced_pod(namespace, label_selector=selector).items


def is_ready(pod: client.V1Pod) -> bool:
    status = cast("client.V1PodStatus", pod.status)
    return status.phase == "Running" and any(
        c.type == "Ready" and c.status == "True" for c in status.conditions or []
    )


def test_fake_nodes_are_ready(kubeconfig: Path) -> None:
    nodes = yaml.safe_load(ok(kubectl(kubeconfig, "default", "get", "nodes", "-o", "yaml")))
    ready = [
        node["metadata"]["name"]
        for node in nodes["items"]
        if any(c["type"] == "Ready" and c["status"] == "True" for c in node["status"]["conditions"])
    ]
    assert len(ready) >= 3, nodes


def test_a_deployment_rolls_out(
    kubeconfig: Path, core_v1: client.CoreV1Api, namespace: str
) -> None:
    apply(kubeconfig, namespace, web_deployment("web", "example.test/web:1"))
    out = rollout_status(kubeconfig, namespace, "deployment/web")
    assert "successfully rolled out" in out
    running = pods(core_v1, namespace, "app=web")
    assert len(running) == 2
    assert all(is_ready(pod) for pod in running)
    # The scheduler bound them to the simulated nodes, which gave them addresses.
    for pod in running:
        assert cast("client.V1PodSpec", pod.spec).node_name
        assert cast("client.V1PodStatus", pod.status).pod_ip


def test_set_image_rolls_out_a_new_replica_set_and_undo_goes_back(
    kubeconfig: Path, api_client: client.ApiClient, namespace: str
) -> None:
    apps = client.AppsV1Api(api_client)
    apply(kubeconfig, namespace, web_deployment("web", "example.test/web:1"))
    rollout_status(kubeconfig, namespace, "deployment/web")

    ok(kubectl(kubeconfig, namespace, "set", "image", "deployment/web", "web=example.test/web:2"))
    rollout_status(kubeconfig, namespace, "deployment/web")
    # Old ReplicaSets are scaled down a moment after the new one is available.
    poll(
        lambda: (
            replicas_by_image(apps, namespace, "web")
            == {"example.test/web:1": 0, "example.test/web:2": 2}
        ),
        what="the rollout to web:2 to scale the old ReplicaSet down",
    )

    ok(kubectl(kubeconfig, namespace, "rollout", "undo", "deployment/web"))
    rollout_status(kubeconfig, namespace, "deployment/web")
    poll(
        lambda: (
            replicas_by_image(apps, namespace, "web")
            == {"example.test/web:1": 2, "example.test/web:2": 0}
        ),
        what="the undo to bring web:1's ReplicaSet back",
    )
    # The undo reused the first ReplicaSet, as revision 3.
    history = ok(kubectl(kubeconfig, namespace, "rollout", "history", "deployment/web"))
    revisions = [line.split()[0] for line in history.splitlines() if line[:1].isdigit()]
    assert revisions == ["2", "3"], history


def progressing(
    apps: client.AppsV1Api, namespace: str, name: str
) -> client.V1DeploymentCondition | None:
    status = cast(
        "client.V1DeploymentStatus", apps.read_namespaced_deployment_status(name, namespace).status
    )
    return next((c for c in status.conditions or [] if c.type == "Progressing"), None)


def test_a_rollout_past_its_progress_deadline_fails(
    kubeconfig: Path, api_client: client.ApiClient, core_v1: client.CoreV1Api, namespace: str
) -> None:
    apps = client.AppsV1Api(api_client)
    apply(
        kubeconfig,
        namespace,
        web_deployment("web", "example.test/web:1", progressDeadlineSeconds=3),
    )
    rollout_status(kubeconfig, namespace, "deployment/web")

    bad_image = f"web=example.test/web-{NEVER_READY}:2"
    ok(kubectl(kubeconfig, namespace, "set", "image", "deployment/web", bad_image))
    stalled = kubectl(kubeconfig, namespace, "rollout", "status", "deployment/web", ROLLOUT_TIMEOUT)
    assert stalled.returncode != 0
    assert "exceeded its progress deadline" in stalled.stderr, stalled.stderr
    condition = progressing(apps, namespace, "web")
    assert condition is not None
    assert (condition.status, condition.reason) == ("False", "ProgressDeadlineExceeded")
    # The old version keeps serving: maxUnavailable rounds down to none.
    assert replicas_by_image(apps, namespace, "web")["example.test/web:1"] == 2
    # The new pod runs, and is not Ready.
    stuck = [
        pod
        for pod in pods(core_v1, namespace, "app=web")
        if NEVER_READY in cast(str, cast("client.V1PodSpec", pod.spec).containers[0].image)
    ]
    assert stuck
    assert all(cast("client.V1PodStatus", pod.status).phase == "Running" for pod in stuck)
    assert not any(is_ready(pod) for pod in stuck)


def test_a_statefulset_rolls_out(
    kubeconfig: Path, api_client: client.ApiClient, core_v1: client.CoreV1Api, namespace: str
) -> None:
    apps = client.AppsV1Api(api_client)
    labels = {"app": "db"}
    manifest: dict[str, Any] = {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": {"name": "db"},
        "spec": {
            "serviceName": "db",
            "replicas": 2,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{"name": "db", "image": "example.test/db:1"}]},
            },
        },
    }
    apply(kubeconfig, namespace, manifest)
    rollout_status(kubeconfig, namespace, "statefulset/db")
    first = cast(
        "client.V1StatefulSetStatus",
        apps.read_namespaced_stateful_set_status("db", namespace).status,
    )

    ok(kubectl(kubeconfig, namespace, "set", "image", "statefulset/db", "db=example.test/db:2"))
    rollout_status(kubeconfig, namespace, "statefulset/db")

    def rolled() -> client.V1StatefulSetStatus | None:
        status = cast(
            "client.V1StatefulSetStatus",
            apps.read_namespaced_stateful_set_status("db", namespace).status,
        )
        done = (
            status.update_revision == status.current_revision
            and status.updated_replicas == 2
            and status.ready_replicas == 2
        )
        return status if done else None

    status = poll(rolled, what="the StatefulSet's current revision to catch up")
    assert status.current_revision != first.current_revision
    images = {
        cast("client.V1PodSpec", pod.spec).containers[0].image
        for pod in pods(core_v1, namespace, "app=db")
    }
    assert images == {"example.test/db:2"}


def test_a_daemonset_runs_a_pod_on_every_node(
    kubeconfig: Path, core_v1: client.CoreV1Api, namespace: str
) -> None:
    labels = {"app": "agent"}
    manifest: dict[str, Any] = {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": {"name": "agent"},
        "spec": {
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{"name": "agent", "image": "example.test/agent:1"}]},
            },
        },
    }
    apply(kubeconfig, namespace, manifest)
    rollout_status(kubeconfig, namespace, "daemonset/agent")
    nodes = {
        cast(str, cast("client.V1ObjectMeta", n.metadata).name) for n in core_v1.list_node().items
    }
    placed = {
        cast(str, cast("client.V1PodSpec", p.spec).node_name)
        for p in pods(core_v1, namespace, "app=agent")
    }
    assert placed == nodes


def test_a_job_completes(kubeconfig: Path, namespace: str) -> None:
    ok(kubectl(kubeconfig, namespace, "create", "job", "once", "--image=example.test/task:1"))
    ok(
        kubectl(
            kubeconfig, namespace, "wait", "--for=condition=Complete", "job/once", ROLLOUT_TIMEOUT
        )
    )


def test_a_namespace_deletes(
    core_v1: client.CoreV1Api, api_client: client.ApiClient, kubeconfig: Path
) -> None:
    name = unique_name("gone")
    core_v1.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name)))
    core_v1.create_namespaced_config_map(
        name, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="settings"), data={"a": "1"})
    )
    apply(kubeconfig, name, web_deployment("web", "example.test/web:1", replicas=1))
    rollout_status(kubeconfig, name, "deployment/web")

    core_v1.delete_namespace(name)

    def gone() -> bool:
        try:
            core_v1.read_namespace(name)
        except ApiException as exc:
            if exc.status == 404:
                return True
            raise
        return False

    poll(gone, timeout=60, what=f"namespace {name} to finish deleting")


def test_garbage_collection_deletes_a_replica_sets_pods(
    api_client: client.ApiClient, core_v1: client.CoreV1Api, namespace: str
) -> None:
    apps = client.AppsV1Api(api_client)
    labels = {"app": "orphans"}
    apps.create_namespaced_replica_set(
        namespace,
        client.V1ReplicaSet(
            metadata=client.V1ObjectMeta(name="orphans"),
            spec=client.V1ReplicaSetSpec(
                replicas=2,
                selector=client.V1LabelSelector(match_labels=labels),
                template=client.V1PodTemplateSpec(
                    metadata=client.V1ObjectMeta(labels=labels),
                    spec=client.V1PodSpec(
                        containers=[client.V1Container(name="c", image="example.test/c:1")]
                    ),
                ),
            ),
        ),
    )
    poll(
        lambda: len([p for p in pods(core_v1, namespace, "app=orphans") if is_ready(p)]) == 2,
        what="the ReplicaSet's pods to be Ready",
    )
    for pod in pods(core_v1, namespace, "app=orphans"):
        owners = cast("client.V1ObjectMeta", pod.metadata).owner_references or []
        assert [owner.kind for owner in owners] == ["ReplicaSet"]

    # Background propagation: the ReplicaSet goes at once, its pods after it.
    apps.delete_namespaced_replica_set(
        "orphans", namespace, body=client.V1DeleteOptions(propagation_policy="Background")
    )
    poll(
        lambda: not pods(core_v1, namespace, "app=orphans"),
        timeout=60,
        what="the garbage collector to delete the pods",
    )
