"""PagerDuty history backfill: its settings on a DoraSource and the progress
it reports in the DoraSource's status."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field

from kubedora.models.base import KubeModel, Timestamp

# Go-style durations with days and weeks, as DoraSource windows: 730d, 104w.
LOOKBACK_PATTERN = r"^([0-9]+w)?([0-9]+d)?([0-9]+h)?([0-9]+m)?([0-9]+s)?$"
DEFAULT_API_URL = "https://api.pagerduty.com"
DEFAULT_LOOKBACK = "730d"
# The condition a DoraSource carries while a backfill is configured.
BACKFILL_COMPLETE = "BackfillComplete"


class BackfillSettings(KubeModel):
    """Read PagerDuty's incident history once, `lookback` back from the start."""

    lookback: str = Field(
        default=DEFAULT_LOOKBACK,
        pattern=LOOKBACK_PATTERN,
        min_length=2,
        description="How far back to read PagerDuty incidents, e.g. 730d, 90d, 26w.",
    )


class BackfillPhase(StrEnum):
    PENDING = "Pending"
    RUNNING = "Running"
    SUCCEEDED = "Succeeded"
    FAILED = "Failed"


class BackfillStatus(KubeModel):
    """Where a backfill stands. `coveredUntil` moves only past incidents
    already written, so a restarted operator resumes from there."""

    phase: BackfillPhase = BackfillPhase.PENDING
    from_: Timestamp | None = Field(
        default=None, alias="from", description="The oldest moment read (start minus lookback)."
    )
    to: Timestamp | None = Field(default=None, description="The start of the run: read up to it.")
    covered_until: Timestamp | None = Field(
        default=None, description="Every incident created before this is written."
    )
    incidents: int = Field(default=0, ge=0, description="Incidents written so far.")
    requests: int = Field(default=0, ge=0, description="Requests sent to PagerDuty so far.")
    throttled: int = Field(default=0, ge=0, description="Requests PagerDuty answered 429.")
    started_at: Timestamp | None = None
    completed_at: Timestamp | None = None
    message: str = ""

    def progress(self) -> float | None:
        """The fraction of [from, to] covered, or None before the range is known."""
        if self.from_ is None or self.to is None or self.to <= self.from_:
            return None
        covered = self.covered_until or self.from_
        done = (covered - self.from_) / (self.to - self.from_)
        return min(1.0, max(0.0, done))
