"""Flux and Argo CD deliveries through a real receiver into a real API
server: signatures, repeats, failures, and which sources a DoraSource takes."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client

from tests.support.receiver import (
    API_KEY,
    GROUP,
    VERSION,
    RunningReceiver,
    fixture_bytes,
    objects_of,
    put_secret,
    start_receiver,
)

pytestmark = pytest.mark.usefixtures("crds")

FLUX = "/hooks/flux"
ARGOCD = "/hooks/argocd"
HMAC_KEY = "flux-provider-token-42"
SHA = "731f7eaddfb6af01cb2173e18f0f75b0ba780ef1"


def dorasource(
    core_v1: client.CoreV1Api,
    custom_objects: client.CustomObjectsApi,
    namespace: str,
    **spec: Any,
) -> None:
    put_secret(core_v1, namespace, "api-keys", {"ci": API_KEY})
    put_secret(core_v1, namespace, "flux-hmac", {"token": HMAC_KEY})
    custom_objects.create_namespaced_custom_object(
        GROUP,
        VERSION,
        namespace,
        "dorasources",
        {
            "apiVersion": f"{GROUP}/{VERSION}",
            "kind": "DoraSource",
            "metadata": {"name": "default"},
            "spec": {"apiKeySecretRef": {"name": "api-keys"}, **spec},
        },
    )


def signed(body: bytes, key: str = HMAC_KEY) -> dict[str, str]:
    return {"X-Signature": "sha256=" + hmac.new(key.encode(), body, hashlib.sha256).hexdigest()}


def deployments(custom_objects: client.CustomObjectsApi, namespace: str) -> list[dict[str, Any]]:
    return objects_of(custom_objects, namespace, "deployments")


Serve = Callable[..., RunningReceiver]


@pytest.fixture
def serve(
    kubeconfig: Path,
    namespace: str,
    core_v1: client.CoreV1Api,
    custom_objects: client.CustomObjectsApi,
) -> Iterator[Serve]:
    """A DoraSource with the given spec, then a receiver that has listed it."""
    running: list[RunningReceiver] = []

    def start(**spec: Any) -> RunningReceiver:
        dorasource(core_v1, custom_objects, namespace, **spec)
        running.append(start_receiver(kubeconfig, namespace))
        return running[-1]

    yield start
    for receiver in running:
        receiver.stop()


SUCCEEDED = fixture_bytes("flux", "kustomization.reconciliation-succeeded.json")


def test_a_bad_signature_is_401_and_writes_nothing(
    serve: Serve,
    namespace: str,
    custom_objects: client.CustomObjectsApi,
) -> None:
    receiver = serve(flux={"signingSecretRef": {"name": "flux-hmac"}})
    for headers in (signed(SUCCEEDED, key="another-key"), {}, {"X-Signature": "sha256=zz"}):
        reply = receiver.post(FLUX, SUCCEEDED, headers=headers)
        assert reply.status == 401, reply.body
        assert reply.json()["errors"][0]["status"] == "401"
    # Signed over other bytes: the body was changed on the way.
    tampered = SUCCEEDED.replace(b"checkout", b"payments")
    assert receiver.post(FLUX, tampered, headers=signed(SUCCEEDED)).status == 401
    assert deployments(custom_objects, namespace) == []
    assert receiver.post(FLUX, SUCCEEDED, headers=signed(SUCCEEDED)).status == 202
    assert len(deployments(custom_objects, namespace)) == 1


def test_the_same_event_five_times_is_one_deployment(
    serve: Serve,
    namespace: str,
    custom_objects: client.CustomObjectsApi,
) -> None:
    receiver = serve(flux={"defaultEnv": "dev"})
    outcomes = []
    for _ in range(5):
        reply = receiver.post(FLUX, SUCCEEDED)
        assert reply.status == 202, reply.body
        assert reply.json()["data"]["type"] == "dora_deployment"
        outcomes.append(reply.json()["meta"]["outcome"])
    assert outcomes == ["created"] + ["unchanged"] * 4
    (stored,) = deployments(custom_objects, namespace)
    spec = stored["spec"]
    assert (spec["service"], spec["env"], spec["source"]) == ("checkout", "prod", "flux")
    assert (spec["version"], spec["git"]["commitSha"]) == (f"main@sha1:{SHA}", SHA)
    assert spec["finishedAt"] == "2026-11-20T09:08:00Z"
    assert stored["metadata"]["labels"]["kubedora.io/source"] == "flux"


def test_a_failed_upgrade_is_a_failed_deployment_and_progress_is_ignored(
    serve: Serve,
    namespace: str,
    custom_objects: client.CustomObjectsApi,
) -> None:
    receiver = serve()
    reply = receiver.post(FLUX, fixture_bytes("flux", "helmrelease.upgrade-failed.json"))
    assert reply.status == 202, reply.body
    progress = json.loads(SUCCEEDED)
    progress["reason"] = "Progressing"
    ignored = receiver.post(FLUX, json.dumps(progress).encode())
    assert (ignored.status, ignored.json()["meta"]["outcome"]) == (202, "ignored")
    (stored,) = deployments(custom_objects, namespace)
    assert stored["spec"]["outcome"] == "failed"
    assert stored["spec"]["outcomeReason"] == "UpgradeFailed"
    assert stored["spec"]["service"] == "podinfo"


def test_a_route_whose_source_no_dorasource_enables_is_refused(
    serve: Serve,
    namespace: str,
    custom_objects: client.CustomObjectsApi,
) -> None:
    receiver = serve(deploymentSources=["api", "kubernetes"])
    reply = receiver.post(FLUX, SUCCEEDED)
    assert reply.status == 403
    assert "enables the flux deployment source" in reply.json()["errors"][0]["detail"]
    assert receiver.post(ARGOCD, json.dumps(ARGO).encode()).status == 403
    assert receiver.post(FLUX, SUCCEEDED, api_key=None).status == 401
    assert deployments(custom_objects, namespace) == []


ARGO = {
    "app": "checkout-prod",
    "namespace": "argocd",
    "service": "checkout",
    "env": "",
    "phase": "Succeeded",
    "health": "Healthy",
    "revision": SHA,
    "repoURL": "https://github.com/acme/checkout.git",
    "startedAt": "2026-11-20T09:00:00Z",
    "finishedAt": "2026-11-20T09:02:30Z",
}


def test_argocd_syncs_become_deployments(
    serve: Serve,
    namespace: str,
    custom_objects: client.CustomObjectsApi,
) -> None:
    receiver = serve(argocd={"defaultEnv": "prod"})
    for _ in range(2):
        assert receiver.post(ARGOCD, json.dumps(ARGO).encode()).status == 202
    failed = {**ARGO, "phase": "Error", "startedAt": "2026-11-20T10:00:00Z", "finishedAt": ""}
    assert receiver.post(ARGOCD, json.dumps(failed).encode()).status == 202
    running = {**ARGO, "phase": "Running"}
    assert receiver.post(ARGOCD, json.dumps(running).encode()).json()["meta"]["outcome"] == (
        "ignored"
    )
    bad = receiver.post(ARGOCD, json.dumps({**ARGO, "startedAt": "yesterday"}).encode())
    assert bad.status == 400
    assert "startedAt" in bad.json()["errors"][0]["detail"]
    stored = sorted(deployments(custom_objects, namespace), key=lambda d: d["spec"]["startedAt"])
    assert [d["spec"]["outcome"] for d in stored] == ["succeeded", "failed"]
    assert stored[0]["spec"]["env"] == "prod"
    assert stored[0]["spec"]["git"] == {"commitSha": SHA, "repositoryUrl": ARGO["repoURL"]}
    assert stored[1]["spec"]["outcomeReason"] == "SyncError"
    assert stored[1]["spec"]["finishedAt"] == stored[1]["spec"]["startedAt"]
