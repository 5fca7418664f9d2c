"""The Datadog-compatible DORA API through a real receiver into a real API
server, with the bodies existing pipelines send."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import pytest
from kubernetes import client

from tests.support.kube import poll, unique_name
from tests.support.receiver import (
    API_KEY,
    DORA_DEPLOYMENT,
    DORA_FAILURE,
    RunningReceiver,
    fixture_bytes,
    install_source,
    objects_of,
    put_secret,
    start_receiver,
    written,
)

pytestmark = pytest.mark.usefixtures("crds")

# What datadog-ci's HTTP client sends besides the body.
DATADOG_CI_HEADERS = {
    "Accept": "application/json, text/plain, */*",
    "User-Agent": "datadog-ci/3.0.0",
}


def body(**attributes: Any) -> bytes:
    return json.dumps({"data": {"attributes": attributes}}).encode()


def get(
    custom_objects: client.CustomObjectsApi, namespace: str, plural: str, name: str
) -> dict[str, Any]:
    found = custom_objects.get_namespaced_custom_object(
        "kubedora.io", "v1alpha1", namespace, plural, name
    )
    return cast("dict[str, Any]", found)


@pytest.fixture
def receiver(
    kubeconfig: Path,
    namespace: str,
    core_v1: client.CoreV1Api,
    custom_objects: client.CustomObjectsApi,
) -> Iterator[RunningReceiver]:
    install_source(core_v1, custom_objects, namespace)
    running = start_receiver(kubeconfig, namespace)
    yield running
    running.stop()


class TestDeployments:
    def test_the_exact_post_of_datadog_ci(
        self, receiver: RunningReceiver, custom_objects: client.CustomObjectsApi, namespace: str
    ) -> None:
        reply = receiver.post(
            DORA_DEPLOYMENT,
            fixture_bytes("datadog", "datadog-ci-deployment.json"),
            headers=DATADOG_CI_HEADERS,
            content_type="application/json",
        )
        assert reply.status == 202
        name = reply.json()["data"]["id"]
        assert reply.json() == {"data": {"id": name, "type": "dora_deployment"}}
        assert written(custom_objects, namespace) == [f"deployments/{name}"]
        assert get(custom_objects, namespace, "deployments", name)["spec"] == {
            "service": "checkout",
            "startedAt": "2023-11-14T11:17:28Z",
            "finishedAt": "2023-11-14T11:24:08Z",
            "env": "prod",
            "team": "shop",
            "version": "1.4.0",
            "git": {
                "repositoryUrl": "https://github.com/acme/checkout.git",
                "commitSha": "102836a25f5477e571c73d489b3f0f183687068e",
            },
            "customTags": ["region:eu"],
            "source": "api",
            "outcome": "succeeded",
        }

    def test_datadog_ci_retrying_lands_once(
        self, receiver: RunningReceiver, custom_objects: client.CustomObjectsApi, namespace: str
    ) -> None:
        payload = fixture_bytes("datadog", "datadog-ci-deployment.minimal.json")
        replies = [receiver.post(DORA_DEPLOYMENT, payload) for _ in range(3)]
        assert {r.status for r in replies} == {202}
        assert len({r.json()["data"]["id"] for r in replies}) == 1
        (stored,) = objects_of(custom_objects, namespace, "deployments")
        assert stored["metadata"]["generation"] == 1

    def test_the_api_reference_example_in_milliseconds(
        self, receiver: RunningReceiver, custom_objects: client.CustomObjectsApi, namespace: str
    ) -> None:
        reply = receiver.post(
            DORA_DEPLOYMENT, fixture_bytes("datadog", "api-reference-deployment.json")
        )
        assert reply.status == 202
        spec = get(custom_objects, namespace, "deployments", reply.json()["data"]["id"])["spec"]
        assert spec["startedAt"] == "2023-08-31T14:26:14Z"
        assert spec["finishedAt"] == "2023-08-31T14:26:24Z"
        assert spec["version"] == "v1.12.07"

    def test_the_senders_id_names_it_and_a_repost_updates_it(
        self, receiver: RunningReceiver, custom_objects: client.CustomObjectsApi, namespace: str
    ) -> None:
        first = body(
            id="release-2026-0042",
            service="checkout",
            started_at=1700000000,
            finished_at=1700000300,
        )
        second = body(
            id="release-2026-0042",
            service="checkout",
            started_at=1700000000,
            finished_at=1700000300,
            version="2.0.1",
        )
        assert receiver.post(DORA_DEPLOYMENT, first).json()["data"]["id"] == (
            "dd-release-2026-0042"
        )
        assert receiver.post(DORA_DEPLOYMENT, second).status == 202
        stored = get(custom_objects, namespace, "deployments", "dd-release-2026-0042")
        assert stored["spec"]["version"] == "2.0.1"
        assert written(custom_objects, namespace) == ["deployments/dd-release-2026-0042"]


class TestFailures:
    def test_the_api_reference_example(
        self, receiver: RunningReceiver, custom_objects: client.CustomObjectsApi, namespace: str
    ) -> None:
        reply = receiver.post(DORA_FAILURE, fixture_bytes("datadog", "api-reference-failure.json"))
        assert reply.status == 202
        assert reply.json()["data"]["type"] == "dora_failure"
        spec = get(custom_objects, namespace, "failures", reply.json()["data"]["id"])["spec"]
        assert spec["services"] == ["shopist"]
        assert spec["team"] == "backend"
        assert spec["env"] == "staging"
        assert spec["severity"] == "High"
        assert spec["source"] == "api"
        assert spec["startedAt"] == "2023-08-31T14:26:14Z"
        assert spec["finishedAt"] == "2023-08-31T14:26:24Z"

    def test_start_then_resolve_is_one_failure(
        self, receiver: RunningReceiver, custom_objects: client.CustomObjectsApi, namespace: str
    ) -> None:
        start = body(services=["checkout"], env="prod", started_at=1700000000123, name="Down")
        # The resolution gives the start to the second only, in seconds.
        resolve = body(
            services=["checkout"], env="prod", started_at=1700000000, finished_at=1700003600
        )
        first = receiver.post(DORA_FAILURE, start).json()["data"]["id"]
        # The incident alias takes the same bodies.
        second = receiver.post("/api/v2/dora/incident", resolve).json()["data"]["id"]
        assert first == second
        (stored,) = objects_of(custom_objects, namespace, "failures")
        assert stored["spec"]["name"] == "Down"
        assert stored["spec"]["finishedAt"] == "2023-11-14T23:13:20Z"
        assert stored["spec"]["startedAt"] == "2023-11-14T22:13:20.123000Z"

    def test_another_env_is_another_failure(
        self, receiver: RunningReceiver, custom_objects: client.CustomObjectsApi, namespace: str
    ) -> None:
        for env in ("prod", "staging"):
            receiver.post(DORA_FAILURE, body(services=["checkout"], env=env, started_at=1700000000))
        assert len(objects_of(custom_objects, namespace, "failures")) == 2


class TestKeys:
    def test_a_key_added_to_the_secret_works_within_a_second(
        self,
        receiver: RunningReceiver,
        core_v1: client.CoreV1Api,
        custom_objects: client.CustomObjectsApi,
        namespace: str,
    ) -> None:
        payload = fixture_bytes("datadog", "datadog-ci-deployment.minimal.json")
        assert receiver.post(DORA_DEPLOYMENT, payload, api_key="brand-new-key").status == 403
        put_secret(core_v1, namespace, "default-api-keys", {"ci": API_KEY, "new": "brand-new-key"})
        reply = poll(
            lambda: (
                (r := receiver.post(DORA_DEPLOYMENT, payload, api_key="brand-new-key")).status
                == 202
                and r
            ),
            # The receiver follows the Secret by a watch: no cache to expire.
            timeout=1,
            interval=0.05,
            what="the new key to be accepted",
        )
        assert reply.json()["data"]["type"] == "dora_deployment"
        assert len(written(custom_objects, namespace)) == 1

    def test_a_removed_key_is_refused_within_a_second(
        self, receiver: RunningReceiver, core_v1: client.CoreV1Api, namespace: str
    ) -> None:
        payload = fixture_bytes("datadog", "datadog-ci-deployment.minimal.json")
        assert receiver.post(DORA_DEPLOYMENT, payload).status == 202
        put_secret(core_v1, namespace, "default-api-keys", {"ci": "rotated-key-0123"})
        poll(
            lambda: receiver.post(DORA_DEPLOYMENT, payload).status == 403,
            timeout=1,
            interval=0.05,
            what="the removed key to be refused",
        )

    def test_a_guessed_key_learns_nothing_of_what_exists(
        self, kubeconfig: Path, receiver: RunningReceiver, core_v1: client.CoreV1Api
    ) -> None:
        # One receiver whose namespace has a DoraSource, one whose has none.
        empty = unique_name("nothing")
        core_v1.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=empty)))
        nothing = start_receiver(kubeconfig, empty)
        try:
            payload = fixture_bytes("datadog", "datadog-ci-deployment.minimal.json")
            for route in (DORA_DEPLOYMENT, "/api/v2/webhook"):
                wrong = receiver.post(route, payload, api_key="guessed-key-0123")
                unknown = nothing.post(route, payload, api_key="guessed-key-0123")
                assert (wrong.status, wrong.json()) == (unknown.status, unknown.json())
                assert wrong.status == 403
        finally:
            nothing.stop()
