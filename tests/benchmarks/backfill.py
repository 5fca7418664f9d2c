"""Benchmark: a PagerDuty backfill of 15,000 incidents over two years (11,000
of them in one 3-month stretch) at PagerDuty's real limits: 960 requests a
minute per token, the 10,000 offset cap, 6-month windows, with a few
injected 429s and 5xx. It prints wall time, requests, throttled requests and
the operator's RSS, next to the floor in the same run (the fewest requests
the history needs, 100 incidents a page, and the time they take at 960 a
minute), and projects 100,000 incidents.

    .venv/bin/python -m tests.benchmarks.backfill                 # 15,000 incidents
    .venv/bin/python -m tests.benchmarks.backfill --incidents 3000 --dense 2200

It starts the local control plane, the PagerDuty stand-in
(tests/support/pagerduty.py) and `kubedora operator --namespace NS
--standalone`. Monitor tags are off (KUBEDORA_MONITOR_TAGS_MAX_AGE_DAYS=0)
unless --alerts: they cost one request per incident younger than 90 days.
Not a test: it prints figures.
"""

from __future__ import annotations

import argparse
import math
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

from kubernetes import client

from tests.support import controlplane
from tests.support.kube import apply_crds, close_client, new_client, poll, unique_name
from tests.support.operator import start_operator
from tests.support.pagerduty import Faults, StandIn, history, serve
from tests.support.receiver import put_secret

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "benchmark-token"


def rss_kib(pid: int) -> tuple[int, int]:
    """(VmRSS, VmHWM) of a process, in KiB."""
    fields = dict(
        line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
    )
    return int(fields["VmRSS"].split()[0]), int(fields["VmHWM"].split()[0])


def count_failures(objects: client.CustomObjectsApi, namespace: str) -> int:
    total, token = 0, None
    while True:
        listing = cast(
            "dict[str, Any]",
            objects.list_namespaced_custom_object(
                "kubedora.io", "v1alpha1", namespace, "failures", limit=1000, _continue=token
            ),
        )
        total += len(listing["items"])
        token = listing["metadata"].get("continue")
        if not token:
            return total


def run(incidents: int, dense: int, alerts: bool) -> None:
    work = Path(tempfile.mkdtemp(prefix="kubedora-backfill-"))
    plane = controlplane.existing() or controlplane.start(work)
    api = new_client(plane.kubeconfig)
    try:
        apply_crds(api, sorted((ROOT / "crds").glob("*.kubedora.io.yaml")))
        core, objects = client.CoreV1Api(api), client.CustomObjectsApi(api)
        namespace = unique_name("backfill")
        core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=namespace)))
        now = datetime.now(UTC).replace(microsecond=0)
        made = history(incidents, dense=dense, now=now)
        state = StandIn(
            token=TOKEN, incidents=made, faults=Faults(throttle_every=97, error_every=131)
        )
        stand_in = serve(state)
        put_secret(core, namespace, "pagerduty-token", {"token": TOKEN})
        objects.create_namespaced_custom_object(
            "kubedora.io",
            "v1alpha1",
            namespace,
            "dorasources",
            {
                "apiVersion": "kubedora.io/v1alpha1",
                "kind": "DoraSource",
                "metadata": {"name": "board"},
                "spec": {
                    "pagerduty": {
                        "apiURL": stand_in.url,
                        "apiTokenSecretRef": {"name": "pagerduty-token"},
                        "backfill": {"lookback": "730d"},
                    }
                },
            },
        )
        env = {} if alerts else {"KUBEDORA_MONITOR_TAGS_MAX_AGE_DAYS": "0"}
        started = time.perf_counter()
        operator = start_operator(
            plane.kubeconfig, work / "operator.log", "-n", namespace, "--standalone", env=env
        )
        peak_during = 0
        done = threading.Event()

        def sample() -> None:
            nonlocal peak_during
            while not done.wait(1.0):
                peak_during = max(peak_during, rss_kib(operator.process.pid)[0])

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        try:

            def finished() -> dict[str, Any] | None:
                board = cast(
                    "dict[str, Any]",
                    objects.get_namespaced_custom_object(
                        "kubedora.io", "v1alpha1", namespace, "dorasources", "board"
                    ),
                )
                backfill: dict[str, Any] = (board.get("status") or {}).get("backfill") or {}
                if backfill.get("phase") == "Failed":
                    raise AssertionError(f"backfill failed: {backfill.get('message')}")
                return backfill if backfill.get("phase") == "Succeeded" else None

            backfill = poll(finished, timeout=7200, interval=1.0, what="the backfill")
            wall = time.perf_counter() - started
            done.set()
            sampler.join()
            rss, hwm = rss_kib(operator.process.pid)
            written = count_failures(objects, namespace)
        finally:
            done.set()
            operator.stop()
            stand_in.stop()
    finally:
        close_client(api)
        plane.stop()

    pages = state.requests["incidents"]
    floor_requests = math.ceil(incidents / 100)
    floor_seconds = floor_requests * 60 / 960
    print(f"\nPagerDuty backfill of {incidents} incidents ({dense} in one 3-month stretch)")
    print(f"{'':28}{'measured':>12}{'floor':>12}{'ratio':>8}")
    ratio = pages / floor_requests
    print(f"{'requests (GET /incidents)':28}{pages:>12}{floor_requests:>12}{ratio:>8.2f}")
    print(f"{'requests per 100 incidents':28}{pages * 100 / incidents:>12.2f}{1.0:>12.2f}")
    print(f"{'wall time (s)':28}{wall:>12.1f}{floor_seconds:>12.1f}{wall / floor_seconds:>8.1f}")
    print(f"{'alerts requests':28}{state.requests['alerts']:>12}")
    print(
        f"throttled: {backfill['throttled']} (injected 429s {state.injected_429}, over the "
        f"limit {state.over_limit}); injected 5xx {state.injected_5xx}; refused for a limit "
        f"{len(state.refusals)}; most requests in one minute {state.max_per_window}"
    )
    print(f"Failures written {written} (status says {backfill['incidents']})")
    print(
        f"operator RSS: during the backfill up to {peak_during / 1024:.0f} MiB, "
        f"peak {hwm / 1024:.0f} MiB, at the end {rss / 1024:.0f} MiB"
    )
    per_incident = wall / incidents
    print(
        f"projected for 100,000 incidents: {per_incident * 100_000 / 60:.0f} min at this "
        f"write rate, {math.ceil(pages * 100_000 / incidents)} requests "
        f"({pages * 100_000 / incidents * 60 / 960 / 60:.1f} min of the rate limit)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--incidents", type=int, default=15_000)
    parser.add_argument("--dense", type=int, default=11_000)
    parser.add_argument("--alerts", action="store_true", help="read alerts for monitor tags")
    args = parser.parse_args()
    run(args.incidents, args.dense, args.alerts)


if __name__ == "__main__":
    main()
