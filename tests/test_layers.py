"""The package's layers: each part imports only the parts below it, and no module reads another's private names."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import kyojosim

PACKAGE = Path(kyojosim.__file__).resolve().parent
PYPROJECT = PACKAGE.parents[1] / "pyproject.toml"


def test_layers_contract_is_kept():
    """The import-linter contract in pyproject.toml (also run by ``make lint``)."""
    cli = pytest.importorskip("importlinter.cli")
    if not PYPROJECT.is_file():  # pragma: no cover - an installed package has no pyproject beside it
        pytest.skip("no pyproject.toml beside the package")
    assert cli.lint_imports(config_filename=str(PYPROJECT)) == 0, "the layers contract is broken: run `make lint`"


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def _private_imports(path: Path) -> list[str]:
    """Private names of other kyojosim modules that ``path`` imports or reads as attributes of what it imported."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    imported: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.level > 0 or (node.module or "").startswith("kyojosim")):
            for alias in node.names:
                if _private(alias.name):
                    found.append(f"{path.relative_to(PACKAGE)}:{node.lineno} imports {alias.name} from {node.module}")
                imported.add(alias.asname or alias.name)
        elif isinstance(node, ast.Import):
            imported.update(a.asname or a.name.split(".")[0] for a in node.names if a.name.startswith("kyojosim"))
    for node in ast.walk(tree):
        if (isinstance(node, ast.Attribute) and _private(node.attr) and isinstance(node.value, ast.Name)
                and node.value.id in imported):
            found.append(f"{path.relative_to(PACKAGE)}:{node.lineno} reads {node.value.id}.{node.attr}")
    return found


def test_no_module_imports_another_modules_private_names():
    found = [f for path in sorted(PACKAGE.rglob("*.py")) for f in _private_imports(path)]
    assert not found, "\n".join(found)


def test_the_private_name_check_can_fail(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("from .core.population import _secret\nfrom .params import japan\njapan._hidden(1)\n",
                   encoding="utf-8")
    global PACKAGE
    keep, PACKAGE = PACKAGE, tmp_path
    try:
        assert _private_imports(bad) == ["bad.py:1 imports _secret from core.population",
                                         "bad.py:3 reads japan._hidden"]
    finally:
        PACKAGE = keep
