"""`make run`'s git-backed history: create a small repository with commits
dated relative to now, serve it over smart HTTP on loopback (git
http-backend, as the tests do), and print the Deployments that shipped it,
so the sample scoreboard shows a lead time and a rollback.

Usage: python hack/git_history.py DIR OUT.yaml
Writes OUT.yaml once the server listens, then serves until SIGTERM/SIGINT."""

from __future__ import annotations

import shutil
import signal
import sys
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.gitserver import WorkTree, serving  # noqa: E402

SERVICE = "storefront"


def deployment(name: str, version: str, url: str, commit: str, finished: datetime) -> Any:
    return {
        "apiVersion": "kubedora.io/v1alpha1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "service": SERVICE,
            "env": "prod",
            "team": "shop",
            "version": version,
            "startedAt": (finished - timedelta(minutes=6)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "finishedAt": finished.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "git": {"repositoryUrl": url, "commitSha": commit},
        },
    }


def main(directory: Path, out: Path) -> None:
    shutil.rmtree(directory, ignore_errors=True)
    now = datetime.now(UTC).replace(microsecond=0)

    def ago(hours: float) -> datetime:
        return now - timedelta(hours=hours)

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    with serving(directory / "served") as server:
        server.bare(SERVICE)
        url = server.url(SERVICE)
        tree = WorkTree(directory / "work", url)
        first = tree.commit("Storefront skeleton", ago(100))
        tree.commit("Add the product page", ago(75))
        tree.commit("Cache product images", ago(60))
        second = tree.commit("Show stock levels", ago(52))
        third = tree.commit("New checkout button", ago(28))
        tree.push()
        docs = [
            deployment("storefront-1", "2.0.0", url, first, ago(96)),
            deployment("storefront-2", "2.1.0", url, second, ago(48)),
            deployment("storefront-3", "2.2.0", url, third, ago(24)),
            # Back to 2.1.0: a rollback, so 2.2.0 was a change failure.
            deployment("storefront-4", "2.1.0", url, second, ago(20)),
        ]
        partial = out.with_suffix(".partial")
        partial.write_text(
            yaml.safe_dump({"host": server.address})
            + "---\n"
            + yaml.safe_dump_all(docs, sort_keys=False)
        )
        partial.rename(out)
        # Short waits: a signal handler runs between them, never inside one.
        while not stop.wait(0.5):
            pass


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
