"""The import graph, read from the code with ast: no cycles, layers that import one way, narrow kernels.

Every module-level and function-level import counts, so a cycle cannot hide inside a function.
"""

import ast
from pathlib import Path

import pytest

from tests.conftest import ROOT

PACKAGES = ("nesting", "patterns", "export", "jobs", "planning", "workbench", "benchmarks")
MAX_KERNEL_PARAMETERS = 8


def _modules() -> dict[str, Path]:
    found = {"cli": ROOT / "cli.py"}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            found[name.removesuffix(".__init__")] = path
    return found


def _imports(name: str, path: Path, modules) -> set[str]:
    """The project modules ``name`` imports (the longest known prefix of each imported name)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    targets = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parts + ([base] if base else []))
            names = [base] + [f"{base}.{alias.name}" for alias in node.names]
        else:
            continue
        for target in names:
            while target and target not in modules:
                target = target.rpartition(".")[0]
            if target and target != name and not name.startswith(target + "."):
                targets.add(target)
    return targets


@pytest.fixture(scope="module")
def graph():
    modules = _modules()
    return {name: _imports(name, path, modules) for name, path in modules.items()}


def _cycles(graph) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index, low, on_stack, stack, components = {}, {}, set(), [], []
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is None:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        components.append(sorted(component))
            elif child not in index:
                index[child] = low[child] = len(index)
                stack.append(child)
                on_stack.add(child)
                work.append((child, iter(sorted(graph.get(child, ())))))
            elif child in on_stack:
                low[node] = min(low[node], index[child])
    return components


def test_the_cycle_finder_finds_a_planted_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycle_anywhere(graph):
    assert _cycles(graph) == []


@pytest.mark.parametrize(("layer", "never"), [
    ("patterns", ("nesting", "export", "jobs", "planning", "workbench", "benchmarks", "cli")),
    ("nesting", ("export", "jobs", "planning", "workbench", "benchmarks", "cli")),
    ("export", ("jobs", "planning", "workbench", "benchmarks", "cli")),
    ("jobs", ("planning", "workbench", "benchmarks", "cli")),
    ("planning", ("workbench", "benchmarks", "cli")),
    ("nesting.kernels", ("nesting.search", "nesting.engine", "nesting.collision", "patterns")),
])
def test_layers_import_one_way(graph, layer, never):
    offending = sorted(
        f"{module} -> {target}"
        for module, targets in graph.items() if module == layer or module.startswith(layer + ".")
        for target in targets if any(target == n or target.startswith(n + ".") for n in never)
    )
    assert offending == []


def test_no_compiled_function_takes_more_than_eight_parameters():
    wide = []
    for name, path in _modules().items():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef) and any("jit" in ast.unparse(d) for d in node.decorator_list):
                count = len(node.args.args) + len(node.args.kwonlyargs)
                if count > MAX_KERNEL_PARAMETERS:
                    wide.append(f"{name}.{node.name} ({count})")
    assert wide == []
