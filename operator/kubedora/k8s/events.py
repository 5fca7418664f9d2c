"""Post Kubernetes Events about objects kopf does not handle: catalog entries,
and the Failures whose status handlers/statuses.py keeps."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from kubernetes_asyncio import client

from kubedora.k8s.errors import API_ERRORS

log = logging.getLogger("kubedora.events")
SOURCE = "kubedora"


async def post_event(
    api: client.ApiClient,
    *,
    event_type: str,
    api_version: str,
    kind: str,
    meta: Mapping[str, Any],
    reason: str,
    message: str,
) -> None:
    """An Event (Normal or Warning) on the object; failing to post one is logged, not raised:
    an Event is a courtesy, and the object itself is fine."""
    now = datetime.now(UTC)
    namespace = meta.get("namespace") or "default"
    event = client.CoreV1Event(
        metadata=client.V1ObjectMeta(generate_name=f"{meta.get('name', 'object')}."),
        involved_object=client.V1ObjectReference(
            api_version=api_version,
            kind=kind,
            name=meta.get("name"),
            namespace=meta.get("namespace"),
            uid=meta.get("uid"),
            resource_version=meta.get("resourceVersion"),
        ),
        reason=reason,
        message=message[:1024],
        type=event_type,
        first_timestamp=now,
        last_timestamp=now,
        count=1,
        source=client.V1EventSource(component=SOURCE),
        reporting_component=SOURCE,
    )
    try:
        await client.CoreV1Api(api).create_namespaced_event(namespace, event)
    except API_ERRORS as error:
        log.warning(
            "could not post the %s event on %s %s: %s", reason, kind, meta.get("name"), error
        )
