"""The API client every kubedora process gets from `k8s.client.connect`: it
does not look up ~/.netrc and the proxy variables on every request (two
thread hops per call in kubernetes_asyncio's session), and still goes
through a proxy the environment names for the API server."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path

import pytest
from kubernetes_asyncio import client, config
from kubernetes_asyncio.config import kube_config

from kubedora.k8s.client import api_reachable, connect
from tests.support.operator import free_port

PROXY_VARIABLES = ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY")
BYPASS_VARIABLES = ("NO_PROXY", "no_proxy")

Connect = Callable[[], AbstractAsyncContextManager[client.ApiClient]]


@pytest.fixture
def connected(kubeconfig: Path, monkeypatch: pytest.MonkeyPatch) -> Connect:
    """connect() as a process started with this cluster's kubeconfig and no
    proxy variables of its own."""
    # kubernetes_asyncio reads $KUBECONFIG when it is imported.
    monkeypatch.setattr(kube_config, "KUBE_CONFIG_DEFAULT_LOCATION", str(kubeconfig))
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    for name in PROXY_VARIABLES + BYPASS_VARIABLES:
        monkeypatch.delenv(name, raising=False)

    @asynccontextmanager
    async def opened() -> AsyncIterator[client.ApiClient]:
        api = await connect()
        try:
            yield api
        finally:
            await api.close()

    return opened


@pytest.fixture
def netrc_for_the_api_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A netrc entry for the API server's host: aiohttp, looking it up, adds
    Basic credentials next to the bearer token and refuses the request."""
    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1 login someone password secret\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))


@pytest.mark.usefixtures("netrc_for_the_api_server")
async def test_requests_do_not_look_up_netrc(connected: Connect, kubeconfig: Path) -> None:
    configuration = client.Configuration()
    await config.load_kube_config(config_file=str(kubeconfig), client_configuration=configuration)
    async with client.ApiClient(configuration) as plain:
        # The library as it comes reads the netrc file on every request.
        with pytest.raises(ValueError, match="AUTHORIZATION"):
            await client.VersionApi(plain).get_code()
    async with connected() as api:
        version = await client.VersionApi(api).get_code()
    assert version.major


async def test_a_proxy_named_by_the_environment_is_used(
    connected: Connect, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Nothing listens there: through the proxy, the API server is unreachable.
    monkeypatch.setenv("HTTPS_PROXY", f"http://127.0.0.1:{free_port()}")
    async with connected() as api:
        assert not await api_reachable(api)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    async with connected() as api:
        assert await api_reachable(api)
