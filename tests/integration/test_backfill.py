"""The PagerDuty backfill and monitor tags, end to end: a real operator
process and API server, and the PagerDuty stand-in (tests/support/pagerduty.py)
enforcing the REST API's limits.

The suite's history is 1,000 incidents, 730 of them in one 3-month
stretch, with the stand-in's offset cap lowered to 700 so that the dense
stretch needs the same splitting 11,000 incidents need against the real
10,000 cap; `python -m tests.benchmarks.backfill` runs the full 15,000 at
the real 960 requests a minute."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client

from tests.support.kube import poll, unique_name
from tests.support.operator import OperatorProcess, start_operator
from tests.support.pagerduty import Faults, Incident, RunningStandIn, StandIn, history, serve
from tests.support.receiver import (
    API_KEY,
    GROUP,
    VERSION,
    WEBHOOK,
    encode,
    http_request,
    objects_of,
    pd_delivery,
    put_secret,
    start_receiver,
)

TOKEN = "pd-token-0123456789"
NOW = datetime.now(UTC).replace(microsecond=0)
TOTAL, DENSE = 1_000, 730
OPERATOR_ENV = {
    "KUBEDORA_PAGERDUTY_REQUESTS_PER_MINUTE": "6000",
    # The stand-in's lowered offset cap, as 10,000 is PagerDuty's.
    "KUBEDORA_BACKFILL_WINDOW_INCIDENTS": "700",
    "KUBEDORA_BACKFILL_RETRY_SECONDS": "600",
    "KUBEDORA_MONITOR_TAGS_RETRY_SECONDS": "1",
    "KUBEDORA_PAGERDUTY_ATTEMPTS": "4",
}
MAX_AGE = timedelta(days=90)  # KUBEDORA_MONITOR_TAGS_MAX_AGE_DAYS's default


def new_namespace(core_v1: client.CoreV1Api) -> str:
    name = unique_name("bf")
    core_v1.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name)))
    return name


def stand_in(incidents: list[Incident]) -> RunningStandIn:
    return serve(
        StandIn(
            token=TOKEN,
            incidents=incidents,
            # A small budget per short window: the operator must read the
            # ratelimit headers to stay under it.
            rate_per_minute=8,
            window_seconds=2.0,
            offset_cap=700,
            faults=Faults(throttle_every=7, error_every=11),
        )
    )


def install(
    core_v1: client.CoreV1Api,
    custom_objects: client.CustomObjectsApi,
    namespace: str,
    api_url: str,
    *,
    backfill: bool = True,
    token: str = TOKEN,
) -> None:
    put_secret(core_v1, namespace, "pagerduty-token", {"token": token})
    put_secret(core_v1, namespace, "api-keys", {"ci": API_KEY})
    pagerduty: dict[str, Any] = {
        "apiURL": api_url,
        "apiTokenSecretRef": {"name": "pagerduty-token"},
        "defaultEnv": "prod",
    }
    if backfill:
        pagerduty["backfill"] = {"lookback": "730d"}
    custom_objects.create_namespaced_custom_object(
        GROUP,
        VERSION,
        namespace,
        "dorasources",
        {
            "apiVersion": f"{GROUP}/{VERSION}",
            "kind": "DoraSource",
            "metadata": {"name": "production"},
            "spec": {
                "window": "30d",
                "apiKeySecretRef": {"name": "api-keys"},
                "pagerduty": pagerduty,
            },
        },
    )


def operator_for(kubeconfig: Path, namespace: str, log: Path) -> OperatorProcess:
    return start_operator(
        kubeconfig, log, "--namespace", namespace, "--standalone", env=OPERATOR_ENV
    )


def backfill_status(custom_objects: client.CustomObjectsApi, namespace: str) -> dict[str, Any]:
    source: Any = custom_objects.get_namespaced_custom_object(
        GROUP, VERSION, namespace, "dorasources", "production"
    )
    status: dict[str, Any] = source.get("status") or {}
    return status


def wait_for_phase(
    custom_objects: client.CustomObjectsApi, namespace: str, phase: str, timeout: float
) -> dict[str, Any]:
    def probe() -> dict[str, Any] | None:
        status = backfill_status(custom_objects, namespace)
        return status if (status.get("backfill") or {}).get("phase") == phase else None

    return poll(probe, timeout=timeout, interval=0.5, what=f"backfill {phase}")


def sweep(custom_objects: client.CustomObjectsApi, namespace: str) -> None:
    """Delete a test's thousands of Failures: the suite's shared operator
    (all namespaces) would otherwise reconcile them while later tests wait."""
    custom_objects.delete_collection_namespaced_custom_object(GROUP, VERSION, namespace, "failures")


def failures_by_incident(
    custom_objects: client.CustomObjectsApi, namespace: str
) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    for item in objects_of(custom_objects, namespace, "failures"):
        found.setdefault(item["spec"]["pagerduty"]["incidentId"], []).append(item)
    return found


def check_failures(
    custom_objects: client.CustomObjectsApi,
    namespace: str,
    incidents: list[Incident],
    *,
    extra: set[str] = frozenset(),  # type: ignore[assignment]
) -> None:
    """Exactly one Failure per incident (and per `extra` incident), whose
    state and TTR the operator computed are the stand-in's own."""
    expected = {i.id: i for i in incidents}
    wanted = set(expected) | extra

    def all_reconciled() -> dict[str, list[dict[str, Any]]] | None:
        found = failures_by_incident(custom_objects, namespace)
        done = set(found) == wanted and all(
            (f[0].get("status") or {}).get("state") for f in found.values()
        )
        return found if done else None

    found = poll(all_reconciled, timeout=240, interval=2.0, what="every Failure reconciled")
    for incident_id, items in found.items():
        assert len(items) == 1, incident_id
        if incident_id in extra:
            continue
        (failure,) = items
        incident = expected[incident_id]
        assert failure["metadata"]["name"] == f"pd-{incident_id.lower()}"
        assert failure["spec"]["source"] == "pagerduty"
        assert failure["spec"]["env"] == "prod"
        assert failure["spec"]["startedAt"] == incident.created_at.strftime("%Y-%m-%dT%H:%M:%SZ")
        status = failure["status"]
        if incident.resolved_at is None:
            assert status["state"] == "active", incident_id
            assert status.get("timeToRestoreSeconds") is None
        else:
            assert status["state"] == "resolved", incident_id
            assert status["timeToRestoreSeconds"] == incident.ttr_seconds, incident_id


