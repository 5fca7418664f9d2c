"""JSON log lines, one object per line, with the ids that tie a line to a
delivery (event id, incident id, object name). Headers are never logged:
they carry the API keys."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

# `extra=` keys that are copied into the line when present.
FIELDS = (
    "event_id",
    "event_type",
    "incident_id",
    "failure",
    "deployment",
    "outcome",
    "conflicts",
    "dorasource",
    "env",
    "route",
    "status",
    "detail",
)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for field in FIELDS:
            value = record.__dict__.get(field)
            if value is not None:
                line[field] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


def configure(level: int = logging.INFO) -> None:
    """Send the receiver's and aiohttp's logs to stderr as JSON lines."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    for name in ("kubedora.receiver", "aiohttp"):
        logger = logging.getLogger(name)
        logger.handlers[:] = [handler]
        logger.setLevel(level)
        logger.propagate = False
