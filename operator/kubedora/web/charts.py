"""Server-rendered SVG trend charts, each with a text alternative: a title and
a description on the image, and the numbers as a table beside it.

Colours come from the page's stylesheet (classes, no inline style), so the
charts follow the reader's light or dark theme and the page's Content
Security Policy needs no 'unsafe-inline'."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from html import escape

WIDTH, HEIGHT = 360, 140
LEFT, RIGHT, TOP, BOTTOM = 44, 8, 12, 22
_ids = itertools.count(1)


@dataclass(frozen=True, slots=True)
class Series:
    """One figure over the trend buckets, oldest first; None where the
    bucket has no data."""

    title: str
    starts: Sequence[datetime]
    values: Sequence[float | None]
    format: Callable[[float | None], str]
    bars: bool = True  # counts as bars; rates and durations as a line of points


def _day(moment: datetime) -> str:
    return moment.strftime("%b %d")


def _describe(series: Series) -> str:
    present = [(s, v) for s, v in zip(series.starts, series.values, strict=True) if v is not None]
    if not present:
        return f"{series.title}: no data in any of the {len(series.values)} buckets."
    low = min(present, key=lambda item: item[1])
    high = max(present, key=lambda item: item[1])
    newest = series.values[-1]
    return (
        f"{series.title} over {len(series.values)} buckets from {_day(series.starts[0])}: "
        f"lowest {series.format(low[1])} (bucket from {_day(low[0])}), highest "
        f"{series.format(high[1])} (bucket from {_day(high[0])}), newest "
        f"{series.format(newest) if newest is not None else 'no data'}; "
        f"{len(series.values) - len(present)} buckets without data."
    )


def _table(series: Series, caption: str) -> str:
    rows = "".join(
        f'<tr><th scope="row">{escape(start.strftime("%Y-%m-%d"))}</th>'
        f"<td>{escape(series.format(value) if value is not None else 'no data')}</td></tr>"
        for start, value in zip(series.starts, series.values, strict=True)
    )
    return (
        f"<table><caption>{escape(caption)}</caption>"
        f'<thead><tr><th scope="col">bucket start</th><th scope="col">{escape(series.title)}'
        f"</th></tr></thead><tbody>{rows}</tbody></table>"
    )


def chart(series: Series) -> str:
    """A <figure> with the SVG chart, its caption and its data table."""
    number = next(_ids)
    title_id, desc_id = f"chart-{number}-title", f"chart-{number}-desc"
    count = len(series.values)
    present = [v for v in series.values if v is not None]
    top = max(present, default=0.0) or 1.0
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = plot_w / max(count, 1)
    base = TOP + plot_h

    def y(value: float) -> float:
        return base - value / top * plot_h

    marks: list[str] = []
    points: list[tuple[float, float]] = []
    for i, value in enumerate(series.values):
        x = LEFT + i * step
        if value is None:
            # A gap marker: no data is drawn as nothing, not as zero.
            marks.append(
                f'<circle class="gap" cx="{x + step / 2:.1f}" cy="{base - 3:.1f}" r="1.5"/>'
            )
            continue
        label = escape(series.format(value))
        if series.bars:
            height = max(base - y(value), 1.0 if value else 0.0)
            marks.append(
                f'<rect class="bar" x="{x + step * 0.15:.1f}" y="{base - height:.1f}" '
                f'width="{step * 0.7:.1f}" height="{height:.1f}"><title>{label}</title></rect>'
            )
        else:
            points.append((x + step / 2, y(value)))
            marks.append(
                f'<circle class="dot" cx="{x + step / 2:.1f}" cy="{y(value):.1f}" r="3">'
                f"<title>{label}</title></circle>"
            )
    if len(points) > 1:
        path = " ".join(f"{px:.1f},{py:.1f}" for px, py in points)
        marks.insert(0, f'<polyline class="line" points="{path}"/>')
    first = _day(series.starts[0]) if series.starts else ""
    last = _day(series.starts[-1]) if series.starts else ""
    axes = (
        f'<line class="axis" x1="{LEFT}" y1="{base}" x2="{WIDTH - RIGHT}" y2="{base}"/>'
        f'<line class="grid" x1="{LEFT}" y1="{TOP}" x2="{WIDTH - RIGHT}" y2="{TOP}"/>'
        f'<text class="tick" x="{LEFT - 4}" y="{TOP + 4}" text-anchor="end">'
        f"{escape(series.format(top) if present else '')}</text>"
        f'<text class="tick" x="{LEFT - 4}" y="{base}" text-anchor="end">0</text>'
        f'<text class="tick" x="{LEFT}" y="{HEIGHT - 6}">{escape(first)}</text>'
        f'<text class="tick" x="{WIDTH - RIGHT}" y="{HEIGHT - 6}" text-anchor="end">'
        f"{escape(last)}</text>"
    )
    description = _describe(series)
    return (
        f'<figure class="chart"><figcaption>{escape(series.title)}</figcaption>'
        f'<svg viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-labelledby="{title_id} {desc_id}" focusable="false">'
        f'<title id="{title_id}">{escape(series.title)}</title>'
        f'<desc id="{desc_id}">{escape(description)}</desc>'
        f"{axes}{''.join(marks)}</svg>"
        f"<details><summary>{escape(series.title)}: the numbers</summary>"
        f"{_table(series, description)}</details></figure>"
    )
