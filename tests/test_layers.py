"""The layers of chainrisk, checked on every module's imports (an AST-based import-linter).

::

    chainrisk.app                          CLI, commands, HTTP API, demo: may import anything
    ingest · contagion · gnn · queries     library components (contagion and gnn never import each other)
    graph                                  the one seam to Neo4j (the only importer of the driver)
    chainrisk base                         chainrisk/__init__ (``__version__``), errors, settings, version

The rules (a, b, c and e also through chains of imports; d only direct):

a. ``graph`` imports no other component (ingest, gnn, contagion, queries, chainrisk.app);
b. no library package and no module of the chainrisk base imports ``chainrisk.app``;
c. ``contagion`` and ``gnn`` do not import each other (PDs reach stress tests as data);
d. no module outside ``graph`` imports the driver (``neo4j``, ``neo4j_rust_ext``, ``graphdatascience``);
e. the chainrisk base imports no component (graph, ingest, gnn, contagion, queries).

Every import counts: top level, inside functions, under ``TYPE_CHECKING``, relative ones and
``importlib.import_module("literal")`` calls (an f-string counts by its constant prefix). Importing
``a.b.c`` also runs ``a/__init__`` and ``a/b/__init__``: each module depends on its parent package.

The checker (:func:`check`) is a pure function of a map ``{module: [(imported module, line)]}``;
it is tested on small synthetic maps below, then run on the source tree.
"""

from __future__ import annotations

import ast
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("chainrisk", "graph", "ingest", "gnn", "contagion", "queries")
LIBRARIES = ("graph", "ingest", "gnn", "contagion", "queries")
BASE = frozenset({"chainrisk", "chainrisk.errors", "chainrisk.settings", "chainrisk.version"})
APP = "chainrisk.app"
DRIVERS = ("neo4j", "neo4j_rust_ext", "graphdatascience")

#: The line recorded for the implicit import of a module's parent package.
PARENT_LINE = 0

ImportMap = Mapping[str, Sequence[tuple[str, int]]]


# ----------------------------------------------------------------------------- predicates
def within(module: str, package: str) -> bool:
    """``module`` is ``package`` or lies below it."""
    return module == package or module.startswith(package + ".")


def within_any(module: str, packages: Iterable[str]) -> bool:
    return any(within(module, p) for p in packages)


def is_base(module: str) -> bool:
    return module in BASE


def is_app(module: str) -> bool:
    return within(module, APP)


@dataclass(frozen=True)
class Rule:
    """Modules for which ``source`` holds may not import a module ``m`` for which ``forbidden(source, m)``."""

    name: str
    text: str
    source: Callable[[str], bool]
    forbidden: Callable[[str, str], bool]
    transitive: bool = True


def _other_model_package(source: str, module: str) -> bool:
    return within(module, "gnn" if within(source, "contagion") else "contagion")


RULES: tuple[Rule, ...] = (
    Rule(
        "a", "graph imports no other component",
        lambda m: within(m, "graph"),
        lambda _, m: within_any(m, ("ingest", "gnn", "contagion", "queries", APP)),
    ),
    Rule(
        "b", "no library package and no base module imports chainrisk.app",
        lambda m: within_any(m, LIBRARIES) or is_base(m),
        lambda _, m: is_app(m),
    ),
    Rule(
        "c", "contagion and gnn do not import each other",
        lambda m: within_any(m, ("contagion", "gnn")),
        _other_model_package,
    ),
    Rule(
        "d", "only graph imports the Neo4j driver",
        lambda m: not within(m, "graph"),
        lambda _, m: within_any(m, DRIVERS),
        transitive=False,
    ),
    Rule(
        "e", "the chainrisk base imports no component",
        is_base,
        lambda _, m: within_any(m, LIBRARIES),
    ),
)


# ----------------------------------------------------------------------------- the checker
@dataclass(frozen=True)
class Violation:
    """A chain ``source -> ... -> target``: ``hops`` holds ``(importer, line, imported)`` per edge."""

    rule: str
    hops: tuple[tuple[str, int, str], ...]

    @property
    def source(self) -> str:
        return self.hops[0][0]

    @property
    def target(self) -> str:
        return self.hops[-1][2]

    def __str__(self) -> str:
        def hop(h: tuple[str, int, str]) -> str:
            importer, line, imported = h
            if line == PARENT_LINE:
                return f"{importer} runs its package {imported}"
            return f"{importer} line {line} imports {imported}"

        kind = "imports" if len(self.hops) == 1 else "reaches through a chain"
        return f"[{self.rule}] {self.source} {kind} {self.target}: " + " -> ".join(hop(h) for h in self.hops)


