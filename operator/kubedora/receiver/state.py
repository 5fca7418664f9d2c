"""What every route shares, kept on the aiohttp application."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web
from prometheus_client import CollectorRegistry

from kubedora.receiver.credentials import CredentialCache
from kubedora.receiver.metrics import ReceiverMetrics
from kubedora.receiver.settings import ReceiverSettings
from kubedora.receiver.writer import Writer

Probe = Callable[[], Awaitable[bool]]


@dataclass(frozen=True)
class ReceiverState:
    settings: ReceiverSettings
    writer: Writer
    credentials: CredentialCache
    metrics: ReceiverMetrics
    registry: CollectorRegistry
    readiness: Probe


STATE_KEY = web.AppKey("receiver_state", ReceiverState)
