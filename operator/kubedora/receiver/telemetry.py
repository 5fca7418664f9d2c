"""The receiver's Prometheus counters and its JSON log lines.

Log lines are one object per line, with the ids that tie a line to a
delivery (event id, incident id, object name). Headers are never logged:
they carry the API keys."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from prometheus_client import CollectorRegistry, Counter, Histogram

from kubedora.ingest import flux
from kubedora.ingest.pagerduty import HANDLED_EVENTS

# Up to PagerDuty's 5 s patience, and a little beyond.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_KNOWN_TYPES = (
    HANDLED_EVENTS
    | {"pagey.ping", "dora_failure", "dora_deployment"}
    | flux.SUCCEEDED
    | flux.FAILED
    | {"sync.Succeeded", "sync.Failed", "sync.Error", "sync.Running"}
)


@dataclass(frozen=True)
class Telemetry:
    requests: Counter
    latency: Histogram
    events: Counter
    conflicts: Counter

    @classmethod
    def register(cls, registry: CollectorRegistry) -> Telemetry:
        return cls(
            requests=Counter(
                "kubedora_receiver_requests",
                "HTTP requests answered by the receiver, by route and status code.",
                ["route", "code"],
                registry=registry,
            ),
            latency=Histogram(
                "kubedora_receiver_request_duration_seconds",
                "Time from request to answer, by route.",
                ["route"],
                buckets=LATENCY_BUCKETS,
                registry=registry,
            ),
            events=Counter(
                "kubedora_receiver_events",
                "Authenticated events, by source, event type and outcome "
                "(created, updated, unchanged, skipped, ignored, invalid, unavailable, failed).",
                ["source", "type", "outcome"],
                registry=registry,
            ),
            conflicts=Counter(
                "kubedora_receiver_write_conflicts",
                "Writes retried because another writer changed the object first.",
                ["kind"],
                registry=registry,
            ),
        )

    def event(self, source: str, event_type: str, outcome: str) -> None:
        # Event types come from senders: unknown ones share one label value.
        label = event_type if event_type in _KNOWN_TYPES else "other"
        self.events.labels(source, label, outcome).inc()


# `extra=` keys that are copied into the line when present.
FIELDS = (
    "event_id",
    "event_type",
    "incident_id",
    "failure",
    "deployment",
    "outcome",
    "conflicts",
    "dorasource",
    "env",
    "route",
    "status",
    "detail",
    "object",
    "app",
    "revision",
)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for field in FIELDS:
            value = record.__dict__.get(field)
            if value is not None:
                line[field] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


def configure_logs(level: int = logging.INFO) -> None:
    """Send the receiver's and aiohttp's logs to stderr as JSON lines."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    for name in ("kubedora.receiver", "aiohttp"):
        logger = logging.getLogger(name)
        logger.handlers[:] = [handler]
        logger.setLevel(level)
        logger.propagate = False
