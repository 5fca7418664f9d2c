"""Rollout decisions on synthetic workload bodies: when a rollout is over,
what it records, and what is no deployment."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from kubedora.ingest import rollouts
from kubedora.ingest.rollouts import Revision
from kubedora.models import DeploymentOutcome, DeploymentSource

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
NOW = T0 + timedelta(minutes=5)
SHA = "8d0e4b1c2f3a4b5c6d7e8f90a1b2c3d4e5f60718"


def stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def deployment(
    *,
    revision: str = "2",
    generation: int = 4,
    observed: int = 4,
    updated: int = 3,
    available: int = 3,
    total: int = 3,
    progressing: tuple[str, str] = ("True", "NewReplicaSetAvailable"),
    image: str = "registry.example:5000/shop/web:1.4.0",
    labels: dict[str, str] | None = None,
) -> dict[str, Any]:
    return {
        "metadata": {
            "name": "web",
            "namespace": "shop",
            "uid": "uid-web",
            "generation": generation,
            "annotations": {
                "kubedora.io/service": "checkout",
                "kubedora.io/team": "shop",
                "deployment.kubernetes.io/revision": revision,
            },
        },
        "spec": {
            "replicas": 3,
            "template": {
                "metadata": {
                    "labels": {"app": "web", **(labels or {})},
                    "annotations": {
                        "kubedora.io/git-commit-sha": SHA,
                        "kubedora.io/git-repository-url": "https://github.com/acme/web",
                    },
                },
                "spec": {"containers": [{"name": "web", "image": image}]},
            },
        },
        "status": {
            "observedGeneration": observed,
            "replicas": total,
            "updatedReplicas": updated,
            "availableReplicas": available,
            "conditions": [
                {
                    "type": "Progressing",
                    "status": progressing[0],
                    "reason": progressing[1],
                    "lastUpdateTime": stamp(T0 + timedelta(seconds=40)),
                }
            ],
        },
    }


def replica_set(number: int, created: datetime, *, history: str | None = None) -> Revision:
    annotations = {"deployment.kubernetes.io/revision": str(number)}
    if history:
        annotations["deployment.kubernetes.io/revision-history"] = history
    revision = rollouts.revision_of(
        {
            "metadata": {
                "name": f"web-{number}",
                "creationTimestamp": stamp(created),
                "annotations": annotations,
                "ownerReferences": [
                    {"kind": "Deployment", "name": "web", "uid": "uid-web", "controller": True}
                ],
            }
        }
    )
    assert revision is not None
    return revision


def decide(
    body: dict[str, Any], revisions: list[Revision], first_seen: datetime | None = None
) -> rollouts.Verdict | None:
    workload = rollouts.workload_of("Deployment", body)
    assert workload is not None
    current = rollouts.current_revision(workload, revisions)
    return rollouts.verdict(workload, current, first_seen, NOW)


def name_of(body: dict[str, Any], revisions: list[Revision]) -> str:
    verdict = decide(body, revisions)
    assert verdict is not None
    return verdict.name


REVISIONS = [replica_set(1, T0 - timedelta(days=3)), replica_set(2, T0)]


def test_a_completed_rollout_is_one_deployment_with_its_times_and_names() -> None:
    verdict = decide(deployment(), REVISIONS)
    assert verdict is not None
    spec = verdict.spec
    assert (spec.service, spec.team, spec.version) == ("checkout", "shop", "1.4.0")
    assert spec.started_at == T0  # the new ReplicaSet's creation
    assert spec.finished_at == T0 + timedelta(seconds=40)  # Progressing's lastUpdateTime
    assert spec.source is DeploymentSource.KUBERNETES
    assert spec.outcome is DeploymentOutcome.SUCCEEDED
    assert spec.git is not None
    assert spec.git.commit_sha == SHA
    assert verdict.name.startswith("k8s-web-")
    # Deterministic: the same rollout decided again has the same name.
    assert decide(deployment(), REVISIONS) == verdict


@pytest.mark.parametrize(
    "changes",
    [
        {"observed": 3},
        {"updated": 2},
        {"available": 2},
        {"total": 4},
        {"progressing": ("True", "ReplicaSetUpdated")},
    ],
)
def test_a_rollout_under_way_is_nothing_yet(changes: dict[str, Any]) -> None:
    assert decide(deployment(**changes), REVISIONS) is None


def test_past_the_progress_deadline_is_a_failed_deployment() -> None:
    body = deployment(updated=1, available=0, progressing=("False", "ProgressDeadlineExceeded"))
    verdict = decide(body, REVISIONS)
    assert verdict is not None
    assert verdict.spec.outcome is DeploymentOutcome.FAILED
    assert verdict.spec.outcome_reason == "ProgressDeadlineExceeded"
    assert verdict.name == name_of(deployment(), REVISIONS)


def test_scaling_keeps_the_revision_so_the_same_name() -> None:
    scaled = deployment(generation=5, observed=5)
    assert name_of(scaled, REVISIONS) == name_of(deployment(), REVISIONS)


def test_metadata_changes_keep_the_name() -> None:
    body = deployment()
    body["metadata"]["labels"] = {"tier": "frontend"}
    assert name_of(body, REVISIONS) == name_of(deployment(), REVISIONS)


def test_a_rollback_is_a_new_revision_of_the_old_template_started_when_seen() -> None:
    # `rollout undo` renumbers revision 1's ReplicaSet to 3.
    revisions = [replica_set(3, T0 - timedelta(days=3), history="1"), replica_set(2, T0)]
    seen = T0 + timedelta(seconds=10)
    verdict = decide(deployment(revision="3", image="web:1.3.0"), revisions, seen)
    assert verdict is not None
    assert verdict.spec.version == "1.3.0"
    assert verdict.spec.started_at == seen
    assert verdict.name != name_of(deployment(), REVISIONS)


@pytest.mark.parametrize(
    ("labels", "image", "version"),
    [
        ({"app.kubernetes.io/version": "2.0.0", "tags.datadoghq.com/version": "x"}, "a:1", "2.0.0"),
        ({"tags.datadoghq.com/version": "2.0.1"}, "a:1", "2.0.1"),
        ({}, "registry.example:5000/a/b:3.1", "3.1"),
        ({}, "a/b@sha256:" + "f" * 64, "sha256:" + "f" * 64),
        ({}, "registry.example:5000/a/b", "latest"),
    ],
)
def test_the_version_comes_from_labels_then_the_image(
    labels: dict[str, str], image: str, version: str
) -> None:
    verdict = decide(deployment(labels=labels, image=image), REVISIONS)
    assert verdict is not None
    assert verdict.spec.version == version


def test_an_unannotated_workload_is_not_followed() -> None:
    body = copy.deepcopy(deployment())
    del body["metadata"]["annotations"]["kubedora.io/service"]
    assert rollouts.workload_of("Deployment", body) is None


def statefulset(update: str, current: str, ready: int = 2) -> dict[str, Any]:
    return {
        "metadata": {
            "name": "db",
            "namespace": "shop",
            "uid": "uid-db",
            "generation": 2,
            "annotations": {"kubedora.io/service": "", "kubedora.io/env": "prod"},
        },
        "spec": {
            "replicas": 2,
            "template": {"spec": {"containers": [{"name": "db", "image": "db:16.1"}]}},
        },
        "status": {
            "observedGeneration": 2,
            "replicas": 2,
            "updatedReplicas": 2,
            "availableReplicas": ready,
            "readyReplicas": ready,
            "updateRevision": update,
            "currentRevision": current,
        },
    }


def controller_revision(name: str, number: int, created: datetime) -> Revision:
    revision = rollouts.revision_of(
        {
            "metadata": {
                "name": name,
                "creationTimestamp": stamp(created),
                "ownerReferences": [{"kind": "StatefulSet", "uid": "uid-db", "controller": True}],
            },
            "revision": number,
        }
    )
    assert revision is not None
    return revision


def test_a_statefulset_is_done_when_its_revisions_agree() -> None:
    revisions = [
        controller_revision("db-a", 1, T0 - timedelta(days=1)),
        controller_revision("db-b", 2, T0),
    ]
    running = rollouts.workload_of("StatefulSet", statefulset("db-b", "db-a"))
    done = rollouts.workload_of("StatefulSet", statefulset("db-b", "db-b"))
    assert running is not None
    assert done is not None
    seen = T0 + timedelta(seconds=2)
    assert (
        rollouts.verdict(running, rollouts.current_revision(running, revisions), seen, NOW) is None
    )
    verdict = rollouts.verdict(done, rollouts.current_revision(done, revisions), seen, NOW)
    assert verdict is not None
    assert (verdict.spec.service, verdict.spec.env, verdict.spec.version) == ("db", "prod", "16.1")
    # Seen under way: finished when seen complete.
    assert (verdict.spec.started_at, verdict.spec.finished_at) == (T0, NOW)
    assert "k8s_revision:2" in verdict.spec.custom_tags
    # Complete before the operator ever saw it: placed at the revision's creation.
    unseen = rollouts.verdict(done, rollouts.current_revision(done, revisions), None, NOW)
    assert unseen is not None
    assert (unseen.spec.started_at, unseen.spec.finished_at) == (T0, T0)
    assert unseen.name == verdict.name


def test_a_completed_statefulset_reports_its_replicas_as_current() -> None:
    # What the controller leaves once a rolling update is complete.
    body = statefulset("db-b", "db-b")
    body["status"] |= {"updatedReplicas": 0, "currentReplicas": 2}
    revisions = [controller_revision("db-b", 2, T0)]
    done = rollouts.workload_of("StatefulSet", body)
    assert done is not None
    assert rollouts.verdict(done, rollouts.current_revision(done, revisions), None, NOW)


def test_a_daemonset_rolls_out_its_highest_revision() -> None:
    body: dict[str, Any] = {
        "metadata": {"name": "agent", "namespace": "ops", "uid": "uid-ds", "generation": 3,
                     "annotations": {"kubedora.io/service": "agent"}},
        "spec": {"template": {"spec": {"containers": [{"name": "a", "image": "agent:7"}]}}},
        "status": {"observedGeneration": 3, "desiredNumberScheduled": 3,
                   "currentNumberScheduled": 3, "updatedNumberScheduled": 3, "numberAvailable": 3},
    }  # fmt: skip
    workload = rollouts.workload_of("DaemonSet", body)
    assert workload is not None
    owned = [
        Revision("uid-ds", "agent-a", 1, T0 - timedelta(days=1)),
        Revision("uid-ds", "agent-b", 4, T0),
    ]
    current = rollouts.current_revision(workload, owned)
    assert current is not None
    assert current.number == 4
    body["status"]["updatedNumberScheduled"] = 2
    unfinished = rollouts.workload_of("DaemonSet", body)
    assert unfinished is not None
    assert rollouts.verdict(unfinished, current, None, NOW) is None
