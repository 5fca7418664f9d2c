"""Who may post: the DoraSources' API keys and PagerDuty signing secrets,
followed by watching the API server, and the checks against them.

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
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from kubernetes_asyncio import client
from pydantic import ValidationError

from kubedora.k8s.informer import Body, Informer
from kubedora.models import DORASOURCES, SECRETS, DeploymentSource, DoraSourceSpec, FailureSource

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


def credentials_of(
    dorasources: Iterable[Body], secrets: Mapping[str, Body]
) -> list[SourceCredentials]:
    """Every DoraSource with the secret values its references resolve to,
    sorted by name; `secrets` holds the namespace's Secrets by name."""
    found = []
    for item in sorted(dorasources, key=lambda body: str(body["metadata"].get("name", ""))):
        name = str(item["metadata"].get("name", ""))
        try:
            spec = DoraSourceSpec.model_validate(item.get("spec") or {})
        except ValidationError as error:
            problem = f"spec does not parse: {error.error_count()} errors"
            found.append(SourceCredentials(name=name, spec=DoraSourceSpec(), problems=(problem,)))
            continue
        keys: tuple[bytes, ...] = ()
        signing: tuple[bytes, ...] = ()
        problems = []
        if spec.api_key_secret_ref is not None:
            values = _secret_values(spec.api_key_secret_ref.name, secrets)
            keys = values.values
            if values.problem:
                problems.append(values.problem)
        if spec.pagerduty is not None and spec.pagerduty.signing_secret_ref is not None:
            values = _secret_values(spec.pagerduty.signing_secret_ref.name, secrets)
            signing = values.values
            if values.problem:
                problems.append(values.problem)
        flux: tuple[bytes, ...] = ()
        if spec.flux is not None and spec.flux.signing_secret_ref is not None:
            values = _secret_values(spec.flux.signing_secret_ref.name, secrets)
            flux = values.values
            if values.problem:
                problems.append(values.problem)
        found.append(
            SourceCredentials(
                name, spec, keys, signing, flux_signing_secrets=flux, problems=tuple(problems)
            )
        )
    return found


def _secret_values(name: str, secrets: Mapping[str, Body]) -> _SecretValues:
    secret = secrets.get(name)
    if secret is None:
        return _SecretValues((), f"Secret {name} not found")
    values = []
    for key, encoded in sorted((secret.get("data") or {}).items()):
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
    """The DoraSources that accept `api_key` and enable `source`.

    A key no DoraSource holds gets one answer, whatever the namespace holds
    (no DoraSource at all, none enabling the source, other keys): a caller
    without a key learns nothing of what exists. Every key is compared."""
    if not api_key:
        raise Denied(401, f"missing {API_KEY_HEADER} header")
    given = api_key.encode()
    holders = [s for s in sources if key_matches(given, s.api_keys)]
    if not holders:
        raise Denied(403, f"{API_KEY_HEADER} is not accepted")
    accepted = [s for s in holders if enables(s.spec, source)]
    if not accepted:
        raise Denied(
            403,
            f"no DoraSource that accepts this {API_KEY_HEADER} enables the "
            f"{describe_source(source)}",
        )
    return accepted


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


class _ByName:
    """An informer consumer keeping the bodies of one kind by name, and
    telling its owner when anything changed."""

    def __init__(self, changed: Callable[[], None]) -> None:
        self.bodies: dict[str, Body] = {}
        self._uids: dict[str, str] = {}
        self._changed = changed

    def upsert(self, uid: str, body: Body, *, listed: bool) -> None:
        name = str(body["metadata"]["name"])
        self.bodies[name], self._uids[uid] = body, name
        self._changed()

    def delete(self, uid: str, body: Body) -> None:
        name = self._uids.pop(uid, None)
        if name is not None:
            self.bodies.pop(name, None)
            self._changed()

    def retain(self, uids: Collection[str]) -> None:
        for uid in [uid for uid in self._uids if uid not in uids]:
            self.delete(uid, {})


class CredentialWatch:
    """The DoraSources of the receiver's namespace and their Secrets, followed
    by two informers: a key added to or removed from a Secret counts as soon
    as its watch event arrives, and no request costs an API read. While the
    API server is away the last credentials seen stay in force."""

    def __init__(self, api: client.ApiClient, namespace: str) -> None:
        self._dorasources = _ByName(self._invalidate)
        self._secrets = _ByName(self._invalidate)
        self.informers = (
            Informer(api, DORASOURCES, [self._dorasources], namespace=namespace),
            Informer(api, SECRETS, [self._secrets], namespace=namespace),
        )
        self._current: list[SourceCredentials] | None = None
        self._problems: set[tuple[str, str]] = set()

    @property
    def synced(self) -> bool:
        return all(informer.synced.is_set() for informer in self.informers)

    async def wait_synced(self) -> None:
        await asyncio.gather(*(informer.synced.wait() for informer in self.informers))

    def current(self) -> list[SourceCredentials]:
        if self._current is None:
            self._current = credentials_of(self._dorasources.bodies.values(), self._secrets.bodies)
            self._report(self._current)
        return self._current

    async def authorized(self, source: Source, api_key: str | None) -> list[SourceCredentials]:
        """authenticate() against what the watch shows; until it has listed
        once, the request waits (within its deadline, then 503)."""
        if not self.synced:
            await self.wait_synced()
        return authenticate(self.current(), source, api_key)

    def _invalidate(self) -> None:
        self._current = None

    def _report(self, sources: Sequence[SourceCredentials]) -> None:
        # Why a key may be refused (a missing Secret, say), once per change.
        problems = {(s.name, problem) for s in sources for problem in s.problems}
        for name, problem in sorted(problems - self._problems):
            log.warning(
                "DoraSource credentials incomplete", extra={"dorasource": name, "detail": problem}
            )
        self._problems = problems
