"""Datadog's DORA Metrics API (v2) as kubedora accepts it: the request models,
and plain functions from bodies to specs and deterministic names. No HTTP,
no Kubernetes.

`POST /api/v2/dora/deployment` and `POST /api/v2/dora/failure` both take
`{"data": {"attributes": {...}}}` with snake_case attribute names.
Timestamps are Unix integers in seconds, milliseconds or nanoseconds, told
apart by magnitude. Unknown attributes are ignored, as Datadog does."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal, Self

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    WithJsonSchema,
    model_validator,
)

from kubedora.ingest.payload import (
    Label,
    NonEmptyLabel,
    digest,
    exact_or_hashed,
    parse_json,
    slug,
)
from kubedora.models import (
    DEPLOYMENT_ID_PATTERN,
    DeploymentSpec,
    FailureSource,
    FailureSpec,
    FailureState,
    GitInfo,
    Tag,
)

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# A seconds value this large would be after the year 5138; so would a
# milliseconds value of 1e14 or a microseconds value of 1e17.
_SECONDS_BELOW = 10**11
_MILLIS_BELOW = 10**14
_MICROS_BELOW = 10**17
_NANOS_BELOW = 10**20


def from_unix(value: object) -> datetime:
    """A UTC datetime from a Unix timestamp in s, ms, µs or ns (by magnitude)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(  # noqa: TRY004  (pydantic reports ValueError as a validation error)
            "must be an integer Unix timestamp in seconds, milliseconds or nanoseconds"
        )
    if isinstance(value, float) and not value.is_integer():
        raise ValueError("must be an integer, not a fraction")
    number = int(value)
    if number <= 0:
        raise ValueError("must be a positive Unix timestamp")
    if number < _SECONDS_BELOW:
        micros = number * 1_000_000
    elif number < _MILLIS_BELOW:
        micros = number * 1_000
    elif number < _MICROS_BELOW:
        micros = number
    elif number < _NANOS_BELOW:
        micros = number // 1_000
    else:
        raise ValueError("is too large for a Unix timestamp in nanoseconds")
    return _EPOCH + timedelta(microseconds=micros)


# What a sender writes (the OpenAPI document shows it): an integer, not the
# datetime it becomes.
UNIX_TIME_SCHEMA = {
    "type": "integer",
    "minimum": 1,
    "maximum": _NANOS_BELOW - 1,
    "description": "Unix time in seconds, milliseconds, microseconds or nanoseconds",
}
UnixTime = Annotated[datetime, BeforeValidator(from_unix), WithJsonSchema(UNIX_TIME_SCHEMA)]
DatadogId = Annotated[str, Field(pattern=DEPLOYMENT_ID_PATTERN)]
NonEmpty = Annotated[str, Field(min_length=1)]


