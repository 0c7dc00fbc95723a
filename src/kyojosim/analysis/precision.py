"""Sweeping until the headline intervals are as narrow as asked: ``kyojosim sweep --target-halfwidth``.

:func:`sweep_to_halfwidth` runs an experiment (:func:`kyojosim.runs.sweep.sweep`), compares every
variant with the baseline at every design point (:func:`kyojosim.analysis.compare.compare`) and
looks at the intervals of the headline metrics (:func:`kyojosim.measures.outcomes.headline_metrics`).
While one of them is wider than the target (half-width, in points for rates and shares), it adds
replicates and sweeps again, until all are narrow enough or the cap on replicates is reached; it
says which.

New replicates get new seeds (``SeedSequence(seed).spawn``'s next children); the runs done keep
theirs and are not run again. The results folder stays the experiment's folder: its identity does
not include the number of replicates (:attr:`kyojosim.params.experiment.Experiment.identity`), so an
interrupted pass resumes with the same command, and a later plain ``kyojosim sweep`` keeps every
replicate the folder holds.

How many replicates to add: the half-width of a t-interval shrinks about as ``1/√n``, so the
widest interval asks for about ``n · (halfwidth / target)²`` replicates; a pass adds at least one
and at most doubles the count (an estimate from few replicates is rough), and never passes the cap.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import KyojoError
from ..measures.outcomes import headline_metrics
from ..params.experiment import MAX_REPLICATES, Experiment, load_experiment
from .compare import compare
from .intervals import display_unit, halfwidth_in_display_units

DEFAULT_MAX_REPLICATES = 20
"""Cap on replicates of ``--target-halfwidth`` when ``--max-replicates`` is not given."""


class PrecisionError(KyojoError):
    """A target half-width cannot be pursued as asked (bad target, cap or metrics)."""


@dataclass(frozen=True)
class PrecisionResult:
    """What :func:`sweep_to_halfwidth` did.

    Attributes:
        folder: The results folder.
        target: The target half-width (points for rates and shares, the metric's unit otherwise).
        reached: Whether every headline interval is at most ``target`` wide on each side.
        replicates: Replicates in the folder at the end.
        max_replicates: The cap.
        passes: One row per pass: ``replicates``, ``widest`` (half-width), ``variant``, ``point``,
            ``metric`` of the widest interval.
        intervals: The headline rows of the last comparison with a ``halfwidth`` column (display units).
    """

    folder: Path
    target: float
    reached: bool
    replicates: int
    max_replicates: int
    passes: list[dict[str, Any]] = field(default_factory=list)
    intervals: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)

    def message(self) -> str:
        """Say in one line whether the target was reached, with how many replicates, and the widest interval."""
        last = self.passes[-1] if self.passes else {}
        widest = ""
        if last:
            unit = display_unit(str(last["metric"]))
            point = "" if last["point"] is None else f", point {last['point']}"
            widest = (f"; widest interval ±{last['widest']:.3g} {unit} ({last['variant']}, {last['metric']}{point})")
        if self.reached:
            return (f"target half-width {self.target:g} reached with {self.replicates} replicates{widest}")
        return (f"target half-width {self.target:g} NOT reached: the cap of {self.max_replicates} replicates is "
                f"reached{widest}")


def headline_halfwidths(comparison: pd.DataFrame, metrics: list[str]) -> pd.DataFrame:
    """Return the rows of ``metrics`` with their interval's half-width in display units (``nan`` without one)."""
    rows = comparison[comparison["metric"].isin(metrics)].copy()
    rows["halfwidth"] = [halfwidth_in_display_units(m, lo, hi) for m, lo, hi in
                         zip(rows["metric"], rows["lo"], rows["hi"], strict=True)]
    return rows


def next_replicates(n: int, widest: float, target: float, cap: int) -> int:
    """Return the replicates of the next pass: about ``n · (widest / target)²``, from ``n + 1`` to ``2n``, capped."""
    if not math.isfinite(widest):  # fewer than two pairs somewhere: one more replicate gives an interval
        wanted = n + 1
    else:
        wanted = math.ceil(n * (widest / target) ** 2)
    return min(cap, max(n + 1, min(2 * n, wanted)))


def sweep_to_halfwidth(experiment: str | Path | Mapping[str, Any] | Experiment, target: float,
                       max_replicates: int | None = None, out: str | Path | None = None, jobs: int = 1,
                       backend: str = "loky", scheduler: str | None = None, progress: bool = True,
                       restart: bool = False, metrics: list[str] | None = None,
                       on_pass: Callable[[dict[str, Any]], None] | None = None) -> PrecisionResult:
    """Sweep an experiment, adding replicates until every headline interval is at most ``target`` wide each side.

    Args:
        experiment: An experiment file, a bundled experiment name, a mapping or an ``Experiment``.
        target: The half-width to reach, in points for rates and shares (``1`` = ±1 point) and in
            the metric's own unit otherwise.
        max_replicates: The cap (default :data:`DEFAULT_MAX_REPLICATES`, at least the experiment's).
        out: The results folder (default ``results/<experiment name>``).
        jobs: Parallel workers.
        backend: ``"loky"`` or ``"dask"``.
        scheduler: A dask scheduler address.
        progress: Show the sweep's progress bar.
        restart: Delete the folder's results first.
        metrics: The metrics whose intervals must be narrow (default: the registry's headline metrics).
        on_pass: Called with each pass's row (``replicates``, ``widest``, ``variant``, ``point``, ``metric``).

    Returns:
        A :class:`PrecisionResult`.

    Raises:
        PrecisionError: For a target that is not a positive number, a cap below the experiment's
            replicates, a single-variant experiment or unknown metrics.
    """
    from ..runs.results import results_folder
    from ..runs.store import load
    from ..runs.sweep import held_replicates, sweep

    if isinstance(target, bool) or not isinstance(target, (int, float)) or not math.isfinite(target) or target <= 0:
        raise PrecisionError(f"--target-halfwidth: got {target!r}; allowed: a positive number (points for rates, "
                             "e.g. 1 for ±1 point)")
    exp = load_experiment(experiment)
    if len(exp.variants) < 2:
        raise PrecisionError(f"--target-halfwidth: the experiment {exp.name!r} has one variant; the intervals are "
                             "those of differences between variants, so it needs at least two")
    folder = Path(out) if out is not None else results_folder(exp.name)
    start = max(exp.replicates, 0 if restart else held_replicates(folder, exp) or 0)
    cap = DEFAULT_MAX_REPLICATES if max_replicates is None else max_replicates
    if isinstance(cap, bool) or not isinstance(cap, int) or not start <= cap <= MAX_REPLICATES:
        raise PrecisionError(f"--max-replicates: got {cap!r}; allowed: an integer from the replicates already asked "
                             f"for or held ({start}) to {MAX_REPLICATES}")
    wanted = list(metrics) if metrics is not None else headline_metrics()
    n = start
    passes: list[dict[str, Any]] = []
    while True:
        sweep(exp, out=folder, jobs=jobs, backend=backend, scheduler=scheduler, progress=progress,
              restart=restart and not passes, replicates=n)
        res = load(folder)
        present = [m for m in wanted if m in res.summary.columns]
        if not present:
            raise PrecisionError(f"--target-halfwidth: none of the metrics {', '.join(wanted)} is in the summary")
        rows = headline_halfwidths(compare(res, metrics=present), present)
        if rows.empty:
            raise PrecisionError("--target-halfwidth: no finished pair of runs to compare (see the failures in "
                                 f"{folder / 'manifest.json'})")
        worst = rows.sort_values("halfwidth", ascending=False, na_position="first").iloc[0]
        widest = float(worst["halfwidth"])
        row = {"replicates": n, "widest": widest, "variant": str(worst["variant"]),
               "point": None if pd.isna(worst["point"]) else int(worst["point"]), "metric": str(worst["metric"])}
        passes.append(row)
        if on_pass is not None:
            on_pass(row)
        reached = bool(rows["halfwidth"].notna().all() and (rows["halfwidth"] <= target).all())
        if reached or n >= cap:
            return PrecisionResult(folder=folder, target=float(target), reached=reached, replicates=n,
                                   max_replicates=cap, passes=passes, intervals=rows.reset_index(drop=True))
        n = next_replicates(n, widest, float(target), cap)


__all__ = ["DEFAULT_MAX_REPLICATES", "PrecisionError", "PrecisionResult", "headline_halfwidths", "next_replicates",
           "sweep_to_halfwidth"]
