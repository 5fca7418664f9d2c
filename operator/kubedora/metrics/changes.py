"""Change failures detected in deployments, pure: rollbacks, rollforward
rules, marks by hand or by API, failed rollouts, and the recovery time of
each failed deployment.

All of it works on the deployments of one service in one env, in the order
they finished."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from kubedora.models import ChangeFailure, ChangeFailureReason, RollforwardRule

# When several reasons apply, the most direct one is reported.
_PRIORITY = (
    ChangeFailureReason.FAILED_ROLLOUT,
    ChangeFailureReason.ROLLBACK,
    ChangeFailureReason.ROLLFORWARD,
)


@dataclass(frozen=True, slots=True)
class Shipment:
    """One deployment as change failure detection sees it."""

    name: str
    finished_at: datetime
    version: str | None = None
    commit: str | None = None
    custom_tags: tuple[str, ...] = ()
    message: str | None = None
    outcome_failed: bool = False
    # spec.changeFailure: True or False overrides detection; None leaves it.
    marked: bool | None = None
    marked_by_api: bool = False
    remediated_by: str | None = None


@dataclass(frozen=True, slots=True)
class Verdict:
    change_failure: ChangeFailure
    # The deployment this one rolled back to.
    rollback_of: str | None = None


@dataclass(frozen=True, slots=True)
class _Candidate:
    reason: ChangeFailureReason
    detail: str
    remediated_by: str | None


class Identified(Protocol):
    """What tells two deployments of one change apart."""

    @property
    def commit(self) -> str | None: ...
    @property
    def version(self) -> str | None: ...


def same_change(a: Identified, b: Identified) -> bool:
    """By commit when both carry one (an abbreviated sha matches its full
    form), else by version; without either, never the same. The one rule for
    rollbacks and for one change reported by two sources (metrics.once)."""
    if a.commit and b.commit:
        left, right = a.commit.lower(), b.commit.lower()
        shorter = min(len(left), len(right))
        return left[:shorter] == right[:shorter]
    if a.version and b.version:
        return a.version == b.version
    return False


@dataclass(frozen=True, slots=True)
class CompiledRule:
    name: str
    version: re.Pattern[str] | None
    tag: re.Pattern[str] | None
    message: re.Pattern[str] | None

    def matches(self, shipment: Shipment) -> bool:
        if self.version and shipment.version and self.version.search(shipment.version):
            return True
        if self.tag and any(self.tag.search(tag) for tag in shipment.custom_tags):
            return True
        return bool(self.message and shipment.message and self.message.search(shipment.message))


def compile_rules(rules: Iterable[RollforwardRule]) -> tuple[list[CompiledRule], list[str]]:
    """The rules ready to match, and a message for each pattern that is not
    a valid regular expression (that rule is left out)."""
    compiled: list[CompiledRule] = []
    errors: list[str] = []
    for rule in rules:
        try:
            compiled.append(
                CompiledRule(
                    name=rule.name,
                    version=_compiled(rule.version_pattern),
                    tag=_compiled(rule.tag_pattern),
                    message=_compiled(rule.message_pattern),
                )
            )
        except re.error as error:
            errors.append(f"rollforward rule {rule.name!r}: invalid pattern: {error}")
    return compiled, errors


def _compiled(pattern: str | None) -> re.Pattern[str] | None:
    return re.compile(pattern) if pattern else None


def _ordered(shipments: Iterable[Shipment]) -> list[Shipment]:
    return sorted(shipments, key=lambda s: (s.finished_at, s.name))


def detect(shipments: Iterable[Shipment], rules: Sequence[CompiledRule] = ()) -> dict[str, Verdict]:
    """The verdict of every deployment of one service and env.

    - Rollback: a deployment whose change matches an earlier one's but not
      the one just before it rolled back to the latest such match; the first
      deployment after that target is the change failure
      (V1 → V2 → V3 → V1 marks V2), remediated by the rollback.
    - Rollforward: a deployment matching a rule remediates the one before it.
    - Failed rollout: remediated by the next deployment that succeeded.
    - spec.changeFailure (by hand or by API) overrides all of these."""
    order = _ordered(shipments)
    by_name = {shipment.name: shipment for shipment in order}
    candidates: dict[str, list[_Candidate]] = {}
    rollback_of: dict[str, str] = {}

    def flag(victim: Shipment, candidate: _Candidate) -> None:
        candidates.setdefault(victim.name, []).append(candidate)

    for index, shipment in enumerate(order):
        if index >= 2 and not same_change(shipment, order[index - 1]):
            for earlier in range(index - 2, -1, -1):
                if same_change(shipment, order[earlier]):
                    target = order[earlier]
                    rollback_of[shipment.name] = target.name
                    detail = f"rolled back by {shipment.name} to {target.name}"
                    flag(order[earlier + 1], _Candidate(_ROLLBACK, detail, shipment.name))
                    break
        rule = next((rule for rule in rules if rule.matches(shipment)), None)
        if rule is not None and index >= 1:
            flag(order[index - 1], _Candidate(_ROLLFORWARD, rule.name, shipment.name))
        if shipment.outcome_failed:
            fix = next((s for s in order[index + 1 :] if not s.outcome_failed), None)
            flag(shipment, _Candidate(_FAILED_ROLLOUT, "", fix.name if fix else None))

    return {
        shipment.name: Verdict(
            change_failure=_judged(shipment, candidates.get(shipment.name, []), by_name),
            rollback_of=rollback_of.get(shipment.name),
        )
        for shipment in order
    }


_ROLLBACK = ChangeFailureReason.ROLLBACK
_ROLLFORWARD = ChangeFailureReason.ROLLFORWARD
_FAILED_ROLLOUT = ChangeFailureReason.FAILED_ROLLOUT


def _judged(
    shipment: Shipment, candidates: list[_Candidate], by_name: dict[str, Shipment]
) -> ChangeFailure:
    if shipment.marked is False:
        return ChangeFailure(failed=False)
    detected = min(candidates, key=lambda c: _PRIORITY.index(c.reason), default=None)
    if shipment.marked:
        reason = ChangeFailureReason.API if shipment.marked_by_api else ChangeFailureReason.MANUAL
        fixer = shipment.remediated_by or (detected.remediated_by if detected else None)
        return _failed(shipment, reason, None, fixer, by_name)
    if detected is None:
        return ChangeFailure(failed=False)
    return _failed(
        shipment, detected.reason, detected.detail or None, detected.remediated_by, by_name
    )


def _failed(
    shipment: Shipment,
    reason: ChangeFailureReason,
    detail: str | None,
    fixer: str | None,
    by_name: dict[str, Shipment],
) -> ChangeFailure:
    remediation = by_name.get(fixer) if fixer else None
    at = remediation.finished_at if remediation else None
    return ChangeFailure(
        failed=True,
        reason=reason,
        detail=detail,
        remediated_by=fixer,
        remediated_at=at,
        recovery_seconds=max(0.0, (at - shipment.finished_at).total_seconds()) if at else None,
    )
