"""``educonnect saml …`` run in a subprocess, as an operator would."""

from __future__ import annotations

import json
import re

from tests.support.saml import SP_ENTITY, make_sp
from tests.test_cli import run  # noqa: F401 (the fixture)


def test_sp_add_list_remove(run, tmp_path):  # noqa: F811
    metadata = tmp_path / "sp.xml"
    metadata.write_text(make_sp(tmp_path, None).metadata)
    added = json.loads(
        run("saml", "sp", "add", "--metadata", str(metadata), "--release", "sn", "--json").stdout
    )
    assert added["entity_id"] == SP_ENTITY
    assert added["release"] == ["sn"]
    assert added["authn_requests_signed"] is True and added["encrypts_assertions"] is True
    listed = json.loads(run("saml", "sp", "list", "--json").stdout)
    assert [sp["entity_id"] for sp in listed] == [SP_ENTITY]
    run("saml", "sp", "remove", SP_ENTITY)
    again = run("saml", "sp", "remove", SP_ENTITY, ok=False)
    assert again.returncode != 0 and "no SAML service provider" in again.stderr


def test_sp_add_refuses_expired_metadata(run, tmp_path):  # noqa: F811
    xml = make_sp(tmp_path, None).metadata
    stale = re.sub(
        r"(<\w+:EntityDescriptor )", r'\1validUntil="2020-01-01T00:00:00Z" ', xml, count=1
    )
    assert stale != xml
    expired = tmp_path / "expired.xml"
    expired.write_text(stale)
    result = run("saml", "sp", "add", "--metadata", str(expired), ok=False)
    assert result.returncode != 0 and "expired" in result.stderr


def test_keys_rotate_promotes_the_published_next_key(run):  # noqa: F811
    first = json.loads(run("saml", "keys", "rotate", "--json").stdout)
    second = json.loads(run("saml", "keys", "rotate", "--json").stdout)
    assert second["active"] == first["next"]
    assert second["retired"] == first["active"]
