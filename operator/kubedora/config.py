"""Typed settings of the operator, read once from the environment."""

from __future__ import annotations

from pydantic import BaseModel, Field


class OperatorConfig(BaseModel):
    """How the operator paces its work. Environment: KUBEDORA_<FIELD> in upper case."""

    # A burst of Failure/Deployment events within this many seconds yields one recompute.
    debounce_seconds: float = Field(default=1.0, ge=0.0)
    # The window slides with time even when nothing changes; recompute this often.
    resync_seconds: float = Field(default=60.0, gt=0.0)
    # How long a silent operator replica keeps its claim before another takes over.
    peering_lifetime_seconds: float = Field(default=60.0, ge=5.0)
    # How many objects kopf handles at once (status writes in flight).
    worker_limit: int = Field(default=64, ge=1)
    # The namespaces served, as the command line says; None: every namespace.
    namespaces: list[str] | None = None

    @classmethod
    def from_env(cls, environ: dict[str, str]) -> OperatorConfig:
        values = {
            name: environ[f"KUBEDORA_{name.upper()}"]
            for name in cls.model_fields
            if f"KUBEDORA_{name.upper()}" in environ
        }
        return cls.model_validate(values)
