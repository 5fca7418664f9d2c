"""Benchmark: what the service catalog costs the operator in memory, and how
long matching one failure takes, for N annotated Services.

    .venv/bin/python -m tests.benchmarks.catalog                  # in memory: 1,000 and 10,000
    .venv/bin/python -m tests.benchmarks.catalog --sizes 100000
    .venv/bin/python -m tests.benchmarks.catalog --cluster 1000 2000 4000  # a real operator

In memory, every Service body goes through the operator's real index
function into the operator's informer-fed index, and through the memory of entries
that tells catalog edits apart; `tracemalloc` measures what both hold. Then
failures of every rule are matched against it, each timed. Lookups are O(1):
the time per failure should not grow with N.

With --cluster, annotated Services are created in a local control plane and
a real `kubedora operator` is started over each N in turn: the figures are
the time until a new failure is matched through the catalog (the operator
reconciles no failure before the catalog is listed), its CPU time and peak RSS.
Not a test: it prints figures.
"""

from __future__ import annotations

import argparse
import functools
import gc
import os
import random
import statistics
import tempfile
import time
import tracemalloc
from collections import defaultdict
from pathlib import Path
from typing import Any, cast

from kubedora.catalog.changes import CatalogMemory
from kubedora.catalog.index import catalog_values, parse_object
from kubedora.k8s.informer import KeyedIndex
from kubedora.matching import Catalog, CatalogKey, attribute_failure
from kubedora.models import CatalogEntry, FailureSpec

PD = "https://acme.pagerduty.com/services"
LANGUAGES = ["python", "go", "java", "typescript", "rust"]


def service_body(i: int, teams: int) -> dict[str, Any]:
    return {
        "metadata": {
            "name": f"service-{i}",
            "namespace": f"ns-{i % 50}",
            "uid": f"00000000-0000-0000-0000-{i:012d}",
            "annotations": {
                "kubedora.io/service": f"service-{i}",
                "kubedora.io/team": f"team-{i % teams}",
                "kubedora.io/pagerduty-service-url": f"{PD}/P{i:06d}",
                "kubedora.io/languages": ",".join(LANGUAGES[i % 5 : i % 5 + 2]),
                "kubedora.io/tags": f"tier:{i % 3},cost-center:cc-{i % 40}",
            },
        },
        "spec": {"selector": {"app": f"service-{i}"}, "ports": [{"port": 80}]},
    }


def failure_spec(rng: random.Random, n: int, teams: int) -> tuple[str, FailureSpec]:
    """A PagerDuty failure aimed at one rule (the last one: nothing matches)."""
    i = rng.randrange(n)
    rule = rng.choice(
        ["monitor", "service-url", "service-name", "team-name", "service-name-as-team", "pagerduty"]
    )
    context: dict[str, Any] = {"incidentId": f"Q{rng.randrange(10**9)}", "teams": ["Web"]}
    context["serviceName"] = {
        "service-name": f"Service-{i}",
        "service-name-as-team": f"team-{i % teams}",
    }.get(rule, f"PD service {i}")
    if rule == "monitor":
        context["monitorTags"] = [f"service:service-{i}", "env:prod"]
    elif rule == "service-url":
        context["serviceUrl"] = f"{PD}/p{i:06d}/"
    elif rule == "team-name":
        context["teams"] = ["Web", f"Team-{i % teams}"]
    spec = FailureSpec.model_validate(
        {
            "source": "pagerduty",
            "services": [context["serviceName"]],
            "startedAt": "2026-11-01T12:00:00Z",
            "pagerduty": context,
        }
    )
    return rule, spec


def in_memory(n: int, failures: int, teams: int) -> None:
    bodies = [service_body(i, teams) for i in range(n)]
    gc.collect()
    tracemalloc.start()
    started = time.perf_counter()
    index: KeyedIndex[CatalogKey, CatalogEntry] = KeyedIndex(
        functools.partial(catalog_values, "Service")
    )
    for body in bodies:
        index.upsert(body["metadata"]["uid"], body, listed=True)
    index_seconds = time.perf_counter() - started
    index_bytes, _ = tracemalloc.get_traced_memory()
    memory = CatalogMemory()
    for body in bodies:
        memory.update(body["metadata"]["uid"], parse_object("Service", body), listed=True)
    both_bytes, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    # The operator's view: one index per annotated kind, three of them empty here.
    catalog = Catalog([index, {}, {}, {}])
    rng = random.Random(n)
    cases = [failure_spec(rng, n, teams) for _ in range(failures)]
    timings: dict[str, list[float]] = defaultdict(list)
    for rule, spec in cases:
        started = time.perf_counter()
        attribution = attribute_failure(spec, None, catalog)
        timings[rule].append(time.perf_counter() - started)
        assert attribution.matched_by == rule, (rule, attribution)
    every = [t for ts in timings.values() for t in ts]
    per_rule = ", ".join(
        f"{rule} {statistics.median(ts) * 1e6:.0f}" for rule, ts in sorted(timings.items())
    )
    print(
        f"{n:>7} annotated Services ({teams} teams): indexed in {index_seconds:.2f}s "
        f"({index_seconds / n * 1e6:.0f} µs each); index holds {index_bytes / 2**20:.1f} MiB "
        f"({index_bytes / n:.0f} B per Service), with the edit memory "
        f"{both_bytes / 2**20:.1f} MiB; {len(index)} keys"
    )
    print(
        f"{'':>7} match per failure ({failures} failures): median "
        f"{statistics.median(every) * 1e6:.1f} µs, p99 "
        f"{statistics.quantiles(every, n=100)[98] * 1e6:.1f} µs, max {max(every) * 1e6:.0f} µs; "
        f"median µs by rule: {per_rule}"
    )


