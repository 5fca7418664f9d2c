"""Benchmark: the operator's /metrics with 100 DoraSources x 50 breakdown
rows (size, and time to render and to scrape over HTTP), next to the bare
prometheus_client exposition of the same samples; and the dashboard page's
render time, next to json.dumps of the same statuses.

    .venv/bin/python -m tests.benchmarks.exposition

Not a test: it prints a table."""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import statistics
import time
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from aiohttp import web
from prometheus_client import CollectorRegistry, Gauge, generate_latest

from kubedora.handlers.telemetry import Telemetry
from kubedora.handlers.web import DashboardServer
from kubedora.models import (
    BreakdownRow,
    Dimension,
    DoraSourceSpec,
    DoraSourceStatus,
    Figures,
    TrendPoint,
)
from kubedora.web.page import SourceView, namespace_page
from tests.support.operator import free_port

NOW = datetime.now(UTC)
# 50 rows: 30 services, 15 teams, 5 envs.
ROWS = [(Dimension.SERVICE, 30), (Dimension.TEAM, 15), (Dimension.ENV, 5)]


def status(seed: int) -> DoraSourceStatus:
    breakdown = [
        BreakdownRow(
            dimension=dimension,
            key=f"{dimension.value}-{i}",
            deployments=10 + (seed + i) % 40,
            failures=(seed + i) % 5,
            restored_failures=(seed + i) % 4,
            change_failure_rate=((seed + i) % 5) / (10 + (seed + i) % 40),
            median_time_to_restore_seconds=600.0 * ((seed + i) % 7 + 1),
        )
        for dimension, count in ROWS
        for i in range(count)
    ]
    trend = [
        TrendPoint(
            start=NOW - timedelta(days=7 * (12 - b)),
            deployments=b + 3,
            failures=b % 3,
            restored_failures=b % 2,
            change_failure_rate=(b % 3) / (b + 3),
            median_time_to_restore_seconds=900.0 * (b % 2) or None,
            deployments_per_day=(b + 3) / 7,
        )
        for b in range(12)
    ]
    return DoraSourceStatus(
        window_start=NOW - timedelta(days=30),
        window_end=NOW,
        summary=Figures(
            deployments=500,
            failures=40,
            restored_failures=35,
            change_failure_rate=0.08,
            median_time_to_restore_seconds=3000.0,
        ),
        breakdown=breakdown,
        trend=trend,
    )


def timed(function: Callable[[], object], repeats: int) -> float:
    timings = []
    for _ in range(repeats):
        started = time.perf_counter()
        function()
        timings.append(time.perf_counter() - started)
    return statistics.median(timings)


def reference_registry(samples: list[tuple[str, dict[str, str], float]]) -> CollectorRegistry:
    """The same samples as plain prometheus_client gauges."""
    registry = CollectorRegistry()
    gauges: dict[tuple[str, tuple[str, ...]], Gauge] = {}
    for name, labels, value in samples:
        key = (name, tuple(labels))
        if key not in gauges:
            gauges[key] = Gauge(name, name, list(labels), registry=registry)
        gauge = gauges[key]
        (gauge.labels(**labels) if labels else gauge).set(value)
    return registry


def parse_samples(text: str) -> list[tuple[str, dict[str, str], float]]:
    from prometheus_client.parser import text_string_to_metric_families

    return [
        (family.name, dict(sample.labels), sample.value)
        for family in text_string_to_metric_families(text)
        if family.type == "gauge" and family.name.startswith("kubedora_")
        for sample in family.samples
    ]


async def scrape_time(server: DashboardServer, repeats: int) -> float:
    runner = web.AppRunner(server.app())
    await runner.setup()
    await web.TCPSite(runner, server.host, server.port).start()
    url = f"http://{server.host}:{server.port}/metrics"
    try:
        loop = asyncio.get_running_loop()

        def get() -> bytes:
            with urllib.request.urlopen(url, timeout=30) as response:
                body: bytes = response.read()
                return body

        timings = []
        for _ in range(repeats):
            started = time.perf_counter()
            await loop.run_in_executor(None, get)
            timings.append(time.perf_counter() - started)
        return statistics.median(timings)
    finally:
        await runner.cleanup()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sources", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()

    print(f"{args.sources} DoraSources x 50 breakdown rows, 12 trend buckets each")
    print(f"{'what':<52} {'size':>10} {'median time':>12} {'vs reference':>13}")
    for rows_per_dimension in (20, 1000):
        telemetry = Telemetry.create(
            lambda: [], worker_limit=64, rows_per_dimension=rows_per_dimension
        )
        for i in range(args.sources):
            telemetry.boards.put("team-ns", f"source-{i}", DoraSourceSpec(), status(i), {})
        body = generate_latest(telemetry.registry)
        ours = timed(functools.partial(generate_latest, telemetry.registry), args.repeats)
        samples = parse_samples(body.decode())
        reference = reference_registry(samples)
        ref_body = generate_latest(reference)
        theirs = timed(functools.partial(generate_latest, reference), args.repeats)
        bound = "default bound, 20 rows" if rows_per_dimension == 20 else "unbounded, all 50 rows"
        print(
            f"{'/metrics render (' + bound + ')':<52} {len(body) / 1024:>8.0f} KiB "
            f"{ours * 1000:>9.1f} ms {ours / theirs:>12.2f}x"
        )
        print(
            f"{'  reference: bare client, same ' + str(len(samples)) + ' samples':<52} "
            f"{len(ref_body) / 1024:>8.0f} KiB {theirs * 1000:>9.1f} ms {1:>12.2f}x"
        )
        server = DashboardServer(
            address=f"127.0.0.1:{free_port()}",
            telemetry=telemetry,
            api=None,  # type: ignore[arg-type]  # /metrics reads no API
            namespaces=None,
            open_failures={},
            deployments={},
        )
        scraped = asyncio.run(scrape_time(server, args.repeats))
        print(
            f"{'  scrape over HTTP (GET /metrics)':<52} {len(body) / 1024:>8.0f} KiB "
            f"{scraped * 1000:>9.1f} ms {scraped / theirs:>12.2f}x"
        )

    sources = [SourceView(f"source-{i}", DoraSourceSpec(), status(i)) for i in range(10)]
    page = namespace_page("team-ns", sources, [], [], NOW)
    rendered = timed(lambda: namespace_page("team-ns", sources, [], [], NOW), args.repeats)
    dumped = timed(lambda: json.dumps([s.status.to_wire() for s in sources]), args.repeats)
    print(
        f"{'page render, 10 DoraSources x 50 rows':<52} {len(page) / 1024:>8.0f} KiB "
        f"{rendered * 1000:>9.1f} ms {rendered / dumped:>12.2f}x"
    )
    print(
        f"{'  reference: json.dumps of the same statuses':<52} "
        f"{len(json.dumps([s.status.to_wire() for s in sources])) / 1024:>8.0f} KiB "
        f"{dumped * 1000:>9.1f} ms {1:>12.2f}x"
    )


if __name__ == "__main__":
    main()
