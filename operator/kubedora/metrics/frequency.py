"""Deployment frequency: deployments per day over the window, and the DORA
performance band it falls in.

The bands are those of DORA's Accelerate State of DevOps Report 2024
(software delivery performance levels): elite deploys on demand (several
times a day), high between once a day and once a week, medium between once
a week and once a month, low once a month or less. As rates, with a value
on a boundary counted in the faster band:

    elite   per day >= 1
    high    1/7 <= per day < 1
    medium  1/30 <= per day < 1/7
    low     per day < 1/30 (none at all is low too)

The README states the same numbers; a unit test pins both."""

from __future__ import annotations

from datetime import timedelta
from typing import Final

from kubedora.models import DeploymentFrequency

SECONDS_PER_DAY: Final = 86_400.0

# (lowest deployments per day, band), fastest first.
BANDS: Final[tuple[tuple[float, DeploymentFrequency], ...]] = (
    (1.0, DeploymentFrequency.ELITE),
    (1 / 7, DeploymentFrequency.HIGH),
    (1 / 30, DeploymentFrequency.MEDIUM),
)


def deployments_per_day(deployments: int, window: timedelta) -> float | None:
    """Deployments / the window's length in days, unrounded. None for an
    empty window (nothing can be said of a rate over no time)."""
    days = window.total_seconds() / SECONDS_PER_DAY
    if days <= 0:
        return None
    return deployments / days


def frequency_band(per_day: float | None) -> DeploymentFrequency | None:
    if per_day is None:
        return None
    for lowest, band in BANDS:
        if per_day >= lowest:
            return band
    return DeploymentFrequency.LOW
