"""OpenID Connect Discovery 1.0 and the JWKS (oidcc-server prerequisites)."""

from __future__ import annotations


class TestDiscovery:
    def test_metadata_names_every_endpoint(self, client):
        meta = client.get("/.well-known/openid-configuration").json()
        assert meta["issuer"] == "http://localhost"
        for name in (
            "authorization",
            "token",
            "userinfo",
            "introspection",
            "revocation",
            "end_session",
        ):
            assert meta[f"{name}_endpoint"].startswith("http://localhost/")
        assert meta["jwks_uri"] == "http://localhost/jwks"
        assert meta["code_challenge_methods_supported"] == ["S256"]
        assert meta["response_types_supported"] == ["code"]
        assert set(meta["subject_types_supported"]) == {"pairwise", "public"}
        assert meta["authorization_response_iss_parameter_supported"] is True
        assert meta["backchannel_logout_supported"] is True
        assert "private_key_jwt" in meta["token_endpoint_auth_methods_supported"]
        assert {"children", "school", "fredu"} <= set(meta["scopes_supported"])

    def test_jwks_publishes_public_keys_with_kids(self, client):
        keys = client.get("/jwks").json()["keys"]
        assert {k["alg"] for k in keys} == {"ES256", "RS256"}
        for key in keys:
            assert key["kid"]
            assert "d" not in key and "p" not in key  # never a private part
