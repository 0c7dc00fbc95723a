"""Text tables the command line prints, in Japanese or English, every heading and name from the glossary.

:func:`comparison_table` prints a comparison (``kyojosim compare``, ``kyojosim variants``) with the
variants by their display names and the metrics by their labels; :func:`run_summary_table` the yearly
summary of ``kyojosim run``; :func:`means_table` the mean matching rate by municipality and option
of ``kyojosim sweep`` (:func:`variant_range_table` over many municipalities); :func:`national_text` what
``kyojosim compare`` says of an experiment over municipalities of Japan. Columns are padded by their
width on a terminal (a Japanese character takes two columns), numbers by the kind of their metric
(:mod:`kyojosim.present.fmt`).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from ..analysis import national
from ..analysis.compare import COMPARISON_COLUMNS
from ..analysis.intervals import MIN_BOOTSTRAP_PAIRS, display_factor
from ..constants import PARTICIPATION_GROUPS
from ..measures.outcomes import METRICS
from . import fmt
from .labels import check_lang, metric_label, term, terms, text


def width(cell: str) -> int:
    """Return the columns a text takes on a terminal (wide and full-width characters take two)."""
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in cell)


def layout(head: Sequence[str], rows: Sequence[Sequence[str]], right: Sequence[int] = ()) -> str:
    """Lay a table out as text: one line per row, columns padded to their width, ``right`` ones right-aligned."""
    widths = [max([width(h)] + [width(row[i]) for row in rows]) for i, h in enumerate(head)]

    def line(cells: Sequence[str]) -> str:
        out = []
        for i, (c, w) in enumerate(zip(cells, widths, strict=True)):
            pad = " " * (w - width(c))
            out.append(pad + c if i in right else c + pad)
        return "  ".join(out).rstrip()

    return "\n".join([line(head), *(line(r) for r in rows)])


def comparison_table(comparison: pd.DataFrame, metrics: Sequence[str] | None = None, lang: str = "ja",
                     labels: Mapping[str, str] | None = None, places: Mapping[str, str] | None = None) -> str:
    """Format a comparison as a text table, each metric by its kind and label.

    Args:
        comparison: The frame of :func:`kyojosim.analysis.compare.compare`.
        metrics: The metrics to show (default: all in the frame, in its order).
        lang: ``"ja"`` or ``"en"``.
        labels: Display name of each variant (:func:`kyojosim.present.labels.variant_labels`).
        places: Municipality of each scenario (:func:`kyojosim.present.labels.municipality_names`).

    Returns:
        The table, one line per scenario, variant, design point (with the values of the design's
        parameters, when there are several points) and metric; the interval's method last.
    """
    check_lang(lang)
    df = comparison if metrics is None else comparison[comparison["metric"].isin(list(metrics))]
    shown, where = dict(labels or {}), dict(places or {})
    params = [c for c in df.columns if c not in COMPARISON_COLUMNS]
    points = "point" in df.columns and df["point"].notna().any() and df["point"].nunique() > 1
    level = float(df["level"].iloc[0]) if "level" in df.columns and len(df) else 0.95
    methods = terms("interval_method", lang)
    head = [text(f"cli.col_{k}", lang) for k in ("municipality", "option")]
    head += [text("cli.col_point", lang), *params] if points else []
    head += [text(f"cli.col_{k}", lang) for k in ("metric", "without", "with", "diff")]
    head += [text("cli.col_interval", lang, level=f"{100 * level:g}"), text("cli.col_pairs", lang)]
    head += [text("cli.col_method", lang)] if "method" in df.columns else []
    rows = []
    for r in df.to_dict("records"):
        m = str(r["metric"])
        row = [where.get(str(r["scenario"]), str(r["scenario"])), shown.get(str(r["variant"]), str(r["variant"]))]
        if points:
            row.append("" if fmt.undefined(r.get("point")) else str(int(r["point"])))
            row += [_value(r.get(p)) for p in params]
        row += [metric_label(m, lang), fmt.level(m, r["baseline_mean"]), fmt.level(m, r["variant_mean"]),
                fmt.change(m, r["diff"]), _bracket(fmt.change_interval(m, r["lo"], r["hi"], lang), lang),
                str(r.get("n_pairs", ""))]
        if "method" in df.columns:
            row.append(methods.get(str(r["method"]), str(r["method"])))
        rows.append(row)
    first = head.index(text("cli.col_without", lang))
    return layout(head, rows, right=range(first, first + 5))


def intervals_text(comparison: pd.DataFrame, lang: str = "ja") -> str:
    """Say in one line how the intervals of a comparison were computed (and whether points were pooled)."""
    check_lang(lang)
    if comparison.empty or "method" not in comparison.columns:
        return text("cli.no_pairs", lang) if comparison.empty else ""
    level = float(comparison["level"].iloc[0]) if "level" in comparison.columns else 0.95
    names = terms("interval_method_long", lang)
    parts = []
    for used in dict.fromkeys(comparison["method"].astype(str)):
        n = comparison.loc[comparison["method"].astype(str) == used, "n_pairs"]
        span = f"{n.min()}" if n.min() == n.max() else f"{n.min()}-{n.max()}"
        parts.append(text("cli.method_pairs", lang, method=names.get(used, used), pairs=span))
    line = text("cli.intervals", lang, level=f"{100 * level:g}", methods=text("common.item_sep", lang).join(parts),
                min=MIN_BOOTSTRAP_PAIRS)
    if "point" in comparison.columns and comparison["point"].isna().all() and "n_points" in comparison.columns:
        line += text("cli.pooled", lang, n=int(comparison["n_points"].max()))
    elif "point" in comparison.columns and comparison["point"].nunique() > 1:
        line += text("cli.per_point", lang)
    return line


def _value(x: object) -> str:
    if isinstance(x, float):
        return "" if x != x else f"{x:.4g}"
    return "" if x is None else str(x)


def _bracket(interval: str, lang: str) -> str:
    if interval == fmt.NONE:
        return ""
    return f"［{interval}］" if lang == "ja" else f"[{interval}]"


def run_summary_table(years: pd.DataFrame, needs: pd.DataFrame | None = None, scale: float = 1.0,
                      lang: str = "ja") -> str:
    """Format the yearly summary printed after a run, scaled to the whole municipality.

    Args:
        years: The ``years`` table of a run, with ``population_scaled``.
        needs: The ``needs`` table of the run; if given, a column with the matching rate of the needs
            decided (matched or lapsed) in the year that ends at each row.
        scale: The run's ``municipality.scale`` (counts are divided by it where the metric scales).
        lang: ``"ja"`` or ``"en"``.

    Returns:
        The table as text, one line per year.
    """
    check_lang(lang)

    def whole(column: str, value: float) -> str:
        return fmt.number(METRICS[column].whole_town(value, scale))

    head = [text(f"cli.col_{k}", lang) for k in ("year", "population", "65plus", "households")]
    head += [term("participation", g, lang) for g in PARTICIPATION_GROUPS]
    rate: dict[int, float] = {}
    with_rate = needs is not None and len(needs) > 0
    if with_rate:
        by_year = needs.groupby("year")[["matched", "lapsed"]].sum()
        done = by_year["matched"] + by_year["lapsed"]
        rate = (by_year["matched"] / done.where(done > 0)).to_dict()
        head.append(text("cli.col_matched", lang))
    rows = []
    for r in years.to_dict("records"):
        row = [str(int(r["year"])), fmt.number(r["population_scaled"]), fmt.pct(r["share_65plus"]),
               whole("households", r["households"])]
        row += [whole(f"part_{g}", r[f"part_{g}"]) for g in PARTICIPATION_GROUPS]
        if with_rate:  # weeks are labelled with the year they fall in; the row closes year - 1
            value = rate.get(int(r["year"]) - 1)
            row.append("" if fmt.undefined(value) else fmt.pct(value))
        rows.append(row)
    return layout(head, rows, right=range(len(head)))


def means_table(means: pd.Series, lang: str = "ja", labels: Mapping[str, str] | None = None,
                places: Mapping[str, str] | None = None) -> str:
    """Format the mean matching rate by (scenario, variant) as a table of municipality, option and rate."""
    check_lang(lang)
    shown, where = dict(labels or {}), dict(places or {})
    head = [text("cli.col_municipality", lang), text("cli.col_option", lang), text("cli.col_matched", lang)]
    rows = [[where.get(str(s), str(s)), shown.get(str(v), str(v)), fmt.pct(x)] for (s, v), x in means.items()]
    return layout(head, rows, right=(2,))


def variant_range_table(summary: pd.DataFrame, lang: str = "ja", labels: Mapping[str, str] | None = None) -> str:
    """Format the matching rate by option over many municipalities: runs, mean, lowest and highest.

    Args:
        summary: The ``summary`` table of an experiment's results.
        lang: ``"ja"`` or ``"en"``.
        labels: Display name of each variant (:func:`kyojosim.present.labels.variant_labels`).
    """
    check_lang(lang)
    shown = dict(labels or {})
    head = [text(f"cli.col_{k}", lang) for k in ("option", "runs", "mean", "min", "max")]
    rows = []
    for variant, rate in summary.groupby("variant", sort=False)["matching_rate"]:
        rows.append([shown.get(str(variant), str(variant)), fmt.number(rate.count()), fmt.pct(rate.mean()),
                     fmt.pct(rate.min()), fmt.pct(rate.max())])
    return layout(head, rows, right=range(1, 5))


def national_text(nation: pd.DataFrame, metric: str = national.DEFAULT_METRIC, lang: str = "ja",
                  labels: Mapping[str, str] | None = None, top: int = 5) -> str:
    """Say where each option changes a metric most over the municipalities of Japan: by size and by ageing.

    Args:
        nation: The frame of :func:`kyojosim.analysis.national.national_table`.
        metric: The metric (default: the matching rate of residents 75+).
        lang: ``"ja"`` or ``"en"``.
        labels: Display name of each variant (:func:`kyojosim.present.labels.variant_labels`).
        top: How many municipalities to name at each end.

    Returns:
        For each option: how many municipalities and the median effect, the slopes of
        :func:`~kyojosim.analysis.national.gradient` with their 95% intervals, the median effect by population
        and by 65+ share class (:func:`~kyojosim.analysis.national.by_class`), and the ``top`` municipalities
        where it helps most and least (:func:`~kyojosim.analysis.national.ranking`). Rates and shares in points.
    """
    check_lang(lang)
    shown = dict(labels or {})
    f = display_factor(metric)
    unit = term("unit", "points", lang) if f == 100 else ""
    unit = f" {unit}" if unit and lang == "en" else unit

    def d(x: float) -> str:
        return fmt.signed(x, 2, f)

    grad = national.gradient(nation, metric).set_index("variant")
    classes = national.by_class(nation, metric)
    ends = national.ranking(nation, metric, top)
    regions = nation.drop_duplicates("code").set_index("code")["region_en"] if "region_en" in nation else {}
    names_en = nation.drop_duplicates("code").set_index("code")["name_en"] if "name_en" in nation else {}
    sep = text("common.item_sep", lang)
    lines = []
    for variant in grad.index:
        g = grad.loc[variant]
        diffs = nation.loc[(nation["metric"] == metric) & (nation["variant"] == variant), "diff"].dropna()
        diffs = diffs.to_numpy(dtype=float)
        lines.append(text("national.summary", lang, option=shown.get(str(variant), str(variant)),
                          metric=metric_label(metric, lang), n=fmt.number(len(diffs)), median=d(np.median(diffs)),
                          unit=unit, q25=d(np.quantile(diffs, 0.25)), q75=d(np.quantile(diffs, 0.75)),
                          positive=fmt.pct((diffs > 0).mean(), 0)))
        if np.isfinite(g["per_tenfold_population"]):
            lines.append(text("national.gradient", lang, unit=unit, r2=f"{g['r2']:.2f}",
                              **{k: d(g[c]) for k, c in (("pop", "per_tenfold_population"),
                                                          ("pop_lo", "per_tenfold_population_lo"),
                                                          ("pop_hi", "per_tenfold_population_hi"),
                                                          ("age", "per_10_points_65plus"),
                                                          ("age_lo", "per_10_points_65plus_lo"),
                                                          ("age_hi", "per_10_points_65plus_hi"))}))
        for dim, key in (("population", "national.by_population"), ("share_65plus", "national.by_ageing")):
            mine = classes[(classes["variant"] == variant) & (classes["dimension"] == dim)
                           & (classes["municipalities"] > 0)]
            cells = [text("national.class_cell", lang, cls=r["class"], median=d(r["median"]), n=r["municipalities"])
                     for r in mine.to_dict("records")]
            lines.append(text(key, lang) + sep.join(cells))
        for end, key in (("top", "national.helps_most"), ("bottom", "national.helps_least")):
            mine = ends[(ends["variant"] == variant) & (ends["end"] == end)]
            cells = [text("national.place", lang,
                          name=r["name"] if lang == "ja" else names_en.get(r["code"], r["name"]),
                          where=r["prefecture"] if lang == "ja" else regions.get(r["code"], r["prefecture"]),
                          population=fmt.number(r["population"]), diff=d(r["diff"]))
                     for r in mine.to_dict("records")]
            lines.append(text(key, lang) + sep.join(cells))
    return "\n".join(lines)


__all__ = ["comparison_table", "intervals_text", "layout", "means_table", "national_text", "run_summary_table",
           "variant_range_table", "width"]
