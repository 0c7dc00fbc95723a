"""Damaged stored runs: each run records what it wrote; a resume redoes a damaged run; loading names the file."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml

import kyojosim
from kyojosim.atomic import file_digest
from kyojosim.cli import main
from kyojosim.errors import KyojoError
from kyojosim.params.experiment import load_experiment
from kyojosim.runs.results import ResultsError, load_run
from kyojosim.runs.store import StoreError
from kyojosim.runs.sweep import DamagedError, consolidate, run_files, verify_run

EXP = {"name": "stored", "seed": 7, "replicates": 2, "years": 1, "scale": 0.2, "scenarios": ["yamae"],
       "variants": {"baseline": {}, "hub": {"interventions": {"reporting_hub": {"start": 2015}}}}}
TABLES = ("summary", "years", "steps", "tsunagari", "age_structure", "money", "community_value")


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> Path:
    """An undisturbed sweep of four runs."""
    root = tmp_path_factory.mktemp("stored")
    (root / "stored.yaml").write_text(yaml.safe_dump(EXP), encoding="utf-8")
    return kyojosim.sweep(root / "stored.yaml", out=root / "ref", progress=False)


@pytest.fixture()
def copy(reference, tmp_path) -> Path:
    out = tmp_path / "res"
    shutil.copytree(reference, out)
    return out


def run_dirs(folder: Path) -> list[Path]:
    return sorted((folder / "runs").iterdir())


def status(run_dir: Path) -> dict:
    return json.loads((run_dir / "status.json").read_text(encoding="utf-8"))


def truncate(file: Path, keep: float = 0.5) -> None:
    data = file.read_bytes()
    file.write_bytes(data[: int(len(data) * keep)])


def flip(file: Path) -> None:
    """Change bytes in the middle, keeping the size (a read may even succeed: only the hash tells)."""
    data = bytearray(file.read_bytes())
    mid = len(data) // 2
    data[mid:mid + 8] = bytes(b ^ 0xFF for b in data[mid:mid + 8])
    file.write_bytes(bytes(data))


def same_tables(a: Path, b: Path) -> None:
    for name in TABLES:
        assert (a / f"{name}.parquet").read_bytes() == (b / f"{name}.parquet").read_bytes(), name


def test_each_run_records_its_files(reference):
    for run_dir in run_dirs(reference):
        files = status(run_dir)["files"]
        assert sorted(files) == sorted(run_files())
        for name, rec in files.items():
            assert rec == file_digest(run_dir / name)
        assert verify_run(run_dir, status(run_dir)) is None
    manifest = json.loads((reference / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["recovered"] == {"damaged": [], "retried": []}
    assert manifest["files"]["steps.parquet"] == file_digest(reference / "steps.parquet")


def test_resume_redoes_damaged_runs(copy, reference, capsys):
    a, b, c, d = run_dirs(copy)
    truncate(a / "steps.parquet")
    (b / "summary.parquet").write_bytes(b"")
    (c / "years.parquet").unlink()
    flip(d / "tsunagari.parquet")
    problems = [verify_run(r, status(r)) for r in (a, b, c, d)]
    assert "steps.parquet has" in problems[0] and "bytes" in problems[0]
    assert problems[1].startswith("summary.parquet has 0 bytes")
    assert problems[2] == "years.parquet is missing"
    assert problems[3].startswith("tsunagari.parquet has changed")
    path = copy.parent / "stored.yaml"
    path.write_text(yaml.safe_dump(EXP), encoding="utf-8")
    assert main(["sweep", str(path), "--out", str(copy)]) == 0
    out = capsys.readouterr().out
    assert "4 finished run(s) were damaged and were run again" in out and "years.parquet is missing" in out
    manifest = json.loads((copy / "manifest.json").read_text(encoding="utf-8"))
    assert [d["run_id"] for d in manifest["recovered"]["damaged"]] == [r.name for r in (a, b, c, d)]
    assert manifest["runs"] == {"done": 4, "failed": 0, "pending": 0}
    same_tables(copy, reference)  # the runs done again are the runs as they were


def test_tables_written_by_several_processes_are_the_same(copy, reference, local_workers):
    exp = load_experiment(EXP)
    manifest = consolidate(copy, exp, jobs=2)
    same_tables(copy, reference)
    assert manifest["files"] == json.loads((reference / "manifest.json").read_text(encoding="utf-8"))["files"]
    victim = run_dirs(copy)[0] / "tsunagari.parquet"  # the same size, its footer unreadable: found by the worker
    data = victim.read_bytes()
    victim.write_bytes(data[:-8] + b"\x00" * 8)
    with pytest.raises(DamagedError, match="tsunagari.parquet: damaged, cannot be read"):
        consolidate(copy, exp, jobs=2)


def test_a_deleted_table_is_never_skipped(copy):
    victim = run_dirs(copy)[1]
    (victim / "years.parquet").unlink()
    exp = load_experiment(EXP)
    with pytest.raises(DamagedError, match="years.parquet is missing"):
        consolidate(copy, exp)
    with pytest.raises(DamagedError, match="years.parquet is missing"):
        consolidate(copy, exp, jobs=2)
    (copy / "manifest.json").unlink()  # as a sweep leaves a folder it has not finished
    with pytest.raises(StoreError) as info:
        kyojosim.load(copy)
    assert str(victim / "years.parquet") in str(info.value) or "years.parquet is missing" in str(info.value)


@pytest.mark.parametrize("damage", [truncate, lambda f: f.write_bytes(b""), flip])
def test_load_of_a_partial_folder_names_the_damaged_file(copy, damage):
    victim = run_dirs(copy)[2] / "steps.parquet"
    damage(victim)
    (copy / "manifest.json").unlink()
    try:
        res = kyojosim.load(copy)
    except StoreError as exc:
        assert "steps.parquet" in str(exc) and "Arrow" not in type(exc).__name__
        assert "\n" not in str(exc)
    else:  # a change that keeps the size and the Parquet structure: only a resume's hash check sees it
        assert damage is flip and len(res.design) == 4


def test_consolidated_tables_are_checked_on_load(copy):
    truncate(copy / "steps.parquet", 0.9)
    with pytest.raises(StoreError, match="steps.parquet has .* bytes"):
        kyojosim.load(copy)
    shutil.copy(copy / "years.parquet", copy / "steps.parquet")  # another table, another size
    with pytest.raises(StoreError, match="steps.parquet"):
        kyojosim.load(copy)


def test_cli_names_the_damaged_file(copy, capsys):
    truncate(copy / "summary.parquet", 0.3)
    assert main(["compare", str(copy)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "summary.parquet" in err and "Traceback" not in err


def test_runs_written_before_files_were_recorded(copy, reference):
    """A run folder of an older kyojosim (no ``files`` in its status) is checked for presence and readability."""
    for run_dir in run_dirs(copy):
        st = status(run_dir)
        del st["files"]
        (run_dir / "status.json").write_text(json.dumps(st), encoding="utf-8")
    first, second, *_ = run_dirs(copy)
    (first / "community_value.parquet").unlink()  # a table added in format 2: may be missing
    assert verify_run(first, status(first)) is None
    truncate(second / "years.parquet")
    assert verify_run(second, status(second)).startswith("years.parquet cannot be read")
    (copy / "manifest.json").unlink()
    with pytest.raises(StoreError, match="years.parquet"):
        kyojosim.load(copy)
    kyojosim.sweep(EXP, out=copy, progress=False)
    manifest = json.loads((copy / "manifest.json").read_text(encoding="utf-8"))
    assert [d["run_id"] for d in manifest["recovered"]["damaged"]] == [second.name]
    res = kyojosim.load(copy)
    assert len(res.summary) == 4
    base = pd.read_parquet(reference / "community_value.parquet")
    assert set(res.community_value["run_id"]) == set(base["run_id"]) - {first.name}


# --------------------------------------------------------------------------------------
# a single run's folder
# --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def single(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("single") / "run"
    kyojosim.run("yamae", years=1, scale=0.1, seed=2, out=out)
    return out


@pytest.mark.parametrize(("damage", "fragment"), [
    (truncate, "steps.parquet has"),
    (lambda f: f.write_bytes(b""), "steps.parquet has 0 bytes"),
    (flip, "steps.parquet has changed"),
    (lambda f: f.unlink(), "'steps' is missing"),
])
def test_load_run_names_the_damaged_file(single, tmp_path, damage, fragment):
    folder = tmp_path / "run"
    shutil.copytree(single, folder)
    damage(folder / "steps.parquet")
    with pytest.raises(ResultsError) as info:
        load_run(folder)
    assert fragment in str(info.value) and isinstance(info.value, KyojoError)
    manifest = json.loads((single / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["tables"]["steps"]["sha256"] == file_digest(single / "steps.parquet")["sha256"]
    assert len(load_run(single).to_pandas("steps")) == manifest["tables"]["steps"]["rows"]
