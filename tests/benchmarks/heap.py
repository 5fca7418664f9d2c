"""Benchmark: where the operator's memory goes, by source file or line, over N
Failures + N Deployments created while it was not running (its first pass).

    .venv/bin/python -m tests.benchmarks.heap --objects 20000
    .venv/bin/python -m tests.benchmarks.heap --objects 20000 --source OTHER/operator
    .venv/bin/python -m tests.benchmarks.heap --objects 20000 --by lineno --top 30

The operator runs under tracemalloc (slower, and with more memory than
without: read the shares, not the totals) from this checkout's `operator/`
or from --source (another checkout's, to compare two versions in one run).
On SIGUSR2 it writes the files holding the most memory; that happens once
the scoreboard counts every object and the status writes have stopped.
Not a test: it prints figures.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.benchmarks.memory import Run, create_all
from tests.support import controlplane
from tests.support.kube import apply_crds, poll
from tests.support.operator import free_port
from tests.support.processes import alive

ROOT = Path(__file__).resolve().parents[2]
TOP = 15

# Runs `kubedora operator` with tracemalloc; SIGUSR2 writes the top files.
BOOTSTRAP = """
import os, signal, sys, tracemalloc
OUT = os.environ["HEAP_REPORT"]
def dump(*_):
    current, peak = tracemalloc.get_traced_memory()
    snapshot = tracemalloc.take_snapshot().filter_traces(
        [tracemalloc.Filter(False, tracemalloc.__file__)])
    with open(OUT + ".tmp", "w") as out:
        out.write(f"{current} {peak} total\\n")
        key = os.environ["HEAP_BY"]
        for stat in snapshot.statistics(key)[:int(os.environ["HEAP_TOP"])]:
            frame = stat.traceback[0]
            where = frame.filename + (f":{frame.lineno}" if key == "lineno" else "")
            out.write(f"{stat.size} {stat.count} {where}\\n")
    os.replace(OUT + ".tmp", OUT)
signal.signal(signal.SIGUSR2, dump)
from kubedora.cli import main
sys.exit(main(sys.argv[1:]))
"""


def short(filename: str) -> str:
    for marker in ("site-packages/", "operator/", "lib/python3"):
        if marker in filename:
            return filename.split(marker, 1)[1]
    return filename


def profile(run: Run, namespace: str, source: Path, n: int, by: str, top: int) -> list[str]:
    report = run.workdir / f"heap-{os.getpid()}-{time.monotonic_ns()}.txt"
    env = {
        **os.environ,
        "KUBECONFIG": str(run.plane.kubeconfig),
        "PYTHONPATH": str(source),
        "PYTHONTRACEMALLOC": "1",
        "HEAP_REPORT": str(report),
        "HEAP_TOP": str(top),
        "HEAP_BY": by,
        "KUBEDORA_GIT_CACHE_DIR": str(run.workdir / "git-cache"),
    }
    http_address = f"127.0.0.1:{free_port()}"
    command = [sys.executable, "-c", BOOTSTRAP, "operator", "-n", namespace, "--standalone",
               "--http-address", http_address]  # fmt: skip
    log = (run.workdir / f"heap-{source.parent.name}.log").open("wb")
    process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    before = run.status_writes()
    running = functools.partial(alive, process, Path(log.name))

    try:
        poll(lambda: running() and run.counted(namespace, n), timeout=7200, interval=1.0,
             what="the scoreboard to count everything")  # fmt: skip
        url = f"http://{http_address}"
        poll(lambda: running() and run.settled(before + 3 * n, url),
             timeout=7200, interval=1.0, what="the status writes to stop")  # fmt: skip
        process.send_signal(signal.SIGUSR2)
        poll(report.exists, timeout=600, what="the heap report")
        lines = report.read_text().splitlines()
        report.unlink()
    finally:
        process.terminate()
        process.wait(timeout=60)
        log.close()
    current, peak, _ = lines[0].split(" ", 2)
    rows = [f"traced now {int(current) / 2**20:.0f} MiB, traced peak {int(peak) / 2**20:.0f} MiB"]
    for line in lines[1:]:
        size, count, filename = line.split(" ", 2)
        rows.append(f"{int(size) / 2**20:>8.1f} MiB {int(count):>9} blocks  {short(filename)}")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objects", type=int, default=20_000, help="N of each kind")
    parser.add_argument("--source", type=Path, action="append", help="an operator/ directory")
    parser.add_argument("--by", choices=("filename", "lineno"), default="filename",
                        help="group by source file or by line")  # fmt: skip
    parser.add_argument("--top", type=int, default=TOP, help="rows to show")
    args = parser.parse_args()
    sources: list[Path] = args.source or [ROOT / "operator"]
    work = Path(tempfile.mkdtemp(prefix="kubedora-heap-"))
    plane = controlplane.start(work)
    reports: list[tuple[Path, list[str]]] = []
    try:
        run = Run(plane, work, args.objects)
        apply_crds(run.sync_api, sorted((ROOT / "crds").glob("*.kubedora.io.yaml")))
        for source in sources:
            namespace = run.namespace("heap")
            asyncio.run(create_all(plane.kubeconfig, namespace, args.objects))
            run.board(namespace)
            reports.append(
                (source, profile(run, namespace, source, args.objects, args.by, args.top))
            )
    finally:
        plane.stop()
    for source, rows in reports:
        print(f"\n{args.objects} Failures + {args.objects} Deployments, operator from {source}:")
        print("\n".join(rows))


if __name__ == "__main__":
    main()
