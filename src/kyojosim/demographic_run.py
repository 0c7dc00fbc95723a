"""The population alone: the model's demography without mutual aid, communities or ties.

The demographic submodels (docs/ODD.md §7.1-7.6) read and write only the resident columns ``age``,
``sex``, ``household``, ``role``, ``district`` and ``frail`` and the household columns ``district``
and ``block``, and draw only from the ``synthesis`` stream (the initial residents and households,
:func:`~kyojosim.core.synthesis.synthesize_residents`) and from the streams ``demography``,
``migration``, ``households`` and ``traits`` (the traits of in-migrants), each named by its year.
No other submodel writes those columns, so running only the model's own entries of
:data:`kyojosim.model.YEARLY` that do (:data:`DEMOGRAPHIC_STEPS`), in the model's order, gives
exactly the population of :class:`~kyojosim.model.KyojoModel` for the same scenario and seed, year
by year (``tests/test_demographic_run.py`` checks it resident by resident). It is tens of times
faster, and it is what the migration fit (:mod:`kyojosim.runs.calibration`) and the projection checks
(:mod:`kyojosim.analysis.projection`) run.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pandas as pd

from .core.population import Population
from .core.streams import Streams
from .core.synthesis import synthesize_residents
from .params.scenario import Scenario

DEMOGRAPHIC_STEPS = ("demography", "in_migrant_traits", "compaction")
"""The entries of :data:`kyojosim.model.YEARLY` that change the demographic columns, run in this order."""

SUMMARY_COLUMNS = ("year", "population", "population_scaled", "share_65plus", "share_75plus", "share_under15")
"""The columns of :meth:`DemographicRun.summary` (the same meaning as in the model's ``years`` table)."""


class DemographicRun:
    """A municipality's residents and households, a year at a time, without the rest of the model.

    Args:
        scenario: The scenario.
        seed: The seed (default: the scenario's ``simulation.seed``).

    Attributes:
        scenario: The scenario (with the seed applied).
        population: The resident and household columns, compacted after every year.
        year: The calendar year the population is at (1 January of it).
        rows: One :meth:`summary` per year reached, the start year first.
    """

    def __init__(self, scenario: Scenario, seed: int | None = None) -> None:
        if seed is not None and seed != scenario.simulation.seed:
            scenario = scenario.replace(**{"simulation.seed": int(seed)})
        self.scenario = scenario
        self.streams = Streams(scenario.simulation.seed)
        self.population: Population = synthesize_residents(scenario, self.streams)
        self.year = scenario.municipality.start_year
        self.rows: list[dict[str, Any]] = [self.summary()]

    def turn_of_year(self, scenario: Scenario | None = None) -> None:
        """Apply the demography of the year that ends: the model's own :data:`DEMOGRAPHIC_STEPS`.

        Args:
            scenario: The scenario whose rates apply this year (default: the run's). The migration
                fit passes the same scenario with other shifts; the seed is always the run's.
        """
        from .model import YEARLY, YearState

        steps = dict(YEARLY)
        own = self.scenario
        if scenario is not None:
            self.scenario = scenario
        try:
            state = YearState(self.year)
            for name in DEMOGRAPHIC_STEPS:
                steps[name](self, state)
        finally:
            self.scenario = own
        self.year += 1
        self.rows.append(self.summary())

    def compact(self) -> np.ndarray:
        """Drop the slots of the dead and departed (the model's compaction, without ties or handles)."""
        return self.population.compact()

    def run_until(self, year: int, scenario: Scenario | None = None) -> DemographicRun:
        """Apply the turns of year until the population is at ``year``; return ``self``."""
        while self.year < year:
            self.turn_of_year(scenario)
        return self

    def copy(self) -> DemographicRun:
        """Return an independent copy (the next years of both are identical for the same rates)."""
        twin = copy.copy(self)
        twin.population = copy.deepcopy(self.population)
        twin.rows = list(self.rows)
        return twin

    def band_counts(self) -> np.ndarray:
        """Return living residents by sex (rows) and 5-year age band (columns)."""
        return self.population.band_counts()

    def summary(self) -> dict[str, Any]:
        """Return the year, the number of residents (also scaled to the municipality) and the age shares."""
        pop = self.population
        age = pop.age[pop.live()]
        n = int(age.size)
        return {
            "year": self.year,
            "population": n,
            "population_scaled": n / self.scenario.municipality.scale,
            "share_65plus": float((age >= 65).mean()) if n else float("nan"),
            "share_75plus": float((age >= 75).mean()) if n else float("nan"),
            "share_under15": float((age < 15).mean()) if n else float("nan"),
        }


def run_years(scenario: Scenario, seed: int, years: int | None = None) -> pd.DataFrame:
    """Run the population of a scenario for ``years`` (default ``simulation.years``); return the yearly rows."""
    years = scenario.simulation.years if years is None else int(years)
    run = DemographicRun(scenario, seed)
    run.run_until(scenario.municipality.start_year + years)
    rows = pd.DataFrame(run.rows, columns=list(SUMMARY_COLUMNS))
    rows.insert(0, "seed", int(seed))
    rows.insert(0, "scenario", scenario.name)
    return rows
