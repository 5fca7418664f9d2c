"""Benchmark: how many Failures per second get their own status from `kubedora
operator`, next to the ceiling: bare status patches through the same client.

    .venv/bin/python -m tests.benchmarks.status_rate
    .venv/bin/python -m tests.benchmarks.status_rate --sizes 1000 --live 500 --restart 1000

Each scenario runs its own `kubedora operator --namespace NS --standalone`
at default settings on the local control plane:

- pre-existing: N Failures are created first, then the operator starts;
- live: the operator runs, then N Failures are created, 64 at a time. The
  creates compete with the status writes, and no status can come faster
  than its object is created, so the ceiling here is the same creates each
  followed at once by its status patch, 64 such jobs in flight;
- restart: the operator stops after the largest pre-existing scenario and
  starts again over those objects, whose status is current; it should write
  nothing. Writes are counted by the API server's own request counters
  (apiserver_request_total on /metrics: a write that changes nothing counts
  too) and by the objects' resourceVersions.

An object has reached status when a watch sees its status.state with
status.observedGeneration equal to its generation. The rate is objects over
the time from the first to the last (pre-existing: operator start-up is
printed apart) or from the first create to the last status (live).

The ceiling patches the status of as many other Failures, in a namespace the
operator does not serve, with the operator's own client and function
(kubedora.k8s.client.patch_status) and as many in flight as the operator's
default worker limit. It is measured right before each scenario, in the same run, so
the ratio holds on a shared machine. Not a test: it prints figures.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import random
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kubernetes import client as sync_client
from kubernetes_asyncio import client as async_client
from kubernetes_asyncio import watch as async_watch

from kubedora.config import OperatorConfig
from kubedora.k8s.client import patch_status
from kubedora.models import FAILURES, GROUP, VERSION
from tests.benchmarks.recompute import failure_spec
from tests.support import controlplane
from tests.support.kube import apply_crds, async_client_for, close_client, new_client, unique_name
from tests.support.operator import OperatorProcess, start_operator
from tests.support.writes import api_server_writes, resource_versions

ROOT = Path(__file__).resolve().parents[2]
IN_FLIGHT = OperatorConfig().worker_limit
# What a reconciled Failure's status looks like, for the ceiling's patches.
STATUS: dict[str, Any] = {
    "state": "resolved",
    "timeToRestoreSeconds": 1800.0,
    "restoredAt": "2026-01-01T00:30:00Z",
    "attribution": {"services": ["service-1"], "team": "team-1"},
    "conditions": [
        {
            "type": "Ready",
            "status": "True",
            "reason": "Reconciled",
            "message": "status reflects the current spec",
            "observedGeneration": 1,
            "lastTransitionTime": "2026-01-01T00:00:00Z",
        }
    ],
    "observedGeneration": 1,
}


@dataclass(frozen=True)
class Row:
    what: str
    objects: int
    seconds: float
    ceiling: float  # bare status patches per second, measured just before
    note: str = ""

    @property
    def rate(self) -> float:
        return self.objects / self.seconds

    def line(self) -> str:
        return (
            f"{self.what:<30} {self.objects:>7} {self.rate:>9.0f}/s {self.ceiling:>9.0f}/s "
            f"{self.rate / self.ceiling:>7.0%}   {self.note}"
        )


async def in_flight(jobs: Iterable[Callable[[], Awaitable[None]]], concurrency: int) -> float:
    """Run the jobs `concurrency` at a time; the seconds it took."""
    queue = iter(jobs)

    async def worker() -> None:
        for job in queue:
            await job()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return time.perf_counter() - started


def failure_body(name: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "Failure",
        "metadata": {"name": name},
        "spec": spec,
    }


async def create_failures(
    objects: async_client.CustomObjectsApi, namespace: str, count: int, prefix: str = "f"
) -> float:
    rng = random.Random(count)
    now = datetime.now(UTC)

    def create(i: int) -> Callable[[], Awaitable[None]]:
        async def job() -> None:
            body = failure_body(f"{prefix}{i:06d}", failure_spec(rng, now))
            await objects.create_namespaced_custom_object(
                GROUP, VERSION, namespace, "failures", body
            )

        return job

    return await in_flight((create(i) for i in range(count)), IN_FLIGHT)


async def ceiling(
    api: async_client.ApiClient, namespace: str, names: list[str], round_: int
) -> float:
    """Bare status patches per second through the operator's own client and
    function (kubedora.k8s.client.patch_status)."""
    status = {**STATUS, "timeToRestoreSeconds": 1800.0 + round_}

    def patch(name: str) -> Callable[[], Awaitable[None]]:
        async def job() -> None:
            await patch_status(api, FAILURES, namespace, name, status)

        return job

    seconds = await in_flight((patch(name) for name in names), IN_FLIGHT)
    return len(names) / seconds


def is_current(obj: dict[str, Any]) -> bool:
    status = obj.get("status") or {}
    return bool(status.get("state")) and status.get("observedGeneration") == obj["metadata"].get(
        "generation"
    )


async def list_version(objects: async_client.CustomObjectsApi, namespace: str) -> str:
    listed = await objects.list_namespaced_custom_object(
        GROUP, VERSION, namespace, "failures", limit=1
    )
    version: str = listed["metadata"]["resourceVersion"]
    return version


async def arrivals(
    objects: async_client.CustomObjectsApi, namespace: str, since: str, count: int
) -> list[float]:
    """When each of `count` objects first has a current status, watching from `since`."""
    seen: dict[str, float] = {}
    version = since
    while len(seen) < count:
        stream = async_watch.Watch().stream(
            objects.list_namespaced_custom_object,
            GROUP,
            VERSION,
            namespace,
            "failures",
            resource_version=version,
            timeout_seconds=300,
        )
        async with stream:
            async for event in stream:
                obj = event["object"]
                version = obj["metadata"]["resourceVersion"]
                name = obj["metadata"]["name"]
                if name not in seen and is_current(obj):
                    seen[name] = time.perf_counter()
                    if len(seen) >= count:
                        break
    return sorted(seen.values())


def peak_rss_mib(operator: OperatorProcess) -> float:
    for line in Path(f"/proc/{operator.process.pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


@dataclass
class Bench:
    kubeconfig: Path
    workdir: Path
    api: async_client.ApiClient
    sync_api: sync_client.ApiClient
    bare_namespace: str
    bare_names: list[str]
    rounds: int = 0
    peak_mib: float = 0.0

    @property
    def objects(self) -> async_client.CustomObjectsApi:
        return async_client.CustomObjectsApi(self.api)

    async def ceiling(self) -> float:
        self.rounds += 1
        return await ceiling(self.api, self.bare_namespace, self.bare_names, self.rounds)

    def namespace(self, role: str) -> str:
        name = unique_name(f"bench-{role}")
        core = sync_client.CoreV1Api(self.sync_api)
        core.create_namespace(sync_client.V1Namespace(metadata=sync_client.V1ObjectMeta(name=name)))
        return name

    def operator(self, namespace: str, log: str) -> OperatorProcess:
        return start_operator(
            self.kubeconfig, self.workdir / log, "--namespace", namespace, "--standalone"
        )

    def stop(self, operator: OperatorProcess) -> None:
        self.peak_mib = max(self.peak_mib, peak_rss_mib(operator))
        operator.stop()

    async def pre_existing(self, count: int) -> tuple[Row, str, OperatorProcess]:
        namespace = self.namespace(f"pre{count}")
        await create_failures(self.objects, namespace, count)
        since = await list_version(self.objects, namespace)
        bare = await self.ceiling()
        launched = time.perf_counter()
        operator = await asyncio.to_thread(self.operator, namespace, f"pre{count}.log")
        times = await arrivals(self.objects, namespace, since, count)
        seconds = max(times[-1] - times[0], 1e-3)
        note = (
            f"all {count} {times[-1] - launched:.1f}s after launch, "
            f"first {times[0] - launched:.1f}s; peak RSS {peak_rss_mib(operator):.0f} MiB"
        )
        return Row(f"pre-existing {count}", count, seconds, bare, note), namespace, operator

    async def live_ceiling(self, count: int) -> float:
        """Objects per second that get a status when each is created and at
        once patched by the same job (64 such jobs in flight): what an
        operator with no overhead at all would reach while the same creates
        compete for the API server."""
        namespace = self.namespace("live-ceiling")
        rng = random.Random(count)
        now = datetime.now(UTC)
        status = {**STATUS, "timeToRestoreSeconds": 1800.0}

        def job(i: int) -> Callable[[], Awaitable[None]]:
            async def create_and_patch() -> None:
                name = f"c{i:06d}"
                body = failure_body(name, failure_spec(rng, now))
                await self.objects.create_namespaced_custom_object(
                    GROUP, VERSION, namespace, "failures", body
                )
                await patch_status(self.api, FAILURES, namespace, name, status)

            return create_and_patch

        seconds = await in_flight((job(i) for i in range(count)), IN_FLIGHT)
        return count / seconds

    async def live(self, count: int) -> Row:
        namespace = self.namespace("live")
        since = await list_version(self.objects, namespace)
        bare = await self.live_ceiling(count)
        patches = await self.ceiling()
        operator = await asyncio.to_thread(self.operator, namespace, "live.log")
        try:
            started = time.perf_counter()
            watching = asyncio.create_task(arrivals(self.objects, namespace, since, count))
            creating = await create_failures(self.objects, namespace, count)
            times = await watching
            note = (
                f"created at {count / creating:.0f}/s; bare patches alone {patches:.0f}/s; "
                f"peak RSS {peak_rss_mib(operator):.0f} MiB"
            )
            return Row(f"created while running {count}", count, times[-1] - started, bare, note)
        finally:
            self.stop(operator)

    async def restart(self, namespace: str, count: int) -> list[str]:
        """Start the operator again over `count` current objects; what it wrote."""
        before = api_server_writes(self.sync_api, "failures")
        versions = resource_versions(
            sync_client.CustomObjectsApi(self.sync_api), namespace, "failures"
        )
        launched = time.perf_counter()
        operator = await asyncio.to_thread(self.operator, namespace, "restart.log")
        try:
            deadline = time.monotonic() + 600
            listed = f"failures listed: {count}, of which "
            while listed not in operator.log():
                if time.monotonic() > deadline:
                    raise RuntimeError(f"the operator did not list {count} objects in 600s")
                await asyncio.sleep(0.2)
            resumed = time.perf_counter() - launched
        finally:
            # Stopping lets in-flight patches land before we count.
            self.stop(operator)
        after = api_server_writes(self.sync_api, "failures")
        changed = resource_versions(
            sync_client.CustomObjectsApi(self.sync_api), namespace, "failures"
        )
        moved = sum(1 for name, version in changed.items() if versions.get(name) != version)
        return [
            f"restart over {count} current objects: listed and planned {resumed:.1f}s after launch",
            f"  status writes: {after['status'] - before['status']}",
            f"  object writes (annotations, finalizers): {after[''] - before['']}",
            f"  objects whose resourceVersion changed: {moved}",
        ]


async def benchmark(
    kubeconfig: Path, workdir: Path, sizes: list[int], live: int, restart: int, bare: int
) -> None:
    os.environ["KUBECONFIG"] = str(kubeconfig)  # for kopf's login in the ceiling
    sync_api = new_client(kubeconfig)
    apply_crds(sync_api, sorted((ROOT / "crds").glob("*.kubedora.io.yaml")))
    async with async_client_for(kubeconfig, IN_FLIGHT) as api:
        bench = Bench(kubeconfig, workdir, api, sync_api, "", [])
        bench.bare_namespace = bench.namespace("ceiling")
        await create_failures(bench.objects, bench.bare_namespace, bare, prefix="c")
        bench.bare_names = [f"c{i:06d}" for i in range(bare)]
        await bench.ceiling()  # warm-up

        rows: list[Row] = []
        restart_lines: list[str] = []
        for count in sorted(sizes):
            row, namespace, operator = await bench.pre_existing(count)
            rows.append(row)
            print(row.line(), flush=True)
            bench.stop(operator)
            if count == max(sizes) and restart:
                restart_lines = await bench.restart(namespace, count)
        if live:
            rows.append(await bench.live(live))
            print(rows[-1].line(), flush=True)
    close_client(sync_api)

    print(f"\n{os.cpu_count()} CPUs; operator at default settings; ceiling: {IN_FLIGHT} in flight")
    print(f"{'':<30} {'objects':>7} {'status':>11} {'ceiling':>11} {'ratio':>7}")
    for row in rows:
        print(row.line())
    print()
    for line in restart_lines:
        print(line)
    print(f"operator peak RSS over all runs: {bench.peak_mib:.0f} MiB")


def main() -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.benchmarks.status_rate", description=__doc__
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10_000])
    parser.add_argument("--live", type=int, default=2000, help="Failures created while running")
    parser.add_argument("--bare", type=int, default=2000, help="status patches for the ceiling")
    parser.add_argument(
        "--restart", type=int, default=1, help="0: skip the restart over the largest size"
    )
    controlplane.add_kubeconfig_argument(parser)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    with (
        tempfile.TemporaryDirectory(prefix="kubedora-bench-") as tmp,
        controlplane.cluster(Path(tmp), args.kubeconfig) as plane,
    ):
        asyncio.run(
            benchmark(plane.kubeconfig, Path(tmp), args.sizes, args.live, args.restart, args.bare)
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
