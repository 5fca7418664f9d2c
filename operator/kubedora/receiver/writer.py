"""Turn parsed events into stored Failures and Deployments.

The decisions are the pure functions of `ingest.incidents` and
`ingest.datadog`; this module reads, applies them and writes, through
`k8s.objects.upsert`, one writer at a time per object within this process."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TypeVar

from kubernetes_asyncio import client
from pydantic import ValidationError

from kubedora.ingest import argocd, datadog, flux, incidents
from kubedora.ingest.argocd import ArgoCDNotification
from kubedora.ingest.datadog import DoraDeploymentAttributes, DoraFailureAttributes
from kubedora.ingest.flux import FluxEvent
from kubedora.ingest.pagerduty import IncidentEvent
from kubedora.k8s import failures
from kubedora.k8s.errors import translated
from kubedora.k8s.objects import (
    MARKED_BY_ANNOTATION,
    SOURCE_LABEL,
    Build,
    Object,
    Outcome,
    Upserted,
    custom_object,
    get_object,
    upsert,
)
from kubedora.models import DEPLOYMENTS, FAILURES, DeploymentSpec, FailureSpec, Resource


class KeyedLock:
    def __init__(self) -> None:
        self._locks: dict[str, asyncio.Lock] = {}
        self._users: dict[str, int] = {}

    @asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[None]:
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._users[key] = self._users.get(key, 0) + 1
        try:
            async with lock:
                yield
        finally:
            self._users[key] -= 1
            if not self._users[key]:
                # Nobody waits on it: forget it, or the dict grows forever.
                del self._users[key]
                del self._locks[key]

    def __len__(self) -> int:
        return len(self._locks)


_Spec = TypeVar("_Spec", FailureSpec, DeploymentSpec)


class Writer:
    def __init__(self, api: client.ApiClient, namespace: str, *, timeout: float) -> None:
        self._api = api
        self._namespace = namespace
        self._timeout = timeout
        self._locks = KeyedLock()

    async def incident(self, event: IncidentEvent, env: str | None) -> Upserted:
        name = incidents.failure_name(event.incident_id)
        build = failures.incident_build(name, [event], env)
        # A trigger is almost always a new incident: create without reading.
        first = event.event_type == "incident.triggered"
        return await self._upsert(FAILURES, name, build, create_first=first)

    async def deployment(self, attributes: DoraDeploymentAttributes) -> Upserted:
        name = datadog.deployment_name(attributes)
        spec = datadog.deployment_spec(attributes)

        def build(stored: Object | None) -> Object | None:
            if stored is not None and _parsed(DeploymentSpec, stored) == spec:
                return None
            return custom_object(DEPLOYMENTS, name, spec, base=stored, labels={SOURCE_LABEL: "api"})

        return await self._upsert(DEPLOYMENTS, name, build, create_first=True)

    async def flux_event(self, event: FluxEvent, default_env: str | None) -> Upserted:
        """The Deployment of the event's object and revision, created or
        brought up to date (repeats change nothing)."""
        name = flux.deployment_name(event)

        def build(stored: Object | None) -> Object | None:
            previous = _parsed(DeploymentSpec, stored)
            spec = flux.deployment_spec(previous, event, default_env)
            if spec is None or spec == previous:
                return None
            return custom_object(
                DEPLOYMENTS, name, spec, base=stored, labels={SOURCE_LABEL: "flux"}
            )

        return await self._upsert(DEPLOYMENTS, name, build)

    async def argocd_sync(self, note: ArgoCDNotification, default_env: str | None) -> Upserted:
        name = argocd.deployment_name(note)
        spec = argocd.deployment_spec(note, default_env)

        def build(stored: Object | None) -> Object | None:
            if spec is None or (stored is not None and _parsed(DeploymentSpec, stored) == spec):
                return None
            return custom_object(
                DEPLOYMENTS, name, spec, base=stored, labels={SOURCE_LABEL: "argocd"}
            )

        return await self._upsert(DEPLOYMENTS, name, build, create_first=True)

    async def failure(self, attributes: DoraFailureAttributes) -> Upserted:
        name = datadog.failure_name(attributes)

        def build(stored: Object | None) -> Object | None:
            previous = _parsed(FailureSpec, stored)
            spec = datadog.failure_spec(previous, attributes)
            if spec == previous:
                return None
            return custom_object(FAILURES, name, spec, base=stored, labels={SOURCE_LABEL: "api"})

        return await self._upsert(FAILURES, name, build)

    async def mark_deployment(
        self, names: list[str], change_failure: bool, remediated_by: str | None
    ) -> Upserted:
        """Mark the first existing Deployment of `names`; SKIPPED when none
        exists (nothing is created)."""
        for name in names:

            def build(stored: Object | None, name: str = name) -> Object | None:
                spec = _parsed(DeploymentSpec, stored)
                if stored is None or spec is None:
                    return None
                marked = datadog.marked_spec(spec, change_failure, remediated_by)
                annotations = (stored.get("metadata") or {}).get("annotations") or {}
                if marked == spec and annotations.get(MARKED_BY_ANNOTATION) == "api":
                    return None
                return custom_object(
                    DEPLOYMENTS,
                    name,
                    marked,
                    base=stored,
                    annotations={MARKED_BY_ANNOTATION: "api"},
                )

            result = await self._upsert(DEPLOYMENTS, name, build)
            if result.outcome != Outcome.SKIPPED:
                return result
        return Upserted(Outcome.SKIPPED, names[0], 0)

    async def existing(self, names: list[str]) -> str | None:
        """The first of `names` that is a stored Deployment."""
        for name in names:
            found = await get_object(
                self._api, DEPLOYMENTS, self._namespace, name, timeout=self._timeout
            )
            if found is not None:
                return name
        return None

    async def spec_of(self, name: str) -> DeploymentSpec | None:
        stored = await get_object(
            self._api, DEPLOYMENTS, self._namespace, name, timeout=self._timeout
        )
        return _parsed(DeploymentSpec, stored)

    async def latest(self, service: str, env: str, version: str) -> str | None:
        """The most recently finished Deployment of that service, env and version."""
        with translated():
            listed = await client.CustomObjectsApi(self._api).list_namespaced_custom_object(
                DEPLOYMENTS.group,
                DEPLOYMENTS.version,
                self._namespace,
                DEPLOYMENTS.plural,
                _request_timeout=self._timeout,
            )
        found: list[tuple[str, str]] = []
        for item in listed.get("items") or ():
            spec = _parsed(DeploymentSpec, item)
            if spec and (spec.service, spec.env, spec.version) == (service, env, version):
                found.append((spec.finished_at.isoformat(), item["metadata"]["name"]))
        return max(found)[1] if found else None

    async def _upsert(
        self, resource: Resource, name: str, build: Build, *, create_first: bool = False
    ) -> Upserted:
        async with self._locks.hold(f"{resource.plural}/{name}"):
            return await upsert(
                self._api,
                resource=resource,
                namespace=self._namespace,
                name=name,
                build=build,
                create_first=create_first,
                timeout=self._timeout,
            )


def _parsed(model: type[_Spec], stored: Object | None) -> _Spec | None:
    if stored is None:
        return None
    try:
        return model.model_validate(stored.get("spec") or {})
    except ValidationError:
        # A spec we cannot read (written by hand, or by a newer kubedora):
        # rebuild it from the event rather than refuse a valid delivery.
        return None
