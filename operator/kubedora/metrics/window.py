"""Window lengths in, human-readable figures out."""

from __future__ import annotations

import math
import re
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal, localcontext

# Same grammar as the CRD's WINDOW_PATTERN; [0-9] rather than \d so that
# non-ASCII digits are refused.
_WINDOW = re.compile(r"([0-9]+w)?([0-9]+d)?([0-9]+h)?([0-9]+m)?([0-9]+s)?")
_UNIT_SECONDS = (7 * 86400, 86400, 3600, 60, 1)


def parse_window(text: str) -> timedelta:
    """Parse "30d", "12h", "1d12h", "90m", "2w" (units in the order w, d, h, m, s)."""
    match = _WINDOW.fullmatch(text)
    if not text or match is None:
        raise ValueError(
            f"invalid window {text!r}: expected whole numbers with units in the order "
            "w, d, h, m, s, for example 30d, 12h or 1d12h"
        )
    seconds = sum(
        int(part[:-1]) * unit
        for part, unit in zip(match.groups(), _UNIT_SECONDS, strict=True)
        if part is not None
    )
    if seconds == 0:
        raise ValueError(f"invalid window {text!r}: the window must be longer than zero")
    try:
        return timedelta(seconds=seconds)
    except OverflowError:
        raise ValueError(f"invalid window {text!r}: too long") from None


def format_duration(seconds: float | None) -> str:
    """Text such as 45s, 1h2m or 1d1h1m; seconds are dropped from an hour on.

    Partial seconds are truncated, so the text never overstates a duration."""
    if seconds is None:
        return "-"
    if not math.isfinite(seconds) or seconds < 0:
        raise ValueError(f"cannot format a duration of {seconds!r} seconds")
    total = int(seconds)
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [(days, "d"), (hours, "h"), (minutes, "m")]
    if total < 3600:
        parts.append((secs, "s"))
    text = "".join(f"{value}{unit}" for value, unit in parts if value)
    return text or "0s"


def format_ratio_percent(ratio: float | None) -> str:
    """Text such as 7.5%, 33.3% or 200%: one decimal, halves rounded up, no ".0" tail."""
    if ratio is None:
        return "-"
    if not math.isfinite(ratio):
        raise ValueError(f"cannot format a ratio of {ratio!r}")
    # Decimal from the shortest repr, so 0.075 rounds as the 7.5 a reader
    # sees rather than as the binary 7.4999...; the precision covers any float.
    with localcontext() as context:
        context.prec = 400
        percent = (Decimal(repr(ratio)) * 100).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    if percent == 0:
        return "0%"
    text = format(percent, "f")
    return f"{text.removesuffix('.0')}%"


def deployments_per_day(deployments: int, window: timedelta) -> float | None:
    """Deployment frequency: deployments / the window's length in days,
    unrounded. None for an empty window (no rate over no time). Its DORA
    band is metrics.bands.frequency_band."""
    days = window.total_seconds() / 86400
    if days <= 0:
        return None
    return deployments / days


def format_rate(per_day: float | None) -> str:
    """Deployments per day as a reader counts them: 3.5/day from one a day
    on, 2.3/week below, 1.2/month below one a week. One decimal, no ".0"."""
    if per_day is None:
        return "-"
    if not math.isfinite(per_day) or per_day < 0:
        raise ValueError(f"cannot format a rate of {per_day!r} per day")
    for scale, unit in ((1, "day"), (7, "week")):
        if per_day * scale >= 1:
            return f"{_one_decimal(per_day * scale)}/{unit}"
    return f"{_one_decimal(per_day * 30)}/month"


def format_frequency(band: object | None, per_day: float | None) -> str:
    """The band and its rate, e.g. `high (2.3/week)`; `-` without a rate."""
    if band is None or per_day is None:
        return "-"
    return f"{band} ({format_rate(per_day)})"


def _one_decimal(value: float) -> str:
    text = f"{value:.1f}"
    return text.removesuffix(".0")
