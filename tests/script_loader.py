"""Load a script of the repository that is not part of the package (a benchmark) as a module, to call its functions."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType


def load_script(path: Path, name: str) -> ModuleType:
    """Return the script at ``path`` executed afresh as module ``name`` (registered in ``sys.modules`` under it)."""
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # (dataclasses and pickling look their module up there)
    spec.loader.exec_module(module)
    return module
