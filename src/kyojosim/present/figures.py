"""Figures of experiment results: time series, comparison chart, つながり力 by group, population pyramid.

Every function takes an ``ExperimentResults`` (``kyojosim.load(folder)``) or an object with the
same attributes, returns a :class:`matplotlib.figure.Figure` drawn with the Agg canvas (no
pyplot, no change to the process's backend; a :class:`NotebookFigure`, which Jupyter shows inline),
and saves it as PNG when given ``path``. Labels are
Japanese (``lang="ja"``, the default; the bundled IPAex font of ``matplotlib_fontja`` renders them)
or English (``lang="en"``), all from the glossary (:mod:`kyojosim.present.labels`): variants by their
display names, scenarios by their municipality.
"""

from __future__ import annotations

import io
import os
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib_fontja  # noqa: F401  (registers a Japanese font for the labels)
import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from scipy import stats

from ..atomic import atomic_open
from ..constants import AGE_BAND_LABELS, CATEGORIES, PARTICIPATION_GROUPS
from ..errors import KyojoError
from ..measures.outcomes import METRICS
from .labels import (
    CATEGORY_LABELS,
    LANGS,
    PARTICIPATION_LABELS,
    SEX_LABELS,
    UNITS,
    check_lang,
    is_money,
    is_rate,
    metric_label,
    municipality_names,
    text,
    texts,
    variant_labels,
)

BASELINE_COLOR = "#444444"
VARIANT_COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf")
DEFAULT_STEPS_PER_YEAR = 365.25 / 7
"""Weeks in a year, for a run shorter than a year."""
GROUP_COLORS = {"none": "#7f7f7f", "offline_only": "#2ca02c", "both": "#1f77b4", "online_only": "#ff7f0e"}

TEXT = {lang: texts("figures", lang) for lang in LANGS}
"""The figures' texts by language (``texts.figures`` of the glossary)."""
TEXT_BASELINE = {lang: texts("common", lang)["no_intervention"] for lang in LANGS}
"""What the comparison chart calls the baseline when it is not named."""


# --------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------


def is_flow(metric: str) -> bool:
    """Whether a weekly metric counts or rates the week's events (``Metric.flow``: smoothed over a window)."""
    m = METRICS.get(metric)
    return m is not None and m.flow


class NotebookFigure(Figure):
    """A matplotlib Figure that Jupyter shows as an image.

    IPython learns how to show a ``Figure`` only when pyplot loads its inline backend; these figures
    are drawn without pyplot, so in a fresh kernel ``figures.timeseries(...)`` as the last line of a
    cell would print ``<Figure size ...>``. :meth:`_repr_png_` gives IPython the picture instead
    (when the inline backend is active its own formatter is used, as for any Figure).
    """

    def _repr_png_(self) -> bytes:
        buf = io.BytesIO()
        self.savefig(buf, format="png", bbox_inches="tight")
        return buf.getvalue()


