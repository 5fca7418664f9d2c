"""A stand-in for PagerDuty's REST API (v2), for a SaaS the tests cannot reach.

It serves `GET /incidents`, `GET /incidents/{id}/alerts` and
`GET /incidents/{id}/log_entries` in the response shapes of PagerDuty's API
reference, from an in-memory history, on a free loopback port, and enforces
the documented limits, answering as PagerDuty does:

- `Authorization: Token token=…` and the v2 `Accept` type, else 401 / 400;
- classic pagination: `limit` at most 100; `offset + limit` over 10,000 is a
  400 (the cap can be lowered so that small histories exercise it);
- `since`/`until` at most 6 months apart (400); without them, the last month;
  a timestamp without an offset is read in `time_zone`, else in the
  account's time zone (America/Los_Angeles here);
- 960 requests a minute per token (configurable for fast tests), every
  answer carrying `ratelimit-limit`, `ratelimit-remaining` and
  `ratelimit-reset`, and 429 beyond it;
- injected faults: every n-th request a 429 or a 5xx.

Every refusal for a limit is recorded in `refusals`, so a test can assert
that none happened."""

from __future__ import annotations

import asyncio
import bisect
import random
import socket
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web

ACCEPT = "application/vnd.pagerduty+json;version=2"
ACCOUNT_TIME_ZONE = ZoneInfo("America/Los_Angeles")
SERVICES = ("Checkout API", "Payments", "Search", "Catalog")


def pd_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Incident:
    """One incident as the stand-in keeps it."""

    id: str
    number: int
    created_at: datetime
    status: str  # triggered | acknowledged | resolved
    resolved_at: datetime | None = None
    service: str = SERVICES[0]
    team: str = "Shop"
    alert_details: dict[str, Any] | None = None

    @property
    def ttr_seconds(self) -> float | None:
        if self.resolved_at is None:
            return None
        return (self.resolved_at - self.created_at).total_seconds()

    def as_json(self) -> dict[str, Any]:
        service_id = "P" + "".join(c for c in self.service.upper() if c.isalnum())[:6]
        resolved = self.resolved_at is not None
        last_change = self.resolved_at or self.created_at
        return {
            "id": self.id,
            "type": "incident",
            "summary": f"[#{self.number}] {self.service} is failing",
            "self": f"https://api.pagerduty.com/incidents/{self.id}",
            "html_url": f"https://acme.pagerduty.com/incidents/{self.id}",
            "incident_number": self.number,
            "title": f"{self.service} is failing",
            "created_at": pd_time(self.created_at),
            "updated_at": pd_time(last_change),
            "status": self.status,
            "incident_key": f"key-{self.id.lower()}",
            "service": {
                "id": service_id,
                "type": "service_reference",
                "summary": self.service,
                "self": f"https://api.pagerduty.com/services/{service_id}",
                "html_url": f"https://acme.pagerduty.com/service-directory/{service_id}",
            },
            "assignments": [] if resolved else [{"at": pd_time(self.created_at)}],
            "assigned_via": "escalation_policy",
            "last_status_change_at": pd_time(last_change),
            "resolved_at": pd_time(self.resolved_at) if self.resolved_at else None,
            "first_trigger_log_entry": {
                "id": f"R{self.id}",
                "type": "trigger_log_entry_reference",
                "summary": "Triggered through the API",
            },
            "alert_counts": {
                "all": 1,
                "triggered": 0 if resolved else 1,
                "resolved": int(resolved),
            },
            "is_mergeable": True,
            "escalation_policy": {"id": "PT20YPA", "type": "escalation_policy_reference"},
            "teams": [{"id": "PQ9K7I8", "type": "team_reference", "summary": self.team}],
            "pending_actions": [],
            "acknowledgements": (
                [{"at": pd_time(self.created_at)}] if self.status == "acknowledged" else []
            ),
            "priority": {"id": "PSO75BM", "type": "priority", "summary": "P2"},
            "urgency": "high",
            "resolve_reason": None,
            "conference_bridge": None,
        }


