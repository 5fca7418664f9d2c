"""Benchmark: the operator's memory and pace over N Failures + N Deployments
on the local control plane, first pass and restart.

    .venv/bin/python -m tests.benchmarks.memory --objects 100000
    .venv/bin/python -m tests.benchmarks.memory --objects 100000 --snapshot DIR  # again: no creates
    .venv/bin/python -m tests.benchmarks.recompute --cluster 100000   # the same

Phases, each with its own `kubedora operator --namespace NS --standalone` at
default settings (RSS sampled every 0.5 s from /proc):

- reference: the operator over an empty namespace (its floor), and the
  facts the scoreboard needs, measured in this process with tracemalloc;
- first pass: N + N objects created while no operator ran (no status yet);
  the operator starts, the scoreboard counts them all and every object gets
  its status. Figures: time to the scoreboard, time to the last status and
  the status writes per second, next to bare status patches through the
  same client measured in the same run; peak RSS; RSS once it is quiet;
- restart: the operator stops and starts again over the same objects, whose
  status is now current: peak RSS, quiet RSS, and the status writes it made
  (the API server's own request counters; the target is 0).

Targets (issue 10): peak <= 600 MiB, quiet <= 400 MiB. Not a test: it
prints figures.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import random
import shutil
import statistics
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

from kubernetes import client as sync_client
from kubernetes_asyncio import client as async_client

from kubedora.models import GROUP, VERSION
from tests.benchmarks.recompute import deployment_spec, facts_held_mib, failure_spec
from tests.benchmarks.status_rate import IN_FLIGHT, ceiling, in_flight
from tests.support import controlplane
from tests.support.kube import apply_crds, async_client_for, new_client, poll, unique_name
from tests.support.operator import OperatorProcess, metric, start_operator
from tests.support.processes import alive
from tests.support.writes import api_server_writes

ROOT = Path(__file__).resolve().parents[2]
QUIET_SECONDS = 30.0
WAITING = "kubedora_operator_status_waiting"
PLURALS = ("failures", "deployments")


@dataclass
class Sampler:
    """VmRSS of one process every `every` seconds, in a thread."""

    pid: int
    every: float = 0.5
    samples: list[tuple[float, float]] = field(default_factory=list)  # (monotonic, MiB)
    _stop: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            rss = status_kib(self.pid, "VmRSS")
            if rss is not None:
                self.samples.append((time.monotonic(), rss / 1024))
            self._stop.wait(self.every)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def since(self, moment: float) -> list[float]:
        return [mib for at, mib in self.samples if at >= moment]


def status_kib(pid: int, key: str) -> int | None:
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        if line.startswith(f"{key}:"):
            return int(line.split()[1])
    return None


def body(kind: str, name: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": kind,
        "metadata": {"name": name},
        "spec": spec,
    }


async def create_objects(api: async_client.ApiClient, namespace: str, n: int) -> float:
    objects = async_client.CustomObjectsApi(api)
    rng = random.Random(n)
    now = datetime.now(UTC)

    def job(i: int, kind: str) -> Callable[[], Awaitable[None]]:
        plural = kind.lower() + "s"
        spec = failure_spec(rng, now) if kind == "Failure" else deployment_spec(rng, now)

        async def create() -> None:
            await objects.create_namespaced_custom_object(
                GROUP, VERSION, namespace, plural, body(kind, f"o{i:06d}", spec)
            )

        return create

    jobs = (job(i, kind) for i in range(n) for kind in ("Failure", "Deployment"))
    return await in_flight(jobs, IN_FLIGHT)


@dataclass
class Phase:
    what: str
    peak_mib: float
    quiet_mib: float
    board_seconds: float
    status_seconds: float | None = None
    status_writes: int = 0

    def line(self) -> str:
        statuses = (
            f"{self.status_seconds:>8.0f}s" if self.status_seconds is not None else "       -"
        )
        return (
            f"{self.what:<34} {self.peak_mib:>8.0f} {self.quiet_mib:>8.0f} "
            f"{self.board_seconds:>8.0f}s {statuses} {self.status_writes:>9}"
        )


class Run:
    def __init__(self, plane: controlplane.ControlPlane, workdir: Path, n: int) -> None:
        self.plane, self.workdir, self.n = plane, workdir, n
        self.sync_api = new_client(plane.kubeconfig)
        self.objects = sync_client.CustomObjectsApi(self.sync_api)

    def namespace(self, role: str) -> str:
        name = unique_name(f"mem-{role}")
        core = sync_client.CoreV1Api(self.sync_api)
        core.create_namespace(sync_client.V1Namespace(metadata=sync_client.V1ObjectMeta(name=name)))
        return name

    def board(self, namespace: str) -> None:
        self.objects.create_namespaced_custom_object(
            GROUP, VERSION, namespace, "dorasources",
            body("DoraSource", "board", {"window": "3650d"}),
        )  # fmt: skip

    def counted(self, namespace: str, n: int) -> bool:
        board = cast(
            "dict[str, Any]",
            self.objects.get_namespaced_custom_object(
                GROUP, VERSION, namespace, "dorasources", "board"
            ),
        )
        summary = (board.get("status") or {}).get("summary") or {}
        return bool(summary.get("failures") == n and summary.get("deployments") == n)

    def status_writes(self) -> int:
        return sum(api_server_writes(self.sync_api, plural)["status"] for plural in PLURALS)

    _last: tuple[int, float] = (-1, 0.0)
    _settled_at: float = 0.0

    def settled(self, at_least: int, http_url: str) -> bool:
        """True once the status writes reached `at_least`, the operator has
        none waiting, and the writes did not grow for 3 s (the history's
        come after); _settled_at is when they last grew."""
        writes, now = self.status_writes(), time.monotonic()
        if writes != self._last[0]:
            self._last = (writes, now)
            return False
        self._settled_at = self._last[1]
        if writes < at_least or now - self._last[1] < 3.0:
            return False
        return metric(http_url, WAITING) == 0

    def operator(self, namespace: str, log: str) -> OperatorProcess:
        return start_operator(
            self.plane.kubeconfig, self.workdir / log, "-n", namespace, "--standalone",
            timeout=600,
        )  # fmt: skip

    def phase(self, what: str, namespace: str, *, expected_writes: int) -> Phase:
        before = self.status_writes()
        launched = time.monotonic()
        operator = self.operator(namespace, f"{what.split()[0]}.log")
        sampler = Sampler(operator.process.pid)
        running = functools.partial(alive, operator.process, operator.log_path)
        try:
            poll(lambda: running() and self.counted(namespace, self.n), timeout=7200,
                 interval=1.0, what="the scoreboard to count everything")  # fmt: skip
            board_seconds = time.monotonic() - launched
            status_seconds = None
            if expected_writes:
                # Deployments get a second write of their own: their history
                # (handlers/history.py).
                written = before + expected_writes
                poll(lambda: running() and self.settled(written, operator.http_url),
                     timeout=7200, interval=1.0, what="every status")  # fmt: skip
                status_seconds = self._settled_at - launched
            else:
                listed = [f"{plural} listed: {self.n}, of which" for plural in PLURALS]
                poll(lambda: all(line in operator.log() for line in listed), timeout=600,
                     what="both kinds listed")  # fmt: skip
            quiet_from = time.monotonic()
            time.sleep(QUIET_SECONDS)  # a benchmark: the quiet RSS is what it is after a while
            quiet = statistics.median(sampler.since(quiet_from))
            peak = (status_kib(operator.process.pid, "VmHWM") or 0) / 1024
        finally:
            sampler.stop()
            operator.stop()
        writes = self.status_writes() - before
        return Phase(what, peak, quiet, board_seconds, status_seconds, writes)

    def floor(self) -> Phase:
        namespace = self.namespace("empty")
        self.board(namespace)
        operator = self.operator(namespace, "empty.log")
        sampler = Sampler(operator.process.pid)
        try:
            poll(lambda: self.counted(namespace, 0), timeout=120, what="an empty scoreboard")
            quiet_from = time.monotonic()
            time.sleep(QUIET_SECONDS / 3)
            quiet = statistics.median(sampler.since(quiet_from))
            peak = (status_kib(operator.process.pid, "VmHWM") or 0) / 1024
        finally:
            sampler.stop()
            operator.stop()
        return Phase("reference: empty namespace", peak, quiet, 0.0)


async def bare_rate(kubeconfig: Path, run: Run, count: int) -> float:
    namespace = run.namespace("bare")
    async with async_client_for(kubeconfig) as api:
        objects = async_client.CustomObjectsApi(api)
        names = [f"b{i:05d}" for i in range(count)]
        for name in names:
            await objects.create_namespaced_custom_object(
                GROUP, VERSION, namespace, "failures",
                body("Failure", name, {"team": "bare", "startedAt": "2026-01-01T00:00:00Z"}),
            )  # fmt: skip
        return await ceiling(api, namespace, names, 1)


async def create_all(kubeconfig: Path, namespace: str, n: int) -> float:
    async with async_client_for(kubeconfig) as api:
        return await create_objects(api, namespace, n)


def prepared(work: Path, n: int, snapshot: Path | None) -> tuple[controlplane.ControlPlane, str]:
    """A control plane holding N + N objects with no status, and their
    namespace. With a snapshot directory, its copy of etcd's data is used
    when there is one (creating 200,000 objects takes many minutes), and
    made when there is not."""
    if snapshot is not None and (snapshot / "namespace").exists():
        shutil.copytree(snapshot / "data", work / "data")
        plane = controlplane.start(work, keep_data=True)
        namespace = (snapshot / "namespace").read_text()
        print(f"{2 * n} objects from the snapshot in {snapshot}", flush=True)
        return plane, namespace
    plane = controlplane.start(work)
    api = new_client(plane.kubeconfig)
    apply_crds(api, sorted((ROOT / "crds").glob("*.kubedora.io.yaml")))
    namespace = Run(plane, work, n).namespace("objects")
    seconds = asyncio.run(create_all(plane.kubeconfig, namespace, n))
    print(f"created {2 * n} objects in {seconds:.0f}s ({2 * n / seconds:.0f}/s)", flush=True)
    if snapshot is None:
        return plane, namespace
    plane.stop()
    shutil.copytree(work / "data", snapshot / "data")
    (snapshot / "namespace").write_text(namespace)
    return controlplane.start(work, keep_data=True), namespace


def benchmark(n: int, snapshot: Path | None = None) -> None:
    work = Path(tempfile.mkdtemp(prefix="kubedora-memory-"))
    plane, namespace = prepared(work, n, snapshot)
    try:
        run = Run(plane, work, n)
        floor = run.floor()
        run.board(namespace)
        # A status per object, and a Deployment's history: 3 writes per pair.
        first = run.phase("first pass (no status yet)", namespace, expected_writes=3 * n)
        bare = asyncio.run(bare_rate(plane.kubeconfig, run, 2000))
        restart = run.phase("restart (statuses current)", namespace, expected_writes=0)
    finally:
        plane.stop()
        shutil.rmtree(work, ignore_errors=True)
    print()
    print(f"operator over {n} Failures + {n} Deployments (MiB; targets: peak <= 600, quiet <= 400)")
    print(f"{'phase':<34} {'peak':>8} {'quiet':>8} {'board':>9} {'statuses':>9} {'writes':>9}")
    for phase in (floor, first, restart):
        print(phase.line())
    print(f"{'facts the scoreboard holds (tracemalloc)':<34} {facts_held_mib(n):>8.0f}")
    assert first.status_seconds is not None
    rate = first.status_writes / first.status_seconds
    print()
    print(
        f"first pass: {first.status_writes} status writes at {rate:.0f}/s from launch; bare "
        f"status patches, same client, {IN_FLIGHT} in flight: {bare:.0f}/s ({rate / bare:.0%})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objects", type=int, default=100_000, help="N of each kind")
    parser.add_argument(
        "--snapshot",
        type=Path,
        metavar="DIR",
        help="keep the created objects' etcd data in DIR and start from it on the next run",
    )
    args = parser.parse_args()
    benchmark(args.objects, args.snapshot)


if __name__ == "__main__":
    main()
