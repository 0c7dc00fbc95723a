"""Fitting a scenario's migration to its population projection (docs/ODD.md §6.3).

For every 5-year period starting in year p, yearly rates are added to the scenario's age profile of
net migration: ``demography.migration.young_shift[p]`` (ages 15-39), ``elderly_shift[p]`` (ages 65+)
and, where the projection gives the 75+ share, ``oldest_shift[p]`` (ages 75+, on top of
``elderly_shift``), so that the mean of seeded runs meets the projection's total population and its
numbers aged 65+ (and 75+) at p + 5.

Periods are fitted in order. The runs are :class:`~kyojosim.demographic_run.DemographicRun` s (the
model's population alone, identical to the full model's): each seed's population at p, reached
with the shifts already fitted, is kept, and every trial of the period's shifts runs a copy of it
for five years, which gives exactly what a run from the start year with those shifts gives (the
streams are named per year). Within a period a damped fixed-point iteration moves the shifts by the
gaps at p + 5 (D = 0.8; ``n`` are simulated residents, the 5 spreads a gap over the period's years)::

    elderly_shift += D x gap(65-74) / (5 x n(65-74))
    oldest_shift  += D x gap(75+) / (5 x n(75+)) - (the change of elderly_shift)
    young_shift   += D x (gap in the total - gap(65+)) / (5 x n(15-39))

(without a 75+ target, ``elderly_shift`` takes the whole gap(65+) over n(65+) and there is no
``oldest_shift``), each rounded to 5 decimals (as written in the file) and kept in [-0.3, 0.3],
until the relative errors of the total and of the 65+ (and 75+) shares are all below ``tol``, for
at most ``rounds`` trials; the best trial is kept.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..demographic_run import DemographicRun
from ..errors import ScenarioError
from ..params.scenario import Projection, Scenario

TOL = 0.005
"""Relative error of the total and of the 65+ share at which a period's fit stops."""
ROUNDS = 8
"""Most trials per period."""
DAMPING = 0.8
"""Share of the gap corrected per trial."""
BOUND = 0.3
"""Largest absolute shift allowed (``demography.migration.young_shift`` and ``elderly_shift``)."""
DIGITS = 5
"""Decimals of the fitted shifts (as written into scenario files)."""


@dataclass
class MigrationFit:
    """The fitted shifts and how close the fitted runs came to the projection.

    Attributes:
        young_shift: Yearly rate added for ages 15-39, by period start.
        elderly_shift: Yearly rate added for ages 65+, by period start.
        oldest_shift: Yearly rate added for ages 75+ (on top of ``elderly_shift``), by period start;
            empty if the projection has no 75+ share.
        table: One row per projection year: projected and simulated total, 65+ and 75+ shares
            (mean of the fit's seeds), the relative error of the total and the differences of the
            shares in points.
        seeds: The seeds of the fit.
    """

    young_shift: dict[int, float] = field(default_factory=dict)
    elderly_shift: dict[int, float] = field(default_factory=dict)
    oldest_shift: dict[int, float] = field(default_factory=dict)
    table: pd.DataFrame = field(default_factory=pd.DataFrame)
    seeds: tuple[int, ...] = ()

    def apply(self, scn: Scenario) -> Scenario:
        """Return the scenario with these shifts."""
        return with_shifts(scn, self.young_shift, self.elderly_shift, self.oldest_shift)


def with_shifts(scn: Scenario, young: dict[int, float], elderly: dict[int, float],
                oldest: dict[int, float] | None = None) -> Scenario:
    """Return ``scn`` with the migration shifts replaced (no other change, no re-validation needed)."""
    mig = dataclasses.replace(scn.demography.migration, young_shift=dict(young), elderly_shift=dict(elderly),
                              oldest_shift=dict(oldest or {}))
    return dataclasses.replace(scn, demography=dataclasses.replace(scn.demography, migration=mig))


def _measure(runs: Sequence[DemographicRun]) -> dict[str, float]:
    """Mean over seeds of the scaled numbers of residents (total, 15-39, 65-74, 75+) and of the shares."""
    out = []
    for r in runs:
        pop = r.population
        age = pop.age[pop.live()]
        k = 1.0 / r.scenario.municipality.scale
        n = max(age.size, 1)
        out.append((age.size * k, ((age >= 15) & (age < 40)).sum() * k, ((age >= 65) & (age < 75)).sum() * k,
                    (age >= 75).sum() * k, (age >= 65).sum() / n, (age >= 75).sum() / n))
    m = np.mean(out, axis=0)
    return dict(zip(("total", "mid", "young_old", "oldest", "share65", "share75"), (float(v) for v in m),
                    strict=True))