def history(
    total: int,
    *,
    dense: int,
    now: datetime,
    span: timedelta = timedelta(days=725),
    dense_start: timedelta = timedelta(days=400),
    dense_span: timedelta = timedelta(days=90),
    seed: int = 13,
) -> list[Incident]:
    """`total` incidents created over `span` before now, `dense` of them in a
    3-month stretch starting `dense_start` ago; most resolved, some still
    acknowledged or triggered."""
    rng = random.Random(seed)
    start, stretch = now - span, now - dense_start
    incidents = []
    for i in range(total):
        if i < dense:
            created = stretch + timedelta(seconds=rng.uniform(0, dense_span.total_seconds()))
        else:
            created = start + timedelta(seconds=rng.uniform(0, span.total_seconds() - 3600))
        created = created.replace(microsecond=0)
        roll = rng.random()
        status = "resolved" if roll < 0.9 else "acknowledged" if roll < 0.95 else "triggered"
        resolved = created + timedelta(seconds=rng.randint(60, 36_000)) if roll < 0.9 else None
        incidents.append(
            Incident(
                id=f"Q{i:07d}",
                number=i + 1,
                created_at=created,
                status=status,
                resolved_at=resolved if resolved is None or resolved < now else None,
                service=SERVICES[i % len(SERVICES)],
            )
        )
    return incidents


@dataclass
class Faults:
    """Every n-th request (0: never) answered 429 or 500 instead."""

    throttle_every: int = 0
    error_every: int = 0


@dataclass
class StandIn:
    token: str
    incidents: list[Incident]
    rate_per_minute: int = 960
    # The rate limit's window: a minute at PagerDuty; tests shrink it, with
    # rate_per_minute then counting per window.
    window_seconds: float = 60.0
    offset_cap: int = 10_000
    faults: Faults = field(default_factory=Faults)
    # Alerts of these incidents answer 500 until removed.
    failing_alerts: set[str] = field(default_factory=set)
    requests: Counter[str] = field(default_factory=Counter)
    refusals: list[str] = field(default_factory=list)
    over_limit: int = 0
    injected_429: int = 0
    injected_5xx: int = 0
    max_per_window: int = 0

    def __post_init__(self) -> None:
        self.incidents.sort(key=lambda i: (i.created_at, i.id))
        self._created = [i.created_at for i in self.incidents]
        self._by_id = {i.id: i for i in self.incidents}
        self._window_start = time.monotonic()
        self._window_count = 0
        self._seen = 0

    def total_requests(self) -> int:
        return sum(self.requests.values())

    # --- limits ---

    def _rate(self, request: web.Request) -> web.Response | None:
        now = time.monotonic()
        if now - self._window_start >= self.window_seconds:
            self._window_start, self._window_count = now, 0
        self._window_count += 1
        self.max_per_window = max(self.max_per_window, self._window_count)
        if self._window_count > self.rate_per_minute:
            self.over_limit += 1
            return self._throttled()
        self._seen += 1
        if self.faults.throttle_every and self._seen % self.faults.throttle_every == 0:
            self.injected_429 += 1
            return self._throttled(reset=1)
        if self.faults.error_every and self._seen % self.faults.error_every == 0:
            self.injected_5xx += 1
            return web.json_response(
                {"error": {"message": "Internal Server Error", "code": 2000}}, status=500
            )
        return None

    def _rate_headers(self, reset: float | None = None) -> dict[str, str]:
        left = max(0, self.rate_per_minute - self._window_count)
        until = (
            reset
            if reset is not None
            else self.window_seconds - (time.monotonic() - self._window_start)
        )
        return {
            "ratelimit-limit": str(self.rate_per_minute),
            "ratelimit-remaining": str(left),
            "ratelimit-reset": str(max(1, round(until))),
        }

    def _throttled(self, reset: float | None = None) -> web.Response:
        return web.json_response(
            {"error": {"message": "Too many requests", "code": 2020}},
            status=429,
            headers=self._rate_headers(reset),
        )

    def _refuse(self, why: str, status: int = 400) -> web.Response:
        self.refusals.append(why)
        return web.json_response(
            {"error": {"message": "Invalid Input Provided", "code": 2001, "errors": [why]}},
            status=status,
            headers=self._rate_headers(),
        )

    def _check(self, request: web.Request, kind: str) -> web.Response | None:
        self.requests[kind] += 1
        if request.headers.get("Authorization") != f"Token token={self.token}":
            return web.json_response(
                {"error": {"message": "Unauthorized", "code": 2006}}, status=401
            )
        if request.headers.get("Accept") != ACCEPT:
            return self._refuse(f"Accept must be {ACCEPT}")
        return self._rate(request)

    # --- routes ---

    async def list_incidents(self, request: web.Request) -> web.Response:
        refused = self._check(request, "incidents")
        if refused is not None:
            return refused
        query = request.query
        try:
            limit = min(int(query.get("limit", "25")), 100)
            offset = int(query.get("offset", "0"))
            zone = ZoneInfo(query["time_zone"]) if "time_zone" in query else ACCOUNT_TIME_ZONE
            until = _read_time(query.get("until"), zone) or datetime.now(UTC)
            since = _read_time(query.get("since"), zone) or until - timedelta(days=30)
        except (ValueError, KeyError) as error:
            return self._refuse(f"bad parameter: {error}")
        if offset + limit > self.offset_cap:
            return self._refuse(f"Offset must be less than {self.offset_cap - limit + 1}.")
        if until > _plus_months(since, 6):
            return self._refuse("The maximum range allowed is 6 months.")
        low = bisect.bisect_left(self._created, since)
        high = bisect.bisect_left(self._created, until)
        chosen = self.incidents[low:high]
        if query.get("sort_by", "created_at:asc") == "created_at:desc":
            chosen = chosen[::-1]
        page = chosen[offset : offset + limit]
        body: dict[str, Any] = {
            "incidents": [i.as_json() for i in page],
            "limit": limit,
            "offset": offset,
            "total": len(chosen) if query.get("total") == "true" else None,
            "more": offset + limit < len(chosen),
        }
        return web.json_response(body, headers=self._rate_headers())

    async def alerts(self, request: web.Request) -> web.Response:
        refused = self._check(request, "alerts")
        if refused is not None:
            return refused
        incident = self._by_id.get(request.match_info["id"])
        if incident is None:
            return web.json_response({"error": {"message": "Not Found", "code": 2100}}, status=404)
        if incident.id in self.failing_alerts:
            return web.json_response(
                {"error": {"message": "Internal Server Error", "code": 2000}}, status=500
            )
        details = incident.alert_details or {"firing": "latency above SLO"}
        alert = {
            "id": f"A{incident.id}",
            "type": "alert",
            "summary": "latency above SLO",
            "created_at": pd_time(incident.created_at),
            "status": "resolved" if incident.resolved_at else "triggered",
            "alert_key": f"key-{incident.id.lower()}",
            "incident": {"id": incident.id, "type": "incident_reference"},
            "body": {
                "type": "alert_body",
                "contexts": [],
                "details": details,
                "cef_details": {"details": details, "event_class": "latency"},
            },
        }
        body = {"alerts": [alert], "limit": 100, "offset": 0, "more": False, "total": None}
        return web.json_response(body, headers=self._rate_headers())

    async def log_entries(self, request: web.Request) -> web.Response:
        refused = self._check(request, "log_entries")
        if refused is not None:
            return refused
        incident = self._by_id.get(request.match_info["id"])
        if incident is None:
            return web.json_response({"error": {"message": "Not Found", "code": 2100}}, status=404)
        entries = [{"type": "trigger_log_entry", "created_at": pd_time(incident.created_at)}]
        if incident.status == "acknowledged":
            entries.append(
                {"type": "acknowledge_log_entry", "created_at": pd_time(incident.created_at)}
            )
        if incident.resolved_at is not None:
            entries.append(
                {"type": "resolve_log_entry", "created_at": pd_time(incident.resolved_at)}
            )
        for n, entry in enumerate(entries):
            entry["id"] = f"L{incident.id}{n}"
        body = {"log_entries": entries, "limit": 100, "offset": 0, "more": False, "total": None}
        return web.json_response(body, headers=self._rate_headers())


