"""Lead time from a real git server and change failures from deployments,
computed by the operator into Deployment, Failure and DoraSource status."""

from __future__ import annotations

import functools
import statistics
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client

from tests.support.dora import ago, create, deployment, get, patch_spec, rfc3339
from tests.support.gitserver import GitServer, WorkTree, serving
from tests.support.kube import poll

pytestmark = pytest.mark.usefixtures("operator")


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[tuple[GitServer, GitServer]]:
    with serving(tmp_path / "allowed") as allowed, serving(tmp_path / "other") as other:
        yield allowed, other


def status_of(api: client.CustomObjectsApi, namespace: str, name: str) -> dict[str, Any]:
    status: dict[str, Any] = get(api, namespace, "Deployment", name).get("status") or {}
    return status


def with_lead_time(
    api: client.CustomObjectsApi, namespace: str, name: str
) -> dict[str, Any] | None:
    status = status_of(api, namespace, name)
    return status if status.get("leadTime") else None


def lead_condition(status: dict[str, Any]) -> dict[str, Any] | None:
    return next(
        (c for c in status.get("conditions") or () if c["type"] == "LeadTimeUnavailable"), None
    )


def wait_reason(api: client.CustomObjectsApi, namespace: str, name: str, reason: str) -> None:
    poll(
        lambda: (
            (c := lead_condition(status_of(api, namespace, name))) is not None
            and c["reason"] == reason
        ),
        timeout=60,
        what=f"{name}: LeadTimeUnavailable {reason}",
    )


