"""``make messages``: extract the sentences of ``idp/`` and ``federation/`` into
``idp/locale/messages.pot`` and bring the French catalogue ``messages.po`` up to date.

The message ids are the French sentences themselves, so a new entry's ``msgstr`` starts as its
id and the catalogue is where wording is edited from then on. An entry whose id left the code
is dropped. No fuzzy matching: it would pair a new sentence with an old, different wording.
The ``.po`` is written sorted and without source locations so that concurrent branches rarely
conflict; ``make setup`` compiles it (``pybabel compile``).
"""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parents[1]
LOCALE_DIR = ROOT / "idp" / "locale"
TEMPLATE = LOCALE_DIR / "messages.pot"
CATALOGUE = LOCALE_DIR / "fr" / "LC_MESSAGES" / "messages.po"
PROJECT = "educonnect-idp"
SOURCES = ("idp", "federation")
#: gettext's classic French rule (0 and 1 singular), not CLDR's three forms: our sentences have
#: no "de" form for millions.
PLURAL_FORMS = "nplurals=2; plural=(n > 1);"
HEADER = """\
# French wording of the sentences that Python code shows to people (idp/, federation/).
# The message ids are the French sentences: edit a msgstr to change what people read.
# `make messages` adds new sentences and drops unused ones; `make setup` compiles this file."""


def _sources_only(root: Path) -> Callable[[str], bool]:
    """Walk ``idp/`` and ``federation/`` only (never ``node_modules``), skipping caches."""

    def keep(dirpath: str) -> bool:
        parts = Path(dirpath).relative_to(root).parts
        return bool(parts) and parts[0] in SOURCES and not parts[-1].startswith((".", "_"))

    return keep


def extract(root: Path = ROOT) -> Catalog:
    """The template catalogue: every ``_()``/``ngettext()`` id in the code, with locations."""
    with (root / "babel.cfg").open(encoding="utf-8") as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    template = Catalog(project=PROJECT, charset="utf-8", fuzzy=False)
    for filename, lineno, message, comments, context in extract_from_dir(
        root, method_map, options_map, directory_filter=_sources_only(root)
    ):
        template.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return template


def updated(template: Catalog, current: Catalog | None) -> Catalog:
    """``current`` (or a new French catalogue) brought in line with ``template``."""
    catalogue = current
    if catalogue is None:
        catalogue = Catalog(
            locale="fr", project=PROJECT, charset="utf-8", fuzzy=False, header_comment=HEADER
        )
        catalogue.mime_headers = [("Plural-Forms", PLURAL_FORMS)]
    catalogue.update(template, no_fuzzy_matching=True, update_creation_date=current is None)
    catalogue.obsolete.clear()
    for message in catalogue:
        if not message.id:
            continue  # the header
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if not any(strings):
            if isinstance(message.id, tuple):  # singular, then the plural for other forms
                singular, plural = message.id[:2]
                message.string = (singular, *[plural] * (catalogue.num_plurals - 1))
            else:
                message.string = message.id
    return catalogue


def render(catalogue: Catalog, **options: object) -> bytes:
    out = io.BytesIO()
    write_po(out, catalogue, width=100, **options)
    return out.getvalue()


def read_catalogue(path: Path = CATALOGUE) -> Catalog:
    with path.open("rb") as stream:
        return read_po(stream, locale="fr")


def main() -> None:
    template = extract()
    CATALOGUE.parent.mkdir(parents=True, exist_ok=True)
    TEMPLATE.write_bytes(render(template))
    current = read_catalogue() if CATALOGUE.exists() else None
    text = render(updated(template, current), sort_output=True, no_location=True)
    if not CATALOGUE.exists() or CATALOGUE.read_bytes() != text:
        CATALOGUE.write_bytes(text)
        print(f"updated {CATALOGUE.relative_to(ROOT)} ({len(template)} messages)")
    else:
        print(f"{CATALOGUE.relative_to(ROOT)} is current ({len(template)} messages)")


if __name__ == "__main__":
    main()
