"""Pure DORA arithmetic: time to restore, change failure rate, lead time,
change failures detected in deployments, the scoreboard.

No I/O: callers hand in facts already read from the cluster."""

from kubedora.metrics.bands import (
    Band,
    change_failure_rate_band,
    frequency_band,
    lead_time_band,
    time_to_restore_band,
)
from kubedora.metrics.bounds import OTHER, bound_rows, busiest
from kubedora.metrics.changes import (
    CompiledRule,
    Shipment,
    Verdict,
    compile_rules,
    detect,
    same_change,
)
from kubedora.metrics.dora import (
    ChangeSettings,
    DeploymentFact,
    FailureFact,
    Scoreboard,
    compute,
    judge,
    median,
    shipment_of,
)
from kubedora.metrics.leadtime import (
    MAX_COMMITS,
    MAX_PREVIOUS_AGE,
    Commit,
    Unavailable,
    commit_lead_times,
    previous_too_old,
    shipped,
    summarize,
    too_many,
)
from kubedora.metrics.linking import (
    DEFAULT_ATTRIBUTION_WINDOW,
    Finished,
    linked_deployment,
    timelines,
)
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
from kubedora.metrics.window import format_duration, format_ratio_percent, parse_window

__all__ = [
    "ABSENT",
    "DEFAULT_ATTRIBUTION_WINDOW",
    "MAX_COMMITS",
    "MAX_PREVIOUS_AGE",
    "OTHER",
    "TREND_ROWS_PER_DIMENSION",
    "Band",
    "ChangeSettings",
    "Commit",
    "CompiledRule",
    "DeploymentFact",
    "FailureFact",
    "Finished",
    "Restore",
    "Scoreboard",
    "Shipment",
    "Trend",
    "Unavailable",
    "Verdict",
    "bound_rows",
    "busiest",
    "change_failure_rate_band",
    "commit_lead_times",
    "compile_rules",
    "compute",
    "compute_trend",
    "detect",
    "effective_state",
    "format_duration",
    "format_ratio_percent",
    "frequency_band",
    "judge",
    "lead_time_band",
    "linked_deployment",
    "median",
    "observed_timeline",
    "parse_window",
    "previous_too_old",
    "restore_from",
    "restore_of",
    "same_change",
    "shipment_of",
    "shipped",
    "sparkline",
    "summarize",
    "time_to_restore_band",
    "timeline_of",
    "timelines",
    "too_many",
]
