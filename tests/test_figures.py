"""Figures of experiment results (kyojosim.present.figures)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import PolyCollection
from matplotlib.container import BarContainer, ErrorbarContainer
from matplotlib.figure import Figure

from experiment_results import PLATFORM_START, shared_results
from kyojosim.analysis.compare import compare
from kyojosim.errors import KyojoError
from kyojosim.present import figures
from kyojosim.present.labels import CATEGORY_LABELS_EN, CATEGORY_LABELS_JA, PARTICIPATION_LABELS, variant_labels

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def res():
    return shared_results()


@pytest.fixture(scope="module")
def comparison(res):
    return compare(res, n_boot=300)


def render_without_missing_glyphs(fig: Figure, path) -> None:
    """Save the figure, failing on any 'Glyph ... missing from font' warning (tofu boxes)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        figures.save_png(fig, path)
    missing = [str(w.message) for w in caught if "missing from" in str(w.message)]
    assert not missing, missing
    assert path.read_bytes()[:8] == PNG_MAGIC


def test_smoothed_matching_rate_is_the_ratio_of_window_sums():
    steps = pd.DataFrame({"run_id": "r", "step": np.arange(7), "year": [2015] * 4 + [2016] * 3,
                          "needs_matched": [0, 1, 2, 3, 4, 5, 6], "needs_lapsed": [0, 3, 2, 1, 0, 1, 2],
                          "matching_rate": 0.0})
    sm = figures.smoothed_steps(steps, "matching_rate", window=2)
    # step 0 is the initial state and left out; window 2 ending at step 3: (2 + 3) / (2 + 3 + 2 + 1)
    assert sm["step"].tolist() == [1, 2, 3, 4, 5, 6]
    assert sm["value"].iloc[2] == pytest.approx(5 / 8)
    assert sm["value"].iloc[0] == pytest.approx(1 / 4)
    # the first week of 2016 (step 4) falls on 2016.0
    assert sm["time"].iloc[3] == pytest.approx(2016.0)


def test_timeseries_has_a_line_and_band_per_variant_and_marks_the_start(res, tmp_path):
    fig = figures.timeseries(res, "matching_rate", lang="ja")
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    means = [ln for ln in ax.lines if str(ln.get_gid()).startswith("mean:")]
    assert [ln.get_label() for ln in means] == ["施策なし", "有償シェアサービス"]  # display names, not internal ones
    bands = [c for c in ax.collections if isinstance(c, PolyCollection)]
    assert len(bands) == 2
    vlines = [ln for ln in ax.lines if np.allclose(ln.get_xdata(), PLATFORM_START)]
    assert len(vlines) == 1
    assert any("有償シェアサービス" in t.get_text() and "開始" in t.get_text() for t in ax.texts)
    assert ax.get_title() == "マッチング率の推移（山江村）"  # the municipality, not the scenario's name
    assert ax.get_ylabel() == "マッチング率 (%)"
    # weekly rates are smoothed: the mean line stays in 0-100% and moves little week to week
    y = means[0].get_ydata()
    assert np.nanmax(np.abs(np.diff(y))) < 5
    render_without_missing_glyphs(fig, tmp_path / "ts.png")
    en = figures.timeseries(res, "matching_rate", lang="en", path=tmp_path / "ts_en.png")
    assert en.axes[0].get_ylabel() == "matching rate (%)"
    assert (tmp_path / "ts_en.png").read_bytes()[:8] == PNG_MAGIC


