"""The client's address behind trusted proxies (EDUCONNECT_TRUSTED_PROXIES, RFC 7239)."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from idp.app import create_app
from idp.observability.net import TrustedProxies, client_address, parse_networks
from tests.conftest import make_settings

LOOPBACK = TrustedProxies(parse_networks("127.0.0.1,::1"))
BALANCERS = TrustedProxies(parse_networks("10.0.0.0/8"))


class TestChain:
    def test_untrusted_peer_is_the_client_whatever_it_forwards(self):
        assert client_address("203.0.113.9", "198.51.100.1", LOOPBACK) == "203.0.113.9"

    def test_trusted_peer_names_the_client(self):
        assert client_address("127.0.0.1", "198.51.100.7", LOOPBACK) == "198.51.100.7"

    def test_walks_from_the_right_skipping_trusted_hops(self):
        # forged by the client, then the real client (appended by the edge), then an inner proxy
        chain = "6.6.6.6, 198.51.100.7, 10.1.2.3"
        assert client_address("10.0.0.5", chain, BALANCERS) == "198.51.100.7"

    def test_forwarded_header(self):
        value = 'for=6.6.6.6;proto=http, for="[2001:db8:cafe::17]:4711";proto=https'
        assert client_address("127.0.0.1", value, LOOPBACK, "forwarded") == "2001:db8:cafe::17"
        assert client_address("127.0.0.1", "for=192.0.2.60:8080", LOOPBACK, "forwarded") == (
            "192.0.2.60"
        )

    @pytest.mark.parametrize(
        "header",
        [
            "garbage",
            ", , ,",
            "999.1.1.1",
            "for=unknown",
            "[::1",
            "\x00\xff" * 100,
            ",".join(["10.0.0.1"] * 5000),
            "1.2.3.4," * 50,
        ],
    )
    def test_garbage_never_raises_and_never_names_an_untrusted_forger(self, header):
        address = client_address("127.0.0.1", header, LOOPBACK)
        assert address in {"127.0.0.1", "::1", "10.0.0.1", "1.2.3.4"}

    def test_fifty_addresses(self):
        chain = ", ".join(f"192.0.2.{i}" for i in range(50))
        assert client_address("127.0.0.1", chain, LOOPBACK) == "192.0.2.49"

    def test_ipv4_mapped_peer(self):
        assert client_address("::ffff:127.0.0.1", "192.0.2.1", LOOPBACK) == "192.0.2.1"


@pytest.fixture
def make_client(database_url, redis_url, engine):
    clients = []

    def make(peer: str, **overrides) -> TestClient:
        app = create_app(make_settings(database_url, redis_url, **overrides), background=False)
        client = TestClient(app, base_url="http://localhost", client=(peer, 50000))
        clients.append(client.__enter__())
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


def _seen(client: TestClient, **headers) -> str:
    """The address the app records, through the sessions list's source: a failed login's
    audit entry."""
    from sqlalchemy import select

    from idp.security.models import AuditEvent
    from tests.support.oidc import csrf_of

    page = client.get("/login")
    client.post(
        "/login",
        data={"username": "nobody", "password": "x", "csrf_token": csrf_of(page.text)},
        headers=headers,
    )
    state = client.app.state.idp
    with state.sessions() as db:
        return db.scalars(select(AuditEvent.ip).order_by(AuditEvent.at.desc())).first()


class TestApp:
    def test_forged_header_from_an_untrusted_peer_is_ignored(self, make_client):
        client = make_client("203.0.113.9")
        assert _seen(client, **{"X-Forwarded-For": "198.51.100.1"}) == "203.0.113.9"

    def test_trusted_balancer_names_the_client(self, make_client):
        client = make_client("10.0.0.5", trusted_proxies="10.0.0.0/8")
        assert _seen(client, **{"X-Forwarded-For": "6.6.6.6, 198.51.100.7"}) == "198.51.100.7"

    def test_loopback_is_trusted_by_default(self, make_client):
        client = make_client("127.0.0.1")
        assert _seen(client, **{"X-Forwarded-For": "198.51.100.8"}) == "198.51.100.8"

    def test_only_the_configured_header_is_read(self, make_client):
        client = make_client("127.0.0.1", forwarded_header="forwarded")
        assert _seen(client, **{"X-Forwarded-For": "6.6.6.6"}) == "127.0.0.1"
        assert _seen(client, Forwarded="for=198.51.100.9") == "198.51.100.9"

    def test_garbage_headers_do_not_fail_a_request(self, make_client):
        client = make_client("127.0.0.1")
        for value in ("garbage", "1.1.1.1," * 50, "[::1]:x, ]["):
            assert client.get("/health", headers={"X-Forwarded-For": value}).status_code == 200

    def test_a_bad_cidr_refuses_to_start(self, database_url, redis_url):
        with pytest.raises(ValueError):
            make_settings(database_url, redis_url, trusted_proxies="10.0.0.0/33")


class TestScheme:
    def test_forwarded_proto_only_from_a_trusted_peer(self):
        import asyncio

        from idp.observability.net import ClientAddressMiddleware

        seen = {}

        async def app(scope, receive, send):
            seen.update(client=scope["client"], scheme=scope["scheme"])

        def run(peer: str) -> dict:
            scope = {
                "type": "http",
                "scheme": "http",
                "client": (peer, 1234),
                "headers": [
                    (b"x-forwarded-for", b"198.51.100.7"),
                    (b"x-forwarded-proto", b"https"),
                ],
            }
            asyncio.run(ClientAddressMiddleware(app, LOOPBACK)(scope, None, None))
            return dict(seen)

        assert run("127.0.0.1") == {"client": ("198.51.100.7", 0), "scheme": "https"}
        assert run("203.0.113.1") == {"client": ("203.0.113.1", 1234), "scheme": "http"}
