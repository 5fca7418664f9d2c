"""Where every kind kubedora reads or writes lives in the API: our three
custom resources and the built-in kinds of the service catalog.

One table for the CRD generator, the handlers, the informers, the writer
and the client: no group, plural or kind is spelled anywhere else."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

GROUP: Final = "kubedora.io"
VERSION: Final = "v1alpha1"
API_VERSION: Final = f"{GROUP}/{VERSION}"
# Our annotations and labels, and kopf's bookkeeping (finalizer, progress).
PREFIX: Final = f"{GROUP}/"
# `kubectl get dora` lists all three kinds.
CATEGORY: Final = "dora"


@dataclass(frozen=True, slots=True)
class Resource:
    """A kind as the API serves it: ("", "v1", "services", "Service") or
    ("kubedora.io", "v1alpha1", "failures", "Failure", ("fail",))."""

    group: str
    version: str
    plural: str
    kind: str
    short_names: tuple[str, ...] = ()

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def coordinates(self) -> tuple[str, str, str]:
        """(group, version, plural), as kopf's decorators take them."""
        return (self.group, self.version, self.plural)

    @property
    def crd_name(self) -> str:
        return f"{self.plural}.{self.group}"

    def path(self, namespace: str | None = None) -> str:
        """The collection's URL path, in one namespace or across all."""
        prefix = f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"
        where = f"/namespaces/{namespace}" if namespace else ""
        return f"{prefix}{where}/{self.plural}"


FAILURES: Final = Resource(GROUP, VERSION, "failures", "Failure", ("fail",))
# Not apps/v1 Deployment: `kubectl get ddeploy` or `deployments.kubedora.io`.
DEPLOYMENTS: Final = Resource(GROUP, VERSION, "deployments", "Deployment", ("ddeploy",))
DORASOURCES: Final = Resource(GROUP, VERSION, "dorasources", "DoraSource", ("dsrc",))
OURS: Final = (FAILURES, DEPLOYMENTS, DORASOURCES)

# Where the receiver finds the API keys and signing secrets DoraSources name.
SECRETS: Final = Resource("", "v1", "secrets", "Secret")

# The kinds whose annotated objects make up the service catalog.
CATALOG_KINDS: Final = (
    Resource("", "v1", "services", "Service"),
    Resource("apps", "v1", "deployments", "Deployment"),
    Resource("apps", "v1", "statefulsets", "StatefulSet"),
    Resource("apps", "v1", "daemonsets", "DaemonSet"),
)

# What a rollout of a catalog workload is made of: a Deployment's
# ReplicaSets, a StatefulSet's or DaemonSet's ControllerRevisions.
REPLICASETS: Final = Resource("apps", "v1", "replicasets", "ReplicaSet")
CONTROLLER_REVISIONS: Final = Resource("apps", "v1", "controllerrevisions", "ControllerRevision")
