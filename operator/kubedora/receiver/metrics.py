"""Prometheus metrics of the receiver."""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Histogram

from kubedora.receiver.pagerduty import HANDLED_EVENTS

# Up to PagerDuty's 5 s patience, and a little beyond.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_KNOWN_TYPES = HANDLED_EVENTS | {"pagey.ping", "dora_failure", "dora_deployment"}


@dataclass(frozen=True)
class ReceiverMetrics:
    requests: Counter
    latency: Histogram
    events: Counter
    conflicts: Counter

    @classmethod
    def register(cls, registry: CollectorRegistry) -> ReceiverMetrics:
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