def on_cluster(sizes: list[int], teams: int, timeout: float) -> None:
    from kubernetes import client

    from tests.support import controlplane
    from tests.support.kube import apply_crds, new_client, poll, unique_name

    work = Path(tempfile.mkdtemp(prefix="kubedora-bench-"))
    plane = controlplane.start(work)
    try:
        api = new_client(plane.kubeconfig)
        apply_crds(api, sorted(Path("crds").glob("*.kubedora.io.yaml")))
        core = client.CoreV1Api(api)
        objects = client.CustomObjectsApi(api)
        catalog_ns, failures_ns = unique_name("catalog"), unique_name("failures")
        for name in (catalog_ns, failures_ns):
            core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name)))
        created = 0
        for n in sorted(sizes):
            started = time.perf_counter()
            while created < n:
                body = service_body(created, teams)
                metadata = {"name": body["metadata"]["name"]}
                metadata["annotations"] = body["metadata"]["annotations"]
                # The client validates a plain manifest into its model.
                manifest = cast("client.V1Service", {**body, "metadata": metadata})
                core.create_namespaced_service(catalog_ns, manifest)
                created += 1
            print(f"{n} annotated Services ({time.perf_counter() - started:.0f}s to create)")
            run_operator(plane.kubeconfig, work, objects, failures_ns, n, timeout, poll)
    finally:
        plane.stop()


def run_operator(
    kubeconfig: Path,
    work: Path,
    objects: Any,
    namespace: str,
    n: int,
    timeout: float,
    poll: Any,
) -> None:
    """Start an operator over n annotated Services; time until a new failure
    is matched through the catalog (no failure is reconciled before the
    catalog is listed), and read its peak RSS."""
    from tests.support.operator import start_operator

    started = time.perf_counter()
    operator = start_operator(
        kubeconfig, work / f"operator-{n}.log", "--all-namespaces", "--standalone", timeout=600
    )
    try:
        target = n // 2
        probe = f"probe-{n}"
        objects.create_namespaced_custom_object(
            "kubedora.io",
            "v1alpha1",
            namespace,
            "failures",
            {
                "apiVersion": "kubedora.io/v1alpha1",
                "kind": "Failure",
                "metadata": {"name": probe},
                "spec": {
                    "source": "pagerduty",
                    "services": ["PD probe"],
                    "startedAt": "2026-11-01T12:00:00Z",
                    "pagerduty": {
                        "incidentId": f"Q{n}",
                        "serviceName": "PD probe",
                        "serviceUrl": f"{PD}/P{target:06d}",
                    },
                },
            },
        )

        def attributed() -> bool:
            failure = objects.get_namespaced_custom_object(
                "kubedora.io", "v1alpha1", namespace, "failures", probe
            )
            attribution = (failure.get("status") or {}).get("attribution") or {}
            return bool(attribution.get("services") == [f"service-{target}"])

        try:
            poll(attributed, timeout=timeout, interval=0.5, what="the probe failure to be matched")
            outcome = f"probe matched {time.perf_counter() - started:.1f}s after start"
        except AssertionError:
            outcome = f"probe NOT matched within {timeout:.0f}s"
        status = Path(f"/proc/{operator.process.pid}/status").read_text()
        fields = dict(line.split(":", 1) for line in status.splitlines())
        cpu = sum(
            int(v) for v in Path(f"/proc/{operator.process.pid}/stat").read_text().split()[13:15]
        )
        print(
            f"  operator: {outcome}; CPU {cpu / os.sysconf('SC_CLK_TCK'):.0f}s; "
            f"peak RSS {fields['VmHWM'].strip()}"
        )
    finally:
        operator.stop()
        objects.delete_namespaced_custom_object(
            "kubedora.io", "v1alpha1", namespace, "failures", f"probe-{n}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000])
    parser.add_argument("--failures", type=int, default=20_000, help="failures matched per size")
    parser.add_argument("--teams", type=int, default=300)
    parser.add_argument(
        "--cluster",
        type=int,
        nargs="+",
        metavar="N",
        help="measure a real operator over N annotated Services (several N: one after another)",
    )
    parser.add_argument("--timeout", type=float, default=1800.0, help="per operator start")
    args = parser.parse_args()
    if args.cluster:
        on_cluster(args.cluster, args.teams, args.timeout)
        return
    for n in args.sizes:
        in_memory(n, args.failures, args.teams)


if __name__ == "__main__":
    main()
