"""The operator's dashboard page, rendered on the server from figures: no
script, no external stylesheet, font or image, so it works in an air-gapped
cluster. Pure: the HTTP server (handlers/web.py) gathers the inputs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from html import escape

from kubedora.metrics import (
    Band,
    change_failure_rate_band,
    format_duration,
    format_ratio_percent,
    frequency_band,
    lead_time_band,
    parse_window,
    time_to_restore_band,
)
from kubedora.models import DoraSourceSpec, DoraSourceStatus, Figures, TrendPoint
from kubedora.web.charts import Series, chart
from kubedora.web.style import STYLESHEET_PATH


@dataclass(frozen=True, slots=True)
class SourceView:
    name: str
    spec: DoraSourceSpec
    status: DoraSourceStatus


@dataclass(frozen=True, slots=True)
class OpenFailure:
    name: str
    services: tuple[str, ...]
    team: str | None
    env: str | None
    severity: str | None
    started_at: datetime


@dataclass(frozen=True, slots=True)
class RecentDeployment:
    name: str
    service: str
    env: str | None
    version: str | None
    finished_at: datetime


def _count(value: float | None) -> str:
    return "-" if value is None else f"{value:g}"


def _per_day(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}/day"


def _figure(figures: Figures | None, name: str) -> float | None:
    value = getattr(figures, name, None) if figures is not None else None
    return float(value) if isinstance(value, int | float) else None


def _per_day_of(source: SourceView) -> float | None:
    given = _figure(source.status.summary, "deployments_per_day")
    if given is not None or source.status.summary is None:
        return given
    try:
        days = parse_window(source.spec.window).total_seconds() / 86400
    except ValueError:
        return None
    return source.status.summary.deployments / days


def _key(title: str, value: str, band: Band | None, note: str) -> str:
    band_text = band.value if band is not None else "no data"
    css = band.value if band is not None else "none"
    return (
        f'<div class="key"><h3>{escape(title)}</h3>'
        f'<p class="value" data-figure="{escape(title)}">{escape(value)}</p>'
        f'<p class="band band-{css}">DORA band: <strong>{escape(band_text)}</strong></p>'
        f'<p class="note">{escape(note)}</p></div>'
    )


def four_keys(source: SourceView) -> str:
    summary = source.status.summary
    per_day = _per_day_of(source)
    lead = _figure(summary, "median_lead_time_seconds")
    cfr = summary.change_failure_rate if summary else None
    ttr = summary.median_time_to_restore_seconds if summary else None
    deployments = summary.deployments if summary else 0
    failures = summary.failures if summary else 0
    restored = summary.restored_failures if summary else 0
    window = source.spec.window
    return (
        '<div class="keys">'
        + _key(
            "Deployment frequency",
            _per_day(per_day),
            frequency_band(per_day),
            f"{deployments} deployments in {window}",
        )
        + _key(
            "Lead time for changes",
            format_duration(lead) if lead is not None else "-",
            lead_time_band(lead),
            "median" if lead is not None else "not measured",
        )
        + _key(
            "Change failure rate",
            format_ratio_percent(cfr),
            change_failure_rate_band(cfr),
            f"{failures} failures / {deployments} deployments",
        )
        + _key(
            "Time to restore",
            format_duration(ttr),
            time_to_restore_band(ttr),
            f"median of {restored} restored",
        )
        + "</div>"
    )


def trend_charts(points: Sequence[TrendPoint]) -> str:
    if not points:
        return '<p class="empty">Trends are off (spec.trend.buckets is 0).</p>'
    starts = [point.start for point in points]
    series = [
        Series("Deployments", starts, [_value(p.deployments) for p in points], _count),
        Series("Failures", starts, [_value(p.failures) for p in points], _count),
        Series(
            "Change failure rate",
            starts,
            [p.change_failure_rate for p in points],
            format_ratio_percent,
            bars=False,
        ),
        Series(
            "Median time to restore",
            starts,
            [p.median_time_to_restore_seconds for p in points],
            format_duration,
            bars=False,
        ),
    ]
    return '<div class="charts">' + "".join(chart(s) for s in series) + "</div>"


def _value(count: int | None) -> float | None:
    return None if count is None else float(count)


def _cells(cells: Sequence[str]) -> str:
    return "".join(f"<td>{escape(cell)}</td>" for cell in cells)


def breakdown_table(status: DoraSourceStatus) -> str:
    if not status.breakdown:
        return '<p class="empty">Nothing in the window.</p>'
    rows = "".join(
        f'<tr><th scope="row">{escape(row.dimension.value)}: {escape(row.key)}</th>'
        + _cells(
            [
                str(row.deployments),
                str(row.failures),
                str(row.restored_failures),
                format_ratio_percent(row.change_failure_rate),
                format_duration(row.median_time_to_restore_seconds),
            ]
        )
        + "</tr>"
        for row in status.breakdown
    )
    return (
        "<table><caption>By service, team and env, over the window</caption><thead><tr>"
        '<th scope="col">row</th><th scope="col">deployments</th><th scope="col">failures</th>'
        '<th scope="col">restored</th><th scope="col">change failure rate</th>'
        f'<th scope="col">median time to restore</th></tr></thead><tbody>{rows}</tbody></table>'
    )


def _when(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def open_failures_table(failures: Sequence[OpenFailure], now: datetime) -> str:
    if not failures:
        return '<p class="empty">No open failures.</p>'
    rows = "".join(
        f'<tr><th scope="row">{escape(f.name)}</th>'
        + _cells(
            [
                ", ".join(f.services) or "-",
                f.team or "-",
                f.env or "-",
                f.severity or "-",
                _when(f.started_at),
                format_duration(max(0.0, (now - f.started_at).total_seconds())),
            ]
        )
        + "</tr>"
        for f in failures
    )
    return (
        "<table><caption>Open failures, newest first</caption><thead><tr>"
        '<th scope="col">failure</th><th scope="col">services</th><th scope="col">team</th>'
        '<th scope="col">env</th><th scope="col">severity</th><th scope="col">started</th>'
        f'<th scope="col">open for</th></tr></thead><tbody>{rows}</tbody></table>'
    )


def deployments_table(deployments: Sequence[RecentDeployment]) -> str:
    if not deployments:
        return '<p class="empty">No deployments yet.</p>'
    rows = "".join(
        f'<tr><th scope="row">{escape(d.name)}</th>'
        + _cells([d.service, d.env or "-", d.version or "-", _when(d.finished_at)])
        + "</tr>"
        for d in deployments
    )
    return (
        "<table><caption>Newest deployments</caption><thead><tr>"
        '<th scope="col">deployment</th><th scope="col">service</th><th scope="col">env</th>'
        f'<th scope="col">version</th><th scope="col">finished</th></tr></thead>'
        f"<tbody>{rows}</tbody></table>"
    )


def _source_section(source: SourceView) -> str:
    status = source.status
    anchor = f"source-{source.name}"
    window = (
        f"{_when(status.window_start)} to {_when(status.window_end)}"
        if status.window_start and status.window_end
        else "not computed yet"
    )
    bucket = source.spec.trend.bucket if source.spec.trend else "7d"
    return (
        f'<section aria-labelledby="{escape(anchor)}">'
        f'<h2 id="{escape(anchor)}">{escape(source.name)}</h2>'
        f'<p class="meta">Window {escape(source.spec.window)}: {escape(window)}</p>'
        f"{four_keys(source)}"
        f"<h3>Trends, {escape(bucket)} buckets, oldest first</h3>{trend_charts(status.trend)}"
        f"<h3>Breakdown</h3>{breakdown_table(status)}</section>"
    )


def _document(title: str, body: str) -> str:
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="color-scheme" content="light dark">'
        f"<title>{escape(title)}</title>"
        f'<link rel="stylesheet" href="{STYLESHEET_PATH}"></head><body>'
        '<a class="skip" href="#main">Skip to the figures</a>'
        f'<main id="main">{body}</main></body></html>'
    )


def namespace_page(
    namespace: str,
    sources: Sequence[SourceView],
    open_failures: Sequence[OpenFailure],
    deployments: Sequence[RecentDeployment],
    now: datetime,
) -> str:
    """One page per namespace: every DoraSource's four keys, trends and
    breakdown, then the namespace's open failures and newest deployments."""
    nav = "".join(
        f'<li><a href="#source-{escape(s.name)}">{escape(s.name)}</a></li>' for s in sources
    )
    body = (
        f"<header><h1>DORA metrics: {escape(namespace)}</h1>"
        f'<p class="meta">As of {_when(now)}. <a href="/">All namespaces</a></p>'
        f'<nav aria-label="DoraSources"><ul>{nav}</ul></nav></header>'
        + (
            "".join(_source_section(source) for source in sources)
            or '<p class="empty">No DoraSource in this namespace.</p>'
        )
        + '<section aria-labelledby="open"><h2 id="open">Open failures</h2>'
        + open_failures_table(open_failures, now)
        + '</section><section aria-labelledby="newest"><h2 id="newest">Newest deployments</h2>'
        + deployments_table(deployments)
        + "</section>"
    )
    return _document(f"kubedora: {namespace}", body)


def index_page(namespaces: Sequence[tuple[str, int]], now: datetime) -> str:
    """Links to the namespaces that have DoraSources, with how many."""
    items = "".join(
        f'<li><a href="/namespaces/{escape(name)}">{escape(name)}</a> '
        f"({count} DoraSource{'s' if count != 1 else ''})</li>"
        for name, count in namespaces
    )
    body = f'<header><h1>DORA metrics</h1><p class="meta">As of {_when(now)}.</p></header>' + (
        f"<ul>{items}</ul>" if items else '<p class="empty">No DoraSources found.</p>'
    )
    return _document("kubedora", body)
