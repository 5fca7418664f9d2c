"""Build and read kubedora objects in tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, cast

from kubernetes import client

GROUP, VERSION = "kubedora.io", "v1alpha1"
PLURALS = {"Failure": "failures", "Deployment": "deployments", "DoraSource": "dorasources"}

NOW = datetime.now(UTC).replace(microsecond=0)


def ago(**delta: float) -> datetime:
    return NOW - timedelta(**delta)


def rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def create(
    api: client.CustomObjectsApi, namespace: str, kind: str, name: str, spec: dict[str, Any]
) -> dict[str, Any]:
    body = {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": kind,
        "metadata": {"name": name},
        "spec": spec,
    }
    # The client types custom objects as `object`; they are JSON objects.
    created = api.create_namespaced_custom_object(GROUP, VERSION, namespace, PLURALS[kind], body)
    return cast("dict[str, Any]", created)


def get(api: client.CustomObjectsApi, namespace: str, kind: str, name: str) -> dict[str, Any]:
    found = api.get_namespaced_custom_object(GROUP, VERSION, namespace, PLURALS[kind], name)
    return cast("dict[str, Any]", found)


def patch_spec(
    api: client.CustomObjectsApi, namespace: str, kind: str, name: str, spec: dict[str, Any]
) -> None:
    api.patch_namespaced_custom_object(
        GROUP, VERSION, namespace, PLURALS[kind], name, {"spec": spec}
    )


def deployment(service: str, finished: datetime, **extra: Any) -> dict[str, Any]:
    return {
        "service": service,
        "startedAt": rfc3339(finished - timedelta(minutes=5)),
        "finishedAt": rfc3339(finished),
        **extra,
    }


def timeline(*entries: tuple[str, datetime]) -> list[dict[str, str]]:
    return [{"state": state, "at": rfc3339(at)} for state, at in entries]
