"""The dashboard page and its charts, rendered without a server."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from xml.etree import ElementTree

from kubedora.metrics import format_duration, format_ratio_percent
from kubedora.models import (
    BreakdownRow,
    Dimension,
    DoraSourceSpec,
    DoraSourceStatus,
    Figures,
    TrendPoint,
)
from kubedora.web.charts import Series, chart
from kubedora.web.page import OpenFailure, RecentDeployment, SourceView, index_page, namespace_page

NOW = datetime(2026, 11, 30, tzinfo=UTC)
WEEK = timedelta(days=7)
STARTS = [NOW - WEEK * (4 - i) for i in range(4)]


def points() -> list[TrendPoint]:
    return [
        TrendPoint(start=STARTS[0], deployments=2, failures=1, restored_failures=1,
                   change_failure_rate=0.5, median_time_to_restore_seconds=600.0),
        TrendPoint(start=STARTS[1]),
        TrendPoint(start=STARTS[2], deployments=0, failures=1, restored_failures=0),
        TrendPoint(start=STARTS[3], deployments=4, failures=0, restored_failures=0,
                   change_failure_rate=0.0),
    ]  # fmt: skip


def source() -> SourceView:
    status = DoraSourceStatus(
        window_start=NOW - timedelta(days=30),
        window_end=NOW,
        summary=Figures(
            deployments=30,
            failures=3,
            restored_failures=2,
            change_failure_rate=0.1,
            median_time_to_restore_seconds=1800.0,
        ),
        breakdown=[
            BreakdownRow(dimension=Dimension.SERVICE, key="<checkout>", deployments=30, failures=3)
        ],
        trend=points(),
    )
    return SourceView(name="production", spec=DoraSourceSpec(), status=status)


def render() -> str:
    failures = [OpenFailure("f1", ("checkout",), "shop", "prod", "SEV-1", NOW - timedelta(hours=2))]
    deployments = [RecentDeployment("d1", "checkout", "prod", "1.2.3", NOW - timedelta(hours=1))]
    return namespace_page("shop", [source()], failures, deployments, NOW)


def test_four_keys_with_their_bands() -> None:
    page = render()
    figures = dict(re.findall(r'data-figure="([^"]+)">([^<]*)<', page))
    assert figures == {
        "Deployment frequency": "1.00/day",  # 30 in 30 days
        "Lead time for changes": "-",
        "Change failure rate": "10%",
        "Time to restore": "30m",
    }
    bands = re.findall(r'class="band band-(\w+)"', page)
    assert bands == ["elite", "none", "high", "elite"]


def test_charts_are_images_with_text_alternatives_and_gaps() -> None:
    svg = chart(Series("Deployments", STARTS, [2.0, None, 0.0, 4.0], lambda v: f"{v:g}"))
    match = re.search(r"<svg .*?</svg>", svg)
    assert match is not None
    root = ElementTree.fromstring(match.group(0).replace('xmlns="', 'x="'))  # well-formed
    assert root.get("role") == "img"
    heights = [rect.get("height") for rect in root.findall("rect")]
    assert len(heights) == 3  # 2, 0 and 4: zero is a flat bar, no data is none
    assert heights[1] == "0.0"
    assert len(root.findall("circle")) == 1  # the gap marker of the empty bucket
    assert "1 buckets without data" in svg
    assert "<table>" in svg
    assert "no data" in svg  # the table says so, instead of a 0


def test_line_charts_for_rates() -> None:
    svg = chart(
        Series("Change failure rate", STARTS, [0.5, None, None, 0.0], format_ratio_percent, False)
    )
    assert svg.count('class="dot"') == 2
    assert "<polyline" in svg
    assert "highest 50%" in svg


def test_user_text_is_escaped() -> None:
    page = render()
    assert "<checkout>" not in page
    assert "&lt;checkout&gt;" in page


def test_no_script_no_external_resource() -> None:
    page = render() + index_page([("shop", 2)], NOW)
    assert "<script" not in page
    assert re.findall(r'(?:href|src)="([^"#]+)"', page) == [
        "/kubedora.css",
        "/",
        "/kubedora.css",
        "/namespaces/shop",
    ]
    assert 'lang="en"' in page
    assert 'class="skip" href="#main"' in page


def test_lists_and_empty_states() -> None:
    page = render()
    assert "f1" in page
    assert format_duration(7200) in page  # open for 2h
    assert "1.2.3" in page
    empty = namespace_page("shop", [], [], [], NOW)
    assert "No DoraSource in this namespace." in empty
    assert "No open failures." in empty
    assert "No deployments yet." in empty
