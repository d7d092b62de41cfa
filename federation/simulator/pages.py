"""French HTML pages of the simulator (identity picker and error page).

Errors are shown as a page, never redirected: like FC, the simulator must not send a browser to
a ``redirect_uri`` it has not validated (RFC 6749 section 4.1.2.1; OWASP open redirect).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

#: FC shows ``Y000400`` for a malformed /authorize request (FC partner docs, "Les endpoints").
#: The other codes are the simulator's own, in the same style.
ERROR_BAD_REQUEST = "Y000400"
ERROR_FORBIDDEN = "Y000403"
ERROR_NOT_FOUND = "Y000404"

_env = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(["html"]),
)

#: Pages carry one-time tokens and must not be framed (clickjacking) or cached.
_HEADERS = {
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "Referrer-Policy": "no-referrer",
}


class SimulatorPageError(Exception):
    """A request error rendered as the French error page."""

    def __init__(self, code: str, message: str, status_code: int = 400) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status_code = status_code


def render(template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    html = _env.get_template(template).render(**context)
    return HTMLResponse(html, status_code=status_code, headers=_HEADERS)


def render_error(error: SimulatorPageError) -> HTMLResponse:
    return render(
        "error.html", status_code=error.status_code, code=error.code, message=error.message
    )
