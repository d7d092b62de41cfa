"""Print the dependencies between the project's packages as a Mermaid graph, for
docs/architecture.md (``python scripts/architecture_graph.py``). Imports inside functions count;
``if TYPE_CHECKING:`` imports do not."""

from __future__ import annotations

import grimp

#: The boxes of the picture: a module belongs to the longest prefix that names it.
BOXES = (
    "idp.accounts.journeys",
    "idp.accounts.login",
    "idp.accounts.activation",
    "idp.accounts.registration",
    "idp.accounts.recovery",
    "idp.accounts.profile",
    "idp.accounts.grouping",
    "idp.accounts.franceconnect",
    "idp.accounts",
    "idp.admin",
    "idp.support",
    "idp.saml",
    "idp.oidc",
    "idp.registry",
    "idp.messaging",
    "idp.outbox",
    "idp.worker",
    "idp.observability",
    "idp.demo",
    "idp.web",
    "idp.security",
    "federation",
)
#: The small core everything points to, drawn as one box.
CORE = ("idp.db", "idp.settings", "idp.clock", "idp.i18n", "idp.state", "idp.deps")
ENTRY = (
    "idp.app",
    "idp.services",
    "idp.cli",
    "idp.main",
    "idp.janitor",
    "idp.migrate",
    "idp.demo.seed",
    "idp.openapi_doc",
)


def box(module: str) -> str | None:
    if any(module == c or module.startswith(c + ".") for c in CORE):
        return "core"
    if module in ENTRY or module.endswith(".cli"):
        return "wiring"
    found = [b for b in BOXES if module == b or module.startswith(b + ".")]
    return max(found, key=len) if found else None


def top(name: str) -> str:
    """The box between capabilities: the account model and service (``idp.accounts``) are
    below the protocol, the hosted journeys (``idp.accounts.*``) above it."""
    return "idp.accounts.*" if name.startswith("idp.accounts.") else name


def edges(graph: grimp.ImportGraph, inside_accounts: bool) -> set[tuple[str, str]]:
    out = set()
    for module in graph.modules:
        src = box(module)
        for imported in graph.find_modules_directly_imported_by(module):
            dst = box(imported)
            if not (src and dst):
                continue
            if inside_accounts:
                if src.startswith("idp.accounts") and dst.startswith("idp.accounts"):
                    out.add((src, dst))
            else:
                out.add((top(src), top(dst)))
    return {(a, b) for a, b in out if a != b}


def _node(name: str) -> str:
    return name.replace(".", "_").replace("*", "journeys")


def mermaid(pairs: set[tuple[str, str]]) -> str:
    lines = ["```mermaid", "flowchart LR"]
    for src, dst in sorted(pairs):
        lines.append(f"  {_node(src)}[{src}] --> {_node(dst)}[{dst}]")
    return "\n".join([*lines, "```"])


def main() -> None:
    graph = grimp.build_graph(
        "idp", "federation", exclude_type_checking_imports=True, cache_dir=None
    )
    print("Between capabilities:\n")
    print(mermaid(edges(graph, inside_accounts=False)))
    print("\nInside idp.accounts:\n")
    print(mermaid(edges(graph, inside_accounts=True)))


if __name__ == "__main__":
    main()
