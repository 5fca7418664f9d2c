"""What kopf writes on our objects to remember its work: under our own
prefix (never kopf's kopf.zalando.org defaults), and nothing the status
already says.

kopf keeps the last handled spec in an annotation and marks objects it
manages; for a new object that is a patch of its own beside the status
patch, which halves how fast statuses can be written when the API server is
the bottleneck. A status with observedGeneration == generation says the same
thing, so the annotation is written only where the status cannot say it."""

from __future__ import annotations

from typing import Any

import kopf

from kubedora.handlers.catalog_follower import REMATCH_ANNOTATION
from kubedora.models import GROUP, PREFIX


class StatusAwareDiffBase(kopf.AnnotationsDiffBaseStorage):
    """kopf's last-handled-configuration annotation, written only when the
    status cannot say the same: a new object whose status patch carries
    observedGeneration == generation is known handled without it. Objects
    that have the annotation keep kopf's usual diffing; a re-match stamp
    (handlers/catalog_follower.py) is a change of its own, handled and then
    remembered in the annotation.

    Trade-off: an object without the annotation is not handled again for a
    change of labels or annotations other than the re-match stamp; its
    status depends on neither."""

    def fetch(self, *, body: kopf.Body) -> kopf.BodyEssence | None:
        stored = super().fetch(body=body)
        if stored is not None or not _status_is_current(body.get("status", {}), body):
            return stored
        essence = self.build(body=body)
        annotations = essence.get("metadata", {}).get("annotations", {})
        annotations.pop(REMATCH_ANNOTATION, None)
        self.remove_empty_stanzas(essence)
        return essence

    def store(self, *, body: kopf.Body, patch: kopf.Patch, essence: kopf.BodyEssence) -> None:
        # Skipped only for an object never annotated nor re-matched whose
        # status patch, in this same handling, says it is current.
        known_by_status = (
            REMATCH_ANNOTATION not in body.metadata.annotations
            and super().fetch(body=body) is None
            and _status_is_current(patch.get("status", {}), body)
        )
        if not known_by_status:
            super().store(body=body, patch=patch, essence=essence)


class UnmarkedProgress(kopf.AnnotationsProgressStorage):
    """kopf's progress annotations without its `kubedora.io/kopf-managed`
    marker: informational only, and a patch of its own for every new object.
    `_store_marker` is kopf's; a test pins that overriding it still works."""

    def _store_marker(self, prefix: str, patch: kopf.Patch, body: kopf.Body) -> None:
        pass


def _status_is_current(status: Any, body: kopf.Body) -> bool:
    observed = status.get("observedGeneration") if hasattr(status, "get") else None
    return observed is not None and observed == body.metadata.get("generation")


def configure_persistence(settings: kopf.OperatorSettings) -> None:
    settings.persistence.finalizer = f"{PREFIX}finalizer"
    settings.persistence.progress_storage = UnmarkedProgress(prefix=GROUP)
    settings.persistence.diffbase_storage = StatusAwareDiffBase(
        prefix=GROUP, key="last-handled-configuration"
    )
