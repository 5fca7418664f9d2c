"""One change reported by several sources counts once; which record wins."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from kubedora.metrics import DeploymentFact, compute, compute_trend, once
from kubedora.models import DeploymentOutcome, DeploymentSource, FailureSource

T0 = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
SHA = "8d0e4b1c2f3a4b5c6d7e8f90a1b2c3d4e5f60718"
K8S, FLUX, ARGO, API = (
    DeploymentSource.KUBERNETES,
    DeploymentSource.FLUX,
    DeploymentSource.ARGOCD,
    DeploymentSource.API,
)


def fact(
    source: DeploymentSource,
    *,
    minutes: float = 0,
    commit: str | None = SHA,
    version: str | None = None,
    service: str = "checkout",
    env: str | None = "prod",
    name: str = "",
    outcome: DeploymentOutcome = DeploymentOutcome.SUCCEEDED,
) -> DeploymentFact:
    return DeploymentFact(
        service=service,
        team=None,
        env=env,
        finished_at=T0 + timedelta(minutes=minutes),
        source=source,
        commit=commit,
        version=version,
        outcome=outcome,
        name=name or f"{source.value}-{minutes}",
    )


def test_a_flux_reconcile_and_its_rollout_are_one_and_the_rollout_wins() -> None:
    flux = fact(FLUX, minutes=0, version=f"main@sha1:{SHA}")
    rollout = fact(K8S, minutes=2, commit=SHA[:12], version="1.4.0")
    assert once([flux, rollout]) == [rollout]


def test_precedence_is_kubernetes_argocd_flux_api() -> None:
    facts = [fact(API, minutes=1), fact(FLUX, minutes=2), fact(ARGO, minutes=3)]
    assert once(facts) == [facts[2]]
    assert once([*facts, fact(K8S, minutes=4)]) == [fact(K8S, minutes=4)]
    assert once(facts[:2]) == [facts[1]]


def test_without_commits_the_version_decides() -> None:
    api = fact(API, commit=None, version="1.4.0")
    rollout = fact(K8S, minutes=3, commit=SHA, version="1.4.0")
    assert once([api, rollout]) == [rollout]
    other = fact(K8S, minutes=3, commit=None, version="1.4.1")
    assert sorted(once([api, other]), key=lambda f: f.name) == [api, other]


def test_different_commits_are_different_changes_even_with_one_version() -> None:
    a = fact(FLUX, commit="a" * 40, version="1.4.0")
    b = fact(K8S, commit="b" * 40, version="1.4.0")
    assert len(once([a, b])) == 2


def test_more_than_ten_minutes_apart_are_two_deployments() -> None:
    assert len(once([fact(FLUX), fact(K8S, minutes=10)])) == 1
    assert len(once([fact(FLUX), fact(K8S, minutes=10.01)])) == 2


def test_other_service_or_env_never_merges() -> None:
    assert len(once([fact(FLUX), fact(K8S, service="cart")])) == 2
    assert len(once([fact(FLUX), fact(K8S, env="staging")])) == 2


def test_two_reports_of_one_source_are_two_deployments() -> None:
    # A Flux event delivered twice is one object already; two rollouts of
    # one commit (an undo and a redo) are two real deployments.
    assert len(once([fact(K8S, minutes=0), fact(K8S, minutes=1)])) == 2


def test_each_source_joins_a_group_once() -> None:
    facts = [fact(FLUX, minutes=0), fact(K8S, minutes=1), fact(K8S, minutes=2, name="second")]
    kept = once(facts)
    assert len(kept) == 2
    assert {f.source for f in kept} == {K8S}


def test_the_winners_outcome_counts() -> None:
    flux = fact(FLUX)
    failed = fact(K8S, minutes=5, outcome=DeploymentOutcome.FAILED)
    assert once([flux, failed]) == [failed]


def test_the_scoreboard_counts_the_change_once_and_honours_deployment_sources() -> None:
    facts = [fact(FLUX), fact(K8S, minutes=2), fact(API, commit="c" * 40, minutes=30)]
    start, end = T0 - timedelta(days=1), T0 + timedelta(days=1)

    def deployments(sources: set[DeploymentSource] | None) -> int:
        board = compute(
            [],
            facts,
            window_start=start,
            window_end=end,
            sources=set(FailureSource),
            deployment_sources=sources,
        )
        return board.summary.deployments

    assert deployments(None) == 2
    assert deployments({FLUX}) == 1
    assert deployments({FLUX, K8S}) == 1
    assert deployments({API}) == 1
    assert deployments(set()) == 0


def test_trend_buckets_count_the_same_deployments_as_the_window() -> None:
    facts = [fact(FLUX), fact(K8S, minutes=2), fact(API, commit="c" * 40, minutes=30)]
    end = T0 + timedelta(hours=1)

    def bucketed(sources: set[DeploymentSource] | None) -> int | None:
        trend = compute_trend(
            [],
            facts,
            end=end,
            bucket=timedelta(hours=2),
            buckets=1,
            sources=set(FailureSource),
            deployment_sources=sources,
        )
        return trend.points[0].deployments

    assert bucketed(None) == 2
    assert bucketed({FLUX}) == 1
    assert bucketed({API}) == 1
    assert bucketed(set()) is None  # nothing counted: no data
