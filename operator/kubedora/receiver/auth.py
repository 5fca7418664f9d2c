"""Who may post: plain functions over the DoraSources' credentials.

A sender presents `DD-API-KEY`; it is accepted when it equals a value of
the Secret that a DoraSource enabling the posted source references. For
PagerDuty, a DoraSource with `pagerduty.signingSecretRef` also requires a
valid `X-PagerDuty-Signature`."""

from __future__ import annotations

import hmac
from collections.abc import Sequence

from kubedora.k8s.dorasources import SourceCredentials
from kubedora.models import FailureSource
from kubedora.receiver import signatures

API_KEY_HEADER = "DD-API-KEY"


class Denied(Exception):
    """401 (no credentials) or 403 (wrong ones), with a reason for the sender."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


def key_matches(given: bytes, keys: Sequence[bytes]) -> bool:
    """Constant-time comparison against every key (no early exit)."""
    matched = False
    for key in keys:
        matched |= hmac.compare_digest(given, key)
    return matched


def authenticate(
    sources: Sequence[SourceCredentials], source: FailureSource, api_key: str | None
) -> list[SourceCredentials]:
    """The DoraSources that enable `source` and accept `api_key`, by name."""
    if not api_key:
        raise Denied(401, f"missing {API_KEY_HEADER} header")
    enabled = [s for s in sources if source in s.spec.failure_sources]
    if not enabled:
        raise Denied(403, f"no DoraSource in this namespace enables the {source.value} source")
    given = api_key.encode()
    accepted = [s for s in enabled if key_matches(given, s.api_keys)]
    if not accepted:
        raise Denied(
            403, f"{API_KEY_HEADER} is not a key of any DoraSource enabling {source.value}"
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
        if signatures.verify(body, signature, candidate.signing_secrets):
            return candidate
    if not signature:
        raise Denied(401, f"missing {signatures.SIGNATURE_HEADER} header")
    raise Denied(403, f"{signatures.SIGNATURE_HEADER} does not match the body")
