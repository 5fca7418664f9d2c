"""The operator's Prometheus telemetry: the scoreboards as `kubedora_dora_…`
gauges, and the operator's own health.

Gauges of the scoreboards come from the newest scoreboard this replica wrote
(`Boards`); a standby replica writes none, so it exports none, and dashboards
never count a figure twice (README, Monitoring). Breakdown rows are bounded
per dimension (metrics.bound_rows): their keys come from users' data."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from kubedora.metrics import bound_rows, parse_window
from kubedora.models import (
    DEPLOYMENTS,
    FAILURES,
    DoraSourceSpec,
    DoraSourceStatus,
    Figures,
    TrendPoint,
)

# Breakdown rows per dimension exported as labels; the rest fold into
# key="__other__". KUBEDORA_METRICS_ROWS_PER_DIMENSION overrides it.
ROWS_PER_DIMENSION = 20
LAG_BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0)
_PEERING_LOGGER = "kopf._core.engines.peering"


@dataclass(frozen=True, slots=True)
class Board:
    spec: DoraSourceSpec
    status: DoraSourceStatus
    written_at: float  # time.time()
    backfill_failed: bool


def _backfill_failed(raw_status: Mapping[str, Any]) -> bool:
    """A backfill that ended in failure: status.backfill.phase, or the
    BackfillComplete condition with reason Failed (DESIGN, backfill)."""
    backfill = raw_status.get("backfill") or {}
    if isinstance(backfill, Mapping) and backfill.get("phase") == "Failed":
        return True
    return any(
        isinstance(c, Mapping)
        and c.get("type") == "BackfillComplete"
        and c.get("status") == "False"
        and c.get("reason") == "Failed"
        for c in raw_status.get("conditions") or ()
    )


@dataclass
class Boards:
    """The newest scoreboard this replica wrote, per (namespace, name)."""

    entries: dict[tuple[str, str], Board] = field(default_factory=dict)
    write_errors: Counter | None = None

    def put(
        self,
        namespace: str,
        name: str,
        spec: DoraSourceSpec,
        status: DoraSourceStatus,
        raw_status: Mapping[str, Any],
    ) -> None:
        self.entries[namespace, name] = Board(
            spec, status, time.time(), _backfill_failed(raw_status)
        )

    def drop(self, namespace: str, name: str) -> None:
        self.entries.pop((namespace, name), None)

    def write_failed(self, namespace: str, name: str) -> None:
        if self.write_errors is not None:
            self.write_errors.inc()


def _window_days(spec: DoraSourceSpec) -> float | None:
    try:
        return parse_window(spec.window).total_seconds() / 86400
    except ValueError:
        return None


def _per_day(figures: Figures, days: float | None) -> float | None:
    return figures.deployments / days if days else None


# Every figure of the scoreboard is a gauge, kubedora_dora_<name>: the field
# name, except that medians read as the figure first.
_RENAMED = {
    "median_time_to_restore_seconds": "time_to_restore_median_seconds",
    "median_lead_time_seconds": "lead_time_median_seconds",
}


def gauge_suffixes() -> list[tuple[str, str]]:
    """(field of Figures, gauge suffix) for every numeric figure, plus
    deployments_per_day, computed from the window while Figures lacks it."""
    names = [
        (field, _RENAMED.get(field, field))
        for field, info in Figures.model_fields.items()
        if info.annotation in (int, float, int | None, float | None)
    ]
    if "deployments_per_day" not in Figures.model_fields:
        names.append(("deployments_per_day", "deployments_per_day"))
    return names


def _read(figures: Figures, field: str, days: float | None) -> float | None:
    if field == "deployments_per_day" and field not in Figures.model_fields:
        return _per_day(figures, days)
    value = getattr(figures, field, None)
    return float(value) if isinstance(value, int | float) else None


TREND_FIGURES = tuple(name for name in TrendPoint.model_fields if name != "start")


class DoraCollector(Collector):
    """`kubedora_dora_*`, read from Boards at scrape time."""

    def __init__(self, boards: Boards, rows_per_dimension: int = ROWS_PER_DIMENSION) -> None:
        self.boards = boards
        self.rows_per_dimension = rows_per_dimension

    def collect(self) -> Iterator[GaugeMetricFamily]:
        labels = ["namespace", "dorasource", "dimension", "key"]
        suffixes = gauge_suffixes()
        families = {
            figure: GaugeMetricFamily(
                f"kubedora_dora_{suffix}",
                f"The DoraSource's {figure} over its window (summary: dimension and key empty).",
                labels=labels,
            )
            for figure, suffix in suffixes
        }
        trend = {
            name: GaugeMetricFamily(
                f"kubedora_dora_trend_{name}",
                f"{name} per trend bucket (spec.trend); bucket 0 is the newest, 1 the one "
                "before; an empty bucket has no sample.",
                labels=["namespace", "dorasource", "bucket"],
            )
            for name in TREND_FIGURES
        }
        window = GaugeMetricFamily(
            "kubedora_dora_window_seconds",
            "The window of the DoraSource's figures.",
            labels=["namespace", "dorasource"],
        )
        backfill = GaugeMetricFamily(
            "kubedora_backfill_failed",
            "1 when the DoraSource's last backfill failed (status.backfill.phase Failed).",
            labels=["namespace", "dorasource"],
        )
        now = time.time()
        age = GaugeMetricFamily(
            "kubedora_operator_scoreboard_age_seconds",
            "Seconds since this replica last wrote the DoraSource's scoreboard.",
            labels=["namespace", "dorasource"],
        )
        for (namespace, name), board in sorted(self.boards.entries.items()):
            days = _window_days(board.spec)
            rows: list[tuple[str, str, Figures]] = []
            if board.status.summary is not None:
                rows.append(("", "", board.status.summary))
            rows += [
                (row.dimension.value, row.key, row)
                for row in bound_rows(board.status.breakdown, self.rows_per_dimension)
            ]
            for dimension, key, figures in rows:
                for figure, _ in suffixes:
                    value = _read(figures, figure, days)
                    if value is not None:
                        families[figure].add_metric([namespace, name, dimension, key], value)
            points = board.status.trend
            for offset, point in enumerate(reversed(points)):
                for figure in TREND_FIGURES:
                    value = getattr(point, figure)
                    if value is not None:
                        trend[figure].add_metric([namespace, name, str(offset)], value)
            if days is not None:
                window.add_metric([namespace, name], days * 86400)
            backfill.add_metric([namespace, name], 1.0 if board.backfill_failed else 0.0)
            age.add_metric([namespace, name], max(0.0, now - board.written_at))
        yield from families.values()
        yield from trend.values()
        yield from (window, backfill, age)


class PeeringState(logging.Handler):
    """Whether kopf lets this replica work, from kopf's own peering messages
    (kopf exposes no API for it). Standalone replicas are always active. With
    peering, kopf starts paused and says nothing until it resumes ("Resuming
    operations"), so a replica that finds a live peer of higher priority
    never logs "Pausing": it starts as a standby here too."""

    def __init__(self, *, active: bool = True) -> None:
        super().__init__(level=logging.INFO)
        self.active = active
        self.changed_at = time.time()
        self._became_active = asyncio.Event()
        if active:
            self._became_active.set()

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if message.startswith(("Pausing operations", "Pausing all operators")):
            self._set(False)
        elif message.startswith("Resuming operations"):
            self._set(True)

    def _set(self, active: bool) -> None:
        if active != self.active:
            self.active, self.changed_at = active, time.time()
            if active:
                self._became_active.set()
            else:
                self._became_active.clear()

    async def wait_active(self) -> None:
        """Return at once on the active replica; on a standby, once it takes over."""
        await self._became_active.wait()

    def attach(self) -> None:
        logging.getLogger(_PEERING_LOGGER).addHandler(self)

    def detach(self) -> None:
        logging.getLogger(_PEERING_LOGGER).removeHandler(self)


@dataclass(frozen=True)
class InformerState:
    resource: str  # plural.group: services, deployments.apps, failures.kubedora.io
    namespace: str
    synced: Callable[[], bool]


class HealthCollector(Collector):
    """Health read at scrape time: peering state and informer sync."""

    def __init__(self, peering: PeeringState, informers: Callable[[], list[InformerState]]) -> None:
        self.peering = peering
        self.informers = informers

    def collect(self) -> Iterator[GaugeMetricFamily]:
        yield GaugeMetricFamily(
            "kubedora_operator_active",
            "1 on the replica that works (elected through peering, or standalone), 0 on a "
            "standby. Multiply replica-level series by it to count each figure once.",
            value=1.0 if self.peering.active else 0.0,
        )
        yield GaugeMetricFamily(
            "kubedora_operator_peering_changed_timestamp_seconds",
            "When this replica last became active or standby (start time if never).",
            value=self.peering.changed_at,
        )
        synced = GaugeMetricFamily(
            "kubedora_operator_informer_synced",
            "1 once the informer listed its kind and follows the watch; 0 while listing.",
            labels=["resource", "namespace"],
        )
        for state in self.informers():
            synced.add_metric([state.resource, state.namespace], 1.0 if state.synced() else 0.0)
        yield synced


class InformerLag:
    """An informer consumer that measures event lag: from the newest
    managedFields time of an object (when the API server stored the change;
    second precision) to when the watch delivered it."""

    def __init__(self, kind: str, histogram: Histogram) -> None:
        self.observe = histogram.labels(kind).observe

    def upsert(self, uid: str, body: Mapping[str, Any], *, listed: bool) -> None:
        if listed:
            return  # a listing replays history: not lag
        times = [
            entry.get("time")
            for entry in (body.get("metadata") or {}).get("managedFields") or ()
            if isinstance(entry, Mapping) and entry.get("time")
        ]
        if not times:
            return
        try:
            changed = max(datetime.fromisoformat(str(t).replace("Z", "+00:00")) for t in times)
        except ValueError:
            return
        self.observe(max(0.0, time.time() - changed.timestamp()))

    def delete(self, uid: str, body: Mapping[str, Any]) -> None:
        return

    def retain(self, uids: object) -> None:
        return


@dataclass
class Telemetry:
    """Every metric the operator serves on --http-address, in its own registry."""

    registry: CollectorRegistry
    boards: Boards
    peering: PeeringState
    reconciles: Counter
    reconcile_errors: Counter
    in_flight: Gauge
    event_lag: Histogram
    waiting: Gauge

    @contextlib.contextmanager
    def reconciling(self, kind: str) -> Iterator[None]:
        """Count one handler run of `kind`, and its error if it raises."""
        self.reconciles.labels(kind).inc()
        running = self.in_flight.labels(kind)
        running.inc()
        try:
            yield
        except Exception:
            self.reconcile_errors.labels(kind).inc()
            raise
        finally:
            running.dec()

    @classmethod
    def create(
        cls,
        informers: Callable[[], list[InformerState]],
        *,
        worker_limit: int,
        rows_per_dimension: int = ROWS_PER_DIMENSION,
        peering: bool = False,
    ) -> Telemetry:
        registry = CollectorRegistry()
        write_errors = Counter(
            "kubedora_operator_scoreboard_write_errors",
            "Scoreboard writes that failed and were retried.",
            registry=registry,
        )
        boards = Boards(write_errors=write_errors)
        peering_state = PeeringState(active=not peering)
        registry.register(DoraCollector(boards, rows_per_dimension))
        registry.register(HealthCollector(peering_state, informers))
        limit = Gauge(
            "kubedora_operator_worker_limit",
            "Status writes in flight at most (KUBEDORA_WORKER_LIMIT).",
            registry=registry,
        )
        limit.set(worker_limit)
        telemetry = cls(
            registry=registry,
            boards=boards,
            peering=peering_state,
            reconciles=Counter(
                "kubedora_operator_reconciles",
                "Status writes (with their Events) for Failures and Deployments, by kind.",
                ["kind"],
                registry=registry,
            ),
            reconcile_errors=Counter(
                "kubedora_operator_reconcile_errors",
                "Status writes that failed (retried with a growing delay), by kind.",
                ["kind"],
                registry=registry,
            ),
            in_flight=Gauge(
                "kubedora_operator_handlers_in_flight",
                "Status writes running now, by kind; at the worker limit, further objects wait.",
                ["kind"],
                registry=registry,
            ),
            waiting=Gauge(
                "kubedora_operator_status_waiting",
                "Failures and Deployments whose status is still to be written.",
                registry=registry,
            ),
            event_lag=Histogram(
                "kubedora_operator_informer_event_lag_seconds",
                "From a change stored in the API server to the operator's informer seeing it.",
                ["kind"],
                buckets=LAG_BUCKETS,
                registry=registry,
            ),
        )
        # Every kind's series from the start: no errors reads as 0, not as no data.
        for kind in (FAILURES.kind, DEPLOYMENTS.kind):
            telemetry.reconciles.labels(kind)
            telemetry.reconcile_errors.labels(kind)
            telemetry.in_flight.labels(kind)
        return telemetry
