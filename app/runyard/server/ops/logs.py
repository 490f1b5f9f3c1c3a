"""Server logging: plain text by default, one JSON object per line with ``json_logs``."""

from __future__ import annotations

import json
import logging
import sys
import time

from flask import Response, request

_ACCESS = logging.getLogger("runyard.access")
_CONFIGURED = False


class JsonFormatter(logging.Formatter):
    """Log records as JSON lines, with request fields when the record carries them."""

    FIELDS = ("method", "path", "status", "duration_ms", "remote_addr")

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for field in self.FIELDS:
            if hasattr(record, field):
                entry[field] = getattr(record, field)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry)


def configure_logging(json_logs: bool, level: str = "INFO") -> None:
    """Install one stderr handler on the ``runyard`` logger (once per process)."""
    global _CONFIGURED
    logger = logging.getLogger("runyard")
    logger.setLevel(level)
    if _CONFIGURED:
        return
    handler = logging.StreamHandler(sys.stderr)
    if json_logs:
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logger.addHandler(handler)
    logger.propagate = False
    _CONFIGURED = True


def log_access(response: Response, seconds: float) -> None:
    """One line per request: method, path, status and duration."""
    duration_ms = round(seconds * 1000, 1)
    _ACCESS.info(
        "%s %s %s %.1fms",
        request.method,
        request.path,
        response.status_code,
        duration_ms,
        extra={
            "method": request.method,
            "path": request.path,
            "status": response.status_code,
            "duration_ms": duration_ms,
            "remote_addr": request.remote_addr,
        },
    )
