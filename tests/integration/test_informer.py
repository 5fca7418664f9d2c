"""The list-then-watch cache behind the scoreboard, against a real API server."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client as sync_client
from kubernetes_asyncio import client, config

from kubedora.k8s import informer as informer_module
from kubedora.k8s.informer import Gone, Informer, Kind, running
from tests.support.dora import ago, create, deployment

DEPLOYMENTS = Kind("kubedora.io", "v1alpha1", "deployments")


def service_of(body: Mapping[str, Any]) -> str | None:
    service: str | None = body.get("spec", {}).get("service")
    return service


@pytest.fixture
async def api(kubeconfig: Path) -> AsyncIterator[client.ApiClient]:
    configuration = client.Configuration()
    await config.load_kube_config(config_file=str(kubeconfig), client_configuration=configuration)
    async with client.ApiClient(configuration) as api:
        yield api


async def eventually(check: Any, timeout: float = 15.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not check():
        assert loop.time() < deadline, "timed out"
        await asyncio.sleep(0.05)


@pytest.mark.usefixtures("crds")
async def test_lists_in_pages_then_follows_changes(
    api: client.ApiClient,
    custom_objects: sync_client.CustomObjectsApi,
    namespace: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(informer_module, "PAGE_SIZE", 2)  # three pages for five objects
    for i in range(5):
        create(custom_objects, namespace, "Deployment", f"d{i}", deployment(f"s{i}", ago(days=1)))
    changes: list[tuple[str, str | None, str | None]] = []
    cache = Informer(
        api,
        DEPLOYMENTS,
        service_of,
        namespace=namespace,
        on_change=lambda ns, old, new: changes.append((ns, old, new)),
    )
    async with running(cache):
        await asyncio.wait_for(cache.synced.wait(), 15)
        assert sorted(cache.values(namespace)) == ["s0", "s1", "s2", "s3", "s4"]
        assert len(changes) == 5

        await asyncio.to_thread(
            custom_objects.patch_namespaced_custom_object,
            "kubedora.io", "v1alpha1", namespace, "deployments", "d0",
            {"spec": {"service": "renamed"}},
        )  # fmt: skip
        await asyncio.to_thread(
            custom_objects.delete_namespaced_custom_object,
            "kubedora.io", "v1alpha1", namespace, "deployments", "d1",
        )  # fmt: skip
        await eventually(lambda: sorted(cache.values(namespace)) == ["renamed", "s2", "s3", "s4"])
        assert (namespace, "s0", "renamed") in changes
        assert (namespace, "s1", None) in changes


async def test_an_expired_watch_means_list_again() -> None:
    cache: Informer[str] = Informer(None, DEPLOYMENTS, service_of)  # type: ignore[arg-type]
    with pytest.raises(Gone):
        cache._apply({"type": "ERROR", "object": {"code": 410, "message": "too old"}}, "1")
