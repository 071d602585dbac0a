"""The import graph of irsa_lib: no circle, and no import from a lower layer to a higher one.

Data flows one way (sources -> snapshot -> evaluation -> graph -> access/findings -> views), and the
imports follow it. Every import counts: at module level, inside a function (a lazy import) and under
``TYPE_CHECKING``. A new top-level module or package must be given its layer here.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from pathlib import Path

import irsa_lib

LAYERS: tuple[tuple[str, ...], ...] = (
    (
        "irsa_lib",
        "errors",
        "codec",
        "model",
        "snapshot",
        "nesting",
        "userregex",
        "locate",
        "terminal",
        "subjects",
        "engine",
        "collector",
    ),  # records, the seam, leaf helpers (terminal output, subject spelling, the Dask client, the collector pause)
    ("policy",),  # the IAM evaluator, pure
    ("resolve", "collect"),  # a snapshot as evaluator inputs; collection writes snapshots
    ("graph",),
    ("access",),
    ("findings",),
    (
        "analysis",
        "diff",
        "partitioned",
        "rowtable",
        "cache",
    ),  # the one pipeline (its Dask form, its graph kept on disk), drift
    ("whatif",),  # a plan overlaid on a snapshot, compared through the pipeline
    ("render",),  # views that only render
    ("notebooks", "onboarding"),
    ("fixes",),  # a finding's fix as changes, applied as a what-if overlay, verified through the pipeline
    ("demo",),
    ("cli",),
)
LOWER = ("model", "policy", "collect", "graph")
HIGHER = ("access", "findings", "render", "cli", "notebooks")

ROOT = Path(irsa_lib.__file__).parent


def modules() -> dict[str, Path]:
    """Every module of the package by dotted name (a package by its own name)."""
    out = {}
    for path in ROOT.rglob("*.py"):
        parts = ["irsa_lib", *path.relative_to(ROOT).with_suffix("").parts]
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def _resolve(name: str, known: Mapping[str, Path]) -> str | None:
    while name and name not in known:
        name = name.rpartition(".")[0]
    return name or None


def import_edges(known: Mapping[str, Path]) -> dict[str, set[str]]:
    """module -> the irsa_lib modules it imports (``from pkg import sub`` counts as importing ``pkg.sub``)."""
    edges: dict[str, set[str]] = {m: set() for m in known}
    for module, path in known.items():
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                    base = ".".join([*anchor, *([node.module] if node.module else [])])
                names = [f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names]
            for name in names:
                target = _resolve(name, known) if name.split(".")[0] == "irsa_lib" else None
                if target and target != module:
                    edges[module].add(target)
    return edges


def part(module: str) -> str:
    """The top-level module or package a module belongs to (``irsa_lib`` for the package itself)."""
    pieces = module.split(".")
    return pieces[1] if len(pieces) > 1 else pieces[0]


def cycles(edges: Mapping[str, Iterable[str]]) -> list[list[str]]:
    """The strongly connected components with more than one node (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in edges.get(v, ()):
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

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def upward(edges: Mapping[str, Iterable[str]], layers: tuple[tuple[str, ...], ...]) -> list[str]:
    """Imports from a module to one in a higher layer, as ``a -> b`` lines."""
    level = {p: i for i, names in enumerate(layers) for p in names}
    return sorted(f"{a} -> {b}" for a, targets in edges.items() for b in targets if level[part(b)] > level[part(a)])


def part_edges(edges: Mapping[str, Iterable[str]]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for a, targets in edges.items():
        out.setdefault(part(a), set()).update(part(b) for b in targets if part(b) != part(a))
    return out


# --- the checks themselves catch what they should --------------------------------------------------
def test_the_checks_find_a_circle_and_an_upward_import() -> None:
    edges = {
        "irsa_lib.graph.a": {"irsa_lib.graph.b"},
        "irsa_lib.graph.b": {"irsa_lib.graph.a", "irsa_lib.render"},
        "irsa_lib.render": set(),
    }
    assert cycles(edges) == [["irsa_lib.graph.a", "irsa_lib.graph.b"]]
    assert upward(edges, LAYERS) == ["irsa_lib.graph.b -> irsa_lib.render"]
    assert cycles(part_edges({"irsa_lib.render": {"irsa_lib.notebooks"}, "irsa_lib.notebooks": {"irsa_lib.render.x"}}))


def test_relative_and_lazy_imports_are_read(tmp_path: Path) -> None:
    pkg = tmp_path / "irsa_lib"
    (pkg / "graph").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "access.py").write_text("")
    (pkg / "graph" / "__init__.py").write_text("from . import core\n")
    (pkg / "graph" / "core.py").write_text("def f():\n    from ..access import x\n")
    known = {
        "irsa_lib": pkg / "__init__.py",
        "irsa_lib.access": pkg / "access.py",
        "irsa_lib.graph": pkg / "graph" / "__init__.py",
        "irsa_lib.graph.core": pkg / "graph" / "core.py",
    }
    edges = import_edges(known)
    assert edges["irsa_lib.graph"] == {"irsa_lib.graph.core"}
    assert edges["irsa_lib.graph.core"] == {"irsa_lib.access"}


# --- irsa_lib ----------------------------------------------------------------------------------------
def test_every_part_of_the_package_has_a_layer() -> None:
    placed = {p for names in LAYERS for p in names}
    assert {part(m) for m in modules()} <= placed
    assert set(LOWER) | set(HIGHER) <= placed


def test_no_module_imports_a_higher_layer() -> None:
    edges = import_edges(modules())
    assert upward(edges, LAYERS) == []
    lower_to_higher = [f"{a} -> {b}" for a, bs in edges.items() for b in bs if part(a) in LOWER and part(b) in HIGHER]
    assert lower_to_higher == []


def test_no_circle_between_modules_or_between_packages() -> None:
    edges = import_edges(modules())
    assert cycles(edges) == []
    assert cycles(part_edges(edges)) == []
