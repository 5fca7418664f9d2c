"""DORA performance bands of the four keys, after the State of DevOps
report's clusters (elite, high, medium, low). The thresholds are written
once here; the README and the Grafana dashboard's stat thresholds repeat
them, and a test keeps the three in step."""

from __future__ import annotations

from enum import StrEnum

HOUR = 3600.0
DAY = 24 * HOUR
WEEK = 7 * DAY
MONTH = 30 * DAY


class Band(StrEnum):
    ELITE = "elite"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


# Deployments per day: at least once a day, once a week, once a month.
FREQUENCY_AT_LEAST = ((Band.ELITE, 1.0), (Band.HIGH, 1 / 7), (Band.MEDIUM, 1 / 30))
# Median lead time: under a day, a week, a month.
LEAD_TIME_UNDER = ((Band.ELITE, DAY), (Band.HIGH, WEEK), (Band.MEDIUM, MONTH))
# Change failure rate: at most 5 %, 10 %, 15 %.
CHANGE_FAILURE_RATE_AT_MOST = ((Band.ELITE, 0.05), (Band.HIGH, 0.10), (Band.MEDIUM, 0.15))
# Median time to restore: under an hour, a day, a week.
TIME_TO_RESTORE_UNDER = ((Band.ELITE, HOUR), (Band.HIGH, DAY), (Band.MEDIUM, WEEK))


def frequency_band(per_day: float | None) -> Band | None:
    if per_day is None:
        return None
    return next((band for band, floor in FREQUENCY_AT_LEAST if per_day >= floor), Band.LOW)


def lead_time_band(seconds: float | None) -> Band | None:
    if seconds is None:
        return None
    return next((band for band, limit in LEAD_TIME_UNDER if seconds < limit), Band.LOW)


def change_failure_rate_band(rate: float | None) -> Band | None:
    if rate is None:
        return None
    return next((band for band, limit in CHANGE_FAILURE_RATE_AT_MOST if rate <= limit), Band.LOW)


def time_to_restore_band(seconds: float | None) -> Band | None:
    if seconds is None:
        return None
    return next((band for band, limit in TIME_TO_RESTORE_UNDER if seconds < limit), Band.LOW)
