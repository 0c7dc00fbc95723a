"""Tests of the ``kyojosim`` command line (in-process via main(), plus one subprocess)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import kyojosim
from kyojosim.cli import main, parse_sets, summary_table
from kyojosim.measures.outcomes import run_tables
from kyojosim.params.scenario import SCENARIO_DIR
from kyojosim.present.labels import PARTICIPATION_LABELS
from kyojosim.runs.results import MANIFEST, load_run

BUNDLED = sorted(SCENARIO_DIR.glob("*.yaml"))


def listing(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


def run_cli(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("path", BUNDLED, ids=[p.stem for p in BUNDLED])
def test_validate_bundled(capsys, path):
    code, out, err = run_cli(capsys, "validate", str(path))
    assert code == 0, err
    assert out.startswith(f"OK: {path} ({path.stem}, ")
    assert "districts)" in out


def test_validate_by_name(capsys):
    code, out, _ = run_cli(capsys, "validate", "yamae")
    assert code == 0
    assert "(yamae, Yamae village, population 3422, " in out


def test_validate_with_set(capsys):
    code, out, _ = run_cli(capsys, "validate", "yamae", "--set", "simulation.seed=4", "--set", "simulation.years=2")
    assert code == 0 and out.startswith("OK:")


def assert_input_error(code, out, err, *fragments):
    assert code == 2
    assert "Traceback" not in err and "Traceback" not in out
    assert err.startswith("error: ")
    assert len(err.strip().splitlines()) <= 2
    for f in fragments:
        assert f in err


def test_missing_file(capsys, tmp_path):
    assert_input_error(*run_cli(capsys, "validate", str(tmp_path / "nope.yaml")), "file not found")
    assert_input_error(*run_cli(capsys, "run", str(tmp_path / "nope.yaml"), "--out", str(tmp_path / "o")))
    assert not (tmp_path / "o").exists()


def test_not_yaml(capsys, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("municipality: [unclosed\n  key: : :\n")
    assert_input_error(*run_cli(capsys, "validate", str(bad)), "not YAML")
    binary = tmp_path / "bin.yaml"
    binary.write_bytes(b"\xff\xfe\x00\x80garbage")
    assert_input_error(*run_cli(capsys, "validate", str(binary)))


def test_unknown_key_with_suggestion(capsys, tmp_path):
    text = (SCENARIO_DIR / "yamae.yaml").read_text(encoding="utf-8")
    bad = tmp_path / "typo.yaml"
    bad.write_text(text + "\nsimulaton:\n  years: 3\n", encoding="utf-8")
    assert_input_error(*run_cli(capsys, "validate", str(bad)), "simulaton", "did you mean 'simulation'")


def test_bad_set_path(capsys):
    assert_input_error(*run_cli(capsys, "validate", "yamae", "--set", "simulation.yeers=3"), "did you mean 'years'")
    assert_input_error(*run_cli(capsys, "run", "yamae", "--set", "nosuch.key=1", "--quiet"), "nosuch")


def test_bad_set_value(capsys):
    assert_input_error(*run_cli(capsys, "validate", "yamae", "--set", "simulation.years=abc"), "simulation.years")
    assert_input_error(*run_cli(capsys, "validate", "yamae", "--set", "simulation.years=-3"), "out of range")
    assert_input_error(*run_cli(capsys, "validate", "yamae", "--set", "simulation.years"), "KEY.PATH=VALUE")


def test_bad_option_value(capsys):
    assert_input_error(*run_cli(capsys, "run", "yamae", "--scale", "0", "--quiet"), "municipality.scale")


def test_usage_errors_exit_2(capsys):
    for argv in ([], ["frobnicate"], ["run"], ["run", "yamae", "--years", "x"], ["validate", "yamae", "--bogus"]):
        code, _, err = run_cli(capsys, *argv)
        assert code == 2, argv
        assert "usage:" in err and "Traceback" not in err


def test_version(capsys):
    code, out, _ = run_cli(capsys, "--version")
    assert code == 0
    assert out.strip() == f"kyojosim {kyojosim.__version__}"


def test_parse_sets():
    assert parse_sets(["a.b=3", "c=true", "d=[1, 2]", "e=x=y", "a.b=4"]) == {"a.b": 4, "c": True, "d": [1, 2],
                                                                            "e": "x=y"}


def test_run_writes_only_into_out(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    before = listing(tmp_path)
    code, out, err = run_cli(capsys, "run", "yamae", "--years", "2", "--seed", "3", "--out", "out/run1")
    assert code == 0, err
    added = sorted(set(listing(tmp_path)) - set(before))
    assert added == sorted(["out", "out/run1", f"out/run1/{MANIFEST}",
                            *(f"out/run1/{t}.parquet" for t in run_tables())])
    lines = out.splitlines()
    header = next(i for i, line in enumerate(lines) if line.split()[:2] == ["年", "人口"])  # Japanese by default
    for col in ("65歳以上", "世帯", *PARTICIPATION_LABELS["ja"].values(), "マッチング率"):
        assert col in lines[header]
    assert [line.split()[0] for line in lines[header + 1 : header + 4]] == ["2015", "2016", "2017"]
    assert "Traceback" not in err
    res = load_run(tmp_path / "out/run1")
    en = summary_table(res.to_pandas("years"), res.to_pandas("needs"), res.scenario.municipality.scale, "en")
    head = en.splitlines()[0]
    assert head.split()[:2] == ["year", "population"]
    for col in ("aged 65+", "households", *PARTICIPATION_LABELS["en"].values(), "matching rate"):
        assert col in head

    m = json.loads((tmp_path / "out/run1" / MANIFEST).read_text(encoding="utf-8"))
    assert m["seed"] == 3 and m["years"] == 2
    assert m["command"] == ["kyojosim", "run", "yamae", "--years", "2", "--seed", "3", "--out", "out/run1"]
    res = load_run(tmp_path / "out/run1")
    assert res.to_pandas()["year"].tolist() == [2015, 2016, 2017]
    assert res.scenario.simulation.seed == 3


def test_run_default_out_and_set(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, err = run_cli(capsys, "run", "yamae", "--set", "simulation.years=1", "--set", "simulation.seed=7",
                             "--scale", "0.5", "--quiet")
    assert code == 0, err
    assert out == ""
    folder = tmp_path / "results" / "yamae-7"
    assert sorted(os.listdir(folder)) == sorted([MANIFEST, *(f"{t}.parquet" for t in run_tables())])
    res = load_run(folder)
    assert res.manifest["scale"] == 0.5
    assert len(res.to_pandas()) == 2
    assert listing(tmp_path) == sorted(["results", "results/yamae-7", *(f"results/yamae-7/{p}" for p in
                                                                       os.listdir(folder))])


def test_run_out_is_a_file(capsys, tmp_path):
    target = tmp_path / "f"
    target.write_text("x")
    assert_input_error(*run_cli(capsys, "run", "yamae", "--years", "1", "--out", str(target), "--quiet"),
                       "not a folder")


def test_module_entry_point_subprocess(tmp_path):
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    proc = subprocess.run(
        [sys.executable, "-m", "kyojosim", "run", "yamae", "--years", "1", "--out", str(tmp_path / "r")],
        capture_output=True, text=True, timeout=120, cwd=tmp_path, env=env,
    )
    assert proc.returncode == 0, proc.stderr
    assert "2016" in proc.stdout
    assert (tmp_path / "r" / MANIFEST).is_file()
    assert sorted(os.listdir(tmp_path)) == ["r"]

    proc = subprocess.run([sys.executable, "-m", "kyojosim", "validate", str(tmp_path / "missing.yaml")],
                          capture_output=True, text=True, timeout=120, cwd=tmp_path, env=env)
    assert proc.returncode == 2
    assert proc.stderr.startswith("error: ") and "Traceback" not in proc.stderr
