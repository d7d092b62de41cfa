"""Signing keys, scope filtering and the JWTs the simulator issues (ID token, userinfo).

FC v2 signs ID tokens and userinfo responses with ES256 (or RS256) and publishes its keys on
``/api/v2/jwks`` (docs.partenaires.franceconnect.gouv.fr, "Les endpoints"; v2 migration page:
"vérifier la signature de la réponse /userinfo"). Scope-to-claim mapping follows the FC scopes
page (see domain-facts 1.5).
"""

from __future__ import annotations

from typing import Any

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, KeySet

#: Names tests put into ``app.state.faults`` to make the simulator misbehave. A fault stays
#: active until removed from the set. (S105: these names mention "token", they are no secrets.)
FAULT_BAD_ID_TOKEN_SIGNATURE = "bad_id_token_signature"
FAULT_WRONG_NONCE = "wrong_nonce"
FAULT_WRONG_ISSUER = "wrong_issuer"
FAULT_WRONG_AUDIENCE = "wrong_audience"
FAULT_EXPIRED_ID_TOKEN = "expired_id_token"
FAULT_UNKNOWN_KID = "unknown_kid"
FAULT_BAD_USERINFO_SIGNATURE = "bad_userinfo_signature"
FAULT_USERINFO_SUB_MISMATCH = "userinfo_sub_mismatch"
FAULT_USERINFO_JSON = "userinfo_json"
FAULT_TOKEN_SERVER_ERROR = "token_server_error"

FAULTS = frozenset(
    {
        FAULT_BAD_ID_TOKEN_SIGNATURE,
        FAULT_WRONG_NONCE,
        FAULT_WRONG_ISSUER,
        FAULT_WRONG_AUDIENCE,
        FAULT_EXPIRED_ID_TOKEN,
        FAULT_UNKNOWN_KID,
        FAULT_BAD_USERINFO_SIGNATURE,
        FAULT_USERINFO_SUB_MISMATCH,
        FAULT_USERINFO_JSON,
        FAULT_TOKEN_SERVER_ERROR,
    }
)

_IDENTITY_CLAIMS = (
    "given_name",
    "family_name",
    "birthdate",
    "gender",
    "birthplace",
    "birthcountry",
    "email",
    "preferred_username",
)

#: FC scopes and the claims each one releases. Since v2, ``identite_pivot`` no longer carries
#: ``preferred_username`` (v2 migration page).
SCOPE_CLAIMS: dict[str, tuple[str, ...]] = {
    "openid": ("sub",),
    **{claim: (claim,) for claim in _IDENTITY_CLAIMS},
    "profile": ("family_name", "given_name", "preferred_username", "gender", "birthdate"),
    "birth": ("birthplace", "birthcountry"),
    "identite_pivot": (
        "given_name",
        "family_name",
        "birthdate",
        "gender",
        "birthplace",
        "birthcountry",
    ),
}

#: Every claim the simulator can put in an ID token or a userinfo response.
CLAIMS_SUPPORTED = (
    "sub",
    "iss",
    "aud",
    "acr",
    "amr",
    "auth_time",
    "sid",
    "nonce",
    *_IDENTITY_CLAIMS,
)

ACR_VALUES = ("eidas1",)
SIGNING_ALG = "ES256"


def claims_for_scopes(identity_claims: dict[str, str], scopes: tuple[str, ...]) -> dict[str, str]:
    """Keep only the claims the granted scopes release (unknown scopes release nothing)."""
    wanted = {claim for scope in scopes for claim in SCOPE_CLAIMS.get(scope, ())}
    return {name: value for name, value in identity_claims.items() if name in wanted}


def _new_key() -> ECKey:
    return ECKey.generate_key("P-256", {"use": "sig", "alg": SIGNING_ALG}, auto_kid=True)


class Signer:
    """The simulator's signing keys. A rotation keeps the previous key published so tokens
    signed just before it still verify, the way a real provider rolls keys over."""

    def __init__(self) -> None:
        self._keys: list[ECKey] = [_new_key()]

    @property
    def current_kid(self) -> str:
        return str(self._keys[-1].kid)

    def rotate(self) -> str:
        """Start signing with a new key; return its ``kid``. Keeps at most two keys."""
        self._keys = [*self._keys[-1:], _new_key()]
        return self.current_kid

    def jwks(self) -> dict[str, Any]:
        return KeySet(list(self._keys)).as_dict(private=False)

    def sign(
        self, claims: dict[str, Any], *, forged: bool = False, unknown_kid: bool = False
    ) -> str:
        """Sign ``claims``. ``forged`` signs with a throwaway key under the published ``kid``
        (a bad signature); ``unknown_kid`` signs with an unpublished key and its own ``kid``."""
        key = self._keys[-1]
        kid = self.current_kid
        if forged or unknown_kid:
            key = _new_key()
            kid = str(key.kid) if unknown_kid else kid
        return jwt.encode({"alg": SIGNING_ALG, "kid": kid}, claims, key, algorithms=[SIGNING_ALG])

    def verify(self, token: str) -> dict[str, Any] | None:
        """Claims of a token this simulator signed, or None. Expiry is not checked on purpose:
        an ``id_token_hint`` may be an expired ID token (OIDC RP-Initiated Logout, section 2)."""
        try:
            decoded = jwt.decode(token, KeySet(list(self._keys)), algorithms=[SIGNING_ALG])
        except (JoseError, ValueError):
            return None
        return dict(decoded.claims)
