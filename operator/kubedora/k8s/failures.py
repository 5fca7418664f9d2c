"""PagerDuty incidents into Failures: the one write path of the receiver's
webhooks and of the operator's backfill, so both fold their events the same
way (`ingest.incidents.apply`) into the same object, `pd-<incident id>`,
with optimistic concurrency (`k8s.objects.upsert`), and converge whatever
the order in which they arrive. Also the monitor tags the operator reads
from an incident's alerts, written into the same spec."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from kubernetes_asyncio import client
from pydantic import ValidationError

from kubedora.ingest import incidents
from kubedora.ingest.pagerduty import IncidentEvent, Stamp
from kubedora.k8s.objects import SOURCE_LABEL, Build, Object, Upserted, custom_object, upsert
from kubedora.models import FAILURES, PREFIX, FailureSpec

# When the operator last read the incident's alerts for monitor tags
# (RFC 3339). Under our prefix, so that kopf does not take it for a change.
ALERTS_READ_ANNOTATION = f"{PREFIX}pagerduty-alerts-read"


def stored_spec(stored: Object | None) -> FailureSpec | None:
    if stored is None:
        return None
    try:
        return FailureSpec.model_validate(stored.get("spec") or {})
    except ValidationError:
        # A spec we cannot read (written by hand, or by a newer kubedora):
        # rebuild it from the events rather than refuse a valid one.
        return None


def stored_incident(stored: Object | None) -> incidents.IncidentFailure | None:
    spec = stored_spec(stored)
    if stored is None or spec is None:
        return None
    annotations = (stored.get("metadata") or {}).get("annotations") or {}
    encoded = annotations.get(incidents.CONTEXT_ANNOTATION)
    stamp = Stamp.decode(encoded) if isinstance(encoded, str) else None
    return incidents.IncidentFailure(spec=spec, context=stamp)


def incident_build(
    name: str, events: Sequence[IncidentEvent], env: str | None, *, env_if_new: bool = False
) -> Build:
    """What `upsert` stores for these events of one incident. With
    env_if_new, `env` is a default: it never replaces an env already there
    (a webhook's `dd_env` says more than a DoraSource's defaultEnv)."""

    def build(stored: Object | None) -> Object | None:
        current = stored_incident(stored)
        updated = current
        for event in events:
            has_env = updated is not None and updated.spec.env is not None
            updated = incidents.apply(updated, event, None if env_if_new and has_env else env)
        if updated is None or updated == current:
            return None
        stamp = updated.context
        return custom_object(
            FAILURES,
            name,
            updated.spec,
            base=stored,
            annotations={incidents.CONTEXT_ANNOTATION: stamp.encode()} if stamp else None,
            labels={SOURCE_LABEL: "pagerduty"},
        )

    return build


async def write_incident(
    api: client.ApiClient,
    namespace: str,
    events: Sequence[IncidentEvent],
    env: str | None,
    *,
    timeout: float,
    create_first: bool = False,
    env_if_new: bool = False,
) -> Upserted:
    """Fold events of one incident into its Failure and store it."""
    name = incidents.failure_name(events[0].incident_id)
    return await upsert(
        api,
        resource=FAILURES,
        namespace=namespace,
        name=name,
        build=incident_build(name, events, env, env_if_new=env_if_new),
        create_first=create_first,
        timeout=timeout,
    )


def monitor_tags_build(name: str, tags: Sequence[str], read_at: datetime) -> Build:
    """Put the tags read from the incident's alerts into the Failure's
    `spec.pagerduty.monitorTags`, and mark when they were read."""

    def build(stored: Object | None) -> Object | None:
        spec = stored_spec(stored)
        if stored is None or spec is None or spec.pagerduty is None:
            return None  # gone, or not an incident: nothing to tag
        annotations = (stored.get("metadata") or {}).get("annotations") or {}
        same = list(spec.pagerduty.monitor_tags) == list(tags)
        if same and ALERTS_READ_ANNOTATION in annotations:
            return None
        tagged = spec.model_copy(
            update={"pagerduty": spec.pagerduty.model_copy(update={"monitor_tags": list(tags)})}
        )
        return custom_object(
            FAILURES,
            name,
            tagged,
            base=stored,
            annotations={ALERTS_READ_ANNOTATION: read_at.strftime("%Y-%m-%dT%H:%M:%SZ")},
        )

    return build
