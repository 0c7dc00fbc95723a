"""The assumption register on the command line, factor-scaled design parameters, and robustness analyses."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import kyojosim
from kyojosim.analysis.robustness import (
    EMA_HINT,
    RobustnessError,
    analyse,
    ema_available,
    format_robustness,
    parse_thresholds,
    robustness,
    robustness_experiment,
)
from kyojosim.cli import main
from kyojosim.params.experiment import ExperimentError, load_experiment
from kyojosim.params.scenario import assumption_register, load_scenario, scale_by_factor
from script_loader import load_script

QUICK = {"name": "rq", "seed": 3, "replicates": 1, "years": 1, "scale": 0.15, "scenarios": ["yamae"],
         "variants": {"baseline": {}, "hub": {"interventions": {"reporting_hub": {"start": 2015}}}}}
PARAMS = ["interventions.reporting_hub.notice_rate", "interventions.reporting_hub.reports_per_reporter_month",
          "helping.weekly_hours_free", "needs.hours"]


def test_assumptions_lists_the_register_as_a_table_and_as_csv(capsys):
    assert main(["assumptions"]) == 0
    text = capsys.readouterr().out
    register = assumption_register()
    assert f"{len(register)} assumptions (defaults)" in text
    for r in register.to_dict("records"):
        assert r["key"] in text
    assert "needs.hours" in text and "×0.5-2" in text and "helping.weekly_hours_free" in text
    assert main(["assumptions", "ikoma", "--csv"]) == 0
    table = pd.read_csv(io.StringIO(capsys.readouterr().out))
    assert list(table.columns) == ["key", "value", "default", "plausible_lo", "plausible_hi", "scale", "unit", "basis",
                                   "source"]
    assert len(table) == len(register) and table["basis"].str.len().min() > 0
    hours = table.set_index("key").loc["needs.hours"]
    assert json.loads(hours["default"])["chores"] == 2.0 and hours["scale"] == "factor"
    assert main(["assumptions", "nowhere-town-xyz"]) == 2


def test_a_list_or_mapping_is_scaled_as_a_whole_by_one_factor(yamae):
    hours = scale_by_factor(yamae, "needs.hours", 2.0)
    assert hours == {k: min(40.0, 2 * v) for k, v in yamae.needs.hours.items()}
    weeks = scale_by_factor(yamae, "needs.patience_weeks", 1.5)
    assert all(isinstance(v, int) for v in weeks.values())
    assert weeks == {k: int(round(v * 1.5)) for k, v in yamae.needs.patience_weeks.items()}
    frail = scale_by_factor(yamae, "residents.frailty_rate", 1.25)
    assert max(frail) <= 1.0 and frail[0] == pytest.approx(1.25 * yamae.residents.frailty_rate[0])
    with pytest.raises(kyojosim.ScenarioError, match="cannot be scaled by a factor"):
        scale_by_factor(yamae, "helping.weekly_hours_free", 2.0)


def test_an_lhs_design_scales_a_mapping_by_its_factor_in_every_variant():
    spec = {**QUICK, "design": {"type": "lhs", "n": 3, "parameters": {"needs.hours": [0.5, 2.0],
                                                                     "helping.weekly_hours_free": [2.0, 8.0]}}}
    exp = load_experiment(spec)
    assert exp.design["factors"] == ["needs.hours"]
    base = load_scenario("yamae")
    for run in exp.runs:
        f = run.params["needs.hours"]
        assert 0.5 <= f <= 2.0
        assert run.resolved.needs.hours == pytest.approx({k: min(40.0, v * f) for k, v in base.needs.hours.items()})
    with pytest.raises(ExperimentError, match="a list or mapping of numbers"):
        load_experiment({**QUICK, "design": {"type": "lhs", "n": 2, "parameters": {"municipality.name": [0, 1]}}})


def test_robustness_experiment_samples_the_register_and_keeps_the_variants():
    exp, chosen = robustness_experiment(QUICK, samples=5)
    assert exp.name == "rq-robustness" and exp.variants == ("baseline", "hub") and len(exp.points) == 5
    keys = set(chosen["key"])
    # interventions no variant switches on are left out; the hub's are in
    assert "interventions.reporting_hub.notice_rate" in keys
    assert not any(k.startswith(("interventions.sharing_platform.", "interventions.local_sns.")) for k in keys)
    assert "needs.hours" in keys and "helping.weekly_hours_free" in keys
    lo = chosen.set_index("key")["plausible_lo"]
    hi = chosen.set_index("key")["plausible_hi"]
    for point in exp.points:
        for k, v in point.items():
            assert lo[k] - 1e-9 <= v <= hi[k] + 1e-9
    # paired: at each sample the baseline and the variant share the seed
    for p in range(5):
        assert len({r.seed for r in exp.runs if r.point == p}) == 1
    only, _ = robustness_experiment(QUICK, samples=4, parameters=["interventions.reporting_hub.*"])
    assert set(only.parameters) == {k for k in keys if k.startswith("interventions.reporting_hub.")}
    with pytest.raises(RobustnessError, match="matches no parameter.*did you mean"):
        robustness_experiment(QUICK, samples=4, parameters=["helping.weekly_hours_fre"])
    with pytest.raises(RobustnessError, match="a power of 2"):
        robustness_experiment(QUICK, samples=6, design="sobol")
    with pytest.raises(RobustnessError, match="has a design"):
        robustness_experiment({**QUICK, "design": {"type": "factorial",
                                                   "parameters": {"helping.weekly_hours_free": [2.0, 4.0]}}}, 4)
    with pytest.raises(RobustnessError, match="one variant"):
        robustness_experiment({**QUICK, "variants": {"baseline": {}}}, 4)


def test_thresholds_are_read_in_points_for_rates():
    metrics = ["matching_rate", "tsunagari_mean"]
    assert parse_thresholds(None, metrics) == {"matching_rate": 0.0, "tsunagari_mean": 0.0}
    assert parse_thresholds(["2"], metrics) == {"matching_rate": pytest.approx(0.02), "tsunagari_mean": 2.0}
    assert parse_thresholds(["matching_rate=3"], metrics) == {"matching_rate": pytest.approx(0.03),
                                                              "tsunagari_mean": 0.0}
    with pytest.raises(RobustnessError, match="unknown metric 'matchng_rate'"):
        parse_thresholds(["matchng_rate=3"], metrics)
    with pytest.raises(RobustnessError, match="allowed: a number"):
        parse_thresholds(["lots"], metrics)


class Results:
    """The least :func:`analyse` reads: a design of samples, a summary and the manifest's design."""

    def __init__(self, x: np.ndarray, effect: np.ndarray, design_type: str = "lhs"):
        n = len(x)
        rows, values = [], []
        for p in range(n):
            for variant, add in (("baseline", 0.0), ("v", effect[p])):
                rows.append({"run_id": f"{variant}-p{p}", "scenario": "town", "variant": variant, "point": p,
                             "replicate": 0, "seed": 1, "status": "done", "a": x[p, 0], "b": x[p, 1]})
                values.append(0.3 + add)
        self.design = pd.DataFrame(rows)
        self.summary = pd.DataFrame({"run_id": self.design["run_id"], "matching_rate": values})
        self.manifest = {"name": "toy", "design": {"type": design_type, "parameters": {"a": [0.0, 1.0],
                                                                                        "b": [0.0, 1.0]}}}
        self.variants = ["baseline", "v"]
        self.baseline = "baseline"
        self.parameters = ["a", "b"]


