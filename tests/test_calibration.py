"""The migration fit (kyojosim.runs.calibration): shifts by age, and a fit that meets the projection."""

from __future__ import annotations

import numpy as np
import pytest

from kyojosim.core.demography import migration_rates
from kyojosim.demographic_run import DemographicRun
from kyojosim.errors import ScenarioError
from kyojosim.params import japan
from kyojosim.params.scenario import load_scenario
from kyojosim.runs.calibration import compare_runs, fit_migration, with_shifts


def test_shifts_move_their_age_bands_only():
    scn = with_shifts(load_scenario("yamae"), {2020: 0.01}, {2020: 0.002}, {2020: 0.003})
    base = np.asarray(scn.demography.migration.net_rate)
    assert np.allclose(migration_rates(scn, 2019), base)  # the period 2015-2020 has no shift
    r = migration_rates(scn, 2022) - base
    assert np.allclose(r[:3], 0) and np.allclose(r[3:8], 0.01) and np.allclose(r[8:13], 0)
    assert np.allclose(r[13:15], 0.002) and np.allclose(r[15:], 0.005)


def test_oldest_shift_is_a_scenario_key_with_bounds():
    scn = load_scenario("yamae", {"demography.migration.oldest_shift": {2015: 0.01}})
    assert scn.demography.migration.oldest_shift == {2015: 0.01}
    with pytest.raises(ScenarioError, match="oldest_shift"):
        load_scenario("yamae", {"demography.migration.oldest_shift": {2015: 0.9}})


def ipss(code: str) -> dict:
    """The IPSS 2018 projection of a municipality as a scenario's demography.projection."""
    p = japan.projection(code)
    return {"years": p["year"].tolist(), "total": p["total"].tolist(), "share_65plus": p["share_65plus"].tolist(),
            "share_75plus": p["share_75plus"].tolist(), "source": "IPSS 2018"}


@pytest.fixture(scope="module")
def fitted():
    scn = load_scenario("yamae", {"municipality.scale": 0.5, "demography.projection": ipss("43512")})
    return scn, fit_migration(scn, seeds=(1, 2), progress=False)


def test_the_fit_meets_the_projection_with_its_seeds(fitted):
    scn, fit = fitted
    proj = scn.demography.projection
    assert sorted(fit.young_shift) == sorted(fit.elderly_shift) == sorted(fit.oldest_shift) == list(
        range(2015, 2045, 5))
    for shifts in (fit.young_shift, fit.elderly_shift, fit.oldest_shift):
        assert all(abs(v) <= 0.3 and round(v, 5) == v for v in shifts.values())
    t = fit.table
    assert list(t["year"]) == list(proj.years)
    assert t["total_error"].abs().max() < 0.02
    assert t["share_65plus_diff"].abs().max() < 0.01 and t["share_75plus_diff"].abs().max() < 0.01
    # the table is what a fresh run of the fitted scenario gives
    again = compare_runs(fit.apply(scn), proj, fit.seeds)
    assert np.allclose(again["simulated_total"], t["simulated_total"])


def test_the_fit_is_not_vacuous(fitted):
    scn, fit = fitted
    proj = scn.demography.projection
    unfitted = compare_runs(with_shifts(scn, {}, {}, {}), proj, fit.seeds)
    doubled = with_shifts(scn, {k: 2 * v + 0.01 for k, v in fit.young_shift.items()}, fit.elderly_shift,
                          fit.oldest_shift)
    worse = compare_runs(doubled, proj, fit.seeds)
    assert worse["total_error"].abs().max() > 0.05
    assert unfitted["total_error"].abs().max() > fit.table["total_error"].abs().max()


def test_without_a_75plus_target_there_is_no_oldest_shift():
    scn = load_scenario("yamae", {"municipality.scale": 0.3, "demography.projection.share_75plus": None})
    fit = fit_migration(scn, seeds=(1,), progress=False, rounds=2)
    assert fit.oldest_shift == {} and len(fit.young_shift) == 6
    assert fit.table["share_75plus_diff"].isna().all()


def test_fit_needs_a_projection_from_the_start_year():
    scn = load_scenario("yamae", {"demography.projection": None})
    with pytest.raises(ScenarioError, match="demography.projection"):
        fit_migration(scn, seeds=(1,), progress=False)
    late = load_scenario("yamae", {"demography.projection.years": [2020, 2025, 2030, 2035, 2040, 2045, 2050]})
    with pytest.raises(ScenarioError, match="start year 2015"):
        fit_migration(late, seeds=(1,), progress=False)


def test_fit_shows_a_progress_bar(capsys):
    scn = load_scenario("yamae", {"municipality.scale": 0.1, "demography.projection.years":
                                  [2015, 2020, 2025, 2030, 2035, 2040, 2045]})
    fit_migration(scn, seeds=(1,), progress=True, rounds=1)
    assert "fitting migration: 山江村" in capsys.readouterr().err


def test_demographic_run_scale_counts():
    run = DemographicRun(load_scenario("yamae", {"municipality.scale": 0.5}), seed=1)
    assert run.rows[0]["population_scaled"] == pytest.approx(3422, abs=2)
