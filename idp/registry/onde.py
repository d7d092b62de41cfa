"""ONDE (1st degree) reader: our documented CSV export → a Batch.

One row per pupil–guardian link, ``;``-separated, UTF-8 (a BOM is tolerated). A pupil without
a guardian has one row with empty guardian columns. Pupil columns repeat on each of the pupil's
rows; the first row wins. One file may cover several écoles: each UAI present is taken as fully
exported. The columns are listed in ``docs/registry-import.md``.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import date
from pathlib import Path

from idp.i18n import _, ngettext
from idp.registry.codes import onde_relationship_code, sex_from_onde
from idp.registry.identifiers import (
    normalize_email,
    normalize_mobile,
    normalize_name,
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

REQUIRED = (
    "uai_ecole",
    "identifiant_eleve",
    "nom_eleve",
    "prenom_eleve",
    "date_naissance",
    "identifiant_responsable",
    "nom_responsable",
    "prenom_responsable",
)
OPTIONAL = (
    "nom_ecole",
    "ine",
    "sexe",
    "niveau",
    "classe",
    "date_sortie",
    "civilite",
    "lien_parente",
    "autorite_parentale",
    "rang",
    "telephone_portable",
    "courriel",
    "adresse_ligne1",
    "adresse_ligne2",
    "adresse_ligne3",
    "adresse_ligne4",
    "code_postal",
    "commune",
    "pays",
)
_YES = {"oui", "o", "1", "vrai", "x"}
_NO = {"non", "n", "0", "faux"}


def column_name(header: str) -> str:
    """``"UAI École"``, ``"uai_ecole"`` and ``"Uai-ecole"`` name the same column."""
    return normalize_name(header).replace("'", "").replace(" ", "_")


class OndeReader:
    def __init__(
        self,
        path: Path,
        *,
        lenient_uai: bool = False,
        today: date | None = None,
        progress: Progress | None = None,
    ) -> None:
        self.path = path
        self.file = path.name
        self.lenient_uai = lenient_uai
        self.today = today or date.today()
        self.progress = progress
        self.batch: Batch
        self._uais: dict[str, str] = {}
        self._pupil_school: dict[str, str] = {}
        self._ranks: dict[str, set[int]] = {}

    def read(self) -> Batch:
        """The batch of the file; the reader keeps nothing of it afterwards."""
        self.batch = Batch(Source.onde, [self.path.name])
        self._uais, self._pupil_school, self._ranks = {}, {}, {}
        try:
            return self._read()
        finally:
            del self.batch
            self._pupil_school, self._ranks = {}, {}

    def _read(self) -> Batch:
        rows = csv.reader(self._lines(), delimiter=";")
        try:
            header = next(rows)
        except StopIteration:
            raise self._rejected(1, None, _("fichier vide")) from None
        columns = [column_name(h) for h in header]
        missing = [c for c in REQUIRED if c not in columns]
        if missing:
            message = ngettext(
                "colonne obligatoire absente : %(columns)s",
                "colonnes obligatoires absentes : %(columns)s",
                len(missing),
            ) % {"columns": ", ".join(missing)}
            if len(header) == 1:
                message = _("%(message)s (le séparateur attendu est « ; »)") % {"message": message}
            raise self._rejected(1, None, message)
        index = {name: i for i, name in reversed(list(enumerate(columns)))}
        width = len(columns)
        count = 0
        for row in rows:
            line = rows.line_num
            if not any(cell.strip() for cell in row):
                continue
            if len(row) != width:
                sid_at = index["identifiant_eleve"]
                if sid_at < len(row) and row[sid_at].strip():
                    self.batch.rejected_pupils.add(row[sid_at].strip())
                message = ngettext(
                    "%(count)s colonne au lieu de %(width)s : ligne ignorée",
                    "%(count)s colonnes au lieu de %(width)s : ligne ignorée",
                    len(row),
                ) % {"count": len(row), "width": width}
                self.batch.reject("links", Issue(Level.row, self.file, line, None, message))
                continue
            count += 1
            self._row({name: row[i].strip() for name, i in index.items()}, line)
        if not count:
            raise self._rejected(None, None, _("aucun élève dans le fichier : fichier refusé"))
        return self.batch

    def _lines(self) -> Iterator[str]:
        """Decode line by line so that a decoding error names its line."""
        unreported = 0
        with self.path.open("rb") as stream:
            for number, raw in enumerate(stream, start=1):
                unreported += len(raw)
                if self.progress and number % 2048 == 0:
                    self.progress(unreported)
                    unreported = 0
                try:
                    yield raw.decode("utf-8-sig" if number == 1 else "utf-8")
                except UnicodeDecodeError:
                    message = _("texte non UTF-8 (réenregistrer le fichier en UTF-8)")
                    raise self._rejected(number, None, message) from None
        if self.progress:
            self.progress(unreported)

    def _rejected(self, line: int | None, field: str | None, message: str) -> ImportRejected:
        return ImportRejected([Issue(Level.file, self.file, line, field, message)])

    def _issue(self, level: Level, line: int, field: str | None, message: str) -> Issue:
        return Issue(level, self.file, line, field, message)

    def _uai(self, raw: str, line: int) -> str:
        if raw not in self._uais:
            try:
                self._uais[raw] = validate_uai(raw, lenient=self.lenient_uai)
            except ValueError as exc:
                raise self._rejected(line, "uai_ecole", str(exc)) from None
        return self._uais[raw]

    def _row(self, r: dict[str, str], line: int) -> None:
        batch = self.batch
        uai = self._uai(r["uai_ecole"], line)
        school = batch.schools.get(uai)
        if school is None:
            school = batch.schools[uai] = SchoolIn(uai, 1, None)
        if school.name is None and r.get("nom_ecole"):
            school.name = r["nom_ecole"]
        sid = r["identifiant_eleve"]
        if not sid:
            message = _("identifiant_eleve vide : ligne ignorée")
            batch.reject("pupils", self._issue(Level.row, line, "identifiant_eleve", message))
            return
        if sid not in self._pupil_school:
            self._pupil_school[sid] = uai
            self._pupil(sid, uai, r, line)
        elif self._pupil_school[sid] != uai:
            message = _("élève %(pupil)s déjà lu dans l'école %(school)s : ligne ignorée") % {
                "pupil": sid,
                "school": self._pupil_school[sid],
            }
            batch.reject("links", self._issue(Level.row, line, "uai_ecole", message))
            return
        gid = r["identifiant_responsable"]
        if not gid:
            return
        if gid not in batch.guardians:
            self._guardian(gid, r, line)
        if sid in batch.rejected_pupils or gid not in batch.guardians:
            message = _("lien vers un élève ou un responsable refusé : ignoré")
            batch.reject("links", self._issue(Level.row, line, None, message))
            return
        if (sid, gid) not in batch.links:
            batch.links[(sid, gid)] = self._link(sid, gid, r, line)

    def _reject_pupil(self, sid: str, line: int, field: str, message: str) -> None:
        self.batch.rejected_pupils.add(sid)
        self.batch.reject("pupils", self._issue(Level.row, line, field, message))

    def _pupil(self, sid: str, uai: str, r: dict[str, str], line: int) -> None:
        batch = self.batch
        missing = [c for c in ("nom_eleve", "prenom_eleve", "date_naissance") if not r[c]]
        if missing:
            message = _("élève %(pupil)s : %(columns)s manquant : élève ignoré") % {
                "pupil": sid,
                "columns": ", ".join(missing),
            }
            self._reject_pupil(sid, line, missing[0], message)
            return
        try:
            birthdate = parse_date(r["date_naissance"])
        except ValueError:
            message = _(
                "élève %(pupil)s : date de naissance « %(value)s » illisible (JJ/MM/AAAA) : "
                "élève ignoré"
            ) % {"pupil": sid, "value": r["date_naissance"]}
            self._reject_pupil(sid, line, "date_naissance", message)
            return
        ine = departed = None
        if r.get("ine"):
            try:
                ine = validate_ine(r["ine"])
            except ValueError as exc:
                batch.issues.append(self._issue(Level.value, line, "ine", _value_dropped(exc)))
        if r.get("date_sortie"):
            try:
                departed = parse_date(r["date_sortie"]) <= self.today
            except ValueError:
                message = _("date de sortie illisible : valeur ignorée")
                batch.issues.append(self._issue(Level.value, line, "date_sortie", message))
        batch.pupils[sid] = PupilIn(
            source_id=sid,
            school_uai=uai,
            family_name=r["nom_eleve"],
            given_name=r["prenom_eleve"],
            birthdate=birthdate,
            ine=ine,
            sex=sex_from_onde(r.get("sexe", "")),
            level=r.get("niveau") or None,
            class_name=r.get("classe") or None,
            departed=bool(departed),
        )

    def _guardian(self, gid: str, r: dict[str, str], line: int) -> None:
        batch = self.batch
        if not r["nom_responsable"]:
            message = _("responsable %(guardian)s sans nom : ignoré") % {"guardian": gid}
            batch.reject("guardians", self._issue(Level.row, line, "nom_responsable", message))
            return
        values: dict[str, str | None] = {"telephone_portable": None, "courriel": None}
        for column, check in (
            ("telephone_portable", normalize_mobile),
            ("courriel", normalize_email),
        ):
            if r.get(column):
                try:
                    values[column] = check(r[column])
                except ValueError as exc:
                    batch.issues.append(self._issue(Level.value, line, column, _value_dropped(exc)))
        lines = [
            r[k]
            for k in ("adresse_ligne1", "adresse_ligne2", "adresse_ligne3", "adresse_ligne4")
            if r.get(k)
        ]
        address = None
        if lines or r.get("code_postal") or r.get("commune"):
            address = {
                "lines": lines,
                "postal_code": r.get("code_postal") or None,
                "city": r.get("commune") or None,
                "country": r.get("pays") or None,
            }
        batch.guardians[gid] = GuardianIn(
            source_id=gid,
            family_name=r["nom_responsable"],
            given_name=r["prenom_responsable"],
            civility=r.get("civilite") or None,
            mobile=values["telephone_portable"],
            email=values["courriel"],
            address=address,
        )

    def _link(self, sid: str, gid: str, r: dict[str, str], line: int) -> LinkIn:
        authority = normalize_name(r.get("autorite_parentale", ""))
        rank_text = r.get("rang", "")
        rank = int(rank_text) if rank_text in ("1", "2") else None
        if rank_text and rank is None:
            message = _("rang « %(value)s » inconnu (1 ou 2) : valeur ignorée") % {
                "value": rank_text
            }
            self.batch.issues.append(self._issue(Level.value, line, "rang", message))
        legal = authority in _YES or (authority not in _NO and rank is not None)
        if authority and authority not in _YES | _NO:
            message = _("autorité parentale « %(value)s » inconnue (oui/non)") % {
                "value": r["autorite_parentale"]
            }
            self.batch.issues.append(self._issue(Level.value, line, "autorite_parentale", message))
        taken = self._ranks.setdefault(sid, set())
        if legal and rank is None:
            rank = next((n for n in (1, 2) if n not in taken), None)
        if not legal:
            rank = None
        if rank is not None:
            taken.add(rank)
        code = None
        if r.get("lien_parente"):
            code = onde_relationship_code(r["lien_parente"])
            if code is None:
                message = _("lien de parenté « %(value)s » inconnu : valeur ignorée") % {
                    "value": r["lien_parente"]
                }
                self.batch.issues.append(self._issue(Level.value, line, "lien_parente", message))
        return LinkIn(sid, gid, code, rank, financial=False, contact=not legal)


def _value_dropped(error: ValueError) -> str:
    return _("%(error)s : valeur ignorée") % {"error": error}
