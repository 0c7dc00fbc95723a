"""Figures of an experiment over municipalities of Japan: where each intervention helps, by size and ageing.

:func:`effect_by_municipality` draws, for each variant, the effect on a metric (by default the
matching rate of residents 75+) in every municipality against its census 2015 population (log scale)
and its share aged 65+, one dot per municipality coloured by region (八地方区分), with the median of
the municipalities of each class (:data:`kyojosim.analysis.national.POPULATION_CLASSES` and
:data:`~kyojosim.analysis.national.AGEING_CLASSES`) as a line, and the three municipalities where it
helps most named. The data is :func:`kyojosim.analysis.national.national_table`.

The figure is a :class:`matplotlib.figure.Figure` drawn with the Agg canvas (no pyplot), saved as PNG
when given ``path``; its texts are the glossary's (section ``national``), in Japanese (``lang="ja"``) or
English (``lang="en"``), and the variants are shown by their display names.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

import matplotlib_fontja  # noqa: F401  (registers a Japanese font for the labels)
import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from ..analysis.intervals import display_factor
from ..analysis.national import AGEING_CLASSES, DEFAULT_METRIC, POPULATION_CLASSES
from ..errors import KyojoError
from ..params.japan import REGIONS
from .figures import NotebookFigure, save_png
from .labels import capitalised, check_lang, metric_label, term, texts

REGION_COLORS = ("#1f77b4", "#17becf", "#2ca02c", "#bcbd22", "#ff7f0e", "#d62728", "#9467bd", "#8c564b")
"""One colour per region of :data:`kyojosim.params.japan.REGIONS`, north to south."""

def _figure(width: float, height: float) -> Figure:
    fig = NotebookFigure(figsize=(width, height), dpi=110, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _class_medians(x: np.ndarray, y: np.ndarray, classes: tuple[tuple[float, float, str], ...],
                   scale: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Median x and median y of the points of each class that has at least 3 of them."""
    mx, my = [], []
    for lo, hi, _label in classes:
        inside = (x >= lo * scale) & (x < hi * scale)
        if inside.sum() >= 3:
            mx.append(float(np.median(x[inside])))
            my.append(float(np.median(y[inside])))
    return np.array(mx), np.array(my)


def effect_by_municipality(national: pd.DataFrame, metric: str = DEFAULT_METRIC, lang: str = "ja",
                           baseline: str = "baseline", path: str | os.PathLike[str] | None = None,
                           labels: Mapping[str, str] | None = None) -> Figure:
    """Plot each variant's effect in every municipality against its population and its share aged 65+.

    Args:
        national: The frame of :func:`kyojosim.analysis.national.national_table`.
        metric: The metric (default: the matching rate of residents 75+).
        lang: ``"ja"`` or ``"en"``.
        baseline: Display name of the baseline, for the title.
        path: If given, save the figure there as PNG.
        labels: Display name of each variant (:func:`kyojosim.present.labels.variant_labels`); a variant
            not in it is shown by its name.

    Returns:
        The figure: one row of two panels per variant (effect against population, log scale; against the
        65+ share), a dot per municipality coloured by region, the median of each class as a line, a
        horizontal line at 0 and the three municipalities where the variant helps most named.

    Raises:
        KyojoError: If the table holds no value of the metric.
    """
    check_lang(lang)
    t = texts("national", lang)
    shown = dict(labels or {})
    df = national[(national["metric"] == metric) & national["diff"].notna() & (national["population"] > 0)]
    if df.empty:
        raise KyojoError(f"effect_by_municipality: the national table holds no value of {metric!r}")
    variants = list(dict.fromkeys(df["variant"]))
    factor = display_factor(metric)
    region_col = "region" if lang == "ja" else "region_en"
    names = [r[0] if lang == "ja" else r[1] for r in REGIONS]
    colors = dict(zip(names, REGION_COLORS, strict=True))
    fig = _figure(11.0, 3.6 * len(variants) + 0.9)
    axes = fig.subplots(len(variants), 2, squeeze=False, sharey="row")
    label = metric_label(metric, lang)
    unit = term("unit", "points", lang) if factor == 100 else ""
    for i, variant in enumerate(variants):
        mine = df[df["variant"] == variant]
        y = mine["diff"].to_numpy(dtype=float) * factor
        pop = mine["population"].to_numpy(dtype=float)
        share = mine["share_65plus"].to_numpy(dtype=float) * 100.0
        dot_colors = [colors.get(r, "#7f7f7f") for r in mine[region_col]]
        for j, (x, classes, scale) in enumerate(((pop, POPULATION_CLASSES, 1.0), (share, AGEING_CLASSES, 100.0))):
            ax = axes[i][j]
            ax.scatter(x, y, s=9, c=dot_colors, alpha=0.65, linewidths=0)
            mx, my = _class_medians(x, y, classes, scale)
            if mx.size:
                ax.plot(mx, my, "-o", color="#222222", lw=1.6, ms=4, zorder=3)
            ax.axhline(0.0, color="#333333", lw=0.8)
            ax.grid(alpha=0.3)
            if j == 0:
                ax.set_xscale("log")
                name = capitalised(shown.get(str(variant), str(variant)), lang)
                ax.set_ylabel(f"{name}\n{unit}" if unit else name, fontsize=10)
                best = np.argsort(-y, kind="stable")[:3]
                names_col = mine["name"] if lang == "ja" else mine["name_en"]
                for k in best:
                    ax.annotate(str(names_col.iloc[k]), (x[k], y[k]), fontsize=7, xytext=(3, 3),
                                textcoords="offset points")
            if i == len(variants) - 1:
                ax.set_xlabel(t["population"] if j == 0 else t["ageing"], fontsize=9)
        axes[i][1].text(0.99, 0.02, t["n"].format(n=f"{len(mine):,}"), transform=axes[i][1].transAxes, ha="right",
                        va="bottom", fontsize=8, color="#555555")
    present = [n for n in names if n in set(df[region_col])]
    handles = [axes[0][0].scatter([], [], s=25, color=colors[n], label=n) for n in present]
    fig.legend(handles=handles, loc="outside lower center", ncol=min(len(present), 8), fontsize=8, frameon=False)
    fig.suptitle(t["title"].format(m=label, b=baseline), fontsize=11)
    if path is not None:
        save_png(fig, path)
    return fig


__all__ = ["REGION_COLORS", "effect_by_municipality"]
