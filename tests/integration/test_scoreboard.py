"""The operator computes CFR and TTR into DoraSource status, against a real
API server, for every rule of the semantics."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from kubernetes import client

from kubedora.metrics import frequency_band
from tests.support.dora import ago, create, deployment, get, patch_spec, rfc3339, timeline
from tests.support.kube import poll
from tests.support.operator import OperatorProcess

pytestmark = pytest.mark.usefixtures("operator")

DAY = 86400.0


def summary_of(api: client.CustomObjectsApi, namespace: str, name: str) -> dict[str, Any] | None:
    status = get(api, namespace, "DoraSource", name).get("status") or {}
    summary: dict[str, Any] | None = status.get("summary")
    return summary


def wait_for_summary(
    api: client.CustomObjectsApi,
    namespace: str,
    name: str,
    expected: dict[str, Any],
    *,
    window_days: float = 30,
) -> dict[str, Any]:
    # The deployment frequency follows from the deployments and the window
    # (its bands are pinned by tests/unit/metrics/test_frequency.py).
    per_day = expected["deployments"] / window_days
    band = frequency_band(per_day)
    expected = expected | {"deploymentsPerDay": per_day, "deploymentFrequency": band}
    # A null figure is written as JSON null in a merge patch, which removes
    # the field: absent is how the API server stores "no value".
    # Only the figures named: lead time and change failures have tests of their own.
    return poll(
        lambda: (
            (s := summary_of(api, namespace, name)) is not None
            and all(s.get(key) == value for key, value in expected.items())
            and s
        ),
        timeout=30,
        what=f"summary {expected}",
    )


def test_every_rule_lands_in_the_scoreboard(
    custom_objects: client.CustomObjectsApi, namespace: str
) -> None:
    for i, (service, days_ago) in enumerate(
        [
            ("checkout", 1),
            ("checkout", 2),
            ("checkout", 3),
            ("checkout", 4),
            ("payments", 1),
            ("payments", 5),
            ("checkout", 10),
        ]
    ):
        create(
            custom_objects,
            namespace,
            "Deployment",
            f"d{i}",
            deployment(service, ago(days=days_ago), env="prod", team="shop"),
        )

    t = ago(days=1)
    # Resolved after 30 minutes: one active period from start to finish.
    create(
        custom_objects,
        namespace,
        "Failure",
        "resolved",
        {
            "services": ["checkout"],
            "team": "shop",
            "env": "prod",
            "startedAt": rfc3339(t),
            "finishedAt": rfc3339(ago(days=1, minutes=-30)),
        },
    )
    # Two services; stable counts as restored, time in stable is not active.
    create(
        custom_objects,
        namespace,
        "Failure",
        "stable-two-services",
        {
            "services": ["checkout", "payments"],
            "team": "shop",
            "env": "prod",
            "startedAt": rfc3339(t),
            "state": "stable",
            "timeline": timeline(("active", t), ("stable", ago(days=1, seconds=-600))),
        },
    )
    # Open: counted as a failure, no time to restore (not zero).
    create(
        custom_objects,
        namespace,
        "Failure",
        "open",
        {
            "services": ["payments"],
            "env": "prod",
            "startedAt": rfc3339(ago(hours=3)),
        },
    )
    # Reactivated after resolve, then stable: TTR stays hidden until resolved again.
    create(
        custom_objects,
        namespace,
        "Failure",
        "reopened-stable",
        {
            "services": ["payments"],
            "env": "prod",
            "startedAt": rfc3339(t),
            "timeline": timeline(
                ("active", t),
                ("resolved", ago(days=1, seconds=-100)),
                ("active", ago(days=1, seconds=-200)),
                ("stable", ago(days=1, seconds=-300)),
            ),
        },
    )
    # Started before the window, restored inside it: a TTR point, not a failure.
    create(
        custom_objects,
        namespace,
        "Failure",
        "old",
        {
            "services": ["checkout"],
            "env": "prod",
            "startedAt": rfc3339(ago(days=9)),
            "finishedAt": rfc3339(ago(days=2)),
        },
    )
    # A source the DoraSource does not count.
    create(
        custom_objects,
        namespace,
        "Failure",
        "incident-source",
        {
            "services": ["checkout"],
            "env": "prod",
            "source": "incident",
            "startedAt": rfc3339(t),
            "finishedAt": rfc3339(ago(hours=20)),
        },
    )
    create(
        custom_objects,
        namespace,
        "DoraSource",
        "board",
        {"window": "7d", "failureSources": ["api", "pagerduty"]},
    )

    wait_for_summary(
        custom_objects,
        namespace,
        "board",
        {
            "deployments": 6,
            "failures": 4,
            "restoredFailures": 3,
            "changeFailureRate": 4 / 6,
            "medianTimeToRestoreSeconds": 1800.0,
        },
        window_days=7,
    )
    status = get(custom_objects, namespace, "DoraSource", "board")["status"]
    rows = {(r["dimension"], r["key"]): r for r in status["breakdown"]}
    assert set(rows) == {
        ("service", "checkout"),
        ("service", "payments"),
        ("team", "shop"),
        ("env", "prod"),
    }
    checkout = rows[("service", "checkout")]
    assert (checkout["deployments"], checkout["failures"], checkout["restoredFailures"]) == (
        4,
        2,
        3,
    )
    assert checkout["changeFailureRate"] == 0.5
    assert checkout["medianTimeToRestoreSeconds"] == 1800.0
    payments = rows[("service", "payments")]
    assert (payments["deployments"], payments["failures"], payments["restoredFailures"]) == (
        2,
        3,
        1,
    )
    assert payments["changeFailureRate"] == 1.5
    assert payments["medianTimeToRestoreSeconds"] == 600.0
    assert status["display"] == {
        "changeFailureRate": "66.7%",
        "medianTimeToRestore": "30m",
        "medianLeadTime": "-",
        "deploymentFrequency": "high (6/week)",
    }
    ready = next(c for c in status["conditions"] if c["type"] == "Ready")
    assert ready["status"] == "True"
    assert status["observedGeneration"] == 1

    # Each failure's own status is written by its handler, apart from the
    # scoreboard, which counts from the spec: wait for it to be there.
    def own_status(name: str) -> dict[str, Any] | None:
        found: dict[str, Any] | None = get(custom_objects, namespace, "Failure", name).get("status")
        return found if found and "state" in found else None

    failure = poll(lambda: own_status("open"), what="the open failure's status")
    assert failure["state"] == "active"
    assert failure.get("timeToRestoreSeconds") is None
    hidden = poll(lambda: own_status("reopened-stable"), what="the reopened failure's status")
    assert hidden["state"] == "stable"
    assert hidden.get("timeToRestoreSeconds") is None


def test_an_empty_window_has_no_rates(
    custom_objects: client.CustomObjectsApi, namespace: str
) -> None:
    create(custom_objects, namespace, "DoraSource", "empty", {"window": "30d"})
    wait_for_summary(
        custom_objects,
        namespace,
        "empty",
        {
            "deployments": 0,
            "failures": 0,
            "restoredFailures": 0,
            "changeFailureRate": None,
            "medianTimeToRestoreSeconds": None,
        }
        | {},
    )


def test_failures_without_deployments_have_no_change_failure_rate(
    custom_objects: client.CustomObjectsApi, namespace: str
) -> None:
    create(custom_objects, namespace, "DoraSource", "board", {})
    create(
        custom_objects,
        namespace,
        "Failure",
        "f",
        {
            "team": "shop",
            "startedAt": rfc3339(ago(hours=2)),
            "finishedAt": rfc3339(ago(hours=1)),
        },
    )
    wait_for_summary(
        custom_objects,
        namespace,
        "board",
        {
            "deployments": 0,
            "failures": 1,
            "restoredFailures": 1,
            "changeFailureRate": None,
            "medianTimeToRestoreSeconds": 3600.0,
        },
    )


def test_state_edits_are_observed_into_the_timeline(
    custom_objects: client.CustomObjectsApi,
    core_v1: client.CoreV1Api,
    namespace: str,
) -> None:
    # Timed from this test's own clock: the module's NOW is as old as the run.
    started = datetime.now(UTC) - timedelta(minutes=10)
    create(
        custom_objects,
        namespace,
        "Failure",
        "f",
        {"services": ["checkout"], "startedAt": rfc3339(started), "state": "active"},
    )

    def failure_status() -> dict[str, Any]:
        status: dict[str, Any] = get(custom_objects, namespace, "Failure", "f").get("status") or {}
        return status

    poll(lambda: failure_status().get("state") == "active", what="the failure to be active")
    assert failure_status().get("timeToRestoreSeconds") is None

    patch_spec(custom_objects, namespace, "Failure", "f", {"state": "stable"})
    restored = poll(
        lambda: (s := failure_status()).get("timeToRestoreSeconds") is not None and s,
        what="TTR to be shown once stable",
    )
    assert [e["state"] for e in restored["timeline"]] == ["active", "stable"]
    # Ten minutes since start, plus the moments the test took.
    assert 600 <= restored["timeToRestoreSeconds"] < 660

    patch_spec(custom_objects, namespace, "Failure", "f", {"state": "resolved"})
    poll(lambda: failure_status().get("state") == "resolved", what="resolved")
    patch_spec(custom_objects, namespace, "Failure", "f", {"state": "active"})
    reopened = poll(
        lambda: (s := failure_status()).get("state") == "active" and s, what="reactivated"
    )
    assert reopened.get("timeToRestoreSeconds") is None
    patch_spec(custom_objects, namespace, "Failure", "f", {"state": "stable"})
    poll(lambda: failure_status().get("state") == "stable", what="stable after reopening")
    # Stable after a reactivation does not restore: only resolved does.
    assert failure_status().get("timeToRestoreSeconds") is None
    patch_spec(custom_objects, namespace, "Failure", "f", {"state": "resolved"})
    poll(
        lambda: failure_status().get("timeToRestoreSeconds") is not None,
        what="TTR shown again once resolved",
    )
    assert [e["state"] for e in failure_status()["timeline"]] == [
        "active",
        "stable",
        "resolved",
        "active",
        "stable",
        "resolved",
    ]

    events = poll(
        lambda: (
            (
                reasons := [
                    e.reason
                    for e in core_v1.list_namespaced_event(namespace).items
                    if e.involved_object.name == "f"
                ]
            ).count("Restored")
            >= 2
            and reasons
        ),
        what="Restored and Reopened events",
    )
    assert "Reopened" in events


def test_a_burst_of_failures_costs_a_handful_of_recomputes(
    custom_objects: client.CustomObjectsApi, namespace: str, operator: OperatorProcess
) -> None:
    create(custom_objects, namespace, "DoraSource", "board", {})
    wait_for_summary(
        custom_objects,
        namespace,
        "board",
        {
            "deployments": 0,
            "failures": 0,
            "restoredFailures": 0,
            "changeFailureRate": None,
            "medianTimeToRestoreSeconds": None,
        },
    )
    start_rv = int(
        get(custom_objects, namespace, "DoraSource", "board")["metadata"]["resourceVersion"]
    )
    burst = 300
    for i in range(burst):
        create(
            custom_objects,
            namespace,
            "Failure",
            f"f{i}",
            {
                "team": "shop",
                "startedAt": rfc3339(ago(minutes=i + 1)),
            },
        )
    wait_for_summary(
        custom_objects,
        namespace,
        "board",
        {
            "deployments": 0,
            "failures": burst,
            "restoredFailures": 0,
            "changeFailureRate": None,
            "medianTimeToRestoreSeconds": None,
        },
    )
    writes = _status_writes_since(custom_objects, namespace, "board", start_rv)
    assert writes <= 30, f"{writes} scoreboard writes for a burst of {burst} failures"


def _status_writes_since(
    api: client.CustomObjectsApi, namespace: str, name: str, resource_version: int
) -> int:
    """Count MODIFIED events of one DoraSource after a resourceVersion."""
    from kubernetes import watch

    count = 0
    # The watch module is unannotated; its events are JSON objects for custom objects.
    stream: Iterator[dict[str, Any]] = watch.Watch().stream(  # type: ignore[no-untyped-call]
        api.list_namespaced_custom_object,
        "kubedora.io",
        "v1alpha1",
        namespace,
        "dorasources",
        field_selector=f"metadata.name={name}",
        resource_version=str(resource_version),
        timeout_seconds=2,
    )
    for event in stream:
        if event["type"] == "MODIFIED":
            count += 1
    return count