def _node(name: str, known: Iterable[str]) -> str:
    """The longest known module that ``name`` lies in (``name`` itself when none: external)."""
    best = ""
    for k in known:
        if within(name, k) and len(k) > len(best):
            best = k
    return best or name


def check(imports: ImportMap, rules: Sequence[Rule] = RULES) -> list[Violation]:
    """Every violation of ``rules`` in the import map ``{module: [(imported module, line)]}``.

    Direct rules report each forbidden edge. Transitive rules search from each source module
    (breadth first, so the shortest chain) and report each forbidden module where a chain first
    enters the forbidden side, with the chain. Imported names are resolved to the longest module
    of the map they lie in (``pkg.mod.func`` -> ``pkg.mod``); names outside the map are leaves.
    """
    known = set(imports)
    edges = {m: [(_node(t, known), line) for t, line in targets] for m, targets in imports.items()}
    found: list[Violation] = []
    for rule in rules:
        for source in sorted(m for m in imports if rule.source(m)):
            forbidden = partial(rule.forbidden, source)
            if not rule.transitive:
                found += [Violation(rule.name, ((source, line, t),))
                          for t, line in sorted(edges[source], key=lambda e: (e[1], e[0])) if forbidden(t)]
                continue
            # breadth-first search that stops where a chain first enters the forbidden side
            came: dict[str, tuple[str, int] | None] = {source: None}
            queue = deque([source])
            while queue:
                m = queue.popleft()
                for t, line in sorted(edges.get(m, ()), key=lambda e: (e[1], e[0])):
                    if t in came:
                        continue
                    came[t] = (m, line)
                    if forbidden(t):
                        hops: list[tuple[str, int, str]] = []
                        cur = t
                        while (prev := came[cur]) is not None:
                            hops.append((prev[0], prev[1], cur))
                            cur = prev[0]
                        found.append(Violation(rule.name, tuple(reversed(hops))))
                    else:
                        queue.append(t)
    return found


# ----------------------------------------------------------------------------- the import map
def module_name(path: Path, root: Path = ROOT) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _literal_module(call: ast.Call) -> str | None:
    """The module of ``importlib.import_module("x")`` / ``import_module("x")`` / ``__import__("x")``.

    An f-string counts by its constant prefix up to its last dot (``f"a.b.{name}"`` imports ``a.b``).
    """
    func = call.func
    name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
    if name not in ("import_module", "__import__") or not call.args:
        return None
    arg = call.args[0]
    if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
        return arg.value
    if isinstance(arg, ast.JoinedStr) and arg.values:
        head = arg.values[0]
        if isinstance(head, ast.Constant) and isinstance(head.value, str) and "." in head.value:
            return head.value.rsplit(".", 1)[0]
    return None


def _resolve(module: str, is_package: bool, level: int, target: str | None) -> str:
    """Absolute name of a relative import ``from <level dots><target> import ...`` in ``module``."""
    package = module if is_package else module.rpartition(".")[0]
    parts = package.split(".") if package else []
    if level - 1 > len(parts):
        raise ImportError(f"{module}: relative import beyond the top-level package")
    base = ".".join(parts[: len(parts) - (level - 1)])
    return ".".join(p for p in (base, target) if p)


def imports_of(source: str, module: str, *, is_package: bool = False,
               known: Iterable[str] = ()) -> list[tuple[str, int]]:
    """Every module ``source`` (the text of ``module``) imports, with its line.

    ``from x import y`` records ``x`` and, when ``x.y`` is a known module, ``x.y`` as well.
    Relative imports are made absolute; a relative ``import_module("..x", package=...)`` is taken
    relative to ``module``'s own package (its ``__package__``, the usual argument).
    """
    known = set(known)
    out: list[tuple[str, int]] = []
    for node in ast.walk(ast.parse(source, filename=module)):
        if isinstance(node, ast.Import):
            out += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = _resolve(module, is_package, node.level, node.module) if node.level else node.module or ""
            out.append((base, node.lineno))
            out += [(f"{base}.{a.name}", node.lineno) for a in node.names if f"{base}.{a.name}" in known]
        elif isinstance(node, ast.Call) and (name := _literal_module(node)) is not None:
            if name.startswith("."):
                level = len(name) - len(name.lstrip("."))
                name = _resolve(module, is_package, level, name.lstrip(".") or None)
            out.append((name, node.lineno))
    return sorted(set(out), key=lambda e: (e[1], e[0]))


