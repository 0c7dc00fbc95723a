"""Population decline against the published projections, for the bundled (or any) municipalities.

:func:`track` runs each scenario for a few seeds (in parallel, :func:`kyojosim.runs.executor.map_runs`) and returns
the yearly total population (scaled to the real municipality) and 65+ and 75+ shares; by default
it runs the model's population alone (:mod:`kyojosim.demographic_run`), which is the full
model's population resident by resident, only faster. :func:`compare` sets the mean of the
seeds beside the scenario's projection at its 5-year marks; :func:`plot` draws the
trajectories against the projections with the bands the tests check (±3% of the total, ±2
points of the shares).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from ..demographic_run import run_years
from ..params.scenario import Scenario, load_scenario
from ..runs.executor import map_runs

BUNDLED = ("yamae", "ikoma", "koto")
TOTAL_BAND = 0.03
"""Tolerance of the total population: ±3% of the projection (tests/test_projection.py)."""
SHARE_BAND = 0.02
"""Tolerance of the 65+ and 75+ shares: ±2 points (tests/test_projection.py)."""


def _one_run(task: tuple[Scenario, int]) -> pd.DataFrame:
    from ..runs.results import run_one

    scn, seed = task
    rows = run_one(scn, seed=seed).to_pandas("years")[["year", "population_scaled", "share_65plus", "share_75plus"]]
    rows.insert(0, "seed", seed)
    rows.insert(0, "scenario", scn.name)
    return rows


def track(
    scenarios: Sequence[str | Scenario] = BUNDLED,
    seeds: Sequence[int] = (1, 2, 3),
    n_jobs: int = 1,
    full: bool = False,
    **overrides,
) -> pd.DataFrame:
    """Run each scenario once per seed and return the yearly totals and 65+ and 75+ shares.

    Args:
        scenarios: Scenario names, files or objects.
        seeds: The seeds (the same for every scenario).
        n_jobs: Parallel workers (:func:`kyojosim.runs.executor.map_runs`; 1 runs in this process).
        full: Run the whole model (mutual aid included) rather than its population alone; the
            population, and so the table, is the same.
        **overrides: Keyword overrides applied to every scenario (``simulation__years=10``).

    Returns:
        A long table: scenario, seed, year, population_scaled, share_65plus, share_75plus.
    """
    scns = [s if isinstance(s, Scenario) else load_scenario(s, **overrides) for s in scenarios]
    if overrides:
        scns = [s.replace(**overrides) for s in scns]
    if not full:

        runs = run_many(scns, [int(s) for s in seeds], n_jobs=n_jobs)
        return runs[["scenario", "seed", "year", "population_scaled", "share_65plus", "share_75plus"]]
    tasks = [(scn, int(seed)) for scn in scns for seed in seeds]
    return pd.concat(map_runs(_one_run, tasks, jobs=n_jobs, ordered=True), ignore_index=True)


def compare(runs: pd.DataFrame, scenarios: Sequence[str | Scenario] = BUNDLED) -> pd.DataFrame:
    """Set the mean over seeds beside each scenario's projection at the projection's years.

    Returns:
        One row per scenario and projection year: projected and simulated total, 65+ and 75+
        shares; the relative error of the total (simulated / projected - 1), of the 65+ share
        (``share_65plus_error``), and the differences of the shares in points
        (``share_65plus_diff``, ``share_75plus_diff``: simulated - projected, NaN where the
        projection has no 75+ share); and the number of seeds.
    """
    rows = []
    for s in scenarios:
        scn = s if isinstance(s, Scenario) else load_scenario(s)
        proj = scn.demography.projection
        if proj is None:
            continue
        mine = runs[runs["scenario"] == scn.name]
        mean = mine.groupby("year")[["population_scaled", "share_65plus", "share_75plus"]].mean()
        n = mine.groupby("year")["seed"].nunique()
        s75 = proj.share_75plus or (float("nan"),) * len(proj.years)
        for year, total, share, p75 in zip(proj.years, proj.total, proj.share_65plus, s75, strict=True):
            if year not in mean.index:
                continue
            sim_total, sim_share, sim_75 = mean.loc[year]
            rows.append({
                "scenario": scn.name,
                "municipality": scn.municipality.name,
                "year": year,
                "projected_total": total,
                "simulated_total": float(sim_total),
                "total_error": float(sim_total / total - 1.0),
                "projected_65plus": share,
                "simulated_65plus": float(sim_share),
                "share_65plus_error": float(sim_share / share - 1.0),
                "share_65plus_diff": float(sim_share - share),
                "projected_75plus": float(p75),
                "simulated_75plus": float(sim_75),
                "share_75plus_diff": float(sim_75 - p75),
                "seeds": int(n.loc[year]),
            })
    return pd.DataFrame(rows)


def plot(runs: pd.DataFrame, scenarios: Sequence[str | Scenario] = BUNDLED, path: str | Path | None = None):
    """Draw each municipality's simulated total, 65+ and 75+ shares (seeds and mean) against its projection.

    Args:
        runs: The output of :func:`track`.
        scenarios: The scenarios to draw, one column each.
        path: Where to save the figure (PNG, written atomically); nothing is written if ``None``.

    Returns:
        The matplotlib figure.
    """
    import matplotlib.pyplot as plt  # the process's own backend: inline in a notebook, Agg without a display
    import matplotlib_fontja  # noqa: F401  (Japanese labels without system fonts)

    scns = [s if isinstance(s, Scenario) else load_scenario(s) for s in scenarios]
    rows_of = (("population_scaled", "総人口 population (千人, thousands)", 1e-3, "total"),
               ("share_65plus", "65歳以上の割合 share aged 65+ (%)", 100.0, "share_65plus"),
               ("share_75plus", "75歳以上の割合 share aged 75+ (%)", 100.0, "share_75plus"))
    fig, axes = plt.subplots(3, len(scns), figsize=(4.2 * len(scns), 8.8), squeeze=False, constrained_layout=True)
    for col, scn in enumerate(scns):
        mine = runs[runs["scenario"] == scn.name]
        proj = scn.demography.projection
        for row, (key, label, factor, attr) in enumerate(rows_of):
            ax = axes[row, col]
            for _, one in mine.groupby("seed"):
                ax.plot(one["year"], one[key] * factor, color="tab:blue", alpha=0.25, lw=0.8)
            mean = mine.groupby("year")[key].mean()
            ax.plot(mean.index, mean.values * factor, color="tab:blue", lw=2, label="kyojosim (mean of seeds)")
            target = getattr(proj, attr) if proj is not None else None
            if target is not None:
                values = np.asarray(target, dtype=float) * factor
                ax.plot(proj.years, values, "o--", color="tab:red", label="projection 将来推計")
                if row == 0:
                    lo, hi, band = values * (1 - TOTAL_BAND), values * (1 + TOTAL_BAND), f"±{TOTAL_BAND:.0%}"
                else:
                    lo, hi = values - SHARE_BAND * factor, values + SHARE_BAND * factor
                    band = f"±{100 * SHARE_BAND:.0f} points"
                ax.fill_between(proj.years, lo, hi, color="tab:red", alpha=0.12, label=band)
            ax.set_ylabel(label)
            ax.grid(alpha=0.3)
            if row == 0:
                ax.set_title(f"{scn.municipality.name} {scn.municipality.name_en}")
            if row == len(rows_of) - 1:
                ax.set_xlabel("year 年")
            if col == 0:
                ax.legend(fontsize=8)
    fig.suptitle("人口減少と高齢化: kyojosim と将来推計 (population decline against the projection)")
    if path is not None:
        from ..atomic import atomic_open

        with atomic_open(path, "wb") as fh:
            fig.savefig(fh, format="png", dpi=110)
    plt.close(fig)  # pyplot keeps no reference (a notebook shows the returned figure once)
    return fig


def _run_task(task: tuple[Scenario, int]) -> pd.DataFrame:
    return run_years(*task)


def run_many(scenarios: Sequence[Scenario], seeds: Sequence[int], n_jobs: int = 1) -> pd.DataFrame:
    """Run the population of every scenario for every seed (in parallel if ``n_jobs`` > 1).

    The runs go through :func:`kyojosim.runs.executor.map_runs`.
    """
    tasks = [(scn, int(seed)) for scn in scenarios for seed in seeds]
    return pd.concat(map_runs(_run_task, tasks, jobs=n_jobs, ordered=True), ignore_index=True)
