"""What the operator tells kopf about an object's last handled spec."""

from __future__ import annotations

from typing import Any, cast

import kopf

from kubedora.handlers.catalog_follower import REMATCH_ANNOTATION
from kubedora.handlers.persistence import StatusAwareDiffBase
from kubedora.models import GROUP

STORAGE = StatusAwareDiffBase(prefix=GROUP, key="last-handled-configuration")
DIFFBASE = f"{GROUP}/last-handled-configuration"


def failure(
    *, generation: int = 1, observed: int | None = None, annotations: dict[str, str] | None = None
) -> kopf.Body:
    raw: dict[str, Any] = {
        "apiVersion": "kubedora.io/v1alpha1",
        "kind": "Failure",
        "metadata": {"name": "f", "namespace": "n", "generation": generation},
        "spec": {"team": "shop", "startedAt": "2026-01-01T00:00:00Z"},
    }
    if annotations:
        raw["metadata"]["annotations"] = annotations
    if observed is not None:
        raw["status"] = {"state": "active", "observedGeneration": observed}
    return kopf.Body(cast("kopf.RawBody", raw))


def stored(body: kopf.Body, status: dict[str, Any]) -> dict[str, Any]:
    patch = kopf.Patch({"status": status} if status else {})
    STORAGE.store(body=body, patch=patch, essence=STORAGE.build(body=body))
    annotations: dict[str, Any] = patch.get("metadata", {}).get("annotations", {})
    return annotations


def test_a_new_object_is_unhandled_until_its_status_is_current() -> None:
    assert STORAGE.fetch(body=failure()) is None
    assert STORAGE.fetch(body=failure(generation=2, observed=1)) is None
    body = failure(observed=1)
    assert STORAGE.fetch(body=body) == STORAGE.build(body=body)


def test_a_status_patch_that_makes_it_current_is_all_that_is_written() -> None:
    assert stored(failure(), {"observedGeneration": 1}) == {}
    assert DIFFBASE in stored(failure(), {})  # handled without saying so in status


def test_a_rematch_stamp_is_a_change_and_is_then_remembered() -> None:
    body = failure(observed=1, annotations={REMATCH_ANNOTATION: "2026-01-01T00:00:00Z"})
    assert STORAGE.fetch(body=body) != STORAGE.build(body=body)
    assert DIFFBASE in stored(body, {"observedGeneration": 1})


def test_objects_with_the_annotation_keep_kopfs_own_diffing() -> None:
    essence = {"spec": {"team": "old"}}
    annotated = failure(observed=1, annotations={DIFFBASE: '{"spec": {"team": "old"}}'})
    assert STORAGE.fetch(body=annotated) == essence
    assert DIFFBASE in stored(annotated, {"observedGeneration": 1})