def import_map(root: Path = ROOT, packages: Sequence[str] = PACKAGES) -> dict[str, list[tuple[str, int]]]:
    """``{module: [(imported module, line)]}`` for every module of ``packages`` under ``root``.

    Each module also depends on its parent package (line ``PARENT_LINE``): importing it runs that.
    """
    files = {
        module_name(p, root): p
        for pkg in packages
        for p in sorted((root / pkg).rglob("*.py"))
        if "__pycache__" not in p.parts
    }
    out: dict[str, list[tuple[str, int]]] = {}
    for module, path in files.items():
        found = imports_of(path.read_text(encoding="utf-8"), module,
                           is_package=path.name == "__init__.py", known=files)
        parent = module.rpartition(".")[0]
        out[module] = ([(parent, PARENT_LINE)] if parent else []) + found
    return out


# ----------------------------------------------------------------------------- the checker, tested
SYNTHETIC_CLEAN: dict[str, list[tuple[str, int]]] = {
    "chainrisk": [],
    "chainrisk.errors": [("chainrisk", 0)],
    "chainrisk.settings": [("chainrisk", 0), ("pydantic", 3)],
    "chainrisk.app": [("chainrisk", 0)],
    "chainrisk.app.cli": [("chainrisk.app", 0), ("ingest.api", 4), ("graph.runner", 5), ("contagion", 6)],
    "graph": [],
    "graph.runner": [("graph", 0), ("neo4j", 3), ("chainrisk.errors", 4), ("chainrisk.settings", 5)],
    "graph.gds": [("graph", 0), ("graphdatascience", 2), ("graph.runner", 3)],
    "ingest": [("ingest.api", 5)],
    "ingest.api": [("ingest", 0), ("graph.runner", 7), ("chainrisk.errors.DataError", 8)],
    "contagion": [("ingest.snapshot", 2)],
    "gnn": [("ingest", 2), ("graph", 3), ("torch", 4)],
    "queries": [("graph.runner", 2)],
}


def _with(extra: dict[str, list[tuple[str, int]]]) -> dict[str, list[tuple[str, int]]]:
    out = {m: list(v) for m, v in SYNTHETIC_CLEAN.items()}
    for m, targets in extra.items():
        out.setdefault(m, []).extend(targets)
    return out


def test_checker_passes_a_clean_map() -> None:
    assert check(SYNTHETIC_CLEAN) == []


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        # a: graph imports a component, directly or through a chain (the chain is reported)
        ({"graph.snapshot_io": [("graph", 0), ("ingest.snapshot", 9)]},
         [("a", "graph.snapshot_io", "ingest")]),
        ({"graph.gds": [("queries", 7)]}, [("a", "graph.gds", "queries")]),
        ({"graph.gds": [("chainrisk.app.cli", 7)]},
         [("a", "graph.gds", "chainrisk.app.cli"), ("b", "graph.gds", "chainrisk.app.cli")]),
        ({"chainrisk.settings": [("gnn", 11)]},
         [("a", "graph.gds", "gnn"), ("a", "graph.runner", "gnn"), ("e", "chainrisk.settings", "gnn"),
          ("c", "contagion", "gnn")]),  # contagion -> ingest -> ingest.api -> graph.runner -> settings
        # b: a library or the base imports the app
        ({"contagion": [("chainrisk.app.cli", 5)]}, [("b", "contagion", "chainrisk.app.cli")]),
        ({"chainrisk.errors": [("chainrisk.app", 30)]},
         [("b", "chainrisk.errors", "chainrisk.app"), ("b", "graph.runner", "chainrisk.app"),
          ("b", "graph.gds", "chainrisk.app"), ("b", "ingest.api", "chainrisk.app"),
          ("b", "ingest", "chainrisk.app"), ("b", "contagion", "chainrisk.app"),
          ("b", "gnn", "chainrisk.app"), ("b", "queries", "chainrisk.app"),
          ("a", "graph.runner", "chainrisk.app"), ("a", "graph.gds", "chainrisk.app")]),
        # c: contagion and gnn, either way, directly or through another component
        ({"contagion": [("gnn", 4)]}, [("c", "contagion", "gnn")]),
        ({"gnn": [("contagion.debtrank", 4)]}, [("c", "gnn", "contagion")]),
        ({"ingest.api": [("gnn", 12)]}, [("c", "contagion", "gnn")]),
        # d: the driver outside graph (directly only: the app reaching it through graph is fine)
        ({"ingest.api": [("neo4j", 3)]}, [("d", "ingest.api", "neo4j")]),
        ({"queries": [("graphdatascience", 3)]}, [("d", "queries", "graphdatascience")]),
        ({"contagion": [("neo4j_rust_ext", 3)]}, [("d", "contagion", "neo4j_rust_ext")]),
        # e: the base imports a component
        ({"chainrisk": [("graph.runner", 3)]},  # importing errors or settings runs chainrisk/__init__
         [("e", "chainrisk", "graph.runner"), ("e", "chainrisk.errors", "graph.runner"),
          ("e", "chainrisk.settings", "graph.runner")]),
    ],
)
def test_checker_catches(
    extra: dict[str, list[tuple[str, int]]], expected: list[tuple[str, str, str]]
) -> None:
    found = check(_with(extra))
    assert sorted((v.rule, v.source, v.target) for v in found) == sorted(expected), [str(v) for v in found]


