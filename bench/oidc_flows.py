"""Load that needs per-request state, driven from Python (httpx): full authorization code flows
with an SSO session, each ``GET /authorize`` → 302 with a code → ``POST /token``.

Several processes (the GIL would otherwise make the driver the bottleneck), a few threads each;
every thread logs in once (its own SSO session), waits for a common start time, then runs flows
until a common end time.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
import statistics
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import httpx

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class FlowResult:
    flows: int
    errors: int
    seconds: float
    p50_ms: float
    p99_ms: float
    first_error: str | None = None

    @property
    def rate(self) -> float:
        return self.flows / self.seconds

    @property
    def ok(self) -> bool:
        return self.errors == 0


def csrf_pair(http: httpx.Client) -> str:
    """Load the login page: the client now holds the ``ec_csrf`` cookie; return the form token."""
    page = http.get("/login")
    page.raise_for_status()
    match = _CSRF.search(page.text)
    assert match, "no CSRF field on the login page"
    return match.group(1)


def login(http: httpx.Client, username: str, password: str) -> None:
    token = csrf_pair(http)
    response = http.post(
        "/login", data={"username": username, "password": password, "csrf_token": token}
    )
    if response.status_code != 303 or "ec_session" not in http.cookies:
        raise RuntimeError(f"login failed: {response.status_code} {response.text[:300]}")


def _pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def one_flow(http: httpx.Client, client_id: str, secret: str, redirect_uri: str) -> str | None:
    """One authorization with the SSO session, and the code exchange. ``None`` or an error."""
    verifier, challenge = _pkce()
    state = secrets.token_urlsafe(12)
    response = http.get(
        "/authorize",
        params={
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": redirect_uri,
            "scope": "openid profile email",
            "state": state,
            "nonce": secrets.token_urlsafe(12),
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        },
    )
    if response.status_code != 302:
        return f"authorize: {response.status_code} {response.text[:200]}"
    query = parse_qs(urlsplit(response.headers["location"]).query)
    if query.get("state") != [state] or "code" not in query:
        return f"authorize: unexpected redirect {response.headers['location'][:200]}"
    token = http.post(
        "/token",
        data={
            "grant_type": "authorization_code",
            "code": query["code"][0],
            "redirect_uri": redirect_uri,
            "code_verifier": verifier,
        },
        auth=(client_id, secret),
    )
    if token.status_code != 200 or "id_token" not in token.json():
        return f"token: {token.status_code} {token.text[:200]}"
    return None


def _thread(job: dict, username: str, out: list) -> None:
    with httpx.Client(base_url=job["issuer"], timeout=30.0) as http:
        login(http, username, job["password"])
        while time.time() < job["start"]:
            time.sleep(0.005)
        flows, errors, first_error, latencies = 0, 0, None, []
        while time.time() < job["end"]:
            began = time.perf_counter()
            error = one_flow(http, job["client_id"], job["secret"], job["redirect_uri"])
            if error is None:
                flows += 1
                latencies.append(time.perf_counter() - began)
            else:
                errors += 1
                first_error = first_error or error
        out.append((flows, errors, first_error, latencies))


def _process(job: dict, usernames: list[str]) -> list:
    out: list = []
    threads = [threading.Thread(target=_thread, args=(job, u, out)) for u in usernames]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return out


def code_flows(
    issuer: str,
    client_id: str,
    secret: str,
    usernames: list[str],
    password: str,
    *,
    duration: float,
    processes: int = 2,
    threads: int = 4,
    settle: float = 3.0,
) -> FlowResult:
    """Run flows from ``processes × threads`` clients for ``duration`` seconds."""
    start = time.time() + settle  # every client has logged in (argon2) by then
    job = {
        "issuer": issuer,
        "client_id": client_id,
        "secret": secret,
        "redirect_uri": f"{issuer}/cb",
        "password": password,
        "start": start,
        "end": start + duration,
    }
    names = [usernames[i % len(usernames)] for i in range(processes * threads)]
    with ProcessPoolExecutor(processes) as pool:
        futures = [
            pool.submit(_process, job, names[p * threads : (p + 1) * threads])
            for p in range(processes)
        ]
        rows = [row for f in futures for row in f.result()]
    latencies = sorted(x for row in rows for x in row[3])
    return FlowResult(
        flows=sum(r[0] for r in rows),
        errors=sum(r[1] for r in rows),
        seconds=duration,
        p50_ms=statistics.median(latencies) * 1000 if latencies else float("nan"),
        p99_ms=latencies[int(len(latencies) * 0.99)] * 1000 if latencies else float("nan"),
        first_error=next((r[2] for r in rows if r[2]), None),
    )
