"""Window parsing and the printer-column texts."""

from __future__ import annotations

from datetime import timedelta

import pytest

from kubedora.metrics import format_duration, format_ratio_percent, parse_window


class TestParseWindow:
    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("30d", timedelta(days=30)),
            ("7d", timedelta(days=7)),
            ("12h", timedelta(hours=12)),
            ("1d12h", timedelta(days=1, hours=12)),
            ("90m", timedelta(minutes=90)),
            ("2w", timedelta(weeks=2)),
            ("45s", timedelta(seconds=45)),
            ("1w2d3h4m5s", timedelta(weeks=1, days=2, hours=3, minutes=4, seconds=5)),
            ("0d1h", timedelta(hours=1)),
        ],
    )
    def test_accepts_units_in_order(self, text: str, expected: timedelta) -> None:
        assert parse_window(text) == expected

    @pytest.mark.parametrize(
        "text",
        [
            "",
            "0d",
            "0w0d0h0m0s",
            "-1d",
            "1.5d",
            "30",
            "d",
            "3y",
            "12h1d",
            "1d1d",
            " 30d",
            "30d ",
            "30D",
            "+30d",
            "٣d",  # an Arabic-Indic digit three
        ],
    )
    def test_rejects_anything_else(self, text: str) -> None:
        with pytest.raises(ValueError, match="invalid window"):
            parse_window(text)

    def test_rejects_a_window_too_long_to_represent(self) -> None:
        with pytest.raises(ValueError, match="too long"):
            parse_window("99999999999w")


class TestFormatDuration:
    @pytest.mark.parametrize(
        ("seconds", "expected"),
        [
            (None, "-"),
            (0, "0s"),
            (0.4, "0s"),
            (45, "45s"),
            (45.9, "45s"),
            (60, "1m"),
            (61, "1m1s"),
            (3599, "59m59s"),
            (3600, "1h"),
            (3659, "1h"),
            (3720, "1h2m"),
            (86400, "1d"),
            (90061, "1d1h1m"),
            (86400 * 40 + 60, "40d1m"),
        ],
    )
    def test_text(self, seconds: float | None, expected: str) -> None:
        assert format_duration(seconds) == expected

    @pytest.mark.parametrize("seconds", [-1.0, float("nan"), float("inf")])
    def test_rejects_impossible_durations(self, seconds: float) -> None:
        with pytest.raises(ValueError, match="cannot format"):
            format_duration(seconds)


class TestFormatRatioPercent:
    @pytest.mark.parametrize(
        ("ratio", "expected"),
        [
            (None, "-"),
            (0.0, "0%"),
            (0.075, "7.5%"),
            (1 / 3, "33.3%"),
            (2 / 3, "66.7%"),
            (2.0, "200%"),
            (1.0, "100%"),
            (0.0125, "1.3%"),
            (0.0004, "0%"),
            (0.9996, "100%"),
            (12.345, "1234.5%"),
        ],
    )
    def test_text(self, ratio: float | None, expected: str) -> None:
        assert format_ratio_percent(ratio) == expected

    @pytest.mark.parametrize("ratio", [float("nan"), float("inf")])
    def test_rejects_non_finite(self, ratio: float) -> None:
        with pytest.raises(ValueError, match="cannot format"):
            format_ratio_percent(ratio)
