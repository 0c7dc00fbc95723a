"""Paired comparison of variants and Sobol sensitivity (kyojosim.analysis.compare)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pytest

from experiment_results import shared_results
from kyojosim.analysis.compare import AnalysisError, bootstrap_mean_ci, compare, format_comparison
from kyojosim.analysis.sensitivity import sensitivity
from kyojosim.errors import KyojoError


@dataclass(frozen=True)
class Frames:
    """The least an analysis needs: design, summary, manifest, variants, baseline."""

    design: pd.DataFrame
    summary: pd.DataFrame
    manifest: dict[str, Any] = field(default_factory=dict)
    variants: list[str] = field(default_factory=lambda: ["base", "v"])
    baseline: str = "base"


def paired(base: np.ndarray, variant: np.ndarray, shuffle: int | None = None, extra: dict | None = None) -> Frames:
    """Design and summary of one scenario, one point, replicates 0..n-1 of 'base' and 'v'."""
    n = len(base)
    design = pd.DataFrame({
        "run_id": [f"base-{k}" for k in range(n)] + [f"v-{k}" for k in range(n)],
        "scenario": "town", "variant": ["base"] * n + ["v"] * n, "point": 0,
        "replicate": list(range(n)) * 2, "seed": list(range(n)) * 2, "status": "done",
    })
    summary = pd.DataFrame({"run_id": design["run_id"], "matching_rate": np.r_[base, variant],
                            **{k: np.r_[v[0], v[1]] for k, v in (extra or {}).items()}})
    if shuffle is not None:
        summary = summary.sample(frac=1.0, random_state=shuffle).reset_index(drop=True)
    return Frames(design=design, summary=summary)


def test_compare_gives_the_exact_paired_mean_difference_and_a_ci_around_it():
    rng = np.random.default_rng(5)
    base = rng.uniform(0.1, 0.3, 12)
    d = rng.normal(0.05, 0.02, 12)
    out = compare(paired(base, base + d, shuffle=3), metrics=["matching_rate"], n_boot=4000, seed=1)
    row = out.iloc[0]
    assert (row["scenario"], row["variant"], row["metric"], row["n_pairs"]) == ("town", "v", "matching_rate", 12)
    assert row["diff"] == pytest.approx(d.mean(), abs=1e-12)
    assert row["baseline_mean"] == pytest.approx(base.mean())
    assert row["variant_mean"] == pytest.approx((base + d).mean())
    assert row["lo"] < row["diff"] < row["hi"]
    # pairing: the spread of the base values (0.1-0.3) would give a far wider interval unpaired
    assert row["hi"] - row["lo"] < 0.04


def test_ci_shrinks_with_more_pairs():
    rng = np.random.default_rng(7)
    widths = []
    for n in (8, 80, 800):
        base = rng.uniform(0.1, 0.3, n)
        out = compare(paired(base, base + rng.normal(0.05, 0.02, n)), metrics=["matching_rate"], seed=2)
        widths.append(float(out["hi"].iloc[0] - out["lo"].iloc[0]))
    assert widths[0] > widths[1] > widths[2]
    assert widths[2] < widths[0] / 4  # about 1/sqrt(100)


def test_identical_variants_differ_by_zero():
    base = np.linspace(0.1, 0.4, 6)
    out = compare(paired(base, base.copy()), metrics=["matching_rate"])
    assert out[["diff", "lo", "hi"]].to_numpy().tolist() == [[0.0, 0.0, 0.0]]


def test_pairs_missing_a_value_are_left_out_of_that_metric_only():
    base = np.array([0.1, 0.2, 0.3, 0.4])
    other = (np.array([1.0, 2.0, 3.0, 4.0]), np.array([2.0, 3.0, np.nan, 5.0]))
    f = paired(base, base + 0.1, extra={"tsunagari_mean": other})
    out = compare(f, metrics=["matching_rate", "tsunagari_mean"])
    by = out.set_index("metric")
    assert by.loc["matching_rate", "n_pairs"] == 4
    assert by.loc["tsunagari_mean", "n_pairs"] == 3
    assert by.loc["tsunagari_mean", "diff"] == pytest.approx(1.0)
    assert by.loc["matching_rate", "diff"] == pytest.approx(0.1)


def test_unpaired_runs_and_failed_runs_are_not_used():
    f = paired(np.array([0.1, 0.2, 0.3]), np.array([0.2, 0.3, 0.9]))
    design = f.design.copy()
    design.loc[design["run_id"] == "v-2", "status"] = "failed"
    out = compare(Frames(design=design, summary=f.summary), metrics=["matching_rate"])
    assert out["n_pairs"].iloc[0] == 2
    assert out["diff"].iloc[0] == pytest.approx(0.1)


def test_vectorised_bootstrap_equals_the_plain_loop():
    rng = np.random.default_rng(0)
    d = rng.normal(size=(9, 2))
    lo, hi = bootstrap_mean_ci(d, 500, np.random.default_rng(42))
    idx = np.random.default_rng(42).integers(0, 9, size=(500, 9))
    means = np.array([d[i].mean(axis=0) for i in idx])
    assert np.allclose(lo, np.quantile(means, 0.025, axis=0))
    assert np.allclose(hi, np.quantile(means, 0.975, axis=0))


def test_bootstrap_in_blocks_equals_the_plain_loop_over_the_same_blocks(monkeypatch):
    import kyojosim.analysis.compare as analysis

    monkeypatch.setattr(analysis, "BOOTSTRAP_BLOCK", 9 * 7)  # 7 replicates per block
    d = np.random.default_rng(1).normal(size=(9, 1))
    lo, hi = bootstrap_mean_ci(d, 50, np.random.default_rng(3))
    rng = np.random.default_rng(3)
    idx = np.vstack([rng.integers(0, 9, size=(min(7, 50 - s), 9)) for s in range(0, 50, 7)])
    means = d[idx, 0].mean(axis=1)
    assert lo[0] == pytest.approx(np.quantile(means, 0.025))
    assert hi[0] == pytest.approx(np.quantile(means, 0.975))


def test_compare_is_seeded_and_leaves_the_global_generator_alone():
    f = paired(np.linspace(0.1, 0.3, 10), np.linspace(0.1, 0.3, 10) + np.sin(np.arange(10)) / 20)
    state = np.random.get_state()[1].copy()
    a = compare(f, metrics=["matching_rate"], seed=3, method="bca")
    b = compare(f, metrics=["matching_rate"], seed=3, method="bca")
    c = compare(f, metrics=["matching_rate"], seed=4, method="bca")
    assert np.array_equal(np.random.get_state()[1], state)
    pd.testing.assert_frame_equal(a, b)
    assert a["lo"].iloc[0] != c["lo"].iloc[0]


def test_bad_baseline_or_metric_is_a_clear_error():
    f = paired(np.array([0.1, 0.2]), np.array([0.2, 0.3]))
    with pytest.raises(KyojoError, match="baseline: got 'nope'; allowed: one of the variants base, v"):
        compare(f, baseline="nope")
    with pytest.raises(AnalysisError, match="metrics: unknown 'speed'"):
        compare(f, metrics=["speed"])


def test_compare_on_real_runs():
    res = shared_results()
    out = compare(res, n_boot=500)
    assert set(out["variant"]) == {"platform"}
    assert (out["n_pairs"] == 3).all()
    by = out.set_index("metric")
    # the paid platform adds matches and money flows; the baseline pays nothing
    assert by.loc["matching_rate", "lo"] > 0
    assert by.loc["paid_by_requesters", "baseline_mean"] == 0
    assert by.loc["paid_by_requesters", "diff"] > 0
    assert by.loc["subsidy", "diff"] > 0
    base_runs = res.design.loc[res.design["variant"] == "baseline", "run_id"]
    expected = res.summary.set_index("run_id").loc[base_runs, "matching_rate"].mean()
    assert by.loc["matching_rate", "baseline_mean"] == pytest.approx(expected)
    text = format_comparison(out, ["matching_rate", "subsidy"])
    assert "matching_rate" in text and "subsidy" in text and len(text.splitlines()) == 3


# -- Sobol sensitivity ------------------------------------------------------------------------


def sobol_results(n: int = 256, drop_point: int | None = None) -> Frames:
    """A Sobol design over the Ishigami function (its indices are known)."""
    from SALib.sample import sobol as sobol_sample
    from SALib.test_functions import Ishigami

    problem = {"num_vars": 3, "names": ["a.x1", "a.x2", "a.x3"], "bounds": [[-np.pi, np.pi]] * 3}
    x = sobol_sample.sample(problem, n, calc_second_order=False, seed=1)
    y = Ishigami.evaluate(x)
    points = np.arange(len(y))
    design = pd.DataFrame({"run_id": [f"r{p}" for p in points], "scenario": "town", "variant": "base",
                           "point": points, "replicate": 0, "seed": 1, "status": "done",
                           "a.x1": x[:, 0], "a.x2": x[:, 1], "a.x3": x[:, 2]})
    summary = pd.DataFrame({"run_id": design["run_id"], "matching_rate": y})
    if drop_point is not None:
        summary = summary[summary["run_id"] != f"r{drop_point}"]
    manifest = {"design": {"type": "sobol", "parameters": {}, "problem": problem, "calc_second_order": False,
                           "n": n}}
    return Frames(design=design, summary=summary, manifest=manifest, variants=["base"])


def test_sensitivity_orders_the_ishigami_parameters():
    si = sensitivity(sobol_results(), num_resamples=200).set_index("parameter")
    assert list(si.columns) == ["variant", "S1", "S1_conf", "ST", "ST_conf"]
    # known values: S1 = 0.31, 0.44, 0.00; ST = 0.56, 0.44, 0.24
    assert si.loc["a.x2", "S1"] > si.loc["a.x1", "S1"] > si.loc["a.x3", "S1"]
    assert abs(si.loc["a.x3", "S1"]) < 0.1
    assert si.loc["a.x1", "ST"] > si.loc["a.x2", "ST"] > si.loc["a.x3", "ST"] > 0.1


def test_sensitivity_needs_a_sobol_design_with_every_point():
    with pytest.raises(AnalysisError, match="design is 'none'"):
        sensitivity(shared_results())
    with pytest.raises(AnalysisError, match=r"1 of 1280 design points .* \(points 17\)"):
        sensitivity(sobol_results(drop_point=17))
    with pytest.raises(AnalysisError, match="metric: unknown 'nope'"):
        sensitivity(sobol_results(), metric="nope")
