"""`kubedora operator` never sits silently paused for want of its peering
object: without --peering and without a peering CRD it works standalone and
says so in a WARNING; with --peering naming an object that does not exist it
exits within 10 s, naming the object and the fix."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest
from kubernetes import client

from tests.support.dora import ago, create, get, rfc3339
from tests.support.kube import poll, unique_name
from tests.support.operator import start_operator
from tests.support.processes import KUBEDORA


def served(api: client.ApiClient, group: str, plural: str) -> bool:
    try:
        found = client.CustomObjectsApi(api).get_api_resources(group, "v1")
    except client.ApiException as exc:
        if exc.status == 404:
            return False
        raise
    return any(resource.name == plural for resource in found.resources)


def test_the_readme_form_works_standalone_with_a_warning_on_a_cluster_of_crds_only(
    kubeconfig: Path,
    crds: list[str],
    api_client: client.ApiClient,
    custom_objects: client.CustomObjectsApi,
    namespace: str,
    tmp_path: Path,
) -> None:
    if served(api_client, "kopf.dev", "kopfpeerings"):
        pytest.skip("another test installed the peering CRDs: not a cluster of crds/ only")
    # Created first, so that this operator handles it when it starts (a resume)
    # even if the session's operator, which serves every namespace, got to it.
    create(custom_objects, namespace, "Failure", "f1", {
        "services": ["checkout"], "startedAt": rfc3339(ago(hours=1)),
    })  # fmt: skip
    started = time.monotonic()
    operator = start_operator(kubeconfig, tmp_path / "operator.log", "--namespace", namespace)
    try:
        # This operator serves only this namespace, which holds only f1.
        poll(
            lambda: (
                "failures listed: 1" in operator.log()
                and (get(custom_objects, namespace, "Failure", "f1").get("status") or {}).get(
                    "state"
                )
                == "active"
            ),
            timeout=15 - (time.monotonic() - started),
            what="this operator to reconcile the failure",
        )
        warnings = [line for line in operator.log().splitlines() if "WARNING" in line]
        standalone = [line for line in warnings if "Running standalone" in line]
        assert len(standalone) == 1, operator.log()
        assert 'KopfPeering "kubedora"' in standalone[0]
        assert "kopfpeerings.kopf.dev" in standalone[0]
        assert "--peering kubedora" in standalone[0]
        assert "peering CRD is missing" not in operator.log()
    finally:
        operator.stop()


def run_to_exit(kubeconfig: Path, *args: str) -> tuple[int, str, float]:
    started = time.monotonic()
    result = subprocess.run(
        [KUBEDORA, "operator", *args],
        env={**os.environ, "KUBECONFIG": str(kubeconfig)},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    return result.returncode, result.stdout + result.stderr, time.monotonic() - started


@pytest.mark.parametrize(
    ("scope", "kind"),
    [(("--namespace", "NS"), "KopfPeering"), (("--all-namespaces",), "ClusterKopfPeering")],
    ids=["namespaced", "cluster-wide"],
)
def test_an_explicit_peering_that_does_not_exist_stops_the_operator_with_the_fix(
    kubeconfig: Path, crds: list[str], namespace: str, scope: tuple[str, ...], kind: str
) -> None:
    # A name nobody creates: the outcome is the same whether or not another
    # test installed the peering CRDs on this shared API server.
    name = unique_name("nopeer")
    args = [namespace if arg == "NS" else arg for arg in scope]
    code, output, seconds = run_to_exit(kubeconfig, *args, "--peering", name)
    assert code == 2, output
    assert seconds < 10, output
    assert f'{kind} "{name}"' in output
    assert "Fix: " in output
    assert f"kind: {kind}" in output  # the command that creates it
    assert "--standalone" in output
