"""PagerDuty v3 webhooks through a real receiver into a real API server:
one Failure per incident, whatever the order and repetition of deliveries."""

from __future__ import annotations

import random
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import pytest
from kubernetes import client

from kubedora.metrics.restore import restore_of
from kubedora.models import FailureSpec
from tests.support.kube import poll, unique_name
from tests.support.receiver import (
    WEBHOOK,
    RunningReceiver,
    encode,
    fixture_bytes,
    fixture_json,
    install_source,
    objects_of,
    pd_delivery,
    pd_headers,
    pd_note,
    start_receiver,
    written,
)

pytestmark = pytest.mark.usefixtures("crds")

T0 = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2)


def minutes(n: float) -> datetime:
    return T0 + timedelta(minutes=n)


def lifecycle(incident: str) -> list[bytes]:
    """trigger, ack, resolve, reopen, resolve: active 0-30 and 50-60 minutes."""
    steps = [
        ("incident.triggered", 0),
        ("incident.acknowledged", 5),
        ("incident.resolved", 30),
        ("incident.reopened", 50),
        ("incident.resolved", 60),
    ]
    return [
        encode(pd_delivery(kind, incident, minutes(at), created_at=T0, event_id=f"{incident}-{i}"))
        for i, (kind, at) in enumerate(steps)
    ]


def failure(custom_objects: client.CustomObjectsApi, namespace: str, name: str) -> dict[str, Any]:
    found = custom_objects.get_namespaced_custom_object(
        "kubedora.io", "v1alpha1", namespace, "failures", name
    )
    return cast("dict[str, Any]", found)


def deliver(receiver: RunningReceiver, bodies: list[bytes], **headers: str) -> list[int]:
    return [receiver.post(WEBHOOK, body, headers=headers).status for body in bodies]


@pytest.fixture
def receiver(
    kubeconfig: Path,
    namespace: str,
    core_v1: client.CoreV1Api,
    custom_objects: client.CustomObjectsApi,
) -> Iterator[RunningReceiver]:
    install_source(core_v1, custom_objects, namespace, default_env="prod")
    running = start_receiver(kubeconfig, namespace)
    yield running
    running.stop()


def other_namespace(core_v1: client.CoreV1Api) -> str:
    name = unique_name("t")
    core_v1.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name)))
    return name


class TestIncidentLifecycle:
    def test_becomes_one_failure_with_its_timeline(
        self, receiver: RunningReceiver, custom_objects: client.CustomObjectsApi, namespace: str
    ) -> None:
        assert deliver(receiver, lifecycle("PLIFE01")) == [202] * 5

        assert written(custom_objects, namespace) == ["failures/pd-plife01"]
        stored = failure(custom_objects, namespace, "pd-plife01")
        spec = FailureSpec.model_validate(stored["spec"])
        assert [(e.state.value, e.at) for e in spec.timeline] == [
            ("active", minutes(0)),
            ("resolved", minutes(30)),
            ("active", minutes(50)),
            ("resolved", minutes(60)),
        ]
        assert spec.state is not None
        assert spec.state.value == "resolved"
        assert spec.finished_at == minutes(60)
        assert spec.started_at == T0
        assert spec.env == "prod"
        assert spec.source.value == "pagerduty"
        assert restore_of(spec.timeline).ttr_seconds == 40 * 60
        assert stored["metadata"]["labels"] == {"kubedora.io/source": "pagerduty"}

    def test_the_spec_carries_no_nulls(
        self, receiver: RunningReceiver, custom_objects: client.CustomObjectsApi, namespace: str
    ) -> None:
        deliver(receiver, lifecycle("PNULL01")[:1])
        spec = failure(custom_objects, namespace, "pd-pnull01")["spec"]
        assert "finishedAt" not in spec
        assert None not in spec.values()
        assert None not in spec["pagerduty"].values()

    @pytest.mark.usefixtures("operator")
    def test_the_operator_computes_its_time_to_restore(
        self, receiver: RunningReceiver, custom_objects: client.CustomObjectsApi, namespace: str
    ) -> None:
        bodies = lifecycle("PTTR01")
        deliver(receiver, bodies[:4])

        def current_status() -> dict[str, Any] | None:
            # The status of the spec as the four deliveries left it: "active"
            # alone is also what the trigger's status says, before the
            # resolve and the reopen are reconciled.
            stored = failure(custom_objects, namespace, "pd-pttr01")
            status: dict[str, Any] = stored.get("status") or {}
            current = status.get("observedGeneration") == stored["metadata"]["generation"]
            return status if current else None

        reopened = poll(current_status, what="the operator to reconcile the reopen")
        # Reopened: time to restore hidden until resolved again.
        assert reopened["state"] == "active"
        assert "timeToRestoreSeconds" not in reopened
        deliver(receiver, bodies[4:])
        status = poll(
            lambda: (
                (s := failure(custom_objects, namespace, "pd-pttr01")["status"]).get(
                    "timeToRestoreSeconds"
                )
                is not None
                and s
            ),
            what="a time to restore",
        )
        assert status["state"] == "resolved"
        assert status["timeToRestoreSeconds"] == 40 * 60


