"""Figures of effects per design point and of the robustness of a comparison.

* :func:`effect_by_parameter`: the effect of each variant against each parameter an experiment
  varies, with its interval (one panel per metric and parameter).
* :func:`effect_spread`: the effect of each variant over the samples of the assumptions: every
  sample as a dot, the median and the 5-95% range, the threshold.
* :func:`dependence_chart`: the assumptions each effect depends on most (RBD-FAST or Sobol index).

Every function returns a :class:`matplotlib.figure.Figure` drawn with the Agg canvas and saves it as
PNG when given ``path``; labels are Japanese (``lang="ja"``) or English (``lang="en"``).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import matplotlib_fontja  # noqa: F401  (registers a Japanese font for the labels)
import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from ..analysis.compare import COMPARISON_COLUMNS
from ..analysis.intervals import display_factor
from ..atomic import atomic_open
from ..errors import KyojoError
from ..measures.outcomes import headline_metrics
from .labels import LANGS, check_lang, metric_label, texts

COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf")

TEXT = {lang: texts("robustness_figures", lang) for lang in LANGS}
"""The figures' texts by language (``texts.robustness_figures`` of the glossary)."""
METHOD_LABELS = {"rbd_fast": "RBD-FAST S1", "sobol": "Sobol ST"}


def _figure(width: float, height: float) -> Figure:
    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _finish(fig: Figure, path: str | os.PathLike[str] | None) -> Figure:
    if path is not None:
        with atomic_open(path, "wb") as fh:
            fig.savefig(fh, format="png", dpi=130)
    return fig


def _axis_label(metric: str, lang: str) -> str:
    t = TEXT[lang]
    unit = t["points"] if display_factor(metric) == 100 else ""
    return f"{metric_label(metric, lang)}\n{t['effect']}" + (f"（{unit}）" if lang == "ja" and unit else
                                                               f" ({unit})" if unit else "")


def effect_by_parameter(comparison: pd.DataFrame, metrics: Sequence[str] | None = None, lang: str = "ja",
                        path: str | os.PathLike[str] | None = None) -> Figure:
    """Plot each variant's effect against each varied parameter, with its interval.

    Args:
        comparison: A per-point frame of :func:`kyojosim.analysis.compare.compare` (``pool=False``) of an
            experiment with a design.
        metrics: The metrics, one row of panels each (default: the headline metrics present).
        lang: ``"ja"`` or ``"en"``.
        path: If given, save the figure there as PNG.

    Returns:
        The figure: one panel per metric (rows) and parameter (columns); x the parameter's value at
        each design point, y the effect with its interval, one colour per variant (lines join the
        points when only this parameter varies).

    Raises:
        KyojoError: If the comparison has no design parameter or none of the metrics.
    """
    check_lang(lang)
    t = TEXT[lang]
    params = [c for c in comparison.columns if c not in COMPARISON_COLUMNS]
    if not params or comparison["point"].isna().all():
        raise KyojoError("effect_by_parameter: the comparison has no design parameter (an experiment with a design, "
                         "compared per point)")
    metrics = [m for m in (metrics or headline_metrics()) if m in set(comparison["metric"])]
    if not metrics:
        raise KyojoError("effect_by_parameter: the comparison holds none of the metrics to show")
    variants = list(dict.fromkeys(comparison["variant"]))
    scenarios = list(dict.fromkeys(comparison["scenario"]))
    fig = _figure(3.6 * len(params) + 0.8, 2.6 * len(metrics) + 0.6)
    axes = fig.subplots(len(metrics), len(params), squeeze=False)
    level = float(comparison["level"].iloc[0]) * 100 if "level" in comparison.columns else 95
    for i, metric in enumerate(metrics):
        f = display_factor(metric)
        for j, p in enumerate(params):
            ax = axes[i][j]
            others = [q for q in params if q != p]
            k = 0
            for scenario in scenarios:
                for v in variants:
                    mine = comparison[(comparison["metric"] == metric) & (comparison["variant"] == v)
                                      & (comparison["scenario"] == scenario)]
                    if mine.empty:
                        continue
                    mine = mine.sort_values(p)
                    x = pd.to_numeric(mine[p], errors="coerce").to_numpy(dtype=np.float64)
                    d = mine["diff"].to_numpy(dtype=np.float64) * f
                    lo = mine["lo"].to_numpy(dtype=np.float64) * f
                    hi = mine["hi"].to_numpy(dtype=np.float64) * f
                    err = np.vstack([np.where(np.isnan(lo), 0, d - lo), np.where(np.isnan(hi), 0, hi - d)])
                    joined = not others or mine[others].nunique().max() <= 1
                    label = f"{scenario}: {v}" if len(scenarios) > 1 else v
                    ax.errorbar(x, d, yerr=err, fmt="o-" if joined else "o", color=COLORS[k % len(COLORS)], ms=4,
                                capsize=3, lw=1.2, label=label if (i, j) == (0, 0) else None)
                    k += 1
            ax.axhline(0.0, color="#333333", lw=0.8)
            ax.grid(alpha=0.3)
            if i == len(metrics) - 1:
                ax.set_xlabel(p, fontsize=9)
            if j == 0:
                ax.set_ylabel(_axis_label(metric, lang), fontsize=9)
    fig.suptitle(t["by_param_title"].format(level=f"{level:g}"), fontsize=12)
    if len(variants) * len(scenarios) > 0:
        axes[0][0].legend(fontsize=8, loc="best")
    return _finish(fig, path)


