"""Comparing variants over the same seeds (common random numbers)."""

from __future__ import annotations

import numpy as np

from kyojosim import variants
from kyojosim.cli import main


def test_identical_variants_differ_by_exactly_zero():
    runs = variants.run_variants(["yamae", "yamae"], seeds=(1, 2), simulation__years=1)
    a, b = (g.reset_index(drop=True) for _, g in runs.groupby(np.arange(len(runs)) // (len(runs) // 2)))
    assert a["matched"].equals(b["matched"]) and a["lapsed"].equals(b["lapsed"])
    s = variants.summarise(runs)
    assert (s["diff"].fillna(0) == 0).all()


def test_rates_are_matched_over_decided(tmp_path):
    runs = variants.run_variants(["yamae"], seeds=(3,), simulation__years=1)
    row = runs[runs["category"] == "all"].iloc[0]
    assert row["matching_rate"] == row["matched"] / (row["matched"] + row["lapsed"])
    assert set(runs["category"]) == {*variants.CATEGORY_LABELS_JA}


def test_variants_command(tmp_path, capsys):
    out = tmp_path / "cmp"
    assert main(["variants", "yamae", "yamae-hub", "--seeds", "2", "--years", "1", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "consultation 相談" in text and "yamae-hub vs yamae" in text
    assert sorted(p.name for p in out.iterdir()) == ["runs.parquet", "summary.parquet"]
    assert main(["variants", "yamae", "--seeds", "0", "--out", str(out)]) == 2
