"""Population decline against the published projections, for the bundled municipalities.

:func:`track` runs each scenario for a few seeds (in parallel, :func:`kyojosim.executor.map_runs`) and returns the
yearly total population (scaled to the real municipality) and 65+ share; :func:`compare`
sets the mean of the seeds beside the scenario's projection at its 5-year marks;
:func:`plot` draws the trajectories against the projections.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from .executor import map_runs
from .scenario import Scenario, load_scenario

BUNDLED = ("yamae", "ikoma", "koto")


def _one_run(task: tuple[Scenario, int]) -> pd.DataFrame:
    from .results import run_one

    scn, seed = task
    rows = run_one(scn, seed=seed).to_pandas("years")[["year", "population_scaled", "share_65plus"]]
    rows.insert(0, "seed", seed)
    rows.insert(0, "scenario", scn.name)
    return rows


def track(
    scenarios: Sequence[str | Scenario] = BUNDLED,
    seeds: Sequence[int] = (1, 2, 3),
    n_jobs: int = 1,
    **overrides,
) -> pd.DataFrame:
    """Run each scenario once per seed and return the yearly totals and 65+ shares.

    Args:
        scenarios: Scenario names, files or objects.
        seeds: The seeds (the same for every scenario).
        n_jobs: Parallel workers (:func:`kyojosim.executor.map_runs`; 1 runs in this process).
        **overrides: Keyword overrides applied to every scenario (``simulation__years=10``).

    Returns:
        A long table: scenario, seed, year, population_scaled, share_65plus.
    """
    scns = [s if isinstance(s, Scenario) else load_scenario(s, **overrides) for s in scenarios]
    if overrides:
        scns = [s.replace(**overrides) for s in scns]
    tasks = [(scn, int(seed)) for scn in scns for seed in seeds]
    return pd.concat(map_runs(_one_run, tasks, jobs=n_jobs, ordered=True), ignore_index=True)


def compare(runs: pd.DataFrame, scenarios: Sequence[str | Scenario] = BUNDLED) -> pd.DataFrame:
    """Set the mean over seeds beside each scenario's projection at the projection's years.

    Returns:
        One row per scenario and projection year: projected and simulated total and 65+ share,
        their relative errors (simulated / projected - 1), and the number of seeds.
    """
    rows = []
    for s in scenarios:
        scn = s if isinstance(s, Scenario) else load_scenario(s)
        proj = scn.demography.projection
        if proj is None:
            continue
        mine = runs[runs["scenario"] == scn.name]
        mean = mine.groupby("year")[["population_scaled", "share_65plus"]].mean()
        n = mine.groupby("year")["seed"].nunique()
        for year, total, share in zip(proj.years, proj.total, proj.share_65plus, strict=True):
            if year not in mean.index:
                continue
            sim_total, sim_share = mean.loc[year]
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
                "seeds": int(n.loc[year]),
            })
    return pd.DataFrame(rows)


def plot(runs: pd.DataFrame, scenarios: Sequence[str | Scenario] = BUNDLED, path: str | Path | None = None):
    """Draw each municipality's simulated total and 65+ share (seeds and mean) against its projection.

    Args:
        runs: The output of :func:`track`.
        scenarios: The scenarios to draw, one column each.
        path: Where to save the figure (PNG, written atomically); nothing is written if ``None``.

    Returns:
        The matplotlib figure.
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    import matplotlib_fontja  # noqa: F401  (Japanese labels without system fonts)

    scns = [s if isinstance(s, Scenario) else load_scenario(s) for s in scenarios]
    fig, axes = plt.subplots(2, len(scns), figsize=(4.2 * len(scns), 6.4), squeeze=False, constrained_layout=True)
    for col, scn in enumerate(scns):
        mine = runs[runs["scenario"] == scn.name]
        proj = scn.demography.projection
        for row, (key, label, factor) in enumerate(
            (("population_scaled", "総人口 population (千人, thousands)", 1e-3),
             ("share_65plus", "65歳以上の割合 share aged 65+ (%)", 100.0))
        ):
            ax = axes[row, col]
            for _, one in mine.groupby("seed"):
                ax.plot(one["year"], one[key] * factor, color="tab:blue", alpha=0.25, lw=0.8)
            mean = mine.groupby("year")[key].mean()
            ax.plot(mean.index, mean.values * factor, color="tab:blue", lw=2, label="kyojosim (mean of seeds)")
            if proj is not None:
                values = np.asarray(proj.total if row == 0 else proj.share_65plus, dtype=float) * factor
                ax.plot(proj.years, values, "o--", color="tab:red", label="projection 推計")
                ax.fill_between(proj.years, values * 0.95, values * 1.05, color="tab:red", alpha=0.12,
                                label="±5%")
            ax.set_ylabel(label)
            ax.grid(alpha=0.3)
            if row == 0:
                ax.set_title(f"{scn.municipality.name} {scn.municipality.name_en}")
            else:
                ax.set_xlabel("year 年")
            if row == 0 and col == 0:
                ax.legend(fontsize=8)
    fig.suptitle("人口減少と高齢化: kyojosim と将来推計 (population decline against the projection)")
    if path is not None:
        from .atomic import atomic_open

        with atomic_open(path, "wb") as fh:
            fig.savefig(fh, format="png", dpi=110)
    return fig
