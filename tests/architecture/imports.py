"""The local runtime's import graph, read from the source (ast): which package imports which."""

from __future__ import annotations

import ast
from pathlib import Path

from automation_local.cloudformation.project import REPO_ROOT

PACKAGE = "automation_local"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO_ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def package_of(module: str, packages: set[str]) -> str:
    """The package a module is in (a package's own __init__ counts as in it)."""
    return module if module in packages else module.rsplit(".", 1)[0]


def imports_of(path: Path) -> list[tuple[str, list[str]]]:
    """(module X, the names taken from it) of each `import X` (no names) and `from X import
    a, b` of a file, relative ones resolved, those under TYPE_CHECKING included."""
    own = module_name(path)
    base = own if path.name == "__init__.py" else own.rsplit(".", 1)[0]
    found: list[tuple[str, list[str]]] = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found += [(alias.name, []) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            anchor = base.split(".")[: len(base.split(".")) - node.level + 1] if node.level else []
            target = ".".join([*anchor, *([node.module] if node.module else [])])
            found.append((target, [alias.name for alias in node.names]))
    return found


def imported_names(path: Path) -> set[str]:
    """Every module (and name in a module) a file imports."""
    imports = imports_of(path)
    return {module for module, _ in imports} | {f"{module}.{name}" for module, names in imports for name in names}


def imported_modules(path: Path) -> set[str]:
    """automation_local modules (and names in them) a file imports."""
    return {name for name in imported_names(path) if name == PACKAGE or name.startswith(f"{PACKAGE}.")}


def package_graph() -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """(package -> packages it imports, module -> automation_local modules it imports)."""
    files = sorted((REPO_ROOT / PACKAGE).rglob("*.py"))
    modules = {module_name(path): path for path in files}
    packages = {module_name(path) for path in files if path.name == "__init__.py"}
    module_edges = {name: {m for m in imported_modules(path) if m in modules} for name, path in modules.items()}
    graph: dict[str, set[str]] = {package: set() for package in packages}
    for module, targets in module_edges.items():
        source = package_of(module, packages)
        graph[source] |= {package_of(t, packages) for t in targets} - {source}
    return graph, module_edges
