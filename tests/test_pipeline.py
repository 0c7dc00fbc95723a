"""The experiment pipeline end to end, as users run it: sweep -> compare -> report on the command line.

The same chain in a notebook is ``notebooks/02-intervention-comparison.ipynb`` (tests/test_notebooks.py).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from kyojosim.params.experiment import EXPERIMENT_DIR
from kyojosim.present.labels import text

QUICK = EXPERIMENT_DIR / "yamae-quick.yaml"


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "kyojosim", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=300)


def test_sweep_compare_report_on_the_command_line(tmp_path):
    out = tmp_path / "quick"
    proc = _cli("sweep", str(QUICK), "--jobs", "2", "--out", str(out), "--quiet", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    proc = _cli("compare", str(out), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    table = pd.read_csv(out / "comparison" / "comparison.csv")
    hub = table[(table["variant"] == "hub") & (table["metric"] == "matching_rate")].iloc[0]
    # the reporting hub sends neighbours' troubles to the office, which answers them within its capacity: in
    # two years at a fifth of the village's residents that is a handful of needs, so the gain is small but
    # there in every pair of runs (with two pairs the t interval, one degree of freedom, is wide: it holds the
    # mean gain, and no sign is claimed from it)
    assert hub["n_pairs"] == 2 and hub["lo"] < hub["diff"] < hub["hi"]
    import kyojosim

    res = kyojosim.load(out)
    pairs = res.table("summary").pivot(index="replicate", columns="variant", values="matching_rate")
    assert (pairs["hub"] > pairs["baseline"]).all()
    assert hub["diff"] == pytest.approx((pairs["hub"] - pairs["baseline"]).mean())
    months = res.table("channel_months")
    answered = months[months["channel"] == "reporting_hub"].groupby("variant")["answered"].sum()
    assert list(answered.index) == ["hub"] and answered["hub"] > 0  # the office answered; no hub in the baseline
    assert len(list((out / "comparison").glob("*.png"))) == 4
    for lang in ("ja", "en"):
        proc = _cli("report", str(out), "--lang", lang, cwd=tmp_path)
        assert proc.returncode == 0, proc.stderr
        page = (out / f"report-{lang}.html").read_text(encoding="utf-8")
        assert text("report.headline_h", lang) in page
        # the title names the municipality and the intervention by the experiment file's labels
        title = {"ja": "<h1>山江村：地域の通報窓口で、", "en": "<h1>Yamae village: how much more help"}[lang]
        assert title in page
    # nothing was written outside the folders named on the command line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["quick"]
    # a folder written before the community_value table existed (format 1) still loads, consolidated or not
    import json

    (out / "community_value.parquet").unlink()
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    (out / "manifest.json").write_text(json.dumps({**manifest, "format_version": 1}), encoding="utf-8")
    old = kyojosim.load(out)
    assert old.community_value.empty and len(old.summary) == 4 and not old.manifest.get("partial")
    for f in (out / "runs").glob("*/community_value.parquet"):  # run folders of that version: no such table,
        f.unlink()  # and a status that records no files
        status = json.loads((f.parent / "status.json").read_text(encoding="utf-8"))
        status.pop("files")
        (f.parent / "status.json").write_text(json.dumps(status), encoding="utf-8")
    (out / "manifest.json").unlink()
    partial = kyojosim.load(out)
    assert partial.community_value.empty and len(partial.summary) == 4


def test_compare_gives_sobol_indices_for_a_sobol_design(tmp_path):
    exp = tmp_path / "tiny-sobol.yaml"
    exp.write_text("""name: tiny-sobol
seed: 7
replicates: 1
years: 1
scale: 0.05
scenarios: [yamae]
variants:
  baseline: {}
design:
  type: sobol
  n: 4
  calc_second_order: false
  parameters:
    helping.ask_rate_65plus: [0.2, 0.6]
    helping.weekly_hours_free: [2.0, 8.0]
""", encoding="utf-8")
    out = tmp_path / "out"
    assert _cli("sweep", str(exp), "--jobs", "2", "--out", str(out), "--quiet", cwd=tmp_path).returncode == 0
    proc = _cli("compare", str(out), "--lang", "en", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "Sobol indices" in proc.stdout
    indices = pd.read_csv(out / "comparison" / "sensitivity.csv")
    assert set(indices["parameter"]) == {"helping.ask_rate_65plus", "helping.weekly_hours_free"}
    assert set(indices["metric"]) == {"matching_rate", "matching_rate_age_75plus", "tsunagari_mean"}
    assert (out / "comparison" / "sensitivity.png").stat().st_size > 5_000
    # one variant: nothing to compare with, so no comparison table
    assert not (out / "comparison" / "comparison.csv").exists()
