"""Write the app's OpenAPI document to openapi/openapi.json (``make openapi``)."""

import json

from idp.openapi_doc import openapi_document
from idp.settings import REPO_ROOT

path = REPO_ROOT / "openapi" / "openapi.json"
path.write_text(json.dumps(openapi_document(), indent=2, ensure_ascii=False, sort_keys=True) + "\n")
print(f"wrote {path}")