def effect_spread(effects: pd.DataFrame, spread: pd.DataFrame, metrics: Sequence[str] | None = None,
                  lang: str = "ja", path: str | os.PathLike[str] | None = None) -> Figure:
    """Plot each variant's effect over the samples of the assumptions, with the median, 5-95% and the threshold.

    Args:
        effects: :attr:`kyojosim.analysis.robustness.RobustnessResult.effects`.
        spread: :attr:`kyojosim.analysis.robustness.RobustnessResult.spread`.
        metrics: One panel each (default: those of ``spread``, in order).
        lang: ``"ja"`` or ``"en"``.
        path: If given, save the figure there as PNG.

    Returns:
        The figure.
    """
    check_lang(lang)
    t = TEXT[lang]
    metrics = [m for m in (metrics or list(dict.fromkeys(spread["metric"]))) if m in set(spread["metric"])]
    if not metrics:
        raise KyojoError("effect_spread: the robustness result holds none of the metrics to show")
    whos = list(dict.fromkeys(zip(spread["scenario"], spread["variant"], strict=True)))
    multi = len({s for s, _ in whos}) > 1
    fig = _figure(6.5 * min(len(metrics), 3) / 1.5 + 1.5, 0.6 + 0.45 * len(whos) + 0.9
                  if len(metrics) == 1 else 2.6 + 0.35 * len(whos))
    axes = fig.subplots(1, len(metrics), squeeze=False)[0]
    rng = np.random.default_rng(0)  # jitter of the dots only, drawn here so that the figure is reproducible
    for ax, metric in zip(axes, metrics, strict=True):
        f = display_factor(metric)
        for i, (scenario, v) in enumerate(whos):
            e = effects[(effects["scenario"] == scenario) & (effects["variant"] == v) & (effects["metric"] == metric)]
            y = e["effect"].to_numpy(dtype=np.float64) * f
            ax.scatter(y, i + rng.uniform(-0.18, 0.18, y.size), s=9, color=COLORS[i % len(COLORS)], alpha=0.45, lw=0)
            s = spread[(spread["scenario"] == scenario) & (spread["variant"] == v) & (spread["metric"] == metric)]
            if len(s):
                s = s.iloc[0]
                ax.plot([s["p05"] * f, s["p95"] * f], [i, i], color=COLORS[i % len(COLORS)], lw=4, alpha=0.8)
                ax.plot([s["median"] * f], [i], "o", color="white", mec=COLORS[i % len(COLORS)], ms=7, mew=2)
        thr = spread.loc[spread["metric"] == metric, "threshold"]
        if len(thr):
            ax.axvline(float(thr.iloc[0]) * f, color="#d62728", ls="--", lw=1, label=t["threshold"])
        ax.axvline(0.0, color="#333333", lw=0.8)
        ax.set_yticks(range(len(whos)), [f"{s}: {v}" if multi else v for s, v in whos])
        ax.invert_yaxis()
        ax.set_xlabel(_axis_label(metric, lang).replace("\n", " "), fontsize=9)
        ax.grid(axis="x", alpha=0.3)
    n = int(effects["point"].nunique()) if len(effects) else 0
    fig.suptitle(t["spread_title"].format(n=n), fontsize=11)
    axes[0].legend(fontsize=8, loc="best")
    return _finish(fig, path)


