"""Benchmark: sustained PagerDuty webhooks per second through `kubedora
receiver`, with p50/p99 latency, next to the ceiling: the same number of
bare Failure creates through the same Kubernetes client.

    .venv/bin/python -m tests.benchmarks.receiver                 # local control plane
    .venv/bin/python -m tests.benchmarks.receiver --events 5000 --concurrency 64
    .venv/bin/python -m tests.benchmarks.receiver --kubeconfig ~/.kube/config

The receiver runs as its own process (as in the pod); the load comes from
this one over HTTP with `--concurrency` requests in flight. Two workloads:

- triggers: one incident.triggered per new incident, each creating a Failure;
- lifecycle: trigger, acknowledge and resolve per incident, in order; the
  acknowledge reads and writes nothing new, the resolve is a read-modify-write.

The ceiling creates the Failures the triggers make, with kubernetes_asyncio
and the same concurrency, and no HTTP hop, parsing or auth in between.
Not a test: it prints figures.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
from kubernetes import client as sync_client
from kubernetes_asyncio import client as async_client
from kubernetes_asyncio import config as async_config

from kubedora.ingest.incidents import apply, failure_name
from kubedora.ingest.pagerduty import incident_event, parse_webhook
from kubedora.k8s.objects import custom_object
from kubedora.models import FAILURES, GROUP, VERSION
from tests.support import controlplane
from tests.support.kube import apply_crds, close_client, new_client, unique_name
from tests.support.operator import free_port
from tests.support.processes import KUBEDORA
from tests.support.receiver import API_KEY, WEBHOOK, encode, install_source, pd_delivery

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Run:
    what: str
    requests: int
    seconds: float
    latencies: list[float]
    errors: int

    def line(self) -> str:
        ordered = sorted(self.latencies)
        p50 = statistics.median(ordered) * 1000
        p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000
        rate = self.requests / self.seconds
        return (
            f"{self.what:<34} {self.requests:>7} {rate:>9.0f}/s "
            f"{p50:>8.1f} ms {p99:>8.1f} ms {self.errors:>6}"
        )


Job = Callable[[], Awaitable[bool]]


async def drive(what: str, sequences: list[list[Job]], concurrency: int) -> Run:
    """Run the sequences `concurrency` at a time, the jobs of one sequence in
    order (one incident's events); time each job and the whole."""
    latencies: list[float] = []
    errors = 0
    queue = iter(sequences)

    async def worker() -> None:
        nonlocal errors
        for sequence in queue:
            for job in sequence:
                started = time.perf_counter()
                ok = await job()
                latencies.append(time.perf_counter() - started)
                errors += not ok

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return Run(what, len(latencies), time.perf_counter() - started, latencies, errors)


def deliveries(prefix: str, incidents: int, kinds: tuple[str, ...]) -> list[list[bytes]]:
    """Per incident, its deliveries in order."""
    t0 = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    return [
        [
            encode(
                pd_delivery(
                    kind,
                    f"{prefix}{i:06d}",
                    t0 + timedelta(minutes=step),
                    created_at=t0,
                    event_id=f"{prefix}{i:06d}-{step}",
                )
            )
            for step, kind in enumerate(kinds)
        ]
        for i in range(incidents)
    ]


async def webhooks(
    session: aiohttp.ClientSession,
    url: str,
    per_incident: list[list[bytes]],
    concurrency: int,
    what: str,
) -> Run:
    headers = {"Content-Type": "application/json", "DD-API-KEY": API_KEY}

    def post(body: bytes) -> Job:
        async def job() -> bool:
            async with session.post(url + WEBHOOK, data=body, headers=headers) as reply:
                await reply.read()
                return reply.status == 202

        return job

    return await drive(what, [[post(b) for b in bodies] for bodies in per_incident], concurrency)


async def bare_creates(
    kubeconfig: Path, namespace: str, per_incident: list[list[bytes]], concurrency: int
) -> Run:
    configuration = async_client.Configuration()
    await async_config.load_kube_config(
        config_file=str(kubeconfig), client_configuration=configuration
    )
    bodies = []
    for (body,) in per_incident:
        event = incident_event(parse_webhook(body))
        assert event is not None
        made = apply(None, event, "prod")
        assert made is not None
        bodies.append(custom_object(FAILURES, failure_name(event.incident_id), made.spec))
    async with async_client.ApiClient(configuration) as api:
        objects = async_client.CustomObjectsApi(api)

        def create(obj: dict[str, object]) -> Job:
            async def job() -> bool:
                await objects.create_namespaced_custom_object(
                    GROUP, VERSION, namespace, "failures", obj
                )
                return True

            return job

        sequences = [[create(b)] for b in bodies]
        return await drive("bare creates (the ceiling)", sequences, concurrency)


def start_receiver(
    kubeconfig: Path, namespace: str, log: Path
) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    environ = {**os.environ, "KUBECONFIG": str(kubeconfig)}
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                KUBEDORA,
                "receiver",
                "--namespace",
                namespace,
                "--port",
                str(port),
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=environ,
        )
    return process, port


