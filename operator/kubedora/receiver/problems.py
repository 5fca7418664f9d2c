"""HTTP answers other than success, and the checks every POST goes through
before its body is parsed (size, content type).

Errors have the Datadog API's shape, for every route:
`{"errors": [{"status": "400", "title": "Bad Request", "detail": "..."}]}`."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from http import HTTPStatus

from aiohttp import ClientError, web


class Problem(Exception):
    """An answer other than success, raised anywhere below a route."""

    def __init__(
        self, status: int, detail: str, *, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.headers = dict(headers or {})

    def response(self) -> web.Response:
        return problem_response(self.status, self.detail, self.headers)


def problem_response(
    status: int, detail: str, headers: Mapping[str, str] | None = None
) -> web.Response:
    body = {
        "errors": [{"status": str(status), "title": HTTPStatus(status).phrase, "detail": detail}]
    }
    return web.json_response(body, status=status, headers=headers)


def is_json(content_type: str) -> bool:
    """application/json, or a JSON-based type such as application/vnd.x+json."""
    return content_type == "application/json" or content_type.endswith("+json")


def check_headers(request: web.Request, limit: int) -> None:
    """413 for a declared length over the limit, 415 for a non-JSON type,
    before anything is read."""
    if request.content_length is not None and request.content_length > limit:
        raise Problem(413, f"the body is {request.content_length} bytes; at most {limit} accepted")
    if not is_json(request.content_type):
        given = request.headers.get("Content-Type") or "none"
        raise Problem(415, f"send Content-Type: application/json (got {given})")


async def read_body(request: web.Request, limit: int, timeout: float) -> bytes:
    """The raw body (signatures are computed over these exact bytes)."""
    try:
        async with asyncio.timeout(timeout):
            return await request.read()
    except web.HTTPRequestEntityTooLarge:
        # A chunked body gives no length up front; aiohttp stops it at the limit.
        raise Problem(413, f"the body is over {limit} bytes") from None
    except TimeoutError:
        # Not the API server's fault: no 503, which would invite a retry storm.
        raise Problem(408, f"the body did not arrive within {timeout:g} s") from None
    except (ClientError, ConnectionError):
        # The sender went away mid-body: nobody reads this answer, but the
        # request is counted as refused, not as our failure.
        raise Problem(400, "the body ended before its declared length") from None
