"""SP metadata: what is read from it, and what is refused with a clear message."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from idp.saml.providers import MetadataError, parse_metadata
from tests.support.saml import ACS, SLO, SP_ENTITY, make_sp

NOW = datetime.now(UTC)


def test_reads_endpoints_certificates_and_signing(tmp_path):
    parsed = parse_metadata(make_sp(tmp_path, None).metadata, NOW)
    assert parsed.entity_id == SP_ENTITY
    assert [a["location"] for a in parsed.acs] == [ACS]
    assert [s["location"] for s in parsed.slo] == [SLO]
    assert parsed.authn_requests_signed and parsed.encrypts and not parsed.signed


def test_without_encryption_key(tmp_path):
    parsed = parse_metadata(make_sp(tmp_path, None, encrypt=False).metadata, NOW)
    # The signing key is "use=signing": nothing to encrypt to.
    assert parsed.encrypts is False


@pytest.mark.parametrize(
    ("xml", "message"),
    [
        ("<x", "not well-formed"),
        ('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>', "DOCTYPE"),
        ('<!DOCTYPE x SYSTEM "http://example.net/x.dtd"><x/>', "DOCTYPE"),
        ("<x/>", "EntityDescriptor"),
        (
            '<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" '
            'entityID="https://a.example/"><md:SPSSODescriptor/></md:EntityDescriptor>',
            "HTTP-POST",
        ),
    ],
)
def test_refused(xml, message):
    with pytest.raises(MetadataError, match=message):
        parse_metadata(xml, NOW)
