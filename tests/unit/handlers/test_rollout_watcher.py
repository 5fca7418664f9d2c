"""The rollout watcher's informer consumers: what each informer's re-list
may forget. (Deciding rollouts is tests/unit/ingest/test_rollouts.py.)"""

from __future__ import annotations

from typing import Any, cast

from kubedora.handlers.rollouts import RolloutWatcher


def controller_revision(uid: str, owner: str, number: int) -> dict[str, Any]:
    return {
        "metadata": {
            "uid": uid,
            "name": f"web-{number}",
            "creationTimestamp": "2026-11-20T09:00:00Z",
            "ownerReferences": [{"kind": "StatefulSet", "uid": owner, "controller": True}],
        },
        "revision": number,
    }


def replica_set(uid: str, owner: str, number: int) -> dict[str, Any]:
    return {
        "metadata": {
            "uid": uid,
            "name": f"app-{number}",
            "creationTimestamp": "2026-11-20T09:00:00Z",
            "annotations": {"deployment.kubernetes.io/revision": str(number)},
            "ownerReferences": [{"kind": "Deployment", "uid": owner, "controller": True}],
        }
    }


def owned(watcher: RolloutWatcher) -> dict[str, set[int]]:
    found = watcher._revisions  # what the decisions read
    return {owner: {r.number for r in revisions.values()} for owner, revisions in found.items()}


def test_one_informers_relist_never_forgets_another_informers_revisions() -> None:
    watcher = RolloutWatcher(cast(Any, None), "home")
    replica_sets, controller_revisions = watcher.revisions(), watcher.revisions()
    controller_revisions.upsert("cr-1", controller_revision("cr-1", "sts", 1), listed=True)
    controller_revisions.upsert("cr-2", controller_revision("cr-2", "sts", 2), listed=True)
    replica_sets.upsert("rs-1", replica_set("rs-1", "deploy", 1), listed=True)
    # The ReplicaSets' list completes after the ControllerRevisions'.
    replica_sets.retain({"rs-1"})
    assert owned(watcher) == {"sts": {1, 2}, "deploy": {1}}
    # Its own vanished objects it does forget.
    controller_revisions.retain({"cr-2"})
    assert owned(watcher) == {"sts": {2}, "deploy": {1}}
    replica_sets.delete("rs-1", {})
    assert owned(watcher) == {"sts": {2}}
