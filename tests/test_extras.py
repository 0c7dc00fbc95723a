"""The core install and its extras: the core imports none of the extras' modules, and a missing extra
gives a one-line hint (simulated here by making its modules unimportable)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from kyojosim.cli import main
from kyojosim.distribution import EXTRAS, MissingExtraError, missing_modules, require_extra
from kyojosim.errors import KyojoError


def _hide(monkeypatch, *modules: str) -> None:
    """Make ``modules`` unimportable in this process, as if their extra were not installed."""
    for name in modules:
        monkeypatch.setitem(sys.modules, name, None)


def test_extras_are_declared_in_pyproject():
    import tomllib
    from pathlib import Path

    pyproject = tomllib.loads((Path(__file__).resolve().parents[1] / "pyproject.toml").read_text(encoding="utf-8"))
    optional = pyproject["project"]["optional-dependencies"]
    assert set(EXTRAS) <= set(optional) and "all" in optional
    assert optional["all"] == ["kyojosim[dashboard,cluster,notebook,analysis]"]
    core = " ".join(pyproject["project"]["dependencies"]).lower()
    for heavy in ("solara", "altair", "ipyvuetify", "dask", "jupyter", "ipykernel", "ema_workbench"):
        assert heavy not in core, f"{heavy} belongs to an extra, not to the core install"


def test_installed_extras_pass(monkeypatch):
    for extra in EXTRAS:
        if not missing_modules(extra):
            require_extra(extra)  # no error


@pytest.mark.parametrize(("extra", "modules", "needs"), [
    ("dashboard", ("solara",), "solara, which is not installed"),
    ("dashboard", ("altair", "ipyvuetify"), "ipyvuetify, altair, which are not installed"),
    ("dashboard", ("networkx",), "networkx, which is not installed"),  # mesa.visualization imports it
    ("cluster", ("dask", "dask.distributed"), "dask, which is not installed"),
    ("notebook", ("ipykernel",), "ipykernel, which is not installed"),
])
def test_missing_extra_gives_a_one_line_hint(monkeypatch, extra, modules, needs):
    _hide(monkeypatch, *modules)
    with pytest.raises(MissingExtraError) as info:
        require_extra(extra)
    message = str(info.value)
    assert needs in message and message.endswith(f'pip install "kyojosim[{extra}]"') and "\n" not in message
    assert isinstance(info.value, KyojoError) and isinstance(info.value, ImportError)


def test_dashboard_without_its_extra_exits_2_with_the_hint(monkeypatch, capsys):
    _hide(monkeypatch, "solara", "solara_assets")
    popen = []
    monkeypatch.setattr(subprocess, "Popen", lambda *a, **k: popen.append(a))  # no server may start
    assert main(["dashboard", "yamae"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == 'error: the dashboard needs solara, solara-assets, which are not installed: ' \
                  'pip install "kyojosim[dashboard]"'
    assert popen == []


def test_dask_backend_without_its_extra_exits_2_with_the_hint(monkeypatch, capsys, tmp_path):
    _hide(monkeypatch, "dask", "dask.distributed", "distributed")
    out = tmp_path / "out"
    assert main(["sweep", "yamae-quick", "--backend", "dask", "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == 'error: the dask backend needs dask, which is not installed: pip install "kyojosim[cluster]"'
    assert not out.exists()


def test_core_runs_without_any_extra(tmp_path):
    """A run, a sweep, the comparison, the figures and the report import no module of an extra."""
    hidden = sorted({m.split(".")[0] for ms in EXTRAS.values() for m in ms} | {"distributed", "networkx", "jupyterlab",
                                                                               "nbclient"})
    code = textwrap.dedent(f"""
        import importlib.abc, sys
        HIDDEN = {hidden!r}
        class Hide(importlib.abc.MetaPathFinder):
            def find_spec(self, name, path, target=None):
                if name.split(".")[0] in HIDDEN:
                    raise ModuleNotFoundError(f"No module named {{name!r}} (hidden: not in the core install)")
        sys.meta_path.insert(0, Hide())
        import kyojosim
        from kyojosim.analysis.compare import compare
        from kyojosim.present import figures
        from kyojosim.present.report import write_report
        kyojosim.run("yamae", years=1, scale=0.1)
        res = kyojosim.load(kyojosim.sweep("yamae-quick", out="sweep", jobs=1, progress=False))
        figures.comparison_chart(compare(res, n_boot=50))
        figures.timeseries(res)
        write_report(res, "report.html")
        print(sorted(m for m in sys.modules if m.split(".")[0] in HIDDEN))
    """)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.strip().splitlines()[-1] == "[]"
