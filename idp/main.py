"""The module-level ASGI app, for ``uvicorn idp.main:app`` (and ``educonnect serve``)."""

from idp.app import create_app
from idp.observability.logs import configure
from idp.settings import Settings

settings = Settings()
# Here, not in create_app: logging belongs to the process (uvicorn has configured its own by
# now), and tests build many apps in one process.
configure(settings.log_format, settings.log_level)
app = create_app(settings)
