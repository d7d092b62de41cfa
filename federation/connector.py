"""What the IdP needs from an upstream identity provider, independent of the implementation.

The IdP depends on ``UpstreamConnector`` (implemented by ``FranceConnectConnector``), receives a
``FranceConnectIdentity`` on success and a ``FranceConnectError`` on any failure. The error's
``message`` is French and safe to show to users; ``detail`` is English, for logs only.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Protocol

from idp.i18n import _

_BIRTHDATE = re.compile(r"\d{4}-\d{2}-\d{2}")


class FranceConnectErrorCode:
    """Stable error codes, for the IdP's logic and logs (not shown to users)."""

    #: The user cancelled at FranceConnect (``error=access_denied`` on the callback).
    ACCESS_DENIED = "access_denied"
    #: FranceConnect sent another error on the callback.
    PROVIDER_ERROR = "provider_error"
    #: ``state`` missing or different: a forged, replayed or cross-browser callback.
    INVALID_STATE = "invalid_state"
    #: The callback carries neither a code nor an error.
    INVALID_CALLBACK = "invalid_callback"
    #: The code was refused (expired, already used): the user should start again.
    INVALID_GRANT = "invalid_grant"
    #: FranceConnect refused our client credentials: a configuration problem on our side.
    INVALID_CLIENT = "invalid_client"
    #: The ID token failed verification (signature, iss, aud, exp, nonce, acr).
    INVALID_ID_TOKEN = "invalid_id_token"
    #: The userinfo response failed verification (signature, iss, aud, sub).
    INVALID_USERINFO = "invalid_userinfo"
    #: Network failure, timeout, 5xx or unusable discovery/JWKS document.
    UNAVAILABLE = "unavailable"


MESSAGE_UNAVAILABLE = _(
    "FranceConnect est momentanément indisponible. Réessayez dans quelques minutes."
)
MESSAGE_ACCESS_DENIED = _(
    "Vous avez annulé la connexion avec FranceConnect. Vous pouvez réessayer ou vous "
    "connecter avec votre identifiant ÉduConnect."
)
MESSAGE_RESTART = _("La connexion avec FranceConnect n'a pas abouti. Veuillez recommencer.")
MESSAGE_EXPIRED = _("La connexion avec FranceConnect a expiré. Veuillez recommencer.")
MESSAGE_UNVERIFIED = _(
    "La réponse de FranceConnect n'a pas pu être vérifiée. Veuillez recommencer ; si le "
    "problème persiste, contactez l'assistance."
)


class FranceConnectError(Exception):
    """Any failure of the FranceConnect exchange, already phrased for the user."""

    def __init__(self, code: str, message: str, detail: str | None = None) -> None:
        super().__init__(f"{code}: {detail or message}")
        self.code = code
        #: French, shown to the user.
        self.message = message
        #: English, for logs; may name the failing check but never carries tokens.
        self.detail = detail


@dataclass(frozen=True, slots=True)
class FranceConnectIdentity:
    """The identity FranceConnect vouched for (claims from the verified userinfo JWT).

    Fields FC did not release are None; ``birthplace`` is ``""`` for people born abroad (FC
    convention). Tokens and raw claims are kept out of ``repr`` so logging an identity does not
    leak them.
    """

    sub: str
    given_name: str | None
    family_name: str | None
    birthdate: date | None
    gender: str | None
    email: str | None
    preferred_username: str | None
    birthplace: str | None
    birthcountry: str | None
    #: Needed later as ``id_token_hint`` for the FranceConnect logout.
    id_token: str = field(repr=False)
    #: The verified userinfo claims, as received.
    raw: dict[str, Any] = field(repr=False)
    #: The verified ID token claims (``acr``, ``amr``, ``auth_time``, ``sid``...).
    id_token_claims: dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def from_claims(
        cls, userinfo: dict[str, Any], id_token: str, id_token_claims: dict[str, Any]
    ) -> FranceConnectIdentity:
        """Build from already verified claims; malformed values become None."""
        raw_birthdate = _text(userinfo, "birthdate")
        birthdate: date | None = None
        if raw_birthdate and _BIRTHDATE.fullmatch(raw_birthdate):
            try:
                birthdate = date.fromisoformat(raw_birthdate)
            except ValueError:  # e.g. 1984-02-31
                birthdate = None
        return cls(
            sub=str(id_token_claims["sub"]),
            given_name=_text(userinfo, "given_name"),
            family_name=_text(userinfo, "family_name"),
            birthdate=birthdate,
            gender=_text(userinfo, "gender"),
            email=_text(userinfo, "email"),
            preferred_username=_text(userinfo, "preferred_username"),
            birthplace=_text(userinfo, "birthplace"),
            birthcountry=_text(userinfo, "birthcountry"),
            id_token=id_token,
            raw=userinfo,
            id_token_claims=id_token_claims,
        )


def _text(claims: Mapping[str, Any], name: str) -> str | None:
    value = claims.get(name)
    return value if isinstance(value, str) else None


class UpstreamConnector(Protocol):
    """An OpenID Connect provider the IdP delegates authentication to."""

    def new_state_and_nonce(self) -> tuple[str, str]: ...

    def login_url(self, state: str, nonce: str) -> str: ...

    def handle_callback(
        self, query_params: Mapping[str, str], expected_state: str, expected_nonce: str
    ) -> FranceConnectIdentity: ...

    def logout_url(self, id_token: str, state: str) -> str: ...
