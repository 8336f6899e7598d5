"""The shape of the code: no import cycle between modules, no module too long to read.

The import graph is read from the source (``ast``), not from a running interpreter, so an import
inside a function counts as much as one at the top: a cycle that only a late import breaks is
still a cycle. ``from guarantee_sim.x import y`` is an edge to ``guarantee_sim.x.y`` when ``y``
is a submodule, else to ``guarantee_sim.x``. A package ``__init__.py`` that maps public names to
modules on first use (``__getattr__``) is not an edge: nothing is imported until a name is used.
Imports under ``if TYPE_CHECKING:`` never run and are not edges either.
"""

from __future__ import annotations

import ast
from pathlib import Path


SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGES = ("guarantee_sim", "hydra_plugins")
MAX_LINES = 500
LAZY_HOOKS = ("__getattr__", "__dir__")  # in a package __init__.py: names mapped on first use


def module_files() -> dict[str, Path]:
    """Every module of our packages, by dotted name (a package by its own name)."""
    out = {}
    for package in PACKAGES:
        for path in sorted((SRC / package).rglob("*.py")):
            parts = path.relative_to(SRC).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            out[name] = path
    return out


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.Module, is_package_init: bool):
    """The import statements that run: at the top, in functions and classes, in branches."""

    def walk(node: ast.AST):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child):
                yield from (n for stmt in child.orelse for n in walk_one(stmt))
                continue
            if (
                is_package_init
                and node is tree
                and isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef))
                and child.name in LAZY_HOOKS
            ):
                continue
            yield from walk_one(child)

    def walk_one(node: ast.AST):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        yield from walk(node)

    yield from walk(tree)


def _absolute(module: str, node: ast.ImportFrom, is_package_init: bool) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".") if is_package_init else module.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def import_graph() -> dict[str, dict[str, int]]:
    """module -> {imported module of ours: line of the first such import}."""
    modules = module_files()
    graph: dict[str, dict[str, int]] = {}
    for name, path in modules.items():
        is_init = path.name == "__init__.py"
        tree = ast.parse(path.read_text(), filename=str(path))
        edges: dict[str, int] = {}
        for node in _imports(tree, is_init):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                base = _absolute(name, node, is_init)
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names]
            for target in targets:
                # `import a.b.c` names a.b.c; keep the deepest module of ours it names
                while target and target not in modules:
                    target = target.rpartition(".")[0]
                if target and target != name:
                    edges.setdefault(target, node.lineno)
        graph[name] = edges
    return graph


def find_cycle(graph: dict[str, dict[str, int]]) -> list[str] | None:
    """One import cycle as [a, b, ..., a], or None (iterative depth-first search)."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    for root in sorted(graph):
        if state.get(root):
            continue
        path, stack = [root], [iter(sorted(graph[root]))]
        state[root] = 1
        while stack:
            nxt = next(stack[-1], None)
            if nxt is None:
                state[path.pop()] = 2
                stack.pop()
            elif state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            elif not state.get(nxt):
                state[nxt] = 1
                path.append(nxt)
                stack.append(iter(sorted(graph.get(nxt, {}))))
    return None


def all_cycles(graph: dict[str, dict[str, int]]) -> list[list[str]]:
    """One cycle per tangle: each set of modules that import one another, round about."""

    def reach(start: str, edges) -> set[str]:
        seen, todo = {start}, [start]
        while todo:
            for nxt in edges(todo.pop()):
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        return seen

    importers: dict[str, set[str]] = {}
    for a, targets in graph.items():
        for b in targets:
            importers.setdefault(b, set()).add(a)
    out, placed = [], set()
    for module in sorted(graph):
        if module in placed:
            continue
        tangle = reach(module, lambda m: graph.get(m, {})) & reach(module, lambda m: importers.get(m, ()))
        placed |= tangle
        if len(tangle) > 1:
            out.append(find_cycle({m: {t: n for t, n in graph[m].items() if t in tangle} for m in tangle}))
    return out


def describe(cycle: list[str], graph: dict[str, dict[str, int]]) -> str:
    files = module_files()
    lines = [
        f"  {a} imports {b}  ({files[a].relative_to(SRC.parent)}:{graph[a][b]})" for a, b in zip(cycle, cycle[1:])
    ]
    return "import cycle: " + " -> ".join(cycle) + "\n" + "\n".join(lines)


def test_the_graph_sees_every_kind_of_import():
    graph = import_graph()
    assert len(graph) > 30
    # a late import (inside a function) is an edge
    assert "guarantee_sim.scenario.build" in graph["guarantee_sim.scenario.compose"]
    # `from guarantee_sim.scenario import schema` is an edge to the submodule, not to the package
    assert "guarantee_sim.scenario.schema" in graph["guarantee_sim.scenario.build"]
    assert "guarantee_sim.scenario" not in graph["guarantee_sim.scenario.build"]
    # the top-level package maps its public names lazily: no edges
    assert graph["guarantee_sim"] == {}


def test_the_cycle_finder_finds_every_tangle():
    graph = {"a": {"b": 3}, "b": {"c": 5}, "c": {"a": 7, "d": 1}, "d": {"e": 2}, "e": {"d": 4}, "f": {"a": 1}}
    assert find_cycle(graph) == ["a", "b", "c", "a"]
    assert all_cycles(graph) == [["a", "b", "c", "a"], ["d", "e", "d"]]
    assert find_cycle({"a": {"b": 1}, "b": {}, "c": {"a": 2}}) is None
    assert all_cycles({"a": {"b": 1}, "b": {}, "c": {"a": 2}}) == []


def test_no_import_cycle():
    graph = import_graph()
    cycles = all_cycles(graph)
    assert not cycles, "\n".join(describe(cycle, graph) for cycle in cycles)


def test_no_module_is_longer_than_500_lines():
    long = {
        str(path.relative_to(SRC.parent)): n
        for path in sorted(SRC.rglob("*.py"))
        if (n := len(path.read_text().splitlines())) > MAX_LINES
    }
    assert not long, f"modules over {MAX_LINES} lines: {long}"
