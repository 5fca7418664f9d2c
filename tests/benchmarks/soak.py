"""Soak: `kubedora receiver` and `kubedora operator` as processes on the
local control plane for an hour under PagerDuty-like load, watching their
memory and file descriptors for growth.

    .venv/bin/python -m tests.benchmarks.soak                        # 60 min, 20 incidents/s
    .venv/bin/python -m tests.benchmarks.soak --minutes 4 --warmup 1  # a quick look
    .venv/bin/python -m tests.benchmarks.soak --kubeconfig ~/.kube/config

Every incident goes through trigger -> acknowledge -> resolve, delivered
like PagerDuty does (in order, retried on 5xx/429/timeouts with backoff);
`--rate` incidents start each second. Every `--interval` seconds it prints
the RSS (VmRSS) and open file descriptors (/proc/PID/fd) of both
processes; at the end, the least-squares slope per hour of each, over the
samples after `--warmup` minutes, next to the spread of those samples (a
slope smaller than the spread over the run is noise), and what the load
generator sent and was told.

Every incident leaves a Failure behind: after an hour at 20/s, 72,000 of
them, which the operator holds as facts for its scoreboards. Its memory
grows with them by design; the slope says how fast, per Failure too.
Not a test: it prints figures.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import cast

from kubernetes import client

from tests.support import controlplane
from tests.support.chaos import ReceiverProcess
from tests.support.kube import apply_crds, close_client, new_client, unique_name
from tests.support.load import ACK, RESOLVE, TRIGGER, IncidentPlan, PagerDuty, Step
from tests.support.operator import start_operator
from tests.support.receiver import GROUP, VERSION, install_source

ROOT = Path(__file__).resolve().parents[2]


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for {pid}")


def open_fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


@dataclass
class Series:
    """(seconds since the start, value) samples of one figure."""

    name: str
    samples: list[tuple[float, float]] = field(default_factory=list)

    def after(self, warmup: float) -> list[tuple[float, float]]:
        return [(t, v) for t, v in self.samples if t >= warmup]

    def slope_per_hour(self, warmup: float) -> float | None:
        """Least-squares slope of the samples after the warm-up, per hour."""
        points = self.after(warmup)
        if len(points) < 2:
            return None
        n = len(points)
        mean_t = sum(t for t, _ in points) / n
        mean_v = sum(v for _, v in points) / n
        spread = sum((t - mean_t) ** 2 for t, _ in points)
        if spread == 0:
            return None
        slope = sum((t - mean_t) * (v - mean_v) for t, v in points) / spread
        return slope * 3600

    def row(self, warmup: float) -> str:
        points = [v for _, v in self.after(warmup)]
        slope = self.slope_per_hour(warmup)
        if not points or slope is None:
            return f"{self.name:<22} {'(too few samples after the warm-up)':>60}"
        return (
            f"{self.name:<22} {points[0]:>10.1f} {points[-1]:>10.1f} {min(points):>10.1f} "
            f"{max(points):>10.1f} {slope:>+12.1f}"
        )


def lifecycles(prefix: str) -> Iterator[IncidentPlan]:
    """Endless incidents: trigger, acknowledge a few minutes later, resolve
    within the hour; all of them a day ago, so the window holds them."""
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(days=1)
    for n in itertools.count():
        incident_id = f"{prefix}{n:07d}"
        created = start + timedelta(seconds=n % 7200)
        ack = created + timedelta(seconds=60 + n % 240)
        resolved = ack + timedelta(seconds=120 + n % 3000, milliseconds=n % 1000)
        yield IncidentPlan(
            incident_id,
            created,
            (
                Step(TRIGGER, created, f"{incident_id}-0"),
                Step(ACK, ack, f"{incident_id}-1"),
                Step(RESOLVE, resolved, f"{incident_id}-2"),
            ),
        )


def failures_stored(api: client.ApiClient, namespace: str) -> int:
    """How many Failures the namespace holds, without listing them all."""
    listing = cast(
        "dict[str, object]",
        client.CustomObjectsApi(api).list_namespaced_custom_object(
            GROUP, VERSION, namespace, "failures", limit=1
        ),
    )
    items = cast("list[object]", listing["items"])
    metadata = cast("dict[str, int]", listing["metadata"])
    return len(items) + int(metadata.get("remainingItemCount") or 0)


async def soak(args: argparse.Namespace, kubeconfig: Path, workdir: Path) -> None:
    api = new_client(kubeconfig)
    apply_crds(api, sorted((ROOT / "crds").glob("*.kubedora.io.yaml")))
    core = client.CoreV1Api(api)
    namespace = unique_name("soak")
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=namespace)))
    install_source(core, client.CustomObjectsApi(api), namespace, default_env="prod")
    receiver = ReceiverProcess(kubeconfig, namespace, workdir)
    receiver.start()
    # The operator's own defaults (debounce, resync), as deployed.
    operator = start_operator(
        kubeconfig,
        workdir / "operator.log",
        "--namespace",
        namespace,
        "--standalone",
        env={"KUBEDORA_DEBOUNCE_SECONDS": "1", "KUBEDORA_RESYNC_SECONDS": "60"},
    )
    assert receiver.process is not None
    pids = {"receiver": receiver.process.pid, "operator": operator.process.pid}
    series = {
        (role, what): Series(f"{role} {what}") for role in pids for what in ("RSS MiB", "open fds")
    }
    generator = PagerDuty(receiver.url, concurrency=args.rate * 4)
    duration = args.minutes * 60
    incidents = int(args.rate * duration)
    plans = itertools.islice(lifecycles(unique_name("PSOAK").upper().replace("-", "")), incidents)
    started = time.monotonic()

    stored_series = Series("Failures stored")

    def sample(stored: int) -> None:
        elapsed = time.monotonic() - started
        figures = []
        for role, pid in pids.items():
            rss, fds = rss_mib(pid), open_fds(pid)
            series[(role, "RSS MiB")].samples.append((elapsed, rss))
            series[(role, "open fds")].samples.append((elapsed, fds))
            figures.append(f"{role} {rss:7.1f} MiB {fds:4d} fds")
        stored_series.samples.append((elapsed, stored))
        tally = generator.tally
        print(
            f"{elapsed / 60:6.1f} min  {'  '.join(figures)}  Failures {stored:>7}  "
            f"sent {tally.sent:>7} 2xx {tally.ok:>7} 503 {tally.unavailable:>5} "
            f"errors {tally.errors + tally.other:>4}",
            flush=True,
        )

    async def sampler() -> None:
        while True:
            sample(await asyncio.to_thread(failures_stored, api, namespace))
            await asyncio.sleep(args.interval)

    sampling = asyncio.create_task(sampler())
    try:
        await generator.at_rate(plans, args.rate, max_in_flight=args.rate * 4)
    finally:
        sampling.cancel()
    seconds = time.monotonic() - started
    stored = failures_stored(api, namespace)
    sample(stored)
    receiver.stop()
    operator.stop()
    close_client(api)

    tally = generator.tally
    warmup = args.warmup * 60
    print(f"\n{args.minutes} min at {args.rate} incidents/s, warm-up {args.warmup} min, ", end="")
    print(f"{os.cpu_count()} CPUs")
    print(f"{'':<22} {'first':>10} {'last':>10} {'min':>10} {'max':>10} {'slope/hour':>12}")
    for each in [*series.values(), stored_series]:
        print(each.row(warmup))
    rss_slope = series[("operator", "RSS MiB")].slope_per_hour(warmup)
    stored_slope = stored_series.slope_per_hour(warmup)
    if rss_slope is not None and stored_slope:
        # The operator holds a fact per Failure: growth with them is by design.
        per_thousand = rss_slope / stored_slope * 1000
        print(f"operator RSS growth per 1,000 Failures stored: {per_thousand:+.1f} MiB")
    planned = 3 * args.rate
    print(
        f"\nplanned {planned} events/s for {args.minutes} min; "
        f"delivered {tally.ok / seconds:.0f}/s; the last answer came "
        f"{seconds / 60:.1f} min after the start"
    )
    print(
        f"incidents {incidents}, events {tally.deliveries} in {seconds:.0f} s "
        f"({tally.deliveries / seconds:.0f}/s): sent {tally.sent}, 2xx {tally.ok}, "
        f"503 {tally.unavailable}, other {tally.other}, connection errors {tally.errors}, "
        f"retries {tally.retries}, gave up {tally.gave_up}; "
        f"p50 {tally.p50_ms():.1f} ms, p99 {tally.p99_ms():.1f} ms"
    )
    print(f"Failures stored: {stored}")


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.benchmarks.soak", description=__doc__)
    parser.add_argument("--minutes", type=float, default=60.0, help="how long the load runs")
    parser.add_argument("--rate", type=int, default=20, help="incidents started per second")
    parser.add_argument("--warmup", type=float, default=10.0, help="minutes left out of the slopes")
    parser.add_argument("--interval", type=float, default=60.0, help="seconds between samples")
    controlplane.add_kubeconfig_argument(parser)
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory(prefix="kubedora-soak-") as tmp,
        controlplane.cluster(Path(tmp), args.kubeconfig) as plane,
    ):
        asyncio.run(soak(args, plane.kubeconfig, Path(tmp)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
