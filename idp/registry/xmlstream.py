"""A safe, streaming reader for record-shaped XML exports (SIECLE "exports XML génériques").

Exports are flat: a few known paths hold repeated *records* (``DONNEES/ELEVES/ELEVE``) whose
children are leaves (``<NOM_DE_FAMILLE>…``) or small groups of leaves (``<STRUCTURE>``). The
reader drives expat directly so that every record and every field carries its line number,
keeps only the current record in memory, and honours the declared encoding (real exports are
ISO-8859-15, which expat decodes through Python's codecs).

Safety follows defusedxml's rules: no DTD, no entity declarations, no external references —
the reader raises before expanding anything, and never opens a URL.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from xml.parsers import expat

from defusedxml import DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden

from idp.i18n import _
from idp.registry.records import ImportRejected, Issue, Level, Progress

CHUNK = 1 << 20


@dataclass(slots=True)
class XmlRecord:
    name: str
    attrs: dict[str, str]
    line: int
    fields: dict[str, str] = field(default_factory=dict)
    lines: dict[str, int] = field(default_factory=dict)
    #: Children that have children themselves, e.g. ``("STRUCTURE", {"CODE_STRUCTURE": "5A"})``.
    groups: list[tuple[str, dict[str, str]]] = field(default_factory=list)

    def line_of(self, name: str) -> int:
        return self.lines.get(name, self.line)


class _Handler:
    """expat callbacks; kept minimal because they run for every element of the file.

    Outside records only the path is tracked. Inside a record, text goes straight into a
    fresh list through its C-level ``append`` (no Python call per text node): the handler is
    swapped on each element start, which costs less than filtering text in Python.
    """

    def __init__(self, parser, root: str, paths: set[tuple[str, ...]]) -> None:
        self.parser = parser
        self.root = root
        self.paths = paths
        self.stack: list[str] = []
        self.seen: set[tuple[str, ...]] = set()
        self.done: list[tuple[tuple[str, ...], XmlRecord]] = []
        self.record: XmlRecord | None = None
        self.record_path: tuple[str, ...] = ()
        self.depth = 0
        self.text: list[str] = []
        self.group: dict[str, str] | None = None
        self.field_line = 0
        parser.StartElementHandler = self.start
        parser.EndElementHandler = self.end

    def start(self, name: str, attrs: dict[str, str]) -> None:
        parser = self.parser
        if self.record is not None:
            self.depth = depth = self.depth + 1
            if depth == 1:
                self.group = None
                self.field_line = parser.CurrentLineNumber
            elif depth == 2 and self.group is None:
                self.group = {}
            self.text = text = []
            parser.CharacterDataHandler = text.append
            return
        stack = self.stack
        stack.append(name)
        if len(stack) == 1:
            if name != self.root:
                raise _WrongRoot(name, parser.CurrentLineNumber)
            return
        path = tuple(stack[1:])
        self.seen.add(path)
        if path in self.paths:
            self.record = XmlRecord(name, attrs, parser.CurrentLineNumber)
            self.record_path = path
            self.depth = 0

    def end(self, name: str) -> None:
        record = self.record
        if record is None:
            self.stack.pop()
            return
        depth = self.depth
        self.depth = depth - 1
        if depth == 1:
            if self.group is not None:
                record.groups.append((name, self.group))
                self.group = None
            else:
                record.fields[name] = "".join(self.text).strip()
                record.lines[name] = self.field_line
        elif depth == 2:
            if self.group is not None:
                self.group[name] = "".join(self.text).strip()
        elif depth == 0:
            self.stack.pop()
            self.done.append((self.record_path, record))
            self.record = None
            self.parser.CharacterDataHandler = None


class _WrongRoot(Exception):
    def __init__(self, name: str, line: int) -> None:
        self.name, self.line = name, line


def _forbid_dtd(*_args) -> None:
    raise DTDForbidden(None, None, None)


def _forbid_entity(*_args) -> None:
    raise EntitiesForbidden(None, None, None, None, None, None)


def _forbid_external(*_args) -> None:
    raise ExternalReferenceForbidden(None, None, None, None)


def read_records(
    path: Path,
    root: str,
    paths: set[tuple[str, ...]],
    seen: set[tuple[str, ...]] | None = None,
    progress: Progress | None = None,
) -> Iterator[tuple[tuple[str, ...], XmlRecord]]:
    """Yield ``(path, record)`` for each element at one of ``paths`` (relative to ``root``).

    ``seen`` collects every element path met outside records, so callers can tell a missing
    section from an empty one. Raises :class:`ImportRejected` for a file that is not
    well-formed, has another root, or declares a DTD or entities.
    """
    parser = expat.ParserCreate()
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.buffer_text = True
    parser.buffer_size = 1 << 16
    handler = _Handler(parser, root, paths)
    parser.StartDoctypeDeclHandler = _forbid_dtd
    parser.EntityDeclHandler = _forbid_entity
    parser.UnparsedEntityDeclHandler = _forbid_entity
    parser.ExternalEntityRefHandler = _forbid_external
    name = path.name
    try:
        with path.open("rb") as stream:
            while True:
                chunk = stream.read(CHUNK)
                parser.Parse(chunk, not chunk)
                if handler.done:
                    yield from handler.done
                    handler.done.clear()
                if not chunk:
                    break
                if progress:
                    progress(len(chunk))
    except expat.ExpatError as exc:
        message = _("fichier XML mal formé (%(reason)s), colonne %(column)s") % {
            "reason": expat.ErrorString(exc.code),
            "column": exc.offset + 1,
        }
        raise ImportRejected([Issue(Level.file, name, exc.lineno, None, message)]) from None
    except _WrongRoot as exc:
        message = _(
            "élément racine %(expected)s attendu, %(found)s trouvé : ce n'est pas le bon export"
        ) % {"expected": root, "found": exc.name}
        raise ImportRejected([Issue(Level.file, name, exc.line, exc.name, message)]) from None
    except (DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden):
        message = _("déclaration DOCTYPE ou d'entités refusée (un export SIECLE n'en contient pas)")
        line = parser.CurrentLineNumber
        raise ImportRejected([Issue(Level.file, name, line, None, message)]) from None
    if seen is not None:
        seen |= handler.seen
