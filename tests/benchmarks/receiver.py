"""Benchmark: sustained PagerDuty webhooks per second through `kubedora
receiver`, with p50/p99 latency, next to the reference: the same Failures
created directly with kubernetes_asyncio, at 8 and at 32 requests in flight,
in one run.

    .venv/bin/python -m tests.benchmarks.receiver                 # local control plane
    .venv/bin/python -m tests.benchmarks.receiver --events 5000 --concurrency 8 64
    .venv/bin/python -m tests.benchmarks.receiver --profile DIR   # where the receiver's CPU goes
    .venv/bin/python -m tests.benchmarks.receiver --library-session  # and the receiver before
    .venv/bin/python -m tests.benchmarks.receiver --kubeconfig ~/.kube/config

The receiver runs as its own process (as in the pod); the load comes from
this one over HTTP. Per concurrency:

- bare creates: the objects the triggers make (same spec, labels and
  annotations), created with a plain kubernetes_asyncio
  `create_namespaced_custom_object` at the same concurrency, with no HTTP
  hop, parsing or auth in between: the reference;
- the same through an ApiClient given the receiver's session
  (`k8s.client.direct`): what the receiver's own client costs;
- triggers: one incident.triggered per new incident, each creating a Failure;
- with --library-session, the same through a second receiver whose client
  keeps kubernetes_asyncio's own session (what the receiver was before it
  stopped the per-request environment lookups);
- lifecycle: trigger, acknowledge and resolve per incident, in order; the
  acknowledge reads and writes nothing new, the resolve is a read-modify-write.

All but the lifecycle alternate in slices (--chunks) so that each sees the same
machine: on a shared one, the load of others drifts within minutes.

The ratio columns compare each row with the bare creates at the same
concurrency (target for the triggers: rate >= 80 %, p99 <= 2x). The CPU
columns are CPU milliseconds per request of the receiver, of the control
plane (API server and etcd, one process when local) and of this process
(the HTTP load, or the creating client). With --profile DIR, py-spy samples
the receiver during the triggers; the functions with the most samples of
its event loop (inclusive, waits in epoll left out) are printed and the raw
stacks kept in DIR.
Not a test: it prints figures.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
from kubernetes import client as sync_client
from kubernetes_asyncio import client as async_client

from kubedora.ingest.incidents import failure_name
from kubedora.ingest.pagerduty import incident_event, parse_webhook
from kubedora.k8s.client import direct as direct_session
from kubedora.k8s.failures import incident_build
from kubedora.models import GROUP, VERSION
from tests.support import controlplane
from tests.support.kube import (
    apply_crds,
    async_configuration,
    close_client,
    new_client,
    unique_name,
)
from tests.support.operator import free_port
from tests.support.processes import KUBEDORA
from tests.support.receiver import API_KEY, WEBHOOK, encode, install_source, pd_delivery

ROOT = Path(__file__).resolve().parents[2]
TRIGGER = ("incident.triggered",)
LIFECYCLE = ("incident.triggered", "incident.acknowledged", "incident.resolved")
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Run:
    what: str
    concurrency: int
    requests: int
    seconds: float
    latencies: list[float]
    errors: int
    # CPU seconds during the run by process: receiver, API server (with
    # etcd), and this one (the HTTP load, or the bare client).
    cpu: dict[str, float]

    @property
    def rate(self) -> float:
        return self.requests / self.seconds

    @property
    def p50(self) -> float:
        return statistics.median(self.latencies)

    @property
    def p99(self) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]

    def cpu_per_request(self) -> float:
        return sum(self.cpu.values()) / self.requests

    def line(self, reference: Run) -> str:
        cpu = " ".join(
            f"{self.cpu[who] / self.requests * 1000:>6.2f}" if who in self.cpu else f"{'-':>6}"
            for who in PROCESSES
        )
        return (
            f"{self.concurrency:>6} {self.what:<34} {self.requests:>6} {self.rate:>7.0f}/s "
            f"{self.p50 * 1000:>7.1f} ms {self.p99 * 1000:>7.1f} ms {self.errors:>6} "
            f"{self.rate / reference.rate:>9.0%} {self.p99 / reference.p99:>7.2f}x  {cpu}"
        )


PROCESSES = ("receiver", "apiserver", "load")
HEADER = (
    f"{'flight':>6} {'workload':<34} {'count':>6} {'rate':>9} {'p50':>10} {'p99':>10} "
    f"{'errors':>6} {'rate/bare':>9} {'p99/bare':>8}  "
    + " ".join(f"{who:>6}" for who in PROCESSES)
    + "  (CPU ms per request)"
)


@dataclass(frozen=True)
class Meter:
    """The processes whose CPU time a run reports (None: not measured)."""

    receiver: int
    apiserver: int | None

    def read(self, through_receiver: bool) -> dict[str, float]:
        own = os.times()
        found = {"load": own.user + own.system}
        if through_receiver:
            found["receiver"] = cpu_seconds(self.receiver)
        if self.apiserver is not None:
            found["apiserver"] = cpu_seconds(self.apiserver)
        return found


Job = Callable[[], Awaitable[bool]]


async def drive(
    what: str,
    sequences: list[list[Job]],
    concurrency: int,
    meter: Meter,
    *,
    through_receiver: bool,
) -> Run:
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

    before = meter.read(through_receiver)
    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    seconds = time.perf_counter() - started
    after = meter.read(through_receiver)
    cpu = {who: after[who] - before[who] for who in after}
    return Run(what, concurrency, len(latencies), seconds, latencies, errors, cpu)


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


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of a process so far (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


async def webhooks(
    session: aiohttp.ClientSession,
    url: str,
    per_incident: list[list[bytes]],
    concurrency: int,
    what: str,
    meter: Meter,
) -> Run:
    headers = {"Content-Type": "application/json", "DD-API-KEY": API_KEY}

    def post(body: bytes) -> Job:
        async def job() -> bool:
            async with session.post(url + WEBHOOK, data=body, headers=headers) as reply:
                await reply.read()
                return reply.status == 202

        return job

    sequences = [[post(b) for b in bodies] for bodies in per_incident]
    return await drive(what, sequences, concurrency, meter, through_receiver=True)


def failure_bodies(per_incident: list[list[bytes]]) -> list[dict[str, object]]:
    """The Failures the receiver creates for these triggers, to the byte:
    same spec, labels and annotations."""
    bodies = []
    for (body,) in per_incident:
        event = incident_event(parse_webhook(body))
        assert event is not None
        name = failure_name(event.incident_id)
        made = incident_build(name, [event], "prod")(None)
        assert made is not None
        bodies.append(made)
    return bodies


async def bare_creates(
    objects: async_client.CustomObjectsApi,
    namespace: str,
    per_incident: list[list[bytes]],
    concurrency: int,
    meter: Meter,
    what: str,
) -> Run:
    """A kubernetes_asyncio create per Failure: what a program without the
    receiver pays."""
    bodies = failure_bodies(per_incident)

    def create(obj: dict[str, object]) -> Job:
        async def job() -> bool:
            await objects.create_namespaced_custom_object(
                GROUP, VERSION, namespace, "failures", obj
            )
            return True

        return job

    sequences = [[create(b)] for b in bodies]
    return await drive(what, sequences, concurrency, meter, through_receiver=False)


# `kubedora` whose API client keeps kubernetes_asyncio's own session (the
# receiver before k8s.client.direct), for a comparison in the same run.
LIBRARY_SESSION = (
    "import sys; import kubedora.k8s.client as c; c.direct = lambda api: api; "
    "from kubedora.cli import main; sys.exit(main())"
)


def start_receiver(
    kubeconfig: Path, namespace: str, log: Path, *, library_session: bool = False
) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    environ = {**os.environ, "KUBECONFIG": str(kubeconfig)}
    command = [sys.executable, "-c", LIBRARY_SESSION] if library_session else [KUBEDORA]
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                *command,
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


@contextmanager
def sampled(pid: int, output: Path | None) -> Iterator[None]:
    """py-spy sampling `pid` while the block runs (nothing when output is None)."""
    if output is None:
        yield
        return
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    command = [spy, "record", "--pid", str(pid), "--rate", "200", "--format", "raw"]
    process = subprocess.Popen(
        [*command, "--output", str(output)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    time.sleep(0.5)  # attached before the load starts
    try:
        yield
    finally:
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=30)
        if not output.exists():
            raise RuntimeError(f"py-spy wrote no profile: {err.decode()[-500:]}")


# Frames every sample of the event loop passes through (and py-spy's view of
# idle pool threads): they say nothing about where a request's time goes.
ROOT_FRAMES = frozenset(
    {
        "<module>",
        "main",
        "run_receiver",
        "run",
        "Runner.run",
        "BaseEventLoop.run_forever",
        "BaseEventLoop.run_until_complete",
        "BaseEventLoop._run_once",
        "Handle._run",
        "Thread._bootstrap",
        "Thread._bootstrap_inner",
        "Thread.run",
    }
)


IDLE = "EpollSelector.select (selectors.py)"


@dataclass(frozen=True)
class Profile:
    samples: int
    # (function, inclusive samples, self samples), most inclusive first.
    top: list[tuple[str, int, int]]
    # Self samples by top-level package (asyncio: socket calls and the loop).
    packages: list[tuple[str, int]]


def top_functions(raws: list[Path], count: int = 15) -> Profile:
    """From py-spy's collapsed stacks of the event loop's thread: the
    `count` functions with the most inclusive samples, root frames left
    out, and where the samples end by package."""
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    packages: Counter[str] = Counter()
    total = 0
    for raw in raws:
        for line in raw.read_text().splitlines():
            stack, _, weight = line.rpartition(" ")
            frames = [_function(frame) for frame in stack.split(";")]
            # A pool thread, or the loop waiting in epoll (py-spy's own idle
            # detection does not work everywhere).
            if "BaseEventLoop.run_forever" not in stack or frames[-1] == IDLE:
                continue
            samples = int(weight)
            total += samples
            for frame in set(frames):
                inclusive[frame] += samples
            own[frames[-1]] += samples
            packages[frames[-1].split(" (")[1].rstrip(")").split("/")[0].removesuffix(".py")] += (
                samples
            )
    ranked = [f for f, _ in inclusive.most_common() if f.split(" (")[0] not in ROOT_FRAMES]
    top = [(f, inclusive[f], own[f]) for f in ranked[:count]]
    return Profile(total, top, packages.most_common(10))


def _function(frame: str) -> str:
    """`name (path:line)` as `name (package/module.py)`, one entry per function."""
    name, _, where = frame.partition(" (")
    path = where.rsplit(":", 1)[0]
    for marker in ("site-packages/", "operator/", "python3.11/", "python3.12/", "python3.13/"):
        if marker in path:
            path = path.split(marker, 1)[1]
            break
    return f"{name} ({path})"


def print_profile(concurrency: int, raws: list[Path], requests: int) -> None:
    profile = top_functions(raws)
    total = profile.samples
    print(
        f"\nreceiver event loop during the triggers, {concurrency} in flight: "
        f"{total} busy samples over {requests} requests (waits in epoll left out)"
    )
    print(f"{'cumulative':>10} {'self':>6}  function")
    for name, inclusive, own in profile.top:
        print(f"{inclusive / max(total, 1):>10.1%} {own / max(total, 1):>6.1%}  {name}")
    print(
        "self samples by package: "
        + ", ".join(f"{package} {n / max(total, 1):.0%}" for package, n in profile.packages)
    )


def merged(runs: list[Run]) -> Run:
    """Chunks of one workload as one run."""
    first = runs[0]
    return Run(
        first.what,
        first.concurrency,
        sum(r.requests for r in runs),
        sum(r.seconds for r in runs),
        [latency for r in runs for latency in r.latencies],
        sum(r.errors for r in runs),
        {who: sum(r.cpu[who] for r in runs) for who in first.cpu},
    )


@dataclass
class Round:
    concurrency: int
    runs: list[Run]
    health: list[float]
    profiles: list[Path]
    # Triggers' rate over the bare creates' rate, slice by slice.
    paired: list[float]


@dataclass(frozen=True)
class Setup:
    # kubernetes_asyncio as it comes, and with the receiver's session.
    bare: async_client.CustomObjectsApi
    direct: async_client.CustomObjectsApi
    namespaces: dict[str, str]
    url: str
    meter: Meter
    # Where py-spy's stacks go (None: no profile).
    profile: Path | None
    # The URL and meter of a receiver on the library's session, if any.
    library: tuple[str, Meter] | None


async def round_at(setup: Setup, concurrency: int, events: int, chunks: int) -> Round:
    """Bare creates and triggers at one concurrency, alternating in `chunks`
    slices so that both see the same machine (others share its CPUs), then
    the lifecycles."""
    tag = f"C{concurrency}"
    size = events // chunks
    bare: list[Run] = []
    direct: list[Run] = []
    triggers: list[Run] = []
    before: list[Run] = []
    profiles = []
    ceiling, meter = setup.namespaces["ceiling"], setup.meter
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        warm = deliveries(f"PW{tag}", 50, TRIGGER)
        await webhooks(session, setup.url, warm, concurrency, "warm-up", meter)
        if setup.library:
            warm = deliveries(f"PU{tag}", 50, TRIGGER)
            await webhooks(session, setup.library[0], warm, concurrency, "warm-up", meter)
        for i, objects in enumerate((setup.bare, setup.direct)):
            warm = deliveries(f"PV{tag}X{i}-", 50, TRIGGER)
            await bare_creates(objects, ceiling, warm, concurrency, meter, "warm-up")
        stop = asyncio.Event()
        probing = asyncio.create_task(probe(setup.url, stop))
        for chunk in range(chunks):
            posts = deliveries(f"PB{tag}X{chunk}-", size, TRIGGER)
            what = "bare creates (kubernetes_asyncio)"
            bare.append(await bare_creates(setup.bare, ceiling, posts, concurrency, meter, what))
            posts = deliveries(f"PD{tag}X{chunk}-", size, TRIGGER)
            what = "  same, receiver's direct session"
            direct.append(
                await bare_creates(setup.direct, ceiling, posts, concurrency, meter, what)
            )
            output = (
                setup.profile / f"triggers-{concurrency}-{chunk}.txt" if setup.profile else None
            )
            with sampled(meter.receiver, output):
                posts = deliveries(f"PT{tag}X{chunk}-", size, TRIGGER)
                what = "webhooks: triggers (creates)"
                triggers.append(await webhooks(session, setup.url, posts, concurrency, what, meter))
            if output is not None:
                profiles.append(output)
            if setup.library:
                url, library_meter = setup.library
                posts = deliveries(f"PK{tag}X{chunk}-", size, TRIGGER)
                what = "  same, library's session (before)"
                before.append(await webhooks(session, url, posts, concurrency, what, library_meter))
        stop.set()
        health = sorted(await probing)
        posts = deliveries(f"PL{tag}", events // 3, LIFECYCLE)
        what = "webhooks: trigger, ack, resolve"
        lifecycle = await webhooks(session, setup.url, posts, concurrency, what, meter)
    runs = [merged(bare), merged(direct), merged(triggers)]
    runs += [merged(before)] if before else []
    runs.append(lifecycle)
    paired = [t.rate / b.rate for b, t in zip(bare, triggers, strict=True)]
    return Round(concurrency, runs, health, profiles, paired)


async def benchmark(
    kubeconfig: Path,
    apiserver: int | None,
    events: int,
    chunks: int,
    concurrencies: list[int],
    workdir: Path,
    profile: Path | None,
    library_session: bool,
) -> None:
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
    configuration = await async_configuration(kubeconfig)

    process, port = start_receiver(kubeconfig, namespaces["webhooks"], workdir / "receiver.log")
    url = f"http://127.0.0.1:{port}"
    processes = [process]
    library = None
    if library_session:
        other, other_port = start_receiver(
            kubeconfig, namespaces["webhooks"], workdir / "library.log", library_session=True
        )
        processes.append(other)
        library = (f"http://127.0.0.1:{other_port}", Meter(other.pid, apiserver))
    load_before = os.getloadavg()[0]
    rounds = []
    try:
        await wait_ready(url)
        if library:
            await wait_ready(library[0])
        async with (
            async_client.ApiClient(configuration) as bare,
            async_client.ApiClient(configuration) as direct,
        ):
            setup = Setup(
                async_client.CustomObjectsApi(bare),
                async_client.CustomObjectsApi(direct_session(direct)),
                namespaces,
                url,
                Meter(process.pid, apiserver),
                profile,
                library,
            )
            for concurrency in concurrencies:
                rounds.append(await round_at(setup, concurrency, events, chunks))
    finally:
        for running in processes:
            running.send_signal(signal.SIGTERM)
        for running in processes:
            running.wait(timeout=20)
    close_client(api)

    cpus, load_after = os.cpu_count() or 1, os.getloadavg()[0]
    print(f"\n{events} events per workload, alternating in {chunks} slices")
    print(f"{cpus} CPUs, load average {load_before:.1f} at the start, {load_after:.1f} at the end")
    if max(load_before, load_after) > cpus:
        print(
            "others share these CPUs: the rates measure them as much as us; read the CPU "
            "columns, and the two reference rows (same work) for how far rates wander"
        )
    print(HEADER)
    for done in rounds:
        for run in done.runs:
            print(run.line(done.runs[0]))
    print()
    for done in rounds:
        bare_run, triggers = done.runs[0], done.runs[2]
        rate_ok = triggers.rate >= 0.8 * bare_run.rate
        p99_ok = triggers.p99 <= 2 * bare_run.p99
        health = done.health
        print(
            f"{done.concurrency:>3} in flight: triggers at {triggers.rate / bare_run.rate:.0%} "
            f"of the bare rate ({'meets' if rate_ok else 'misses'} >= 80 %; "
            f"slice by slice {min(done.paired):.0%}..{max(done.paired):.0%}, "
            f"median {statistics.median(done.paired):.0%}), p99 "
            f"{triggers.p99 / bare_run.p99:.2f}x ({'meets' if p99_ok else 'misses'} <= 2x); "
            f"/healthz meanwhile p50 {statistics.median(health) * 1000:.1f} ms, "
            f"p99 {health[int(len(health) * 0.99)] * 1000:.1f} ms"
        )
        if "apiserver" in triggers.cpu:
            # With the CPUs saturated, rates go as the inverse of these.
            bare_cpu, path_cpu = bare_run.cpu_per_request(), triggers.cpu_per_request()
            print(
                f"    CPU per request, all processes: bare {bare_cpu * 1000:.2f} ms, triggers "
                f"{path_cpu * 1000:.2f} ms: {bare_cpu / path_cpu:.0%} on saturated CPUs"
            )
    for done in rounds:
        if done.profiles:
            print_profile(done.concurrency, done.profiles, done.runs[2].requests)


def main() -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.benchmarks.receiver",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--events", type=int, default=3000, help="webhooks per workload")
    parser.add_argument(
        "--chunks", type=int, default=6, help="slices in which bare creates and triggers alternate"
    )
    parser.add_argument(
        "--concurrency", type=int, nargs="+", default=[8, 32], help="requests in flight"
    )
    parser.add_argument(
        "--profile",
        type=Path,
        metavar="DIR",
        help="sample the receiver with py-spy (pip install py-spy), keep the raw stacks in DIR",
    )
    parser.add_argument(
        "--library-session",
        action="store_true",
        help="also run triggers through a receiver on kubernetes_asyncio's own session (before)",
    )
    controlplane.add_kubeconfig_argument(parser)
    args = parser.parse_args()
    if args.profile is not None:
        args.profile.mkdir(parents=True, exist_ok=True)
    with (
        tempfile.TemporaryDirectory(prefix="kubedora-bench-") as tmp,
        controlplane.cluster(Path(tmp), args.kubeconfig) as plane,
    ):
        asyncio.run(
            benchmark(
                plane.kubeconfig,
                plane.process.pid if plane.process else None,
                args.events,
                args.chunks,
                args.concurrency,
                Path(tmp),
                args.profile,
                args.library_session,
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
