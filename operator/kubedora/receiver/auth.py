"""Who may post: the DoraSources' API keys and PagerDuty signing secrets, read
from the API server and cached, and the checks against them.

A sender presents `DD-API-KEY`; it is accepted when it equals a value of
the Secret that a DoraSource enabling the posted source references. For
PagerDuty, a DoraSource with `pagerduty.signingSecretRef` also requires a
valid `X-PagerDuty-Signature`: one `v1=<hex HMAC-SHA256 of the raw body>`
per signing secret of the subscription, comma-separated while a secret is
being rotated; a delivery is authentic when any of them matches any secret
we hold."""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import hmac
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from kubernetes_asyncio import client
from kubernetes_asyncio.client.exceptions import ApiException
from pydantic import ValidationError

from kubedora.k8s.errors import translated
from kubedora.models import DORASOURCES, DeploymentSource, DoraSourceSpec, FailureSource, SecretRef

log = logging.getLogger("kubedora.receiver.auth")


@dataclass(frozen=True)
class SourceCredentials:
    """One DoraSource and the secret values its references resolve to."""

    name: str
    spec: DoraSourceSpec
    api_keys: tuple[bytes, ...] = ()
    signing_secrets: tuple[bytes, ...] = ()
    # The `token` values of a Flux generic-hmac Provider (spec.flux.signingSecretRef).
    flux_signing_secrets: tuple[bytes, ...] = ()
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
            DORASOURCES.group,
            DORASOURCES.version,
            namespace,
            DORASOURCES.plural,
            _request_timeout=timeout,
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
        flux: tuple[bytes, ...] = ()
        if spec.flux is not None and spec.flux.signing_secret_ref is not None:
            values = secrets[spec.flux.signing_secret_ref.name]
            flux = values.values
            if values.problem:
                problems.append(values.problem)
        found.append(
            SourceCredentials(
                name, spec, keys, signing, flux_signing_secrets=flux, problems=tuple(problems)
            )
        )
    return found


def _secret_refs(spec: DoraSourceSpec) -> list[SecretRef]:
    refs: list[SecretRef] = []
    if spec.api_key_secret_ref is not None:
        refs.append(spec.api_key_secret_ref)
    if spec.pagerduty is not None and spec.pagerduty.signing_secret_ref is not None:
        refs.append(spec.pagerduty.signing_secret_ref)
    if spec.flux is not None and spec.flux.signing_secret_ref is not None:
        refs.append(spec.flux.signing_secret_ref)
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


SIGNATURE_HEADER = "X-PagerDuty-Signature"
VERSION_PREFIX = "v1="


def sign(body: bytes, secret: bytes) -> str:
    """The `v1=` signature PagerDuty computes for body with secret."""
    return VERSION_PREFIX + hmac.new(secret, body, hashlib.sha256).hexdigest()


def signatures_in(header: str) -> list[bytes]:
    """The hex digests of the v1 entries of a signature header (other
    versions are for future schemes and never match)."""
    found = []
    for entry in header.split(","):
        entry = entry.strip()
        if entry.startswith(VERSION_PREFIX):
            found.append(entry.removeprefix(VERSION_PREFIX).lower().encode())
    return found


def verify(body: bytes, header: str | None, secrets: Sequence[bytes]) -> bool:
    """Whether any v1 signature in header is body's HMAC under any secret."""
    if not header or not secrets:
        return False
    expected = [hmac.new(s, body, hashlib.sha256).hexdigest().encode() for s in secrets]
    return any_equal(signatures_in(header), expected)


API_KEY_HEADER = "DD-API-KEY"


