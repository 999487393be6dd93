"""Package layering: which top-level packages under franchise/ import each other both ways.

Edges come from the AST of every module, function-level imports included. A domain's
HTTP routes (`api.py`, `*_api.py`) count as the interface layer `api`, beside `cli` and
`web`: like them they sit over the services and may call flows. Cross-domain steps live in
`flows`, which no domain imports.

Run as a script to print every two-way pair with the import lines behind it:
    PYTHONPATH=src python tests/test_layers.py
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "src" / "franchise"
INTERFACES = {"api", "cli", "web"}
UPPER = INTERFACES | {"flows"}

# Two-way package dependencies still to untangle; shrink this, never grow it.
# psa <-> tickets: change_ticket, the one place every ticket change goes through, records
# what the PSA is to be told in the same transaction, by an explicit call (see psa/outbox.py
# for why not a flush listener); the PSA import and sync build on tickets.
ALLOWED_TWO_WAY = {
    ("psa", "tickets"),
}

Edge = tuple[str, str]
Where = list[str]


def _layer(relative: Path) -> str | None:
    """The package a module belongs to; None for modules at the top (app.py, models.py)."""
    if len(relative.parts) < 2:
        return None
    if relative.name == "api.py" or relative.name.endswith("_api.py"):
        return "api"
    return relative.parts[0]


def _imported(node: ast.AST) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
        if node.module == "franchise":  # from franchise import flows
            return [f"franchise.{alias.name}" for alias in node.names]
        return [node.module]
    if isinstance(node, ast.ImportFrom) and node.level > 0:
        raise AssertionError(f"relative import at line {node.lineno}; use franchise.<pkg>")
    return []


def import_edges(src: Path = SRC) -> dict[Edge, Where]:
    """(importer, imported) package pairs, each with the file:line of every import."""
    packages = {p.name for p in src.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    edges: dict[Edge, Where] = defaultdict(list)
    for path in sorted(src.rglob("*.py")):
        relative = path.relative_to(src)
        here = _layer(relative)
        if here is None:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            for name in _imported(node):
                parts = name.split(".")
                if parts[0] != "franchise" or len(parts) < 2 or parts[1] not in packages:
                    continue
                there = "api" if len(parts) > 2 and parts[2].endswith("api") else parts[1]
                if there != here:
                    edges[(here, there)].append(f"{relative}:{node.lineno}")
    return edges


def two_way(edges: dict[Edge, Where]) -> set[Edge]:
    return {(a, b) for (a, b) in edges if a < b and (b, a) in edges}


def test_layer_of_a_module() -> None:
    assert _layer(Path("tickets/service.py")) == "tickets"
    assert _layer(Path("tickets/api.py")) == "api"
    assert _layer(Path("tickets/runbook_api.py")) == "api"
    assert _layer(Path("psa/connectors/api.py")) == "api"
    assert _layer(Path("psa/connectors/sync.py")) == "psa"
    assert _layer(Path("app.py")) is None


def test_edges_count_function_level_imports(tmp_path: Path) -> None:
    for pkg in ("one", "two", "three"):
        (tmp_path / pkg).mkdir()
        (tmp_path / pkg / "__init__.py").write_text("")
    (tmp_path / "one" / "service.py").write_text("from franchise.two.models import X\n")
    (tmp_path / "two" / "service.py").write_text("def f():\n    import franchise.one.service\n")
    (tmp_path / "three" / "service.py").write_text("from franchise import one\n")
    edges = import_edges(tmp_path)
    assert set(edges) == {("one", "two"), ("two", "one"), ("three", "one")}
    assert edges[("two", "one")] == ["two/service.py:2"]
    assert two_way(edges) == {("one", "two")}


def test_two_way_package_dependencies_are_only_the_known_ones() -> None:
    found = two_way(import_edges())
    assert found - ALLOWED_TWO_WAY == set(), "new two-way dependencies"
    # A pair untangled comes off the list, so it cannot come back unnoticed.
    assert ALLOWED_TWO_WAY - found == set(), "untangled: remove from ALLOWED_TWO_WAY"


def test_no_domain_imports_flows_or_the_interfaces() -> None:
    wrong = {
        (here, there): where
        for (here, there), where in import_edges().items()
        if here not in UPPER and there in UPPER
    }
    # Interfaces may import each other (the web app renders API errors); flows may use the
    # shared HTTP plumbing of neither.
    assert wrong == {}


if __name__ == "__main__":
    edges = import_edges()
    for a, b in sorted(two_way(edges)):
        print(f"{a} <-> {b}")
        print(f"    {a} -> {b}: {', '.join(edges[(a, b)])}")
        print(f"    {b} -> {a}: {', '.join(edges[(b, a)])}")
    print(len(two_way(edges)), "two-way pairs")
