"""``educonnect import onde|siecle`` and ``educonnect accounts notify`` (DESIGN.md §5).

Exit codes: 0 success (bad values and rejected rows are reported, not fatal); 2 the file was
rejected as a whole, or the command was misused (unknown school, missing file); 1 anything
unexpected (database unreachable…). Settings come from the environment, or from ``ctx.obj``
when it is a :class:`Settings` (tests).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import click
from sqlalchemy.orm import Session, sessionmaker

from idp.accounts.notify import UnknownSchool, notify_school
from idp.accounts.passwords import Passwords
from idp.clock import Clock
from idp.db import make_engine, make_session_factory, unit_of_work
from idp.i18n import _, ngettext
from idp.registry.records import COUNTS, KINDS, Progress
from idp.registry.runs import ImportResult, import_onde, import_siecle
from idp.settings import Settings

REJECTED = 2
_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)
_LENIENT = click.option(
    "--lenient-uai",
    is_flag=True,
    help=_("Accepter une lettre de contrôle d'UAI fausse (données de test)."),
)
_JSON = click.option(
    "--json", "as_json", is_flag=True, help=_("Résumé JSON sur la sortie standard.")
)


def _settings() -> Settings:
    obj = click.get_current_context().obj
    return obj if isinstance(obj, Settings) else Settings()


@contextmanager
def _sessions() -> Iterator[tuple[Settings, sessionmaker[Session]]]:
    settings = _settings()
    engine = make_engine(settings.database_url, pool_size=1)
    try:
        yield settings, make_session_factory(engine)
    finally:
        engine.dispose()


@contextmanager
def _progress(paths: list[Path], label: str) -> Iterator[Progress | None]:
    """A progress bar on stderr when it is a terminal; silent otherwise (logs, pipes, CI)."""
    if not sys.stderr.isatty():
        yield None
        return
    total = sum(path.stat().st_size for path in paths)
    with click.progressbar(length=total, label=label, file=sys.stderr) as bar:
        yield bar.update


def _report(result: ImportResult, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(result.as_json(), ensure_ascii=False, indent=2))
    else:
        if result.ok:
            title = _("Import %(source)s terminé (%(schools)s) :")
            click.echo(
                title % {"source": result.source.value, "schools": ", ".join(result.school_uais)}
            )
            click.echo(f"  {'':10}" + "".join(f"{name:>10}" for name in COUNTS))
            for kind in KINDS:
                counts = result.counts[kind]
                click.echo(f"  {kind:10}" + "".join(f"{counts[name]:>10}" for name in COUNTS))
        else:
            click.echo(_("Fichier refusé : rien n'a été importé."), err=True)
        for issue in result.issues:
            click.echo(f"  {issue}", err=True)
    if not result.ok:
        raise click.exceptions.Exit(REJECTED)


def _run(label: str, paths: list[Path], run: Callable[..., ImportResult], as_json: bool) -> None:
    with _sessions() as (_unused, sessions), _progress(paths, label) as progress:
        result = run(sessions, progress)
    _report(result, as_json)


@click.group("import")
def import_group() -> None:
    """Importer les exports ONDE (1er degré) et SIECLE (2nd degré)."""


@import_group.command("siecle")
@click.option("--eleves", required=True, type=_FILE, help=_("ElevesSansAdresses.xml (ou Avec)."))
@click.option(
    "--responsables", required=True, type=_FILE, help=_("ResponsablesAvecAdresses.xml (ou Sans).")
)
@click.option("--school-name", help=_("Nom de l'établissement, si l'export ne le donne pas."))
@_LENIENT
@_JSON
def import_siecle_command(
    eleves: Path, responsables: Path, school_name: str | None, lenient_uai: bool, as_json: bool
) -> None:
    """Importer une paire d'exports SIECLE d'un établissement (tout ou rien)."""

    def run(sessions, progress):
        return import_siecle(
            sessions,
            eleves,
            responsables,
            lenient_uai=lenient_uai,
            school_name=school_name,
            progress=progress,
        )

    _run(_("Lecture SIECLE"), [eleves, responsables], run, as_json)


@import_group.command("onde")
@click.argument("file", type=_FILE)
@_LENIENT
@_JSON
def import_onde_command(file: Path, lenient_uai: bool, as_json: bool) -> None:
    """Importer un export ONDE (CSV « ; », UTF-8) d'une ou plusieurs écoles (tout ou rien)."""

    def run(sessions, progress):
        return import_onde(sessions, file, lenient_uai=lenient_uai, progress=progress)

    _run(_("Lecture ONDE"), [file], run, as_json)


@click.group("accounts")
def accounts_group() -> None:
    """Comptes des familles."""


@accounts_group.command("notify")
@click.option("--school", "uai", required=True, help=_("UAI de l'établissement."))
@_JSON
def notify_command(uai: str, as_json: bool) -> None:
    """Créer les comptes manquants (élèves, responsables légaux) et afficher leurs accès."""
    with _sessions() as (settings, sessions):
        try:
            with unit_of_work(sessions) as db:
                issued = notify_school(
                    db, uai.strip().upper(), passwords=Passwords(settings), now=Clock().now()
                )
        except UnknownSchool:
            message = _("Établissement %(uai)s inconnu : importez d'abord son export.")
            click.echo(message % {"uai": uai}, err=True)
            raise click.exceptions.Exit(REJECTED) from None
    if as_json:
        click.echo(json.dumps([c.as_json() for c in issued], ensure_ascii=False, indent=2))
        return
    if not issued:
        click.echo(_("Aucun compte à créer : chacun a déjà le sien."))
        return
    message = ngettext(
        "%(count)s compte créé — mot de passe provisoire valable 3 mois :",
        "%(count)s comptes créés — mots de passe provisoires valables 3 mois :",
        len(issued),
    )
    click.echo(message % {"count": len(issued)})
    for c in issued:
        name = f"{c.family_name} {c.given_name}"
        click.echo(f"  {c.kind:<9} {c.username:<20} {c.password:<16} {name:<30} {c.class_ or ''}")
