"""manifests/monitoring: an optional kustomize component whose Grafana stat
thresholds are the DORA bands of metrics/bands.py, as the README states them.
(The expressions themselves are checked against a real Prometheus in
tests/integration/test_monitoring.py.)"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from kubedora.metrics import bands

ROOT = Path(__file__).resolve().parents[2]
MONITORING = ROOT / "manifests" / "monitoring"


def dashboard() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((MONITORING / "grafana-dashboard.json").read_text())
    return data


def stat(title: str) -> dict[str, Any]:
    (panel,) = [p for p in dashboard()["panels"] if p["title"] == title]
    found: dict[str, Any] = panel
    return found


def steps(title: str) -> list[tuple[str, float | None]]:
    thresholds = stat(title)["fieldConfig"]["defaults"]["thresholds"]["steps"]
    return [(step["color"], step["value"]) for step in thresholds]


def test_the_component_ships_what_the_readme_names() -> None:
    kustomization = yaml.safe_load((MONITORING / "kustomization.yaml").read_text())
    assert kustomization["kind"] == "Component"
    (generator,) = kustomization["configMapGenerator"]
    assert generator["options"]["labels"] == {"grafana_dashboard": "1"}
    kinds = {
        yaml.safe_load((MONITORING / name).read_text())["kind"]
        for name in kustomization["resources"]
    }
    assert kinds == {"Service", "ServiceMonitor", "PrometheusRule"}


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        (
            "Deployment frequency",
            [
                ("red", None),
                *[
                    (colour, floor)
                    for colour, (_, floor) in zip(
                        ("green", "blue", "yellow"), bands.FREQUENCY_AT_LEAST, strict=True
                    )
                ][::-1],
            ],
        ),
        (
            "Lead time for changes",
            [("green", None)]
            + [
                (colour, limit)
                for colour, (_, limit) in zip(
                    ("blue", "yellow", "red"), bands.LEAD_TIME_UNDER, strict=True
                )
            ],
        ),
        (
            "Time to restore",
            [("green", None)]
            + [
                (colour, limit)
                for colour, (_, limit) in zip(
                    ("blue", "yellow", "red"), bands.TIME_TO_RESTORE_UNDER, strict=True
                )
            ],
        ),
    ],
)
def test_stat_thresholds_are_the_bands(title: str, expected: list[tuple[str, float]]) -> None:
    got = steps(title)
    assert [colour for colour, _ in got] == [colour for colour, _ in expected]
    for (_, value), (_, want) in zip(got, expected, strict=True):
        assert value == pytest.approx(want)


def test_change_failure_rate_thresholds_start_just_above_each_band() -> None:
    # Grafana colours a value at or above a step; a rate of exactly 5 % is elite.
    got = steps("Change failure rate")
    limits = [limit for _, limit in bands.CHANGE_FAILURE_RATE_AT_MOST]
    assert [colour for colour, _ in got] == ["green", "blue", "yellow", "red"]
    for (_, value), limit in zip(got[1:], limits, strict=True):
        assert value is not None
        assert limit < value < limit + 1e-5


def test_the_readme_states_the_same_bands() -> None:
    readme = (ROOT / "README.md").read_text()
    assert "| deployment frequency (per day) | ≥ 1 | ≥ 1/7 | ≥ 1/30 | below |" in readme
    assert "| lead time for changes (median) | < 1 day | < 1 week | < 30 days | longer |" in readme
    assert "| change failure rate | ≤ 5 % | ≤ 10 % | ≤ 15 % | above |" in readme
    assert "| time to restore (median) | < 1 hour | < 1 day | < 1 week | longer |" in readme
    assert bands.MONTH == 30 * bands.DAY
