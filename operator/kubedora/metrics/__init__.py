"""Pure DORA arithmetic: time to restore, change failure rate, the scoreboard.

No I/O: callers hand in facts already read from the cluster."""

from kubedora.metrics.dora import (
    DeploymentFact,
    FailureFact,
    Scoreboard,
    compute,
    median,
)
from kubedora.metrics.frequency import BANDS, deployments_per_day, frequency_band
from kubedora.metrics.once import SAME_CHANGE_WITHIN, once, same_change
from kubedora.metrics.restore import (
    Restore,
    effective_state,
    observed_timeline,
    restore_from,
    restore_of,
    timeline_of,
)
from kubedora.metrics.window import (
    format_duration,
    format_frequency,
    format_rate,
    format_ratio_percent,
    parse_window,
)

__all__ = [
    "BANDS",
    "SAME_CHANGE_WITHIN",
    "DeploymentFact",
    "FailureFact",
    "Restore",
    "Scoreboard",
    "compute",
    "deployments_per_day",
    "effective_state",
    "format_duration",
    "format_frequency",
    "format_rate",
    "format_ratio_percent",
    "frequency_band",
    "median",
    "observed_timeline",
    "once",
    "parse_window",
    "restore_from",
    "restore_of",
    "same_change",
    "timeline_of",
]
