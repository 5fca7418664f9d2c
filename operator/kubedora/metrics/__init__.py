"""Pure DORA arithmetic: time to restore, change failure rate, lead time,
change failures detected in deployments, the scoreboard.

No I/O: callers hand in facts already read from the cluster."""

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
from kubedora.metrics.window import format_duration, format_ratio_percent, parse_window

__all__ = [
    "DEFAULT_ATTRIBUTION_WINDOW",
    "MAX_COMMITS",
    "MAX_PREVIOUS_AGE",
    "ChangeSettings",
    "Commit",
    "CompiledRule",
    "DeploymentFact",
    "FailureFact",
    "Finished",
    "Restore",
    "Scoreboard",
    "Shipment",
    "Unavailable",
    "Verdict",
    "commit_lead_times",
    "compile_rules",
    "compute",
    "detect",
    "effective_state",
    "format_duration",
    "format_ratio_percent",
    "judge",
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
    "summarize",
    "timeline_of",
    "timelines",
    "too_many",
]
