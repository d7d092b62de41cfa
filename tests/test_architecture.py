"""The shape of the code: no import cycle (hidden inside functions or not), arrows pointing
inward to a small core, and every module importable on its own (docs/architecture.md)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("idp", "federation")
#: The core every capability may use, and that uses none of them.
CORE = ("idp.db", "idp.settings", "idp.clock", "idp.i18n", "idp.security")
CAPABILITIES = (
    "idp.accounts",
    "idp.admin",
    "idp.oidc",
    "idp.registry",
    "idp.support",
    "idp.messaging",
    "idp.outbox",
    "idp.worker",
    "idp.demo",
    "idp.saml",
    "federation",
)


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    # Imports inside functions count (they are how cycles hide); ``if TYPE_CHECKING:`` ones
    # do not run, so they do not.
    return grimp.build_graph(*PACKAGES, exclude_type_checking_imports=True, cache_dir=None)


def _cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.find_modules_directly_imported_by(v):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    for module in sorted(graph.modules):
        if module not in index:
            visit(module)
    return found


def _is_within(module: str, prefixes: tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


def test_no_import_cycle(graph):
    assert _cycles(graph) == []


def test_the_core_depends_on_no_capability(graph):
    core = [m for m in graph.modules if _is_within(m, CORE)]
    wrong = sorted(
        (m, imported)
        for m in core
        for imported in graph.find_modules_directly_imported_by(m)
        if _is_within(imported, CAPABILITIES)
    )
    assert wrong == []


def test_the_cycle_check_sees_imports_inside_functions():
    """The check must not pass only because it cannot see a hidden import."""
    g = grimp.ImportGraph()
    for name in ("p", "p.a", "p.b"):
        g.add_module(name)
    g.add_import(importer="p.a", imported="p.b")
    g.add_import(importer="p.b", imported="p.a")
    assert _cycles(g) == [["p.a", "p.b"]]


def test_every_module_imports_in_a_fresh_interpreter(graph):
    modules = sorted(m for m in graph.modules if not m.endswith("__main__"))
    code = "import importlib, sys\nfor m in sys.argv[1:]:\n    importlib.import_module(m)\n"
    result = subprocess.run(
        [sys.executable, "-c", code, *modules], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr[-3000:]
