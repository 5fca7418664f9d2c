"""PagerDuty v3 webhook signatures.

`X-PagerDuty-Signature` carries one `v1=<hex HMAC-SHA256 of the raw body>`
per signing secret of the subscription, comma-separated while a secret is
being rotated; a delivery is authentic when any of them matches any secret
we hold."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence

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
    given = signatures_in(header)
    expected = [hmac.new(s, body, hashlib.sha256).hexdigest().encode() for s in secrets]
    matched = False
    # Every pair is compared, in constant time each: how long this takes
    # says nothing about which entry, or how much of it, matched.
    for digest in expected:
        for candidate in given:
            matched |= hmac.compare_digest(digest, candidate)
    return matched
