"""Deployment frequency: per day, unrounded, and its DORA band, whose
thresholds the README states and this test pins."""

from __future__ import annotations

import re
from datetime import timedelta
from fractions import Fraction
from pathlib import Path

import pytest

from kubedora.metrics import (
    FREQUENCY_AT_LEAST,
    Band,
    deployments_per_day,
    format_frequency,
    frequency_band,
)

README = Path(__file__).resolve().parents[3] / "README.md"
DAY = timedelta(days=1)


def test_per_day_is_deployments_over_window_days_unrounded() -> None:
    assert deployments_per_day(7, timedelta(days=30)) == 7 / 30
    assert deployments_per_day(3, timedelta(hours=12)) == 6.0
    assert deployments_per_day(0, timedelta(days=30)) == 0.0


def test_an_empty_window_has_no_rate() -> None:
    assert deployments_per_day(3, timedelta(0)) is None
    assert frequency_band(None) is None


@pytest.mark.parametrize(
    ("per_day", "band"),
    [
        (5.0, Band.ELITE),
        (1.0, Band.ELITE),
        (0.999, Band.HIGH),
        (1 / 7, Band.HIGH),
        (1 / 7 - 1e-9, Band.MEDIUM),
        (1 / 30, Band.MEDIUM),
        (1 / 30 - 1e-9, Band.LOW),
        (0.0, Band.LOW),
    ],
)
def test_bands_and_their_edges(per_day: float, band: Band) -> None:
    assert frequency_band(per_day) == band


def test_thirty_deployments_in_thirty_days_is_elite_and_twenty_nine_is_high() -> None:
    window = timedelta(days=30)
    assert frequency_band(deployments_per_day(30, window)) == Band.ELITE
    assert frequency_band(deployments_per_day(29, window)) == Band.HIGH
    assert frequency_band(deployments_per_day(1, window)) == Band.MEDIUM


def _readme_thresholds() -> dict[str, Fraction]:
    """`| \\`high\\` | from 1/7 … |` rows of the README's band table."""
    found = {}
    row = re.compile(r"^\s*\| `(elite|high|medium)` \| (?:from )?(\d+(?:/\d+)?) ", re.MULTILINE)
    for band, lowest in row.findall(README.read_text()):
        found[band] = Fraction(lowest)
    return found


def test_the_readme_states_the_thresholds_the_code_uses() -> None:
    code = {
        band.value: Fraction(lowest).limit_denominator(1000) for band, lowest in FREQUENCY_AT_LEAST
    }
    assert _readme_thresholds() == code
    assert "| `low` | below 1/30 " in README.read_text()


def test_the_printer_column_text() -> None:
    assert format_frequency(Band.HIGH, 2 / 7) == "high (2/week)"
    assert format_frequency(Band.ELITE, 3.25) == "elite (3.2/day)"
    assert format_frequency(Band.LOW, 1 / 60) == "low (0.5/month)"
    assert format_frequency(None, None) == "-"
