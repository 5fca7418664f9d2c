"""Session fixtures: one real control plane for the whole run, API clients,
the project's CRDs applied, and a fresh namespace per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from kubernetes import client

from tests.support import controlplane
from tests.support.kube import apply_crds, close_client, new_client, unique_name
from tests.support.operator import OperatorProcess, start_operator

ROOT = Path(__file__).resolve().parents[1]
CRDS_DIR = ROOT / "crds"
# How long the session's control plane took to start, for the summary.
STARTUP_KEY = pytest.StashKey[float]()


@pytest.fixture(scope="session")
def cluster(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[controlplane.ControlPlane]:
    plane = controlplane.existing()
    if plane is None:
        plane = controlplane.start(tmp_path_factory.mktemp("controlplane"))
        request.config.stash[STARTUP_KEY] = plane.startup_seconds
    yield plane
    plane.stop()


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, config: pytest.Config
) -> None:
    # Written at the end: output during a fixture's setup is captured.
    startup = config.stash.get(STARTUP_KEY, None)
    if startup is not None:
        terminalreporter.write_line(f"local control plane started in {startup:.1f}s")


@pytest.fixture(scope="session")
def kubeconfig(cluster: controlplane.ControlPlane) -> Path:
    return cluster.kubeconfig


@pytest.fixture(scope="session")
def api_client(kubeconfig: Path) -> Iterator[client.ApiClient]:
    api = new_client(kubeconfig)
    yield api
    close_client(api)


@pytest.fixture(scope="session")
def core_v1(api_client: client.ApiClient) -> client.CoreV1Api:
    return client.CoreV1Api(api_client)


@pytest.fixture(scope="session")
def custom_objects(api_client: client.ApiClient) -> client.CustomObjectsApi:
    return client.CustomObjectsApi(api_client)


@pytest.fixture(scope="session")
def crds(api_client: client.ApiClient) -> list[str]:
    """Every CRD in crds/, applied and Established."""
    return apply_crds(api_client, sorted(CRDS_DIR.glob("*.kubedora.io.yaml")))


@pytest.fixture
def namespace(core_v1: client.CoreV1Api) -> str:
    # A unique name per test, never deleted: namespaces do delete here (the
    # control plane runs the namespace controller), but deleting one makes the
    # session's operator handle the removal of every object in it while later
    # tests run. The control plane is thrown away with the session.
    name = unique_name("t")
    core_v1.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name)))
    return name


@pytest.fixture(scope="session")
def operator(
    kubeconfig: Path, crds: list[str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[OperatorProcess]:
    """One `kubedora operator --all-namespaces` for the whole session."""
    log_path = tmp_path_factory.mktemp("operator") / "operator.log"
    running = start_operator(kubeconfig, log_path, "--all-namespaces", "--standalone")
    yield running
    running.stop()
    if running.process.returncode not in (0, -15):
        print(running.log())
