"""kyojosim variants: scenarios swept as the variants of the first over shared seeds, compared with it."""

from __future__ import annotations

import pytest

import kyojosim
from kyojosim.analysis.compare import compare
from kyojosim.cli import main
from kyojosim.errors import ScenarioError
from kyojosim.params.scenario import load_scenario
from kyojosim.runs.sweep import variants_experiment


def test_a_variant_file_becomes_the_overrides_it_differs_by():
    exp = variants_experiment(["yamae", "yamae-hub"], replicates=2, years=1)
    assert exp.variants == ("yamae", "yamae-hub") and exp.baseline == "yamae"
    assert exp.spec["variants"]["yamae"]["overrides"] == {}
    hub = exp.spec["variants"]["yamae-hub"]["overrides"]
    assert hub["interventions.reporting_hub.enabled"] is True and "municipality.population" not in hub
    # every run is the variant file itself at the replicate's seed; replicate k shares its seed in every variant
    for run in exp.runs:
        scn = load_scenario(run.variant, {"simulation.years": 1, "simulation.seed": run.seed})
        assert run.resolved.digest() == scn.digest()
    seeds = {v: [r.seed for r in exp.runs if r.variant == v] for v in exp.variants}
    assert seeds["yamae"] == seeds["yamae-hub"] and len(set(seeds["yamae"])) == 2


def test_identical_variants_differ_by_exactly_zero(tmp_path):
    exp = variants_experiment(["yamae", "yamae"], replicates=2, years=1, overrides={"municipality.scale": 0.2})
    assert exp.variants == ("yamae", "yamae-2")
    res = kyojosim.load(kyojosim.sweep(exp, out=tmp_path / "same", progress=False))
    table = compare(res, n_boot=50)
    assert set(table["variant"]) == {"yamae-2"} and (table["n_pairs"] == 2).all()
    assert (table["diff"].fillna(0) == 0).all()


def test_variants_command_sweeps_and_prints_the_comparison(tmp_path, capsys):
    out = tmp_path / "cmp"
    args = ["variants", "yamae", "yamae-hub", "--seeds", "2", "--years", "1", "--set", "municipality.scale=0.2",
            "--out", str(out)]
    assert main(args) == 0
    text = capsys.readouterr().out
    # the variants by what they switch on, the metrics by their labels (Japanese by default)
    assert "地域の通報窓口" in text and "マッチング率（75歳以上）" in text
    assert "95%区間" in text and "「施策なし」" in text and "設定を" not in text
    res = kyojosim.load(out)
    assert res.variants == ["yamae", "yamae-hub"] and res.manifest["runs"]["done"] == 4
    assert (res.summary["scale"] == 0.2).all()
    assert {"manifest.json", "summary.parquet", "design.parquet", "runs"} <= {p.name for p in out.iterdir()}
    # the same command again resumes: nothing left to run
    assert main([*args, "--quiet"]) == 0
    assert kyojosim.load(out).manifest["timings"]["runs_executed"] == 0
    # other variants into the same folder are refused (exit 2) unless --restart
    other = ["variants", "yamae", "yamae-all", "--seeds", "1", "--years", "1", "--out", str(out), "--quiet"]
    assert main(other) == 2 and "--restart" in capsys.readouterr().err
    assert main(["variants", "yamae", "--seeds", "0", "--out", str(tmp_path / "x")]) == 2
    assert main(["variants", "yamae", "--set", "simulation.seed=3", "--out", str(tmp_path / "x")]) == 2
    assert "--seed S" in capsys.readouterr().err and not (tmp_path / "x").exists()


def test_default_folder_is_named_for_the_scenarios(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["variants", "yamae", "--seeds", "1", "--years", "0", "--quiet"]) == 0
    assert (tmp_path / "results" / "yamae" / "manifest.json").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results"]


def test_the_baseline_must_be_a_name_or_file():
    with pytest.raises(ScenarioError, match="scenario name or file"):
        variants_experiment([load_scenario("yamae"), "yamae-hub"])

