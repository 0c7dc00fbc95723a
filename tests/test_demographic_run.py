"""The population alone (kyojosim.demographic_run) is exactly the full model's population, year by year."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kyojosim.analysis.projection import run_many
from kyojosim.demographic_run import DemographicRun, run_years
from kyojosim.model import KyojoModel
from kyojosim.params.scenario import load_scenario
from kyojosim.runs.calibration import with_shifts

RESIDENT = ("uid", "age", "sex", "household", "role", "district", "frail", "arrived")


def assert_same_population(model_pop, fast_pop, where):
    assert model_pop.n == fast_pop.n, where
    for col in RESIDENT:
        assert np.array_equal(getattr(model_pop, col), getattr(fast_pop, col)), (where, col)
    assert np.array_equal(model_pop.alive[: model_pop.n], fast_pop.alive[: fast_pop.n]), where
    assert model_pop.n_households == fast_pop.n_households, where
    for col in ("district", "block"):
        assert np.array_equal(getattr(model_pop.hh, col), getattr(fast_pop.hh, col)), (where, col)


@pytest.mark.parametrize("name, seed, overrides", [
    # every channel on: the mutual aid draws from many streams, none of them demographic
    ("yamae-all", 3, {"simulation.years": 5}),
    # net in-migration (positive rates) and family moves at a small scale
    ("koto-sns", 2, {"simulation.years": 4, "municipality.scale": 0.004}),
    ("ikoma-all", 5, {"simulation.years": 3, "municipality.scale": 0.02,
                      "demography.migration.oldest_shift": {2015: 0.01, 2016: -0.02}}),
])
def test_the_population_alone_equals_the_full_models_every_year(name, seed, overrides):
    scn = load_scenario(name, overrides)
    model = KyojoModel(scn, seed=seed)
    fast = DemographicRun(model.scenario)
    assert_same_population(model.population, fast.population, (name, "start"))
    years = 0
    while model.running:
        before = model.year
        model.step()
        if model.year != before:
            fast.run_until(model.year)
            assert_same_population(model.population, fast.population, (name, model.year))
            years += 1
    assert years == scn.simulation.years
    full = model.table("years")
    mine = pd.DataFrame(fast.rows)
    for col in ("year", "population", "population_scaled", "share_65plus", "share_75plus", "share_under15"):
        assert np.array_equal(full[col].to_numpy(), mine[col].to_numpy()), col
    model.release()


def test_a_copy_continues_as_the_original_would():
    scn = load_scenario("yamae", {"municipality.scale": 0.3})
    run = DemographicRun(scn, seed=4).run_until(2018)
    twin = run.copy()
    run.run_until(2022)
    twin.run_until(2022)
    assert_same_population(run.population, twin.population, "copy")
    assert run.rows == twin.rows


def test_changing_a_later_periods_shifts_midway_equals_a_run_from_the_start():
    # what the migration fit relies on: the population at 2020 does not depend on the shifts of 2020-2025
    base = with_shifts(load_scenario("yamae", {"municipality.scale": 0.4}), {}, {}, {})
    shifted = with_shifts(base, {2020: 0.01}, {2020: -0.004}, {2020: 0.006})
    midway = DemographicRun(base, seed=2).run_until(2020)
    midway.run_until(2025, shifted)
    direct = DemographicRun(shifted, seed=2).run_until(2025)
    assert_same_population(direct.population, midway.population, "midway")
    assert direct.rows[-1] == midway.rows[-1]


def test_run_years_and_run_many_tables():
    scn = load_scenario("yamae", {"municipality.scale": 0.2, "simulation.years": 3})
    one = run_years(scn, seed=1)
    assert list(one["year"]) == [2015, 2016, 2017, 2018]
    assert (one["scenario"] == "yamae").all() and (one["seed"] == 1).all()
    assert one["population_scaled"].iloc[0] == pytest.approx(scn.municipality.population, rel=0.01)
    many = run_many([scn], seeds=[1, 2], n_jobs=1)
    assert len(many) == 8
    pd.testing.assert_frame_equal(many[many["seed"] == 1].reset_index(drop=True), one)
