"""React to changes of annotated Services and workloads: report malformed
annotations on the object, and re-match what the change can affect."""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterable, Mapping

import kopf

from kubedora.catalog import CatalogMemory, ObjectRef, is_annotated, parse_object
from kubedora.handlers.runtime import Runtime
from kubedora.matching import CatalogKey

DependentsIndex = Mapping[CatalogKey, Collection[ObjectRef]]

INVALID_ANNOTATION = "InvalidCatalogAnnotation"

logger = logging.getLogger(__name__)


def relevant(body: Mapping[str, object], uid: str | None, memory: CatalogMemory) -> bool:
    """Worth a look: annotated now, or annotated when last seen."""
    meta = body.get("metadata")
    annotations = meta.get("annotations") if isinstance(meta, Mapping) else None
    annotated = isinstance(annotations, Mapping) and is_annotated(annotations)
    return annotated or (uid is not None and memory.knows(uid))


def changed(
    *,
    kind: str,
    event_type: str | None,
    body: kopf.Body,
    uid: str | None,
    runtime: Runtime,
    dependents: Iterable[DependentsIndex],
) -> None:
    if uid is None:
        return
    if event_type == "DELETED":
        change = runtime.catalog.forget(uid)
    else:
        change = runtime.catalog.observe(uid, parse_object(kind, body), listed=event_type is None)
    for problem in change.problems:
        kopf.warn(body, reason=INVALID_ANNOTATION, message=problem)
    if not change.keys:
        return
    refs = {
        ref for index in dependents for key in change.keys if key in index for ref in index[key]
    }
    if refs:
        where = f"{body.meta.namespace}/{body.meta.name}"
        logger.info(f"catalog {kind} {where} changed: re-matching {len(refs)} objects")
        runtime.rematcher.request(refs, runtime.api)
