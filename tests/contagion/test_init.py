"""The package: its public surface and the rules its modules keep."""

from __future__ import annotations

import ast
from pathlib import Path

import contagion

ROOT = Path(contagion.__file__).resolve().parent
TESTS = Path(__file__).resolve().parent
FIRST_PARTY = ("chainrisk", "contagion", "graph", "gnn", "ingest", "queries")


def test_all_is_sorted_and_resolves() -> None:
    assert contagion.__all__ == sorted(contagion.__all__)
    for name in contagion.__all__:
        assert getattr(contagion, name) is not None


def _runtime_imports(path: Path) -> list[tuple[str, list[str]]]:
    """(module, names) of every import in ``path`` outside ``if TYPE_CHECKING:`` blocks."""
    tree = ast.parse(path.read_text(), str(path))
    typing_only = {
        id(node)
        for block in ast.walk(tree)
        if isinstance(block, ast.If) and "TYPE_CHECKING" in ast.unparse(block.test)
        for stmt in block.body
        for node in ast.walk(stmt)
    }
    out = []
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.ImportFrom) and node.module and not node.level:
            out.append((node.module, [a.name for a in node.names]))
        elif isinstance(node, ast.Import):
            out += [(a.name, []) for a in node.names]
    return out


def test_models_read_no_settings_and_need_no_ingest() -> None:
    for path in sorted(ROOT.rglob("*.py")):
        for module, names in _runtime_imports(path):
            assert module != "chainrisk.settings", f"{path.name} reads the settings"
            assert not (module == "chainrisk" and "settings" in names), f"{path.name} reads the settings"
            assert module.split(".")[0] != "ingest", f"{path.name} imports ingest at run time"


def test_no_private_name_is_imported() -> None:
    for path in [*sorted(ROOT.rglob("*.py")), *sorted(TESTS.rglob("*.py"))]:
        for module, names in _runtime_imports(path):
            if module.split(".")[0] not in FIRST_PARTY:
                continue
            private = [n for n in names if n.startswith("_")]
            assert not private, f"{path.relative_to(ROOT.parent)} imports {private} from {module}"


def test_models_share_maths_through_kernels_only() -> None:
    for path in sorted(ROOT.rglob("*.py")):
        for module, _ in _runtime_imports(path):
            assert module != "contagion.debtrank" or path.name == "__init__.py", (
                f"{path.name} imports from contagion.debtrank; shared maths lives in contagion._kernels"
            )
