"""Claims by scope (DESIGN.md §5; OpenID Connect Core §5.4).

Identity claims come from the account; family and school claims are built from the registry on
every call, so registry changes show in the next token or userinfo response.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from idp.accounts.family import registry_claims
from idp.accounts.models import Account
from idp.i18n import _
from idp.oidc.models import Client
from idp.oidc.tokens import TokenService

#: What the consent page says each scope shares.
SCOPE_DESCRIPTIONS = {
    "openid": _("Votre identifiant de connexion à ce service"),
    "profile": _("Vos nom et prénom"),
    "email": _("Votre adresse électronique"),
    "phone": _("Votre numéro de téléphone mobile"),
    "children": _("La liste de vos enfants : noms, prénoms, dates de naissance, écoles et classes"),
    "school": _("Votre établissement, votre niveau et votre classe"),
    "fredu": _("Vos informations de scolarité au format ÉduConnect"),
    "admin": _("Administrer les comptes de vos écoles et établissements (personnels habilités)"),
    "introspection": _("Vérifier la validité des jetons d'accès présentés au service"),
}

CLAIMS_SUPPORTED = [
    "sub",
    "iss",
    "auth_time",
    "acr",
    "amr",
    "sid",
    "given_name",
    "family_name",
    "preferred_username",
    "email",
    "email_verified",
    "phone_number",
    "phone_number_verified",
    "children",
    "school",
    "level",
    "class",
    "ine",
    "FrEduCtPersonAffiliation",
    "FrEduCtEleveUAI",
    "FrEduCtEleveNiveau",
    "FrEduVecteur",
]


def userinfo_claims(
    db: Session, tokens: TokenService, client: Client, account: Account, scopes: set[str]
) -> dict:
    claims: dict = {"sub": tokens.subject(client, account.id)}
    if "profile" in scopes:
        claims["given_name"] = account.given_name
        claims["family_name"] = account.family_name
        claims["preferred_username"] = account.username
    if "email" in scopes and account.email:
        claims["email"] = account.email
        claims["email_verified"] = account.email_verified
    if "phone" in scopes and account.phone_number:
        claims["phone_number"] = account.phone_number
        claims["phone_number_verified"] = account.phone_number_verified
    if scopes & {"children", "school", "fredu"}:
        claims.update(
            registry_claims(
                db,
                account,
                scopes,
                child_subject=lambda pupil_id: tokens.subject(client, f"pupil:{pupil_id}"),
                allow_ine=client.allow_ine,
            )
        )
    return claims
