"""Logging: plain text for developers, one JSON object per stdout line in production.

Every line about a request carries its request id, route template, and client id (bound in
context variables by the request middleware). Nothing secret is ever logged: the access line
names the route *template*, never the URL with its query string (codes, states, tokens), and a
filter masks ``password=``/``code=``/``token=``-like values that a library might put in a message.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

request_id: ContextVar[str | None] = ContextVar("educonnect_request_id", default=None)
route: ContextVar[str | None] = ContextVar("educonnect_route", default=None)
client_id: ContextVar[str | None] = ContextVar("educonnect_client_id", default=None)

_SECRET = re.compile(
    r"(?i)\b((?:[a-z_]*password|code|(?:access_|refresh_|id_|logout_)?token|client_secret"
    r"|code_verifier|secret|authorization)[\"']?\s*[=:]\s*[\"']?(?:(?:basic|bearer)\s+)?)"
    r"[^\s&\"',;}]+"
)
#: Standard LogRecord attributes; everything else passed in ``extra=`` is a field.
_RESERVED = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}


def redact(text: str) -> str:
    return _SECRET.sub(r"\1[redacted]", text)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": redact(record.getMessage()),
        }
        for name, var in (("request_id", request_id), ("route", route), ("client_id", client_id)):
            if (value := var.get()) is not None:
                entry[name] = value
        for key, value in vars(record).items():
            if key not in _RESERVED and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = redact(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = redact(super().format(record))
        if rid := request_id.get():
            line += f" request_id={rid}"
        return line


def configure(log_format: str, level: str) -> None:
    """Route every logger (ours, uvicorn's) to stdout in the chosen format. Idempotent."""
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    handler.set_name("educonnect")
    root = logging.getLogger()
    root.handlers = [h for h in root.handlers if h.get_name() != "educonnect"] + [handler]
    root.setLevel(level.upper())
    # Python's warnings (a library's deprecation notice at import) are log records too, so
    # that every line on stdout keeps the chosen format.
    logging.captureWarnings(True)
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers = []
        logging.getLogger(name).propagate = True
    # Our access line replaces uvicorn's, which prints the query string (codes, tokens).
    logging.getLogger("uvicorn.access").disabled = True
