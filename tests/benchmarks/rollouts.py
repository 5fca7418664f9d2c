"""Benchmark: rollouts recorded by a real operator on the local control plane.

    .venv/bin/python -m tests.benchmarks.rollouts                 # 50 rollouts, 1,000 workloads
    .venv/bin/python -m tests.benchmarks.rollouts --rollouts 20 --workloads 200

1. Latency: one annotated apps/v1 Deployment, `--rollouts` image changes
   one after the other. For each, the time from the rollout being complete
   (the client sees the Deployment's status settle) to its kubedora
   Deployment being readable. Reference, same run and same polling: the
   time from creating a kubedora Deployment directly to reading it back.
2. Memory: the operator's RSS with `--workloads` annotated Deployments
   (0 replicas: no pods) once it has recorded every one of them, next to
   the same operator's RSS over an empty namespace.
3. The control plane's warm start, as the session fixture measures it.
Not a test: it prints figures.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kubernetes import client

from tests.support import controlplane
from tests.support.kube import apply_crds, new_client, poll, unique_name
from tests.support.operator import OperatorProcess, start_operator

ROOT = Path(__file__).resolve().parents[2]
GROUP, VERSION = "kubedora.io", "v1alpha1"


def annotated(name: str, image: str, replicas: int) -> dict[str, Any]:
    labels = {"app": name}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "annotations": {"kubedora.io/service": name}},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{"name": "web", "image": image}]},
            },
        },
    }


def rss_mib(process: OperatorProcess) -> float:
    for line in Path(f"/proc/{process.process.pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def count(objects: client.CustomObjectsApi, namespace: str) -> int:
    listing: Any = objects.list_namespaced_custom_object(GROUP, VERSION, namespace, "deployments")
    return len(listing["items"])


def complete(apps: client.AppsV1Api, namespace: str, name: str) -> bool:
    body: Any = apps.read_namespaced_deployment(name, namespace)
    status: Any = body.status
    conditions = {c.type: c.reason for c in status.conditions or []}
    return bool(
        status.observed_generation == body.metadata.generation
        and status.updated_replicas == body.spec.replicas
        and status.available_replicas == body.spec.replicas
        and status.replicas == body.spec.replicas
        and conditions.get("Progressing") == "NewReplicaSetAvailable"
    )


def _counted(objects: client.CustomObjectsApi, namespace: str, wanted: int) -> Callable[[], bool]:
    return lambda: count(objects, namespace) == wanted


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def latency(api: client.ApiClient, kubeconfig: Path, tmp: Path, rollouts: int) -> None:
    core, apps = client.CoreV1Api(api), client.AppsV1Api(api)
    objects = client.CustomObjectsApi(api)
    namespace = unique_name("bench")
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=namespace)))
    operator = start_operator(kubeconfig, tmp / "latency.log", "--namespace", namespace)
    try:
        apps.create_namespaced_deployment(namespace, annotated("web", "example.test/web:0", 2))  # type: ignore[arg-type]
        poll(lambda: count(objects, namespace) == 1, timeout=120, interval=0.02)
        recorded: list[float] = []
        for n in range(1, rollouts + 1):
            patch = {"spec": {"template": {"spec": {"containers": [
                {"name": "web", "image": f"example.test/web:{n}"}]}}}}  # fmt: skip
            apps.patch_namespaced_deployment("web", namespace, patch)
            time.sleep(0.2)  # let the controller take the new generation
            poll(lambda: complete(apps, namespace, "web"), timeout=120, interval=0.02)
            done = time.monotonic()
            poll(_counted(objects, namespace, n + 1), timeout=60, interval=0.02)
            recorded.append(time.monotonic() - done)
        direct: list[float] = []
        for n in range(rollouts):
            began = time.monotonic()
            objects.create_namespaced_custom_object(
                GROUP,
                VERSION,
                namespace,
                "deployments",
                {
                    "apiVersion": f"{GROUP}/{VERSION}",
                    "kind": "Deployment",
                    "metadata": {"name": f"direct-{n}"},
                    "spec": {
                        "service": "web",
                        "startedAt": "2026-11-20T09:00:00Z",
                        "finishedAt": "2026-11-20T09:01:00Z",
                    },
                },
            )
            poll(_counted(objects, namespace, rollouts + 2 + n), timeout=60, interval=0.02)
            direct.append(time.monotonic() - began)
    finally:
        operator.stop()
    print(f"\nrollout complete -> Deployment recorded, {rollouts} rollouts (seconds)")
    print(f"{'':34}{'median':>10}{'p95':>10}")
    for label, values in (
        ("recorded by the operator", recorded),
        ("reference: direct create", direct),
    ):
        print(f"{label:34}{statistics.median(values):10.3f}{percentile(values, 0.95):10.3f}")
    ratio = statistics.median(recorded) / statistics.median(direct)
    print(f"{'ratio (median)':34}{ratio:10.1f}")


def memory(api: client.ApiClient, kubeconfig: Path, tmp: Path, workloads: int) -> None:
    core, apps = client.CoreV1Api(api), client.AppsV1Api(api)
    objects = client.CustomObjectsApi(api)
    empty, full = unique_name("bench-empty"), unique_name("bench-full")
    for namespace in (empty, full):
        core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=namespace)))
    idle = start_operator(kubeconfig, tmp / "idle.log", "--namespace", empty)
    try:
        time.sleep(5)
        idle_rss = rss_mib(idle)
    finally:
        idle.stop()
    for n in range(workloads):
        body = annotated(f"w-{n}", "example.test/w:1", 0)
        apps.create_namespaced_deployment(full, body)  # type: ignore[arg-type]
    began = time.monotonic()
    operator = start_operator(kubeconfig, tmp / "full.log", "--namespace", full)
    try:
        poll(lambda: count(objects, full) == workloads, timeout=600, interval=0.5)
        elapsed = time.monotonic() - began
        time.sleep(2)
        full_rss = rss_mib(operator)
    finally:
        operator.stop()
    print(f"\noperator RSS (MiB), {workloads} annotated apps/v1 Deployments")
    print(f"{'reference: empty namespace':34}{idle_rss:10.1f}")
    print(f"{f'{workloads} workloads, all recorded':34}{full_rss:10.1f}")
    print(f"{'ratio':34}{full_rss / idle_rss:10.2f}")
    print(f"{'time to record them all (s)':34}{elapsed:10.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rollouts", type=int, default=50)
    parser.add_argument("--workloads", type=int, default=1000)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="kubedora-bench-"))
    (tmp / "controlplane").mkdir()
    plane = controlplane.start(tmp / "controlplane")
    print(f"control plane warm start: {plane.startup_seconds:.1f}s")
    api = new_client(plane.kubeconfig)
    try:
        apply_crds(api, sorted((ROOT / "crds").glob("*.kubedora.io.yaml")))
        latency(api, plane.kubeconfig, tmp, args.rollouts)
        memory(api, plane.kubeconfig, tmp, args.workloads)
    finally:
        plane.stop()


if __name__ == "__main__":
    main()
