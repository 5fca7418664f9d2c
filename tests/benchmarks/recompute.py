"""Benchmark: how long a scoreboard recompute takes, and what memory the
operator holds, for N failures + N deployments.

    .venv/bin/python -m tests.benchmarks.recompute             # in memory, 10k and 100k
    .venv/bin/python -m tests.benchmarks.recompute --cluster 10000

In memory, each body goes through the operator's own fact functions
(handlers/facts.py: the pydantic parse of its spec and status) and the facts
are held in plain lists, as the informer-fed indexes hold them; the recompute
is the DoraSource status computation itself, once with trends off
(spec.trend.buckets 0, the reference) and once with the default trend (12
buckets of 7d, and the busiest breakdown rows), side by side. With --cluster, the objects are
created in a local control plane and a real `kubedora operator` process
lists and watches them; its peak RSS (VmHWM) and the time until the scoreboard
counts them all are printed. Not a test: it prints figures.
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import resource
import statistics
import sys
import tempfile
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

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


def in_memory(n: int, repeats: int) -> None:
    rng = random.Random(n)
    now = datetime.now(UTC)
    bodies_f = [{"spec": failure_spec(rng, now)} for _ in range(n)]
    bodies_d = [{"spec": deployment_spec(rng, now)} for _ in range(n)]

    gc.collect()
    tracemalloc.start()
    started = time.perf_counter()
    failures: list[FailureFact] = [f for b in bodies_f if (f := failure_fact(b)) is not None]
    deployments: list[DeploymentFact] = [
        d for b in bodies_d if (d := deployment_fact(b)) is not None
    ]
    index_seconds = time.perf_counter() - started
    held, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()

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


def on_cluster(n: int) -> None:
    from kubernetes import client

    from tests.support import controlplane
    from tests.support.kube import apply_crds, new_client, poll, unique_name
    from tests.support.operator import start_operator

    work = Path(tempfile.mkdtemp(prefix="kubedora-bench-"))
    plane = controlplane.start(work)
    try:
        api = new_client(plane.kubeconfig)
        apply_crds(api, sorted(Path("crds").glob("*.kubedora.io.yaml")))
        namespace = unique_name("bench")
        core = client.CoreV1Api(api)
        core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=namespace)))
        objects = client.CustomObjectsApi(api)
        rng = random.Random(n)
        now = datetime.now(UTC)
        started = time.perf_counter()
        for i in range(n):
            for kind, plural, spec in (
                ("Failure", "failures", failure_spec(rng, now)),
                ("Deployment", "deployments", deployment_spec(rng, now)),
            ):
                objects.create_namespaced_custom_object(
                    "kubedora.io",
                    "v1alpha1",
                    namespace,
                    plural,
                    {
                        "apiVersion": "kubedora.io/v1alpha1",
                        "kind": kind,
                        "metadata": {"name": f"o{i}"},
                        "spec": spec,
                    },
                )
        print(f"created {2 * n} objects in {time.perf_counter() - started:.0f}s")
        objects.create_namespaced_custom_object(
            "kubedora.io",
            "v1alpha1",
            namespace,
            "dorasources",
            {
                "apiVersion": "kubedora.io/v1alpha1",
                "kind": "DoraSource",
                "metadata": {"name": "board"},
                "spec": {"window": "3650d"},
            },
        )
        started = time.perf_counter()
        operator = start_operator(
            plane.kubeconfig, work / "operator.log", "-n", namespace, "--standalone", timeout=600
        )
        try:

            def counted() -> bool:
                board = cast(
                    "dict[str, Any]",
                    objects.get_namespaced_custom_object(
                        "kubedora.io", "v1alpha1", namespace, "dorasources", "board"
                    ),
                )
                summary = (board.get("status") or {}).get("summary") or {}
                return summary.get("failures") == n and summary.get("deployments") == n

            poll(counted, timeout=3600, interval=1.0, what="the scoreboard to count everything")
            print(
                f"operator counted all {2 * n} objects {time.perf_counter() - started:.0f}s "
                "after start (each object's own status is written in the background)"
            )
            memory = dict(
                line.split(":", 1)
                for line in Path(f"/proc/{operator.process.pid}/status").read_text().splitlines()
            )
            print(f"operator memory: peak {memory['VmHWM'].strip()}, now {memory['VmRSS'].strip()}")
        finally:
            operator.stop()
    finally:
        plane.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument(
        "--cluster", type=int, metavar="N", help="measure a real operator with N of each"
    )
    args = parser.parse_args()
    if args.cluster:
        on_cluster(args.cluster)
        return
    for n in args.sizes:
        in_memory(n, args.repeats)
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"benchmark process peak RSS {peak_kib / 1024:.0f} MiB", file=sys.stderr)


if __name__ == "__main__":
    main()
