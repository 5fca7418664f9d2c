"""Whether the kopf peering object the operator is told to use exists.

With peering required, kopf pauses every watch while the peering CRD is not
served, and stays paused while the object is missing; at its default log
level it says nothing. `kubedora operator` asks once, before kopf starts, and
then either runs standalone or stops with the fix (see cli.run_operator)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

from kubernetes_asyncio import client
from kubernetes_asyncio.client.exceptions import ApiException
from kubernetes_asyncio.config import ConfigException

from kubedora.k8s.client import connect
from kubedora.k8s.errors import API_ERRORS

# kopf serves peering from either group; kopf.dev is the current one.
GROUPS = ("kopf.dev", "zalando.org")
VERSION = "v1"
# The check gives up after this, so that a misconfigured operator exits
# within 10 s.
CHECK_SECONDS = 8.0


class CheckFailed(Exception):
    """The peering could not be checked; the message says why."""


@dataclass(frozen=True)
class Peering:
    """The peering kopf will use: one object per served namespace, or one
    cluster-wide object when the operator serves every namespace."""

    name: str
    namespaces: tuple[str, ...] = ()

    @property
    def clusterwide(self) -> bool:
        return not self.namespaces

    @property
    def kind(self) -> str:
        return "ClusterKopfPeering" if self.clusterwide else "KopfPeering"

    @property
    def plural(self) -> str:
        return self.kind.lower() + "s"

    @property
    def crd(self) -> str:
        return f"{self.plural}.{GROUPS[0]}"

    def create_command(self) -> str:
        where = "" if self.clusterwide else f" -n {','.join(self.namespaces)}"
        if len(self.namespaces) > 1:
            where = " -n NS (for each namespace served)"
        return (
            f"printf 'apiVersion: kopf.dev/v1\\nkind: {self.kind}\\nmetadata: "
            f"{{name: {self.name}}}\\n' | kubectl apply{where} -f -"
        )

    def objects(self) -> list[str]:
        if self.clusterwide:
            return [f'{self.kind} "{self.name}"']
        return [f'{self.kind} "{self.name}" in namespace {ns}' for ns in self.namespaces]


@dataclass(frozen=True)
class Missing:
    """What is missing for a peering to work: its CRD, or some of its objects."""

    peering: Peering
    crd_missing: bool
    objects: tuple[str, ...]

    def describe(self) -> str:
        if self.crd_missing:
            return (
                f"the peering CRD {self.peering.crd} is not installed, "
                f"so {', '.join(self.objects)} cannot exist"
            )
        return f"{', '.join(self.objects)} does not exist"

    @property
    def fix(self) -> str:
        """What a person runs to make the peering work."""
        if self.crd_missing:
            return (
                "kubectl apply -f manifests/peering.yaml (the peering CRDs), then create the "
                "object: " + self.peering.create_command()
            )
        return "create it: " + self.peering.create_command()


async def _served_group(api: client.ApiClient, plural: str) -> str | None:
    objects = client.CustomObjectsApi(api)
    for group in GROUPS:
        try:
            found = await objects.get_api_resources(group, VERSION)
        except ApiException as exc:
            if exc.status == 404:
                continue
            raise
        if any(resource.name == plural for resource in found.resources or []):
            return group
    return None


async def _exists(api: client.ApiClient, group: str, peering: Peering, namespace: str) -> bool:
    objects = client.CustomObjectsApi(api)
    try:
        if namespace:
            await objects.get_namespaced_custom_object(
                group, VERSION, namespace, peering.plural, peering.name
            )
        else:
            await objects.get_cluster_custom_object(group, VERSION, peering.plural, peering.name)
    except ApiException as exc:
        if exc.status == 404:
            return False
        raise
    return True


async def find_missing(api: client.ApiClient, peering: Peering) -> Missing | None:
    """None when the peering CRD is served and every peering object exists.
    Raises ApiException for anything but "not found" (403: no RBAC to read it)."""
    group = await _served_group(api, peering.plural)
    if group is None:
        return Missing(peering, crd_missing=True, objects=tuple(peering.objects()))
    namespaces: Sequence[str] = peering.namespaces or ("",)
    absent = [
        described
        for namespace, described in zip(namespaces, peering.objects(), strict=True)
        if not await _exists(api, group, peering, namespace)
    ]
    return Missing(peering, crd_missing=False, objects=tuple(absent)) if absent else None


async def check(peering: Peering, *, timeout: float = CHECK_SECONDS) -> Missing | None:
    """find_missing() with its own client, within `timeout`; CheckFailed
    says why when the API server cannot tell (unreachable, forbidden)."""
    try:
        async with asyncio.timeout(timeout):
            api = await connect()
            try:
                return await find_missing(api, peering)
            finally:
                await api.close()
    except ApiException as error:
        if error.status == 403:
            raise CheckFailed(
                "forbidden; grant get on it to the operator's account, or pass --standalone"
            ) from error
        raise CheckFailed(f"the API server answered {error.status} {error.reason}") from error
    except TimeoutError as error:
        raise CheckFailed(f"no answer from the API server within {timeout:g}s") from error
    except (*API_ERRORS, ConfigException) as error:
        raise CheckFailed(str(error) or type(error).__name__) from error
