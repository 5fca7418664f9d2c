"""Change failures detected in the deployments of one service and env."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from kubedora.metrics import Shipment, compile_rules, detect, same_change
from kubedora.models import ChangeFailureReason, RollforwardRule

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
SHA = {name: (name * 40)[:40] for name in ("a", "b", "c", "d")}


def ship(name: str, hours: float, **given: object) -> Shipment:
    return Shipment(name=name, finished_at=T0 + timedelta(hours=hours), **given)  # type: ignore[arg-type]


def by_commit() -> list[Shipment]:
    return [
        ship("v1", 0, commit=SHA["a"], version="1"),
        ship("v2", 1, commit=SHA["b"], version="2"),
        ship("v3", 2, commit=SHA["c"], version="3"),
        ship("v1-again", 5, commit=SHA["a"][:7], version="1-redeploy"),
    ]


def by_version() -> list[Shipment]:
    return [
        ship("v1", 0, version="1.0"),
        ship("v2", 1, version="2.0"),
        ship("v3", 2, version="3.0"),
        ship("v1-again", 5, version="1.0"),
    ]


@pytest.mark.parametrize("shipments", [by_commit(), by_version()], ids=["commit", "version"])
def test_v1_v2_v3_v1_marks_v2_and_the_redeploy_is_a_rollback(shipments: list[Shipment]) -> None:
    verdicts = detect(list(reversed(shipments)))  # order comes from finishedAt
    v2 = verdicts["v2"].change_failure
    assert v2.failed
    assert v2.reason == ChangeFailureReason.ROLLBACK
    assert v2.remediated_by == "v1-again"
    assert v2.remediated_at == T0 + timedelta(hours=5)
    assert v2.recovery_seconds == 4 * 3600
    assert verdicts["v1-again"].rollback_of == "v1"
    assert not verdicts["v1-again"].change_failure.failed
    for name in ("v1", "v3"):
        assert not verdicts[name].change_failure.failed
        assert verdicts[name].rollback_of is None


def test_a_redeploy_of_the_same_version_is_not_a_rollback() -> None:
    verdicts = detect([ship("v1", 0, version="1"), ship("v1b", 1, version="1")])
    assert verdicts["v1b"].rollback_of is None
    assert not any(v.change_failure.failed for v in verdicts.values())


def test_commits_decide_when_both_have_them_even_if_versions_agree() -> None:
    left = ship("x", 0, version="1", commit=SHA["a"])
    right = ship("y", 1, version="1", commit=SHA["b"])
    assert not same_change(left, right)
    assert same_change(left, ship("z", 2, version="9", commit=SHA["a"][:12]))
    assert not same_change(ship("p", 0), ship("q", 1))


def test_rollforward_rules_mark_the_deployment_before_the_match() -> None:
    rules, errors = compile_rules(
        [
            RollforwardRule(name="hotfix", version_pattern=r"-hotfix"),
            RollforwardRule(name="revert", tag_pattern=r"^change:revert$"),
        ]
    )
    assert errors == []
    verdicts = detect(
        [
            ship("a", 0, version="1.0"),
            ship("b", 1, version="1.1"),
            ship("c", 2, version="1.1-hotfix"),
            ship("d", 3, version="1.2", custom_tags=("change:revert",)),
        ],
        rules,
    )
    b, c = verdicts["b"].change_failure, verdicts["c"].change_failure
    assert (b.failed, b.reason, b.detail, b.remediated_by) == (
        True,
        ChangeFailureReason.ROLLFORWARD,
        "hotfix",
        "c",
    )
    assert b.recovery_seconds == 3600
    assert (c.failed, c.detail, c.remediated_by) == (True, "revert", "d")
    assert not verdicts["a"].change_failure.failed
    assert not verdicts["d"].change_failure.failed


def test_an_invalid_pattern_is_reported_and_its_rule_left_out() -> None:
    rules, errors = compile_rules([RollforwardRule(name="bad", version_pattern="(")])
    assert rules == []
    assert len(errors) == 1
    assert "bad" in errors[0]


def test_marks_by_hand_and_by_api_override_detection() -> None:
    shipments = [*by_version()]
    shipments[0] = ship("v1", 0, version="1.0", marked=True, remediated_by="v2")
    shipments[1] = ship("v2", 1, version="2.0", marked=False)
    shipments[2] = ship("v3", 2, version="3.0", marked=True, marked_by_api=True)
    verdicts = detect(shipments)
    v1, v2, v3 = (verdicts[n].change_failure for n in ("v1", "v2", "v3"))
    assert (v1.failed, v1.reason, v1.remediated_by, v1.recovery_seconds) == (
        True,
        ChangeFailureReason.MANUAL,
        "v2",
        3600,
    )
    # Marked not failed: the rollback's detection is overruled.
    assert not v2.failed
    assert (v3.failed, v3.reason, v3.remediated_by) == (True, ChangeFailureReason.API, None)
    assert verdicts["v1-again"].rollback_of == "v1"


def test_a_failed_rollout_is_remediated_by_the_next_one_that_succeeds() -> None:
    verdicts = detect(
        [
            ship("a", 0, version="1", outcome_failed=True),
            ship("b", 1, version="2", outcome_failed=True),
            ship("c", 3, version="3"),
        ]
    )
    a = verdicts["a"].change_failure
    assert (a.reason, a.remediated_by, a.recovery_seconds) == (
        ChangeFailureReason.FAILED_ROLLOUT,
        "c",
        3 * 3600,
    )
    assert verdicts["b"].change_failure.remediated_by == "c"
    assert not verdicts["c"].change_failure.failed


def test_a_remediation_that_names_an_unknown_deployment_has_no_recovery_time() -> None:
    verdict = detect([ship("a", 0, marked=True, remediated_by="gone")])["a"].change_failure
    assert (verdict.failed, verdict.remediated_by, verdict.recovery_seconds) == (True, "gone", None)