class TestAtLeastOnceAndOutOfOrder:
    def test_twice_and_shuffled_changes_nothing(
        self, receiver: RunningReceiver, custom_objects: client.CustomObjectsApi, namespace: str
    ) -> None:
        bodies = lifecycle("PDUP01")
        deliver(receiver, bodies)
        before = failure(custom_objects, namespace, "pd-pdup01")

        again = bodies * 2
        random.Random(5).shuffle(again)
        assert deliver(receiver, again) == [202] * 10

        after = failure(custom_objects, namespace, "pd-pdup01")
        assert after["spec"] == before["spec"]
        # Not even rewritten: the duplicates cost no write. (Generation, not
        # resourceVersion: an operator running in the session writes status.)
        assert after["metadata"]["generation"] == before["metadata"]["generation"]
        assert receiver.metric(
            "kubedora_receiver_events_total",
            {"source": "pagerduty", "type": "incident.resolved", "outcome": "unchanged"},
        ) == pytest.approx(4)

    def test_a_shuffled_sequence_gives_the_same_failure(
        self,
        receiver: RunningReceiver,
        custom_objects: client.CustomObjectsApi,
        core_v1: client.CoreV1Api,
        kubeconfig: Path,
        namespace: str,
    ) -> None:
        bodies = lifecycle("PSHUF01")
        deliver(receiver, bodies)
        in_order = failure(custom_objects, namespace, "pd-pshuf01")

        elsewhere = other_namespace(core_v1)
        install_source(core_v1, custom_objects, elsewhere, default_env="prod")
        second = start_receiver(kubeconfig, elsewhere)
        try:
            for seed in range(3):
                shuffled = bodies * 2
                random.Random(seed).shuffle(shuffled)
                assert deliver(second, shuffled) == [202] * 10
                shuffled_result = failure(custom_objects, elsewhere, "pd-pshuf01")
                assert shuffled_result["spec"] == in_order["spec"]
        finally:
            second.stop()
        assert written(custom_objects, elsewhere) == ["failures/pd-pshuf01"]

    def test_a_trigger_after_the_resolution_does_not_reopen(
        self, receiver: RunningReceiver, custom_objects: client.CustomObjectsApi, namespace: str
    ) -> None:
        trigger, _, resolve, *_ = lifecycle("PLATE01")
        deliver(receiver, [resolve, trigger])
        spec = failure(custom_objects, namespace, "pd-plate01")["spec"]
        assert spec["state"] == "resolved"
        assert spec["finishedAt"] == (minutes(30)).strftime("%Y-%m-%dT%H:%M:%SZ")
        assert [e["state"] for e in spec["timeline"]] == ["active", "resolved"]

    def test_replicas_delivering_concurrently_converge(
        self,
        receiver: RunningReceiver,
        custom_objects: client.CustomObjectsApi,
        kubeconfig: Path,
        namespace: str,
    ) -> None:
        incidents = [f"PCONC{i:02d}" for i in range(4)]
        bodies = [body for incident in incidents for body in lifecycle(incident) * 2]
        random.Random(11).shuffle(bodies)
        second = start_receiver(kubeconfig, namespace)
        replicas = [receiver, second]
        try:
            with ThreadPoolExecutor(max_workers=16) as pool:
                statuses = list(
                    pool.map(
                        lambda pair: replicas[pair[0] % 2].post(WEBHOOK, pair[1]).status,
                        enumerate(bodies),
                    )
                )
        finally:
            second.stop()
        assert statuses == [202] * len(bodies)
        assert written(custom_objects, namespace) == sorted(
            f"failures/pd-{i.lower()}" for i in incidents
        )
        for incident in incidents:
            spec = failure(custom_objects, namespace, f"pd-{incident.lower()}")["spec"]
            assert [e["state"] for e in spec["timeline"]] == [
                "active",
                "resolved",
                "active",
                "resolved",
            ]
            assert spec["state"] == "resolved"


