"""The kernels compiled ahead in a child process (kyojosim.runs.kernels)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from kyojosim.runs import kernels


@pytest.fixture
def switched_on(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Compiling ahead on (the suite turns it off), with numba's cache folder taken to be ``tmp_path``."""
    monkeypatch.delenv(kernels.SWITCH, raising=False)
    monkeypatch.setattr(kernels, "stamp_folder", lambda: tmp_path)
    return tmp_path


def test_the_stamp_names_the_kernels_sources_numba_and_python(monkeypatch, tmp_path):
    source = tmp_path / "x_kernel.py"
    source.write_text("a = 1\n")
    monkeypatch.setattr(kernels, "kernel_sources", lambda: [source])
    monkeypatch.setattr(kernels, "__file__", str(tmp_path / "runs" / "kernels.py"))
    first = kernels.stamp_name()
    assert first == kernels.stamp_name() and first.startswith("kyojosim-kernels-") and first.endswith(".stamp")
    source.write_text("a = 22\n")  # a changed kernel: numba compiles it again, and so does the child
    assert kernels.stamp_name() != first


def test_the_package_kernels_are_every_kernel_module():
    names = {p.name for p in kernels.kernel_sources()}
    assert {"matching_kernel.py", "network_kernel.py", "tsunagari_kernel.py", "compiled.py"} <= names
    assert all(n.endswith("_kernel.py") or n == "compiled.py" for n in names)


def test_compile_ahead_is_off_with_the_switch_at_zero(monkeypatch):
    monkeypatch.setenv(kernels.SWITCH, "0")
    monkeypatch.setattr(subprocess, "run", lambda *a, **k: pytest.fail("no child with the switch off"))
    assert kernels.compile_ahead() == "not compiled ahead (KYOJOSIM_COMPILE_AHEAD=0)"


def test_compile_ahead_does_nothing_without_a_folder_to_write_in(monkeypatch):
    monkeypatch.delenv(kernels.SWITCH, raising=False)
    monkeypatch.setattr(kernels, "stamp_folder", lambda: None)
    monkeypatch.setattr(subprocess, "run", lambda *a, **k: pytest.fail("no child without a folder"))
    assert "no folder to write in" in kernels.compile_ahead()


def test_compile_ahead_with_its_stamp_there_starts_no_child(switched_on, monkeypatch):
    (switched_on / kernels.stamp_name()).write_text("done\n")
    monkeypatch.setattr(subprocess, "run", lambda *a, **k: pytest.fail("the stamp says the kernels are cached"))
    assert kernels.compile_ahead(notify=lambda line: pytest.fail("nothing to say")) == "cached"


def test_compile_ahead_starts_the_child_once_with_the_switch_off_in_it(switched_on, monkeypatch):
    calls, said = [], []

    def child(cmd, env, **kw):
        calls.append((cmd, env))
        Path(cmd[-1]).write_text("compiled\n")
        return subprocess.CompletedProcess(cmd, 0)

    monkeypatch.setattr(subprocess, "run", child)
    assert kernels.compile_ahead(notify=said.append).startswith("compiled ahead in ")
    (cmd, env), = calls
    assert cmd[1:3] == ["-m", "kyojosim.runs.kernels"] and Path(cmd[3]) == switched_on / kernels.stamp_name()
    assert env[kernels.SWITCH] == "0" and len(said) == 1 and "compiling" in said[0]
    assert kernels.compile_ahead() == "cached"  # the stamp is there now
    assert len(calls) == 1


@pytest.mark.parametrize("outcome", ["fails", "writes no stamp", "cannot start"])
def test_a_child_that_fails_leaves_the_run_to_compile_them(switched_on, monkeypatch, outcome):
    def child(cmd, env, **kw):
        if outcome == "cannot start":
            raise OSError("no such interpreter")
        return subprocess.CompletedProcess(cmd, 1 if outcome == "fails" else 0, stderr=b"Traceback\nValueError: x\n")

    monkeypatch.setattr(subprocess, "run", child)
    said = kernels.compile_ahead()
    assert said.endswith("the run compiles them") and (outcome == "cannot start" or "ValueError: x" in said)
    assert not (switched_on / kernels.stamp_name()).exists()


def test_the_child_steps_a_town_and_writes_the_stamp(tmp_path):
    stamp = tmp_path / "k.stamp"
    kernels.warm(stamp, scenario="yamae-all", scale=0.05, years=1)
    assert stamp.read_text().startswith("kernels compiled by yamae-all")
    assert kernels.main([]) == 2  # the child wants the stamp's path


def test_the_stamp_lies_in_numbas_cache_dir_or_the_packages_pycache(monkeypatch, tmp_path):
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path / "numba"))
    assert kernels.stamp_folder() == tmp_path / "numba" and (tmp_path / "numba").is_dir()
    named = kernels.stamp_name()
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path / "other"))
    assert kernels.stamp_name() != named  # another cache: compiled ahead again
    monkeypatch.delenv("NUMBA_CACHE_DIR")
    package = Path(kernels.__file__).resolve().parent.parent
    assert kernels.stamp_folder() in (package / "__pycache__", None)  # None only where it cannot be written
    blocked = tmp_path / "file"
    blocked.write_text("")
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(blocked / "below"))  # under a file: cannot be made
    assert kernels.stamp_folder() is None


def test_a_run_has_the_kernels_compiled_ahead_first(monkeypatch):
    import kyojosim
    import kyojosim.runs.results as results

    asked = []
    monkeypatch.setattr(results, "compile_ahead", lambda notify=None: asked.append(notify) or "cached")
    kyojosim.run("yamae", years=1, scale=0.05, seed=2)
    assert asked == [None]  # once, with nothing shown (no progress bar)
    kyojosim.run("yamae", years=1, scale=0.05, seed=2, progress=True)
    assert len(asked) == 2 and callable(asked[1])
