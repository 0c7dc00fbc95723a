"""Tests of RunResult, saving/loading a results folder, atomic writes and the package API."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import kyojosim
from kyojosim import atomic
from kyojosim.constants import AGE_BAND_LABELS
from kyojosim.measures.outcomes import run_tables
from kyojosim.runs.results import MANIFEST, ResultsError, RunResult, load_run


def listing(root):
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


@pytest.fixture(scope="module")
def result():
    return kyojosim.run("yamae", years=2)


def test_run_two_years_has_three_rows(result):
    df = result.to_pandas()
    assert len(df) == 3
    assert df["year"].tolist() == [2015, 2016, 2017]
    assert isinstance(result, RunResult)
    assert result.model is not None and not result.model.running


def test_tables(result):
    tables = result.tables()
    assert set(tables) == set(run_tables())
    steps = result.to_pandas("steps")
    assert steps.columns[0] == "step"
    assert steps["step"].tolist() == list(range(len(steps)))
    assert len(steps) == result.model.steps + 1
    assert {"year", "population"} <= set(steps.columns)

    ages = result.to_pandas("age_structure")
    assert list(ages.columns) == ["year", "sex", "age_band", "count", "count_scaled"]
    assert len(ages) == 3 * 2 * len(AGE_BAND_LABELS)
    assert set(ages["sex"]) == {"male", "female"}
    assert list(ages["age_band"].iloc[: len(AGE_BAND_LABELS)]) == list(AGE_BAND_LABELS)
    by_year = ages.groupby("year")["count"].sum()
    years = result.to_pandas("years").set_index("year")
    assert (by_year == years["population"]).all()
    with pytest.raises(KeyError):
        result.to_pandas("nope")


def test_to_pandas_returns_a_copy(result):
    df = result.to_pandas()
    df["population"] = -1
    assert (result.to_pandas()["population"] > 0).all()


def test_count_scaled_uses_the_scale():
    res = kyojosim.run("yamae", years=1, scale=0.25)
    ages = res.to_pandas("age_structure")
    np.testing.assert_allclose(ages["count_scaled"], ages["count"] / 0.25)
    assert res.manifest["scale"] == 0.25


def test_save_writes_only_into_out(result, tmp_path):
    (tmp_path / "keep.txt").write_text("x")
    before = listing(tmp_path)
    out = tmp_path / "runs" / "a"
    assert result.save(out) == out
    after = listing(tmp_path)
    added = sorted(set(after) - set(before))
    expected = ["runs", "runs/a", f"runs/a/{MANIFEST}", *(f"runs/a/{t}.parquet" for t in run_tables())]
    assert added == sorted(expected)
    assert not [p for p in after if p.endswith(atomic.TMP_SUFFIX)]


def test_manifest(result, tmp_path):
    result.save(tmp_path, command=["kyojosim", "run", "yamae"])
    m = json.loads((tmp_path / MANIFEST).read_text(encoding="utf-8"))
    scn = result.scenario
    assert m["scenario"] == json.loads(json.dumps(scn.to_dict(), ensure_ascii=False))
    assert m["scenario_digest"] == scn.digest()
    assert m["scenario_name"] == "yamae"
    assert m["seed"] == scn.simulation.seed
    assert m["versions"]["kyojosim"] == kyojosim.__version__
    for lib in ("python", "mesa", "numpy"):
        assert m["versions"][lib]
    assert m["versions"]["mesa"].startswith("3.3")
    assert m["command"] == ["kyojosim", "run", "yamae"]
    for key in ("started", "finished"):
        t = pd.Timestamp(m[key])
        assert t.tzinfo is not None and t.utcoffset().total_seconds() == 0
    assert m["started"] <= m["finished"]
    assert set(m["tables"]) == set(run_tables())
    assert m["tables"]["years"]["rows"] == 3


def test_load_run_round_trip(result, tmp_path):
    result.save(tmp_path / "r")
    loaded = load_run(tmp_path / "r")
    for name in run_tables():
        pd.testing.assert_frame_equal(loaded.to_pandas(name), result.to_pandas(name))
    assert loaded.manifest["scenario_digest"] == result.scenario_digest
    assert loaded.seed == result.seed
    assert loaded.model is None
    assert loaded.scenario == result.scenario
    assert loaded.scenario.digest() == result.scenario_digest
    assert load_run(tmp_path / "r" / MANIFEST).to_pandas().equals(loaded.to_pandas())


def test_save_replaces_an_earlier_run(tmp_path):
    kyojosim.run("yamae", years=2, out=tmp_path)
    kyojosim.run("yamae", years=1, out=tmp_path)
    assert len(load_run(tmp_path).to_pandas()) == 2
    assert not [p for p in os.listdir(tmp_path) if p.endswith(atomic.TMP_SUFFIX)]


def test_load_run_errors(tmp_path):
    with pytest.raises(ResultsError, match="not a results folder"):
        load_run(tmp_path)
    (tmp_path / MANIFEST).write_text("{not json")
    with pytest.raises(ResultsError, match="cannot read"):
        load_run(tmp_path)
    (tmp_path / MANIFEST).write_text(json.dumps({"format": "kyojosim-run", "tables": {"years": {"file": "y.parquet"}}}))
    with pytest.raises(ResultsError, match="missing"):
        load_run(tmp_path)


def test_save_to_a_file_is_an_error(result, tmp_path):
    target = tmp_path / "file"
    target.write_text("x")
    with pytest.raises(ResultsError, match="not a folder"):
        result.save(target)
    assert isinstance(ResultsError("x"), kyojosim.KyojoError)


def test_run_with_overrides_and_progress(capsys):
    res = kyojosim.run("yamae", years=1, seed=5, progress=True, overrides={"demography.fertility.tfr": 1.6})
    assert res.seed == 5
    assert res.scenario.demography.fertility.tfr == 1.6
    res2 = kyojosim.run("yamae", years=1, seed=5, demography__fertility__tfr=1.6)
    assert res2.scenario_digest == res.scenario_digest
    pd.testing.assert_frame_equal(res.to_pandas(), res2.to_pandas())


def test_run_bad_override_raises_scenario_error():
    with pytest.raises(kyojosim.ScenarioError, match="did you mean"):
        kyojosim.run("yamae", years=1, overrides={"simulation.yeers": 2})


# -- atomic writes ---------------------------------------------------------------------


def test_atomic_writes(tmp_path):
    atomic.write_bytes(tmp_path / "a.bin", b"\x00\x01")
    atomic.write_text(tmp_path / "b.txt", "共助\n")
    atomic.write_json(tmp_path / "c.json", {"n": np.int64(3), "x": np.arange(2), "s": "山江村"})
    df = pd.DataFrame({"a": [1, 2], "b": ["x", "y"]})
    atomic.write_parquet(tmp_path / "d.parquet", df)
    assert (tmp_path / "a.bin").read_bytes() == b"\x00\x01"
    assert (tmp_path / "b.txt").read_text(encoding="utf-8") == "共助\n"
    assert json.loads((tmp_path / "c.json").read_text(encoding="utf-8")) == {"n": 3, "x": [0, 1], "s": "山江村"}
    assert "山江村" in (tmp_path / "c.json").read_text(encoding="utf-8")
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "d.parquet"), df)
    assert sorted(os.listdir(tmp_path)) == ["a.bin", "b.txt", "c.json", "d.parquet"]
    mode = (tmp_path / "a.bin").stat().st_mode & 0o777
    assert mode & 0o600 == 0o600  # not the 0600-only mode of a temp file, unless the umask says so


def test_parquet_made_in_memory_is_what_pandas_writes(tmp_path):
    """The bytes hashed in memory are the file's; the file is what ``DataFrame.to_parquet`` writes."""
    df = pd.DataFrame({"step": np.arange(5, dtype=np.int64), "x": np.linspace(0, 1, 5),
                       "name": pd.array(list("abcde"), dtype="str")})
    data = atomic.parquet_bytes(df)
    atomic.write_bytes(tmp_path / "t.parquet", data, sync=False)
    assert atomic.bytes_digest(data) == atomic.file_digest(tmp_path / "t.parquet")
    by_pandas = io.BytesIO()
    df.to_parquet(by_pandas, engine="pyarrow", index=False)
    assert by_pandas.getvalue() == (tmp_path / "t.parquet").read_bytes()
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "t.parquet"), df)
    assert os.listdir(tmp_path) == ["t.parquet"]


