"""Flux events and Argo CD notifications as Deployments: the pure part."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from kubedora.ingest import argocd, flux
from kubedora.ingest.payload import PayloadError
from kubedora.models import DeploymentOutcome, DeploymentSource

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "flux"
SHA = "731f7eaddfb6af01cb2173e18f0f75b0ba780ef1"


def fixture(name: str, **changes: Any) -> bytes:
    body = json.loads((FIXTURES / name).read_text())
    body.update(changes)
    return json.dumps(body).encode()


def test_a_successful_kustomization_is_a_deployment_of_its_revision() -> None:
    event = flux.parse_event(fixture("kustomization.reconciliation-succeeded.json"))
    spec = flux.deployment_spec(None, event, default_env="dev")
    assert spec is not None
    assert (spec.service, spec.env, spec.version) == ("checkout", "prod", f"main@sha1:{SHA}")
    assert spec.git is not None
    assert spec.git.commit_sha == SHA
    assert spec.source is DeploymentSource.FLUX
    assert spec.outcome is DeploymentOutcome.SUCCEEDED
    assert spec.finished_at == datetime(2026, 11, 20, 9, 8, tzinfo=UTC)


def test_the_documented_failure_event_is_a_failed_deployment_named_by_the_object() -> None:
    event = flux.parse_event(fixture("kustomization.validation-failed.json"))
    spec = flux.deployment_spec(None, event, default_env="dev")
    assert spec is not None
    # No eventMetadata: the object's name, the DoraSource's default env.
    assert (spec.service, spec.env) == ("webapp", "dev")
    assert spec.outcome is DeploymentOutcome.FAILED
    assert spec.outcome_reason == "ValidationFailed"
    assert spec.git is not None
    assert spec.git.commit_sha == SHA


def test_a_helm_upgrade_failure_has_a_chart_version_and_no_commit() -> None:
    event = flux.parse_event(fixture("helmrelease.upgrade-failed.json"))
    spec = flux.deployment_spec(None, event, default_env=None)
    assert spec is not None
    assert (spec.service, spec.env, spec.version, spec.git) == ("podinfo", "staging", "6.5.4", None)
    assert spec.outcome_reason == "UpgradeFailed"


def test_env_falls_back_to_dd_env() -> None:
    body = json.loads(fixture("helmrelease.upgrade-failed.json"))
    body["metadata"] = {"revision": "6.5.4", "dd_env": "qa"}
    spec = flux.deployment_spec(None, flux.parse_event(json.dumps(body).encode()), "dev")
    assert spec is not None
    assert spec.env == "qa"


@pytest.mark.parametrize(
    "changes",
    [
        {"reason": "Progressing"},
        {"reason": "ArtifactFailed"},
        {"involvedObject": {"kind": "GitRepository", "name": "x", "namespace": "f"}},
        {"metadata": {}},
    ],
)
def test_other_events_are_no_deployment(changes: dict[str, Any]) -> None:
    event = flux.parse_event(fixture("kustomization.reconciliation-succeeded.json", **changes))
    assert flux.outcome_of(event) is None
    assert flux.deployment_spec(None, event, None) is None


def test_one_object_and_revision_is_one_name_and_the_latest_event_decides() -> None:
    failed = flux.parse_event(
        fixture("kustomization.reconciliation-succeeded.json", reason="HealthCheckFailed")
    )
    succeeded = flux.parse_event(
        fixture("kustomization.reconciliation-succeeded.json", timestamp="2026-11-20T09:10:00Z")
    )
    assert flux.deployment_name(failed) == flux.deployment_name(succeeded)
    first = flux.deployment_spec(None, failed, None)
    later = flux.deployment_spec(first, succeeded, None)
    assert later is not None
    assert later.outcome is DeploymentOutcome.SUCCEEDED
    assert first is not None
    assert later.started_at == first.started_at
    # Delivered the other way round, the same result.
    assert flux.deployment_spec(flux.deployment_spec(None, succeeded, None), failed, None) == later


def test_another_revision_is_another_deployment() -> None:
    body = json.loads(fixture("kustomization.reconciliation-succeeded.json"))
    other = dict(body, metadata={**body["metadata"], "revision": "main@sha1:" + "b" * 40})
    names = {flux.deployment_name(flux.parse_event(json.dumps(b).encode())) for b in (body, other)}
    assert len(names) == 2


def test_a_bad_flux_body_says_which_field() -> None:
    with pytest.raises(PayloadError, match="involvedObject"):
        flux.parse_event(
            b'{"reason": "ReconciliationSucceeded", "timestamp": "2026-11-20T09:08:00Z"}'
        )


ARGO = {
    "app": "checkout-prod",
    "namespace": "argocd",
    "project": "shop",
    "service": "checkout",
    "env": "prod",
    "team": "<no value>",
    "phase": "Succeeded",
    "health": "Healthy",
    "revision": SHA,
    "repoURL": "https://github.com/acme/checkout.git",
    "startedAt": "2026-11-20T09:00:00Z",
    "finishedAt": "2026-11-20T09:02:30Z",
}


def test_an_argocd_sync_is_a_deployment() -> None:
    note = argocd.parse_notification(json.dumps(ARGO).encode())
    spec = argocd.deployment_spec(note, default_env=None)
    assert spec is not None
    assert (spec.service, spec.env, spec.team, spec.version) == ("checkout", "prod", None, SHA)
    assert spec.git is not None
    assert (spec.git.commit_sha, spec.git.repository_url) == (SHA, ARGO["repoURL"])
    assert spec.source is DeploymentSource.ARGOCD
    assert (spec.finished_at - spec.started_at).total_seconds() == 150


def test_without_the_annotation_the_app_name_is_the_service() -> None:
    note = argocd.parse_notification(json.dumps({**ARGO, "service": ""}).encode())
    spec = argocd.deployment_spec(note, default_env=None)
    assert spec is not None
    assert spec.service == "checkout-prod"


def test_a_failed_sync_is_a_failed_deployment_and_running_is_none() -> None:
    failed = argocd.parse_notification(json.dumps({**ARGO, "phase": "Failed"}).encode())
    spec = argocd.deployment_spec(failed, None)
    assert spec is not None
    assert spec.outcome_reason == "SyncFailed"
    running = argocd.parse_notification(json.dumps({**ARGO, "phase": "Running"}).encode())
    assert argocd.deployment_spec(running, None) is None


def test_one_sync_operation_is_one_name() -> None:
    a = argocd.parse_notification(json.dumps(ARGO).encode())
    b = argocd.parse_notification(
        json.dumps({**ARGO, "startedAt": "2026-11-20T10:00:00Z"}).encode()
    )
    assert argocd.deployment_name(a) == argocd.deployment_name(a.model_copy())
    assert argocd.deployment_name(a) != argocd.deployment_name(b)
