"""Test identities offered by the FranceConnect simulator.

Claims follow the FC "identité pivot" (docs.partenaires.franceconnect.gouv.fr, "Les données
d'identité" / scopes page): ``given_name`` holds every first name separated by spaces,
``family_name`` is the upper-case birth name, ``birthplace`` is a 5-character INSEE commune code
(empty when born abroad), ``birthcountry`` a 5-digit INSEE country code (France = 99100), and
``sub`` is 64 hex characters followed by ``v1``.

"Camille Martin" and "Karim Benali" deliberately match demo guardians of the IdP so the
FranceConnect activation route can be exercised end to end; the two others match nobody.
"""

from __future__ import annotations

from dataclasses import dataclass

from idp.i18n import _


@dataclass(frozen=True, slots=True)
class TestIdentity:
    #: Stable key used by the picking form (never sent to the relying party).
    key: str
    sub: str
    given_name: str
    family_name: str
    birthdate: str
    gender: str
    birthplace: str
    birthcountry: str
    email: str
    preferred_username: str
    #: Shown on the picking page to tell identities apart.
    description: str

    # pytest would try to collect a class named Test* from modules it imports.
    __test__ = False

    def claims(self) -> dict[str, str]:
        """Every identity claim FC can release, keyed by claim name."""
        return {
            "sub": self.sub,
            "given_name": self.given_name,
            "family_name": self.family_name,
            "birthdate": self.birthdate,
            "gender": self.gender,
            "birthplace": self.birthplace,
            "birthcountry": self.birthcountry,
            "email": self.email,
            "preferred_username": self.preferred_username,
        }


IDENTITIES: tuple[TestIdentity, ...] = (
    TestIdentity(
        key="camille-martin",
        sub="7e36440cda3f6a4c7282820d2e1c0b39c3cf67ff2ecb528ef3a1f226db43f0aev1",
        given_name="Camille Marie",
        family_name="MARTIN",
        birthdate="1984-03-12",
        gender="female",
        birthplace="75107",  # Paris 7e arrondissement
        birthcountry="99100",
        email="camille.martin@example.fr",
        preferred_username="",
        description=_("Responsable légale connue de l'établissement de démonstration"),
    ),
    TestIdentity(
        key="karim-benali",
        sub="894f57fc313db5c2a9629108d1b7697c270865981f9abc4edbd1cedd008a39e5v1",
        given_name="Karim",
        family_name="BENALI",
        birthdate="1979-11-02",
        gender="male",
        birthplace="69383",  # Lyon 3e arrondissement
        birthcountry="99100",
        email="karim.benali@example.fr",
        preferred_username="",
        description=_("Responsable légal connu de l'établissement de démonstration"),
    ),
    TestIdentity(
        key="jean-dupont",
        sub="1a1e410bde614824c340880c4209a20684e730b9c57d03cc67b49644faa72eb0v1",
        given_name="Jean Pierre",
        family_name="DUPONT",
        # FC encodes an unknown day and month as "-01" (presumed date).
        birthdate="1990-01-01",
        gender="male",
        birthplace="",  # born abroad: FC sends an empty commune code
        birthcountry="99350",  # Maroc
        email="jean.dupont@example.fr",
        preferred_username="",
        description=_("Inconnu de l'annuaire (né à l'étranger, date présumée)"),
    ),
    TestIdentity(
        key="lucie-bernard",
        sub="63e2e5957ddcd066bda66e718bd3982e9cc47c6700fd81ae81996f63ed62e5a2v1",
        given_name="Lucie Anne Sophie",
        family_name="BERNARD",
        birthdate="1988-07-25",
        gender="female",
        birthplace="2A004",  # Ajaccio: Corsican codes carry a letter
        birthcountry="99100",
        email="lucie.bernard@example.fr",
        preferred_username="MOREAU",
        description=_("Inconnue de l'annuaire (nom d'usage différent)"),
    ),
)

IDENTITIES_BY_KEY: dict[str, TestIdentity] = {identity.key: identity for identity in IDENTITIES}
