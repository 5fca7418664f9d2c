"""Flux notification-controller events, as a `generic` or `generic-hmac`
Provider posts them, turned into Deployments. No HTTP, no Kubernetes.

The body is Flux's event (fluxcd/pkg/apis/event): the `involvedObject`
(kind, namespace, name), `severity`, `timestamp`, `reason`, `message` and
string `metadata`, which holds the source `revision` (as `revision`, or
`<group>/revision` from older controllers) and the Alert's `eventMetadata`.

A successful reconcile of a Kustomization or a HelmRelease is a deployment
of the object's revision; a failed one is a failed deployment. Flux repeats
events and rate-limits them, so the object and revision name the
Deployment: every repeat lands on the same one, and the latest event by
`timestamp` decides its outcome (out-of-order deliveries converge)."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Final

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic.alias_generators import to_camel

from kubedora.ingest.payload import IsoTime, NonEmptyLabel, check_label, digest, parse_json, slug
from kubedora.models import DeploymentOutcome, DeploymentSource, DeploymentSpec, GitInfo

KINDS: Final = frozenset({"Kustomization", "HelmRelease"})
SUCCEEDED: Final = frozenset(
    {"ReconciliationSucceeded", "InstallSucceeded", "UpgradeSucceeded", "RollbackSucceeded"}
)
# What a failed deployment of a revision looks like. Not ArtifactFailed or
# DependencyNotReady: nothing was deployed.
FAILED: Final = frozenset(
    {
        "ReconciliationFailed",
        "HealthCheckFailed",
        "BuildFailed",
        "ValidationFailed",
        "PruneFailed",
        "InstallFailed",
        "UpgradeFailed",
        "RollbackFailed",
        "TestFailed",
    }
)
# main@sha1:<40 hex> (Flux 2), main/<40 hex> (before), sha1:<hex>.
_COMMIT = re.compile(r"(?:^|[@/]|^sha1:|@sha1:)(?:sha1:)?([0-9a-fA-F]{40})$")

LABEL_KEYS: Final = frozenset({"service", "env", "dd_env", "team"})


class _FluxModel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore")


class InvolvedObject(_FluxModel):
    kind: NonEmptyLabel
    name: NonEmptyLabel
    namespace: str = Field(default="", max_length=253, pattern=r"^[a-z0-9-]*$")


class FluxEvent(_FluxModel):
    involved_object: InvolvedObject
    severity: str = "info"
    timestamp: IsoTime
    reason: NonEmptyLabel
    message: str = ""
    metadata: dict[str, str] = Field(default_factory=dict)
    reporting_controller: str = ""

    @field_validator("metadata")
    @classmethod
    def _labels_are_one_line(cls, metadata: dict[str, str]) -> dict[str, str]:
        # These become the Deployment's service, env and team.
        for key in LABEL_KEYS & metadata.keys():
            check_label(metadata[key], f"metadata.{key}")
        return metadata

    @property
    def revision(self) -> str | None:
        if value := self.metadata.get("revision"):
            return value
        for key, value in sorted(self.metadata.items()):
            if key.endswith("/revision") and value:
                return value
        return None


def parse_event(body: bytes) -> FluxEvent:
    return parse_json(FluxEvent, body)


def outcome_of(event: FluxEvent) -> DeploymentOutcome | None:
    """succeeded, failed, or None: not a deployment (another kind, another
    reason, or no revision to name it by)."""
    if event.involved_object.kind not in KINDS or event.revision is None:
        return None
    if event.reason in SUCCEEDED:
        return DeploymentOutcome.SUCCEEDED
    if event.reason in FAILED:
        return DeploymentOutcome.FAILED
    return None


def commit_of(revision: str) -> str | None:
    """The git commit in a source revision; None for a chart version or an
    OCI digest (sha256 is an artifact, not a commit)."""
    match = _COMMIT.search(revision)
    return match.group(1).lower() if match else None


def deployment_name(event: FluxEvent) -> str:
    obj = event.involved_object
    identity = digest(obj.kind, obj.namespace, obj.name, event.revision or "")
    return "-".join(part for part in ("flux", slug(obj.name, max_length=40), identity) if part)


def deployment_spec(
    previous: DeploymentSpec | None, event: FluxEvent, default_env: str | None
) -> DeploymentSpec | None:
    """The Deployment after this event (None: not a deployment event)."""
    outcome = outcome_of(event)
    revision = event.revision
    if outcome is None or revision is None:
        return None
    at: datetime = event.timestamp
    if previous is not None and previous.finished_at > at:
        # An older event, delivered late: it may only move the start back.
        if previous.started_at <= at:
            return previous
        return previous.model_copy(update={"started_at": at})
    obj = event.involved_object
    meta = event.metadata
    commit = commit_of(revision)
    return DeploymentSpec(
        service=meta.get("service") or obj.name,
        env=meta.get("env") or meta.get("dd_env") or default_env,
        team=meta.get("team") or None,
        version=revision,
        started_at=min(at, previous.started_at) if previous is not None else at,
        finished_at=at,
        git=GitInfo(commit_sha=commit) if commit else None,
        source=DeploymentSource.FLUX,
        outcome=outcome,
        outcome_reason=event.reason if outcome is DeploymentOutcome.FAILED else None,
        custom_tags=[f"flux_kind:{obj.kind}", f"flux_object:{obj.namespace}/{obj.name}"],
    )
