"""Pure DORA arithmetic: time to restore, change failure rate, the scoreboard.

No I/O: callers hand in facts already read from the cluster."""

from kubedora.metrics.dora import (
    DeploymentFact,
    FailureFact,
    Scoreboard,
    compute,
    median,
)
from kubedora.metrics.restore import (
    Restore,
    effective_state,
    observed_timeline,
    restore_from,
    restore_of,
    timeline_of,
)
from kubedora.metrics.window import format_duration, format_ratio_percent, parse_window

__all__ = [
    "DeploymentFact",
    "FailureFact",
    "Restore",
    "Scoreboard",
    "compute",
    "effective_state",
    "format_duration",
    "format_ratio_percent",
    "median",
    "observed_timeline",
    "parse_window",
    "restore_from",
    "restore_of",
    "timeline_of",
]
