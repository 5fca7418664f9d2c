"""The checks every POST goes through before its body is parsed."""

from __future__ import annotations

from aiohttp import web

from kubedora.receiver.auth import API_KEY_HEADER
from kubedora.receiver.problems import Problem


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


def api_key(request: web.Request) -> str | None:
    return request.headers.get(API_KEY_HEADER) or None


async def read_body(request: web.Request, limit: int) -> bytes:
    """The raw body (signatures are computed over these exact bytes)."""
    try:
        return await request.read()
    except web.HTTPRequestEntityTooLarge:
        # A chunked body gives no length up front; aiohttp stops it at the limit.
        raise Problem(413, f"the body is over {limit} bytes") from None
