"""The local runtime's tree shows its architecture: one subpackage per AWS service it stands
in for (and the outside world, the demo, operations, the cost model), with the commands and
their composition at the top. Dependencies run one way, so a part can be read, and tested,
with only what is below it."""

from __future__ import annotations

import pytest

from automation_local.cloudformation.project import REPO_ROOT
from tests.architecture.imports import PACKAGE, imported_names, imports_of, module_name, package_graph

pytestmark = pytest.mark.fast


def _cycle(graph: dict[str, set[str]]) -> list[str]:
    """A cycle of the graph, or [] (depth-first search, iterative colouring)."""
    done: set[str] = set()
    for start in sorted(graph):
        path: list[str] = []
        on_path: set[str] = set()
        stack = [(start, iter(sorted(graph[start])))]
        path.append(start)
        on_path.add(start)
        while stack:
            node, targets = stack[-1]
            target = next(targets, None)
            if target is None:
                stack.pop()
                path.pop()
                on_path.discard(node)
                done.add(node)
            elif target in on_path:
                return [*path[path.index(target) :], target]
            elif target not in done:
                stack.append((target, iter(sorted(graph[target]))))
                path.append(target)
                on_path.add(target)
    return []


def test_the_cycle_finder_finds_a_cycle() -> None:
    # GIVEN a graph with a cycle b -> c -> b, and one without
    # WHEN cycles are looked for
    # THEN the first is found and the second is not
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"b"}}) == ["b", "c", "b"]
    assert _cycle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) == []


def test_the_subpackages_import_one_another_without_cycles() -> None:
    # GIVEN the import graph of automation_local's subpackages
    graph, _ = package_graph()
    # WHEN it is searched for a cycle
    # THEN there is none
    assert _cycle(graph) == []


def test_no_subpackage_imports_the_commands_above_it() -> None:
    # GIVEN the top-level modules (cli, runtime, run_state, invoke, demo_load: the commands and
    # the composition of the parts) and every module inside a subpackage
    graph, module_edges = package_graph()
    top_level = {module for module in module_edges if module.count(".") == 1 and module not in graph}
    # WHEN their imports are read
    upward = {
        module: sorted(targets & top_level)
        for module, targets in module_edges.items()
        if module.count(".") > 1 and targets & top_level
    }
    # THEN no subpackage module imports one of them
    assert upward == {}
    assert f"{PACKAGE}.runtime" in top_level


def test_the_generators_of_checked_in_files_are_not_part_of_the_runtime() -> None:
    # GIVEN the modules of automation_local
    files = sorted((REPO_ROOT / PACKAGE).rglob("*.py"))
    # WHEN their imports are read
    imports = {module_name(path): imported_names(path) for path in files}
    # THEN none of them imports a generator of checked-in files (tools/), nor is one
    assert {module for module, names in imports.items() if any(n.split(".")[0] == "tools" for n in names)} == set()
    assert not {"sample_events", "json_schemas", "snapshot"} & {module.split(".")[-1] for module in imports}


def test_every_import_of_the_runtime_names_a_module_that_exists() -> None:
    # GIVEN every Python file of the repository outside the virtual environments
    files = [
        path
        for path in REPO_ROOT.rglob("*.py")
        if not {".git", ".aws-sam"} & set(path.relative_to(REPO_ROOT).parts)
        and not path.relative_to(REPO_ROOT).parts[0].startswith(".venv")
    ]
    modules = {module_name(path) for path in (REPO_ROOT / PACKAGE).rglob("*.py")}
    packages = {module_name(path) for path in (REPO_ROOT / PACKAGE).rglob("__init__.py")}
    # WHEN the automation_local modules they import are read (those under TYPE_CHECKING too;
    # `from automation_local.<package> import <name>`: the package's module of that name)
    unknown = set()
    for path in files:
        for module, names in imports_of(path):
            if not (module == PACKAGE or module.startswith(f"{PACKAGE}.")):
                continue
            wanted = [f"{module}.{name}" for name in names] if module in packages else [module]
            unknown |= {f"{path.relative_to(REPO_ROOT)}: {name}" for name in wanted if name not in modules}
    # THEN each is a module of the tree (a move left no import behind)
    assert unknown == set()
