"""Two instances behind HAProxy on PostgreSQL + Redis, driven through the balancer (issue 9 §7).

Runs when ``EDUCONNECT_TEST_DATABASE_URL`` and ``EDUCONNECT_TEST_REDIS_URL`` are set (as in
``.ci/run``): round robin sends consecutive requests to alternating instances, and HAProxy's
``X-Served-By`` header proves that each flow crossed them. One ``educonnect worker`` delivers
the outbox (the servers run no background work outside development).
"""

from __future__ import annotations

import time

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import KeySet

from idp.services import build_state
from tests.conftest import PG_URL, REDIS_URL, _empty_tables, _flush_redis, make_settings
from tests.e2e import cluster as topology
from tests.e2e.live import node_modules_ready, run_node
from tests.support.oidc import PASSWORD, csrf_of, make_account, make_rp

pytestmark = pytest.mark.skipif(
    not (PG_URL and REDIS_URL), reason="needs EDUCONNECT_TEST_DATABASE_URL and _REDIS_URL"
)


@pytest.fixture(scope="module")
def cluster(backend, database_url, redis_url, tmp_path_factory):
    if backend != "postgresql":
        pytest.skip("the multi-instance test runs on PostgreSQL + Redis")
    running = topology.start_cluster(database_url, redis_url, tmp_path_factory.mktemp("cluster"))
    state = build_state(make_settings(database_url, redis_url, issuer=running.url))
    running.env["state"] = state  # type: ignore[assignment]
    yield running
    topology.stop_cluster(running)
    state.engine.dispose()
    from idp.db import make_engine

    engine = make_engine(database_url)
    _empty_tables(engine)
    engine.dispose()
    _flush_redis(redis_url)


def _state(cluster):
    return cluster.env["state"]


def _login(http: httpx.Client, username: str, password: str) -> httpx.Response:
    page = http.get("/login")
    assert page.status_code == 200, page.text[:300]
    return http.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": csrf_of(page.text)},
        follow_redirects=False,
    )


def test_openid_client_across_instances(cluster):
    node_modules_ready("openid-client")
    state = _state(cluster)
    account = make_account(state, "m.instances")
    rp = make_rp(
        state,
        redirect_uris=[f"{cluster.url}/rp/cb"],
        post_logout_redirect_uris=[f"{cluster.url}/rp/bye"],
        grant_types=["authorization_code", "refresh_token"],
        scopes=["openid", "profile"],
        backchannel_logout_uri=cluster.receiver.url,
    )
    out = run_node(
        "multi_instance.mjs",
        {
            "issuer": cluster.url,
            "username": account.username,
            "password": PASSWORD,
            "rp": {
                "client_id": rp.client_id,
                "client_secret": rp.secret,
                "redirect_uri": rp.redirect_uri,
                "post_logout_redirect_uri": f"{cluster.url}/rp/bye",
            },
        },
        timeout=90,
    )
    context = topology.describe(cluster)
    # Login then SSO, each flow served by both instances.
    assert out["login"]["pages"] == ["login"]
    assert set(out["login"]["served"]) == {"idp1", "idp2"}, out["login"]
    assert out["sso"]["pages"] == [] and out["sso"]["same_sid"]
    assert set(out["sso"]["served"]) == {"idp1", "idp2"}
    # A code used twice, on the other instance: refused, and what it gave is revoked.
    assert out["code_reuse"]["error"] == "invalid_grant", context
    assert out["code_reuse"]["served"] != out["code_reuse"]["first_served"]
    assert out["code_reuse"]["tokens_after"] is False
    # A rotated-out refresh token replayed on the other instance: the family is revoked.
    assert out["refresh_reuse"]["error"] == "invalid_grant"
    assert out["refresh_reuse"]["after_reuse"] == "invalid_grant"
    assert len(set(out["refresh_reuse"]["served"])) == 2
    # Back-channel logout: exactly one logout token for the session, whoever delivers it.
    assert out["logout"]["status"] in (302, 303)
    deadline = time.monotonic() + 45
    while not cluster.receiver.tokens and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(3)  # a second delivery, if any, would arrive meanwhile
    assert len(cluster.receiver.tokens) == 1, (cluster.receiver.tokens, context)
    keys = KeySet.import_key_set(httpx.get(cluster.url + "/jwks").json())
    claims = jwt.decode(cluster.receiver.tokens[0], keys).claims
    assert claims["sid"] == out["logout"]["sid"]


def test_throttling_is_shared(cluster):
    state = _state(cluster)
    make_account(state, "t.shared")
    limit = state.settings.login_max_failures_account
    served = set()
    with httpx.Client(base_url=cluster.url) as http:
        for attempt in range(limit):
            if attempt % 2:
                http.get("/health")  # shift the round robin: the next POST lands elsewhere
            response = _login(http, "t.shared", "wrong password")
            served.add(response.headers.get("x-served-by"))
            assert response.status_code == 400
        refused = _login(http, "t.shared", PASSWORD)
    assert served == {"idp1", "idp2"}  # the failures were spread over both instances
    assert refused.status_code != 303 and "Trop de tentatives" in refused.text


def test_the_balancer_replaces_a_forged_forwarded_for(cluster):
    """The instances believe the balancer (a trusted proxy), which overwrites what the client
    claims: the address they see is the client's real one (loopback here), not the forgery."""
    for i in range(2):  # one request per instance
        httpx.get(
            cluster.url + "/health",
            headers={"X-Forwarded-For": "6.6.6.6", "X-Request-ID": f"forged-{i}"},
        )
    time.sleep(0.5)
    seen = {
        entry["request_id"]: entry.get("client_ip")
        for process in cluster.instances
        for entry in topology.json_lines(process)
        if entry.get("logger") == "educonnect.access"
        and str(entry.get("request_id", "")).startswith("forged-")
    }
    assert seen == {"forged-0": "127.0.0.1", "forged-1": "127.0.0.1"}, seen


def test_an_instance_killed_mid_run_fails_no_login(cluster):
    state = _state(cluster)
    make_account(state, "k.retry")
    results = []
    with httpx.Client(base_url=cluster.url) as http:
        for attempt in range(16):
            if attempt == 5:
                cluster.instances[0].kill()  # no goodbye: a crash
            http.cookies.clear()
            results.append(_login(http, "k.retry", PASSWORD).status_code)
    assert results == [303] * 16, (results, topology.describe(cluster))
