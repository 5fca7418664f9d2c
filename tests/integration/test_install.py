"""The shipped manifests on a real API server: they apply, their RBAC is
enough for the operator (and no more), and two operators elect one."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import pytest
from kubernetes import client

from tests.support import controlplane
from tests.support.dora import ago, create, deployment, get, rfc3339
from tests.support.kube import (
    close_client,
    new_client,
    poll,
    service_account_token,
    token_kubeconfig,
)
from tests.support.operator import OperatorProcess, start_operator

ROOT = Path(__file__).resolve().parents[2]
KUBECTL = shutil.which("kubectl")
SA = "system:serviceaccount:kubedora:kubedora"

pytestmark = pytest.mark.skipif(KUBECTL is None, reason="kubectl is not installed")


@dataclass
class Installed:
    admin: Path
    operator_kubeconfig: Path
    api: client.ApiClient
    workdir: Path

    def kubectl(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        assert KUBECTL is not None
        return subprocess.run(
            [KUBECTL, "--kubeconfig", str(self.admin), *args],
            capture_output=True,
            text=True,
            timeout=120,
            check=check,
        )


@pytest.fixture(scope="module")
def plane(tmp_path_factory: pytest.TempPathFactory) -> Iterator[controlplane.ControlPlane]:
    # A control plane of its own: the session's operator runs standalone over
    # every namespace and would do this module's work for it.
    if controlplane.existing() is not None:
        pytest.skip("needs a private control plane")
    running = controlplane.start(tmp_path_factory.mktemp("install"))
    yield running
    running.stop()


@pytest.fixture(scope="module")
def installed(
    plane: controlplane.ControlPlane, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Installed]:
    workdir = tmp_path_factory.mktemp("as-sa")
    api = new_client(plane.kubeconfig)
    setup = Installed(plane.kubeconfig, Path(), api, workdir)
    # Objects of new kinds need their CRDs served, and namespaced objects their
    # namespace, before a server-side dry run can judge them.
    setup.kubectl("apply", "-f", str(ROOT / "manifests" / "namespace.yaml"))
    setup.kubectl("apply", "--server-side", "-k", str(ROOT / "crds"))
    setup.kubectl("apply", "-f", str(ROOT / "manifests" / "peering.yaml"), check=False)
    setup.kubectl(
        "wait", "--for=condition=Established", "--timeout=60s",
        "crd/failures.kubedora.io", "crd/deployments.kubedora.io",
        "crd/dorasources.kubedora.io", "crd/clusterkopfpeerings.kopf.dev",
    )  # fmt: skip
    yield setup
    close_client(api)


def test_the_kustomization_passes_a_server_side_dry_run(installed: Installed) -> None:
    result = installed.kubectl("apply", "-k", str(ROOT / "manifests"), "--dry-run=server")
    applied = result.stdout
    for expected in (
        "namespace/kubedora",
        "customresourcedefinition.apiextensions.k8s.io/failures.kubedora.io",
        "clusterrole.rbac.authorization.k8s.io/kubedora-operator",
        "role.rbac.authorization.k8s.io/kubedora-receiver",
        "deployment.apps/kubedora",
        "service/kubedora-receiver",
        "clusterkopfpeering.kopf.dev/kubedora",
        "customresourcedefinition.apiextensions.k8s.io/kopfpeerings.kopf.dev",
        "dorasource.kubedora.io/default",
    ):
        assert expected in applied, applied


@pytest.fixture(scope="module")
def applied(installed: Installed) -> Installed:
    installed.kubectl("apply", "-k", str(ROOT / "manifests"))
    token = service_account_token(installed.api, "kubedora", "kubedora")
    installed.operator_kubeconfig = token_kubeconfig(
        installed.admin, token, installed.workdir / "kubeconfig"
    )
    return installed


def can_i(setup: Installed, *args: str) -> bool:
    result = setup.kubectl("auth", "can-i", *args, "--as", SA, check=False)
    return result.stdout.strip() == "yes"


@pytest.mark.parametrize(
    ("question", "allowed"),
    [
        (("get", "secrets", "-n", "kubedora"), True),
        (("get", "secrets", "-n", "default"), False),
        (("list", "secrets", "--all-namespaces"), False),
        (("list", "services", "--all-namespaces"), True),
        (("delete", "services", "-n", "kubedora"), False),
        (("patch", "services", "-n", "default"), False),
        (("watch", "deployments.apps", "--all-namespaces"), True),
        (("patch", "deployments.apps", "-n", "kubedora"), False),
        (("delete", "deployments.apps", "-n", "kubedora"), False),
        (("patch", "failures.kubedora.io/status", "-n", "default"), True),
        (("delete", "failures.kubedora.io", "-n", "kubedora"), False),
        (("create", "failures.kubedora.io", "-n", "kubedora"), True),
        (("create", "failures.kubedora.io", "-n", "default"), False),
        (("create", "deployments.kubedora.io", "-n", "kubedora"), True),
        (("create", "deployments.kubedora.io", "-n", "default"), False),
        (("watch", "replicasets.apps", "--all-namespaces"), True),
        (("watch", "controllerrevisions.apps", "--all-namespaces"), True),
        (("delete", "replicasets.apps", "-n", "default"), False),
        (("create", "pods", "-n", "kubedora"), False),
        (("escalate", "clusterroles"), False),
        (("bind", "clusterroles"), False),
        (("create", "rolebindings", "-n", "kubedora"), False),
        (("impersonate", "users"), False),
        (("create", "serviceaccounts/token", "-n", "kubedora"), False),
        (("create", "events", "-n", "default"), True),
    ],
    ids=lambda value: " ".join(value) if isinstance(value, tuple) else str(value),
)
def test_the_service_account_has_what_it_needs_and_no_more(
    applied: Installed, question: tuple[str, ...], allowed: bool
) -> None:
    assert can_i(applied, *question) is allowed


def summary(api: client.CustomObjectsApi, namespace: str, name: str) -> dict[str, Any]:
    status = get(api, namespace, "DoraSource", name).get("status") or {}
    found: dict[str, Any] = status.get("summary") or {}
    return found


def run_operator(setup: Installed, name: str, *args: str) -> OperatorProcess:
    return start_operator(
        setup.operator_kubeconfig,
        setup.workdir / f"{name}.log",
        "--all-namespaces",
        *args,
        env={"KUBEDORA_PEERING_LIFETIME_SECONDS": "10"},
    )


def test_the_operator_runs_on_the_shipped_rbac(applied: Installed) -> None:
    objects = client.CustomObjectsApi(applied.api)
    operator = run_operator(applied, "operator", "--standalone")
    try:
        create(objects, "kubedora", "Deployment", "d1", deployment("checkout", ago(days=1)))
        create(objects, "kubedora", "Deployment", "d2", deployment("checkout", ago(days=2)))
        create(objects, "kubedora", "Failure", "f1", {
            "services": ["checkout"], "startedAt": rfc3339(ago(hours=3)),
            "finishedAt": rfc3339(ago(hours=2)),
        })  # fmt: skip
        expected = {
            "deployments": 2,
            "failures": 1,
            "restoredFailures": 1,
            "changeFailureRate": 0.5,
            "medianTimeToRestoreSeconds": 3600.0,
            # Two in the default 30-day window: at least monthly, under weekly.
            "deploymentsPerDay": 2 / 30,
            "deploymentFrequency": "medium",
        }
        poll(
            lambda: (
                {k: summary(objects, "kubedora", "default").get(k) for k in expected} == expected
            ),
            timeout=60,
            what="the shipped DoraSource's scoreboard",
        )
        # The scoreboard counts facts from the spec; the failure's own status
        # is written by its handler, and may land a moment later.
        ttr = poll(
            lambda: (get(objects, "kubedora", "Failure", "f1").get("status") or {}).get(
                "timeToRestoreSeconds"
            ),
            what="the failure's own status",
        )
        assert ttr == 3600.0
        assert "Forbidden" not in operator.log(), operator.log()
    finally:
        operator.stop()


def peers(setup: Installed) -> dict[str, Any]:
    peering = cast(
        "dict[str, Any]",
        client.CustomObjectsApi(setup.api).get_cluster_custom_object(
            "kopf.dev", "v1", "clusterkopfpeerings", "kubedora"
        ),
    )
    found: dict[str, Any] = peering.get("status") or {}
    return found


def test_two_operators_elect_one_and_the_other_takes_over(applied: Installed) -> None:
    objects = client.CustomObjectsApi(applied.api)
    first = run_operator(applied, "first", "--priority", "200")
    second = None
    try:
        poll(lambda: "Resuming operations" in first.log(), what="the first operator to work")
        second = run_operator(applied, "second", "--priority", "100")
        poll(
            lambda: sorted(p["priority"] for p in peers(applied).values()) == [100, 200],
            what="both operators to register as peers",
        )
        create(objects, "kubedora", "DoraSource", "elected", {"window": "7d"})
        poll(
            lambda: summary(objects, "kubedora", "elected").get("failures") is not None,
            timeout=60,
            what="the active operator to compute the new DoraSource",
        )
        # A replica starts paused and logs only when it resumes.
        assert "Resuming operations" not in second.log()
        failures_before = summary(objects, "kubedora", "elected")["failures"]

        first.stop()
        poll(
            lambda: "Resuming operations" in second.log(),
            timeout=30,
            what="the second operator to take over",
        )
        create(objects, "kubedora", "Failure", "after-takeover", {
            "team": "shop", "startedAt": rfc3339(ago(minutes=5)),
        })  # fmt: skip
        poll(
            lambda: summary(objects, "kubedora", "elected").get("failures") == failures_before + 1,
            timeout=60,
            what="the scoreboard to keep updating after the takeover",
        )
    finally:
        first.stop()
        if second is not None:
            second.stop()
