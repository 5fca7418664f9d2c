"""Monitor tags as evidence, and catalog tags merged into a failure's."""

from __future__ import annotations

from kubedora.matching import catalog_tags, merge_tags, monitor_evidence
from tests.unit.matching.builders import entry


def test_monitor_evidence_reads_service_team_and_env() -> None:
    evidence = monitor_evidence(
        ["env:prod", "service:checkout", "service:cart", "service:Checkout", "team:shop", "x:y"]
    )
    assert evidence.services == ("checkout", "cart")
    assert (evidence.team, evidence.env) == ("shop", "prod")
    assert evidence.decides


def test_repeated_equal_team_or_env_tags_are_one_value() -> None:
    evidence = monitor_evidence(["team:shop", "TEAM:Shop", "env:prod", "env:prod"])
    assert (evidence.team, evidence.env) == ("shop", "prod")


def test_empty_values_and_unrelated_tags_decide_nothing() -> None:
    evidence = monitor_evidence(["service:", "team: ", "env:prod", "region:eu"])
    assert evidence.services == ()
    assert evidence.team is None
    assert evidence.env == "prod"
    assert not evidence.decides


def test_catalog_tags_are_languages_then_tags() -> None:
    assert catalog_tags(entry("a", languages=["python", "go"], tags=["tier:1"])) == [
        "language:python",
        "language:go",
        "tier:1",
    ]


def test_merge_keeps_own_tags_first_and_wins_key_conflicts() -> None:
    one = entry("a", languages=["python"], tags=["tier:1", "pci:yes"])
    two = entry("b", languages=["python", "go"], tags=["tier:2"])
    merged = merge_tags(["Tier:0", "region:eu"], [one, two])
    assert merged == ["Tier:0", "region:eu", "language:python", "pci:yes", "language:go"]


def test_merge_without_entries_is_the_own_tags_without_duplicates() -> None:
    assert merge_tags(["a:1", "a:1", "b:2"], []) == ["a:1", "b:2"]
