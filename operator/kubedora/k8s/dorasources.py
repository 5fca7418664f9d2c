"""Read the DoraSources of a namespace with the secrets they reference: the
API keys a sender may present and the PagerDuty signing secrets."""

from __future__ import annotations

import asyncio
import base64
import binascii
from dataclasses import dataclass, field

from kubernetes_asyncio import client
from kubernetes_asyncio.client.exceptions import ApiException
from pydantic import ValidationError

from kubedora.k8s.errors import translated
from kubedora.models import GROUP, VERSION, DoraSourceSpec, SecretRef


@dataclass(frozen=True)
class SourceCredentials:
    """One DoraSource and the secret values its references resolve to."""

    name: str
    spec: DoraSourceSpec
    api_keys: tuple[bytes, ...] = ()
    signing_secrets: tuple[bytes, ...] = ()
    # Why some of them are missing, for the logs (never the values).
    problems: tuple[str, ...] = field(default=())

    @property
    def requires_signature(self) -> bool:
        return (
            self.spec.pagerduty is not None and self.spec.pagerduty.signing_secret_ref is not None
        )


@dataclass(frozen=True)
class _SecretValues:
    values: tuple[bytes, ...]
    problem: str | None


async def read_credentials(
    api: client.ApiClient, namespace: str, *, timeout: float
) -> list[SourceCredentials]:
    """Every parseable DoraSource of the namespace, sorted by name."""
    objects = client.CustomObjectsApi(api)
    with translated():
        listing = await objects.list_namespaced_custom_object(
            GROUP, VERSION, namespace, "dorasources", _request_timeout=timeout
        )
    parsed: list[tuple[str, DoraSourceSpec | None, str | None]] = []
    for item in listing.get("items", []):
        name = str(item.get("metadata", {}).get("name", ""))
        try:
            parsed.append((name, DoraSourceSpec.model_validate(item.get("spec") or {}), None))
        except ValidationError as error:
            parsed.append((name, None, f"spec does not parse: {error.error_count()} errors"))

    wanted = sorted(
        {ref.name for _, spec, _ in parsed if spec is not None for ref in _secret_refs(spec)}
    )
    core = client.CoreV1Api(api)
    read = await asyncio.gather(*(_secret_values(core, namespace, n, timeout) for n in wanted))
    secrets = dict(zip(wanted, read, strict=True))

    found = []
    for name, spec, problem in sorted(parsed, key=lambda entry: entry[0]):
        if spec is None:
            found.append(
                SourceCredentials(name=name, spec=DoraSourceSpec(), problems=(str(problem),))
            )
            continue
        keys: tuple[bytes, ...] = ()
        signing: tuple[bytes, ...] = ()
        problems = []
        if spec.api_key_secret_ref is not None:
            values = secrets[spec.api_key_secret_ref.name]
            keys = values.values
            if values.problem:
                problems.append(values.problem)
        if spec.pagerduty is not None and spec.pagerduty.signing_secret_ref is not None:
            values = secrets[spec.pagerduty.signing_secret_ref.name]
            signing = values.values
            if values.problem:
                problems.append(values.problem)
        found.append(SourceCredentials(name, spec, keys, signing, tuple(problems)))
    return found


def _secret_refs(spec: DoraSourceSpec) -> list[SecretRef]:
    refs: list[SecretRef] = []
    if spec.api_key_secret_ref is not None:
        refs.append(spec.api_key_secret_ref)
    if spec.pagerduty is not None and spec.pagerduty.signing_secret_ref is not None:
        refs.append(spec.pagerduty.signing_secret_ref)
    return refs


async def _secret_values(
    core: client.CoreV1Api, namespace: str, name: str, timeout: float
) -> _SecretValues:
    try:
        with translated():
            secret = await core.read_namespaced_secret(name, namespace, _request_timeout=timeout)
    except ApiException as exc:
        if exc.status == 404:
            return _SecretValues((), f"Secret {name} not found")
        raise
    values = []
    for key, encoded in sorted((secret.data or {}).items()):
        try:
            value = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            return _SecretValues((), f"Secret {name}: key {key} is not base64")
        # `kubectl create secret --from-file` keeps the file's final newline;
        # a key never ends in whitespace.
        value = value.strip()
        if value:
            values.append(value)
    if not values:
        return _SecretValues((), f"Secret {name} holds no values")
    return _SecretValues(tuple(values), None)
