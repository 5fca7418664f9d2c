"""Why a payload is refused, phrased for the sender: which field, and why."""

from __future__ import annotations

from typing import TypeVar

from pydantic import BaseModel, ValidationError

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
