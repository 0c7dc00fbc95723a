"""Invariants of the foundation over random small scenarios (property tests with hypothesis)."""

from __future__ import annotations

import copy

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kyojosim.constants import N_AGE_BANDS, ROLE_HEAD
from kyojosim.model import KyojoModel
from kyojosim.params.scenario import load_scenario

BASE = load_scenario("yamae").to_dict()

rates = st.lists(st.floats(-0.15, 0.15, allow_nan=False), min_size=N_AGE_BANDS, max_size=N_AGE_BANDS)


@st.composite
def small_scenarios(draw):
    data = copy.deepcopy(BASE)
    data["municipality"]["scale"] = draw(st.floats(0.02, 0.25))
    data["demography"]["fertility"]["tfr"] = draw(st.floats(0.0, 4.0))
    data["demography"]["mortality"]["multiplier"] = draw(st.floats(0.2, 5.0))
    data["demography"]["migration"]["net_rate"] = draw(rates)
    data["demography"]["migration"]["young_shift"] = {}
    data["demography"]["migration"]["elderly_shift"] = {}
    data["demography"]["household_change"]["leave_home_rate"] = draw(st.floats(0.0, 1.0))
    data["demography"]["household_change"]["union_rate"] = draw(st.floats(0.0, 1.0))
    data["demography"]["household_change"]["move_in_with_family_rate"] = draw(st.floats(0.0, 1.0))
    data["simulation"]["years"] = 4
    data["simulation"]["seed"] = draw(st.integers(0, 2**32))
    return load_scenario(data)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scn=small_scenarios())
def test_population_balances_and_structure_holds(scn):
    model = KyojoModel(scn)
    seen = [model.stats]  # the rows of the years table so far

    def at_new_year(model):
        if len(model.datacollector.tables["years"]["year"]) == len(seen):
            return
        row = model.stats
        previous = seen[-1]
        seen.append(row)
        # population balance: N(t+1) = N(t) - deaths - out + births + in
        assert row["population"] == (previous["population"] - row["deaths"] - row["out_migrants"]
                                     + row["births"] + row["in_migrants"])
        pop = model.population
        live = pop.live()
        assert live.size == pop.n == row["population"]  # compacted: every slot is a resident
        # one Mesa handle per resident, with the uid in the columns
        assert len(model.agents) == live.size
        assert sorted(a.unique_id for a in model.agents) == sorted(pop.uid.tolist())
        # every household with members has exactly one head; ages are sane
        if live.size:
            heads = np.bincount(pop.household[pop.role == ROLE_HEAD], minlength=pop.n_households)
            sizes = pop.household_sizes()
            assert np.all(heads[sizes > 0] == 1)
            assert pop.age.min() >= 0
            assert row["households"] == int((sizes > 0).sum())
        # ties join living residents, stored once with a < b
        t = model.ties
        if len(t):
            assert np.all(t.a < t.b) and t.b.max() < pop.n

    model.run_model(progress=at_new_year)
    assert len(seen) == scn.simulation.years + 1