def _read_time(raw: str | None, zone: ZoneInfo) -> datetime | None:
    if raw is None:
        return None
    moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=zone)


def _plus_months(moment: datetime, months: int) -> datetime:
    month = moment.month - 1 + months
    year, month = moment.year + month // 12, month % 12 + 1
    for day in range(moment.day, 27, -1):
        try:
            return moment.replace(year=year, month=month, day=day)
        except ValueError:
            continue
    return moment.replace(year=year, month=month, day=min(moment.day, 28))


@dataclass
class RunningStandIn:
    state: StandIn
    port: int
    _loop: asyncio.AbstractEventLoop
    _thread: threading.Thread
    _runner: web.AppRunner

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(timeout=30)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=30)
        self._loop.close()


def serve(state: StandIn) -> RunningStandIn:
    """The stand-in on 127.0.0.1, a free port, in a thread of its own."""
    app = web.Application()
    app.router.add_get("/incidents", state.list_incidents)
    app.router.add_get("/incidents/{id}/alerts", state.alerts)
    app.router.add_get("/incidents/{id}/log_entries", state.log_entries)
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="pagerduty-stand-in", daemon=True)
    thread.start()
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    port: int = listener.getsockname()[1]

    async def start() -> web.AppRunner:
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.SockSite(runner, listener).start()
        return runner

    runner = asyncio.run_coroutine_threadsafe(start(), loop).result(timeout=30)
    return RunningStandIn(state, port, loop, thread, runner)
