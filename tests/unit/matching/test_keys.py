"""How names and PagerDuty service URLs are normalised into catalog keys."""

from __future__ import annotations

import pytest

from kubedora.matching import normalize_name, normalize_pagerduty_url, service_key, url_key


@pytest.mark.parametrize(
    "url",
    [
        "https://acme.pagerduty.com/services/PF9KMXH",
        "https://acme.pagerduty.com/services/PF9KMXH/",
        "https://acme.pagerduty.com/services/PF9KMXH///",
        "HTTPS://ACME.PAGERDUTY.COM/services/PF9KMXH",
        "https://acme.pagerduty.com/SERVICES/pf9kmxh",
        "https://acme.pagerduty.com/services/PF9KMXH?foo=bar",
        "https://acme.pagerduty.com/services/PF9KMXH#incidents",
        "https://acme.pagerduty.com:443/services/PF9KMXH",
        "http://acme.pagerduty.com/services/PF9KMXH",
        "https://acme.pagerduty.com/service-directory/PF9KMXH",
        "  https://acme.pagerduty.com/service-directory/PF9KMXH/  ",
    ],
)
def test_equal_pagerduty_urls_normalise_alike(url: str) -> None:
    assert normalize_pagerduty_url(url) == "https://acme.pagerduty.com/services/pf9kmxh"


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("https://acme.pagerduty.com/services/P1", "https://acme.pagerduty.com/services/P2"),
        ("https://acme.pagerduty.com/services/P1", "https://other.pagerduty.com/services/P1"),
        ("https://acme.pagerduty.com/services/P1", "https://acme.pagerduty.com:8443/services/P1"),
        ("https://acme.pagerduty.com/services/P1", "https://acme.pagerduty.com/teams/P1"),
    ],
)
def test_different_urls_stay_different(one: str, other: str) -> None:
    assert normalize_pagerduty_url(one) != normalize_pagerduty_url(other)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "PF9KMXH",
        "acme.pagerduty.com/services/PF9KMXH",
        "ftp://acme.pagerduty.com/services/PF9KMXH",
        "https://",
        "https:///services/PF9KMXH",
        "https://acme pagerduty.com/services/PF9KMXH",
        "https://acme.pagerduty.com/services/PF9 KMXH",
        "https://acme.pagerduty.com:port/services/PF9KMXH",
        "https://[::1/services/PF9KMXH",
        "https://acme_pagerduty.com/services/PF9KMXH",
    ],
)
def test_what_is_not_an_http_url_has_no_key(text: str) -> None:
    assert normalize_pagerduty_url(text) is None
    assert url_key(text) is None


def test_normalising_twice_changes_nothing() -> None:
    once = normalize_pagerduty_url("HTTPS://Acme.PagerDuty.com/service-directory/PF9KMXH/?x=1")
    assert once is not None
    assert normalize_pagerduty_url(once) == once


def test_names_compare_without_case_and_extra_whitespace() -> None:
    assert normalize_name("  Checkout   API ") == "checkout api"
    assert service_key("Checkout API") == service_key("checkout  api")
    assert service_key("checkout") != service_key("check out")