class Denied(Exception):
    """401 (no credentials) or 403 (wrong ones), with a reason for the sender."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


def any_equal(given: Sequence[bytes], expected: Sequence[bytes]) -> bool:
    """Whether any given value equals any expected one. Every pair is
    compared, in constant time each and with no early exit: how long this
    takes says nothing about which value, or how much of it, matched."""
    matched = False
    for candidate in given:
        for value in expected:
            matched |= hmac.compare_digest(candidate, value)
    return matched


def key_matches(given: bytes, keys: Sequence[bytes]) -> bool:
    return any_equal([given], keys)


Source = FailureSource | DeploymentSource


def enables(spec: DoraSourceSpec, source: Source) -> bool:
    """Whether the DoraSource counts what `source` sends: its failureSources
    for failures, its deploymentSources for deployments. (Both kinds have an
    `api` member and StrEnums compare as strings: tell them apart by type.)"""
    if isinstance(source, DeploymentSource):
        return source in spec.deployment_sources
    return source in spec.failure_sources


def describe_source(source: Source) -> str:
    if isinstance(source, DeploymentSource):
        return f"{source.value} deployment source"
    return f"{source.value} source"


def authenticate(
    sources: Sequence[SourceCredentials], source: Source, api_key: str | None
) -> list[SourceCredentials]:
    """The DoraSources that enable `source` and accept `api_key`, by name."""
    if not api_key:
        raise Denied(401, f"missing {API_KEY_HEADER} header")
    enabled = [s for s in sources if enables(s.spec, source)]
    if not enabled:
        raise Denied(403, f"no DoraSource in this namespace enables the {describe_source(source)}")
    given = api_key.encode()
    accepted = [s for s in enabled if key_matches(given, s.api_keys)]
    if not accepted:
        raise Denied(
            403, f"{API_KEY_HEADER} is not a key of any DoraSource enabling {source.value}"
        )
    return accepted


FLUX_SIGNATURE_HEADER = "X-Signature"
FLUX_PREFIX = "sha256="


def flux_signed_by(
    accepted: Sequence[SourceCredentials], body: bytes, signature: str | None
) -> SourceCredentials:
    """The first accepted DoraSource whose Flux rule the delivery meets: no
    key configured, or `X-Signature: sha256=<hex HMAC-SHA256 of the body>`
    under one of its keys (a `generic-hmac` Provider's `token`). Anything
    else is 401: the sender could not prove who it is."""
    for candidate in accepted:
        secrets = candidate.flux_signing_secrets
        wants = candidate.spec.flux is not None and candidate.spec.flux.signing_secret_ref
        if not wants:
            return candidate
        if signature and signature.strip().lower().startswith(FLUX_PREFIX) and secrets:
            given = signature.strip()[len(FLUX_PREFIX) :].lower().encode()
            expected = [hmac.new(s, body, hashlib.sha256).hexdigest().encode() for s in secrets]
            if any_equal([given], expected):
                return candidate
    if not signature:
        raise Denied(401, f"missing {FLUX_SIGNATURE_HEADER} header")
    raise Denied(401, f"{FLUX_SIGNATURE_HEADER} does not match the body")


def signed_by(
    accepted: Sequence[SourceCredentials], body: bytes, signature: str | None
) -> SourceCredentials:
    """The first accepted DoraSource whose signature rule the delivery meets:
    none configured, or a valid signature under one of its secrets."""
    for candidate in accepted:
        if not candidate.requires_signature:
            return candidate
        if verify(body, signature, candidate.signing_secrets):
            return candidate
    if not signature:
        raise Denied(401, f"missing {SIGNATURE_HEADER} header")
    raise Denied(403, f"{SIGNATURE_HEADER} does not match the body")


Loader = Callable[[], Awaitable[list[SourceCredentials]]]
Clock = Callable[[], float]


class CredentialCache:
    def __init__(
        self,
        load: Loader,
        *,
        ttl: float,
        min_refresh: float,
        clock: Clock = time.monotonic,
    ) -> None:
        self._load = load
        self._ttl = ttl
        self._min_refresh = min_refresh
        self._clock = clock
        self._sources: list[SourceCredentials] | None = None
        self._loaded_at = 0.0
        self._lock = asyncio.Lock()
        self._problems: set[tuple[str, str]] = set()

    async def current(self) -> Sequence[SourceCredentials]:
        """The credentials, reloaded when older than ttl. Raises what the
        loader raises (Unavailable when the API server is unreachable)."""
        if self._sources is None or self._age() >= self._ttl:
            return await self._reload(max_age=self._ttl)
        return self._sources

    async def authorized(self, source: Source, api_key: str | None) -> list[SourceCredentials]:
        """authenticate() against the cache; a refused key triggers one reload."""
        sources = await self.current()
        try:
            return authenticate(sources, source, api_key)
        except Denied as denied:
            if denied.status != 403 or self._age() < self._min_refresh:
                raise
        sources = await self._reload(max_age=self._min_refresh)
        return authenticate(sources, source, api_key)

    def _age(self) -> float:
        return self._clock() - self._loaded_at

    async def _reload(self, *, max_age: float) -> list[SourceCredentials]:
        # One load at a time; whoever waited behind it reuses its result.
        async with self._lock:
            if self._sources is not None and self._age() < max_age:
                return self._sources
            sources = await self._load()
            self._sources = sources
            self._loaded_at = self._clock()
            self._report(sources)
            return sources

    def _report(self, sources: Sequence[SourceCredentials]) -> None:
        # Why a key may be refused (a missing Secret, say), once per change
        # rather than at every reload.
        problems = {(s.name, problem) for s in sources for problem in s.problems}
        for name, problem in sorted(problems - self._problems):
            log.warning(
                "DoraSource credentials incomplete", extra={"dorasource": name, "detail": problem}
            )
        self._problems = problems
