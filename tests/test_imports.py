"""The package's import graph has no circle (each module imports only what sits below it)."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "regaudit"


def imports() -> dict[str, set[str]]:
    """module -> the regaudit modules it imports (type-checking imports included)."""
    modules = {}
    for path in SRC.rglob("*.py"):
        name = ".".join(("regaudit", *path.relative_to(SRC).with_suffix("").parts))
        modules[name.removesuffix(".__init__")] = path
    graph = {}
    for name, path in modules.items():
        found = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                found |= {node.module, *(f"{node.module}.{a.name}" for a in node.names)}
            elif isinstance(node, ast.Import):
                found |= {a.name for a in node.names}
        graph[name] = {m for m in found if m in modules and m != name}
    return graph


def test_no_module_imports_itself_back() -> None:
    graph = imports()
    assert len(graph) > 20
    circles = []

    def walk(start: str, node: str, path: list[str]) -> None:
        for nxt in sorted(graph[node]):
            if nxt == start:
                circles.append(" -> ".join([*path, nxt]))
            elif nxt not in path:
                walk(start, nxt, [*path, nxt])

    for module in graph:
        walk(module, module, [module])
    assert circles == []
