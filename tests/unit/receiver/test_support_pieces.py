"""Names, wire form and per-object locks."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from kubedora.ingest.payload import describe, exact_or_hashed, slug
from kubedora.k8s.objects import custom_object, spec_wire
from kubedora.models import DEPLOYMENTS, DeploymentSpec, FailureSpec, PagerDutyContext
from kubedora.receiver.problems import is_json
from kubedora.receiver.writer import KeyedLock

DNS_1123 = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
T = datetime(2026, 1, 1, tzinfo=UTC)


class TestNames:
    @pytest.mark.parametrize(
        ("text", "expected"),
        [("Checkout API", "checkout-api"), ("a__b", "a-b"), ("--x--", "x"), ("ÜBER", "ber")],
    )
    def test_slug(self, text: str, expected: str) -> None:
        assert slug(text) == expected

    def test_exact_when_already_valid(self) -> None:
        assert exact_or_hashed("dd", "build-42-abcdefgh") == "dd-build-42-abcdefgh"

    @pytest.mark.parametrize("identity", ["Build-42", "a.b", "a:b", "", "é", "x" * 400])
    def test_hashed_otherwise_and_always_valid(self, identity: str) -> None:
        name = exact_or_hashed("dd", identity)
        assert DNS_1123.match(name), name
        assert len(name) <= 253
        assert name != f"dd-{identity}"


class TestWire:
    def test_no_nulls_and_no_empty_lists(self) -> None:
        spec = FailureSpec(
            team="shop",
            started_at=T,
            pagerduty=PagerDutyContext(incident_id="P1", teams=[]),
        )
        assert spec_wire(spec) == {
            "team": "shop",
            "startedAt": "2026-01-01T00:00:00Z",
            "source": "api",
            "pagerduty": {"incidentId": "P1"},
        }

    def test_the_stored_objects_metadata_is_kept_and_merged(self) -> None:
        spec = DeploymentSpec(service="checkout", started_at=T, finished_at=T)
        stored: dict[str, Any] = {
            "apiVersion": "kubedora.io/v1alpha1",
            "kind": "Deployment",
            "metadata": {
                "name": "d",
                "resourceVersion": "7",
                "finalizers": ["kubedora.io/x"],
                "annotations": {"keep": "1"},
            },
            "spec": {"service": "old"},
            "status": {"observedGeneration": 1},
        }
        made = custom_object(DEPLOYMENTS, "d", spec, base=stored, annotations={"new": "2"})
        assert made["metadata"]["resourceVersion"] == "7"
        assert made["metadata"]["finalizers"] == ["kubedora.io/x"]
        assert made["metadata"]["annotations"] == {"keep": "1", "new": "2"}
        assert made["spec"]["service"] == "checkout"
        assert stored["metadata"]["annotations"] == {"keep": "1"}


class TestKeyedLock:
    async def test_one_holder_per_key_and_none_kept_after(self) -> None:
        locks = KeyedLock()
        inside: dict[str, int] = {"a": 0, "b": 0}
        peak: dict[str, int] = {"a": 0, "b": 0}

        async def work(key: str) -> None:
            async with locks.hold(key):
                inside[key] += 1
                peak[key] = max(peak[key], inside[key])
                await asyncio.sleep(0.001)
                inside[key] -= 1

        await asyncio.gather(*(work(k) for k in "abababab"))
        assert peak == {"a": 1, "b": 1}
        assert len(locks) == 0


class TestContentTypes:
    @pytest.mark.parametrize(
        ("content_type", "accepted"),
        [
            ("application/json", True),
            ("application/vnd.api+json", True),
            ("text/plain", False),
            ("application/x-www-form-urlencoded", False),
            ("application/octet-stream", False),
            ("", False),
        ],
    )
    def test_only_json_is_read(self, content_type: str, accepted: bool) -> None:
        assert is_json(content_type) is accepted


class TestDescribe:
    def test_names_each_field_and_counts_the_rest(self) -> None:
        with pytest.raises(ValidationError) as caught:
            DeploymentSpec.model_validate({"custom_tags": [f"bad{i}" for i in range(8)]})
        detail = describe(caught.value, "data.attributes")
        assert detail.startswith("data.attributes.service: Field required")
        assert detail.endswith("; and 6 more")  # 3 missing fields + 8 bad tags