def _figure(width: float, height: float) -> Figure:
    fig = NotebookFigure(figsize=(width, height), dpi=110, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def save_png(fig: Figure, path: str | os.PathLike[str], dpi: int = 150) -> Path:
    """Save a figure as PNG atomically (temporary file + rename) and return the path."""
    target = Path(path)
    with atomic_open(target, "wb") as fh:
        fig.savefig(fh, format="png", dpi=dpi)
    return target


def _finish(fig: Figure, path: str | os.PathLike[str] | None) -> Figure:
    if path is not None:
        save_png(fig, path)
    return fig


def _table(results: Any, name: str) -> pd.DataFrame:
    """Return a results table with the design columns of its runs (finished runs only)."""
    df = getattr(results, name, None)
    if df is None:
        raise KyojoError(f"the results have no {name!r} table")
    design = results.design
    if "status" in design.columns:
        design = design[design["status"] == "done"]
    cols = [c for c in ("run_id", "scenario", "variant", "point", "replicate", "intervention_start")
            if c in design.columns]
    return df.merge(design[cols], on="run_id", how="inner")


def _variants(results: Any) -> list[str]:
    names = getattr(results, "variants", None)
    return [str(v) for v in names] if names else list(dict.fromkeys(results.design["variant"].astype(str)))


def _baseline(results: Any) -> str:
    return str(getattr(results, "baseline", None) or _variants(results)[0])


def variant_colors(variants: Sequence[str], baseline: str) -> dict[str, str]:
    """Colour of each variant: dark grey for the baseline, then the tab10 colours in order."""
    out, k = {}, 0
    for v in variants:
        if v == baseline:
            out[v] = BASELINE_COLOR
        else:
            out[v] = VARIANT_COLORS[k % len(VARIANT_COLORS)]
            k += 1
    return out


def _mean_band(wide: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean over columns (replicates) and the 95% t-interval of the mean, row by row.

    ``nan`` values (undefined: a group with nobody in it) are skipped; a row with no value (or a table with
    no column at all, where every replicate's value was ``nan``) gives ``nan``, one per row.
    """
    values = wide.to_numpy(dtype=np.float64).reshape(len(wide), wide.shape[1])
    n = np.sum(~np.isnan(values), axis=1)
    mean = np.full(len(values), np.nan)
    sd = np.full(len(values), np.nan)
    with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # the mean of a row of nan only is nan
        if values.shape[1] > 0:
            mean = np.nanmean(values, axis=1)
        if values.shape[1] > 1:
            sd = np.nanstd(values, axis=1, ddof=1)
        half = stats.t.ppf(0.975, np.maximum(n - 1, 1)) * sd / np.sqrt(n)
    half = np.where(n > 1, half, np.nan)
    return mean, mean - half, mean + half


def _pick_scenario(df: pd.DataFrame, scenario: str | None) -> tuple[pd.DataFrame, str]:
    scenarios = list(dict.fromkeys(df["scenario"].astype(str)))
    if not scenarios:
        raise KyojoError("the results hold no finished run")
    if scenario is None:
        scenario = scenarios[0]
    elif scenario not in scenarios:
        raise KyojoError(f"scenario: got {scenario!r}; allowed: {', '.join(scenarios)}")
    return df[df["scenario"].astype(str) == scenario], scenario


def _starts(results: Any, scenario: str) -> dict[str, int]:
    """Year of the intervention start of each variant (variants without one are left out)."""
    d = results.design
    if "intervention_start" not in d.columns:
        return {}
    d = d[d["scenario"].astype(str) == scenario].dropna(subset=["intervention_start"])
    return {str(v): int(s) for v, s in d.groupby("variant", sort=False)["intervention_start"].min().items()}


# --------------------------------------------------------------------------------------
# time series
# --------------------------------------------------------------------------------------


def step_times(steps: pd.DataFrame) -> pd.DataFrame:
    """Calendar time of each step as a decimal year.

    Each run's steps are spread evenly between its start and the first step of its last year
    (the model's year turns when the days passed cross a multiple of 365.25), so step 0 is the
    start of the first year and the first week of every new year falls on that year.

    Args:
        steps: A table with ``run_id``, ``step`` and ``year``.

    Returns:
        ``run_id``, ``step`` and ``time``, in the order of the rows given.
    """
    df = steps[["run_id", "step", "year"]]
    g = df.groupby("run_id", sort=False)
    start = g["year"].transform("min").to_numpy(dtype=np.float64)
    last = g["year"].transform("max").to_numpy(dtype=np.float64)
    first_of_last = df.assign(_l=last).query("year == _l").groupby("run_id", sort=False)["step"].min()
    fol = df["run_id"].map(first_of_last).to_numpy(dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        per_year = np.where(last > start, fol / (last - start), DEFAULT_STEPS_PER_YEAR)
    time = start + df["step"].to_numpy(dtype=np.float64) / per_year
    return pd.DataFrame({"run_id": df["run_id"].to_numpy(), "step": df["step"].to_numpy(), "time": time})


def smoothed_steps(steps: pd.DataFrame, metric: str, window: int = 52) -> pd.DataFrame:
    """Weekly series of one metric smoothed over a trailing window, per run.

    ``matching_rate`` is recomputed as matched / (matched + lapsed) over the window (a rate of the
    needs decided in the window, not a mean of weekly rates); the other weekly flows (``needs_*``,
    ``matched_*``, ``hours_given``, ...) are averaged over it; states (population, shares, ties) are
    left as they are.
    Step 0 (the initial state, before any week) is left out.

    Args:
        steps: The ``steps`` table (``run_id``, ``step``, ``year`` and the metric).
        metric: A column of the table.
        window: Weeks in the trailing window (the first weeks use the weeks available, at least a
            quarter of the window).

    Returns:
        ``run_id``, ``step``, ``time`` (calendar year as a decimal: the week's year plus its place
        in it) and ``value``.
    """
    if metric not in steps.columns:
        allowed = [c for c in steps.columns if c not in ("run_id", "step", "year")]
        raise KyojoError(f"metric: got {metric!r}; allowed: {', '.join(map(str, allowed))}")
    df = steps[steps["step"] > 0].sort_values(["run_id", "step"])
    minp = max(1, window // 4)
    g = df.groupby("run_id", sort=False)
    if metric == "matching_rate" and {"needs_matched", "needs_lapsed"} <= set(df.columns):
        m = g["needs_matched"].transform(lambda s: s.rolling(window, min_periods=minp).sum())
        lap = g["needs_lapsed"].transform(lambda s: s.rolling(window, min_periods=minp).sum())
        done = m + lap
        value = (m / done.where(done > 0)).astype(np.float64)
    elif is_flow(metric):
        value = g[metric].transform(lambda s: s.astype(np.float64).rolling(window, min_periods=minp).mean())
    else:  # a state (population, shares, ties): drawn as it is
        value = df[metric].astype(np.float64)
    time = step_times(df)["time"].to_numpy()
    return pd.DataFrame({"run_id": df["run_id"].to_numpy(), "step": df["step"].to_numpy(),
                         "time": time, "value": value.to_numpy()})


def timeseries(results: Any, metric: str = "matching_rate", lang: str = "ja", window: int = 52,
               scenario: str | None = None, variants: Sequence[str] | None = None,
               path: str | os.PathLike[str] | None = None) -> Figure:
    """Weekly series of a metric per variant: mean over replicates with a 95% band.

    The weekly values are smoothed over a trailing window (:func:`smoothed_steps`; weekly matching
    rates are noisy), averaged over the replicates (and design points) of each variant, and drawn
    with the 95% t-interval of that mean. A dashed vertical line marks the year each variant's
    intervention starts.

    Args:
        results: Experiment results.
        metric: A column of the ``steps`` table (``matching_rate``, ``needs_matched``, ``population``, ...).
        lang: ``"ja"`` or ``"en"``.
        window: Weeks of the trailing window.
        scenario: The base scenario to draw (default: the first).
        variants: Variants to draw (default: all, baseline first).
        path: If given, save the figure there as PNG.

    Returns:
        The figure (one axes).
    """
    check_lang(lang)
    t = TEXT[lang]
    steps, scenario = _pick_scenario(_table(results, "steps"), scenario)
    sm = smoothed_steps(steps, metric, window).merge(steps[["run_id", "variant"]].drop_duplicates(), on="run_id")
    names = [v for v in (variants or _variants(results)) if v in set(sm["variant"])]
    colors = variant_colors(_variants(results), _baseline(results))
    shown = variant_labels(results, lang)
    factor = 100.0 if is_rate(metric) else 1.0
    fig = _figure(8.0, 4.6)
    ax = fig.add_subplot()
    n_rep = 0
    for v in names:
        mine = sm[sm["variant"] == v]
        wide = mine.pivot_table(index="step", columns="run_id", values="value", aggfunc="first")
        time = mine.groupby("step")["time"].mean().reindex(wide.index).to_numpy()
        mean, lo, hi = _mean_band(wide * factor)
        if is_rate(metric):  # a share cannot leave 0-100%, whatever the t-interval of few replicates says
            lo, hi = np.clip(lo, 0.0, 100.0), np.clip(hi, 0.0, 100.0)
        n_rep = max(n_rep, wide.shape[1])
        ax.plot(time, mean, color=colors.get(v), lw=1.8, label=shown.get(v, v), gid=f"mean:{v}")
        if wide.shape[1] > 1:
            ax.fill_between(time, lo, hi, color=colors.get(v), alpha=0.2 if len(names) <= 2 else 0.12, lw=0,
                            gid=f"band:{v}")
    starts = _starts(results, scenario)
    by_year: dict[int, list[str]] = {}
    for v in names:
        if v in starts:
            by_year.setdefault(starts[v], []).append(v)
    for year, vs in sorted(by_year.items()):
        color = colors.get(vs[0]) if len(vs) == 1 else BASELINE_COLOR
        ax.axvline(year, color=color, ls="--", lw=1.2, gid=f"start:{year}")
        ax.annotate(t["start"].format(v=", ".join(shown.get(v, v) for v in vs)), xy=(year, 1.0),
                    xycoords=("data", "axes fraction"),
                    xytext=(3, -3), textcoords="offset points", ha="left", va="top", fontsize=9, color=color)
    unit = f" ({UNITS[lang]['rate']})" if is_rate(metric) else ""
    ax.set_ylabel(f"{metric_label(metric, lang)}{unit}")
    ax.set_xlabel(t["year"])
    ax.xaxis.get_major_locator().set_params(integer=True)
    place = municipality_names(results, lang).get(scenario, scenario)
    ax.set_title(t["timeseries_title"].format(m=metric_label(metric, lang), place=place), fontsize=12)
    notes = [t["rolling"].format(w=window)] if is_flow(metric) else []
    notes += [t["band"].format(n=n_rep)] if n_rep > 1 else []
    note = t["sep"].join(notes)
    ax.text(0.0, -0.16, note, transform=ax.transAxes, fontsize=8, color="#555555", va="top")
    ax.grid(alpha=0.3)
    ax.legend(loc="best", fontsize=9, frameon=True)
    return _finish(fig, path)


# --------------------------------------------------------------------------------------
# comparison chart
# --------------------------------------------------------------------------------------

DEFAULT_CHART_METRICS: tuple[str, ...] = (
    "matching_rate", "matching_rate_age_75plus", *(f"matching_rate_{c}" for c in CATEGORIES),
)


def _chart_label(metric: str, lang: str) -> str:
    if metric == "matching_rate":
        return CATEGORY_LABELS[lang]["all"]
    if metric == "matching_rate_age_75plus":
        return CATEGORY_LABELS[lang]["75plus"]
    if metric.startswith("matching_rate_") and metric.removeprefix("matching_rate_") in CATEGORY_LABELS[lang]:
        return CATEGORY_LABELS[lang][metric.removeprefix("matching_rate_")]
    return metric_label(metric, lang)


def comparison_chart(comparison: pd.DataFrame, metrics: Sequence[str] | None = None, lang: str = "ja",
                     baseline: str | None = None, path: str | os.PathLike[str] | None = None,
                     labels: Mapping[str, str] | None = None, places: Mapping[str, str] | None = None) -> Figure:
    """Each variant's difference from the baseline, with its 95% interval, metric by metric.

    Args:
        comparison: The frame of :func:`kyojosim.analysis.compare.compare`.
        metrics: Metrics to show, top to bottom (default: the matching rate overall, for residents
            75+ and for the eight categories).
        lang: ``"ja"`` or ``"en"``.
        baseline: Name of the baseline, for the axis label.
        path: If given, save the figure there as PNG.
        labels: Display name of each variant (:func:`kyojosim.present.labels.variant_labels`); variants
            and the baseline are shown by these.
        places: Municipality of each scenario (:func:`kyojosim.present.labels.municipality_names`).

    Returns:
        The figure: one row per metric, one point with whiskers per variant.
    """
    check_lang(lang)
    t = TEXT[lang]
    metrics = [m for m in (metrics or DEFAULT_CHART_METRICS) if m in set(comparison["metric"])]
    if not metrics:
        raise KyojoError("comparison_chart: the comparison holds none of the metrics to show")
    df = comparison[comparison["metric"].isin(metrics)].copy()
    multi = df["scenario"].nunique() > 1
    shown = dict(labels or {})
    where = dict(places or {})
    df["who"] = ((df["scenario"].astype(str).map(lambda s: where.get(s, s)) + ": " if multi else "")
                 + df["variant"].astype(str).map(lambda v: shown.get(v, v)))
    whos = list(dict.fromkeys(df["who"]))
    colors = {w: VARIANT_COLORS[i % len(VARIANT_COLORS)] for i, w in enumerate(whos)}
    rate = all(is_rate(m) for m in metrics)
    money = all(is_money(m) for m in metrics)
    factor = 100.0 if rate else 1.0
    fig = _figure(7.5, 0.5 + 0.42 * len(metrics) * max(1, len(whos)) ** 0.5 + 0.9)
    ax = fig.add_subplot()
    step = 0.7 / max(1, len(whos))
    for i, who in enumerate(whos):
        mine = df[df["who"] == who].set_index("metric").reindex(metrics)
        y = np.arange(len(metrics)) + (i - (len(whos) - 1) / 2) * step
        d = mine["diff"].to_numpy(dtype=np.float64) * factor
        lo = mine["lo"].to_numpy(dtype=np.float64) * factor
        hi = mine["hi"].to_numpy(dtype=np.float64) * factor
        err = np.vstack([np.where(np.isnan(lo), 0, d - lo), np.where(np.isnan(hi), 0, hi - d)])
        ax.errorbar(d, y, xerr=err, fmt="o", color=colors[who], ms=5, capsize=3, lw=1.4, label=who)
    ax.axvline(0.0, color="#333333", lw=0.9)
    ax.set_yticks(np.arange(len(metrics)), [_chart_label(m, lang) for m in metrics])
    ax.invert_yaxis()
    # a line between the headline rows (overall, 75+) and the categories
    n_head = sum(m in ("matching_rate", "matching_rate_age_75plus") for m in metrics)
    if 0 < n_head < len(metrics):
        ax.axhline(n_head - 0.5, color="#bbbbbb", lw=0.8)
    unit = UNITS[lang]["points"] if rate else UNITS[lang]["yen"] if money else ""
    base = text("common.quoted", lang, label=shown.get(baseline, baseline) if baseline else TEXT_BASELINE[lang])
    ax.set_xlabel(t["diff"].format(b=base) + ((f"（{unit}）" if lang == "ja" else f" ({unit})") if unit else ""))
    ax.grid(axis="x", alpha=0.3)
    if rate:
        ax.set_title(t["comparison_title"], fontsize=12)
    ax.legend(loc="best", fontsize=9)
    return _finish(fig, path)


def sensitivity_chart(indices: pd.DataFrame, lang: str = "ja", path: str | os.PathLike[str] | None = None) -> Figure:
    """Sobol indices of each parameter: first order (S1) and total (ST), with their 95% intervals.

    Args:
        indices: The frame of :func:`kyojosim.analysis.sensitivity.sensitivity` (``metric`` column optional:
            one panel per metric).
        lang: ``"ja"`` or ``"en"``.
        path: If given, save the figure there as PNG.

    Returns:
        The figure: horizontal bars per parameter, S1 and ST side by side.
    """
    check_lang(lang)
    if indices.empty:
        raise KyojoError("sensitivity_chart: no Sobol indices to show")
    df = indices if "metric" in indices.columns else indices.assign(metric="matching_rate")
    metrics = list(dict.fromkeys(df["metric"]))
    params = list(dict.fromkeys(df["parameter"]))
    fig = _figure(4.2 * len(metrics) + 1.5, 0.9 + 0.55 * len(params))
    axes = fig.subplots(1, len(metrics), sharey=True, squeeze=False)[0]
    names = {"S1": TEXT[lang]["first_order"], "ST": TEXT[lang]["total_order"]}
    for ax, metric in zip(axes, metrics, strict=True):
        mine = df[df["metric"] == metric].groupby("parameter").mean(numeric_only=True).reindex(params)
        y = np.arange(len(params))
        for k, (col, color) in enumerate((("S1", "#1f77b4"), ("ST", "#d62728"))):
            ax.barh(y + (k - 0.5) * 0.38, mine[col], height=0.36, xerr=mine[f"{col}_conf"], color=color,
                    alpha=0.85, capsize=3, label=names[col])
        ax.axvline(0.0, color="#333333", lw=0.8)
        ax.set_title(_chart_label(metric, lang), fontsize=11)
        ax.grid(axis="x", alpha=0.3)
        ax.set_xlabel(TEXT[lang]["sobol_index"])
    axes[0].set_yticks(np.arange(len(params)), params)
    axes[0].invert_yaxis()
    axes[-1].legend(loc="lower right", fontsize=9)
    return _finish(fig, path)


# --------------------------------------------------------------------------------------
# つながり力 by participation group
# --------------------------------------------------------------------------------------


def tsunagari_by_group(results: Any, lang: str = "ja", at: str = "time", scenario: str | None = None,
                       path: str | os.PathLike[str] | None = None) -> Figure:
    """Mean つながり力 of residents 20+ by community participation group, per variant.

    Args:
        results: Experiment results.
        lang: ``"ja"`` or ``"en"``.
        at: ``"time"``: one panel per variant with the monthly means of each group over time (mean of
            replicates; the bands would hide one another); ``"end"``: bars of the last record, groups side by side per
            variant, with 95% intervals over replicates.
        scenario: The base scenario to draw (default: the first).
        path: If given, save the figure there as PNG.

    Returns:
        The figure.
    """
    check_lang(lang)
    if at not in ("time", "end"):
        raise KyojoError(f"at: got {at!r}; allowed: time, end")
    t = TEXT[lang]
    ts, scenario = _pick_scenario(_table(results, "tsunagari"), scenario)
    ts = ts[ts["group_type"] == "participation"]
    names = [v for v in _variants(results) if v in set(ts["variant"])]
    shown = variant_labels(results, lang)
    groups = list(PARTICIPATION_GROUPS)
    glabels = PARTICIPATION_LABELS[lang]
    if at == "end":
        last = ts[ts["step"] == ts.groupby("run_id")["step"].transform("max")]
        fig = _figure(7.5, 4.4)
        ax = fig.add_subplot()
        width = 0.8 / max(1, len(names))
        colors = variant_colors(_variants(results), _baseline(results))
        drawn = False
        for i, v in enumerate(names):
            wide = last[last["variant"] == v].pivot_table(index="group", columns="run_id", values="mean")
            wide = wide.reindex(groups)
            mean, lo, hi = _mean_band(wide)
            drawn = drawn or bool(np.isfinite(mean).any())
            x = np.arange(len(groups)) + (i - (len(names) - 1) / 2) * width
            err = np.vstack([np.nan_to_num(mean - lo), np.nan_to_num(hi - mean)])
            ax.bar(x, mean, width=width * 0.95, color=colors[v], label=shown.get(v, v), yerr=err, capsize=3,
                   error_kw={"lw": 1, "ecolor": "#333333"})
        ax.set_xticks(np.arange(len(groups)), [glabels[g] for g in groups])
        if not drawn:  # the village emptied: つながり力 of nobody is undefined (nan), nothing to draw
            ax.text(0.5, 0.5, t["nobody"], transform=ax.transAxes, ha="center", va="center", color="#555555")
        ax.axhline(0, color="#333333", lw=0.8)
        ax.set_xlabel(t["group"])
        ax.set_ylabel(metric_label("tsunagari_mean", lang))
        year = int(last["year"].max()) if len(last) else ""
        ax.set_title(t["tsunagari_end_title"].format(year=year), fontsize=12)
        ax.legend(fontsize=9)
        ax.grid(axis="y", alpha=0.3)
        return _finish(fig, path)
    n = max(1, len(names))
    fig = _figure(min(4.2 * n + 1.0, 14.0), 4.2)
    axes = fig.subplots(1, n, sharey=True, squeeze=False)[0]
    ts = ts.merge(step_times(_table(results, "steps")), on=["run_id", "step"], how="left")
    starts = _starts(results, scenario)
    for ax, v in zip(axes, names):
        mine = ts[ts["variant"] == v]
        for g in groups:
            sub = mine[mine["group"] == g]
            wide = sub.pivot_table(index="step", columns="run_id", values="mean")
            time = sub.groupby("step")["time"].mean().reindex(wide.index).to_numpy()
            ax.plot(time, wide.mean(axis=1).to_numpy(), color=GROUP_COLORS[g], lw=1.6, label=glabels[g])
        if v in starts:
            ax.axvline(starts[v], color="#333333", ls="--", lw=1.0)
            ax.annotate(t["start"].format(v=shown.get(v, v)), xy=(starts[v], 1.0), xycoords=("data", "axes fraction"),
                        xytext=(3, -3), textcoords="offset points", ha="left", va="top", fontsize=8)
        ax.set_title(shown.get(v, v), fontsize=11)
        ax.set_xlabel(t["year"])
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.axhline(0, color="#999999", lw=0.6)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel(metric_label("tsunagari_mean", lang))
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=len(groups), fontsize=9, title=t["group"],
               title_fontsize=9)
    fig.suptitle(t["tsunagari_title"], fontsize=12)
    return _finish(fig, path)


# --------------------------------------------------------------------------------------
# population pyramid
# --------------------------------------------------------------------------------------


def population_pyramid(results: Any, variant: str | None = None, lang: str = "ja", scenario: str | None = None,
                       path: str | os.PathLike[str] | None = None) -> Figure:
    """Draw the population pyramid of the first and the last year: men on the left, women on the right.

    The counts are scaled to the whole municipality (``count_scaled``) and averaged over the
    replicates of the variant. The last year is drawn as bars, the first as an outline.

    Args:
        results: Experiment results.
        variant: The variant (default: the baseline).
        lang: ``"ja"`` or ``"en"``.
        scenario: The base scenario (default: the first).
        path: If given, save the figure there as PNG.

    Returns:
        The figure.
    """
    check_lang(lang)
    t = TEXT[lang]
    ages, scenario = _pick_scenario(_table(results, "age_structure"), scenario)
    variant = variant or _baseline(results)
    ages = ages[ages["variant"] == variant]
    if ages.empty:
        raise KyojoError(f"variant: got {variant!r}; allowed: {', '.join(_variants(results))}")
    first, last = int(ages["year"].min()), int(ages["year"].max())
    col = "count_scaled" if "count_scaled" in ages.columns else "count"
    mean = ages.groupby(["year", "sex", "age_band"])[col].sum() / ages["run_id"].nunique()
    bands = list(AGE_BAND_LABELS)
    y = np.arange(len(bands))
    fig = _figure(7.5, 5.6)
    ax = fig.add_subplot()
    sexes = SEX_LABELS[lang]
    colors = {"male": "#4a78b5", "female": "#c8553d"}
    for sex, sign in (("male", -1.0), ("female", 1.0)):
        end = mean.get(last, pd.Series(dtype=float))
        end = end.get(sex, pd.Series(dtype=float)).reindex(bands).fillna(0).to_numpy()
        start = mean.get(first, pd.Series(dtype=float))
        start = start.get(sex, pd.Series(dtype=float)).reindex(bands).fillna(0).to_numpy()
        year_label = text("common.year_suffix", lang, year=last)
        ax.barh(y, sign * end, height=0.85, color=colors[sex], alpha=0.75, label=f"{sexes[sex]} {year_label}")
        edges = np.r_[y - 0.425, y[-1] + 0.425]
        ax.stairs(sign * start, edges, orientation="horizontal", baseline=None, color="#222222", lw=1.3,
                  label=f"{sexes[sex]} {first}" if sex == "male" else None)
    lim = ax.get_xlim()
    m = max(abs(lim[0]), abs(lim[1]))
    ax.set_xlim(-m, m)
    ticks = ax.get_xticks()
    ax.set_xticks(ticks, [f"{abs(v):,.0f}" for v in ticks])
    ax.set_xlim(-m, m)
    ax.set_yticks(y, bands)
    ax.set_ylabel(t["age"])
    ax.set_xlabel(f"← {sexes['male']}    {t['people']}    {sexes['female']} →")
    ax.axvline(0, color="#333333", lw=0.8)
    handles, labels = ax.get_legend_handles_labels()
    outline = text("common.year_suffix", lang, year=first)
    labels = [outline if lab.endswith(str(first)) else lab for lab in labels]
    ax.legend(handles, labels, loc="lower right", fontsize=9)
    ax.set_title(t["pyramid_title"].format(v=variant_labels(results, lang).get(variant, variant), a=first, b=last),
                 fontsize=11)
    return _finish(fig, path)


__all__ = [
    "DEFAULT_CHART_METRICS",
    "NotebookFigure",
    "comparison_chart",
    "population_pyramid",
    "save_png",
    "smoothed_steps",
    "step_times",
    "timeseries",
    "tsunagari_by_group",
    "variant_colors",
]
