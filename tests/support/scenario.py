"""A known scenario for the monitoring and browser tests (and `make
screenshot`): twelve weeks of deployments and failures of three services,
with the figures worked out by hand below."""

from __future__ import annotations

from typing import Any

from kubernetes import client

from tests.support.dora import ago, create, deployment, rfc3339

SOURCE = "production"
# (service, team, days ago) of each deployment, all in env prod.
DEPLOYMENTS = [
    *[("checkout", "shop", days) for days in (1, 2, 3, 9, 10, 16, 45, 60)],
    *[("payments", "shop", days) for days in (1, 8, 20, 40)],
    *[("search", "discovery", days) for days in (4, 12)],
]
# name: (service, team, started days ago, restored after seconds or None: open)
FAILURES: dict[str, tuple[str, str, float, float | None]] = {
    "checkout-latency": ("checkout", "shop", 2, 1800.0),
    "payments-timeouts": ("payments", "shop", 8, 7200.0),
    "checkout-errors": ("checkout", "shop", 0.125, None),
    "checkout-outage-old": ("checkout", "shop", 50, 3600.0),
}

# The 30-day window: 11 deployments (checkout 6, payments 3, search 2),
# 3 failures, 2 restored (30 min and 2 h).
SUMMARY: dict[str, Any] = {
    "deployments": 11,
    "failures": 3,
    "restoredFailures": 2,
    "changeFailureRate": 3 / 11,
    "medianTimeToRestoreSeconds": 4500.0,
    # 11 in 30 days: at least weekly, under daily.
    "deploymentsPerDay": 11 / 30,
    "deploymentFrequency": "high",
}
PER_DAY = 11 / 30


def summary_settled(status: dict[str, Any] | None) -> bool:
    """The scoreboard shows SUMMARY's figures (it carries others too)."""
    summary = (status or {}).get("summary") or {}
    return {key: summary.get(key) for key in SUMMARY} == SUMMARY


SERVICES = {
    # service: (deployments, failures, restored, CFR, median TTR)
    "checkout": (6, 2, 1, 1 / 3, 1800.0),
    "payments": (3, 1, 1, 1 / 3, 7200.0),
    "search": (2, 0, 0, 0.0, None),
}
# Trend, 7-day buckets, 0 the newest: deployments, CFR and median TTR of the
# buckets that have them. Buckets 3, 4, 9, 10 and 11 are empty; bucket 7 has
# the old outage and no deployment.
TREND_DEPLOYMENTS = {0: 5, 1: 4, 2: 2, 5: 1, 6: 1, 7: 0, 8: 1}
TREND_CFR = {0: 0.4, 1: 0.25, 2: 0.0, 5: 0.0, 6: 0.0, 8: 0.0}
TREND_TTR = {0: 1800.0, 1: 7200.0, 7: 3600.0}
EMPTY_BUCKETS = (3, 4, 9, 10, 11)


def create_scenario(api: client.CustomObjectsApi, namespace: str) -> None:
    create(
        api,
        namespace,
        "DoraSource",
        SOURCE,
        {"window": "30d", "failureSources": ["api"], "trend": {"bucket": "7d", "buckets": 12}},
    )
    for i, (service, team, days) in enumerate(DEPLOYMENTS):
        shipped = deployment(service, ago(days=days), team=team, env="prod", version=f"1.{i}.0")
        create(api, namespace, "Deployment", f"{service}-1-{i}-0", shipped)
    for name, (failed, owner, started, ttr) in FAILURES.items():
        spec: dict[str, Any] = {
            "services": [failed],
            "team": owner,
            "env": "prod",
            "severity": "SEV-2",
            "startedAt": rfc3339(ago(days=started)),
        }
        if ttr is not None:
            spec["finishedAt"] = rfc3339(ago(days=started, seconds=-ttr))
        create(api, namespace, "Failure", name, spec)