def test_analyse_finds_the_spread_the_assumption_that_matters_and_the_failure_region():
    from scipy.stats import qmc

    x = qmc.LatinHypercube(d=2, seed=np.random.default_rng(2)).random(60)
    effect = np.where(x[:, 0] < 0.3, 0.005, 0.05 + 0.02 * x[:, 0])  # fails (below 1 point) only when a < 0.3
    res = analyse(Results(x, effect), metrics=["matching_rate"], thresholds=["1"])
    s = res.spread.iloc[0]
    assert s["n_samples"] == 60 and s["median"] == pytest.approx(np.median(effect))
    assert s["p05"] == pytest.approx(np.quantile(effect, 0.05)) and s["p95"] == pytest.approx(np.quantile(effect, 0.95))
    assert s["share_above"] == pytest.approx(np.mean(effect > 0.01)) and s["unit"] == "points"
    dep = res.dependence.set_index("parameter")
    assert dep.loc["a", "rank"] == 1 and dep.loc["a", "rho"] > 0.5 and dep.loc["a", "method"] == "rbd_fast"
    found = res.findings()
    record = found["findings"][0]
    assert record["top_assumptions"][0]["parameter"] == "a" and record["holds"] == "often"
    json.dumps(found)  # plain data
    if not ema_available():
        assert res.prim_note == EMA_HINT and res.regions.empty
        return
    assert len(res.regions) >= 1
    box = res.conditions[res.conditions["box"] == 0].set_index("parameter")
    assert list(box.index) == ["a"] and box.loc["a", "restricted"] == "upper"
    assert 0.2 < box.loc["a", "hi"] < 0.45
    region = res.regions.iloc[0]
    assert region["density"] >= 0.8 and region["coverage"] > 0.8
    assert "does not help by more than 1.0 points when a < 0." in format_robustness(res)