@dataclass
class CleanRun:
    namespace: str
    incidents: list[Incident]
    stand_in: StandIn
    status: dict[str, Any]
    webhooked: dict[str, str]


@pytest.fixture(scope="module")
def clean_run(
    kubeconfig: Path,
    crds: list[str],
    core_v1: client.CoreV1Api,
    custom_objects: client.CustomObjectsApi,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[CleanRun]:
    """One uninterrupted backfill, with webhooks for two of its incidents
    arriving while it runs: one before the backfill reaches it, one after."""
    incidents = history(TOTAL, dense=DENSE, now=NOW)
    running = stand_in(incidents)
    namespace = new_namespace(core_v1)
    install(core_v1, custom_objects, namespace, running.url)
    receiver = start_receiver(kubeconfig, namespace)
    operator = operator_for(kubeconfig, namespace, tmp_path_factory.mktemp("clean") / "op.log")
    resolved = sorted(
        (i for i in incidents if i.resolved_at is not None), key=lambda i: i.created_at
    )
    oldest, newest = resolved[0], resolved[-1]
    try:
        # The newest incident is read last: its webhook comes first.
        wait_for_phase(custom_objects, namespace, "Running", timeout=60)
        assert newest.resolved_at is not None
        post(receiver.port, "incident.reopened", newest, newest.resolved_at + timedelta(seconds=1))

        # The oldest is read first: its webhook comes after.
        def oldest_written() -> bool:
            return f"pd-{oldest.id.lower()}" in {
                f["metadata"]["name"] for f in objects_of(custom_objects, namespace, "failures")
            }

        poll(oldest_written, timeout=120, interval=0.5, what="the oldest incident written")
        assert oldest.resolved_at is not None
        post(receiver.port, "incident.reopened", oldest, oldest.resolved_at + timedelta(hours=1))
        status = wait_for_phase(custom_objects, namespace, "Succeeded", timeout=300)
        yield CleanRun(
            namespace,
            incidents,
            running.state,
            status,
            {oldest.id: "active", newest.id: "active"},
        )
    finally:
        operator.stop()
        receiver.stop()
        running.stop()
        sweep(custom_objects, namespace)


def post(port: int, event_type: str, incident: Incident, at: datetime) -> None:
    delivery = pd_delivery(
        event_type, incident.id, at, created_at=incident.created_at, service=incident.service
    )
    reply = http_request(
        port,
        "POST",
        WEBHOOK,
        encode(delivery),
        {"Content-Type": "application/json", "DD-API-KEY": API_KEY},
    )
    assert reply.status == 202, reply.body


@pytest.mark.timeout(600)
def test_the_backfill_writes_every_incident_once_with_its_state_and_ttr(
    clean_run: CleanRun, custom_objects: client.CustomObjectsApi
) -> None:
    webhooked = set(clean_run.webhooked)
    plain = [i for i in clean_run.incidents if i.id not in webhooked]
    check_failures(custom_objects, clean_run.namespace, plain, extra=webhooked)
    backfill = clean_run.status["backfill"]
    assert backfill["incidents"] == TOTAL
    assert backfill["coveredUntil"] == backfill["to"]

    def complete() -> dict[str, Any] | None:
        status = backfill_status(custom_objects, clean_run.namespace)
        conditions = {c["type"]: c for c in status.get("conditions", [])}
        condition: dict[str, Any] = conditions.get("BackfillComplete") or {}
        return condition if condition.get("status") == "True" else None

    condition = poll(complete, timeout=30, what="BackfillComplete=True")
    assert condition["reason"] == "Succeeded"


def test_the_backfill_keeps_within_every_limit_of_the_api(clean_run: CleanRun) -> None:
    state = clean_run.stand_in
    assert state.refusals == []
    # Every 429 was one the stand-in injected: none for going over the rate.
    assert state.over_limit == 0
    assert state.injected_429 > 0
    assert state.injected_5xx > 0
    pages = state.requests["incidents"]
    # Two requests per 100 incidents, besides the retries of injected faults.
    retries = state.injected_429 + state.injected_5xx
    assert pages - retries <= 2 * TOTAL / 100, (pages, retries)
    assert clean_run.status["backfill"]["requests"] == pages
    # Alerts are read once per incident younger than the monitor-tags age
    # (webhooks included), plus the retries of injected faults.
    young = sum(1 for i in clean_run.incidents if NOW - i.created_at <= MAX_AGE)
    assert state.requests["alerts"] <= young + state.injected_429 + state.injected_5xx


def test_a_webhook_during_the_backfill_gives_one_failure_with_the_newest_state(
    clean_run: CleanRun, custom_objects: client.CustomObjectsApi
) -> None:
    found = failures_by_incident(custom_objects, clean_run.namespace)
    by_id = {i.id: i for i in clean_run.incidents}
    for incident_id, state in clean_run.webhooked.items():
        (failure,) = found[incident_id]
        incident = by_id[incident_id]
        assert failure["spec"]["state"] == state
        # The backfill's trigger and resolve, and the webhook's reopen after them.
        assert [e["state"] for e in failure["spec"]["timeline"]] == ["active", "resolved", "active"]
        assert failure["spec"]["startedAt"] == incident.created_at.strftime("%Y-%m-%dT%H:%M:%SZ")
        assert failure["status"]["state"] == "active"


@pytest.mark.timeout(600)
def test_killed_mid_run_the_backfill_resumes_without_starting_over(
    clean_run: CleanRun,
    kubeconfig: Path,
    core_v1: client.CoreV1Api,
    custom_objects: client.CustomObjectsApi,
    tmp_path: Path,
) -> None:
    incidents = history(TOTAL, dense=DENSE, now=NOW)
    running = stand_in(incidents)
    namespace = new_namespace(core_v1)
    install(core_v1, custom_objects, namespace, running.url)
    first = operator_for(kubeconfig, namespace, tmp_path / "first.log")
    try:

        def halfway() -> bool:
            backfill = backfill_status(custom_objects, namespace).get("backfill") or {}
            return int(backfill.get("incidents", 0)) >= TOTAL // 2

        poll(halfway, timeout=240, interval=0.2, what="half the incidents written")
        first.process.kill()  # no clean stop: as if the node died
        first.process.wait(timeout=30)
        interrupted = backfill_status(custom_objects, namespace)["backfill"]
        assert interrupted["phase"] == "Running"
        second = operator_for(kubeconfig, namespace, tmp_path / "second.log")
        try:
            status = wait_for_phase(custom_objects, namespace, "Succeeded", timeout=300)
        finally:
            second.stop()
        # The specs, not the operator's status: the clean run checked that
        # status follows; here, nothing is missing or twice, and each is right.
        found = failures_by_incident(custom_objects, namespace)
        assert set(found) == {i.id for i in incidents}
        for incident in incidents:
            (failure,) = found[incident.id]
            spec = failure["spec"]
            finished = (
                incident.resolved_at.strftime("%Y-%m-%dT%H:%M:%SZ")
                if incident.resolved_at
                else None
            )
            assert spec.get("finishedAt") == finished, incident.id
            assert spec["state"] == ("resolved" if finished else "active"), incident.id
    finally:
        if first.process.poll() is None:
            first.stop()
        running.stop()
        sweep(custom_objects, namespace)
    clean = clean_run.stand_in.requests["incidents"]
    both = running.state.requests["incidents"]
    assert both <= 1.2 * clean, (both, clean)
    assert running.state.refusals == []
    assert status["backfill"]["startedAt"] == interrupted["startedAt"]


def test_monitor_tags_from_the_alert_match_by_rule_1_after_a_failed_read(
    kubeconfig: Path,
    crds: list[str],
    core_v1: client.CoreV1Api,
    custom_objects: client.CustomObjectsApi,
    tmp_path: Path,
) -> None:
    incident = Incident(
        id="PTAGGED1",
        number=1,
        created_at=NOW - timedelta(hours=2),
        status="triggered",
        service="Checkout API",
        alert_details={"tags": ["service:checkout", "env:prod", "team:payments", "host:web-1"]},
    )
    running = serve(StandIn(token=TOKEN, incidents=[incident], failing_alerts={incident.id}))
    namespace = new_namespace(core_v1)
    install(core_v1, custom_objects, namespace, running.url, backfill=False)
    # Rule 2's catalog entry: the incident's PagerDuty service URL.
    core_v1.create_namespaced_service(
        namespace,
        client.V1Service(
            metadata=client.V1ObjectMeta(
                name="checkout-api",
                annotations={
                    "kubedora.io/service": "checkout-api",
                    "kubedora.io/team": "shop",
                    "kubedora.io/pagerduty-service-url": (
                        "https://acme.pagerduty.com/services/PCHECKO"
                    ),
                },
            ),
            spec=client.V1ServiceSpec(ports=[client.V1ServicePort(port=80)]),
        ),
    )
    receiver = start_receiver(kubeconfig, namespace)
    operator = operator_for(kubeconfig, namespace, tmp_path / "op.log")
    name = f"pd-{incident.id.lower()}"

    def attribution() -> dict[str, Any]:
        failure: Any = custom_objects.get_namespaced_custom_object(
            GROUP, VERSION, namespace, "failures", name
        )
        found: dict[str, Any] = (failure.get("status") or {}).get("attribution") or {}
        return found

    try:
        post(receiver.port, "incident.triggered", incident, incident.created_at)
        fallback = poll(
            lambda: (a := attribution()).get("matchedBy") == "service-url" and a,
            timeout=60,
            what="rule 2 while the alerts cannot be read",
        )
        assert fallback["services"] == ["checkout-api"]
        poll(lambda: running.state.requests["alerts"] >= 1, timeout=30, what="an alerts read")
        running.state.failing_alerts.clear()
        matched = poll(
            lambda: (a := attribution()).get("matchedBy") == "monitor" and a,
            timeout=60,
            what="rule 1 once the alerts are read",
        )
        assert matched["services"] == ["checkout"]
        assert matched["team"] == "payments"
        assert matched["env"] == "prod"
        # A manual resolve carries no monitor information: the attribution stays.
        post(receiver.port, "incident.resolved", incident, NOW - timedelta(minutes=5))
        poll(
            lambda: (
                custom_objects.get_namespaced_custom_object(  # type: ignore[index]
                    GROUP, VERSION, namespace, "failures", name
                )["status"].get("state")
                == "resolved"
            ),
            timeout=60,
            what="resolved",
        )
        assert attribution()["matchedBy"] == "monitor"
        reads = running.state.requests["alerts"]
    finally:
        operator.stop()
        receiver.stop()
        running.stop()
    # Read until it worked, then never again: the tags are in the spec.
    assert reads >= 2


def test_a_refused_token_fails_the_backfill_at_once_with_a_clear_condition(
    kubeconfig: Path,
    crds: list[str],
    core_v1: client.CoreV1Api,
    custom_objects: client.CustomObjectsApi,
    tmp_path: Path,
) -> None:
    running = serve(StandIn(token=TOKEN, incidents=history(50, dense=0, now=NOW)))
    namespace = new_namespace(core_v1)
    install(core_v1, custom_objects, namespace, running.url, token="wrong-token")
    operator = operator_for(kubeconfig, namespace, tmp_path / "op.log")
    try:
        status = wait_for_phase(custom_objects, namespace, "Failed", timeout=60)
    finally:
        operator.stop()
        running.stop()
    conditions = {c["type"]: c for c in status["conditions"]}
    assert conditions["BackfillComplete"]["status"] == "False"
    assert conditions["BackfillComplete"]["reason"] == "Unauthorized"
    assert "refused" in status["backfill"]["message"]
    assert running.state.total_requests() == 1  # no retry storm