def fit_migration(
    scn: Scenario,
    projection: Projection | None = None,
    seeds: Sequence[int] = (1, 2, 3, 4),
    tol: float = TOL,
    rounds: int = ROUNDS,
    progress: bool | None = None,
    label: str | None = None,
) -> MigrationFit:
    """Fit the migration shifts of every 5-year period to the projection.

    Args:
        scn: The scenario (its own shifts are ignored; its scale and age profile are used).
        projection: The target (default: the scenario's ``demography.projection``).
        seeds: The seeds whose mean is fitted.
        tol: Relative error of the total and of the shares at which a period stops.
        rounds: Most trials per period.
        progress: Show a tqdm progress bar (``None``: when standard error is a terminal).
        label: Text before the progress bar (default: the municipality's name).

    Returns:
        The fitted shifts and the fitted runs against the projection.

    Raises:
        ScenarioError: If there is no projection, or its years do not include the start year.
    """
    proj = projection if projection is not None else scn.demography.projection
    start = scn.municipality.start_year
    if proj is None:
        raise ScenarioError(scn.name or "<scenario>", "demography.projection", None,
                            "allowed: a projection (years, total, share_65plus) to fit migration to", "missing")
    years = [int(y) for y in proj.years]
    if start not in years:
        raise ScenarioError(scn.name or "<scenario>", "demography.projection.years", years,
                            f"allowed: years that include the start year {start}", "no start year")
    s75 = proj.share_75plus
    targets = {int(y): (float(t), float(s), None if s75 is None else float(s75[i]))
               for i, (y, t, s) in enumerate(zip(proj.years, proj.total, proj.share_65plus, strict=True))}
    periods = [p for p in range(start, max(years), 5) if p + 5 in targets]
    base = with_shifts(scn, {}, {}, {})
    runs = [DemographicRun(base, seed) for seed in seeds]
    bar = _bar(len(periods) * rounds, label or scn.municipality.name, progress)
    young: dict[int, float] = {}
    elderly: dict[int, float] = {}
    oldest: dict[int, float] = {}
    three = s75 is not None

    def rnd(x: float) -> float:
        return round(float(np.clip(x, -BOUND, BOUND)), DIGITS)

    try:
        for p in periods:
            t_total, t65, t75 = targets[p + 5]
            a, b, c = young.get(p - 5, 0.0), elderly.get(p - 5, 0.0), oldest.get(p - 5, 0.0)
            best = None
            for i in range(rounds):
                trial = with_shifts(base, {**young, p: a}, {**elderly, p: b}, {**oldest, p: c} if three else {})
                ends = [r.copy().run_until(p + 5, trial) for r in runs]
                m = _measure(ends)
                errs = [m["total"] / t_total - 1.0 if t_total else 0.0, m["share65"] / t65 - 1.0 if t65 else 0.0]
                if three:
                    errs.append(m["share75"] / t75 - 1.0 if t75 else 0.0)
                score = max(abs(e) for e in errs)
                if best is None or score < best[0]:
                    best = (score, a, b, c, ends)
                bar.update(1)
                if score < tol:
                    bar.update(rounds - 1 - i)
                    break
                gap65 = t65 * t_total - (m["young_old"] + m["oldest"])
                if three:
                    gap75 = t75 * t_total - m["oldest"]
                    db = DAMPING * (gap65 - gap75) / (5 * max(m["young_old"], 1.0))
                    c = rnd(c + DAMPING * gap75 / (5 * max(m["oldest"], 1.0)) - db)
                else:
                    db = DAMPING * gap65 / (5 * max(m["young_old"] + m["oldest"], 1.0))
                b = rnd(b + db)
                a = rnd(a + DAMPING * ((t_total - m["total"]) - gap65) / (5 * max(m["mid"], 1.0)))
            _, a, b, c, ends = best
            young[p], elderly[p] = a, b
            if three:
                oldest[p] = c
            runs = ends
    finally:
        bar.close()
    fitted = with_shifts(scn, young, elderly, oldest)
    table = compare_runs(fitted, proj, seeds)
    return MigrationFit(young, elderly, oldest, table, tuple(int(s) for s in seeds))


def compare_runs(scn: Scenario, projection: Projection, seeds: Sequence[int]) -> pd.DataFrame:
    """Run the population for each seed to the projection's last year and set the mean beside the projection."""
    last = max(int(y) for y in projection.years)
    runs = [DemographicRun(scn, seed).run_until(last) for seed in seeds]
    rows = pd.DataFrame([row for r in runs for row in r.rows])
    mean = rows.groupby("year")[["population_scaled", "share_65plus", "share_75plus"]].mean()
    return projection_table(mean, projection)


def projection_table(mean: pd.DataFrame, projection: Projection) -> pd.DataFrame:
    """Set simulated means (indexed by year) beside a projection: errors of the total, share differences in points."""
    out = []
    s75 = projection.share_75plus or (None,) * len(projection.years)
    for y, total, s65, p75 in zip(projection.years, projection.total, projection.share_65plus, s75, strict=True):
        if y not in mean.index:
            continue
        sim = mean.loc[y]
        out.append({
            "year": int(y), "projected_total": float(total), "simulated_total": float(sim["population_scaled"]),
            "total_error": float(sim["population_scaled"] / total - 1.0) if total else 0.0,
            "projected_65plus": float(s65), "simulated_65plus": float(sim["share_65plus"]),
            "share_65plus_diff": float(sim["share_65plus"] - s65),
            "projected_75plus": float("nan") if p75 is None else float(p75),
            "simulated_75plus": float(sim["share_75plus"]),
            "share_75plus_diff": float("nan") if p75 is None else float(sim["share_75plus"] - p75),
        })
    return pd.DataFrame(out)


class _NoBar:
    def update(self, n: int = 1) -> None:
        pass

    def close(self) -> None:
        pass


def _bar(total: int, label: str, progress: bool | None):
    import sys

    show = sys.stderr.isatty() if progress is None else bool(progress)
    if not show:
        return _NoBar()
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=f"fitting migration: {label}", unit="trial", leave=False)