def dependence_chart(dependence: pd.DataFrame, metric: str, top: int = 8, lang: str = "ja",
                     path: str | os.PathLike[str] | None = None) -> Figure:
    """Plot the assumptions one metric's effect depends on most, one panel per variant.

    Args:
        dependence: :attr:`kyojosim.analysis.robustness.RobustnessResult.dependence`.
        metric: The metric.
        top: Assumptions shown per variant.
        lang: ``"ja"`` or ``"en"``.
        path: If given, save the figure there as PNG.

    Returns:
        The figure: horizontal bars of the index with its 95% interval, the sign of Spearman's rho
        as the colour (blue: the effect grows with the assumption; red: it shrinks).
    """
    check_lang(lang)
    t = TEXT[lang]
    dep = dependence[dependence["metric"] == metric]
    if dep.empty:
        raise KyojoError(f"dependence_chart: no dependence rows for {metric!r}")
    whos = list(dict.fromkeys(zip(dep["scenario"], dep["variant"], strict=True)))
    fig = _figure(4.2 * len(whos) + 1.5, 0.9 + 0.32 * top)
    axes = fig.subplots(1, len(whos), squeeze=False)[0]
    for ax, (scenario, v) in zip(axes, whos, strict=True):
        mine = dep[(dep["scenario"] == scenario) & (dep["variant"] == v)].sort_values("rank").head(top)
        y = np.arange(len(mine))
        colors = ["#1f77b4" if r >= 0 else "#d62728" if r < 0 else "#999999" for r in mine["rho"].fillna(0)]
        ax.barh(y, mine["index"].fillna(0), xerr=mine["conf"].fillna(0), color=colors, alpha=0.8, capsize=2)
        ax.set_yticks(y, list(mine["parameter"]), fontsize=8)
        ax.invert_yaxis()
        ax.set_title(v if len({s for s, _ in whos}) == 1 else f"{scenario}: {v}", fontsize=10)
        ax.set_xlabel(t["index"], fontsize=9)
        ax.grid(axis="x", alpha=0.3)
    method = METHOD_LABELS.get(str(dep["method"].iloc[0]), str(dep["method"].iloc[0]))
    fig.suptitle(f"{metric_label(metric, lang)}: " + t["dependence_title"].format(k=top, method=method), fontsize=11)
    return _finish(fig, path)


def robustness_figures(result: Any, folder: str | os.PathLike[str], lang: str = "ja") -> list[str]:
    """Write the figures of a robustness result into ``folder``; return the file names.

    ``effect_spread.png`` and one ``dependence_<metric>.png`` per metric.
    """
    from pathlib import Path

    folder = Path(folder)
    names = []
    effect_spread(result.effects, result.spread, lang=lang, path=folder / "effect_spread.png")
    names.append("effect_spread.png")
    if len(result.dependence):
        for metric in dict.fromkeys(result.dependence["metric"]):
            dependence_chart(result.dependence, metric, lang=lang, path=folder / f"dependence_{metric}.png")
            names.append(f"dependence_{metric}.png")
    return names


__all__ = ["dependence_chart", "effect_by_parameter", "effect_spread", "robustness_figures"]
