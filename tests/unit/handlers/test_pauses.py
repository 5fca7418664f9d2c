"""kopf's debug messages that mean "nothing is handled until someone acts"
are raised to WARNING; its other debug messages stay hidden unless verbose."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from kubedora.handlers.runtime import surface_pauses

WATCHING = "kopf._cogs.clients.watching"
PEERING = "kopf._core.engines.peering"


@pytest.fixture
def records() -> Iterator[list[logging.LogRecord]]:
    seen: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(record)

    handler = Keep()
    loggers = [logging.getLogger(name) for name in (WATCHING, PEERING)]
    for logger in loggers:
        logger.addHandler(handler)
    yield seen
    for logger in loggers:
        logger.removeHandler(handler)
        logger.filters.clear()
        logger.setLevel(logging.NOTSET)


def test_a_pause_for_a_missing_peering_crd_is_a_warning(
    records: list[logging.LogRecord],
) -> None:
    surface_pauses(verbose=False)
    watching = logging.getLogger(WATCHING)
    watching.debug(
        "Pausing the watch-stream for failures.v1alpha1.kubedora.io in 'ns' "
        "(blockers: peering CRD is missing)."
    )
    watching.debug("Starting the watch-stream for failures.v1alpha1.kubedora.io in 'ns'.")
    assert [(r.levelno, r.getMessage()[:24]) for r in records] == [
        (logging.WARNING, "Pausing the watch-stream")
    ]
    assert "--standalone" in records[0].getMessage()


def test_a_standby_replica_pausing_for_its_peer_stays_quiet(
    records: list[logging.LogRecord],
) -> None:
    surface_pauses(verbose=False)
    logging.getLogger(WATCHING).debug(
        "Pausing the watch-stream for failures.v1alpha1.kubedora.io cluster-wide "
        "(blockers: kubedora@None)."
    )
    assert records == []


def test_a_keepalive_into_a_missing_peering_object_is_a_warning(
    records: list[logging.LogRecord],
) -> None:
    surface_pauses(verbose=True)
    peering = logging.getLogger(PEERING)
    peering.debug("Keep-alive in 'kubedora' cluster-wide: not found.")
    peering.debug("Keep-alive in 'kubedora' cluster-wide: ok.")
    assert [r.levelno for r in records] == [logging.WARNING, logging.DEBUG]
    assert "peering object is gone" in records[0].getMessage()
