"""Run `kubedora operator` as a real process against the test control plane."""

from __future__ import annotations

import os
import socket
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from tests.support.processes import KUBEDORA, terminate


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class OperatorProcess:
    process: subprocess.Popen[bytes]
    log_path: Path
    # The operator's own HTTP server (/metrics and the dashboard page).
    http_url: str = ""

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def metric(self, sample: str) -> float:
        return metric(self.http_url, sample)

    def stop(self, timeout: float = 20.0) -> None:
        terminate(self.process, timeout)


def metric(http_url: str, sample: str) -> float:
    """One sample of an operator's /metrics, named with its labels as
    exposed (`name{label="value"}`); 0 when absent."""
    with urllib.request.urlopen(f"{http_url}/metrics", timeout=10) as response:
        text = response.read().decode()
    for line in text.splitlines():
        if line.startswith(f"{sample} "):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def start_operator(
    kubeconfig: Path,
    log_path: Path,
    *args: str,
    env: dict[str, str] | None = None,
    timeout: float = 60.0,
    http_port: int | None = None,
) -> OperatorProcess:
    port = free_port()
    # Never the default 8082: other test runs on this machine may hold it.
    http_port = http_port or free_port()
    environ = {
        **os.environ,
        "KUBECONFIG": str(kubeconfig),
        "KUBEDORA_DEBOUNCE_SECONDS": "0.3",
        "KUBEDORA_RESYNC_SECONDS": "10",
        # Its own git cache: other test runs on the machine have theirs.
        "KUBEDORA_GIT_CACHE_DIR": str(log_path.parent / "git-cache"),
        **(env or {}),
    }
    command = [
        KUBEDORA,
        "operator",
        *args,
        "--liveness",
        f"http://127.0.0.1:{port}/healthz",
        "--http-address",
        f"127.0.0.1:{http_port}",
    ]
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=environ
        )
    running = OperatorProcess(process, log_path, f"http://127.0.0.1:{http_port}")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"operator exited with {process.returncode}:\n{running.log()}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as r:
                if r.status == 200:
                    return running
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.1)
    running.stop()
    raise RuntimeError(f"operator not live after {timeout}s:\n{running.log()}")
