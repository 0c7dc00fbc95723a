"""Validation against the white paper: the 2008 -> 2017 participation experiment and its fit.

The experiment (docs/ODD.md §7.20): start a town from the 2008 row of
図表4-3-5-2 (no community 16.7%, offline only 24.9%, both 42.2%, online only 16.3%), with smartphone
ownership at its 2008 level, and run nine years while smartphones spread by age as they did in
Japan (総務省 通信利用動向調査, :func:`kyojosim.core.ict.national_smartphone_path`). The simulated mix of
residents aged 20-79 at the end stands for 2017 and is compared with the published 2017 row
(11.7 / 7.8 / 36.5 / 44.1). The white paper's respondents are a national sample; the model needs
a town, so a stand-in is used (Ikoma by default: a commuter suburb close to the national age
structure), at a reduced scale. The calendar years of the run are the town's (2015-2024); only
ICT follows the 2008-2017 series, so nine years of ageing are those of the town's projection.

Two free parameters are fitted (:func:`fit_participation`): ``communities.offline_trend`` (the
yearly decline of joining real-world communities) and ``communities.online_join_rate`` (the
yearly chance that a social-media user joins an online community), by a grid search minimising
the sum of squared gaps (percentage points) of the four shares, averaged over seeds.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..constants import PARTICIPATION_GROUPS
from ..core.communities import PARTICIPATION_ROWS
from ..core.ict import national_smartphone_path
from ..runs.executor import map_runs

START, END = 2008, 2017
REPORT_AGE_GROUPS: tuple[tuple[str, int, int], ...] = (
    ("20s", 20, 29), ("30s", 30, 39), ("40s", 40, 49), ("50s", 50, 59), ("60s", 60, 69), ("70s", 70, 79),
    ("60+", 60, 79), ("all", 20, 79),
)
"""Age groups of the report (the survey asked people in their 20s to 70s)."""
FITTED = ("communities.offline_trend", "communities.online_join_rate")
"""The free parameters of the fit."""
DEFAULT_GRID: dict[str, tuple[float, ...]] = {
    "communities.offline_trend": (-0.16, -0.14, -0.12, -0.10, -0.08, -0.06, -0.04),
    "communities.online_join_rate": (0.1, 0.2, 0.3, 0.45, 0.6, 0.8),
}


def experiment_overrides(scale: float = 0.02, **extra: Any) -> dict[str, Any]:
    """Return the overrides that turn a bundled town into the 2008 -> 2017 experiment."""
    over: dict[str, Any] = {
        "communities.participation_year": START,
        "ict.national_path_start": START,
        "ict.smartphone_rate": [round(float(x), 4) for x in national_smartphone_path()[START]],
        "simulation.years": END - START,
        "municipality.scale": scale,
    }
    over.update(extra)
    return over


def participation_by_age(model) -> dict[str, dict[str, float]]:
    """Return the participation mix (percent) of each report age group of a model."""
    return {name: {g: 100 * v for g, v in model.participation((lo, hi)).items()} for name, lo, hi in REPORT_AGE_GROUPS}


INDEX_COLUMNS: tuple[str, ...] = ("corr_memberships", "explained_offline", "explained_online", "holds_literal",
                                   "corr_memberships_literal")
"""Per-record facts of つながり力 kept by :func:`run_participation` (from
:func:`kyojosim.measures.tsunagari.index_report`; ``_literal``: community means standardised too)."""


def run_participation(seed: int, scenario: str = "ikoma", scale: float = 0.02,
                      overrides: dict[str, Any] | None = None) -> pd.DataFrame:
    """Run the experiment once; return the mix by age group at the start (2008) and the end (2017).

    Returns:
        Long table: seed, survey_year (2008 start, 2017 end), age_group, group, percent, and
        ``tsunagari``: the mean つながり力 of the participation group (residents 20+; age group
        ``all`` only, ``nan`` elsewhere), with the record's :data:`INDEX_COLUMNS` (the same on every
        row of the record).
    """
    from ..runs.results import run_one

    run = run_one(scenario, overrides=experiment_overrides(scale, **(overrides or {})), seed=seed,
                  observe=_observe)
    rows = [{"seed": seed, "survey_year": year, "age_group": age, "group": g, "percent": shares[g],
             "tsunagari": power[g] if age == "all" else np.nan, **facts}
            for year, (mix, power, facts) in zip((START, END), run.observed, strict=True)
            for age, shares in mix.items() for g in PARTICIPATION_GROUPS]
    return pd.DataFrame(rows)


def _observe(model) -> tuple[dict[str, dict[str, float]], dict[str, float], dict[str, float]]:
    """Return the participation mix by age group, the mean つながり力 by group and how the index comes about."""
    from ..measures.tsunagari import index_report

    report = index_report(model.population)
    literal = index_report(model.population, standardise=True)
    power = {g: report[f"mean_{g}"] for g in PARTICIPATION_GROUPS}
    facts = {"corr_memberships": report["corr_memberships"], "explained_offline": report["explained_offline"],
             "explained_online": report["explained_online"], "holds_literal": literal["holds"],
             "corr_memberships_literal": literal["corr_memberships"]}
    return participation_by_age(model), power, facts


def _run_point(task: tuple[int, str, float, dict[str, Any] | None]) -> pd.DataFrame:
    """Run :func:`run_participation` for one ``(seed, scenario, scale, overrides)`` (a worker's task)."""
    return run_participation(*task)


def tsunagari_order(runs: pd.DataFrame) -> pd.DataFrame:
    """Report 図表4-3-5-4 seed by seed: whether つながり力 of people in both kinds is above the other groups'.

    The ordering is not imposed: it holds where taking part has made members more trusting and more
    reciprocal than non-members (docs/ODD.md §7.16, §7.17a), so it is reported, not required.

    Args:
        runs: Rows of :func:`run_participation` (any number of seeds).

    Returns:
        One row per seed and survey year: the mean つながり力 of each participation group, ``holds``,
        the correlation of the index with the number of communities, the explained variance of the
        offline and online components, and ``holds_literal`` and ``corr_memberships_literal`` with the
        community means standardised too (the 付注's literal wording).
    """
    sub = runs[runs["age_group"] == "all"]
    wide = sub.pivot_table(index=["seed", "survey_year"], columns="group", values="tsunagari").reset_index()
    wide = wide.reindex(columns=["seed", "survey_year", *PARTICIPATION_GROUPS])
    wide["holds"] = (wide["both"] > wide["online_only"]) & (wide["both"] > wide["offline_only"])
    facts = sub.groupby(["seed", "survey_year"], as_index=False)[list(INDEX_COLUMNS)].first()
    out = wide.merge(facts, on=["seed", "survey_year"], how="left")
    out["holds_literal"] = out["holds_literal"].astype(bool)
    return out


def run_seeds(seeds: Sequence[int], scenario: str = "ikoma", scale: float = 0.02,
              overrides: dict[str, Any] | None = None, n_jobs: int = 1) -> pd.DataFrame:
    """Run the experiment for every seed (in parallel with ``n_jobs``); return the rows of :func:`run_participation`."""
    tasks = [(s, scenario, scale, overrides) for s in seeds]
    return pd.concat(map_runs(_run_point, tasks, jobs=n_jobs, ordered=True), ignore_index=True)


def participation_table(seeds: Sequence[int] = (1, 2, 3), scenario: str = "ikoma", scale: float = 0.02,
                        overrides: dict[str, Any] | None = None, n_jobs: int = 1) -> pd.DataFrame:
    """Run the experiment over seeds; return the simulated 2017 mix with the published rows.

    Returns:
        One row per age group and participation group: ``sim_2008`` and ``sim_2017`` (mean percent
        over seeds), ``sim_2017_min`` and ``sim_2017_max`` (over seeds), ``published_2008`` and
        ``published_2017`` (all ages only; ``nan`` for age groups) and ``gap_2017`` (simulated minus
        published, points).
    """
    runs = run_seeds(seeds, scenario, scale, overrides, n_jobs)
    return summarise_runs(runs)


def summarise_runs(runs: pd.DataFrame) -> pd.DataFrame:
    """Summarise rows of :func:`run_participation` as :func:`participation_table` does."""
    wide = runs.pivot_table(index=["age_group", "group"], columns="survey_year", values="percent",
                            aggfunc=["mean", "min", "max"])
    out = pd.DataFrame({
        "sim_2008": wide[("mean", START)], "sim_2017": wide[("mean", END)],
        "sim_2017_min": wide[("min", END)], "sim_2017_max": wide[("max", END)],
    }).reset_index()
    order = {name: i for i, (name, _, _) in enumerate(REPORT_AGE_GROUPS)}
    out["_a"] = out["age_group"].map(order)
    out["_g"] = out["group"].map({g: i for i, g in enumerate(PARTICIPATION_GROUPS)})
    out = out.sort_values(["_a", "_g"]).drop(columns=["_a", "_g"]).reset_index(drop=True)
    is_all = out["age_group"] == "all"
    for year in (START, END):
        out[f"published_{year}"] = np.where(is_all, out["group"].map(PARTICIPATION_ROWS[year]), np.nan)
    out["gap_2017"] = out["sim_2017"] - out["published_2017"]
    return out


def fit_participation(grid: dict[str, Sequence[float]] | None = None, seeds: Sequence[int] = (1, 2),
                      scenario: str = "ikoma", scale: float = 0.02, n_jobs: int = 1) -> pd.DataFrame:
    """Grid search of the free parameters against the published 2017 row (all ages).

    Every grid point runs the experiment for every seed (the same seeds for every point: common
    random numbers). The objective is the sum over the four groups of the squared gap (points)
    between the mean simulated 2017 share and the published one.

    Returns:
        One row per grid point: the parameters, the simulated 2017 shares, ``max_abs_gap`` and
        ``objective``, sorted best first.
    """
    grid = grid or DEFAULT_GRID
    keys = list(grid)
    points = [dict(zip(keys, values, strict=True)) for values in itertools.product(*(grid[k] for k in keys))]
    frames = list(map_runs(_run_point, [(s, scenario, scale, p) for p in points for s in seeds], jobs=n_jobs,
                           ordered=True))
    published = PARTICIPATION_ROWS[END]
    rows = []
    for i, point in enumerate(points):
        mine = pd.concat(frames[i * len(seeds):(i + 1) * len(seeds)])
        end = mine[(mine["survey_year"] == END) & (mine["age_group"] == "all")]
        shares = end.groupby("group")["percent"].mean()
        gaps = np.array([shares[g] - published[g] for g in PARTICIPATION_GROUPS])
        rows.append({**point, **{f"sim_{g}": float(shares[g]) for g in PARTICIPATION_GROUPS},
                     "max_abs_gap": float(np.abs(gaps).max()), "objective": float((gaps ** 2).sum())})
    return pd.DataFrame(rows).sort_values("objective", kind="stable").reset_index(drop=True)
