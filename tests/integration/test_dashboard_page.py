"""The operator's dashboard page in a real headless Chromium (Debian's
package, installed by `make install`), against a running operator with the
known scenario (tests/support/scenario.py). Screenshots of both themes go to
$KUBEDORA_SCREENSHOT_DIR (`make screenshot`: docs/) or a temporary folder."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from kubernetes import client

from tests.support import scenario
from tests.support.dora import get
from tests.support.kube import poll, unique_name
from tests.support.operator import OperatorProcess, start_operator
from tests.support.processes import KUBEDORA

WINDOW = "1280,1800"


def chromium(*args: str) -> subprocess.CompletedProcess[str]:
    binary = shutil.which("chromium")
    if binary is None:
        raise RuntimeError("chromium is not installed: run `make install` (hack/debian-deps.sh)")
    # Chromium's sandbox refuses to run as root (CI runs as root).
    sandbox = ["--no-sandbox"] if os.geteuid() == 0 else []
    return subprocess.run(
        [binary, "--headless", "--disable-gpu", "--hide-scrollbars", *sandbox, *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


@pytest.fixture(scope="module")
def page(
    kubeconfig: Path,
    crds: list[str],
    custom_objects: client.CustomObjectsApi,
    core_v1: client.CoreV1Api,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[str, OperatorProcess]]:
    namespace = unique_name("shop")
    core_v1.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=namespace)))
    workdir = tmp_path_factory.mktemp("dashboard")
    operator = start_operator(kubeconfig, workdir / "operator.log", "-n", namespace, "--standalone")
    try:
        scenario.create_scenario(custom_objects, namespace)
        poll(
            lambda: (get(custom_objects, namespace, "DoraSource", scenario.SOURCE).get("status")
                     or {}).get("summary") == scenario.SUMMARY,
            timeout=60,
            what="the scenario's scoreboard",
        )  # fmt: skip
        # The open failure's status, so the page's list is settled too.
        poll(
            lambda: (get(custom_objects, namespace, "Failure", "checkout-errors").get("status")
                     or {}).get("state") == "active",
            timeout=30,
            what="the open failure's status",
        )  # fmt: skip
        yield f"{operator.http_url}/namespaces/{namespace}", operator
    finally:
        operator.stop()


def text_of(dom: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", dom))


def test_the_page_shows_the_four_keys_trends_breakdown_and_lists(
    page: tuple[str, OperatorProcess],
) -> None:
    url, _ = page
    dumped = chromium("--dump-dom", url)
    assert dumped.returncode == 0, dumped.stderr
    dom = dumped.stdout
    figures = dict(re.findall(r'data-figure="([^"]+)">([^<]*)<', dom))
    assert figures == {
        "Deployment frequency": "0.37/day",
        "Lead time for changes": "-",
        "Change failure rate": "27.3%",
        "Time to restore": "1h15m",
    }
    text = text_of(dom)
    assert "dora band: high" in text.lower()  # frequency 0.37/day, restore 1h15m
    assert "dora band: low" in text.lower()  # 27.3 % of changes failed
    # Four trend charts, each an image with a title and a description.
    charts = re.findall(r'<svg [^>]*role="img" aria-labelledby="([^"]+)"', dom)
    assert len(charts) == 4
    for labelled in charts:
        title_id, desc_id = labelled.split()
        assert f'id="{title_id}"' in dom
        assert f'id="{desc_id}"' in dom
    assert "Deployments over 12 buckets" in text
    assert "5 buckets without data" in text  # buckets 3, 4, 9, 10 and 11
    # The breakdown, the open failure and the newest deployment.
    assert "service: checkout 6 2 1 33.3% 30m" in text
    assert "service: payments 3 1 1 33.3% 2h" in text
    assert "checkout-errors checkout shop prod SEV-2" in text
    assert "No open failures" not in text
    assert re.search(r"Newest deployments .*payments-1-8-0 payments prod 1\.8\.0", text)


def test_screenshots_in_both_themes(page: tuple[str, OperatorProcess], tmp_path: Path) -> None:
    url, _ = page
    folder = Path(os.environ.get("KUBEDORA_SCREENSHOT_DIR") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    for name, theme in (("dashboard.png", []), ("dashboard-dark.png", ["--force-dark-mode"])):
        target = folder / name
        target.unlink(missing_ok=True)
        shot = chromium(*theme, f"--window-size={WINDOW}", f"--screenshot={target}", url)
        assert shot.returncode == 0, shot.stderr
        data = target.read_bytes()
        assert data.startswith(b"\x89PNG\r\n\x1a\n")
        assert len(data) > 50_000  # a rendered page, not a blank one


def test_read_only_with_security_headers(page: tuple[str, OperatorProcess]) -> None:
    url, operator = page
    for address in (url, f"{operator.http_url}/", f"{operator.http_url}/metrics"):
        with urllib.request.urlopen(address, timeout=10) as response:
            headers = response.headers
            assert response.status == 200
        assert "default-src 'none'" in headers["Content-Security-Policy"]
        assert "script-src" not in headers["Content-Security-Policy"]
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "no-referrer"
        assert headers["X-Frame-Options"] == "DENY"
    request = urllib.request.Request(url, data=b"{}", method="POST")
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)
    assert refused.value.code == 405
    with pytest.raises(urllib.error.HTTPError) as missing:
        urllib.request.urlopen(f"{operator.http_url}/namespaces/elsewhere", timeout=10)
    assert missing.value.code == 404  # a namespace this operator does not serve


def test_status_trend_of_the_scenario(
    page: tuple[str, OperatorProcess], custom_objects: client.CustomObjectsApi
) -> None:
    url, _ = page
    namespace = url.rsplit("/", 1)[1]
    status = get(custom_objects, namespace, "DoraSource", scenario.SOURCE)["status"]
    trend = status["trend"]
    assert len(trend) == 12
    starts = [point["start"] for point in trend]
    assert starts == sorted(starts)  # oldest first
    newest_first = list(reversed(trend))
    for bucket in scenario.EMPTY_BUCKETS:
        assert set(newest_first[bucket]) == {"start"}, bucket  # absent, not zero
    assert {b: p.get("deployments") for b, p in enumerate(newest_first) if "deployments" in p} == (
        scenario.TREND_DEPLOYMENTS
    )
    assert {
        b: p["changeFailureRate"] for b, p in enumerate(newest_first) if "changeFailureRate" in p
    } == scenario.TREND_CFR
    assert {
        b: p["medianTimeToRestoreSeconds"]
        for b, p in enumerate(newest_first)
        if "medianTimeToRestoreSeconds" in p
    } == scenario.TREND_TTR
    rows = {(row["dimension"], row["key"]) for row in status["breakdownTrend"]}
    assert ("service", "checkout") in rows


def test_kubedora_metrics_trend_draws_sparklines(
    page: tuple[str, OperatorProcess], kubeconfig: Path
) -> None:
    url, _ = page
    namespace = url.rsplit("/", 1)[1]
    shown = subprocess.run(
        [KUBEDORA, "metrics", "-n", namespace, "--trend", "--breakdown"],
        env={**os.environ, "KUBECONFIG": str(kubeconfig)},
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    # Oldest first: buckets 11 … 0 of the scenario; a dot for no data.
    summary = next(
        line for line in shown.splitlines() if line.split()[:2] == ["summary", "deployments"]
    )
    spark = summary.split()[2]
    assert len(spark) == 12
    assert [i for i, c in enumerate(spark) if c == "·"] == sorted(
        11 - bucket for bucket in scenario.EMPTY_BUCKETS
    )
    assert spark[-1] == "█"  # the newest bucket has the most deployments (5)
    assert summary.split()[3] == "5"
    assert any(line.startswith("service: checkout") for line in shown.splitlines())


def test_a_port_in_use_stops_the_operator_loudly(
    kubeconfig: Path, crds: list[str], namespace: str
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [KUBEDORA, "operator", "-n", namespace, "--standalone",
             "--http-address", f"127.0.0.1:{port}"],
            env={**os.environ, "KUBECONFIG": str(kubeconfig)},
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )  # fmt: skip
    assert result.returncode != 0, result.stdout + result.stderr
    assert f"cannot serve --http-address 127.0.0.1:{port}" in result.stdout + result.stderr


def test_a_malformed_address_is_refused_at_once(kubeconfig: Path) -> None:
    result = subprocess.run(
        [KUBEDORA, "operator", "-n", "x", "--standalone", "--http-address", "8082"],
        env={**os.environ, "KUBECONFIG": str(kubeconfig)},
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 2
    assert "expected HOST:PORT" in result.stderr