class TestRecordedDeliveries:
    SIGNED = fixture_json("pagerduty", "signatures.json")

    @pytest.fixture
    def signed_receiver(
        self,
        kubeconfig: Path,
        namespace: str,
        core_v1: client.CoreV1Api,
        custom_objects: client.CustomObjectsApi,
    ) -> Iterator[RunningReceiver]:
        secrets = self.SIGNED["secrets"]
        install_source(
            core_v1,
            custom_objects,
            namespace,
            signing_secrets={"current": secrets["aldaviva"], "previous": secrets["go-pagerduty"]},
        )
        running = start_receiver(kubeconfig, namespace)
        yield running
        running.stop()

    def post_recorded(self, receiver: RunningReceiver, file: str) -> int:
        signature = next(d["signature"] for d in self.SIGNED["deliveries"] if d["file"] == file)
        body = fixture_bytes("pagerduty", file)
        reply = receiver.post(WEBHOOK, body, headers={"X-PagerDuty-Signature": signature})
        return reply.status

    def test_a_real_incident_as_pagerduty_signed_it(
        self,
        signed_receiver: RunningReceiver,
        custom_objects: client.CustomObjectsApi,
        namespace: str,
    ) -> None:
        files = [
            "pagey.ping.json",
            "incident.triggered.json",
            "incident.acknowledged.json",
            "incident.resolved.json",
            "incident.annotated.json",
            "go-pagerduty.priority_updated.json",
        ]
        assert [self.post_recorded(signed_receiver, f) for f in files] == [202] * len(files)
        assert written(custom_objects, namespace) == [
            "failures/pd-pgr0vu2",
            "failures/pd-q2ckyrlh85unn4",
        ]
        spec = failure(custom_objects, namespace, "pd-q2ckyrlh85unn4")["spec"]
        assert spec["timeline"] == [
            {"state": "active", "at": "2025-04-07T03:47:13.414000Z"},
            {"state": "resolved", "at": "2025-04-07T03:49:36.358000Z"},
        ]
        assert spec["startedAt"] == "2025-04-07T03:47:13Z"
        assert spec["services"] == ["Webhook Tester"]
        assert "team" not in spec
        assert spec["pagerduty"]["incidentNumber"] == 37
        # Known only from the priority update, which has no created_at.
        other = failure(custom_objects, namespace, "pd-pgr0vu2")["spec"]
        assert other["severity"] == "P1"
        assert other["team"] == "Engineering"
        assert "timeline" not in other

    def test_a_delivery_signed_only_with_the_rotated_out_secret_passes(
        self,
        signed_receiver: RunningReceiver,
        custom_objects: client.CustomObjectsApi,
        namespace: str,
    ) -> None:
        assert self.post_recorded(signed_receiver, "go-pagerduty.priority_updated.json") == 202
        assert written(custom_objects, namespace) == ["failures/pd-pgr0vu2"]


class TestEnv:
    def test_the_dd_env_header_wins_over_the_default(
        self, receiver: RunningReceiver, custom_objects: client.CustomObjectsApi, namespace: str
    ) -> None:
        body = lifecycle("PENV01")[0]
        assert receiver.post(WEBHOOK, body, headers=pd_headers(body, env="staging")).status == 202
        assert failure(custom_objects, namespace, "pd-penv01")["spec"]["env"] == "staging"

    def test_dd_env_spelled_with_a_dash_passes_proxies(
        self, receiver: RunningReceiver, custom_objects: client.CustomObjectsApi, namespace: str
    ) -> None:
        body = lifecycle("PENV02")[0]
        assert receiver.post(WEBHOOK, body, headers={"dd-env": "qa"}).status == 202
        assert failure(custom_objects, namespace, "pd-penv02")["spec"]["env"] == "qa"

    def test_without_header_or_default_there_is_no_env(
        self,
        kubeconfig: Path,
        namespace: str,
        core_v1: client.CoreV1Api,
        custom_objects: client.CustomObjectsApi,
    ) -> None:
        install_source(core_v1, custom_objects, namespace)
        running = start_receiver(kubeconfig, namespace)
        try:
            assert running.post(WEBHOOK, lifecycle("PENV03")[0]).status == 202
        finally:
            running.stop()
        assert "env" not in failure(custom_objects, namespace, "pd-penv03")["spec"]


class TestEventsThatWriteNothing:
    @pytest.mark.parametrize(
        "event_type", ["pagey.ping", "service.updated", "incident.responder.added", "x.y"]
    )
    def test_other_types_are_accepted_and_ignored(
        self,
        receiver: RunningReceiver,
        custom_objects: client.CustomObjectsApi,
        namespace: str,
        event_type: str,
    ) -> None:
        delivery = pd_delivery(event_type, "PIGN01", minutes(0), created_at=T0)
        reply = receiver.post(WEBHOOK, encode(delivery))
        assert reply.status == 202
        assert reply.json()["meta"]["outcome"] == "ignored"
        assert written(custom_objects, namespace) == []

    def test_a_note_on_an_unknown_incident_is_accepted_and_skipped(
        self, receiver: RunningReceiver, custom_objects: client.CustomObjectsApi, namespace: str
    ) -> None:
        reply = receiver.post(WEBHOOK, encode(pd_note("PNOTE01", minutes(1), event_id="n1")))
        assert reply.status == 202
        assert reply.json()["meta"]["outcome"] == "skipped"
        assert objects_of(custom_objects, namespace, "failures") == []


class TestRoutes:
    def test_the_webhook_path_with_a_trailing_slash(
        self, receiver: RunningReceiver, custom_objects: client.CustomObjectsApi, namespace: str
    ) -> None:
        assert receiver.post(WEBHOOK + "/", lifecycle("PSLASH1")[0]).status == 202
        assert written(custom_objects, namespace) == ["failures/pd-pslash1"]
        # One route to whoever reads the metrics.
        assert receiver.metric(
            "kubedora_receiver_requests_total", {"route": "/api/v2/webhook", "code": "202"}
        ) == pytest.approx(1)
