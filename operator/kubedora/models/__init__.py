"""pydantic v2 models: CR specs and status, and the receiver's payloads.

The single source of truth for crds/*.yaml (see crdgen). Imports nothing
internal outside this package."""

from kubedora.models.base import Condition, ConditionStatus, GitInfo, KubeModel, SecretRef
from kubedora.models.catalog import CatalogEntry, CatalogSource
from kubedora.models.datadog import (
    DoraDeploymentAttributes,
    DoraDeploymentRequest,
    DoraFailureAttributes,
    DoraFailureRequest,
    DoraGit,
    from_unix,
)
from kubedora.models.deployment import DeploymentSpec, DeploymentStatus
from kubedora.models.dorasource import (
    BreakdownRow,
    Dimension,
    Display,
    DoraSourceSpec,
    DoraSourceStatus,
    Figures,
    PagerDutySettings,
    Scope,
)
from kubedora.models.failure import (
    Attribution,
    FailureSource,
    FailureSpec,
    FailureState,
    FailureStatus,
    PagerDutyContext,
    TimelineEntry,
)
from kubedora.models.pagerduty import (
    PagerDutyClient,
    PagerDutyEvent,
    PagerDutyIncident,
    PagerDutyIncidentReference,
    PagerDutyReference,
    PagerDutyWebhook,
)

GROUP = "kubedora.io"
VERSION = "v1alpha1"
API_VERSION = f"{GROUP}/{VERSION}"

__all__ = [
    "API_VERSION",
    "GROUP",
    "VERSION",
    "Attribution",
    "BreakdownRow",
    "CatalogEntry",
    "CatalogSource",
    "Condition",
    "ConditionStatus",
    "DeploymentSpec",
    "DeploymentStatus",
    "Dimension",
    "Display",
    "DoraDeploymentAttributes",
    "DoraDeploymentRequest",
    "DoraFailureAttributes",
    "DoraFailureRequest",
    "DoraGit",
    "DoraSourceSpec",
    "DoraSourceStatus",
    "FailureSource",
    "FailureSpec",
    "FailureState",
    "FailureStatus",
    "Figures",
    "GitInfo",
    "KubeModel",
    "PagerDutyClient",
    "PagerDutyContext",
    "PagerDutyEvent",
    "PagerDutyIncident",
    "PagerDutyIncidentReference",
    "PagerDutyReference",
    "PagerDutySettings",
    "PagerDutyWebhook",
    "Scope",
    "SecretRef",
    "TimelineEntry",
    "from_unix",
]
