"""The benchmark of any municipality against its projection still runs (two small towns); nothing is asserted
on its timings."""

from __future__ import annotations

from pathlib import Path

from script_loader import load_script

BENCH = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_japan.py"


def test_bench_japan_runs_and_prints_the_distribution(capsys, tmp_path):
    bench = load_script(BENCH, "bench_japan")
    out = tmp_path / "japan.csv"
    df = bench.main(["--codes", "43512", "02343", "--jobs", "1", "--csv", str(out)])
    text = capsys.readouterr().out
    for label in ("2 municipalities", "total (%)", "65+ share (pt)", "75+ share (pt)", "within band",
                  "not used by the fit", "fitted shifts", "median fitted shift by period", "wall time"):
        assert label in text, label
    assert sorted(df["code"]) == ["02343", "43512"]
    assert (df["check_total"] < 0.03).all() and out.is_file()
    assert len(bench.sample_codes(5, seed=1)) == 5
