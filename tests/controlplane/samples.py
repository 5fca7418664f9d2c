"""Print sample Deployments and Failures, timed relative to now, so that the
sample scoreboard of `make run` is never empty however old the checkout is."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import yaml

NOW = datetime.now(UTC).replace(microsecond=0)


def at(days: float = 0, hours: float = 0, minutes: float = 0) -> str:
    moment = NOW - timedelta(days=days, hours=hours, minutes=minutes)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def obj(kind: str, name: str, spec: dict[str, object]) -> dict[str, object]:
    return {
        "apiVersion": "kubedora.io/v1alpha1",
        "kind": kind,
        "metadata": {"name": name, "namespace": "kubedora"},
        "spec": spec,
    }


def main() -> None:
    docs = []
    for i, (service, days) in enumerate(
        [
            ("checkout", 1),
            ("checkout", 3),
            ("checkout", 6),
            ("checkout", 9),
            ("checkout", 14),
            ("checkout", 20),
            ("payments", 2),
            ("payments", 8),
            ("payments", 16),
            ("search", 4),
        ]
    ):
        docs.append(
            obj(
                "Deployment",
                f"{service}-{i}",
                {
                    "service": service,
                    "env": "prod",
                    "version": f"1.{i}.0",
                    "startedAt": at(days=days, minutes=8),
                    "finishedAt": at(days=days),
                },
            )
        )
    docs.append(
        obj(
            "Failure",
            "checkout-latency",
            {
                "services": ["checkout"],
                "team": "shop",
                "env": "prod",
                "severity": "SEV-2",
                "name": "checkout p99 latency above 2s",
                "startedAt": at(days=3, hours=-1),
                "finishedAt": at(days=3, hours=-2),
            },
        )
    )
    docs.append(
        obj(
            "Failure",
            "payments-errors",
            {
                "services": ["payments"],
                "team": "billing",
                "env": "prod",
                "severity": "SEV-1",
                "name": "card payments failing",
                "startedAt": at(days=8, hours=-1),
                "state": "stable",
                "timeline": [
                    {"state": "active", "at": at(days=8, hours=-1)},
                    {"state": "stable", "at": at(days=8, hours=-1, minutes=-25)},
                ],
            },
        )
    )
    docs.append(
        obj(
            "Failure",
            "search-outage",
            {
                "services": ["search"],
                "env": "prod",
                "name": "search index unavailable",
                "startedAt": at(hours=2),
            },
        )
    )
    print(yaml.safe_dump_all(docs, sort_keys=False), end="")


if __name__ == "__main__":
    main()
