"""The receiver's knobs, with the values PagerDuty's delivery rules call for."""

from __future__ import annotations

from dataclasses import dataclass

# PagerDuty drops deliveries over 256 KB; nothing legitimate is larger.
MAX_BODY_BYTES = 256 * 1024


@dataclass(frozen=True)
class ReceiverSettings:
    """Where to write, and how long to wait for what."""

    namespace: str
    max_body_bytes: int = MAX_BODY_BYTES
    # DoraSources and their Secrets are cached this long, so a delivery does
    # not cost three extra API reads; a key added since is honoured sooner,
    # see credentials_min_refresh.
    credentials_ttl: float = 5.0
    # An unknown key makes the receiver reload its credentials, at most this
    # often (a wrong key must not turn into a stream of API reads).
    credentials_min_refresh: float = 1.0
    # One request to the API server.
    api_timeout: float = 2.0
    # The whole delivery: PagerDuty gives up after 5 s and retries; answering
    # 503 before that tells it the same, sooner.
    deadline: float = 4.0
    # Seconds a 503 tells the sender to wait before retrying.
    retry_after: int = 5
