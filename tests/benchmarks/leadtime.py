"""Lead time for a deployment of 5,000 commits in a 100,000-commit
repository: the operator's git cache against a real git server on loopback
(git http-backend), cold (clone) and warm (history already cached), next to
the bare `git rev-list --count` of the same range on the server's own copy,
measured in the same run.

    .venv/bin/python -m tests.benchmarks.leadtime [--commits 100000] [--shipped 5000]

Prints the times, the cache's size on disk (and the served repository's for
comparison), and peak memory: this process's (the operator's cache code)
and its git children's."""

from __future__ import annotations

import argparse
import asyncio
import resource
import subprocess
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from kubedora.git.access import parse
from kubedora.git.cache import RepositoryCache
from kubedora.metrics import MAX_COMMITS, commit_lead_times, summarize
from tests.support.gitserver import CLEAN_GIT, fast_import, serving


def directory_bytes(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def rss_now() -> int:
    """This process's resident set now (VmRSS), in bytes."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def mib(size: float) -> str:
    return f"{size / 1024 / 1024:.1f} MiB"


async def measure(commits: int, shipped: int, root: Path) -> list[tuple[str, str, str]]:
    # The setup and the reference run git synchronously, before anything is timed
    # in the event loop; only the cache under test runs async.
    with serving(root / "served") as server:
        served = server.bare("big")
        started = time.perf_counter()
        shas = fast_import(served, commits, start=datetime(2025, 1, 1, tzinfo=UTC), files=200)
        subprocess.run(["git", "gc", "--quiet"], cwd=served, check=True, env=CLEAN_GIT)  # noqa: ASYNC221
        generated = time.perf_counter() - started
        base, head = shas[-shipped - 1], shas[-1]
        finished = datetime.now(UTC)

        started = time.perf_counter()
        count = subprocess.run(  # noqa: ASYNC221
            ["git", "rev-list", "--count", f"{base}..{head}"],
            cwd=served,
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
        reference = time.perf_counter() - started
        assert int(count) == shipped, count

        cache = RepositoryCache(root / "cache", max_bytes=1 << 34)
        repository = parse(server.url("big"))

        async def lead() -> float:
            begun = time.perf_counter()
            found = await cache.commits(repository, head=head, base=base, limit=MAX_COMMITS)
            assert found.count == shipped, found.count
            assert summarize(commit_lead_times(found.commit_times, finished)) is not None
            return time.perf_counter() - begun

        before = rss_now()
        cold = await lead()
        warm = min([await lead() for _ in range(3)])
        after = rss_now()
        cache_bytes = directory_bytes(root / "cache")
        served_bytes = directory_bytes(served)
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
    return [
        ("repository", f"{commits:,} commits, 200 files", f"generated in {generated:.1f}s"),
        ("reference: git rev-list --count (server copy)", f"{reference * 1000:.0f} ms", "1.0x"),
        (
            "lead time, cold cache (clone + rev-list)",
            f"{cold * 1000:.0f} ms",
            f"{cold / reference:.1f}x",
        ),
        ("lead time, warm cache (rev-list)", f"{warm * 1000:.0f} ms", f"{warm / reference:.1f}x"),
        ("cache on disk (blobless)", mib(cache_bytes), f"{cache_bytes / served_bytes:.2f}x served"),
        ("served repository on disk (full)", mib(served_bytes), "1.0x"),
        ("RSS before / after, cache + in-process server", f"{mib(before)} / {mib(after)}", ""),
        ("peak RSS of this process (repo generation too)", mib(own), ""),
        ("peak RSS of a git child (generation, server too)", mib(children), ""),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--commits", type=int, default=100_000)
    parser.add_argument("--shipped", type=int, default=5_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        rows = asyncio.run(measure(args.commits, args.shipped, Path(scratch)))
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    print(f"lead time for {args.shipped:,} shipped commits")
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))


if __name__ == "__main__":
    main()
