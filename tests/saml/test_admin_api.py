"""SAML service providers in the administration API."""

from __future__ import annotations

from urllib.parse import quote

from idp.openapi_doc import openapi_document
from tests.admin.conftest import app, clock, world  # noqa: F401
from tests.admin.helpers import add_staff, api_token
from tests.support.saml import SP_ENTITY, make_sp


def _bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def test_national_admin_adds_lists_and_removes(client, state, world, tmp_path):  # noqa: F811
    add_staff(state, world, "national")
    headers = _bearer(api_token(state, world, "national"))
    metadata = make_sp(tmp_path, None).metadata
    added = client.post(
        "/api/admin/saml/service-providers",
        json={"metadata": metadata, "release": ["sn", "givenName"]},
        headers=headers,
    )
    assert added.status_code == 201, added.text
    assert added.json()["release"] == ["givenName", "sn"]
    again = client.post(
        "/api/admin/saml/service-providers", json={"metadata": metadata}, headers=headers
    )
    assert again.status_code == 200 and again.json()["release"] == ["givenName", "sn"]
    listed = client.get("/api/admin/saml/service-providers", headers=headers).json()
    assert [sp["entity_id"] for sp in listed] == [SP_ENTITY]
    gone = client.delete(
        "/api/admin/saml/service-providers/" + quote(SP_ENTITY, safe=""), headers=headers
    )
    assert gone.status_code == 204
    assert client.get("/api/admin/saml/service-providers", headers=headers).json() == []


def test_bad_metadata_is_422_with_the_reason(client, state, world):  # noqa: F811
    add_staff(state, world, "national")
    headers = _bearer(api_token(state, world, "national"))
    response = client.post(
        "/api/admin/saml/service-providers",
        json={"metadata": '<!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>'},
        headers=headers,
    )
    assert response.status_code == 422
    assert "DOCTYPE" in response.json()["detail"]["message"]


def test_only_national_administrators(client, state, world, tmp_path):  # noqa: F811
    add_staff(state, world, "director_a")
    headers = _bearer(api_token(state, world, "director_a"))
    assert client.get("/api/admin/saml/service-providers", headers=headers).status_code == 403


def test_openapi_describes_it():
    paths = openapi_document()["paths"]
    assert "/api/admin/saml/service-providers" in paths
    assert "/idp/shibboleth" in paths
