"""What both senders' payloads share: why one is refused, phrased for the
sender (which field, and why), and how the object it becomes is named.

Names are deterministic: the same event always names the same object, so
retries and duplicates land on it instead of beside it."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime
from typing import Annotated, TypeVar

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    Field,
    ValidationError,
    WithJsonSchema,
)

_Payload = TypeVar("_Payload", bound=BaseModel)

# Enough to point at each problem without echoing a whole payload back.
_MAX_ERRORS = 5


class PayloadError(ValueError):
    """The body is not a payload kubedora can read; `detail` says why."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


def describe(error: ValidationError, prefix: str = "") -> str:
    """e.g. `data.attributes.service: Field required; ...`."""
    parts = []
    for item in error.errors(include_url=False, include_input=False)[:_MAX_ERRORS]:
        where = ".".join(str(part) for part in item["loc"])
        where = f"{prefix}.{where}" if prefix and where else (prefix or where)
        message = item["msg"].removeprefix("Value error, ")
        parts.append(f"{where}: {message}" if where else message)
    more = error.error_count() - _MAX_ERRORS
    if more > 0:
        parts.append(f"and {more} more")
    return "; ".join(parts)


def is_malformed_json(error: ValidationError) -> bool:
    return any(item["type"] == "json_invalid" for item in error.errors())


def parse_json(model: type[_Payload], body: bytes) -> _Payload:
    """The payload in body, or PayloadError saying what is wrong with it."""
    try:
        return model.model_validate_json(body)
    except ValidationError as error:
        if is_malformed_json(error):
            raise PayloadError("the body is not valid JSON") from error
        raise PayloadError(describe(error)) from error


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


# What becomes a service, env, team or version: one line of text. A control
# character or line break there is never meant (`dd_env: prod\r\n...`) and
# would follow the value into logs, metrics labels and the page.
LABEL_PATTERN = r"^[^\x00-\x1f\x7f-\x9f\u2028\u2029]*$"
MAX_LABEL = 256
_NOT_A_LABEL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")
Label = Annotated[str, Field(max_length=MAX_LABEL, pattern=LABEL_PATTERN)]
NonEmptyLabel = Annotated[str, Field(min_length=1, max_length=MAX_LABEL, pattern=LABEL_PATTERN)]


def check_label(value: str, where: str) -> str:
    """value when it may be a label (see Label); PayloadError otherwise. For
    what arrives outside a model, e.g. a header (whose bytes that are no
    UTF-8 arrive as lone surrogates)."""
    if len(value) > MAX_LABEL:
        raise PayloadError(f"{where}: at most {MAX_LABEL} characters")
    if _NOT_A_LABEL.search(value):
        raise PayloadError(f"{where}: control characters, line breaks or non-UTF-8 bytes")
    return value


# The instants kubedora stores: what the CRDs' date-time accepts and every
# later computation can convert to UTC.
_EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
_LATEST = datetime(9999, 12, 31, tzinfo=UTC)
_ISO_DATE = re.compile(r"^\s*[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _iso_string(value: object) -> object:
    # pydantic would also read a number, or a string of digits, as Unix
    # time; the senders of these fields write RFC 3339 strings (and code
    # building a model passes datetimes).
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not _ISO_DATE.match(value):
        raise ValueError("must be an ISO 8601 (RFC 3339) date-time string")
    return value


def _in_range(value: datetime) -> datetime:
    try:
        utc = value.astimezone(UTC)
    except OverflowError:
        raise ValueError("is out of range once in UTC") from None
    if not _EARLIEST <= utc < _LATEST:
        raise ValueError("must be between 1970 and 9999 (UTC)")
    return value


IsoTime = Annotated[
    AwareDatetime,
    BeforeValidator(_iso_string),
    AfterValidator(_in_range),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]
