"""What an SP is told about the person: EduConnect's attributes, from the account and the
registry, read fresh at each login (docs/saml.md has the table).

Attributes go by URI name (``urn:oid:…``, NameFormat ``uri``) with EduConnect's friendly names;
``FrEduVecteur`` and ``ctemail`` have no known OID and go by their plain name, as EduConnect
sends them. The release policy of an SP is the list of friendly names it may receive; the INE
hash and the birth date are only for SPs allowed them (like ``--allow-ine`` for OpenID clients).
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime
from zoneinfo import ZoneInfo

from saml2.attribute_converter import AttributeConverter
from saml2.saml import NAME_FORMAT_URI
from sqlalchemy import select
from sqlalchemy.orm import Session

from idp.accounts.family import registry_claims
from idp.accounts.models import Account, AccountGuardian, AccountKind
from idp.i18n import _
from idp.registry.models import Guardian, Pupil, PupilStatus

BASE = "urn:oid:1.3.6.1.4.1.20326.10.999.1."
OIDS = {
    "FrEduUrlRetour": BASE + "5",
    "FrEduCtDateConnexion": BASE + "6",
    "FrEduCtPersonAffiliation": BASE + "7",
    "FrEduCtId": BASE + "57",
    "FrEduCtEleveINEHash": BASE + "64",
    "FrEduCtDateNaissance": BASE + "67",
    "FrEduCtEleveUAI": BASE + "72",
    "FrEduCtEleveNiveau": BASE + "73",
    "FrEduCtCivilite": BASE + "76",
    "sn": "urn:oid:2.5.4.4",
    "givenName": "urn:oid:2.5.4.42",
}
PLAIN = ("FrEduVecteur", "ctemail")
RELEASABLE = (*OIDS, *PLAIN)
#: Released to an SP registered without ``--release``: identity and affiliation.
DEFAULT_RELEASE = (
    "FrEduUrlRetour",
    "FrEduCtDateConnexion",
    "FrEduCtPersonAffiliation",
    "FrEduCtId",
    "FrEduCtEleveUAI",
    "FrEduCtEleveNiveau",
    "FrEduCtCivilite",
    "FrEduVecteur",
    "sn",
    "givenName",
    "ctemail",
)
_SCHOOLING = _("Les établissements et niveaux de scolarité (les vôtres ou ceux de vos enfants)")
#: What the consent page says each attribute shares.
DESCRIPTIONS = {
    "FrEduCtId": _("Votre identifiant de connexion à ce service"),
    "sn": _("Vos nom et prénom"),
    "givenName": _("Vos nom et prénom"),
    "FrEduCtCivilite": _("Votre civilité"),
    "FrEduCtPersonAffiliation": _("Votre profil (élève ou représentant légal, école ou collège)"),
    "FrEduCtEleveUAI": _SCHOOLING,
    "FrEduCtEleveNiveau": _SCHOOLING,
    "FrEduVecteur": _("Les élèves auxquels vous êtes rattaché, au format ÉduConnect"),
    "FrEduCtEleveINEHash": _("Une empreinte de votre identifiant national élève (INE)"),
    "FrEduCtDateNaissance": _("Votre date de naissance"),
    "ctemail": _("Votre adresse électronique professionnelle"),
}
_PARIS = ZoneInfo("Europe/Paris")


def converter() -> AttributeConverter:
    """pysaml2's mapping from our friendly names to the URI names (its keys are lower case)."""
    conv = AttributeConverter(NAME_FORMAT_URI)
    conv.from_dict(
        {
            "identifier": NAME_FORMAT_URI,
            "to": {k.lower(): v for k, v in OIDS.items()},
            "fro": {v: k for k, v in OIDS.items()},
        }
    )
    return conv


def opaque_id(secret: str, sector: str, local_id: str, label: str) -> str:
    """Stable per sector, different across sectors, not reversible without the secret."""
    message = f"{label}\x00{sector}\x00{local_id}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def ine_hash(secret: str, ine: str) -> str:
    """32 hex characters, the same for every SP (the INE hash exists to match a pupil)."""
    return opaque_id(secret, "ine", ine.upper(), "saml")[:32]


def _civility(value: str | None) -> str | None:
    if not value:
        return None
    value = value.strip().upper()
    if value in ("M", "M."):
        return "M."
    if value in ("MME", "MLLE", "F"):
        return "Mme"
    return None


def attributes_for(
    db: Session,
    account: Account,
    *,
    release: list[str],
    secret: str,
    sector: str,
    auth_time: int,
    logout_url: str,
) -> dict[str, list[str]]:
    """Every releasable value of the account, restricted to ``release``."""
    values: dict[str, list[str]] = {
        "FrEduUrlRetour": [logout_url],
        "FrEduCtDateConnexion": [
            datetime.fromtimestamp(auth_time, _PARIS).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]
        ],
        "FrEduCtId": [opaque_id(secret, sector, account.id, "FrEduCtId")],
        "sn": [account.family_name],
        "givenName": [account.given_name],
    }
    fredu = registry_claims(db, account, {"fredu"}, child_subject=str, allow_ine=False)
    if fredu:
        values["FrEduCtPersonAffiliation"] = fredu["FrEduCtPersonAffiliation"]
        values["FrEduCtEleveUAI"] = fredu["FrEduCtEleveUAI"]
        values["FrEduCtEleveNiveau"] = fredu["FrEduCtEleveNiveau"]
        values["FrEduVecteur"] = fredu["FrEduVecteur"]
    if account.kind == AccountKind.pupil and account.pupil_id:
        pupil = db.scalar(
            select(Pupil).where(Pupil.id == account.pupil_id, Pupil.status == PupilStatus.enrolled)
        )
        if pupil is not None:
            values["FrEduCtDateNaissance"] = [pupil.birthdate.isoformat()]
            if pupil.ine:
                values["FrEduCtEleveINEHash"] = [ine_hash(secret, pupil.ine)]
            civility = _civility(pupil.sex)
            if civility:
                values["FrEduCtCivilite"] = [civility]
    elif account.kind == AccountKind.guardian:
        civilities = db.scalars(
            select(Guardian.civility)
            .join(AccountGuardian, AccountGuardian.guardian_id == Guardian.id)
            .where(AccountGuardian.account_id == account.id)
        )
        civility = next((c for c in map(_civility, civilities) if c), None)
        if civility:
            values["FrEduCtCivilite"] = [civility]
    elif account.kind == AccountKind.staff and account.email:
        values["ctemail"] = [account.email]
    allowed = set(release)
    return {k: v for k, v in values.items() if k in allowed and v}
