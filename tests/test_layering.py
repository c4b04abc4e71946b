"""The packages' layering, read from the code's own imports (every import: module level, inside
functions, and under ``TYPE_CHECKING``).

- ``vzero_core`` imports neither half; ``vzero_data`` never imports ``vzero_train``;
- ``vzero_train`` reaches curation only through its public packages (``PUBLIC_DATA_MODULES``);
- no two modules import each other, directly or round a longer loop.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("vzero_core", "vzero_data", "vzero_train")
# What training may import of curation: the store API, the synthetic worlds, the pipeline's entry
# points (the sandbox curates its worlds), the views (random crops), the benchmark readers (evaluation)
# and the CLI (the demo runs it).
PUBLIC_DATA_MODULES = {
    "vzero_data",
    "vzero_data.benchmarks",
    "vzero_data.benchmarks.items",
    "vzero_data.cli",
    "vzero_data.pipeline",
    "vzero_data.pipeline.runner",
    "vzero_data.store",
    "vzero_data.synth",
    "vzero_data.views",
}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def all_modules() -> dict[str, Path]:
    return {module_name(p): p for pkg in PACKAGES for p in sorted((ROOT / pkg).rglob("*.py"))}


def bound_names(path: Path) -> set[str]:
    """The names a package's ``__init__`` binds by importing them (its re-exports)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {
        alias.asname or alias.name
        for node in tree.body
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
    }


def imported(path: Path, modules: dict[str, Path]) -> set[str]:
    """The project modules ``path`` imports: ``from a.b import c`` is ``a.b.c`` when that is a
    module the package ``a.b`` does not shadow with a re-exported name, else ``a.b``; relative
    imports are resolved against the file's package."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                full = f"{base}.{alias.name}"
                is_module = full in modules and alias.name not in reexports(base, modules)
                out.add(full if is_module else base)
    return {m for m in out if m.split(".")[0] in PACKAGES and m != name}


def reexports(package: str, modules: dict[str, Path]) -> set[str]:
    path = modules.get(package)
    return bound_names(path) if path is not None and path.name == "__init__.py" else set()


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    modules = all_modules()
    return {name: imported(path, modules) for name, path in modules.items()}


@pytest.mark.parametrize(
    "package, forbidden",
    [("vzero_core", ("vzero_data", "vzero_train")), ("vzero_data", ("vzero_train",))],
)
def test_lower_layers_never_import_upper_ones(graph, package, forbidden):
    bad = sorted(
        f"{mod} imports {dep}"
        for mod, deps in graph.items()
        if mod.split(".")[0] == package
        for dep in deps
        if dep.split(".")[0] in forbidden
    )
    assert not bad, "\n".join(bad)


def test_training_reaches_curation_only_through_its_public_packages(graph):
    bad = sorted(
        f"{mod} imports {dep}"
        for mod, deps in graph.items()
        if mod.startswith("vzero_train")
        for dep in deps
        if dep.startswith("vzero_data") and dep not in PUBLIC_DATA_MODULES
    )
    assert not bad, "\n".join(bad)


def strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's components of more than one module (import loops)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    loops: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in graph:
                continue
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
                loops.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return loops


def test_no_import_loops(graph):
    assert strongly_connected(graph) == []


def test_the_loop_finder_finds_a_loop():
    assert strongly_connected({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
