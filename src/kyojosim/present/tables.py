"""Text tables the command line prints, in Japanese or English, every heading and name from the glossary.

:func:`comparison_table` prints a comparison (``kyojosim compare``, ``kyojosim variants``) with the
variants by their display names and the metrics by their labels; :func:`run_summary_table` the yearly
summary of ``kyojosim run``; :func:`means_table` the mean matching rate by municipality and option
of ``kyojosim sweep``. Columns are padded by their width on a terminal (a Japanese character takes
two columns), numbers by the kind of their metric (:mod:`kyojosim.present.fmt`).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence

import pandas as pd

from ..analysis.compare import COMPARISON_COLUMNS
from ..analysis.intervals import MIN_BOOTSTRAP_PAIRS
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


__all__ = ["comparison_table", "intervals_text", "layout", "means_table", "run_summary_table", "width"]
