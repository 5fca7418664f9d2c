"""Deterministic object names: the same event always names the same object,
so retries and duplicates land on it instead of beside it."""

from __future__ import annotations

import hashlib
import re

_INVALID = re.compile(r"[^a-z0-9-]+")
_MAX_SLUG = 63
_MAX_EXACT = 200


def digest(*parts: str, length: int = 12) -> str:
    """A short hex digest of parts (joined unambiguously)."""
    joined = "\x1f".join(parts).encode()
    return hashlib.sha256(joined).hexdigest()[:length]


def slug(text: str, *, max_length: int = _MAX_SLUG) -> str:
    """text as a DNS label fragment: lower case, `-` for anything else."""
    return _INVALID.sub("-", text.lower())[:max_length].strip("-")


def exact_or_hashed(prefix: str, identity: str, *, fold_case: bool = False) -> str:
    """`prefix-identity` when identity is already a valid name fragment (up
    to case, with fold_case); otherwise its slug plus a digest of it, so that
    identities that clean up alike still get different names."""
    cleaned = slug(identity, max_length=_MAX_EXACT)
    plain = identity.lower() if fold_case else identity
    if cleaned and cleaned == plain:
        return f"{prefix}-{cleaned}"
    parts = (prefix, cleaned[:_MAX_SLUG].strip("-"), digest(identity))
    return "-".join(part for part in parts if part)
