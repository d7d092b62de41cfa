"""Every model module, imported once so ``metadata`` is complete (Alembic, tests)."""

from idp.accounts import models as accounts  # noqa: F401
from idp.accounts.journeys import models as account_journeys  # noqa: F401
from idp.admin import models as admin  # noqa: F401
from idp.db import Base
from idp.oidc import models as oidc  # noqa: F401
from idp.outbox import models as outbox  # noqa: F401
from idp.registry import models as registry  # noqa: F401
from idp.saml import models as saml  # noqa: F401
from idp.security import models as security  # noqa: F401
from idp.support import models as support  # noqa: F401
from idp.worker import leases as worker  # noqa: F401

metadata = Base.metadata
