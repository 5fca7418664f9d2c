"""Rollouts of catalog workloads as Deployments (`source: kubernetes`): what
a workload, its ReplicaSets and ControllerRevisions say, decided here
without I/O; handlers/rollouts.py feeds it from informers and writes.

A rollout is one revision of a workload's pod template: a Deployment's
`deployment.kubernetes.io/revision`, a StatefulSet's or DaemonSet's
ControllerRevision number. Scaling and metadata edits make no revision, so
no deployment; `kubectl rollout undo` makes a new revision number (the old
template's ReplicaSet or ControllerRevision is renumbered), so a
deployment of the older version. Names come from the workload's uid and
the revision number: a restart, or a re-list, finds the same name."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from kubedora.ingest.payload import digest, slug
from kubedora.models import (
    PREFIX,
    DeploymentOutcome,
    DeploymentSource,
    DeploymentSpec,
    GitInfo,
)

Body = Mapping[str, Any]

SERVICE: Final = f"{PREFIX}service"
TEAM: Final = f"{PREFIX}team"
# On the workload: the env its deployments are in.
ENV: Final = f"{PREFIX}env"
# On the pod template: the commit and repository the template was built from.
COMMIT_SHA: Final = f"{PREFIX}git-commit-sha"
REPOSITORY_URL: Final = f"{PREFIX}git-repository-url"
VERSION_LABELS: Final = ("app.kubernetes.io/version", "tags.datadoghq.com/version")
ENV_LABEL: Final = "tags.datadoghq.com/env"

REVISION: Final = "deployment.kubernetes.io/revision"
# Set on a ReplicaSet that a rollback brought back: its creation is not the start.
REVISION_HISTORY: Final = "deployment.kubernetes.io/revision-history"
# A ControllerRevision created this long before its rollout was first seen
# was brought back by a rollback.
REUSED_AFTER: Final = timedelta(seconds=60)
KINDS: Final = frozenset({"Deployment", "StatefulSet", "DaemonSet"})
_HEX = re.compile(r"^[0-9a-fA-F]{7,64}$")


@dataclass(frozen=True, slots=True)
class Revision:
    """One ReplicaSet or ControllerRevision of a workload, as far as it matters."""

    owner_uid: str
    name: str
    number: int
    created: datetime
    # A ReplicaSet a rollback renumbered (it has a revision history).
    reused: bool = False


@dataclass(frozen=True, slots=True)
class Workload:
    """An annotated apps/v1 workload: its catalog names, the pod template's
    version and git facts, and the rollout state of its status."""

    kind: str
    namespace: str
    name: str
    uid: str
    service: str
    team: str | None
    env: str | None
    version: str | None
    commit_sha: str | None
    repository_url: str | None
    generation: int
    observed_generation: int
    # Deployment: the revision annotation; StatefulSet: updateRevision's name.
    revision_ref: str | None
    replicas: int
    updated: int
    available: int
    total: int
    # StatefulSet: currentRevision == updateRevision.
    revisions_agree: bool
    paused: bool
    progressing: tuple[str, str, datetime | None] | None  # (status, reason, lastUpdateTime)


@dataclass(frozen=True, slots=True)
class Verdict:
    """A rollout that is over: the Deployment to record."""

    name: str
    spec: DeploymentSpec


def _time(value: object) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _int(value: object, default: int = 0) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def image_version(image: str) -> str:
    """`app:1.4.0` -> 1.4.0, `app@sha256:ab…` -> sha256:ab…, `app` -> latest."""
    if "@" in image:
        return image.split("@", 1)[1]
    last = image.rsplit("/", 1)[-1]
    return last.split(":", 1)[1] if ":" in last else "latest"


def workload_of(kind: str, body: Body) -> Workload | None:
    """The workload, or None when it is not a catalog entry of a kind we follow."""
    meta = body.get("metadata") or {}
    annotations = meta.get("annotations") or {}
    if kind not in KINDS or SERVICE not in annotations:
        return None
    spec, status = body.get("spec") or {}, body.get("status") or {}
    template = (spec.get("template") or {}).get("metadata") or {}
    labels = template.get("labels") or {}
    template_annotations = template.get("annotations") or {}
    containers = ((spec.get("template") or {}).get("spec") or {}).get("containers") or []
    version = next((labels[k] for k in VERSION_LABELS if labels.get(k)), None)
    if version is None and containers and containers[0].get("image"):
        version = image_version(str(containers[0]["image"]))
    commit = template_annotations.get(COMMIT_SHA, "").strip()
    replicas = _int(spec.get("replicas"), 1)
    if kind == "Deployment":
        revision_ref = annotations.get(REVISION)
        updated, available = (
            _int(status.get("updatedReplicas")),
            _int(status.get("availableReplicas")),
        )
        total = _int(status.get("replicas"))
    elif kind == "StatefulSet":
        revision_ref = status.get("updateRevision")
        updated = _int(status.get("updatedReplicas"))
        if status.get("currentRevision") == revision_ref:
            # Once a rollout completes the controller moves the updated
            # replicas to currentReplicas (updatedReplicas may drop to 0).
            updated = max(updated, _int(status.get("currentReplicas")))
        available = _int(status.get("availableReplicas", status.get("readyReplicas")))
        total = _int(status.get("replicas"))
    else:
        revision_ref = None
        replicas = _int(status.get("desiredNumberScheduled"))
        updated = _int(status.get("updatedNumberScheduled"))
        available, total = (
            _int(status.get("numberAvailable")),
            _int(status.get("currentNumberScheduled")),
        )
    progressing = next(
        (
            (str(c.get("status")), str(c.get("reason")), _time(c.get("lastUpdateTime")))
            for c in status.get("conditions") or ()
            if c.get("type") == "Progressing"
        ),
        None,
    )
    return Workload(
        kind=kind,
        namespace=str(meta.get("namespace") or ""),
        name=str(meta.get("name")),
        uid=str(meta.get("uid")),
        service=str(annotations[SERVICE]).strip() or str(meta.get("name")),
        team=str(annotations.get(TEAM, "")).strip() or None,
        env=str(annotations.get(ENV, "")).strip() or labels.get(ENV_LABEL) or None,
        version=version,
        commit_sha=commit.lower() if _HEX.match(commit) else None,
        repository_url=template_annotations.get(REPOSITORY_URL) or None,
        generation=_int(meta.get("generation")),
        observed_generation=_int(status.get("observedGeneration"), -1),
        revision_ref=str(revision_ref) if revision_ref else None,
        replicas=replicas,
        updated=updated,
        available=available,
        total=total,
        revisions_agree=status.get("currentRevision") == status.get("updateRevision"),
        paused=bool(spec.get("paused")),
        progressing=progressing,
    )


def revision_of(body: Body) -> Revision | None:
    """A ReplicaSet or ControllerRevision owned by a workload kind we follow."""
    meta = body.get("metadata") or {}
    owner = next(
        (
            ref
            for ref in meta.get("ownerReferences") or ()
            if ref.get("controller") and ref.get("kind") in KINDS
        ),
        None,
    )
    created = _time(meta.get("creationTimestamp"))
    if owner is None or created is None:
        return None
    annotations = meta.get("annotations") or {}
    if "revision" in body:  # a ControllerRevision
        number = _int(body.get("revision"), -1)
    else:
        text = str(annotations.get(REVISION, ""))
        number = int(text) if text.isdigit() else -1
    if number < 0:
        return None
    return Revision(
        owner_uid=str(owner.get("uid")),
        name=str(meta.get("name")),
        number=number,
        created=created,
        reused=bool(annotations.get(REVISION_HISTORY)),
    )


def current_revision(workload: Workload, revisions: Iterable[Revision]) -> Revision | None:
    """The revision the workload is rolling out (or has rolled out)."""
    owned = [r for r in revisions if r.owner_uid == workload.uid]
    if workload.kind == "Deployment":
        wanted = _revision_annotation(workload)
        return next((r for r in owned if r.number == wanted), None)
    if workload.kind == "StatefulSet":
        return next((r for r in owned if r.name == workload.revision_ref), None)
    # A DaemonSet's current template has the highest ControllerRevision number.
    return max(owned, key=lambda r: r.number, default=None)


def revision_number(workload: Workload, revision: Revision | None) -> int | None:
    if revision is not None:
        return revision.number
    if workload.kind == "Deployment":
        return _revision_annotation(workload)
    return None


def _revision_annotation(workload: Workload) -> int | None:
    ref = workload.revision_ref or ""
    return int(ref) if ref.isdigit() else None


def outcome(workload: Workload) -> tuple[DeploymentOutcome, str | None, datetime | None] | None:
    """Whether the current revision's rollout is over: (outcome, reason,
    finish time when the workload records it), or None while it runs."""
    if workload.paused or workload.observed_generation < workload.generation:
        return None
    progressing = workload.progressing
    if workload.kind == "Deployment" and progressing is not None:
        status, reason, updated_at = progressing
        if status == "False" and reason == "ProgressDeadlineExceeded":
            return (DeploymentOutcome.FAILED, reason, updated_at)
        if status != "True" or reason != "NewReplicaSetAvailable":
            return None
    if workload.kind == "StatefulSet" and not workload.revisions_agree:
        return None
    settled = (
        workload.updated == workload.replicas
        and workload.available >= workload.replicas
        and workload.total == workload.replicas
    )
    if not settled:
        return None
    finished = progressing[2] if workload.kind == "Deployment" and progressing else None
    return (DeploymentOutcome.SUCCEEDED, None, finished)


def deployment_name(workload: Workload, number: int) -> str:
    identity = digest(workload.kind, workload.namespace, workload.name, workload.uid, str(number))
    return "-".join(p for p in ("k8s", slug(workload.name, max_length=40), identity) if p)


def verdict(
    workload: Workload,
    revision: Revision | None,
    first_seen: datetime | None,
    now: datetime,
) -> Verdict | None:
    """The Deployment to record for the workload's current revision, once
    its rollout is over; None while it runs (or without a revision)."""
    number = revision_number(workload, revision)
    over = outcome(workload)
    if number is None or over is None:
        return None
    result, reason, finished = over
    if finished is None:
        # Nothing in the workload records when it completed: now, if this
        # run saw the rollout under way; else it completed unseen (before
        # the operator started), and the revision's creation places it
        # closer than the moment the operator came back.
        finished = now if first_seen is not None or revision is None else revision.created
    if revision is None:
        started = first_seen or finished
    elif revision.reused or (first_seen and first_seen - revision.created > REUSED_AFTER):
        # A rollback: the revision is older than its rollout.
        started = first_seen or finished
    else:
        started = revision.created
    git = None
    if workload.commit_sha or workload.repository_url:
        git = GitInfo(commit_sha=workload.commit_sha, repository_url=workload.repository_url)
    spec = DeploymentSpec(
        service=workload.service,
        team=workload.team,
        env=workload.env,
        version=workload.version,
        started_at=min(started, finished),
        finished_at=finished,
        git=git,
        source=DeploymentSource.KUBERNETES,
        outcome=result,
        outcome_reason=reason,
        custom_tags=[
            f"k8s_workload:{workload.kind}/{workload.namespace}/{workload.name}",
            f"k8s_revision:{number}",
        ],
    )
    return Verdict(deployment_name(workload, number), spec)
