"""Bad input on the command line: exit 2 and one clear line, no traceback, quickly and within bounded memory.

The cases run in a fresh Python process (``subprocess``), after the modules the commands use are
imported, so that the time and the memory measured are those of handling the input. The bounds are
generous (2 s of wall time per case, 300 MB of growth in all) so that a busy machine does not fail
them, and tight enough to catch what they guard against: a parser that recurses or expands an alias
bomb, a file read whole, an allocation sized by a population of 10^12.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from kyojosim.constants import N_AGE_BANDS
from kyojosim.params.scenario import SCENARIO_DIR

MAX_SECONDS = 2.0
MAX_GROWTH_MB = 300

RUNNER = r"""
import contextlib, io, json, resource, sys, time
import kyojosim.cli, kyojosim.model, kyojosim.params.experiment, kyojosim.present.report
import kyojosim.runs.results, kyojosim.runs.store, kyojosim.runs.sweep
from kyojosim.cli import main

def rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

main(["validate", "yamae"])  # warm up: the first load of a scenario builds the schema's caches
start = rss_mb()
out = []
for argv in json.loads(sys.argv[1]):
    err, std = io.StringIO(), io.StringIO()
    t0 = time.perf_counter()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(std):
        code = main(argv)
    out.append({"argv": argv, "code": code, "err": err.getvalue(), "out": std.getvalue(),
                "seconds": time.perf_counter() - t0, "rss_mb": rss_mb()})
print(json.dumps({"start_mb": start, "cases": out}))
"""


def bomb(levels: int = 9, width: int = 9) -> str:
    lines = [f"l0: &l0 [{', '.join(['lol'] * width)}]"]
    lines += [f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * width)}]" for i in range(1, levels)]
    return "\n".join(lines) + f"\nbase: yamae\nname: *l{levels - 1}\n"


@pytest.fixture(scope="module")
def cases(tmp_path_factory) -> list[tuple[list[str], str]]:
    """``(argv, fragment of the error)`` for every kind of bad input."""
    d = tmp_path_factory.mktemp("bad")
    yamae = yaml.safe_load((SCENARIO_DIR / "yamae.yaml").read_text(encoding="utf-8"))

    def write(name: str, text: str) -> str:
        (d / name).write_text(text, encoding="utf-8")
        return str(d / name)

    with (d / "big.yaml").open("wb") as fh:
        fh.truncate(50 * 2**20)
    zero = dict(yamae)
    zero["municipality"] = {**yamae["municipality"], "age_structure": {"male": [0] * N_AGE_BANDS,
                                                                       "female": [0] * N_AGE_BANDS}}
    secret = write("passwd", "root:x:0:0:secret-value:/root:/bin/bash\n")
    out = [
        (["validate", write("deep.yaml", "[" * 20_000 + "]" * 20_000)], "nested too deeply"),
        (["validate", write("lol.yaml", bomb())], "too many values"),
        (["run", write("lol2.yaml", bomb()), "--years", "1"], "too many values"),
        (["validate", str(d / "big.yaml")], "file too large"),
        (["validate", write("long.yaml", "base: yamae\nname: " + "n" * 200_000 + "\n")], "text too long"),
        (["validate", write("dup.yaml", "base: yamae\nsimulation: {}\nsimulation: {}\n")], "duplicate key"),
        (["validate", write("v.yaml", f"base: {secret}\n")], "not a scenario"),
        (["validate", "yamae", "--set", "municipality.population=1000000000000"], "out of range"),
        (["run", "yamae", "--set", "municipality.population=1000000000000", "--years", "1"], "out of range"),
        (["run", "yamae", "--set", "municipality.population=40000000", "--years", "1"], "too many residents"),
        (["validate", write("zero.yaml", yaml.safe_dump(zero, allow_unicode=True))], "empty age structure"),
        (["validate", "ikoma", "--set", "demography.projection.years=[2015, 2025, 2020, 2030, 2035, 2040, 2045]"],
         "years out of order"),
        (["validate", str(d)], "is a directory"),
        (["validate", str(d / "missing.yaml")], "file not found"),
        (["run", "yamae", "--years", "1", "--out", ""], "--out: got an empty path"),
        (["run", write("esc.yaml", "base: yamae\nname: ../../../../escaped\n"), "--years", "1"], "not a safe name"),
        (["sweep", write("e.yaml", yaml.safe_dump({"name": "e", "seed": 1, "scenarios": ["yamae"], "variants": {
            "a": {"baseline": False}, "b": {"baseline": False}}})), "--out", str(d / "o")], "no baseline"),
        (["sweep", write("e2.yaml", yaml.safe_dump({"name": "e2", "seed": 1, "scenarios": [secret]})),
          "--out", str(d / "o")], "not a scenario"),
    ]
    if hasattr(os, "geteuid") and os.geteuid() != 0:  # as root a file without read permission is still read
        locked = write("locked.yaml", "base: yamae\n")
        os.chmod(locked, 0)
        out.append((["validate", locked], "cannot read"))
    return out


def test_bad_input_exits_2_with_one_line_quickly_and_in_bounded_memory(cases, tmp_path):
    argvs = [argv for argv, _ in cases]
    proc = subprocess.run([sys.executable, "-c", RUNNER, json.dumps(argvs)], capture_output=True, text=True,
                          timeout=600, cwd=tmp_path, env={**os.environ, "PYTHONIOENCODING": "utf-8"})
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    for (argv, fragment), case in zip(cases, report["cases"], strict=True):
        err = case["err"]
        assert case["code"] == 2, (argv[:2], err)
        assert err.startswith("error: ") and len(err.strip().splitlines()) == 1, (argv[:2], err)
        assert "Traceback" not in err and fragment in err, (argv[:2], err)
        assert len(err) < 500, (argv[:2], len(err))
        assert "secret-value" not in err and "nnnnnnnnnn" not in err
        assert case["seconds"] < MAX_SECONDS, (argv[:2], case["seconds"])
    growth = report["cases"][-1]["rss_mb"] - report["start_mb"]
    assert growth < MAX_GROWTH_MB, f"memory grew by {growth:.0f} MB"
    assert sorted(os.listdir(tmp_path)) == []  # nothing written where the commands ran


def test_the_entry_point_exits_2(tmp_path):
    deep = tmp_path / "deep.yaml"
    deep.write_text("{a: " * 5000 + "1" + "}" * 5000)
    proc = subprocess.run([sys.executable, "-m", "kyojosim", "validate", str(deep)], capture_output=True, text=True,
                          timeout=120, cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.startswith("error: ") and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_a_scenario_name_cannot_write_outside_the_output_folder(tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    for name in ("../../escaped", str(tmp_path / "abs-escaped")):
        (work / "v.yaml").write_text(yaml.safe_dump({"base": "yamae", "name": name}), encoding="utf-8")
        proc = subprocess.run([sys.executable, "-m", "kyojosim", "run", "v.yaml", "--years", "1", "--scale", "0.05",
                               "-q"], capture_output=True, text=True, timeout=300, cwd=work)
        assert proc.returncode == 2 and "not a safe name" in proc.stderr
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*")) == ["work", "work/v.yaml"]
    assert Path(tmp_path / "abs-escaped").exists() is False
