"""One place that knows how to reach the API server and write our status."""

from __future__ import annotations

import base64
import os
import urllib.request
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from kubernetes_asyncio import client, config
from kubernetes_asyncio.client.exceptions import ApiException

from kubedora.k8s.errors import API_ERRORS
from kubedora.models import DORASOURCES, Resource

MERGE_PATCH = "application/merge-patch+json"
STATUS_TIMEOUT_SECONDS = 30


async def connect() -> client.ApiClient:
    """An API client from the pod's ServiceAccount, else from $KUBECONFIG/~/.kube/config."""
    if "KUBERNETES_SERVICE_HOST" in os.environ and "KUBECONFIG" not in os.environ:
        config.load_incluster_config()  # type: ignore[no-untyped-call]
        return direct(client.ApiClient())
    configuration = client.Configuration()
    await config.load_kube_config(client_configuration=configuration)
    return direct(client.ApiClient(configuration))


# What kubernetes_asyncio gives its session: watch events can be large.
READ_BUFFER = 2**21


def direct(api: client.ApiClient) -> client.ApiClient:
    """`api` without the environment lookups of every request (call it in a
    running event loop, before the first request).

    kubernetes_asyncio's session trusts the environment, so aiohttp reads
    ~/.netrc and the proxy variables, in worker threads, on every request:
    two thread hops per API call, a tenth of the receiver's CPU under load.
    Kubernetes credentials come from the kubeconfig or the ServiceAccount,
    never from ~/.netrc, and the proxy variables do not change while we run:
    unless they name a proxy for the API server (then the library's session
    stays), the session is swapped for one on the same connector (same TLS
    and pool) that does not look."""
    rest = api.rest_client
    if rest.proxy is None and _env_proxied(api.configuration.host):
        return api
    built = rest.pool_manager
    rest.pool_manager = aiohttp.ClientSession(connector=built.connector, read_bufsize=READ_BUFFER)
    built.detach()
    return api


def _env_proxied(url: str) -> bool:
    """Whether the proxy variables send requests to `url` through a proxy."""
    parts = urlsplit(url)
    proxies = urllib.request.getproxies()
    return parts.scheme in proxies and not urllib.request.proxy_bypass(parts.hostname or "")


async def merge_patch(
    api: client.ApiClient,
    resource: Resource,
    namespace: str,
    name: str,
    body: dict[str, Any],
    *,
    status: bool = False,
) -> bool:
    """Merge-patch one of our objects (or its status subresource); False when
    the object is gone."""
    objects = client.CustomObjectsApi(api)
    patch = (
        objects.patch_namespaced_custom_object_status
        if status
        else objects.patch_namespaced_custom_object
    )
    try:
        # The client's stub omits _content_type, which it accepts at run time.
        await patch(
            resource.group,
            resource.version,
            namespace,
            resource.plural,
            name,
            body,
            _content_type=MERGE_PATCH,
        )  # type: ignore[call-arg]
    except ApiException as exc:
        if exc.status == 404:
            return False
        raise
    return True


async def patch_status(
    api: client.ApiClient,
    resource: Resource,
    namespace: str,
    name: str,
    status: dict[str, Any],
) -> bool:
    """Merge-patch the status subresource; False when the object is gone.

    A merge patch carries no resourceVersion, so it cannot conflict: callers
    send the fields they own, computed from current facts. The answer is
    not read into the client's models: only whether it succeeded matters,
    and decoding the object cost more than the write itself."""
    response = await api.call_api(
        f"{resource.path(namespace)}/{name}/status",
        "PATCH",
        header_params={"Content-Type": MERGE_PATCH, "Accept": "application/json"},
        body={"status": status},
        auth_settings=["BearerToken"],
        _preload_content=False,
        _return_http_data_only=True,
        _request_timeout=STATUS_TIMEOUT_SECONDS,
    )
    try:
        if response.status == 404:
            return False
        if not 200 <= response.status < 300:
            error = ApiException(status=response.status, reason=response.reason)
            error.body = await response.read()  # the Status, for status_message()
            raise error
        return True
    finally:
        response.release()


async def annotate(
    api: client.ApiClient,
    resource: Resource,
    namespace: str,
    name: str,
    annotations: dict[str, str],
) -> bool:
    """Merge these annotations into one of our objects; False when it is gone."""
    return await merge_patch(
        api, resource, namespace, name, {"metadata": {"annotations": annotations}}
    )


async def api_reachable(api: client.ApiClient, timeout: float = 2.0) -> bool:
    """Whether the API server answers at all (for readiness probes)."""
    try:
        await client.VersionApi(api).get_code(_request_timeout=timeout)
    except API_ERRORS:
        return False
    return True


async def list_dorasources(
    namespace: str | None, *, all_namespaces: bool = False
) -> list[dict[str, Any]]:
    """DoraSources of one namespace (default: the kubeconfig's) or of all."""
    api = await connect()
    try:
        objects = client.CustomObjectsApi(api)
        if all_namespaces:
            found = await objects.list_cluster_custom_object(*DORASOURCES.coordinates)
        else:
            if namespace is None:
                _, active = config.list_kube_config_contexts()
                namespace = ((active or {}).get("context") or {}).get("namespace") or "default"
            found = await objects.list_namespaced_custom_object(
                DORASOURCES.group, DORASOURCES.version, namespace, DORASOURCES.plural
            )
    finally:
        await api.close()
    items: list[dict[str, Any]] = found["items"]
    return sorted(items, key=lambda i: (i["metadata"]["namespace"], i["metadata"]["name"]))


async def secret_token(api: client.ApiClient, namespace: str, name: str) -> str:
    """The token in a Secret: the value of its key `token`, else its only
    value. ValueError says what is missing; API errors pass through."""
    try:
        secret = await client.CoreV1Api(api).read_namespaced_secret(name, namespace)
    except ApiException as exc:
        if exc.status == 404:
            raise ValueError(f"Secret {namespace}/{name} not found") from exc
        raise
    data: dict[str, str] = secret.data or {}
    if "token" in data:
        encoded = data["token"]
    elif len(data) == 1:
        (encoded,) = data.values()
    else:
        raise ValueError(f"Secret {namespace}/{name}: put the token under the key `token`")
    try:
        # `kubectl create secret --from-file` keeps the file's final newline.
        return base64.b64decode(encoded, validate=True).decode().strip()
    except (ValueError, UnicodeDecodeError) as error:
        raise ValueError(f"Secret {namespace}/{name}: the token is not base64 text") from error
