"""The package as a user installs it: a wheel, in a fresh virtual environment, run outside the clone.

The wheel is built from a copy of the sources (``pip wheel --no-deps --no-build-isolation``, so nothing
is downloaded) and installed with ``--no-deps`` into a new venv; the dependencies come from this
test environment's site-packages, added to the new venv by a ``.pth`` file (which does not run this
environment's editable-install hook, so the only kyojosim there is the wheel's). Then the commands
run from an empty temporary folder: the bundled scenarios and experiments must be found as package
data, never through the repository.

The installed tree is given the compiled kernels the test process has cached so far (numba's
``*.nbi``/``*.nbc`` files from the checkout's ``__pycache__`` folders, copied beside the same modules).
numba keys each cached kernel on a hash of its source file's content, on its bytecode and on numba's
version, so a copied kernel is loaded only if the wheel's module is the very same source; any other
is compiled in the installed tree, as a user's first run does. The first compilation itself is not
what these tests are about (the rest of the suite, on a clean clone, compiles every kernel once), and
without the copy each of them would compile all the kernels again, about a minute per run.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

import kyojosim

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ("pyproject.toml", "README.md", "LICENSE", "NOTICE", "LICENSES", "src")


def _setuptools_ok() -> str | None:
    """Why the wheel cannot be built here without downloading (None if it can)."""
    if importlib.util.find_spec("setuptools") is None:
        return "setuptools is not installed (it comes with the test extra: pip install -e '.[test]')"
    from importlib.metadata import version

    major = int(version("setuptools").split(".")[0])
    if major < 77:
        return f"setuptools {version('setuptools')} is older than the 77 the build needs (pip install -e '.[test]')"
    return None


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> dict[str, Path]:
    """Build the wheel, install it into a fresh venv; return the wheel, the venv's python and a work folder."""
    reason = _setuptools_ok()
    if reason:
        pytest.skip(reason)
    base = tmp_path_factory.mktemp("packaging")
    src = base / "src-copy"
    src.mkdir()
    for name in SOURCES:
        path = ROOT / name
        if path.is_dir():
            shutil.copytree(path, src / name, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info", "*.pyc"))
        else:
            shutil.copy2(path, src / name)
    dist = base / "dist"
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PIP_REQUIRE_VIRTUALENV")}
    env["PIP_NO_INDEX"] = "1"  # nothing is downloaded
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                            "-w", str(dist), str(src)], capture_output=True, text=True, env=env, timeout=300)
    assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]
    wheel = next(dist.glob("kyojosim-*.whl"))
    venv = base / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    inst = subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "-q",
                           str(wheel)], capture_output=True, text=True, env=env, timeout=300)
    assert inst.returncode == 0, inst.stdout[-3000:] + inst.stderr[-3000:]
    # the dependencies: this environment's site-packages, after the venv's own (a plain path, no hooks run)
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    parent = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (Path(site) / "kyojosim_test_dependencies.pth").write_text("\n".join(sorted(parent)) + "\n", encoding="utf-8")
    _copy_compiled_kernels(Path(kyojosim.__file__).parent, Path(site) / "kyojosim")
    work = base / "work"
    work.mkdir()
    return {"wheel": wheel, "python": python, "bin": python.parent, "work": work, "env": env, "site": Path(site)}


def _copy_compiled_kernels(checkout: Path, target: Path) -> int:
    """Copy numba's cached kernels from the checkout's package into the installed one; return how many files."""
    copied = 0  # the data files before the indexes that name them
    for cached in (*checkout.rglob("__pycache__/*.nbc"), *checkout.rglob("__pycache__/*.nbi")):
        module_dir = target / cached.parent.parent.relative_to(checkout)
        if module_dir.is_dir():
            (module_dir / "__pycache__").mkdir(exist_ok=True)
            shutil.copyfile(cached, module_dir / "__pycache__" / cached.name)
            copied += 1
    return copied


