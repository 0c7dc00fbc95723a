"""The installed package: its version, where its documents are, its bundled files and its extras.

kyojosim installs with its core dependencies (``pip install kyojosim``); four parts need more and are
installed as extras: the dashboard (``kyojosim[dashboard]``: solara, solara-assets, ipyvuetify < 2,
altair), the Dask cluster backend of sweeps (``kyojosim[cluster]``), the notebooks
(``kyojosim[notebook]``) and the failure regions of ``kyojosim robustness`` (``kyojosim[analysis]``,
EMA Workbench); ``kyojosim[all]`` brings all four. :func:`require_extra` is the one check
that an extra is there; without it the user gets a one-line hint instead of an ``ImportError``.

The bundled scenarios and experiments are package data (``kyojosim/data/scenarios/*.yaml``,
``kyojosim/data/experiments/*.yaml``), found through :mod:`importlib.resources`, so they work the same
from a wheel, an editable install or a source checkout.
"""

from __future__ import annotations

import importlib.util
from importlib import metadata
from importlib.resources import files
from pathlib import Path

from .errors import KyojoError

HOMEPAGE = "https://github.com/kyojosim/kyojosim"
"""The project's home (also ``[project.urls]`` in ``pyproject.toml``)."""

EXTRAS: dict[str, tuple[str, ...]] = {
    "dashboard": ("solara", "solara_assets", "ipyvuetify", "altair", "networkx"),
    "cluster": ("dask", "dask.distributed"),
    "notebook": ("ipykernel", "nbformat"),
    "analysis": ("ema_workbench",),
}
"""The modules each extra brings that kyojosim imports (``pip install "kyojosim[EXTRA]"``)."""

WHAT_NEEDS = {
    "dashboard": "the dashboard",
    "cluster": "the dask backend",
    "notebook": "running the notebooks",
    "analysis": "the failure regions of kyojosim robustness",
}
"""What each extra is for, as the hint says it."""


class MissingExtraError(KyojoError, ImportError):
    """A part of kyojosim needs an extra that is not installed."""


def version() -> str:
    """Return the installed kyojosim version (``"0.0.0"`` when the package is not installed)."""
    try:
        return metadata.version("kyojosim")
    except metadata.PackageNotFoundError:
        return "0.0.0"


def docs_url(page: str = "", release: str | None = None) -> str:
    """Return the address of a page of the documentation (``docs/``) of a release.

    Args:
        page: A file under ``docs/`` (``"ODD.md"``), or ``""`` for the folder.
        release: A version; default the installed one. The address names the tag ``v<version>``, so a
            report links to the model description of the version that wrote it.

    Returns:
        An absolute URL.
    """
    tag = f"v{release or version()}"
    return f"{HOMEPAGE}/blob/{tag}/docs/{page}" if page else f"{HOMEPAGE}/tree/{tag}/docs"


DOCS_URL = docs_url()
"""The documentation of the installed version (``docs/`` of its release)."""
ODD_URL = docs_url("ODD.md")
"""The model description (ODD protocol) of the installed version."""
SCORECARD_URL = docs_url("validation.md") + "#the-full-scorecard"
"""The scorecard of the installed version: every published target, the model's value and whether it passes."""


def data_dir(*parts: str) -> Path:
    """Return a folder of the bundled data (``data_dir("scenarios")``), wherever the package is installed."""
    return Path(str(files("kyojosim").joinpath("data", *parts)))


def missing_modules(extra: str) -> list[str]:
    """Return the modules of ``extra`` (:data:`EXTRAS`) that cannot be imported here."""
    missing = []
    for name in EXTRAS[extra]:
        try:
            found = importlib.util.find_spec(name) is not None
        except (ImportError, ValueError):  # a parent package missing, or a module set to None in sys.modules
            found = False
        if not found:
            missing.append(name)
    return missing


def require_extra(extra: str) -> None:
    """Check that the modules of an extra are installed.

    Args:
        extra: ``"dashboard"``, ``"cluster"``, ``"notebook"`` or ``"analysis"``.

    Raises:
        MissingExtraError: If one is missing; its message is the one-line hint, e.g. ``the dashboard needs
            solara, which is not installed: pip install "kyojosim[dashboard]"``.
    """
    missing = missing_modules(extra)
    if missing:
        names = list(dict.fromkeys(m.split(".")[0].replace("_", "-") for m in missing))
        verb = "is" if len(names) == 1 else "are"
        raise MissingExtraError(f"{WHAT_NEEDS[extra]} needs {', '.join(names)}, which {verb} not installed: "
                                f'pip install "kyojosim[{extra}]"')


__all__ = ["DOCS_URL", "EXTRAS", "HOMEPAGE", "ODD_URL", "SCORECARD_URL", "MissingExtraError", "data_dir", "docs_url",
           "missing_modules", "require_extra", "version"]
