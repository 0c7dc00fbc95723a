"""Comparisons per design point, intervals that fit the number of pairs, and sweeping to a target half-width."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import kyojosim
from kyojosim.analysis.compare import AnalysisError, compare, describe_intervals, format_comparison
from kyojosim.analysis.intervals import MIN_BOOTSTRAP_PAIRS, chosen_method, mean_interval
from kyojosim.analysis.precision import PrecisionError, next_replicates, sweep_to_halfwidth
from kyojosim.params.experiment import load_experiment

# an experiment whose effect depends on the parameter it varies: a sharing platform whose members help
# each other, with 2, 4 or 8 free hours of helping a week (the per-level effects differ). A what-if opened to
# every category and every eligible resident: the case's platform (child care among a few hundred members)
# and the reporting hub (answered by the office, whose capacity no helper's hours change) barely move a
# village's matching rate in two years.
WHATIF_PLATFORM = {
    "interventions.sharing_platform.categories": ["chores", "mobility", "shopping", "information", "sick_care",
                                                  "family_care", "childcare", "consultation"],
    "interventions.sharing_platform.user_share": 10.0,
    "interventions.sharing_platform.innovation": 12.0,
}
FACTORIAL = {
    "name": "hours", "seed": 4, "replicates": 2, "years": 2, "scale": 0.2, "scenarios": ["yamae"],
    "variants": {"baseline": {}, "platform": {"interventions": {"sharing_platform": {"start": 2015}},
                                              "overrides": WHATIF_PLATFORM}},
    "design": {"type": "factorial", "parameters": {"helping.weekly_hours_free": [2.0, 4.0, 8.0]}},
}


@dataclass(frozen=True)
class Frames:
    design: pd.DataFrame
    summary: pd.DataFrame
    manifest: dict[str, Any] = field(default_factory=dict)
    variants: list[str] = field(default_factory=lambda: ["base", "v"])
    baseline: str = "base"


def by_level(effects: dict[float, np.ndarray], base: np.ndarray) -> Frames:
    """Design and summary of a factorial over one parameter 'x': at level x the variant adds effects[x]."""
    rows, values = [], []
    for p, (x, d) in enumerate(effects.items()):
        for variant, add in (("base", 0.0 * d), ("v", d)):
            for k in range(len(d)):
                rows.append({"run_id": f"{variant}-p{p}-r{k}", "scenario": "town", "variant": variant, "point": p,
                             "replicate": k, "seed": k, "status": "done", "x": x})
                values.append(base[k] + add[k])
    design = pd.DataFrame(rows)
    summary = pd.DataFrame({"run_id": design["run_id"], "matching_rate": values})
    return Frames(design=design, summary=summary, manifest={"design": {"type": "factorial", "parameters": {"x": []}}})


def test_compare_gives_one_row_per_design_point_with_its_parameter_values():
    rng = np.random.default_rng(1)
    base = rng.uniform(0.1, 0.3, 4)
    effects = {2.0: np.array([0.10, 0.12, 0.11, 0.09]), 4.0: np.array([0.20, 0.22, 0.19, 0.21]),
               8.0: np.array([0.30, 0.29, 0.33, 0.31])}
    out = compare(by_level(effects, base), metrics=["matching_rate"])
    assert list(out.columns[:3]) == ["scenario", "point", "x"]
    assert out["point"].tolist() == [0, 1, 2] and out["x"].tolist() == [2.0, 4.0, 8.0]
    assert out["diff"].to_numpy() == pytest.approx([d.mean() for d in effects.values()])
    assert (out["n_pairs"] == 4).all() and (out["n_points"] == 1).all() and (out["method"] == "t").all()
    # the pooled row is the mean over all pairs, and says how many points it pools
    pooled = compare(by_level(effects, base), metrics=["matching_rate"], pool=True)
    assert len(pooled) == 1 and pd.isna(pooled["point"].iloc[0]) and pd.isna(pooled["x"].iloc[0])
    assert pooled["diff"].iloc[0] == pytest.approx(np.concatenate(list(effects.values())).mean())
    assert pooled["n_pairs"].iloc[0] == 12 and pooled["n_points"].iloc[0] == 3
    # the first level's effect lies outside the pooled interval: pooling hides the dependence
    assert out["hi"].iloc[0] < pooled["lo"].iloc[0]
    assert "POOLED over 3 design points" in describe_intervals(pooled)
    assert "one row per design point" in describe_intervals(out)
    text = format_comparison(out)
    assert text.splitlines()[0].split()[:4] == ["scenario", "variant", "point", "x"] and "method" in text


def test_the_interval_method_fits_the_number_of_pairs():
    assert [chosen_method(n) for n in (0, 1, 2, MIN_BOOTSTRAP_PAIRS - 1, MIN_BOOTSTRAP_PAIRS)] == [
        "none", "none", "t", "t", "bca"]
    d = np.array([0.10, 0.14, 0.11, 0.16, 0.12])
    lo, hi, used = mean_interval(d)
    half = stats.t.ppf(0.975, 4) * d.std(ddof=1) / np.sqrt(5)
    assert used == "t" and (lo, hi) == pytest.approx((d.mean() - half, d.mean() + half))
    many = np.random.default_rng(3).gamma(2.0, 1.0, 60)
    lo, hi, used = mean_interval(many, rng=np.random.default_rng(9))
    ref = stats.bootstrap((many,), np.mean, n_resamples=2000, method="BCa", rng=np.random.default_rng(9))
    assert used == "bca" and (lo, hi) == pytest.approx((ref.confidence_interval.low, ref.confidence_interval.high))
    assert mean_interval(np.array([0.3]))[2] == "none" and np.isnan(mean_interval(np.array([0.3]))[0])
    assert mean_interval(np.full(4, 0.2))[:2] == (pytest.approx(0.2), pytest.approx(0.2))
    with pytest.raises(AnalysisError, match="interval method: got 'magic'"):
        compare(by_level({1.0: np.ones(3)}, np.zeros(3)), method="magic")


def test_t_intervals_cover_the_true_mean_at_the_nominal_rate_with_few_pairs():
    rng = np.random.default_rng(11)
    hits = [lo <= 1.0 <= hi for lo, hi, _ in (mean_interval(rng.normal(1.0, 0.5, 3)) for _ in range(2000))]
    assert 0.93 < np.mean(hits) < 0.97


def test_next_replicates_grows_towards_the_target_within_bounds():
    assert next_replicates(3, widest=2.0, target=1.0, cap=20) == 6  # 3 * 4 = 12, at most doubled
    assert next_replicates(8, widest=1.1, target=1.0, cap=20) == 10
    assert next_replicates(4, widest=1.01, target=1.0, cap=20) == 5  # at least one more
    assert next_replicates(16, widest=3.0, target=1.0, cap=20) == 20  # never past the cap
    assert next_replicates(1, widest=float("nan"), target=1.0, cap=5) == 2


@pytest.fixture(scope="module")
def factorial(tmp_path_factory) -> Path:
    return kyojosim.sweep(FACTORIAL, out=tmp_path_factory.mktemp("f") / "hours", jobs=2, progress=False)


def test_compare_on_a_factorial_gives_the_effect_at_each_level(factorial):
    res = kyojosim.load(factorial)
    out = compare(res, metrics=["matching_rate", "matching_rate_age_75plus"])
    assert len(out) == 3 * 2 and "helping.weekly_hours_free" in out.columns
    s = res.table("summary")
    for row in out.to_dict("records"):
        here = s[s["point"] == row["point"]].pivot(index="replicate", columns="variant", values=row["metric"])
        assert row["diff"] == pytest.approx((here["platform"] - here["baseline"]).mean())
        assert row["helping.weekly_hours_free"] == FACTORIAL["design"]["parameters"]["helping.weekly_hours_free"][
            row["point"]]
    rate = out[out["metric"] == "matching_rate"]["diff"]
    assert rate.nunique() == 3  # the levels differ, so one pooled number would hide it
    pooled = compare(res, metrics=["matching_rate"], pool=True)
    assert len(pooled) == 1 and pooled["n_pairs"].iloc[0] == 6
    assert pooled["diff"].iloc[0] == pytest.approx(rate.mean())


def test_compare_on_the_command_line_is_per_point_unless_pooled_and_draws_the_effect_by_parameter(factorial):
    def cli(*args):
        return subprocess.run([sys.executable, "-m", "kyojosim", *args], capture_output=True, text=True, timeout=300)

    proc = cli("compare", str(factorial), "--lang", "en")
    assert proc.returncode == 0, proc.stderr
    assert "one row per design point" in proc.stdout and "helping.weekly_hours_free" in proc.stdout
    table = pd.read_csv(factorial / "comparison" / "comparison.csv")
    assert sorted(table["point"].unique()) == [0, 1, 2] and set(table["method"]) == {"t"}
    assert (factorial / "comparison" / "effect_by_parameter.png").stat().st_size > 5_000
    proc = cli("compare", str(factorial), "--pool", "--out", str(factorial / "pooled"), "--quiet")
    assert proc.returncode == 0, proc.stderr
    pooled = pd.read_csv(factorial / "pooled" / "comparison.csv")
    assert pooled["point"].isna().all() and (pooled["n_points"] == 3).all()
    # the report states one effect per variant: for several design points it says so instead of pooling them
    proc = cli("report", str(factorial), "--lang", "en")
    assert proc.returncode == 2 and "3 design points" in proc.stderr and "kyojosim compare" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_sweep_to_a_target_halfwidth_adds_replicates_and_says_whether_it_reached_it(tmp_path):
    small = {**FACTORIAL, "name": "prec", "years": 1, "scale": 0.15,
             "design": {"type": "list", "points": [{"helping.weekly_hours_free": 4.0}]}}
    out = tmp_path / "prec"
    seen = []
    capped = sweep_to_halfwidth(small, target=1e-6, max_replicates=3, out=out, jobs=2, progress=False,
                                metrics=["matching_rate"], on_pass=seen.append)
    assert not capped.reached and capped.replicates == 3 and [p["replicates"] for p in seen] == [2, 3]
    assert "NOT reached: the cap of 3 replicates" in capped.message()
    res = kyojosim.load(out)
    assert res.manifest["replicates"] == 3 and res.manifest["runs"]["done"] == 6
    first = load_experiment(small)
    assert res.design.loc[res.design["replicate"] < 2, "seed"].tolist() == [r.seed for r in first.runs]
    # a wide target is reached at once, on the runs already there (nothing runs again)
    wide = sweep_to_halfwidth(small, target=50.0, out=out, progress=False, metrics=["matching_rate"])
    assert wide.reached and wide.replicates == 3 and kyojosim.load(out).manifest["timings"]["runs_executed"] == 0
    assert "reached with 3 replicates" in wide.message()
    with pytest.raises(PrecisionError, match="--target-halfwidth: got -1"):
        sweep_to_halfwidth(small, target=-1, out=out, progress=False)
    with pytest.raises(PrecisionError, match="--max-replicates: got 2"):
        sweep_to_halfwidth(small, target=1.0, max_replicates=2, out=out, progress=False)
    # the command line says which it was
    import yaml

    (tmp_path / "prec.yaml").write_text(yaml.safe_dump(small), encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "kyojosim", "sweep", str(tmp_path / "prec.yaml"), "--out", str(out),
                           "--target-halfwidth", "50", "--max-replicates", "4"], capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "target half-width 50 reached with 3 replicates" in proc.stdout
    proc = subprocess.run([sys.executable, "-m", "kyojosim", "sweep", str(tmp_path / "prec.yaml"), "--out", str(out),
                           "--max-replicates", "4"], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2 and "only with --target-halfwidth" in proc.stderr