def test_atomic_write_failure_keeps_old_file_and_leaves_no_temp(tmp_path):
    target = tmp_path / "m.json"
    atomic.write_json(target, {"v": 1})
    with pytest.raises(TypeError):
        atomic.write_json(target, {"v": object()})
    with pytest.raises(RuntimeError):
        with atomic.atomic_open(target, "w") as fh:
            fh.write("partial")
            raise RuntimeError("boom")
    assert json.loads(target.read_text()) == {"v": 1}
    assert os.listdir(tmp_path) == ["m.json"]


# -- package import --------------------------------------------------------------------


def test_public_api():
    for name in ("__version__", "KyojoModel", "Resident", "Scenario", "ScenarioError", "load_scenario", "run",
                 "RunResult", "load_run"):
        assert hasattr(kyojosim, name), name
    assert isinstance(kyojosim.__version__, str) and kyojosim.__version__


@pytest.mark.parametrize("method", [None, "fork", "spawn", "forkserver"])
def test_import_keeps_multiprocessing_start_method(method):
    code = (
        "import multiprocessing as mp, sys\n"
        f"m = {method!r}\n"
        "if m: mp.set_start_method(m)\n"
        "before = mp.get_start_method(allow_none=True)\n"
        "import kyojosim\n"
        "after = mp.get_start_method(allow_none=True)\n"
        "sys.exit(0 if before == after else 1)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
