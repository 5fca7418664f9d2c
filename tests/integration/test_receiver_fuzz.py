"""The receiver under fuzzing, driven by its own OpenAPI document, and under
hand-made hostile requests, as a process of its own on the real control
plane. What must hold for every request: no 5xx but the documented 503; the
answer conforms to the document; a refused request writes nothing."""

from __future__ import annotations

import asyncio
import json
import os
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from kubernetes import client
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.core.failures import FailureGroup
from schemathesis.core.result import Ok

from kubedora.receiver import openapi
from tests.support.hostile import (
    Hostile,
    ReceiverProcess,
    catalogue,
    pd_incident,
    snapshot,
    start_receiver_process,
)
from tests.support.kube import unique_name
from tests.support.receiver import API_KEY, WEBHOOK, install_source, objects_of

pytestmark = pytest.mark.usefixtures("crds")

Operation = schemathesis.APIOperation[Any, Any, Any, Any]

# Per route and mode: bounded so that the whole run takes well under a minute
# (KUBEDORA_FUZZ_EXAMPLES=500 for a longer hunt).
EXAMPLES = int(os.environ.get("KUBEDORA_FUZZ_EXAMPLES", "25"))
CHECKS = [
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


@dataclass
class Fuzzed:
    receiver: ReceiverProcess
    namespace: str
    statuses: Counter[int] = field(default_factory=Counter)
    # `kind/name` of what 2xx answers say they wrote.
    accepted: set[str] = field(default_factory=set)


@pytest.fixture(scope="module")
def fuzzed(
    kubeconfig: Path,
    core_v1: client.CoreV1Api,
    custom_objects: client.CustomObjectsApi,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Fuzzed]:
    namespace = unique_name("fuzz")
    core_v1.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=namespace)))
    # No signing secrets: fuzzed bodies must get past authentication to
    # reach the parsers.
    install_source(core_v1, custom_objects, namespace)
    log = tmp_path_factory.mktemp("fuzz") / "receiver.log"
    receiver = start_receiver_process(kubeconfig, namespace, log)
    yield Fuzzed(receiver, namespace)
    receiver.stop()


def accepted_object(response: schemathesis.Response) -> str | None:
    if response.status_code != 202:
        return None
    data = response.json().get("data")
    if not data:
        return None
    plural = "failures" if data["type"] == "dora_failure" else "deployments"
    return f"{plural}/{data['id']}"


def test_fuzzing_every_route_from_the_document(
    fuzzed: Fuzzed, custom_objects: client.CustomObjectsApi
) -> None:
    schema = schemathesis.openapi.from_dict(json.loads(openapi.kept()))
    session = requests.Session()
    failures: list[str] = []

    def fuzz(
        operation: schemathesis.APIOperation[Any, Any, Any, Any], mode: GenerationMode
    ) -> None:
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
            phases=[Phase.explicit, Phase.generate, Phase.shrink],
        )
        @given(case=operation.as_strategy(generation_mode=mode))
        def run(case: schemathesis.Case[Any]) -> None:
            response = case.call(
                base_url=fuzzed.receiver.url, session=session, headers={"DD-API-KEY": API_KEY}
            )
            fuzzed.statuses[response.status_code] += 1
            assert response.status_code < 500 or response.status_code == 503, (
                f"{case.method} {case.formatted_path}: {response.status_code} {response.text}"
            )
            if (name := accepted_object(response)) is not None:
                fuzzed.accepted.add(name)
            case.validate_response(response, checks=CHECKS)

        run()

    for result in schema.get_all_operations():
        assert isinstance(result, Ok), result
        operation = result.ok()
        # A GET without parameters has no invalid form.
        modes = list(GenerationMode) if operation.method != "get" else [GenerationMode.POSITIVE]
        for mode in modes:
            try:
                fuzz(operation, mode)
            except (AssertionError, FailureGroup) as failure:
                # Every route is fuzzed, whichever fails first.
                failures.append(f"{operation.label} ({mode.value}): {failure}")
    assert failures == [], "\n\n".join(failures)
    # Both kinds of answer were reached: the fuzzer got past authentication
    # and parsing (202) and was refused (4xx).
    assert sum(n for status, n in fuzzed.statuses.items() if status < 300) > 0
    assert sum(n for status, n in fuzzed.statuses.items() if 400 <= status < 500) > 0
    # Whatever exists was named by an accepted request.
    stored = set(snapshot(custom_objects, fuzzed.namespace))
    assert stored <= fuzzed.accepted, sorted(stored - fuzzed.accepted)[:10]


@pytest.mark.parametrize("case", catalogue(), ids=lambda case: case.name)
def test_a_hostile_request_is_a_clear_4xx_that_writes_nothing(
    fuzzed: Fuzzed, custom_objects: client.CustomObjectsApi, case: Hostile
) -> None:
    before = snapshot(custom_objects, fuzzed.namespace)
    reply = case.send(fuzzed.receiver.port)
    assert reply.status == case.status, reply.body[:300]
    if reply.headers.get("Content-Type", "").startswith("application/json"):
        (error,) = reply.json()["errors"]
        assert error["status"] == str(case.status)
        assert error["detail"]
    # The answer's reason is the parser's (aiohttp) or ours, never a 5xx.
    assert snapshot(custom_objects, fuzzed.namespace) == before


FLOOD = 10_000


async def test_ten_thousand_incidents_from_one_caller_are_each_stored_or_refused(
    fuzzed: Fuzzed, custom_objects: client.CustomObjectsApi
) -> None:
    rss_before = fuzzed.receiver.rss_kib()
    statuses: Counter[int] = Counter()
    answered: set[str] = set()
    bodies = iter(range(FLOOD))
    headers = {"Content-Type": "application/json", "DD-API-KEY": API_KEY}

    async def caller(session: aiohttp.ClientSession) -> None:
        for i in bodies:
            body = pd_incident(id=f"PFLOOD{i:05d}")
            async with session.post(
                fuzzed.receiver.url + WEBHOOK, data=body, headers=headers
            ) as reply:
                statuses[reply.status] += 1
                if reply.status == 202:
                    answered.add(f"failures/{(await reply.json())['data']['id']}")

    connector = aiohttp.TCPConnector(limit=16)
    async with aiohttp.ClientSession(connector=connector) as session:
        await asyncio.gather(*(caller(session) for _ in range(16)))
    rss_after = fuzzed.receiver.rss_kib()

    # Each is stored (202) or refused in a way PagerDuty retries (503).
    assert set(statuses) <= {202, 503}, statuses
    assert statuses[202] >= FLOOD * 0.99, statuses
    stored = {
        f"failures/{item['metadata']['name']}"
        for item in objects_of(custom_objects, fuzzed.namespace, "failures")
        if item["metadata"]["name"].startswith("pd-pflood")
    }
    # Every 2xx is durable: nothing answered 202 is missing.
    assert answered <= stored
    assert len(answered) == statuses[202]
    # Bounded: the receiver keeps nothing per incident.
    assert rss_after - rss_before < 64 * 1024, (rss_before, rss_after)
