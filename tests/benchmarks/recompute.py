"""Benchmark: how long a scoreboard recompute takes, and what memory the
operator holds, for N failures + N deployments.

    .venv/bin/python -m tests.benchmarks.recompute             # in memory, 10k and 100k
    .venv/bin/python -m tests.benchmarks.recompute --cluster 10000

In memory, each body goes through the operator's own fact functions
(handlers/facts.py: the pydantic parse of its spec and status) and the facts
are held in plain lists, as the informer-fed indexes hold them; the recompute
is the DoraSource status computation itself, once with trends off
(spec.trend.buckets 0, the reference) and once with the default trend (12
buckets of 7d, and the busiest breakdown rows), side by side. With --cluster,
the objects are created in a local control plane and a real `kubedora operator` process
lists and watches them (tests/benchmarks/memory.py: peak and quiet RSS on a
first pass and a restart, time to the scoreboard and to every status).
Not a test: it prints figures.
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import resource
import statistics
import sys
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from typing import Any

from kubedora.handlers.facts import deployment_fact, failure_fact
from kubedora.handlers.scoreboard import scoreboard_status
from kubedora.metrics.dora import DeploymentFact, FailureFact
from kubedora.models import DoraSourceSpec, DoraSourceStatus

SERVICES = [f"service-{i}" for i in range(200)]
TEAMS = [f"team-{i}" for i in range(30)]
ENVS = ["prod", "staging", "dev"]


def rfc3339(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def failure_spec(rng: random.Random, now: datetime) -> dict[str, Any]:
    start = now - timedelta(seconds=rng.randrange(60 * 86400))
    spec: dict[str, Any] = {
        "services": rng.sample(SERVICES, rng.choice([1, 1, 1, 2])),
        "team": rng.choice(TEAMS),
        "env": rng.choice(ENVS),
        "startedAt": rfc3339(start),
    }
    roll = rng.random()
    if roll < 0.6:
        spec["finishedAt"] = rfc3339(start + timedelta(seconds=rng.randrange(60, 86400)))
    elif roll < 0.8:
        spec["timeline"] = [
            {"state": "active", "at": rfc3339(start)},
            {"state": "resolved", "at": rfc3339(start + timedelta(minutes=20))},
            {"state": "active", "at": rfc3339(start + timedelta(minutes=40))},
            {"state": "stable", "at": rfc3339(start + timedelta(minutes=70))},
        ]
    return spec


def deployment_spec(rng: random.Random, now: datetime) -> dict[str, Any]:
    finished = now - timedelta(seconds=rng.randrange(60 * 86400))
    return {
        "service": rng.choice(SERVICES),
        "team": rng.choice(TEAMS),
        "env": rng.choice(ENVS),
        "startedAt": rfc3339(finished - timedelta(minutes=5)),
        "finishedAt": rfc3339(finished),
    }


def facts_of(n: int) -> tuple[list[FailureFact], list[DeploymentFact], int]:
    """N facts of each kind through the operator's own fact functions, and the
    bytes they hold (tracemalloc)."""
    rng = random.Random(n)
    now = datetime.now(UTC)
    bodies_f = [{"spec": failure_spec(rng, now)} for _ in range(n)]
    bodies_d = [{"spec": deployment_spec(rng, now)} for _ in range(n)]
    gc.collect()
    tracemalloc.start()
    failures: list[FailureFact] = [f for b in bodies_f if (f := failure_fact(b)) is not None]
    deployments: list[DeploymentFact] = [
        d for b in bodies_d if (d := deployment_fact(b)) is not None
    ]
    held, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return failures, deployments, held


def facts_held_mib(n: int) -> float:
    return facts_of(n)[2] / 2**20


def in_memory(n: int, repeats: int) -> None:
    now = datetime.now(UTC)
    started = time.perf_counter()
    failures, deployments, held = facts_of(n)
    index_seconds = time.perf_counter() - started

    timings: dict[str, list[float]] = {"off": [], "on": []}
    specs = {
        "off": DoraSourceSpec.model_validate({"window": "30d", "trend": {"buckets": 0}}),
        "on": DoraSourceSpec(window="30d"),  # the default trend: 12 buckets of 7d
    }
    status = DoraSourceStatus()
    for _ in range(repeats):
        # Alternate, so that both see the same machine load.
        for key, spec in specs.items():
            started = time.perf_counter()
            status = scoreboard_status(spec, DoraSourceStatus(), failures, deployments, 1, now)
            timings[key].append(time.perf_counter() - started)
    assert status.summary is not None
    assert len(status.trend) == 12
    off, on = (statistics.median(timings[key]) for key in ("off", "on"))
    print(
        f"{n:>7} failures + {n:>7} deployments: recompute median "
        f"{off * 1000:8.1f} ms without trends, {on * 1000:8.1f} ms with (x{on / off:.2f}; "
        f"{repeats} runs each); indexing {index_seconds:.2f}s; facts held {held / 2**20:.1f} MiB; "
        f"rows {len(status.breakdown)}, row trends {len(status.breakdown_trend)}; in window: "
        f"{status.summary.failures} failures, {status.summary.deployments} deployments; "
        f"status {len(json.dumps(status.to_wire())) / 1024:.0f} KiB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument(
        "--cluster", type=int, metavar="N", help="measure a real operator with N of each"
    )
    args = parser.parse_args()
    if args.cluster:
        from tests.benchmarks import memory

        memory.benchmark(args.cluster)
        return
    for n in args.sizes:
        in_memory(n, args.repeats)
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"benchmark process peak RSS {peak_kib / 1024:.0f} MiB", file=sys.stderr)


if __name__ == "__main__":
    main()
