"""openapi/openapi.json is the exported document of the app (``make openapi`` rewrites it)."""

from __future__ import annotations

import json

from idp.openapi_doc import openapi_document
from idp.settings import REPO_ROOT


def test_exported_document_matches_the_app():
    exported = json.loads((REPO_ROOT / "openapi" / "openapi.json").read_text())
    assert exported == json.loads(json.dumps(openapi_document())), (
        "run `make openapi` and commit the result"
    )


def test_operation_ids_are_stable_and_unique():
    document = openapi_document()
    ids = [
        op["operationId"]
        for path in document["paths"].values()
        for op in path.values()
        if isinstance(op, dict) and "operationId" in op
    ]
    assert len(ids) == len(set(ids))
    for expected in (
        "discovery",
        "jwks",
        "authorize",
        "token",
        "userinfo",
        "introspect",
        "revoke",
        "end_session",
        "health",
        "ready",
    ):
        assert any(i == expected or i.startswith(expected + "_") for i in ids), expected
