"""Argo CD notifications, as the webhook template in the README renders
them, turned into Deployments. No HTTP, no Kubernetes.

The template sends one flat JSON object per sync operation: the
application, its sync phase and health, the synced revision and repository,
and the operation's start and finish. A field the application lacks renders
as "" (or Go's `<no value>`): both mean absent here.

One sync operation is one Deployment, named by application, revision and
start, so a retried notification lands on the same object."""

from __future__ import annotations

import re
from typing import Annotated, Final

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field
from pydantic.alias_generators import to_camel

from kubedora.ingest.payload import IsoTime, Label, NonEmptyLabel, digest, parse_json, slug
from kubedora.models import DeploymentOutcome, DeploymentSource, DeploymentSpec, GitInfo

_HEX_COMMIT = re.compile(r"^[0-9a-fA-F]{7,64}$")
FAILED_PHASES: Final = frozenset({"Failed", "Error"})


def _absent(value: object) -> object:
    # What Go templates print for a missing field.
    if isinstance(value, str) and value.strip() in ("", "<no value>"):
        return None
    return value


Optional = Annotated[str | None, BeforeValidator(_absent)]
OptionalLabel = Annotated[Label | None, BeforeValidator(_absent)]
OptionalTime = Annotated[IsoTime | None, BeforeValidator(_absent)]


class ArgoCDNotification(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore")

    app: NonEmptyLabel
    phase: NonEmptyLabel
    started_at: IsoTime
    finished_at: OptionalTime = None
    namespace: Optional = None
    project: Optional = None
    service: OptionalLabel = None
    env: OptionalLabel = None
    team: OptionalLabel = None
    health: Optional = None
    revision: Optional = None
    repo_url: Annotated[str | None, BeforeValidator(_absent), Field(alias="repoURL")] = None
    message: Optional = None


def parse_notification(body: bytes) -> ArgoCDNotification:
    return parse_json(ArgoCDNotification, body)


def outcome_of(note: ArgoCDNotification) -> DeploymentOutcome | None:
    """succeeded, failed, or None: a phase that is no result (Running)."""
    if note.phase == "Succeeded":
        return DeploymentOutcome.SUCCEEDED
    if note.phase in FAILED_PHASES:
        return DeploymentOutcome.FAILED
    return None


def deployment_name(note: ArgoCDNotification) -> str:
    identity = digest(
        note.namespace or "", note.app, note.revision or "", note.started_at.isoformat()
    )
    return "-".join(part for part in ("argocd", slug(note.app, max_length=40), identity) if part)


def deployment_spec(note: ArgoCDNotification, default_env: str | None) -> DeploymentSpec | None:
    outcome = outcome_of(note)
    if outcome is None:
        return None
    revision = note.revision
    commit = revision if revision and _HEX_COMMIT.match(revision) else None
    git = None
    if commit or note.repo_url:
        git = GitInfo(repository_url=note.repo_url, commit_sha=commit.lower() if commit else None)
    finished = note.finished_at or note.started_at
    return DeploymentSpec(
        service=note.service or note.app,
        env=note.env or default_env,
        team=note.team,
        version=revision,
        started_at=min(note.started_at, finished),
        finished_at=finished,
        git=git,
        source=DeploymentSource.ARGOCD,
        outcome=outcome,
        outcome_reason=f"Sync{note.phase}" if outcome is DeploymentOutcome.FAILED else None,
        custom_tags=[f"argocd_app:{note.app}"],
    )
