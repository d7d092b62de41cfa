"""SIECLE (2nd degree) reader: a ``BEE_ELEVES`` and a ``BEE_RESPONSABLES`` export → a Batch.

Both "exports XML génériques" variants are accepted (``ElevesSansAdresses`` /
``ElevesAvecAdresses``, ``ResponsablesAvecAdresses`` / ``ResponsablesSansAdresses``): they
share the elements read here. Sections may come in any order (structures before pupils,
addresses after persons), so cross-references are resolved once a file is read; only the
records of one school are ever held in memory.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from idp.i18n import _
from idp.registry.codes import level_from_mef, sex_from_siecle
from idp.registry.identifiers import (
    normalize_email,
    normalize_mobile,
    parse_date,
    validate_ine,
    validate_uai,
)
from idp.registry.models import Source
from idp.registry.records import (
    Batch,
    GuardianIn,
    ImportRejected,
    Issue,
    Level,
    LinkIn,
    Progress,
    PupilIn,
    SchoolIn,
)
from idp.registry.xmlstream import XmlRecord, read_records

PARAMS = ("PARAMETRES",)
ELEVE = ("DONNEES", "ELEVES", "ELEVE")
STRUCTURES_ELEVE = ("DONNEES", "STRUCTURES", "STRUCTURES_ELEVE")
MEF_PATHS = {("NOMENCLATURES", "MEFS", "MEF"), ("DONNEES", "NOMENCLATURES", "MEFS", "MEF")}
PERSONNE = ("DONNEES", "PERSONNES", "PERSONNE")
RESPONSABLE = ("DONNEES", "RESPONSABLES", "RESPONSABLE_ELEVE")
ADRESSE = ("DONNEES", "ADRESSES", "ADRESSE")
#: Optional school-name elements of ``PARAMETRES`` (not in every export).
_NAME_PARTS = ("DENOM_PRINC", "DENOM_COMPL")
_NAME_ALTERNATIVES = ("NOM_ETABLISSEMENT", "LIBELLE_ETABLISSEMENT")
_MEF_LABELS = ("FORMATION", "LIBELLE_LONG", "LIBELLE_EDITION")
_ADDRESS_LINES = ("LIGNE1_ADRESSE", "LIGNE2_ADRESSE", "LIGNE3_ADRESSE", "LIGNE4_ADRESSE")
_RESP_LEGAL: dict[str, int | None] = {"1": 1, "2": 2, "0": None, "": None}


class SiecleReader:
    def __init__(
        self,
        eleves: Path,
        responsables: Path,
        *,
        lenient_uai: bool = False,
        school_name: str | None = None,
        today: date | None = None,
        progress: Progress | None = None,
    ) -> None:
        self.eleves, self.responsables = eleves, responsables
        self.lenient_uai = lenient_uai
        self.school_name = school_name
        self.today = today or date.today()
        self.progress = progress
        self.batch: Batch

    def read(self) -> Batch:
        """The batch of the file pair; the reader keeps nothing of it afterwards."""
        self.batch = Batch(Source.siecle, [self.eleves.name, self.responsables.name])
        try:
            uai, name = self._read_eleves()
            self.batch.schools[uai] = SchoolIn(uai, 2, self.school_name or name)
            other, line = self._read_responsables()
            if other != uai:
                message = _("établissement %(other)s différent de celui de %(file)s (%(uai)s)") % {
                    "other": other,
                    "file": self.eleves.name,
                    "uai": uai,
                }
                raise _refuse(self.responsables.name, line, "PARAMETRES/UAJ", message)
            return self.batch
        finally:
            del self.batch

    # -- issues ---------------------------------------------------------------------------

    def _reject(self, kind: str, file: str, line: int, where: str, message: str) -> None:
        self.batch.reject(kind, Issue(Level.row, file, line, where, message))

    def _drop(self, file: str, line: int, where: str, message: str) -> None:
        self.batch.issues.append(
            Issue(
                Level.value, file, line, where, _("%(error)s : valeur ignorée") % {"error": message}
            )
        )

    def _params(self, record: XmlRecord, file: str) -> tuple[str, str | None]:
        raw = record.fields.get("UAJ", "")
        if not raw:
            raise _refuse(file, record.line, "PARAMETRES/UAJ", _("UAJ absent"))
        try:
            uai = validate_uai(raw, lenient=self.lenient_uai)
        except ValueError as exc:
            raise _refuse(file, record.line_of("UAJ"), "PARAMETRES/UAJ", str(exc)) from None
        name = " ".join(p for p in (record.fields.get(f) for f in _NAME_PARTS) if p)
        return uai, name or _first(record.fields, _NAME_ALTERNATIVES)

    # -- pupils ---------------------------------------------------------------------------

    def _read_eleves(self) -> tuple[str, str | None]:
        file = self.eleves.name
        seen: set[tuple[str, ...]] = set()
        params = None
        eleves: list[XmlRecord] = []
        divisions: dict[str, str] = {}
        mefs: dict[str, str] = {}
        paths = {PARAMS, ELEVE, STRUCTURES_ELEVE, *MEF_PATHS}
        for path, record in read_records(self.eleves, "BEE_ELEVES", paths, seen, self.progress):
            if path == ELEVE:
                eleves.append(record)
            elif path == STRUCTURES_ELEVE:
                for kind, group in record.groups:
                    if kind == "STRUCTURE" and group.get("TYPE_STRUCTURE") == "D":
                        pupil = record.attrs.get("ELEVE_ID", "")
                        divisions.setdefault(pupil, group.get("CODE_STRUCTURE", ""))
            elif path == PARAMS:
                params = self._params(record, file)
            elif (label := _first(record.fields, _MEF_LABELS)) and "CODE_MEF" in record.attrs:
                mefs[record.attrs["CODE_MEF"]] = label
        if params is None:
            raise _refuse(file, None, "PARAMETRES", _("section PARAMETRES absente"))
        if ("DONNEES", "ELEVES") not in seen or not eleves:
            message = _("aucun élève dans l'export : fichier refusé (tous seraient sortis)")
            raise _refuse(file, None, "DONNEES/ELEVES", message)
        for record in eleves:
            self._pupil(record, params[0], divisions, mefs)
        return params

    def _pupil(
        self, r: XmlRecord, uai: str, divisions: dict[str, str], mefs: dict[str, str]
    ) -> None:
        file, batch, f = self.eleves.name, self.batch, r.fields
        sid = r.attrs.get("ELEVE_ID", "").strip()
        if not sid:
            message = _("élève sans ELEVE_ID : ignoré")
            self._reject("pupils", file, r.line, "ELEVE@ELEVE_ID", message)
            return
        where = f"ELEVE[{sid}]"
        if sid in batch.pupils or sid in batch.rejected_pupils:
            message = _("ELEVE_ID en double : seule la première occurrence est lue")
            self._reject("pupils", file, r.line, where, message)
            return
        family = f.get("NOM_DE_FAMILLE") or f.get("NOM", "")
        required = (
            ("NOM_DE_FAMILLE", family),
            ("PRENOM", f.get("PRENOM")),
            ("DATE_NAISS", f.get("DATE_NAISS")),
        )
        missing = [name for name, value in required if not value]
        if missing:
            batch.rejected_pupils.add(sid)
            message = _("%(fields)s manquant : élève ignoré") % {"fields": ", ".join(missing)}
            self._reject("pupils", file, r.line, where, message)
            return
        try:
            birthdate = parse_date(f["DATE_NAISS"])
        except ValueError:
            batch.rejected_pupils.add(sid)
            message = _("date de naissance « %(value)s » illisible (JJ/MM/AAAA) : élève ignoré") % {
                "value": f["DATE_NAISS"]
            }
            self._reject("pupils", file, r.line_of("DATE_NAISS"), f"{where}/DATE_NAISS", message)
            return
        ine = None
        for tag in ("ID_NATIONAL", "INE_RNIE"):
            if f.get(tag) and ine is None:
                try:
                    ine = validate_ine(f[tag])
                except ValueError as exc:
                    self._drop(file, r.line_of(tag), f"{where}/{tag}", str(exc))
        departed = False
        if f.get("DATE_SORTIE"):
            try:
                departed = parse_date(f["DATE_SORTIE"]) <= self.today
            except ValueError:
                self._drop(
                    file, r.line_of("DATE_SORTIE"), f"{where}/DATE_SORTIE", _("date illisible")
                )
        division = divisions.get(sid) or None
        mef = f.get("CODE_MEF") or None
        batch.pupils[sid] = PupilIn(
            source_id=sid,
            school_uai=uai,
            family_name=family,
            given_name=f["PRENOM"],
            birthdate=birthdate,
            ine=ine,
            sex=sex_from_siecle(f.get("CODE_SEXE", "")),
            level=level_from_mef(mef, mefs, division),
            mef_code=mef,
            class_name=division,
            departed=departed,
        )

    # -- guardians and links --------------------------------------------------------------

    def _read_responsables(self) -> tuple[str, int]:
        file = self.responsables.name
        seen: set[tuple[str, ...]] = set()
        params = None
        persons: list[XmlRecord] = []
        links: list[XmlRecord] = []
        addresses: dict[str, dict | None] = {}
        paths = {PARAMS, PERSONNE, RESPONSABLE, ADRESSE}
        records = read_records(self.responsables, "BEE_RESPONSABLES", paths, seen, self.progress)
        for path, record in records:
            if path == PERSONNE:
                persons.append(record)
            elif path == RESPONSABLE:
                links.append(record)
            elif path == ADRESSE:
                addresses[record.attrs.get("ADRESSE_ID", "")] = _address(record.fields)
            else:
                params = (self._params(record, file)[0], record.line_of("UAJ"))
        if params is None:
            raise _refuse(file, None, "PARAMETRES", _("section PARAMETRES absente"))
        for section in (("DONNEES", "PERSONNES"), ("DONNEES", "RESPONSABLES")):
            if section not in seen:
                message = _("section %(name)s absente") % {"name": section[1]}
                raise _refuse(file, None, "/".join(section), message)
        for record in persons:
            self._guardian(record, addresses)
        for record in links:
            self._link(record)
        return params

    def _guardian(self, r: XmlRecord, addresses: dict[str, dict | None]) -> None:
        file, f = self.responsables.name, r.fields
        sid = r.attrs.get("PERSONNE_ID", "").strip()
        if not sid:
            message = _("personne sans PERSONNE_ID : ignorée")
            self._reject("guardians", file, r.line, "PERSONNE@PERSONNE_ID", message)
            return
        where = f"PERSONNE[{sid}]"
        family = f.get("NOM_DE_FAMILLE") or f.get("NOM", "")
        if not family:
            message = _("NOM_DE_FAMILLE manquant : ignorée")
            self._reject("guardians", file, r.line, where, message)
            return
        mobile = email = None
        if f.get("TEL_PORTABLE"):
            try:
                mobile = normalize_mobile(f["TEL_PORTABLE"])
            except ValueError as exc:
                self._drop(file, r.line_of("TEL_PORTABLE"), f"{where}/TEL_PORTABLE", str(exc))
        if f.get("MEL"):
            try:
                email = normalize_email(f["MEL"])
            except ValueError as exc:
                self._drop(file, r.line_of("MEL"), f"{where}/MEL", str(exc))
        self.batch.guardians[sid] = GuardianIn(
            source_id=sid,
            family_name=family,
            given_name=f.get("PRENOM", ""),
            civility=f.get("LC_CIVILITE") or None,
            mobile=mobile,
            email=email,
            address=addresses.get(f["ADRESSE_ID"]) if f.get("ADRESSE_ID") else None,
        )

    def _link(self, r: XmlRecord) -> None:
        file, batch, f = self.responsables.name, self.batch, r.fields
        pupil, person = f.get("ELEVE_ID", ""), f.get("PERSONNE_ID", "")
        where = f"RESPONSABLE_ELEVE[{pupil}/{person}]"
        if pupil in batch.rejected_pupils:
            message = _("lien vers un élève refusé : ignoré")
            self._reject("links", file, r.line, where, message)
            return
        for value, tag, known in (
            (pupil, "ELEVE_ID", batch.pupils),
            (person, "PERSONNE_ID", batch.guardians),
        ):
            if value not in known:
                if value:
                    message = _("%(tag)s %(value)s inconnu : lien ignoré")
                else:
                    message = _("%(tag)s absent : lien ignoré")
                message %= {"tag": tag, "value": value}
                self._reject("links", file, r.line_of(tag), f"{where}/{tag}", message)
                return
        code = f.get("RESP_LEGAL", "")
        rank = _RESP_LEGAL.get(code)
        if code not in _RESP_LEGAL:
            message = _("RESP_LEGAL « %(value)s » inconnu (0, 1 ou 2), lien gardé sans rang") % {
                "value": code
            }
            self._drop(file, r.line_of("RESP_LEGAL"), f"{where}/RESP_LEGAL", message)
        batch.links[(pupil, person)] = LinkIn(
            pupil_source_id=pupil,
            guardian_source_id=person,
            relationship_code=f.get("CODE_PARENTE") or None,
            legal_guardian_rank=rank,
            financial=f.get("RESP_FINANCIER") == "1",
            contact=f.get("PERS_CONTACT") == "1",
        )


def _first(fields: dict[str, str], names: tuple[str, ...]) -> str | None:
    return next((fields[name] for name in names if fields.get(name)), None)


def _address(f: dict[str, str]) -> dict | None:
    lines = [f[k] for k in _ADDRESS_LINES if f.get(k)]
    postal_code = f.get("CODE_POSTAL") or None
    city = f.get("LIBELLE_POSTAL") or f.get("LL_COMMUNE_INSEE") or None
    if not (lines or postal_code or city):
        return None
    return {
        "lines": lines,
        "postal_code": postal_code,
        "city": city,
        "country": f.get("LL_PAYS") or None,
    }


def _refuse(file: str, line: int | None, where: str | None, message: str) -> ImportRejected:
    return ImportRejected([Issue(Level.file, file, line, where, message)])