def test_an_assumption_is_named_only_when_its_index_stands_out_from_chance():
    from scipy.stats import qmc

    # many samples, an effect set by a alone: a stands out, b does not
    x = qmc.LatinHypercube(d=2, seed=np.random.default_rng(3)).random(60)
    res = analyse(Results(x, 0.05 * x[:, 0]), metrics=["matching_rate"], thresholds=["1"])
    dep = res.dependence.set_index("parameter")
    assert dep.loc["a", "distinct"] and not dep.loc["b", "distinct"]
    assert dep.loc["a", "index"] > dep.loc["a", "chance"] > dep.loc["b", "index"]
    assert [d["parameter"] for d in res.findings()["findings"][0]["top_assumptions"]] == ["a"]
    # eight samples of an effect unrelated to either: the indices are what chance gives, nobody is named
    x8 = qmc.LatinHypercube(d=2, seed=np.random.default_rng(4)).random(8)
    noise = np.random.default_rng(5).normal(0.05, 0.01, 8)
    res8 = analyse(Results(x8, noise), metrics=["matching_rate"], thresholds=["1"])
    assert not res8.dependence["distinct"].any()
    assert res8.findings()["findings"][0]["top_assumptions"] == []
    assert "no assumption stands out from chance with 8 samples" in format_robustness(res8)


def test_without_ema_workbench_the_failure_regions_say_how_to_get_them(monkeypatch):
    import kyojosim.analysis.robustness as rob

    monkeypatch.setattr(rob, "ema_available", lambda: False)
    x = np.random.default_rng(0).random((12, 2))
    res = analyse(Results(x, x[:, 0] - 0.5), metrics=["matching_rate"])
    assert res.regions.empty and res.prim_note == EMA_HINT
    assert "pip install 'kyojosim[analysis]'" in format_robustness(res)


def test_robustness_end_to_end_is_resumable_and_writes_tables_findings_and_figures(tmp_path):
    out = tmp_path / "rob"
    folder, res = robustness(QUICK, samples=6, out=out, jobs=2, parameters=PARAMS, progress=False)
    assert folder == out
    for name in ("samples", "effects", "spread", "dependence", "regions", "conditions", "parameters"):
        assert (out / f"{name}.parquet").is_file() and (out / f"{name}.csv").is_file()
    findings = json.loads((out / "findings.json").read_text(encoding="utf-8"))
    assert {(f["variant"], f["metric"]) for f in findings["findings"]} == {
        ("hub", "matching_rate"), ("hub", "matching_rate_age_75plus"), ("hub", "tsunagari_mean")}
    assert findings["n_samples"] == 6 and len(findings["parameters"]) == 4
    effects = pd.read_parquet(out / "effects.parquet")
    summary = kyojosim.load(out / "sweep").table("summary")
    rate = summary.pivot(index="point", columns="variant", values="matching_rate")
    got = effects[effects["metric"] == "matching_rate"].set_index("point")["effect"].sort_index()
    assert got.to_numpy() == pytest.approx((rate["hub"] - rate["baseline"]).to_numpy())
    # run again: every sample is done already, nothing runs, the same numbers come out
    _, again = robustness(QUICK, samples=6, out=out, jobs=1, parameters=PARAMS, progress=False)
    assert kyojosim.load(out / "sweep").manifest["timings"]["runs_executed"] == 0
    pd.testing.assert_frame_equal(res.spread, again.spread)
    # the command line writes the figures and the summary
    proc = subprocess.run([sys.executable, "-m", "kyojosim", "robustness", "--help"], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0 and "--samples" in proc.stdout
    assert main(["robustness", "missing-experiment-xyz", "--samples", "4"]) == 2
    assert main(["robustness", str(_write(tmp_path, QUICK)), "--samples", "6", "--out", str(out), "--parameters",
                 *PARAMS, "--lang", "en", "--quiet"]) == 0
    assert (out / "effect_spread.png").stat().st_size > 5_000
    assert (out / "dependence_matching_rate.png").is_file()


def _write(folder: Path, spec: dict) -> Path:
    import yaml

    path = folder / f"{spec['name']}.yaml"
    path.write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    return path


def test_a_sobol_sample_gives_total_indices():
    from SALib.sample import sobol as sobol_sample

    problem = {"num_vars": 2, "names": ["a", "b"], "bounds": [[0.0, 1.0], [0.0, 1.0]]}
    x = sobol_sample.sample(problem, 64, calc_second_order=False, seed=1)
    res = analyse(Results(x, 0.05 * x[:, 0] + 0.001 * x[:, 1], design_type="sobol"), metrics=["matching_rate"],
                  prim=False)
    dep = res.dependence.set_index("parameter")
    assert (dep["method"] == "sobol").all() and dep.loc["a", "rank"] == 1
    assert dep.loc["a", "index"] > 0.9 and dep.loc["b", "index"] < 0.05
    assert res.prim_note.startswith("failure regions not sought")


def test_the_robustness_benchmark_runs_and_prints_its_figures(tmp_path, capsys):

    path = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_robustness.py"
    bench = load_script(path, "bench_robustness")
    figures = bench.main(["--experiment", "yamae-quick", "--samples", "2", "--years", "1", "--jobs", "1",
                          "--json", str(tmp_path / "b.json")])
    text = capsys.readouterr().out
    for key in ("wall_per_sample_s", "cpu_per_run_s", "samples_in_budget"):
        assert key in text and key in figures
    assert figures["runs"] == 4 and json.loads((tmp_path / "b.json").read_text())["samples"] == 2
