"""The Datadog-compatible DORA API as plain functions: bodies in, specs and
deterministic names out. No HTTP, no Kubernetes."""

from __future__ import annotations

from typing import TypeVar

from pydantic import BaseModel, ValidationError

from kubedora.models import (
    DeploymentSpec,
    DoraDeploymentAttributes,
    DoraDeploymentRequest,
    DoraFailureAttributes,
    DoraFailureRequest,
    DoraGit,
    FailureSource,
    FailureSpec,
    FailureState,
    GitInfo,
)
from kubedora.receiver.invalid import PayloadError, describe, is_malformed_json
from kubedora.receiver.names import digest, exact_or_hashed, slug

_Request = TypeVar("_Request", bound=BaseModel)


def parse_deployment(body: bytes) -> DoraDeploymentAttributes:
    return _parse(DoraDeploymentRequest, body).data.attributes


def parse_failure(body: bytes) -> DoraFailureAttributes:
    return _parse(DoraFailureRequest, body).data.attributes


def _parse(model: type[_Request], body: bytes) -> _Request:
    try:
        return model.model_validate_json(body)
    except ValidationError as error:
        if is_malformed_json(error):
            raise PayloadError("the body is not valid JSON") from error
        raise PayloadError(describe(error)) from error


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
