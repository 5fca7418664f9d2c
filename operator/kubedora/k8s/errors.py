"""What can go wrong talking to the API server, in the terms callers act on."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager

import aiohttp
from kubernetes_asyncio.client.exceptions import ApiException

# Statuses that say "not now" rather than "no": overload, a proxy or the
# API server failing, the client's own transport errors (status 0).
UNAVAILABLE_STATUSES = frozenset({0, 429, 500, 502, 503, 504})
INVALID_STATUSES = frozenset({400, 422})
# What the client raises when the API server cannot be reached or does not
# answer in time: every caller treats these as "try again later".
TRANSPORT_ERRORS = (aiohttp.ClientError, OSError, TimeoutError)
# Those, and any answer of the API server that is not a success.
API_ERRORS = (ApiException, aiohttp.ClientError, OSError, TimeoutError)


class Unavailable(Exception):
    """The API server could not be reached, timed out or is overloaded; a
    retry later may succeed."""


class Rejected(Exception):
    """The API server refused an object as invalid; retrying cannot help."""


def status_message(exc: ApiException) -> str:
    """The `message` of the Status the API server sent, else its reason."""
    raw: object = exc.body
    body = raw.decode(errors="replace") if isinstance(raw, bytes) else raw
    if isinstance(body, str):
        try:
            status = json.loads(body)
        except ValueError:
            status = None
        if isinstance(status, dict) and isinstance(status.get("message"), str):
            return str(status["message"])
    return str(exc.reason or exc.status)


@contextmanager
def translated() -> Iterator[None]:
    """Turn transport failures and 5xx/429 into Unavailable, 400/422 into
    Rejected; every other ApiException (404, 409, 403, …) passes through for
    the caller to decide."""
    try:
        yield
    except ApiException as exc:
        if exc.status in UNAVAILABLE_STATUSES:
            raise Unavailable(f"API server answered {exc.status}: {status_message(exc)}") from exc
        if exc.status in INVALID_STATUSES:
            raise Rejected(status_message(exc)) from exc
        raise
    except TRANSPORT_ERRORS as exc:
        raise Unavailable(f"API server unreachable: {exc!r}") from exc
