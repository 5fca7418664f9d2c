"""Error answers in the Datadog API's shape, for every route:
`{"errors": [{"status": "400", "title": "Bad Request", "detail": "..."}]}`."""

from __future__ import annotations

from collections.abc import Mapping
from http import HTTPStatus

from aiohttp import web


class Problem(Exception):
    """An answer other than success, raised anywhere below a route."""

    def __init__(
        self, status: int, detail: str, *, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.headers = dict(headers or {})

    @property
    def title(self) -> str:
        return HTTPStatus(self.status).phrase

    def response(self) -> web.Response:
        return problem_response(self.status, self.detail, self.headers)


def problem_response(
    status: int, detail: str, headers: Mapping[str, str] | None = None
) -> web.Response:
    body = {
        "errors": [{"status": str(status), "title": HTTPStatus(status).phrase, "detail": detail}]
    }
    return web.json_response(body, status=status, headers=headers)
