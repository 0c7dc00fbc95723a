"""Sobol sensitivity indices of a summary metric over the parameters of a Sobol design (SALib)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .compare import AnalysisError, done_summary


def sensitivity(results: Any, metric: str = "matching_rate", variant: str | None = None,
                num_resamples: int = 1000, seed: int = 0) -> pd.DataFrame:
    """First-order and total Sobol indices of a summary metric over the parameters of a Sobol design.

    The metric is averaged over the replicates of each design point; ``Y[point]`` is then in the
    order of SALib's Saltelli sample, as the sweep writes it, and goes to
    :func:`SALib.analyze.sobol.analyze`.

    Args:
        results: An ``ExperimentResults`` of an experiment with a ``sobol`` design.
        metric: A summary column.
        variant: The variant whose runs are analysed (default: the baseline).
        num_resamples: Bootstrap resamples of SALib's confidence intervals.
        seed: Seed of SALib's resampling.

    Returns:
        One row per parameter: ``variant``, ``parameter``, ``S1``, ``S1_conf``, ``ST``, ``ST_conf``
        (the ``_conf`` columns are half-widths of 95% intervals).

    Raises:
        AnalysisError: If the design is not a Sobol design, the metric is unknown, or a design
            point has no finished run (or no value of the metric).
    """
    from SALib.analyze import sobol

    design_info = (results.manifest or {}).get("design") or {}
    kind = design_info.get("type", "none")
    if kind != "sobol":
        raise AnalysisError(f"sensitivity: the experiment's design is {kind!r}; Sobol indices need a design "
                            "of type 'sobol' (design: {type: sobol, n: ..., parameters: ...} in the experiment file)")
    problem = design_info.get("problem")
    if not isinstance(problem, dict) or not problem.get("names"):
        raise AnalysisError("sensitivity: the manifest's sobol design has no 'problem' (num_vars, names, bounds)")
    if metric not in results.summary.columns or metric == "run_id":
        allowed = [c for c in results.summary.columns if c != "run_id"]
        raise AnalysisError(f"metric: unknown {metric!r}; allowed: {', '.join(allowed)}")
    second = bool(design_info.get("calc_second_order", True))
    d = int(problem.get("num_vars", len(problem["names"])))
    variant = variant or getattr(results, "baseline", None) or str(results.design["variant"].iloc[0])
    design = results.design[results.design["variant"] == variant]
    if design.empty:
        names = ", ".join(map(str, dict.fromkeys(results.design["variant"])))
        raise AnalysisError(f"variant: got {variant!r}; allowed: {names}")
    n_points = int(design["point"].max()) + 1
    if "n" in design_info:
        n_points = max(n_points, int(design_info["n"]) * (2 * d + 2 if second else d + 2))
    summary = done_summary(results)
    summary = summary[summary["variant"] == variant]
    y = summary.groupby("point")[metric].mean().reindex(range(n_points))
    missing = np.flatnonzero(y.isna().to_numpy())
    if missing.size:
        shown = ", ".join(map(str, missing[:10])) + (" ..." if missing.size > 10 else "")
        raise AnalysisError(f"sensitivity: {missing.size} of {n_points} design points of variant {variant!r} have no "
                            f"finished run with a value of {metric!r} (points {shown}); finish the sweep first")
    sp = {"num_vars": d, "names": list(problem["names"]), "bounds": [list(b) for b in problem["bounds"]]}
    try:
        si = sobol.analyze(sp, y.to_numpy(dtype=np.float64), calc_second_order=second,
                           num_resamples=int(num_resamples), seed=int(seed))
    except (ValueError, RuntimeError) as exc:
        raise AnalysisError(f"sensitivity: SALib could not analyse {n_points} points: {exc}") from exc
    return pd.DataFrame({"variant": variant, "parameter": sp["names"], "S1": si["S1"], "S1_conf": si["S1_conf"],
                         "ST": si["ST"], "ST_conf": si["ST_conf"]})


__all__ = ["sensitivity"]
