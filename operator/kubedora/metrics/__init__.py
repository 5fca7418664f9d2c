"""Pure DORA arithmetic: time to restore, change failure rate, the scoreboard.

No I/O: callers hand in facts already read from the cluster."""

from kubedora.metrics.bands import (
    FREQUENCY_AT_LEAST,
    Band,
    change_failure_rate_band,
    frequency_band,
    lead_time_band,
    time_to_restore_band,
)
from kubedora.metrics.bounds import OTHER, bound_rows, busiest
from kubedora.metrics.dora import (
    DeploymentFact,
    FailureFact,
    Scoreboard,
    compute,
    median,
)
from kubedora.metrics.once import SAME_CHANGE_WITHIN, counted_deployments, once, same_change
from kubedora.metrics.restore import (
    Restore,
    effective_state,
    observed_timeline,
    restore_from,
    restore_of,
    timeline_of,
)
from kubedora.metrics.trend import (
    ABSENT,
    TREND_ROWS_PER_DIMENSION,
    Trend,
    compute_trend,
    sparkline,
)
from kubedora.metrics.window import (
    deployments_per_day,
    format_duration,
    format_frequency,
    format_rate,
    format_ratio_percent,
    parse_window,
)

__all__ = [
    "ABSENT",
    "FREQUENCY_AT_LEAST",
    "OTHER",
    "SAME_CHANGE_WITHIN",
    "TREND_ROWS_PER_DIMENSION",
    "Band",
    "DeploymentFact",
    "FailureFact",
    "Restore",
    "Scoreboard",
    "Trend",
    "bound_rows",
    "busiest",
    "change_failure_rate_band",
    "compute",
    "compute_trend",
    "counted_deployments",
    "deployments_per_day",
    "effective_state",
    "format_duration",
    "format_frequency",
    "format_rate",
    "format_ratio_percent",
    "frequency_band",
    "lead_time_band",
    "median",
    "observed_timeline",
    "once",
    "parse_window",
    "restore_from",
    "restore_of",
    "same_change",
    "sparkline",
    "time_to_restore_band",
    "timeline_of",
]
