"""The Python import graph of src/journeydsl has no cycles (issue 10, step 3).

(Python imports between our modules, not the language's `use "..."` lines:
those are tests/test_imports.py.)

How the graph is read, statically, with `ast`, from every `.py` file under
src/journeydsl (nothing is imported):

- A module is a file; a package is its `__init__.py` (`journeydsl.render`
  is src/journeydsl/render/__init__.py).
- Every `import` / `from ... import` statement counts, wherever it is: at
  module level, in a class body, in a `try`, or inside a function. A
  function-local import only delays the dependency to the first call; the
  two modules still need each other, and hiding cycles that way is what
  this test is here to stop.
- Except imports under `if TYPE_CHECKING:` (or `typing.TYPE_CHECKING`):
  they never run, so they cannot fail on a half-initialised module, and
  annotations legitimately point both ways (a result type names its
  producer's types and back). They are collected too (they must resolve)
  but are not edges. The `else:` branch of such an `if` runs, and counts.
- An import names one module, the edge goes there: `import a.b.c`,
  `from a.b import c` with `a/b/c.py` a module, `from . import c` for a
  submodule `c`: an edge to `a.b.c`. `from a.b import name` where `name`
  is not a submodule (a function, a class, a re-export): an edge to the
  package `a.b`, that is its `__init__.py`. `from . import *`: to the
  package.
- Importing `a.b.c` also runs `a/__init__.py` and `a/b/__init__.py` first,
  but that is not an edge from the importer: every module of a package
  starts that way, so such edges would tie the whole tree into one cycle
  through `journeydsl/__init__.py` and say nothing. A submodule depends on
  its own package only when it imports a name from it (`from .. import
  Report`); if that package's `__init__.py` imports the submodule back,
  that is a cycle like any other.
- Relative imports are resolved as Python does (`from .. import x` in
  `journeydsl/cli/root.py` means `journeydsl.x` or the attribute `x` of
  `journeydsl/__init__.py`). Imports of other distributions are ignored.
- Imports by computed name (`importlib.import_module(...)`) cannot be read
  statically: DYNAMIC_IMPORTS lists them, and a test ties that list to the
  code.
- A module importing itself is not a cycle.

Two checks on the graph:
- module-level imports alone (the ones that run when a module is first
  imported): no cycle at all, ever;
- all runtime imports, function-local included: no cycle either, except
  the ones in KNOWN_CYCLES, today's debt. That list must shrink to empty:
  the test fails on a cycle that is not in it, and also on a listed cycle
  that no longer exists, so it is kept honest (delete the entry with the
  import that broke it).

A cycle is written as the list of its modules in import order starting at
the smallest name (`["a", "b"]`: a imports b, b imports a); the failure
message gives every import line along it (file:line).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import networkx as nx
import pytest

REPO = Path(__file__).resolve().parents[1]
SOURCE = REPO / "src"
PACKAGE = "journeydsl"

#: Imports by computed name, which `ast` cannot resolve: importing module ->
#: the modules it may import (the root package's lazy public names).
DYNAMIC_IMPORTS: dict[str, set[str]] = {
    "journeydsl": {"journeydsl.api", "journeydsl.diagnostics", "journeydsl.language.model",
                   "journeydsl.language.compiled"},
}

#: Today's import cycles through function-local imports (none are
#: module-level): issue 10 step 3 removes them. Each entry must disappear
#: with the import that breaks it; nothing may be added.
KNOWN_CYCLES: list[list[str]] = []


# ---------------------------------------------------------------- reading the imports

@dataclass(frozen=True)
class Import:
    importer: str        # the importing module, e.g. "journeydsl.cli.render"
    target: str          # the module the statement makes Python run
    path: str            # the importing file, relative to the repository
    line: int
    statement: str       # the source line, stripped
    local: bool          # inside a function (runs at the first call)
    type_only: bool      # under `if TYPE_CHECKING:` (never runs)

    def __str__(self) -> str:
        where = ("type-only" if self.type_only else
                 "function-local" if self.local else "module-level")
        return f"{self.path}:{self.line}: {self.statement}  ({where})"


def find_modules(root: Path, package: str) -> dict[str, Path]:
    """Module name -> file, for every .py file of the package under `root`."""
    modules = {}
    for path in sorted((root / package).rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    return modules


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or \
        (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


class _Collector(ast.NodeVisitor):
    def __init__(self, module: str, is_package: bool, modules: dict[str, Path],
                 path: str, lines: list[str], package: str) -> None:
        self.module, self.is_package, self.modules = module, is_package, modules
        self.path, self.lines, self.package = path, lines, package
        self.local = self.type_only = False
        self.found: list[Import] = []
        self.unresolved: list[str] = []

    # -- context
    def _visit_function(self, node: ast.AST) -> None:
        outer, self.local = self.local, True
        self.generic_visit(node)
        self.local = outer

    visit_FunctionDef = visit_AsyncFunctionDef = visit_Lambda = _visit_function

    def visit_If(self, node: ast.If) -> None:
        if not _is_type_checking(node.test):
            self.generic_visit(node)
            return
        self.visit(node.test)
        outer, self.type_only = self.type_only, True
        for statement in node.body:
            self.visit(statement)
        self.type_only = outer
        for statement in node.orelse:
            self.visit(statement)

    # -- imports
    def _ours(self, name: str) -> bool:
        return name == self.package or name.startswith(self.package + ".")

    def _add(self, node: ast.stmt, target: str) -> None:
        if target not in self.modules:
            self.unresolved.append(f"{self.path}:{node.lineno}: {target}")
            return
        if any(item.line == node.lineno and item.target == target for item in self.found[-8:]):
            return  # one statement naming several things of one module: one import
        self.found.append(Import(self.module, target, self.path, node.lineno,
                                 self.lines[node.lineno - 1].strip(), self.local,
                                 self.type_only))

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            if self._ours(alias.name):
                self._add(node, alias.name)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level:
            parts = self.module.split(".")
            if not self.is_package:
                parts.pop()
            parts = parts[:len(parts) - (node.level - 1)]
            base = ".".join(parts + ([node.module] if node.module else []))
        else:
            base = node.module or ""
        if not self._ours(base):
            return
        for alias in node.names:
            submodule = f"{base}.{alias.name}"
            self._add(node, submodule if alias.name != "*" and submodule in self.modules
                      else base)


def read_imports(root: Path = SOURCE, package: str = PACKAGE) -> tuple[list[Import], list[str]]:
    """Every import of one of the package's modules by another (or itself),
    and the imports that name no module of the package (typos, stale
    names)."""
    modules = find_modules(root, package)
    found, unresolved = [], []
    for module, path in modules.items():
        text = path.read_text(encoding="utf-8")
        collector = _Collector(module, path.name == "__init__.py", modules,
                               path.relative_to(root.parent).as_posix(), text.splitlines(),
                               package)
        collector.visit(ast.parse(text, str(path)))
        found += collector.found
        unresolved += collector.unresolved
    return found, unresolved


def import_graph(imports: list[Import], *, module_level_only: bool = False,
                 dynamic: dict[str, set[str]] | None = None) -> nx.DiGraph:
    """The runtime import graph: an edge importer -> target for each module
    pair, with the statements that make it (`imports` attribute)."""
    graph = nx.DiGraph()
    for item in imports:
        if item.type_only or item.importer == item.target or (module_level_only and item.local):
            continue
        if not graph.has_edge(item.importer, item.target):
            graph.add_edge(item.importer, item.target, imports=[])
        graph.edges[item.importer, item.target]["imports"].append(item)
    if not module_level_only:
        for importer, targets in (dynamic or {}).items():
            for target in targets:
                if not graph.has_edge(importer, target):
                    graph.add_edge(importer, target, imports=[])
                graph.edges[importer, target]["imports"].append(
                    f"{importer} imports {target} by computed name (DYNAMIC_IMPORTS)")
    return graph


def _canonical(cycle: list[str]) -> tuple[str, ...]:
    start = cycle.index(min(cycle))
    return tuple(cycle[start:] + cycle[:start])


def cycles(graph: nx.DiGraph) -> list[tuple[str, ...]]:
    """Every simple cycle, each starting at its smallest module name, sorted."""
    return sorted((_canonical(c) for c in nx.simple_cycles(graph)), key=lambda c: (len(c), c))


def describe(graph: nx.DiGraph, cycle: tuple[str, ...]) -> str:
    """A cycle with the import lines along it."""
    lines = [" -> ".join(cycle + cycle[:1])]
    for a, b in zip(cycle, cycle[1:] + cycle[:1]):
        lines.append(f"  {a} -> {b}:")
        lines += [f"    {item}" for item in graph.edges[a, b]["imports"]]
    return "\n".join(lines)


# ---------------------------------------------------------------- the tree today

IMPORTS, UNRESOLVED = read_imports()


def test_the_walk_sees_the_whole_package() -> None:
    modules = find_modules(SOURCE, PACKAGE)
    assert {"journeydsl", "journeydsl.api", "journeydsl.cli", "journeydsl.cli.__main__",
            "journeydsl.simulate.montecarlo.run"} <= set(modules)
    importers = {item.importer for item in IMPORTS}
    assert len(importers) > len(modules) // 2
    assert any(item.local for item in IMPORTS) and any(item.type_only for item in IMPORTS)


def test_every_import_of_ours_names_a_module() -> None:
    assert not UNRESOLVED, "imports of journeydsl modules that do not exist:\n" + \
        "\n".join(UNRESOLVED)


def test_dynamic_imports_are_the_listed_ones() -> None:
    """`journeydsl.__getattr__` imports the public names' modules by computed
    name (`_LAZY`); DYNAMIC_IMPORTS has to say the same."""
    import journeydsl

    assert DYNAMIC_IMPORTS == {
        "journeydsl": {f"journeydsl.{module}" for module in journeydsl._LAZY.values()}}
    computed = sorted(f"{item}" for item in _computed_imports())
    assert computed == ["src/journeydsl/__init__.py"], \
        f"import_module / __import__ calls: {computed}; list their targets in DYNAMIC_IMPORTS"


def _computed_imports() -> set[str]:
    found = set()
    for path in find_modules(SOURCE, PACKAGE).values():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                name = node.func.attr if isinstance(node.func, ast.Attribute) else \
                    getattr(node.func, "id", None)
                if name in ("import_module", "__import__"):
                    found.add(path.relative_to(REPO).as_posix())
    return found


def test_module_level_imports_have_no_cycle() -> None:
    graph = import_graph(IMPORTS, module_level_only=True)
    found = cycles(graph)
    assert not found, "import cycles at module level (they break on import order):\n\n" + \
        "\n\n".join(describe(graph, c) for c in found)


def test_import_cycles_are_only_the_known_ones() -> None:
    graph = import_graph(IMPORTS, dynamic=DYNAMIC_IMPORTS)
    found = cycles(graph)
    known = [_canonical(list(c)) for c in KNOWN_CYCLES]
    assert len(set(known)) == len(known), "KNOWN_CYCLES lists a cycle twice"
    new = [c for c in found if c not in set(known)]
    gone = [c for c in known if c not in set(found)]
    message = []
    if new:
        message.append(f"{len(new)} new import cycle(s), function-local imports included; "
                       "break them (move the code, or import in the other direction):\n\n"
                       + "\n\n".join(describe(graph, c) for c in new))
    if gone:
        message.append("cycles in KNOWN_CYCLES that no longer exist (good: delete them "
                       "from the list):\n" + "\n".join(" -> ".join(c) for c in gone))
    assert not message, "\n\n".join(message)


# ---------------------------------------------------------------- the rules, on a small package

def _package(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def _edges(root: Path, package: str = "pkg") -> set[tuple[str, str, str]]:
    found, unresolved = read_imports(root, package)
    assert not unresolved, unresolved
    return {(i.importer, i.target, "type" if i.type_only else "local" if i.local else "module")
            for i in found}


def test_rules_relative_imports_submodule_or_attribute(tmp_path: Path) -> None:
    root = _package(tmp_path, {
        "pkg/__init__.py": "from .util import helper\nVALUE = 1\n",
        "pkg/util.py": "def helper():\n    from . import VALUE\n    return VALUE\n",
        "pkg/sub/__init__.py": "",
        "pkg/sub/a.py": "from . import b\nfrom .. import util\nfrom ..util import helper\n"
                        "from .. import VALUE\nimport pkg.sub.b as bee\nimport os, json\n",
        "pkg/sub/b.py": "from pkg.sub import *\nfrom pkg import sub\n",
    })
    assert _edges(root) == {
        ("pkg", "pkg.util", "module"),
        ("pkg.util", "pkg", "local"),          # an attribute of the package: its __init__
        ("pkg.sub.a", "pkg.sub.b", "module"),  # `from . import b`: the submodule
        ("pkg.sub.a", "pkg.util", "module"),
        ("pkg.sub.a", "pkg", "module"),
        ("pkg.sub.b", "pkg.sub", "module"),    # `*`: the package
    }


def test_rules_type_checking_and_parents(tmp_path: Path) -> None:
    root = _package(tmp_path, {
        "pkg/__init__.py": "",
        "pkg/a.py": "from typing import TYPE_CHECKING\nimport typing\n"
                    "if TYPE_CHECKING:\n    from .b import B\nelse:\n    from . import c\n"
                    "if typing.TYPE_CHECKING:\n    import pkg.c\n"
                    "class A:\n    from . import d\n",
        "pkg/b.py": "from .a import A\n",
        "pkg/c.py": "import pkg.deep.e\n",
        "pkg/d.py": "",
        "pkg/deep/__init__.py": "",
        "pkg/deep/e.py": "",
    })
    assert _edges(root) == {
        ("pkg.a", "pkg.b", "type"), ("pkg.a", "pkg.c", "type"),
        ("pkg.a", "pkg.c", "module"),                              # the else branch runs
        ("pkg.a", "pkg.d", "module"),                              # class bodies run on import
        ("pkg.b", "pkg.a", "module"),
        ("pkg.c", "pkg.deep.e", "module"),                         # not pkg.deep, not pkg
    }
    found, _ = read_imports(root, "pkg")
    assert cycles(import_graph(found)) == []    # a <-> b only through TYPE_CHECKING


def test_rules_cycles_are_found_and_described(tmp_path: Path) -> None:
    root = _package(tmp_path, {
        "pkg/__init__.py": "from . import a\n",
        "pkg/a.py": "from . import b\n",
        "pkg/b.py": "def f():\n    from .c import g\n    import pkg.b\n",
        "pkg/c.py": "from pkg.a import x, y\n",
    })
    found, _ = read_imports(root, "pkg")
    graph = import_graph(found)
    assert cycles(graph) == [("pkg.a", "pkg.b", "pkg.c")]
    assert cycles(import_graph(found, module_level_only=True)) == []
    text = describe(graph, ("pkg.a", "pkg.b", "pkg.c"))
    assert "pkg.a -> pkg.b -> pkg.c -> pkg.a" in text
    assert "pkg/b.py:2: from .c import g  (function-local)" in text
    assert "pkg/c.py:1: from pkg.a import x, y  (module-level)" in text
    assert text.count("pkg/c.py:1") == 1


@pytest.mark.parametrize("cycle", [["b", "c", "a"], ["a", "b", "c"], ["c", "a", "b"]])
def test_rules_a_cycle_is_written_from_its_smallest_module(cycle: list[str]) -> None:
    assert _canonical(cycle) == ("a", "b", "c")
