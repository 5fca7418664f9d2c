"""Benchmark: what the operator holds per Failure and Deployment, without a
cluster, and where (tracemalloc, by line).

    .venv/bin/python -m tests.benchmarks.held                      # 20,000 of each
    .venv/bin/python -m tests.benchmarks.held --objects 5000 --top 25
    .venv/bin/python -m tests.benchmarks.held --source OTHER/operator   # and another checkout

The operator's own informer consumers (handlers/runtime.build: the facts,
the catalog's dependents, the dashboard's open failures, the history's
groups and the status controller) are fed the bodies an API server returns,
page by page as the informer parses them:

- restart: objects whose status (and a Deployment's history) is current,
  as after a first pass: what a steady operator holds;
- first pass: objects with no status yet: on top, the status work waiting
  for every object at once.

Each checkout (this one's `operator/`, and each --source) is measured in a
process of its own, in the same run. Not a test: it prints figures.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import linecache
import random
import subprocess
import sys
import tracemalloc
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
NAMESPACE = "held"
PAGE = 500
FIELDS = [
    {
        "manager": "kubedora",
        "operation": "Update",
        "apiVersion": "kubedora.io/v1alpha1",
        "time": "2026-11-01T12:00:00Z",
        "fieldsType": "FieldsV1",
        "fieldsV1": {"f:spec": {".": {}, "f:env": {}, "f:service": {}, "f:team": {}}},
    }
]


def bodies(kind: str, n: int, current: bool) -> Iterator[dict[str, Any]]:
    """N bodies of one kind as listed, their status current or absent."""
    from kubedora.handlers import reconcile
    from kubedora.matching import EMPTY_CATALOG
    from tests.benchmarks.recompute import deployment_spec, failure_spec

    rng, now = random.Random(n), datetime.now(UTC)
    for i in range(n):
        spec = failure_spec(rng, now) if kind == "Failure" else deployment_spec(rng, now)
        body: dict[str, Any] = {
            "apiVersion": "kubedora.io/v1alpha1",
            "kind": kind,
            "metadata": {
                "name": f"o{i:06d}",
                "namespace": NAMESPACE,
                "uid": str(uuid.UUID(int=rng.getrandbits(128))),
                "resourceVersion": str(1000 + i),
                "generation": 1,
                "creationTimestamp": "2026-11-01T12:00:00Z",
                "managedFields": FIELDS,
            },
            "spec": spec,
        }
        if current:
            plan = (reconcile.failure if kind == "Failure" else reconcile.deployment)(
                body, now, catalog=EMPTY_CATALOG
            )
            status = {k: v for k, v in plan.changes.items() if v is not None}
            if kind == "Deployment":
                # What the history worker writes for a deployment with no git data.
                status["changeFailure"] = {"failed": False}
                status["conditions"] = [
                    *status["conditions"],
                    {
                        "type": "LeadTimeUnavailable",
                        "status": "True",
                        "reason": "NoGitData",
                        "message": "no git.repositoryUrl and git.commitSha",
                        "lastTransitionTime": "2026-11-01T12:00:03.123456Z",
                    },
                ]
            body["status"] = status
        yield body


def pages(kind: str, n: int, current: bool) -> list[bytes]:
    """The list pages of an API server, as JSON: parsed one at a time."""
    out: list[bytes] = []
    items: list[dict[str, Any]] = []
    for body in bodies(kind, n, current):
        items.append(body)
        if len(items) == PAGE:
            out.append(json.dumps({"items": items}).encode())
            items = []
    if items:
        out.append(json.dumps({"items": items}).encode())
    return out


def measure(n: int, current: bool, top: int) -> dict[str, Any]:
    """In this process: feed 2N bodies, report what stays held."""
    from kubedora.git.cache import RepositoryCache
    from kubedora.handlers import runtime
    from kubedora.handlers.catalog_follower import Rematcher
    from kubedora.handlers.history import DoraSettings, History
    from kubedora.handlers.scoreboard import Triggers
    from kubedora.handlers.statuses import StatusController
    from kubedora.handlers.telemetry import Telemetry

    async def run() -> dict[str, Any]:
        telemetry = Telemetry.create(lambda: [], worker_limit=64)
        statuses = StatusController(None, telemetry=telemetry, workers=64)  # type: ignore[arg-type]
        late: list[History] = []
        caches = runtime.build(
            None,  # type: ignore[arg-type]  # nothing is listed: bodies are fed
            [NAMESPACE],
            Triggers(),
            Rematcher(),
            telemetry,
            lambda old, new: late[0].on_group_change(old, new),
            None,
            statuses,
        )
        late.append(
            History(
                api=None,  # type: ignore[arg-type]
                cache=RepositoryCache(Path("/nonexistent"), max_bytes=1, concurrency=1, timeout=1),
                groups=caches.deployment_groups,
                settings=DoraSettings(lambda namespace: None),
                lead_times_changed=lambda namespace: None,
            )
        )
        informers = {informer.resource.kind: informer for informer in caches.fact_informers}
        listed = {kind: pages(kind, n, current) for kind in ("Deployment", "Failure")}
        gc.collect()
        tracemalloc.start()
        for kind in ("Deployment", "Failure"):  # the operator's order
            consumers = informers[kind]._consumers
            seen: set[str] = set()
            for text in listed[kind]:
                for body in json.loads(text)["items"]:
                    uid = body["metadata"]["uid"]
                    seen.add(uid)
                    for consumer in consumers:
                        consumer.upsert(uid, body, listed=True)
            for consumer in consumers:
                consumer.retain(seen)
            del seen
        gc.collect()
        held, peak = tracemalloc.get_traced_memory()
        snapshot = tracemalloc.take_snapshot()
        tracemalloc.stop()
        lines = []
        for stat in snapshot.statistics("lineno")[:top]:
            frame = stat.traceback[0]
            where = frame.filename
            for marker in ("site-packages/", "/operator/", "/lib/python3.11/"):
                where = where.split(marker)[-1]
            code = linecache.getline(frame.filename, frame.lineno).strip()[:70]
            lines.append([stat.size, stat.count, f"{where}:{frame.lineno}", code])
        return {"held": held, "peak": peak, "waiting": statuses.waiting, "lines": lines}

    return asyncio.run(run())


def in_subprocess(source: Path, n: int, current: bool, top: int) -> dict[str, Any]:
    command = [sys.executable, "-m", "tests.benchmarks.held", "--measure", str(n), str(top)]
    if current:
        command.append("--current")
    env_path = f"{source}:{ROOT}"
    result = subprocess.run(
        command, cwd=ROOT, env={"PYTHONPATH": env_path, "PATH": "/usr/bin:/bin"},
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    figures: dict[str, Any] = json.loads(result.stdout)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objects", type=int, default=20_000, help="N of each kind")
    parser.add_argument("--top", type=int, default=12, help="lines to show per measurement")
    parser.add_argument("--source", type=Path, action="append", help="another operator/ directory")
    parser.add_argument("--measure", nargs=2, type=int, help=argparse.SUPPRESS)
    parser.add_argument("--current", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure[0], args.current, args.measure[1])))
        return
    sources = [ROOT / "operator", *(args.source or [])]
    n = args.objects
    rows = []
    for current, what in ((True, "restart"), (False, "first pass")):
        for source in sources:
            figures = in_subprocess(source, n, current, args.top)
            rows.append((what, source, figures))
    print(f"held by the operator's informer consumers over {n} Failures + {n} Deployments")
    print(f"{'scenario':<11} {'B/object':>9} {'MiB':>7} {'peak MiB':>9} {'waiting':>8}  operator")
    for what, source, figures in rows:
        print(
            f"{what:<11} {figures['held'] / (2 * n):>9.0f} {figures['held'] / 2**20:>7.1f} "
            f"{figures['peak'] / 2**20:>9.1f} {figures['waiting']:>8}  {source}"
        )
    for what, source, figures in rows:
        print(f"\n{what}, {source}: top lines (bytes per object, blocks)")
        for size, count, where, code in figures["lines"]:
            print(f"  {size / (2 * n):>7.0f} {count:>8}  {where}  {code}")


if __name__ == "__main__":
    main()