def test_checker_names_module_line_and_chain() -> None:
    found = check(_with({"graph.runner": [("chainrisk.settings", 9)], "chainrisk.settings": [("gnn", 11)]}))
    chain = next(v for v in found if v.rule == "a" and v.source == "graph.runner")
    assert chain.hops == (("graph.runner", 5, "chainrisk.settings"), ("chainrisk.settings", 11, "gnn"))
    assert str(chain) == (
        "[a] graph.runner reaches through a chain gnn: graph.runner line 5 imports chainrisk.settings"
        " -> chainrisk.settings line 11 imports gnn"
    )
    direct = check(_with({"ingest.api": [("neo4j.exceptions", 3)]}))
    assert [str(v) for v in direct] == [
        "[d] ingest.api imports neo4j.exceptions: ingest.api line 3 imports neo4j.exceptions"
    ]


def test_extractor_sees_every_kind_of_import() -> None:
    source = '''
import importlib
from typing import TYPE_CHECKING
from . import sibling
from ..errors import ConfigError
if TYPE_CHECKING:
    from contagion.esri import ESRIResult
def f():
    import neo4j.exceptions
    mod = importlib.import_module("graph.runner")
    cmd = importlib.import_module(f"chainrisk.app.commands.{name}")
    rel = importlib.import_module("..settings", package=__package__)
    return mod
'''
    got = imports_of(source, "chainrisk.app.demo", known={"chainrisk.app.sibling"})
    assert got == [
        ("importlib", 2),
        ("typing", 3),
        ("chainrisk.app", 4),
        ("chainrisk.app.sibling", 4),
        ("chainrisk.errors", 5),
        ("contagion.esri", 7),
        ("neo4j.exceptions", 9),
        ("graph.runner", 10),
        ("chainrisk.app.commands", 11),
        ("chainrisk.settings", 12),
    ]
    assert imports_of("from . import x", "graph", is_package=True) == [("graph", 1)]
    assert module_name(ROOT / "chainrisk" / "app" / "__init__.py") == "chainrisk.app"


# ----------------------------------------------------------------------------- the tree
@pytest.fixture(scope="module")
def tree_map() -> dict[str, list[tuple[str, int]]]:
    return import_map()


def test_tree_map_covers_the_packages(tree_map: dict[str, list[tuple[str, int]]]) -> None:
    assert set(PACKAGES) <= set(tree_map)
    assert {"chainrisk.errors", "chainrisk.settings", "chainrisk.app.cli", "graph.runner"} <= set(tree_map)
    stress = {t for t, _ in tree_map["chainrisk.app.commands.stress"]}
    assert {"ingest", "chainrisk.app.commands"} <= stress  # importlib.import_module("ingest"); parent


def test_chainrisk_modules_are_base_or_app(tree_map: dict[str, list[tuple[str, int]]]) -> None:
    """Every module of ``chainrisk`` has a layer: the base, or the app below ``chainrisk.app``."""
    assert [m for m in tree_map if within(m, "chainrisk") and not (is_base(m) or is_app(m))] == []


@pytest.mark.parametrize("rule", RULES, ids=[r.name for r in RULES])
def test_layer_rule(rule: Rule, tree_map: dict[str, list[tuple[str, int]]]) -> None:
    violations = check(tree_map, [rule])
    assert not violations, f"rule {rule.name} ({rule.text}):\n" + "\n".join(str(v) for v in violations)