async def probe(url: str, stop: asyncio.Event) -> list[float]:
    """/healthz latency every 20 ms: a blocked event loop would show here."""
    latencies = []
    async with aiohttp.ClientSession() as session:
        while not stop.is_set():
            started = time.perf_counter()
            async with session.get(url + "/healthz") as reply:
                await reply.read()
            latencies.append(time.perf_counter() - started)
            await asyncio.sleep(0.02)
    return latencies


async def wait_ready(url: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline:
            try:
                async with session.get(url + "/readyz") as reply:
                    if reply.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError(f"receiver not ready after {timeout}s")


async def benchmark(kubeconfig: Path, events: int, concurrency: int, workdir: Path) -> None:
    api = new_client(kubeconfig)
    apply_crds(api, sorted((ROOT / "crds").glob("*.kubedora.io.yaml")))
    core = sync_client.CoreV1Api(api)
    custom = sync_client.CustomObjectsApi(api)
    namespaces = {}
    for role in ("webhooks", "ceiling"):
        name = unique_name(f"bench-{role}")
        core.create_namespace(sync_client.V1Namespace(metadata=sync_client.V1ObjectMeta(name=name)))
        namespaces[role] = name
    install_source(core, custom, namespaces["webhooks"], default_env="prod")

    process, port = start_receiver(kubeconfig, namespaces["webhooks"], workdir / "receiver.log")
    url = f"http://127.0.0.1:{port}"
    runs = []
    try:
        await wait_ready(url)
        connector = aiohttp.TCPConnector(limit=concurrency)
        async with aiohttp.ClientSession(connector=connector) as session:
            await webhooks(
                session,
                url,
                deliveries("PWARM", 50, ("incident.triggered",)),
                concurrency,
                "warm-up",
            )
            stop = asyncio.Event()
            probing = asyncio.create_task(probe(url, stop))
            runs.append(
                await webhooks(
                    session,
                    url,
                    deliveries("PTRIG", events, ("incident.triggered",)),
                    concurrency,
                    "webhooks: triggers (creates)",
                )
            )
            stop.set()
            health = sorted(await probing)
            runs.append(
                await webhooks(
                    session,
                    url,
                    deliveries(
                        "PLIFE",
                        events // 3,
                        ("incident.triggered", "incident.acknowledged", "incident.resolved"),
                    ),
                    concurrency,
                    "webhooks: trigger, ack, resolve",
                )
            )
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=20)
    runs.append(
        await bare_creates(
            kubeconfig,
            namespaces["ceiling"],
            deliveries("PBARE", events, ("incident.triggered",)),
            concurrency,
        )
    )
    close_client(api)

    print(f"\n{events} events, {concurrency} in flight, {os.cpu_count()} CPUs")
    print(f"{'':<34} {'count':>7} {'rate':>11} {'p50':>11} {'p99':>11} {'errors':>6}")
    for run in runs:
        print(run.line())
    ceiling = runs[-1].requests / runs[-1].seconds
    triggers = runs[0].requests / runs[0].seconds
    print(f"\nwebhook triggers reach {triggers / ceiling:.0%} of the bare-create ceiling")
    print(
        f"/healthz during the triggers ({len(health)} probes): "
        f"p50 {statistics.median(health) * 1000:.1f} ms, "
        f"p99 {health[int(len(health) * 0.99)] * 1000:.1f} ms, max {health[-1] * 1000:.1f} ms"
    )


def main() -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.benchmarks.receiver", description=__doc__
    )
    parser.add_argument("--events", type=int, default=3000, help="webhooks per workload")
    parser.add_argument("--concurrency", type=int, default=32, help="requests in flight")
    parser.add_argument(
        "--kubeconfig", type=Path, help="an existing cluster (default: start a local control plane)"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="kubedora-bench-") as tmp:
        workdir = Path(tmp)
        plane = None
        kubeconfig = args.kubeconfig
        if kubeconfig is None:
            plane = controlplane.start(workdir)
            kubeconfig = plane.kubeconfig
        try:
            asyncio.run(benchmark(kubeconfig, args.events, args.concurrency, workdir))
        finally:
            if plane is not None:
                plane.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
