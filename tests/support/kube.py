"""Small helpers over the official client, for tests and benchmarks."""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterable
from functools import partial
from pathlib import Path
from typing import Literal, TypeVar, cast

import yaml
from kubernetes import client, config
from kubernetes.client.exceptions import ApiException
from kubernetes_asyncio import client as async_client
from kubernetes_asyncio import config as async_config

T = TypeVar("T")


def unique_name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def new_client(kubeconfig: Path) -> client.ApiClient:
    """An API client for the kubeconfig, with its type: the config loader is unannotated."""
    api: client.ApiClient = config.new_client_from_config(config_file=str(kubeconfig))  # type: ignore[no-untyped-call]
    return api


async def async_configuration(
    kubeconfig: Path, pool: int | None = None
) -> async_client.Configuration:
    """The asyncio client's configuration for the kubeconfig, with up to
    `pool` connections (None: the library's default)."""
    configuration = async_client.Configuration()
    await async_config.load_kube_config(
        config_file=str(kubeconfig), client_configuration=configuration
    )
    if pool is not None:
        configuration.connection_pool_maxsize = pool
    return configuration


@contextlib.asynccontextmanager
async def async_client_for(
    kubeconfig: Path, pool: int | None = None
) -> AsyncIterator[async_client.ApiClient]:
    """An asyncio API client for the kubeconfig, closed after the block."""
    async with async_client.ApiClient(await async_configuration(kubeconfig, pool)) as api:
        yield api


def close_client(api: client.ApiClient) -> None:
    """ApiClient.close, typed: the client's close is unannotated."""
    api.close()  # type: ignore[no-untyped-call]


def poll(
    probe: Callable[[], T | Literal[False] | None],
    *,
    timeout: float = 30.0,
    interval: float = 0.1,
    what: str = "condition",
) -> T:
    """Call probe until it returns something other than None/False, or fail at the deadline."""
    deadline = time.monotonic() + timeout
    last: T | Literal[False] | None = None
    while True:
        last = probe()
        if last is not None and last is not False:
            return last
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}; last: {last!r}")
        time.sleep(interval)


def apply_crds(api: client.ApiClient, paths: Iterable[Path], timeout: float = 30.0) -> list[str]:
    """Create or update every CRD in paths and wait until each is Established."""
    ext = client.ApiextensionsV1Api(api)
    names: list[str] = []
    for path in paths:
        for doc in yaml.safe_load_all(path.read_text()):
            if not doc:
                continue
            name = doc["metadata"]["name"]
            try:
                current = ext.read_custom_resource_definition(name)
            except ApiException as exc:
                if exc.status != 404:
                    raise
                ext.create_custom_resource_definition(doc)
            else:
                # The model types metadata as optional; a stored object always has it.
                metadata = cast("client.V1ObjectMeta", current.metadata)
                doc["metadata"]["resourceVersion"] = metadata.resource_version
                ext.replace_custom_resource_definition(name, doc)
            names.append(name)
    for name in names:
        poll(partial(_established, ext, name), timeout=timeout, what=f"CRD {name}")
    return names


def _established(ext: client.ApiextensionsV1Api, name: str) -> bool:
    crd = ext.read_custom_resource_definition(name)
    conditions = (crd.status and crd.status.conditions) or []
    return any(c.type == "Established" and c.status == "True" for c in conditions)


def token_kubeconfig(admin_kubeconfig: Path, token: str, path: Path) -> Path:
    """A kubeconfig for the same server and CA as the admin's, with another token."""
    config = yaml.safe_load(admin_kubeconfig.read_text())
    for user in config["users"]:
        user["user"] = {"token": token}
    path.write_text(yaml.safe_dump(config))
    return path


def service_account_token(
    api: client.ApiClient, namespace: str, name: str, seconds: int = 3600
) -> str:
    """A token for the ServiceAccount from the TokenRequest API."""
    issued = client.CoreV1Api(api).create_namespaced_service_account_token(
        name,
        namespace,
        client.AuthenticationV1TokenRequest(
            spec=client.V1TokenRequestSpec(audiences=[], expiration_seconds=seconds)
        ),
    )
    # The model types status and token as optional; a TokenRequest's reply has both.
    return cast(str, cast("client.V1TokenRequestStatus", issued.status).token)
