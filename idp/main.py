"""The module-level ASGI app, for ``uvicorn idp.main:app`` (and ``educonnect serve``)."""

from idp.observability.logs import configure
from idp.settings import Settings

settings = Settings()
# Here, not in create_app: logging belongs to the process (uvicorn has configured its own by
# now), and tests build many apps in one process. Before importing the app, so that what its
# libraries say at import (deprecation warnings) is logged in the chosen format too.
configure(settings.log_format, settings.log_level)

from idp.app import create_app  # noqa: E402

app = create_app(settings)
