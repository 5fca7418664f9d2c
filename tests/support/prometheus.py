"""A real Prometheus (Debian's package, installed by `make install`) for
tests: started on a free port, scraping given targets every second, with the
rules of manifests/monitoring evaluated every second."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import yaml

from tests.support.operator import free_port
from tests.support.processes import terminate

ROOT = Path(__file__).resolve().parents[2]
MONITORING = ROOT / "manifests" / "monitoring"
Sample = tuple[dict[str, str], float]


def binary(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise RuntimeError(f"{name} is not installed: run `make install` (hack/debian-deps.sh)")
    return found


def rule_groups(*, for_duration: str | None = None) -> dict[str, Any]:
    """The PrometheusRule's spec as a Prometheus rules file; `for_duration`
    replaces every alert's `for:` (tests cannot wait minutes)."""
    rule = yaml.safe_load((MONITORING / "prometheusrule.yaml").read_text())
    groups: list[dict[str, Any]] = rule["spec"]["groups"]
    if for_duration is not None:
        for group in groups:
            group["interval"] = "1s"
            for entry in group["rules"]:
                if "alert" in entry:
                    entry["for"] = for_duration
    return {"groups": groups}


def dashboard() -> dict[str, Any]:
    return cast("dict[str, Any]", json.loads((MONITORING / "grafana-dashboard.json").read_text()))


@dataclass
class Prometheus:
    process: subprocess.Popen[bytes]
    url: str
    log_path: Path

    def query(self, expr: str) -> list[Sample]:
        """An instant query; the result as (labels, value) pairs."""
        address = f"{self.url}/api/v1/query?" + urllib.parse.urlencode({"query": expr})
        with urllib.request.urlopen(address, timeout=10) as response:
            answer = json.loads(response.read())
        if answer.get("status") != "success":
            raise AssertionError(f"{expr}: {answer}")
        data = answer["data"]
        if data["resultType"] == "scalar":
            return [({}, float(data["result"][1]))]
        return [(item["metric"], float(item["value"][1])) for item in data["result"]]

    def alerts(self) -> dict[str, str]:
        """Alert name -> state (pending, firing) of the active alerts."""
        with urllib.request.urlopen(f"{self.url}/api/v1/alerts", timeout=10) as response:
            answer = json.loads(response.read())
        return {a["labels"]["alertname"]: a["state"] for a in answer["data"]["alerts"]}

    def stop(self) -> None:
        terminate(self.process, 20)


def start(workdir: Path, targets: list[str], *, for_duration: str = "2s") -> Prometheus:
    port = free_port()
    rules = workdir / "rules.yaml"
    rules.write_text(yaml.safe_dump(rule_groups(for_duration=for_duration)))
    config = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s", "scrape_timeout": "1s"},
        "rule_files": [str(rules)],
        "scrape_configs": [
            {"job_name": "kubedora-operator", "static_configs": [{"targets": targets}]}
        ],
    }
    (workdir / "prometheus.yml").write_text(yaml.safe_dump(config))
    log_path = workdir / "prometheus.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [
                binary("prometheus"),
                f"--config.file={workdir / 'prometheus.yml'}",
                f"--storage.tsdb.path={workdir / 'data'}",
                f"--web.listen-address=127.0.0.1:{port}",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    running = Prometheus(process, f"http://127.0.0.1:{port}", log_path)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"prometheus exited:\n{log_path.read_text()}")
        try:
            with urllib.request.urlopen(f"{running.url}/-/ready", timeout=1) as response:
                if response.status == 200:
                    return running
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.2)
    running.stop()
    raise RuntimeError(f"prometheus not ready after 60s:\n{log_path.read_text()}")