class _DatadogModel(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class DoraGit(_DatadogModel):
    repository_url: Annotated[str, Field(min_length=1, max_length=2048)]
    # As GitInfo stores it: an abbreviated or full hex commit id.
    commit_sha: Annotated[str, Field(pattern=r"^[0-9a-fA-F]{7,64}$")]


class DoraDeploymentAttributes(_DatadogModel):
    service: NonEmptyLabel
    started_at: UnixTime
    finished_at: UnixTime
    env: Label | None = None
    team: Label | None = None
    version: Label | None = None
    id: DatadogId | None = None
    git: DoraGit | None = None
    custom_tags: list[Tag] | None = Field(default=None, max_length=100)

    @model_validator(mode="after")
    def _finished_after_started(self) -> Self:
        if self.finished_at < self.started_at:
            raise ValueError("finished_at must not be before started_at")
        return self


class DoraFailureAttributes(_DatadogModel):
    services: list[NonEmptyLabel] | None = Field(default=None, max_length=100)
    team: Label | None = None
    started_at: UnixTime
    finished_at: UnixTime | None = None
    name: str | None = None
    severity: Label | None = None
    env: Label | None = None
    version: Label | None = None
    id: DatadogId | None = None
    git: DoraGit | None = None
    custom_tags: list[Tag] | None = Field(default=None, max_length=100)

    @model_validator(mode="after")
    def _identified_and_ordered(self) -> Self:
        if not self.services and not self.team:
            raise ValueError("services or team is required")
        if self.finished_at is not None and self.finished_at < self.started_at:
            raise ValueError("finished_at must not be before started_at")
        return self


class DoraDeploymentData(_DatadogModel):
    attributes: DoraDeploymentAttributes


class DoraFailureData(_DatadogModel):
    attributes: DoraFailureAttributes


class DoraDeploymentRequest(_DatadogModel):
    data: DoraDeploymentData


class DoraFailureRequest(_DatadogModel):
    data: DoraFailureData


def parse_deployment(body: bytes) -> DoraDeploymentAttributes:
    return parse_json(DoraDeploymentRequest, body).data.attributes


def parse_failure(body: bytes) -> DoraFailureAttributes:
    return parse_json(DoraFailureRequest, body).data.attributes


def deployment_name(attributes: DoraDeploymentAttributes) -> str:
    """From the sender's id when it gives one (re-posting it updates the
    Deployment), else from what the deployment is: a retried post of the
    same body lands on the same object."""
    if attributes.id is not None:
        return exact_or_hashed("dd", attributes.id)
    identity = digest(
        attributes.service,
        attributes.env or "",
        attributes.started_at.isoformat(),
        attributes.finished_at.isoformat(),
    )
    return _named("dd", attributes.service, identity)


def deployment_spec(attributes: DoraDeploymentAttributes) -> DeploymentSpec:
    return DeploymentSpec(
        service=attributes.service,
        started_at=attributes.started_at,
        finished_at=attributes.finished_at,
        env=attributes.env,
        team=attributes.team,
        version=attributes.version,
        id=attributes.id,
        git=_git(attributes.git),
        custom_tags=list(attributes.custom_tags or []),
    )


def failure_name(attributes: DoraFailureAttributes) -> str:
    """Same env, services and start (to the second): the same failure, so a
    second post (the resolution) updates the first."""
    services = sorted(set(attributes.services or []))
    started = str(int(attributes.started_at.timestamp()))
    owner = "" if services else (attributes.team or "")
    identity = digest(attributes.env or "", ",".join(services), owner, started)
    return _named("dd", services[0] if services else owner, identity)


def failure_spec(previous: FailureSpec | None, attributes: DoraFailureAttributes) -> FailureSpec:
    """The failure after this post: what it gives replaces what was there,
    what it leaves out stays (a resolution may send only the finish)."""
    given: dict[str, object] = {
        "services": attributes.services,
        "team": attributes.team,
        "finished_at": attributes.finished_at,
        "name": attributes.name,
        "severity": attributes.severity,
        "env": attributes.env,
        "version": attributes.version,
        "id": attributes.id,
        "git": _git(attributes.git),
        "custom_tags": attributes.custom_tags,
    }
    updates = {key: value for key, value in given.items() if value is not None}
    if previous is None:
        return FailureSpec.model_validate(
            {**updates, "started_at": attributes.started_at, "source": FailureSource.API}
        )
    merged = {**previous.model_dump(), **updates}
    if merged.get("finished_at") is not None and previous.state == FailureState.ACTIVE:
        # The CRD refuses an active failure with a finish: the finish wins.
        merged["state"] = FailureState.RESOLVED
    return FailureSpec.model_validate(merged)


def _git(git: DoraGit | None) -> GitInfo | None:
    if git is None:
        return None
    return GitInfo(repository_url=git.repository_url, commit_sha=git.commit_sha)


def _named(prefix: str, readable: str, identity: str) -> str:
    # A readable part for `kubectl get`, a digest for uniqueness.
    parts = (prefix, slug(readable, max_length=40), identity)
    return "-".join(part for part in parts if part)


# Marking a deployment as a change failure (or back to stable), by id or by
# service, env and version: Datadog's PATCH /api/v2/dora/deployments/{id}
# and PATCH /api/v2/dora/deployments.


class DoraRemediation(_DatadogModel):
    """The deployment that remediated this one: by id, or by version in the
    same service and env (one of the two, not both)."""

    id: NonEmpty | None = None
    version: NonEmptyLabel | None = None
    type: Literal["rollback", "rollforward"] | None = None

    @model_validator(mode="after")
    def _one_way(self) -> Self:
        if (self.id is None) == (self.version is None):
            raise ValueError("give the remediation's id or its version, not both")
        return self


class DoraDeploymentPatchAttributes(_DatadogModel):
    change_failure: bool
    remediation: DoraRemediation | None = None


class DoraDeploymentPatchByVersionAttributes(DoraDeploymentPatchAttributes):
    service: NonEmptyLabel
    env: NonEmptyLabel
    version: NonEmptyLabel


class DoraDeploymentPatchData(_DatadogModel):
    id: str | None = None
    type: str | None = None
    attributes: DoraDeploymentPatchAttributes


class DoraDeploymentPatchByVersionData(_DatadogModel):
    type: str | None = None
    attributes: DoraDeploymentPatchByVersionAttributes


class DoraDeploymentPatchRequest(_DatadogModel):
    data: DoraDeploymentPatchData


class DoraDeploymentPatchByVersionRequest(_DatadogModel):
    data: DoraDeploymentPatchByVersionData


def parse_deployment_patch(body: bytes) -> DoraDeploymentPatchAttributes:
    return parse_json(DoraDeploymentPatchRequest, body).data.attributes


def parse_deployment_patch_by_version(body: bytes) -> DoraDeploymentPatchByVersionAttributes:
    return parse_json(DoraDeploymentPatchByVersionRequest, body).data.attributes


_OBJECT_NAME = re.compile(r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$")


def names_for_id(deployment_id: str) -> list[str]:
    """The Deployment an id may name: the object name the POST answered
    with, or the name a POST with that `id` attribute gave its Deployment."""
    hashed = exact_or_hashed("dd", deployment_id)
    # Only a valid object name is looked up as one: `.` or `..` in a
    # request path would name another URL of the API server.
    if not _OBJECT_NAME.match(deployment_id):
        return [hashed]
    return list(dict.fromkeys([deployment_id, hashed]))


def marked_spec(
    spec: DeploymentSpec, change_failure: bool, remediated_by: str | None
) -> DeploymentSpec:
    """The spec marked as a change failure (with its remediation) or not."""
    return spec.model_copy(
        update={
            "change_failure": change_failure,
            "remediated_by": remediated_by if change_failure else None,
        }
    )
