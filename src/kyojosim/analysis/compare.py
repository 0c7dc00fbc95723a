"""Paired comparisons of the variants of an experiment, with intervals.

The functions read an experiment's results (``kyojosim.load(folder)``, an ``ExperimentResults``),
or any object with the same attributes: ``design``, ``summary``, ``manifest``, ``variants`` and
``baseline``.

:func:`compare` measures what an intervention changes. The runs of a variant and of the baseline
that share a scenario, a design point and a replicate use the same seed (common random numbers),
so the difference is taken run pair by run pair and then averaged, **for each design point on its
own**: an experiment that varies a parameter gives one row per point, with the point's parameter
values as columns, because the effect may depend on them. ``pool=True`` averages the pairs of all
points instead, on purpose (the rows then say how many points they pool). The interval of each
mean difference fits the number of pairs (:mod:`kyojosim.analysis.intervals`: a paired t-interval
for few pairs, the BCa bootstrap from :data:`~kyojosim.analysis.intervals.MIN_BOOTSTRAP_PAIRS`
pairs) and its method is named in the ``method`` column.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..errors import KyojoError
from ..measures.outcomes import METRICS, compared_metrics
from .intervals import METHOD_TEXT, MIN_BOOTSTRAP_PAIRS, check_method, mean_interval

COMPARISON_COLUMNS: tuple[str, ...] = (
    "scenario", "point", "variant", "metric", "baseline_mean", "variant_mean", "diff", "lo", "hi", "n_pairs",
    "method", "level", "n_points",
)
"""Columns of :func:`compare` (the design's parameter columns come after ``point``)."""
BOOTSTRAP_BLOCK = 4_000_000
"""Resampled pair indices held at once by :func:`bootstrap_mean_ci` (replicates are drawn in blocks)."""
PAIR_KEYS: tuple[str, ...] = ("scenario", "point", "replicate")
"""A variant's run and the baseline's run are paired when they share these design values."""


class AnalysisError(KyojoError):
    """Experiment results cannot be analysed as asked (unknown metric or variant, wrong design, missing runs)."""


def design_parameters(results: Any) -> list[str]:
    """Return the dotted keys of the design parameters that are columns of the design table."""
    names = getattr(results, "parameters", None)
    if names is None:
        names = list(((getattr(results, "manifest", None) or {}).get("design") or {}).get("parameters") or {})
    return [p for p in names if p in results.design.columns]


def done_summary(results: Any) -> pd.DataFrame:
    """Return the summary rows of finished runs merged with their design keys (and design parameters)."""
    design = results.design
    if "status" in design.columns:
        design = design[design["status"] == "done"]
    cols = ["run_id", "scenario", "variant", "point", "replicate"]
    missing = [c for c in cols if c not in design.columns]
    if missing:
        raise AnalysisError(f"the design table has no column(s) {', '.join(missing)}")
    extra = [p for p in design_parameters(results) if p not in results.summary.columns]
    return results.summary.merge(design[cols + extra], on="run_id", how="inner")


def bootstrap_mean_ci(diffs: np.ndarray, n_boot: int, rng: np.random.Generator,
                      level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Percentile bootstrap interval of the mean of each column of ``diffs``, vectorised.

    Every bootstrap replicate resamples the rows (pairs) with replacement, once for all columns; a
    ``nan`` in a column drops that pair from that column's mean only. The replicates are drawn in
    blocks of about :data:`BOOTSTRAP_BLOCK` indices, each block as one ``rng.integers`` call.

    Args:
        diffs: Paired differences, shape ``(n_pairs, n_metrics)``.
        n_boot: Number of bootstrap replicates.
        rng: The generator to draw the resamples from.
        level: Coverage of the interval.

    Returns:
        The lower and upper bounds, one per column (``nan`` for a column with fewer than two pairs).
    """
    n, m = diffs.shape
    lo = np.full(m, np.nan)
    hi = np.full(m, np.nan)
    if n == 0:
        return lo, hi
    valid = ~np.isnan(diffs)
    filled = np.where(valid, diffs, 0.0)
    present = valid.astype(np.float64)
    means = np.empty((n_boot, m))
    rows = max(1, BOOTSTRAP_BLOCK // n)  # replicates per block, to bound the memory of many pairs
    for start in range(0, n_boot, rows):
        b = min(rows, n_boot - start)
        idx = rng.integers(0, n, size=(b, n))
        # weights[r, i] = how often pair i is drawn in replicate r
        weights = np.bincount((np.arange(b)[:, None] * n + idx).ravel(), minlength=b * n)
        weights = weights.reshape(b, n).astype(np.float64)
        with np.errstate(invalid="ignore", divide="ignore"):
            means[start:start + b] = (weights @ filled) / (weights @ present)
    alpha = (1.0 - level) / 2.0
    enough = valid.sum(axis=0) >= 2
    if enough.any():
        q = np.nanquantile(means[:, enough], [alpha, 1.0 - alpha], axis=0)
        lo[enough], hi[enough] = q[0], q[1]
    return lo, hi


def compare(results: Any, baseline: str | None = None, metrics: Sequence[str] | None = None,
            n_boot: int = 2000, seed: int = 0, *, pool: bool = False, method: str = "auto",
            level: float = 0.95) -> pd.DataFrame:
    """Paired differences of every variant from the baseline, per design point, with intervals.

    Runs are paired within (scenario, design point, replicate); the difference of a metric is the
    mean over pairs of (variant − baseline). Pairs where either run has no value of a metric (a
    matching rate with no need decided) are left out of that metric.

    Args:
        results: An ``ExperimentResults`` (or an object with its ``design``, ``summary``,
            ``variants`` and ``baseline``).
        baseline: The variant to compare against (default ``results.baseline``).
        metrics: Summary columns to compare (default: the metrics of :data:`kyojosim.measures.outcomes.METRICS`
            marked ``compared``, those present).
        n_boot: Bootstrap resamples (for the bootstrap methods).
        seed: Seed of the bootstrap (``np.random.default_rng(seed)``; the rows draw from it in their order).
        pool: Average the pairs of all design points of a scenario into one row (the ``point`` and
            parameter columns are then empty and ``n_points`` counts the points pooled). Without it
            (the default) every design point has its own rows.
        method: The interval: ``"auto"`` (a paired t-interval below
            :data:`~kyojosim.analysis.intervals.MIN_BOOTSTRAP_PAIRS` pairs, else the BCa bootstrap),
            ``"t"``, ``"bca"`` or ``"percentile"``.
        level: Coverage of the intervals.

    Returns:
        One row per scenario, variant (baseline excluded), design point and metric: ``scenario``,
        ``point``, one column per design parameter (its value at the point), ``variant``,
        ``metric``, ``baseline_mean`` and ``variant_mean`` (over the pairs used), ``diff``, ``lo``,
        ``hi`` (the interval of the mean difference; ``nan`` with fewer than two pairs),
        ``n_pairs``, ``method`` (``t``, ``bca``, ``percentile`` or ``none``), ``level`` and
        ``n_points`` (1, or the points pooled).

    Raises:
        AnalysisError: For an unknown baseline, metric or interval method, or ``n_boot`` < 1.
    """
    if int(n_boot) < 1:
        raise AnalysisError(f"n_boot: got {n_boot!r}; allowed: 1 or more bootstrap replicates")
    try:
        check_method(method, level)
    except KyojoError as exc:
        raise AnalysisError(str(exc)) from None
    summary = done_summary(results)
    params = design_parameters(results)
    variants = [str(v) for v in getattr(results, "variants", None) or dict.fromkeys(results.design["variant"])]
    baseline = baseline or getattr(results, "baseline", None) or variants[0]
    if baseline not in variants:
        raise AnalysisError(f"baseline: got {baseline!r}; allowed: one of the variants {', '.join(variants)}")
    if metrics is None:
        metrics = [m for m in compared_metrics() if m in summary.columns]
    else:
        metrics = list(metrics)
        unknown = [m for m in metrics if m not in results.summary.columns or m in ("run_id",)]
        if unknown:
            allowed = [c for c in results.summary.columns if c != "run_id"]
            raise AnalysisError(f"metrics: unknown {', '.join(map(repr, unknown))}; allowed: {', '.join(allowed)}")
    point_values = (summary.drop_duplicates(["scenario", "point"]).set_index(["scenario", "point"])[params]
                    if params else None)
    rng = np.random.default_rng(seed)
    keys = list(PAIR_KEYS)
    rows: list[dict[str, Any]] = []
    for scenario in dict.fromkeys(summary["scenario"]):
        here = summary[summary["scenario"] == scenario]
        base = here[here["variant"] == baseline].drop_duplicates(keys).set_index(keys)[metrics]
        for variant in variants:
            if variant == baseline:
                continue
            mine = here[here["variant"] == variant].drop_duplicates(keys).set_index(keys)[metrics]
            if mine.empty:
                continue
            joined = mine.add_suffix("_v").join(base.add_suffix("_b"), how="inner").sort_index()
            points = joined.index.get_level_values("point")
            parts = ([(None, joined)] if pool else
                     [(int(p), joined[points == p]) for p in dict.fromkeys(points)])
            for point, part in parts:
                v = part[[f"{m}_v" for m in metrics]].to_numpy(dtype=np.float64)
                b = part[[f"{m}_b" for m in metrics]].to_numpy(dtype=np.float64)
                d = v - b
                n_points = int(part.index.get_level_values("point").nunique())
                at: dict[str, Any] = {p: np.nan for p in params}
                if point is not None and point_values is not None:
                    at = point_values.loc[(scenario, point)].to_dict()
                for j, metric in enumerate(metrics):
                    ok = ~np.isnan(d[:, j])
                    n = int(ok.sum())
                    lo, hi, used = mean_interval(d[ok, j], method, level, int(n_boot), rng)
                    v_mean = float(v[ok, j].mean()) if n else float("nan")
                    b_mean = float(b[ok, j].mean()) if n else float("nan")
                    rows.append({"scenario": scenario, "point": point, **at, "variant": variant, "metric": metric,
                                 "baseline_mean": b_mean, "variant_mean": v_mean, "diff": v_mean - b_mean,
                                 "lo": lo, "hi": hi, "n_pairs": n, "method": used, "level": float(level),
                                 "n_points": n_points})
    columns = [*COMPARISON_COLUMNS[:2], *params, *COMPARISON_COLUMNS[2:]]
    out = pd.DataFrame(rows, columns=columns)
    return out.astype({"point": "Int64", "n_pairs": "int64", "n_points": "int64", "method": "str"})


def describe_intervals(comparison: pd.DataFrame) -> str:
    """Say in one line how the intervals of a comparison were computed (and whether points were pooled).

    Example: ``"95% intervals: paired t-interval (3 pairs); one row per design point"``.
    """
    if comparison.empty:
        return "no pairs to compare"
    level = float(comparison["level"].iloc[0]) if "level" in comparison.columns else 0.95
    parts = []
    for used in dict.fromkeys(comparison["method"]):
        n = comparison.loc[comparison["method"] == used, "n_pairs"]
        span = f"{n.min()} pairs" if n.min() == n.max() else f"{n.min()}-{n.max()} pairs"
        parts.append(f"{METHOD_TEXT.get(used, used)} ({span})")
    text = f"{100 * level:g}% intervals: " + ", ".join(parts)
    text += f" (the BCa bootstrap from {MIN_BOOTSTRAP_PAIRS} pairs on)"
    if comparison["point"].isna().all():
        pooled = int(comparison["n_points"].max())
        text += f"; POOLED over {pooled} design point{'s' if pooled != 1 else ''} (the average effect)"
    elif comparison["point"].nunique() > 1:
        text += "; one row per design point"
    return text


def _formats(metric: str):
    kind = METRICS[metric].kind if metric in METRICS else "index"
    if kind in ("rate", "share"):
        return (lambda x: "" if x != x else f"{100 * x:.1f}%"), (lambda x: "" if x != x else f"{100 * x:+.1f}")
    if kind in ("money", "count"):
        return (lambda x: "" if x != x else f"{x:,.0f}"), (lambda x: "" if x != x else f"{x:+,.0f}")
    return (lambda x: "" if x != x else f"{x:.1f}"), (lambda x: "" if x != x else f"{x:+.1f}")


def _value_text(x: Any) -> str:
    if isinstance(x, float):
        return "" if x != x else f"{x:.4g}"
    return str(x)


def format_comparison(comparison: pd.DataFrame, metrics: Sequence[str] | None = None) -> str:
    """Format a comparison as a text table, each metric by its kind (:data:`kyojosim.measures.outcomes.METRICS`).

    Rates and shares in percent with changes in points, money in yen and counts as whole numbers
    with thousands separators, indices (and metrics not registered) to one decimal. When the
    comparison has several design points, the point and its parameter values lead each row; the
    interval's method is the last column.

    Args:
        comparison: The frame of :func:`compare`.
        metrics: The metrics to show (default: all in the frame, in its order).

    Returns:
        The table, one line per scenario, variant, design point and metric.
    """
    df = comparison if metrics is None else comparison[comparison["metric"].isin(list(metrics))]
    params = [c for c in df.columns if c not in COMPARISON_COLUMNS]
    per_point = "point" in df.columns and df["point"].notna().any() and df["point"].nunique() > 1
    level = float(df["level"].iloc[0]) if "level" in df.columns and len(df) else 0.95
    rows = []
    for r in df.to_dict("records"):
        m = str(r["metric"])
        level_text, change = _formats(m)
        ci = "" if r["lo"] != r["lo"] else f"[{change(r['lo'])}, {change(r['hi'])}]"
        lead = [str(r["scenario"]), str(r["variant"])]
        if per_point:
            lead += [str(r["point"]), *(_value_text(r[p]) for p in params)]
        rows.append([*lead, m, level_text(r["baseline_mean"]), level_text(r["variant_mean"]), change(r["diff"]), ci,
                     str(r["n_pairs"]), str(r.get("method", ""))])
    head = ["scenario", "variant", *(["point", *params] if per_point else []), "metric", "baseline_mean",
            "variant_mean", "diff", f"{100 * level:g}% interval", "pairs", "method"]
    widths = [max(len(h), *(len(row[i]) for row in rows)) if rows else len(h) for i, h in enumerate(head)]
    first_num = head.index("baseline_mean")
    right = set(range(first_num, first_num + 5)) | ({2} if per_point else set())
    fmt = lambda cells: "  ".join(c.rjust(w) if i in right else c.ljust(w)
                                  for i, (c, w) in enumerate(zip(cells, widths))).rstrip()
    return "\n".join([fmt(head), *(fmt(row) for row in rows)])


__all__ = ["COMPARISON_COLUMNS", "AnalysisError", "bootstrap_mean_ci", "compare", "describe_intervals",
           "design_parameters", "done_summary", "format_comparison"]
