"""Shared base model and the kubebuilder-shaped pieces every kind uses."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    model_serializer,
)
from pydantic.alias_generators import to_camel
from pydantic.config import JsonDict

# A `key:value` tag as Datadog writes them; the key may not be empty.
TAG_PATTERN = r"^[^:\s][^:]*:.*$"
Tag = Annotated[str, Field(pattern=TAG_PATTERN, max_length=512)]
Timestamp = AwareDatetime

# Conditions are a map keyed by type, as for metav1.Condition in kubebuilder
# projects, so that server-side apply merges conditions of different owners.
CONDITIONS_LIST: JsonDict = {
    "x-kubernetes-list-type": "map",
    "x-kubernetes-list-map-keys": ["type"],
}
# A list of unique values whose order means nothing; the API server rejects duplicates.
SET_LIST: JsonDict = {"x-kubernetes-list-type": "set"}


class KubeModel(BaseModel):
    """camelCase on the wire, snake_case in Python; unknown fields are ignored
    so that an older operator can read objects a newer one wrote."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="ignore",
        use_enum_values=False,
    )

    def to_wire(self) -> dict[str, object]:
        """The JSON body for the API server (camelCase, RFC 3339, nulls kept)."""
        return self.model_dump(mode="json", by_alias=True)


class ConditionStatus(StrEnum):
    TRUE = "True"
    FALSE = "False"
    UNKNOWN = "Unknown"


class Condition(KubeModel):
    """metav1.Condition."""

    type: str = Field(
        max_length=316,
        pattern=r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$",
    )
    status: ConditionStatus
    observed_generation: int | None = Field(default=None, ge=0)
    last_transition_time: datetime
    reason: str = Field(
        max_length=1024, min_length=1, pattern=r"^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$"
    )
    message: str = Field(default="", max_length=32768)

    @model_serializer(mode="wrap")
    def _absent_not_null(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        # A condition is an item of a list: the API server drops a null in it,
        # and kopf then finds the stored status unlike the patch and warns.
        dumped: dict[str, Any] = handler(self)
        return {key: value for key, value in dumped.items() if value is not None}


class GitInfo(KubeModel):
    repository_url: str | None = Field(default=None, max_length=2048)
    commit_sha: str | None = Field(default=None, pattern=r"^[0-9a-fA-F]{7,64}$")


class SecretRef(KubeModel):
    """A Secret in the DoraSource's namespace; every value in it is accepted."""

    name: str = Field(min_length=1, max_length=253)
