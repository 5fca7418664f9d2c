"""What the parsers refuse before anything is written: labels that are not
one line, times that are not RFC 3339 strings within 1970 to 9999 in UTC, ids
that would be another URL of the API server."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import TypeAdapter, ValidationError

from kubedora.ingest import argocd, datadog, flux
from kubedora.ingest.payload import (
    MAX_LABEL,
    IsoTime,
    NonEmptyLabel,
    PayloadError,
    check_label,
)

ISO: TypeAdapter[datetime] = TypeAdapter(IsoTime)
LABEL: TypeAdapter[str] = TypeAdapter(NonEmptyLabel)


@pytest.mark.parametrize(
    "value",
    ["prod\r\nX-Evil: 1", "prod\n", "\x00", "prod\x1b[31m", "p\u2028d", "a\x85b", "x" * 257],
)
def test_a_label_is_one_line_of_bounded_length(value: str) -> None:
    with pytest.raises(ValidationError):
        LABEL.validate_python(value)
    with pytest.raises(PayloadError):
        check_label(value, "dd_env")


@pytest.mark.parametrize("value", ["prod", "eu-west/1", "café ☕", "x" * MAX_LABEL])
def test_ordinary_labels_pass(value: str) -> None:
    assert LABEL.validate_python(value) == value
    assert check_label(value, "dd_env") == value


def test_a_header_of_bytes_that_are_no_utf8_is_refused() -> None:
    # aiohttp hands such bytes over as lone surrogates.
    with pytest.raises(PayloadError, match="non-UTF-8"):
        check_label(b"pr\xffd".decode("utf-8", "surrogateescape"), "dd_env")


@pytest.mark.parametrize(
    "value",
    [
        "0001-01-01T00:30:00+01:00",  # year 0 in UTC
        "9999-12-31T23:30:00-01:00",  # year 10000 in UTC
        "1969-12-31T23:59:59Z",
        "1700000000",
        1700000000,
        "2026-02-01T09:00:00",
    ],
)
def test_times_out_of_range_or_not_rfc3339_are_refused(value: Any) -> None:
    with pytest.raises(ValidationError):
        ISO.validate_python(value)


def test_an_rfc3339_time_passes_in_its_own_zone() -> None:
    at = ISO.validate_python("2026-02-01T10:00:00+01:00")
    assert at == datetime(2026, 2, 1, 9, tzinfo=UTC)


def test_the_models_use_them() -> None:
    body = {"data": {"attributes": {"service": "a", "started_at": 1, "finished_at": 2}}}
    body["data"]["attributes"]["env"] = "prod\r\n"
    with pytest.raises(PayloadError, match="env"):
        datadog.parse_deployment(json.dumps(body).encode())
    with pytest.raises(PayloadError, match="startedAt"):
        argocd.parse_notification(
            json.dumps({"app": "a", "phase": "Succeeded", "startedAt": "1700000000"}).encode()
        )
    event = {
        "involvedObject": {"kind": "Kustomization", "name": "a", "namespace": "flux-system"},
        "timestamp": "2026-02-01T09:00:00Z",
        "reason": "ReconciliationSucceeded",
        "metadata": {"revision": "main@sha1:abc", "env": "prod\n"},
    }
    with pytest.raises(PayloadError, match=r"metadata\.env"):
        flux.parse_event(json.dumps(event).encode())


@pytest.mark.parametrize("deployment_id", [".", "..", "a/b", "A"])
def test_an_id_that_is_no_object_name_is_only_looked_up_hashed(deployment_id: str) -> None:
    (name,) = datadog.names_for_id(deployment_id)
    assert name.startswith("dd-")


def test_an_object_name_is_looked_up_as_itself_first() -> None:
    assert datadog.names_for_id("dd-build-42")[0] == "dd-build-42"