def _run(installed, *args, cwd=None, timeout=600):
    env = {k: v for k, v in installed["env"].items() if k != "PIP_NO_INDEX"}
    env["KYOJOSIM_CACHE_DIR"] = str(installed["work"] / "cache")
    return subprocess.run([str(a) for a in args], capture_output=True, text=True, cwd=cwd or installed["work"],
                          env=env, timeout=timeout)


def test_wheel_holds_the_bundled_files_and_the_licences(installed):
    names = zipfile.ZipFile(installed["wheel"]).namelist()
    for scenario in ("yamae", "ikoma", "koto", "ikoma-platform"):
        assert f"kyojosim/data/scenarios/{scenario}.yaml" in names
    for experiment in ("ikoma-interventions", "yamae-quick", "yamae-sensitivity"):
        assert f"kyojosim/data/experiments/{experiment}.yaml" in names
    assert "kyojosim/data/japan/manifest.json" in names
    licences = [n for n in names if "/licenses/" in n]
    assert any(n.endswith("/LICENSE") for n in licences) and any(n.endswith("/NOTICE") for n in licences)
    assert any(n.endswith("IPA_Font_License.txt") for n in licences)
    assert not [n for n in names if n.endswith(".pyc") or "__pycache__" in n]


def test_installed_package_is_the_wheel_not_the_checkout(installed):
    proc = _run(installed, installed["python"], "-c",
                "import json, kyojosim; from kyojosim.params.scenario import SCENARIO_DIR; "
                "print(json.dumps([kyojosim.__file__, str(SCENARIO_DIR), kyojosim.__version__, kyojosim.ODD_URL]))")
    assert proc.returncode == 0, proc.stderr
    file, scenario_dir, version, odd = json.loads(proc.stdout)
    assert Path(file).is_relative_to(installed["site"]) and Path(scenario_dir).is_relative_to(installed["site"])
    assert not Path(file).is_relative_to(ROOT)
    assert version == kyojosim.__version__ and odd.endswith(f"/v{version}/docs/ODD.md")


def test_installed_cli_lists_and_runs_a_bundled_scenario(installed, tmp_path):
    kyo = installed["bin"] / "kyojosim"
    proc = _run(installed, kyo, "scenarios", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "yamae" in proc.stdout and "ikoma-platform" in proc.stdout and "山江村" in proc.stdout
    proc = _run(installed, kyo, "experiments", cwd=tmp_path)
    assert proc.returncode == 0 and "ikoma-interventions" in proc.stdout, proc.stderr
    proc = _run(installed, kyo, "run", "yamae", "--years", "1", "--scale", "0.2", "--quiet", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    out = tmp_path / "results" / "yamae-1"
    assert (out / "manifest.json").is_file() and (out / "years.parquet").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results"]


def test_installed_cli_sweeps_a_bundled_experiment(installed, tmp_path):
    kyo = installed["bin"] / "kyojosim"
    proc = _run(installed, kyo, "sweep", "ikoma-interventions", "--years", "1", "--scale", "0.02", "--replicates", "1",
                "--quiet", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    out = tmp_path / "results" / "ikoma-interventions"
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["runs"] == {"done": 4, "failed": 0, "pending": 0}
    proc = _run(installed, kyo, "compare", str(out), "--quiet", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert (out / "comparison" / "comparison.csv").is_file()


def test_installed_python_api_runs_a_bundled_scenario(installed, tmp_path):
    code = ("import kyojosim\n"
            "res = kyojosim.run('ikoma', years=1, scale=0.02)\n"
            "print(res.manifest['municipality'], len(res.to_pandas('years')))\n"
            "print(sorted(kyojosim.scenarios()['name'])[:2], len(kyojosim.experiments()))\n")
    proc = _run(installed, installed["python"], "-c", code, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    bundled = len(list((ROOT / "src" / "kyojosim" / "data" / "experiments").glob("*.yaml")))
    assert bundled >= 5  # the installed package lists every bundled experiment of the source tree
    assert proc.stdout.splitlines() == ["Ikoma city 2", f"['ikoma', 'ikoma-all'] {bundled}"]
    assert list(tmp_path.iterdir()) == []
