"""Print manifests/samples/history.yaml with every timestamp shifted so that
the latest lands an hour ago: the sample scoreboard of `make run` is never
empty, however old the checkout."""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

HISTORY = Path(__file__).resolve().parents[1] / "manifests" / "samples" / "history.yaml"
TIME_FIELDS = ("startedAt", "finishedAt", "at")


def parse(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def walk(node: Any, visit: Any) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            if key in TIME_FIELDS and isinstance(value, str):
                node[key] = visit(value)
            else:
                walk(value, visit)
    elif isinstance(node, list):
        for item in node:
            walk(item, visit)


def main() -> None:
    docs = [doc for doc in yaml.safe_load_all(HISTORY.read_text()) if doc]
    stamps: list[datetime] = []

    def collect(text: str) -> str:
        stamps.append(parse(text))
        return text

    walk(docs, collect)
    shift = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1) - max(stamps)
    walk(docs, lambda text: (parse(text) + shift).strftime("%Y-%m-%dT%H:%M:%SZ"))
    yaml.safe_dump_all(docs, sys.stdout, sort_keys=False)


if __name__ == "__main__":
    main()
