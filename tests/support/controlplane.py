"""Start and stop the project's own control plane (tests/controlplane/): kube-apiserver,
kube-controller-manager, kube-scheduler and simulated kubelets in one process."""

from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.support.processes import terminate

ROOT = Path(__file__).resolve().parents[2]
BUILD_SCRIPT = ROOT / "tests" / "controlplane" / "build.sh"
BINARY = ROOT / ".cache" / "bin" / "kube-controlplane"
READY_LINE = "controlplane ready"


class ControlPlaneError(RuntimeError):
    pass


@dataclass
class ControlPlane:
    """A running control plane: its kubeconfig and how long it took to start."""

    kubeconfig: Path
    startup_seconds: float
    process: subprocess.Popen[bytes] | None
    log_path: Path | None

    def stop(self, timeout: float = 30.0) -> None:
        if self.process is not None and not terminate(self.process, timeout):
            raise ControlPlaneError(f"control plane ignored SIGTERM for {timeout}s")


def build() -> None:
    subprocess.run(["bash", str(BUILD_SCRIPT)], check=True)


def start(
    workdir: Path | None = None,
    timeout: float = 120.0,
    *,
    port: int | None = None,
    keep_data: bool = False,
) -> ControlPlane:
    """Build if needed, start the binary and wait for its ready line.

    With keep_data (and the same workdir and port), a stopped control plane
    comes back with its objects, CA and token, so existing clients reconnect."""
    build()
    workdir = workdir or Path(tempfile.mkdtemp(prefix="kubedora-tests-"))
    kubeconfig = workdir / "kubeconfig"
    log_path = workdir / "controlplane.log"
    command = [str(BINARY), "--data-dir", str(workdir / "data"), "--kubeconfig", str(kubeconfig)]
    if port is not None:
        command += ["--port", str(port)]
    if keep_data:
        command.append("--keep-data")
    started = time.monotonic()
    # Append: a restart keeps the earlier run's log, and the ready line is
    # looked for only after the offset where this run starts.
    offset = log_path.stat().st_size if log_path.exists() else 0
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            command,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    deadline = started + timeout
    while time.monotonic() < deadline:
        if READY_LINE in log_path.read_bytes()[offset:].decode(errors="replace"):
            return ControlPlane(kubeconfig, time.monotonic() - started, process, log_path)
        if process.poll() is not None:
            raise ControlPlaneError(
                f"control plane exited with {process.returncode}:\n{_tail(log_path)}"
            )
        time.sleep(0.05)
    process.kill()
    raise ControlPlaneError(f"control plane not ready after {timeout}s:\n{_tail(log_path)}")


def add_kubeconfig_argument(parser: argparse.ArgumentParser) -> None:
    """A benchmark's --kubeconfig: an existing cluster instead of a local one."""
    parser.add_argument(
        "--kubeconfig", type=Path, help="an existing cluster (default: start a local control plane)"
    )


@contextlib.contextmanager
def cluster(workdir: Path, kubeconfig: Path | None = None) -> Iterator[ControlPlane]:
    """The cluster of `kubeconfig` (no process of ours), or a local control
    plane started in `workdir` and stopped after the block."""
    if kubeconfig is not None:
        yield ControlPlane(kubeconfig, 0.0, None, None)
        return
    plane = start(workdir)
    try:
        yield plane
    finally:
        plane.stop()


def existing() -> ControlPlane | None:
    """The cluster in $KUBECONFIG, when the user asked the tests to use it (kind)."""
    if os.environ.get("KUBEDORA_TEST_USE_EXISTING_CLUSTER") != "1":
        return None
    path = os.environ.get("KUBECONFIG")
    if not path:
        raise ControlPlaneError("KUBEDORA_TEST_USE_EXISTING_CLUSTER=1 needs KUBECONFIG")
    return ControlPlane(Path(path.split(os.pathsep)[0]), 0.0, None, None)


def _tail(path: Path, lines: int = 40) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
