"""The layout's import contract (design.md, "Layout"): imports point one way, checked on the
source with every import statement counted, function-level ones included.

cli/gui -> run -> procedures -> drivers -> bench -> physics; sim_backend -> physics; results
is used by all and uses none of run/cli/gui. physics imports no other labspin package;
procedures and drivers never import sim_backend; no import cycles, between modules or between
the packages."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TOP = {"drivers": "labspin.drivers", "procedures": "labspin.procedures",
       "sim_backend": "labspin.sim_backend"}
PACKAGES = ("physics", "bench", "drivers", "procedures", "sim_backend", "run", "results",
            "cli", "gui")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[0] in TOP:
        parts = TOP[parts[0]].split(".") + parts[1:]
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def source_files() -> list[Path]:
    files = [p for p in (ROOT / "labspin").rglob("*.py")]
    for top in TOP:
        files += list((ROOT / top).rglob("*.py"))
    return sorted(files)


def imports_of(path: Path) -> set[str]:
    """Every labspin module an import statement in the file names (absolute or relative)."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - (node.level - 1)] if node.level > 1 else base
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            out.add(mod)
            out |= {f"{mod}.{a.name}" for a in node.names}     # from pkg import module
    return {m for m in out if m == "labspin" or m.startswith("labspin.")}


def graph() -> dict[str, set[str]]:
    files = source_files()
    modules = {module_name(p) for p in files}
    g = {}
    for p in files:
        targets = set()
        for m in imports_of(p):
            # resolve to the longest existing module (an attribute import names its module)
            while m and m not in modules:
                m = m.rpartition(".")[0]
            me = module_name(p)
            # every module runs its ancestor packages' __init__ first: no edge of its own
            if m and m != me and not me.startswith(m + "."):
                targets.add(m)
        g[module_name(p)] = targets
    return g


GRAPH = graph()


def package(mod: str) -> str | None:
    parts = mod.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in PACKAGES else None


def offenders(src: str, forbidden: set[str]) -> list[str]:
    return sorted(f"{m} imports {t}" for m, ts in GRAPH.items() if package(m) == src
                  for t in ts if package(t) in forbidden or (t == "labspin" and "" in forbidden))


def test_the_graph_sees_the_packages():
    found = {package(m) for m in GRAPH}
    assert set(PACKAGES) <= found, found
    assert len(GRAPH) > 80


@pytest.mark.parametrize("src, forbidden", [
    ("physics", set(PACKAGES) - {"physics"}),
    ("bench", {"drivers", "procedures", "sim_backend", "run", "cli", "gui"}),
    ("drivers", {"procedures", "sim_backend", "run", "cli", "gui"}),
    ("procedures", {"sim_backend", "run", "cli", "gui"}),
    ("sim_backend", {"drivers", "procedures", "run", "cli", "gui"}),
    ("results", {"run", "cli", "gui", "drivers", "procedures", "sim_backend", "bench"}),
    ("run", {"cli", "gui"}),
])
def test_imports_point_one_way(src, forbidden):
    assert offenders(src, forbidden) == []


def test_physics_imports_nothing_else_of_labspin():
    bad = sorted(f"{m} imports {t}" for m, ts in GRAPH.items() if package(m) == "physics"
                 for t in ts if package(t) != "physics")
    assert bad == []


def _cycles(g: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one node (Tarjan)."""
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in g.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1 or v in g.get(v, ()):
                out.append(sorted(comp))
    for v in sorted(g):
        if v not in index:
            visit(v)
    return out


def test_no_import_cycle_between_modules():
    assert _cycles(GRAPH) == []


def test_no_import_cycle_between_packages():
    pg: dict[str, set[str]] = {}
    for m, ts in GRAPH.items():
        a = package(m)
        if a is None:
            continue
        pg.setdefault(a, set()).update(b for t in ts if (b := package(t)) and b != a)
    assert _cycles(pg) == [], pg
