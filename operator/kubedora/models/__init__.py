"""pydantic v2 models: CR specs and status, and the receiver's payloads.

The single source of truth for crds/*.yaml (see crdgen). Imports nothing
internal outside this package."""

from kubedora.models.backfill import (
    BACKFILL_COMPLETE,
    BackfillPhase,
    BackfillSettings,
    BackfillStatus,
)
from kubedora.models.base import (
    TAG_PATTERN,
    Condition,
    ConditionStatus,
    GitInfo,
    KubeModel,
    SecretRef,
    Tag,
)
from kubedora.models.catalog import CatalogEntry, CatalogSource
from kubedora.models.conditions import READY, not_ready, ready, set_condition
from kubedora.models.deployment import DEPLOYMENT_ID_PATTERN, DeploymentSpec, DeploymentStatus
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
from kubedora.models.resources import (
    API_VERSION,
    CATALOG_KINDS,
    CATEGORY,
    DEPLOYMENTS,
    DORASOURCES,
    FAILURES,
    GROUP,
    OURS,
    PREFIX,
    VERSION,
    Resource,
)

__all__ = [
    "API_VERSION",
    "BACKFILL_COMPLETE",
    "CATALOG_KINDS",
    "CATEGORY",
    "DEPLOYMENTS",
    "DEPLOYMENT_ID_PATTERN",
    "DORASOURCES",
    "FAILURES",
    "GROUP",
    "OURS",
    "PREFIX",
    "READY",
    "TAG_PATTERN",
    "VERSION",
    "Attribution",
    "BackfillPhase",
    "BackfillSettings",
    "BackfillStatus",
    "BreakdownRow",
    "CatalogEntry",
    "CatalogSource",
    "Condition",
    "ConditionStatus",
    "DeploymentSpec",
    "DeploymentStatus",
    "Dimension",
    "Display",
    "DoraSourceSpec",
    "DoraSourceStatus",
    "FailureSource",
    "FailureSpec",
    "FailureState",
    "FailureStatus",
    "Figures",
    "GitInfo",
    "KubeModel",
    "PagerDutyContext",
    "PagerDutySettings",
    "Resource",
    "Scope",
    "SecretRef",
    "Tag",
    "TimelineEntry",
    "not_ready",
    "ready",
    "set_condition",
]