def test_lead_time_rollback_and_links(
    custom_objects: client.CustomObjectsApi,
    namespace: str,
    servers: tuple[GitServer, GitServer],
    tmp_path: Path,
) -> None:
    allowed, other = servers
    allowed.bare("shop")
    tree = WorkTree(tmp_path / "work", allowed.url("shop"))
    c0 = tree.commit("base", ago(days=3))
    tree.branch("feature")
    tree.commit("feature 1", ago(days=2, hours=20))
    tree.branch("main", c0)
    tree.commit("main 1", ago(days=2, hours=12))
    tree.merge("feature", ago(days=2, hours=6))
    c3 = tree.commit("main 2", ago(days=1, hours=4))
    c4 = tree.commit("main 3", ago(hours=22))
    tree.push()
    url = allowed.url("shop")

    create(
        custom_objects,
        namespace,
        "DoraSource",
        "prod",
        {
            "window": "30d",
            "git": {"hosts": [{"host": allowed.address}]},
            "changeFailure": {"definition": "deployments"},
        },
    )

    def shipped(name: str, version: str, commit: str, finished: Any, **extra: Any) -> None:
        spec = deployment(
            "checkout",
            finished,
            env="prod",
            version=version,
            git={"repositoryUrl": url, "commitSha": commit},
            **extra,
        )
        create(custom_objects, namespace, "Deployment", name, spec)

    shipped("d1", "1", c0, ago(days=2))
    d2_finished = ago(days=1)
    shipped("d2", "2", c3, d2_finished)
    d3_finished = ago(hours=20)
    shipped("d3", "3", c4, d3_finished)
    d4_finished = ago(hours=2)
    shipped("d4", "1", c0, d4_finished)
    # Not allowed: the other server must never be asked.
    other.bare("shop")
    create(
        custom_objects,
        namespace,
        "Deployment",
        "elsewhere-1",
        deployment(
            "search",
            ago(days=2),
            env="prod",
            git={"repositoryUrl": other.url("shop"), "commitSha": c0},
        ),
    )
    create(
        custom_objects,
        namespace,
        "Deployment",
        "elsewhere-2",
        deployment(
            "search",
            ago(days=1),
            env="prod",
            git={"repositoryUrl": other.url("shop"), "commitSha": c3},
        ),
    )
    create(
        custom_objects,
        namespace,
        "Deployment",
        "plain",
        deployment("cart", ago(days=1), env="prod"),
    )
    # More than 60 days between two deployments.
    for name, days in (("legacy-1", 70), ("legacy-2", 1)):
        create(
            custom_objects,
            namespace,
            "Deployment",
            name,
            deployment(
                "legacy",
                ago(days=days),
                env="prod",
                git={"repositoryUrl": url, "commitSha": c0 if days == 70 else c3},
            ),
        )
    create(
        custom_objects,
        namespace,
        "Failure",
        "outage",
        {
            "services": ["checkout"],
            "env": "prod",
            "startedAt": rfc3339(d3_finished + timedelta(hours=1)),
        },
    )

    # d2 shipped c0..c3 without the merge; d3 shipped c3..c4.
    expected: dict[str, list[float]] = {}
    for name, base, head, finished in (("d2", c0, c3, d2_finished), ("d3", c3, c4, d3_finished)):
        times = [(finished.timestamp() - ct) for _, ct in tree.rev_list(base, head)]
        expected[name] = times
        status = poll(
            functools.partial(with_lead_time, custom_objects, namespace, name),
            timeout=60,
            what=f"{name} lead time",
        )
        assert status["commits"] == len(times)
        assert status["leadTime"] == {
            "firstCommitSeconds": max(times),
            "medianSeconds": statistics.median(times),
        }
        condition = lead_condition(status)
        assert condition is not None
        assert (condition["status"], condition["reason"]) == ("False", "Computed")
    assert len(expected["d2"]) == 3  # feature 1, main 1, main 2: the merge is left out

    wait_reason(custom_objects, namespace, "d1", "NoPreviousDeployment")
    wait_reason(custom_objects, namespace, "d4", "NoCommits")
    wait_reason(custom_objects, namespace, "plain", "NoGitData")
    wait_reason(custom_objects, namespace, "legacy-2", "PreviousTooOld")
    wait_reason(custom_objects, namespace, "elsewhere-2", "HostNotAllowed")
    assert other.seen == []

    # V1 → V2 → V3 → V1: d2 failed, d4 a rollback of d1.
    d2 = poll(
        lambda: (
            (s := status_of(custom_objects, namespace, "d2")).get("changeFailure", {}).get("failed")
            and s
        ),
        timeout=60,
        what="d2 marked as a change failure",
    )
    assert d2["changeFailure"] == {
        "failed": True,
        "reason": "rollback",
        "detail": "rolled back by d4 to d1",
        "remediatedBy": "d4",
        "remediatedAt": rfc3339(d4_finished),
        "recoverySeconds": (d4_finished - d2_finished).total_seconds(),
    }
    assert status_of(custom_objects, namespace, "d4")["rollback"] == {"of": "d1"}
    assert status_of(custom_objects, namespace, "d3")["changeFailure"] == {"failed": False}

    failure = poll(
        lambda: (get(custom_objects, namespace, "Failure", "outage").get("status") or {}).get(
            "linkedDeployment"
        ),
        timeout=60,
        what="the failure's linked deployment",
    )
    assert failure == "d3"

    commits = expected["d2"] + expected["d3"]
    want = statistics.median(commits)

    def scoreboard() -> dict[str, Any]:
        status = get(custom_objects, namespace, "DoraSource", "prod").get("status") or {}
        found: dict[str, Any] = status.get("summary") or {}
        return found

    summary = poll(
        lambda: (
            (s := scoreboard()).get("medianLeadTimeSeconds") == want
            and s.get("rollbacks") == 1
            and s
        ),
        timeout=60,
        what=f"the scoreboard's lead time {want} and rollback: {scoreboard()}",
    )
    # 8 deployments in the window (legacy-1 is older), 1 rollback, 1 change
    # failure (d2); 1 failure event.
    assert summary["deployments"] == 8
    assert summary["changeFailures"] == 1
    assert summary["deploymentChangeFailureRate"] == 1 / 7
    assert summary["failureEventRate"] == 1 / 8
    assert summary["changeFailureRate"] == 1 / 7
    assert (
        summary["medianFailedDeploymentRecoverySeconds"]
        == (d4_finished - d2_finished).total_seconds()
    )

    # Marking by hand overrules detection: d3 failed, d2 not.
    patch_spec(
        custom_objects, namespace, "Deployment", "d3", {"changeFailure": True, "remediatedBy": "d4"}
    )
    patch_spec(custom_objects, namespace, "Deployment", "d2", {"changeFailure": False})
    d3 = poll(
        lambda: (
            (s := status_of(custom_objects, namespace, "d3")).get("changeFailure", {}).get("failed")
            and s
        ),
        timeout=60,
        what="d3 marked by hand",
    )
    assert d3["changeFailure"]["reason"] == "manual"
    assert d3["changeFailure"]["recoverySeconds"] == (d4_finished - d3_finished).total_seconds()
    poll(
        lambda: status_of(custom_objects, namespace, "d2")["changeFailure"] == {"failed": False},
        timeout=60,
        what="d2 no longer a change failure",
    )