def test_comparison_chart_shows_each_variant_with_whiskers(res, comparison, tmp_path):
    fig = figures.comparison_chart(comparison, lang="ja", baseline="baseline", labels=variant_labels(res, "ja"))
    ax = fig.axes[0]
    bars = [c for c in ax.containers if isinstance(c, ErrorbarContainer)]
    assert len(bars) == 1  # one variant besides the baseline
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels[:2] == ["全体", "75歳以上"]
    assert labels[2:] == [CATEGORY_LABELS_JA[c] for c in ("chores", "mobility", "shopping", "information",
                                                           "sick_care", "family_care", "childcare", "consultation")]
    assert ax.get_xlabel() == "施策なしとの差（ポイント）"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["有償シェアサービス"]
    x, _ = bars[0].lines[0].get_data()
    diffs = comparison.set_index("metric").loc["matching_rate", "diff"]
    assert x[0] == pytest.approx(100 * diffs)
    render_without_missing_glyphs(fig, tmp_path / "cmp.png")
    en = figures.comparison_chart(comparison, lang="en")
    assert [t.get_text() for t in en.axes[0].get_yticklabels()][2] == CATEGORY_LABELS_EN["chores"]
    assert "percentage points" in en.axes[0].get_xlabel()


def test_tsunagari_by_group_over_time_and_at_the_end(res, tmp_path):
    fig = figures.tsunagari_by_group(res, lang="ja")
    assert len(fig.axes) == 2  # one panel per variant
    for ax in fig.axes:
        assert len([ln for ln in ax.lines if len(ln.get_xdata()) > 2]) == 4  # the four participation groups
    assert any(np.allclose(ln.get_xdata(), PLATFORM_START) for ln in fig.axes[1].lines)
    render_without_missing_glyphs(fig, tmp_path / "tg.png")
    end = figures.tsunagari_by_group(res, lang="en", at="end")
    bars = [c for c in end.axes[0].containers if isinstance(c, BarContainer)]
    assert len(bars) == 2 and all(len(b) == 4 for b in bars)
    assert [t.get_text() for t in end.axes[0].get_xticklabels()][1] == PARTICIPATION_LABELS["en"]["offline_only"]
    with pytest.raises(KyojoError, match="at: got 'start'"):
        figures.tsunagari_by_group(res, at="start")


def test_population_pyramid_men_left_women_right_scaled(res, tmp_path):
    fig = figures.population_pyramid(res, lang="ja")
    ax = fig.axes[0]
    bars = [c for c in ax.containers if isinstance(c, BarContainer)]
    men, women = bars
    assert all(p.get_width() <= 0 for p in men) and all(p.get_width() >= 0 for p in women)
    ages = res.age_structure.merge(res.design[["run_id", "variant"]], on="run_id")
    last = ages[(ages["variant"] == "baseline") & (ages["year"] == ages["year"].max())]
    expected = last["count_scaled"].sum() / last["run_id"].nunique()
    drawn = -sum(p.get_width() for p in men) + sum(p.get_width() for p in women)
    assert drawn == pytest.approx(expected)
    assert expected > 2000  # scaled to the whole village (3,422 in 2015), not the 30% simulated
    assert "男性" in ax.get_xlabel() and "女性" in ax.get_xlabel()
    render_without_missing_glyphs(fig, tmp_path / "pyr.png")


def test_unknown_language_or_metric_is_a_clear_error(res):
    with pytest.raises(KyojoError, match="lang: got 'fr'; allowed: ja, en"):
        figures.timeseries(res, lang="fr")
    with pytest.raises(KyojoError, match="metric: got 'speed'"):
        figures.timeseries(res, metric="speed")


def test_sensitivity_chart_draws_s1_and_st_per_parameter(tmp_path):
    indices = pd.DataFrame({
        "metric": ["matching_rate"] * 2 + ["tsunagari_mean"] * 2,
        "variant": ["baseline"] * 4,
        "parameter": ["a.b", "c.d"] * 2,
        "S1": [0.6, 0.1, 0.3, 0.2], "S1_conf": [0.1] * 4, "ST": [0.7, 0.2, 0.4, 0.5], "ST_conf": [0.05] * 4,
    })
    fig = figures.sensitivity_chart(indices, lang="en", path=tmp_path / "s.png")
    assert len(fig.axes) == 2
    bars = [p for p in fig.axes[0].patches]
    assert sorted(round(b.get_width(), 3) for b in bars) == [0.1, 0.2, 0.6, 0.7]
    assert (tmp_path / "s.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(KyojoError):
        figures.sensitivity_chart(indices.iloc[0:0])
