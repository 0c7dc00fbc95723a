"""Paired comparisons of the variants of an experiment, with intervals.

The functions read an experiment's results (``kyojosim.load(folder)``, an ``ExperimentResults``),
or any object with the same attributes: ``design``, ``summary``, ``manifest``, ``variants`` and
``baseline``.

:func:`compare` measures what an intervention changes. The runs of a variant and of the baseline
that share a scenario, a design point and a replicate use the same seed (common random numbers),
so the difference is taken run pair by run pair and then averaged; its 95% interval is a paired
bootstrap: the pairs are resampled with replacement ``n_boot`` times and the 2.5% and 97.5%
percentiles of the resampled mean differences are reported.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..errors import KyojoError
from ..measures.outcomes import METRICS, compared_metrics

COMPARISON_COLUMNS: tuple[str, ...] = (
    "scenario", "variant", "metric", "baseline_mean", "variant_mean", "diff", "lo", "hi", "n_pairs",
)
BOOTSTRAP_BLOCK = 4_000_000
"""Resampled pair indices held at once by :func:`bootstrap_mean_ci` (replicates are drawn in blocks)."""
PAIR_KEYS: tuple[str, ...] = ("scenario", "point", "replicate")
"""A variant's run and the baseline's run are paired when they share these design values."""


class AnalysisError(KyojoError):
    """Experiment results cannot be analysed as asked (unknown metric or variant, wrong design, missing runs)."""


def done_summary(results: Any) -> pd.DataFrame:
    """Return the summary rows of finished runs merged with their design keys."""
    design = results.design
    if "status" in design.columns:
        design = design[design["status"] == "done"]
    cols = ["run_id", "scenario", "variant", "point", "replicate"]
    missing = [c for c in cols if c not in design.columns]
    if missing:
        raise AnalysisError(f"the design table has no column(s) {', '.join(missing)}")
    return results.summary.merge(design[cols], on="run_id", how="inner")


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
            n_boot: int = 2000, seed: int = 0) -> pd.DataFrame:
    """Paired differences of every variant from the baseline, with 95% bootstrap intervals.

    Runs are paired within (scenario, design point, replicate); the difference of a metric is the
    mean over pairs of (variant − baseline). Pairs where either run has no value of a metric (a
    matching rate with no need decided) are left out of that metric.

    Args:
        results: An ``ExperimentResults`` (or an object with its ``design``, ``summary``,
            ``variants`` and ``baseline``).
        baseline: The variant to compare against (default ``results.baseline``).
        metrics: Summary columns to compare (default: the metrics of :data:`kyojosim.measures.outcomes.METRICS`
            marked ``compared``, those present).
        n_boot: Bootstrap replicates.
        seed: Seed of the bootstrap (``np.random.default_rng(seed)``; the comparisons draw from
            it in the order scenario, variant).

    Returns:
        One row per scenario, variant (baseline excluded) and metric: ``scenario``, ``variant``,
        ``metric``, ``baseline_mean`` and ``variant_mean`` (over the pairs used), ``diff``,
        ``lo``, ``hi`` (95% percentile interval of the mean difference; ``nan`` with fewer than
        two pairs) and ``n_pairs``.

    Raises:
        AnalysisError: For an unknown baseline or metric, or ``n_boot`` < 1.
    """
    if int(n_boot) < 1:
        raise AnalysisError(f"n_boot: got {n_boot!r}; allowed: 1 or more bootstrap replicates")
    summary = done_summary(results)
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
            joined = mine.add_suffix("_v").join(base.add_suffix("_b"), how="inner")
            v = joined[[f"{m}_v" for m in metrics]].to_numpy(dtype=np.float64)
            b = joined[[f"{m}_b" for m in metrics]].to_numpy(dtype=np.float64)
            d = v - b
            valid = ~np.isnan(d)
            lo, hi = bootstrap_mean_ci(d, int(n_boot), rng)
            n_pairs = valid.sum(axis=0)
            with np.errstate(invalid="ignore", divide="ignore"):
                v_mean = np.where(valid, v, 0.0).sum(axis=0) / n_pairs
                b_mean = np.where(valid, b, 0.0).sum(axis=0) / n_pairs
            for j, metric in enumerate(metrics):
                rows.append({"scenario": scenario, "variant": variant, "metric": metric,
                             "baseline_mean": b_mean[j], "variant_mean": v_mean[j],
                             "diff": v_mean[j] - b_mean[j], "lo": lo[j], "hi": hi[j], "n_pairs": int(n_pairs[j])})
    out = pd.DataFrame(rows, columns=list(COMPARISON_COLUMNS))
    return out.astype({"n_pairs": "int64"})


def format_comparison(comparison: pd.DataFrame, metrics: Sequence[str] | None = None) -> str:
    """Format a comparison as a text table, each metric by its kind (:data:`kyojosim.measures.outcomes.METRICS`).

    Rates and shares in percent with changes in points, money in yen and counts as whole numbers
    with thousands separators, indices (and metrics not registered) to one decimal.

    Args:
        comparison: The frame of :func:`compare`.
        metrics: The metrics to show (default: all in the frame, in its order).

    Returns:
        The table, one line per scenario, variant and metric.
    """
    df = comparison if metrics is None else comparison[comparison["metric"].isin(list(metrics))]
    rows = []
    for r in df.to_dict("records"):
        m = str(r["metric"])
        kind = METRICS[m].kind if m in METRICS else "index"
        if kind in ("rate", "share"):
            level = lambda x: "" if x != x else f"{100 * x:.1f}%"
            change = lambda x: "" if x != x else f"{100 * x:+.1f}"
        elif kind in ("money", "count"):
            level = lambda x: "" if x != x else f"{x:,.0f}"
            change = lambda x: "" if x != x else f"{x:+,.0f}"
        else:
            level = lambda x: "" if x != x else f"{x:.1f}"
            change = lambda x: "" if x != x else f"{x:+.1f}"
        ci = "" if r["lo"] != r["lo"] else f"[{change(r['lo'])}, {change(r['hi'])}]"
        rows.append([str(r["scenario"]), str(r["variant"]), m, level(r["baseline_mean"]), level(r["variant_mean"]),
                     change(r["diff"]), ci, str(r["n_pairs"])])
    head = ["scenario", "variant", "metric", "baseline_mean", "variant_mean", "diff", "95% interval", "pairs"]
    widths = [max(len(h), *(len(row[i]) for row in rows)) if rows else len(h) for i, h in enumerate(head)]
    right = {3, 4, 5, 6, 7}
    fmt = lambda cells: "  ".join(c.rjust(w) if i in right else c.ljust(w)
                                  for i, (c, w) in enumerate(zip(cells, widths))).rstrip()
    return "\n".join([fmt(head), *(fmt(row) for row in rows)])

__all__ = ["AnalysisError", "bootstrap_mean_ci", "compare", "done_summary", "format_comparison"]
