"""The list-then-watch cache behind the scoreboard, against a real API server."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client as sync_client
from kubernetes_asyncio import client, config
from kubernetes_asyncio.client.exceptions import ApiException

from kubedora.k8s import informer as informer_module
from kubedora.k8s.informer import Gone, Informer, KeyedIndex, running
from kubedora.models import DEPLOYMENTS
from tests.support.dora import ago, create, deployment


def by_service(body: Mapping[str, Any]) -> dict[str, str] | None:
    """File each deployment under its service, valued by its name."""
    service: str | None = body.get("spec", {}).get("service")
    return None if service is None else {service: body["metadata"]["name"]}


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
    changes: list[tuple[dict[str, str], dict[str, str]]] = []
    index: KeyedIndex[str, str] = KeyedIndex(
        by_service, lambda old, new: changes.append((dict(old), dict(new)))
    )
    cache = Informer(api, DEPLOYMENTS, [index], namespace=namespace)
    async with running(cache):
        await asyncio.wait_for(cache.synced.wait(), 15)
        assert sorted(index) == ["s0", "s1", "s2", "s3", "s4"]
        assert list(index["s3"]) == ["d3"]
        assert index.objects == 5
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
        await eventually(lambda: sorted(index) == ["renamed", "s2", "s3", "s4"])
        assert ({"s0": "d0"}, {"renamed": "d0"}) in changes
        assert ({"s1": "d1"}, {}) in changes
        assert "s1" not in index


def test_a_relist_drops_what_was_deleted_meanwhile() -> None:
    index: KeyedIndex[str, str] = KeyedIndex(by_service)
    for uid, service in (("u1", "a"), ("u2", "a"), ("u3", "b")):
        index.upsert(uid, {"metadata": {"name": uid}, "spec": {"service": service}}, listed=True)
    assert sorted(index["a"]) == ["u1", "u2"]
    index.retain({"u1", "u3"})
    assert list(index["a"]) == ["u1"]
    assert index.objects == 2


async def test_an_expired_watch_means_list_again() -> None:
    cache = Informer(None, DEPLOYMENTS, [])  # type: ignore[arg-type]
    with pytest.raises(Gone):
        cache._apply({"type": "ERROR", "object": {"code": 410, "message": "too old"}}, "1")


@pytest.mark.usefixtures("crds")
async def test_an_error_answer_to_a_list_is_an_error_not_an_empty_list(
    api: client.ApiClient, custom_objects: sync_client.CustomObjectsApi, namespace: str
) -> None:
    create(custom_objects, namespace, "Deployment", "d0", deployment("s0", ago(days=1)))
    index: KeyedIndex[str, str] = KeyedIndex(by_service)
    cache = Informer(api, DEPLOYMENTS, [index], namespace=namespace)
    await cache._list()
    assert list(index["s0"]) == ["d0"]

    # A kind the API server does not serve answers 404, as a restarting one
    # answers 503: the informer must raise, and keep what it holds.
    missing = Informer(
        api, replace(DEPLOYMENTS, plural="nonexistents"), [index], namespace=namespace
    )
    with pytest.raises(ApiException) as refused:
        await missing._list()
    assert refused.value.status == 404
    assert list(index["s0"]) == ["d0"]


@pytest.mark.usefixtures("crds")
async def test_a_failed_page_is_asked_again_without_starting_the_list_over(
    api: client.ApiClient,
    custom_objects: sync_client.CustomObjectsApi,
    namespace: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(informer_module, "PAGE_SIZE", 2)
    monkeypatch.setattr(informer_module, "RETRY_SECONDS", 0.01)
    for i in range(5):
        create(custom_objects, namespace, "Deployment", f"d{i}", deployment(f"s{i}", ago(days=1)))
    index: KeyedIndex[str, str] = KeyedIndex(by_service)
    cache = Informer(api, DEPLOYMENTS, [index], namespace=namespace)
    asked: list[bool] = []  # per request: whether it carried a continue token
    real_get = cache._get

    async def busy_once(query: list[tuple[str, str]], timeout: float | None) -> Any:
        continued = any(key == "continue" for key, _ in query)
        asked.append(continued)
        # The second page fails once, as a busy API server answers 504.
        if continued and asked.count(True) == 1:
            raise ApiException(status=504, reason="Timeout")
        return await real_get(query, timeout)

    monkeypatch.setattr(cache, "_get", busy_once)
    await cache._list()
    assert sorted(index) == ["s0", "s1", "s2", "s3", "s4"]
    # One first page, the second page twice, then the third: no new start.
    assert asked == [False, True, True, True]
