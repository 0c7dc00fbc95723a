"""Demography: population balance, ageing, deaths, births, migration, household change and network upkeep."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import old_only_mapping, step_years
from kyojosim.constants import FEMALE, HH, MALE, N_AGE_BANDS, ROLE_CHILD, ROLE_ELDER, ROLE_HEAD, ROLE_SPOUSE
from kyojosim.core.demography import (
    death_probability,
    household_change,
    in_migration,
    migration_rates,
    out_migration,
    period_level,
    promote_heads,
    rehouse_orphans,
    yearly_demography,
)
from kyojosim.core.households import classify
from kyojosim.core.population import Population
from kyojosim.model import KyojoModel
from kyojosim.params.scenario import load_scenario
from test_synthesis import assert_tie_invariants

NO_SHIFTS = {"demography__migration__young_shift": {}, "demography__migration__elderly_shift": {},
             "demography__migration__oldest_shift": {}}
"""Drop the shifts fitted to the projection, so that ``net_rate`` alone sets migration."""


def make_pop(members: list[list[tuple[int, int, int]]], district: int = 0) -> Population:
    """A population of households, each a list of (age, sex, role)."""
    pop = Population()
    pop.add_households(len(members), district=district, block=np.arange(len(members)))
    for h, people in enumerate(members):
        for age, sex, role in people:
            pop.add(1, age=age, sex=sex, role=role, household=h, district=district)
    pop.hh.kind[:] = classify(pop)
    return pop


def heads_per_household(pop: Population) -> np.ndarray:
    live = pop.live()
    size = np.bincount(pop.household[live], minlength=pop.n_households)
    heads = np.bincount(pop.household[live][pop.role[live] == ROLE_HEAD], minlength=pop.n_households)
    return heads[size > 0]


# ---------------------------------------------------------------------------------------- the whole model


def test_population_balance_every_year(yamae_run):
    model, _, _ = yamae_run
    rows = model.table("years").to_dict("records")
    assert len(rows) == 4 and [r["year"] for r in rows] == [2015, 2016, 2017, 2018]
    for prev, row in zip(rows, rows[1:]):
        expect = prev["population"] - row["deaths"] - row["out_migrants"] + row["births"] + row["in_migrants"]
        assert row["population"] == expect, row
        assert row["deaths"] > 0 and row["births"] > 0 and row["out_migrants"] > 0
    assert model.population.size == rows[-1]["population"]


def test_population_balance_with_strong_in_migration(scenario_from):
    scn = scenario_from(**NO_SHIFTS, demography__migration__net_rate=[0.02] * N_AGE_BANDS, municipality__scale=0.3)
    model = KyojoModel.from_scenario(scn, years=3, seed=5)
    step_years(model, 3)
    rows = model.table("years").to_dict("records")
    for prev, row in zip(rows, rows[1:]):
        assert row["in_migrants"] > 0
        expect = prev["population"] - row["deaths"] - row["out_migrants"] + row["births"] + row["in_migrants"]
        assert row["population"] == expect
    assert_tie_invariants(model.ties, model.population)


def test_survivors_age_by_exactly_one_year(yamae_run):
    _, snaps, _ = yamae_run
    for before, after in zip(snaps, snaps[1:]):
        common, i, j = np.intersect1d(before["uid"], after["uid"], return_indices=True)
        assert common.size > 0.9 * before["uid"].size
        assert np.all(after["age"][j] == before["age"][i] + 1)
        assert np.all(after["sex"][j] == before["sex"][i])
        # uids are unique and newcomers are the only new uids (newborns aged 0, in-migrants any age)
        assert np.unique(after["uid"]).size == after["uid"].size
        new = np.setdiff1d(after["uid"], before["uid"])
        assert new.min() > before["uid"].max()


def test_yearly_counts_match_uid_bookkeeping(yamae_run):
    model, snaps, _ = yamae_run
    rows = model.table("years").to_dict("records")
    for k, (before, after) in enumerate(zip(snaps, snaps[1:]), start=1):
        row = rows[k]
        gone = np.setdiff1d(before["uid"], after["uid"]).size
        new = np.setdiff1d(after["uid"], before["uid"]).size
        # newborns who left with their family in their first year are in births and out_migrants
        assert gone <= row["deaths"] + row["out_migrants"]
        assert new <= row["births"] + row["in_migrants"]
        assert new - gone == row["population"] - rows[k - 1]["population"]


def test_age_table_follows_the_population(yamae_run):
    model, snaps, _ = yamae_run
    counts = model.table("age_structure").groupby("year", sort=False)["count"].sum()
    assert len(counts) == len(snaps)
    for total, snap in zip(counts, snaps):
        assert total == snap["uid"].size


def test_old_only_town_empties_and_the_run_completes(yamae_dict):
    scn = load_scenario(old_only_mapping(yamae_dict, persons=200, multiplier=5.0), simulation__years=25)
    model = KyojoModel.from_scenario(scn, seed=3)
    assert model.population.size == 200 and np.all(model.population.age >= 85)
    model.run_model()
    assert model.steps == model.n_steps
    rows = model.table("years").to_dict("records")
    assert len(rows) == 26
    assert rows[-1]["population"] == 0
    assert sum(r["births"] + r["in_migrants"] + r["out_migrants"] for r in rows) == 0
    assert sum(r["deaths"] for r in rows) == 200
    first_empty = next(i for i, r in enumerate(rows) if r["population"] == 0)
    assert first_empty < 25  # demography.max_age bounds survival; with 5x mortality it comes much earlier
    for r in rows[first_empty:]:
        assert r["population"] == 0 and r["households"] == 0 and r["ties"] == 0
        # undefined in a town of nobody: nan, not a misleading 0
        for col in ("share_65plus", "share_75plus", "share_under15", "mean_age", "smartphone_share", "sns_share"):
            assert np.isnan(r[col]), col
    for r in rows[:first_empty]:
        assert not np.isnan(r["share_65plus"]) and not np.isnan(r["mean_age"])
    steps = model.table("steps")
    empty = steps["population"] == 0
    assert steps.loc[empty, "unmet_75plus_share"].isna().all()
    assert steps.loc[empty & (steps["needs_matched"] == 0), "weeks_to_match"].isna().all()
    burden = model.table("aid_years")
    assert burden.loc[burden["helpers"] == 0, "top10_helper_share"].isna().all()
    assert burden.loc[burden["helpers"] > 0, "top10_helper_share"].between(0, 1).all()
    assert len(model.agents) == 0
    assert len(model.ties) == 0
    df = model.datacollector.get_model_vars_dataframe()
    assert len(df) == model.n_steps + 1 and df["population"].iloc[-1] == 0


def test_ties_of_the_gone_are_dropped_and_survivors_keep_theirs(yamae):
    model = KyojoModel.from_scenario(yamae, years=2)

    def tie_uids(m):
        pop, t = m.population, m.ties
        u = pop.uid
        return set(zip(u[t.a].tolist(), u[t.b].tolist())) | set(zip(u[t.b].tolist(), u[t.a].tolist()))

    for _ in range(2):
        before_uids = set(model.population.uid[model.population.live()].tolist())
        before = tie_uids(model)
        step_years(model, 1)
        pop, t = model.population, model.ties
        assert pop.n == pop.size  # compacted
        assert t.a.size == 0 or max(int(t.a.max()), int(t.b.max())) < pop.n
        assert_tie_invariants(t, pop)
        after = tie_uids(model)
        alive = set(pop.uid.tolist())
        survivors = before_uids & alive
        kept = {(x, y) for x, y in before if x in survivors and y in survivors}
        assert kept <= after, "a tie between two survivors was lost or re-pointed"


def test_newcomers_get_ties(scenario_from):
    scn = scenario_from(**NO_SHIFTS, demography__migration__net_rate=[0.03] * N_AGE_BANDS, municipality__scale=0.3)
    model = KyojoModel.from_scenario(scn, years=1, seed=2)
    before = set(model.population.uid.tolist())
    step_years(model, 1)
    pop = model.population
    deg = model.ties.degree(pop.n)
    new = ~np.isin(pop.uid, list(before))
    newborn = new & (pop.age == 0)
    arrived = new & ~newborn
    assert newborn.sum() > 5 and arrived.sum() > 20
    # a newborn is tied to its household (at least its mother)
    assert np.all(deg[newborn] >= 1)
    # arrivals in a household of two or more are tied to its members; adults get neighbours too
    size = pop.household_sizes()[pop.household]
    assert np.all(deg[arrived & (size >= 2)] >= 1)
    adults = arrived & (pop.age >= 18)
    assert deg[adults].mean() > 1.0
    assert_tie_invariants(model.ties, pop)


def test_household_counts_exclude_empty_households(yamae_run):
    model, _, _ = yamae_run
    pop = model.population
    row = model.table("years").iloc[-1]
    occupied = np.unique(pop.household[pop.live()]).size
    assert row["households"] == occupied == sum(row[f"hh_{k}"] for k in HH)
    assert pop.n_households > occupied  # some households emptied in three years
    kind = pop.hh.kind
    empty = pop.household_sizes() == 0
    assert np.all(kind[empty] == -1) and np.all(kind[~empty] >= 0)
    assert np.array_equal(kind, classify(pop))
    assert model.household_shares()["single_elderly"] == row["hh_single_elderly"] / occupied


def test_every_household_has_one_head_after_each_year(yamae_run):
    model, _, _ = yamae_run
    pop = model.population
    assert np.all(heads_per_household(pop) == 1)
    live = pop.live()
    spouses = live[pop.role[live] == ROLE_SPOUSE]
    head_of = np.full(pop.n_households, -1)
    heads = live[pop.role[live] == ROLE_HEAD]
    head_of[pop.household[heads]] = heads
    assert np.all(pop.sex[spouses] != pop.sex[head_of[pop.household[spouses]]])
    assert np.all(np.bincount(pop.household[spouses], minlength=pop.n_households) <= 1)


def test_minors_always_live_with_an_adult(yamae_run, yamae):
    model, _, _ = yamae_run
    runs = [model]
    for seed in (2, 3):
        m = KyojoModel.from_scenario(yamae, seed=seed, years=12)
        step_years(m, 12)
        runs.append(m)
    for m in runs:
        pop = m.population
        adult_in = np.zeros(pop.n_households, dtype=bool)
        adult_in[pop.household[pop.age >= 18]] = True
        minors = np.flatnonzero(pop.age < 18)
        assert adult_in[pop.household[minors]].all(), pop.age[minors[~adult_in[pop.household[minors]]]]
        assert np.all(heads_per_household(pop) == 1)


def test_minors_never_join_real_world_communities(yamae_run):
    model, _, _ = yamae_run
    pop = model.population
    assert not (pop.groups[pop.age < 18] >= 0).any()


# ---------------------------------------------------------------------------------------- the yearly functions


def test_widowhood_spouse_becomes_head():
    pop = make_pop([
        [(80, MALE, ROLE_HEAD), (78, FEMALE, ROLE_SPOUSE)],
        [(70, FEMALE, ROLE_HEAD), (72, MALE, ROLE_SPOUSE), (40, MALE, ROLE_CHILD)],
        [(50, MALE, ROLE_HEAD), (20, FEMALE, ROLE_CHILD), (17, MALE, ROLE_CHILD), (88, FEMALE, ROLE_ELDER)],
        [(60, MALE, ROLE_HEAD)],
    ])
    pop.remove(np.array([0, 2, 5, 9]))  # heads of households 0, 1, 2 and 3 die
    promote_heads(pop)
    assert pop.role[1] == ROLE_HEAD  # the widow
    assert pop.role[3] == ROLE_HEAD and pop.role[4] == ROLE_CHILD  # the spouse, not the older child
    assert pop.role[8] == ROLE_HEAD  # no spouse: the oldest member (the elder)
    assert pop.role[6] == ROLE_CHILD and pop.role[7] == ROLE_CHILD
    assert np.all(heads_per_household(pop) == 1)
    pop.compact()
    assert pop.hh.kind.size == 4 and not pop.hh.alive[3]


def test_death_probability_keeps_the_table_rate_and_weights_frailty(yamae):
    n = 4000
    pop = make_pop([[(77, MALE, ROLE_HEAD)] for _ in range(n)])
    frail = np.arange(n) % 4 == 0
    pop.frail[:n] = frail
    slots = pop.live()
    q = yamae.demography.mortality.male[15]
    p0 = death_probability(pop, slots, yamae, 0)
    assert p0.mean() == pytest.approx(q, rel=1e-9)
    ratio = yamae.residents.frail_mortality_ratio
    assert p0[frail][0] / p0[~frail][0] == pytest.approx(ratio)
    p10 = death_probability(pop, slots, yamae, 10)
    assert p10.mean() == pytest.approx(q * (1 - yamae.demography.mortality.annual_improvement) ** 10)
    twice = yamae.replace(demography__mortality__multiplier=2.0)
    assert np.allclose(death_probability(pop, slots, twice, 0), 2 * p0)
    pop.age[:10] = yamae.demography.max_age
    assert np.all(death_probability(pop, slots, yamae, 0)[:10] == 1.0)
    younger = yamae.replace(demography__max_age=90)
    pop.age[:10] = 90
    assert np.all(death_probability(pop, slots, younger, 0)[:10] == 1.0)
    assert np.all(death_probability(pop, slots, yamae, 0)[:10] < 1.0)


def test_ageing_and_deaths_kernel_equals_the_array_form(yamae):
    """The compiled pass of ageing, frailty onset and deaths gives the array form's result to the bit."""
    from kyojosim.constants import age_band
    from kyojosim.core.demography_kernel import age_and_die

    rng = np.random.default_rng(5)
    n = 6000
    ages = rng.integers(0, 106, n)
    sexes = rng.integers(0, 2, n)
    pop = make_pop([[(int(a), int(s), ROLE_HEAD)] for a, s in zip(ages, sexes, strict=True)])
    pop.frail[:n] = rng.random(n) < 0.2
    pop.employed[:n] = rng.random(n) < 0.5
    pop.drives[:n] = rng.random(n) < 0.5
    pop.remove(np.flatnonzero(rng.random(n) < 0.1))
    live = pop.live()
    u_frail, u_die = rng.random(live.size), rng.random(live.size)
    scn = yamae.replace(demography__max_age=100)
    cols = {k: getattr(pop, k).copy() for k in ("age", "frail", "employed", "drives")}
    # the array form
    pop.age[live] += 1
    pop.frail[live] |= u_frail < np.asarray(scn.residents.frailty_onset_rate)[age_band(pop.age[live])]
    pop.employed[live] &= ~pop.frail[live]
    pop.drives[live] &= ~pop.frail[live]
    expected = u_die < death_probability(pop, live, scn, 7)
    m = scn.demography.mortality
    deaths = age_and_die(pop.alive[: pop.n], cols["age"], pop.sex, cols["frail"], cols["employed"], cols["drives"],
                         np.asarray(scn.residents.frailty_onset_rate, dtype=np.float64), u_frail,
                         np.array([m.male, m.female], dtype=np.float64), float(m.multiplier),
                         (1.0 - m.annual_improvement) ** 7, float(scn.residents.frail_mortality_ratio),
                         int(scn.demography.max_age), 5, N_AGE_BANDS, u_die)
    assert expected.any() and not expected.all()
    assert deaths.dtype == np.int64
    np.testing.assert_array_equal(deaths, live[expected])  # the j-th living resident drew the j-th uniforms
    for k, v in cols.items():
        np.testing.assert_array_equal(v, getattr(pop, k), err_msg=k)


def test_moving_out_kernel_equals_the_array_form():
    """The compiled out-migration pass moves the same residents as the array form of out_migration."""
    from kyojosim.constants import age_band
    from kyojosim.core.demography_kernel import moving_out

    rng = np.random.default_rng(8)
    members = []
    for _ in range(2500):
        size = int(rng.integers(1, 5))
        roles = [ROLE_HEAD, ROLE_SPOUSE, ROLE_CHILD, ROLE_ELDER][:size]
        members.append([(int(rng.integers(0, 100)), int(rng.integers(0, 2)), r) for r in roles])
    pop = make_pop(members)
    pop.remove(np.flatnonzero(rng.random(pop.n) < 0.1))
    live = pop.live()
    rate = rng.normal(-0.05, 0.1, N_AGE_BANDS)
    rate[0] = -2.0  # a rate beyond -1 is clipped
    nh = pop.n_households
    u_household, u_resident = rng.random(nh), rng.random(live.size)
    # the array form
    p = np.clip(-rate[age_band(pop.age[live])], 0.0, 1.0)
    role, age, h = pop.role[live], pop.age[live], pop.household[live]
    core = (role == ROLE_HEAD) | (role == ROLE_SPOUSE)
    s = np.bincount(h[core], weights=p[core], minlength=nh)
    c = np.bincount(h[core], minlength=nh)
    family_moves = u_household < np.divide(s, c, out=np.zeros(nh), where=c > 0)
    in_unit = core | ((role == ROLE_CHILD) & (age < 15))
    want = (in_unit & family_moves[h]) | (~in_unit & (u_resident < p))
    got = moving_out(pop.alive[: pop.n], pop.age, pop.role, pop.household, rate, nh, int(ROLE_HEAD),
                     int(ROLE_SPOUSE), int(ROLE_CHILD), 5, N_AGE_BANDS, u_household, u_resident)
    assert want.any() and not want.all()
    assert got.dtype == np.int64
    np.testing.assert_array_equal(got, live[want])  # the j-th living resident drew the j-th uniform


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(0, 400), n_households=st.integers(1, 60),
       n_districts=st.integers(1, 5))
def test_household_change_kernels_equal_the_array_forms(seed, n, n_households, n_districts):
    """The compiled counts, orderings and selections of the household changes give the array forms' results."""
    from kyojosim.core.demography import district_ranges
    from kyojosim.core.demography_kernel import (
        changed_household,
        headless_members,
        ids_by_district,
        minors_without_adult,
        residents_where,
    )
    from kyojosim.core.population_kernel import household_sizes

    rng = np.random.default_rng(seed)
    household = rng.integers(0, n_households, n).astype(np.int32)
    alive = rng.random(n) < 0.85
    age = rng.integers(0, 100, n).astype(np.int16)
    role = rng.integers(0, 4, n).astype(np.int8)
    frail = rng.random(n) < 0.3
    district = rng.integers(0, n_districts, n_households).astype(np.int16)
    size = np.bincount(household[alive], minlength=n_households)
    np.testing.assert_array_equal(household_sizes(household, alive, n_households), size)
    # selections by role, household size, age and frailty (ascending slots)
    cases = [(-1, (1, 1), (25, 45), False), (-1, (1, 1), (65, 1 << 30), True),
             (int(ROLE_HEAD), (2, 1 << 62), (-(1 << 30), 65), False)]
    for want_role, (lo, hi), (a_lo, a_hi), frail_only in cases:
        want = alive & (size[household] >= lo) & (size[household] <= hi) & (age >= a_lo) & (age < a_hi)
        want &= (role == want_role) if want_role >= 0 else True
        want &= frail | (not frail_only)
        got = residents_where(alive, household, size, age, role, frail, want_role, lo, hi, a_lo, a_hi, frail_only)
        np.testing.assert_array_equal(got, np.flatnonzero(want))
    got = residents_where(alive, household, np.zeros(0, dtype=np.int64), age, role, frail, int(ROLE_CHILD),
                          -(1 << 30), 0, 18, 40, False)
    np.testing.assert_array_equal(got, np.flatnonzero(alive & (role == ROLE_CHILD) & (age >= 18) & (age < 40)))
    # the members of households without a living head
    has_head = np.zeros(n_households, dtype=bool)
    has_head[household[alive & (role == ROLE_HEAD)]] = True
    np.testing.assert_array_equal(headless_members(household, role, alive, n_households, int(ROLE_HEAD)),
                                  np.flatnonzero(alive & ~has_head[household]))
    # minors of households without an adult
    adult_in = np.bincount(household[alive & (age >= 18)], minlength=n_households) > 0
    got_in, got_minors = minors_without_adult(household, age, alive, n_households, 18)
    np.testing.assert_array_equal(got_in, adult_in)
    np.testing.assert_array_equal(got_minors, np.flatnonzero(alive & (age < 18) & ~adult_in[household]))
    # those who now live in another household, among the slots there before
    before = np.where(rng.random(n) < 0.3, rng.integers(0, n_households, n), household)[: n - n // 4]
    stayed = np.flatnonzero(alive)
    stayed = stayed[stayed < before.size]
    np.testing.assert_array_equal(changed_household(alive, household, before),
                                  stayed[household[stayed] != before[stayed]])
    # ids by district, stably, and the ranges searchsorted finds (queries beyond the listed districts too)
    ids = np.flatnonzero(size > 0)
    ordered, start = ids_by_district(ids, district)
    np.testing.assert_array_equal(ordered, ids[np.argsort(district[ids], kind="stable")])
    d_sorted = district[ordered]
    query = rng.integers(0, n_districts + 2, 50)
    left, right = district_ranges(start, query)
    np.testing.assert_array_equal(left, np.searchsorted(d_sorted, query, side="left"))
    np.testing.assert_array_equal(right, np.searchsorted(d_sorted, query, side="right"))


def test_death_rate_matches_mortality_table(yamae):
    n = 20000
    pop = make_pop([[(87, FEMALE, ROLE_HEAD)] for _ in range(n)])
    scn = yamae.replace(**NO_SHIFTS, demography__migration__net_rate=[0.0] * N_AGE_BANDS)
    ev = yearly_demography(pop, scn, 2015, np.random.default_rng(1), np.random.default_rng(2), np.random.default_rng(3))
    q = scn.demography.mortality.female[17]
    sd = np.sqrt(q * (1 - q) / n)
    assert abs(ev.deaths.size / n - q) < 4 * sd
    assert ev.births.size == 0 and ev.out_migrants.size == 0 and ev.in_migrants.size == 0
    assert np.all(pop.age[pop.live()] == 88)
    assert np.all(heads_per_household(pop) == 1)


def test_births_follow_age_specific_fertility(yamae):
    n = 20000
    pop = make_pop([[(31, MALE, ROLE_HEAD), (29, FEMALE, ROLE_SPOUSE)] for _ in range(n // 2)]
                   + [[(44, FEMALE, ROLE_HEAD)] for _ in range(n // 2)])
    scn = yamae.replace(**NO_SHIFTS, demography__migration__net_rate=[0.0] * N_AGE_BANDS)
    fert = scn.demography.fertility
    ev = yearly_demography(pop, scn, 2015, np.random.default_rng(4), np.random.default_rng(5), np.random.default_rng(6))
    mothers_age = pop.age[pop.live()]  # after ageing: the young women are 30, the older 45
    assert 30 in mothers_age
    p30 = fert.tfr * fert.age_pattern[3] / 5  # 30-34
    p45 = fert.tfr * fert.age_pattern[6] / 5  # 45-49
    babies = ev.births
    mother_hh = pop.household[babies]
    young = mother_hh < n // 2
    for count, p in ((young.sum(), p30), ((~young).sum(), p45)):
        sd = np.sqrt(n / 2 * p * (1 - p))
        assert abs(count - n / 2 * p) < 4 * sd + 1
    assert np.all(pop.age[babies] == 0) and np.all(pop.role[babies] == ROLE_CHILD)
    boys = (pop.sex[babies] == MALE).mean()
    assert abs(boys - fert.sex_ratio_at_birth / (1 + fert.sex_ratio_at_birth)) < 0.05
    assert np.all(pop.arrived[babies] == 2016)


def test_out_migration_moves_families_together_at_the_adults_rate(yamae):
    rate = -0.2
    scn = yamae.replace(**NO_SHIFTS, demography__migration__net_rate=[rate] * N_AGE_BANDS)
    n_fam = 5000
    pop = make_pop([[(40, MALE, ROLE_HEAD), (38, FEMALE, ROLE_SPOUSE), (10, MALE, ROLE_CHILD),
                     (20, FEMALE, ROLE_CHILD), (80, FEMALE, ROLE_ELDER)] for _ in range(n_fam)])
    out = out_migration(pop, scn, 2015, np.random.default_rng(7))
    gone = np.zeros(pop.n, dtype=bool)
    gone[out] = True
    g = gone.reshape(n_fam, 5)
    # head, spouse and the child under 15 always move together
    assert np.all(g[:, 0] == g[:, 1]) and np.all(g[:, 0] == g[:, 2])
    # the family moves at the adults' rate; grown children and elders move alone at theirs
    sd = np.sqrt(n_fam * 0.2 * 0.8)
    for col in (0, 3, 4):
        assert abs(g[:, col].sum() - 0.2 * n_fam) < 4 * sd
    assert abs(np.corrcoef(g[:, 0], g[:, 3])[0, 1]) < 0.05
    assert not pop.alive[out].any()


def test_no_migration_when_rates_are_zero(yamae):
    scn = yamae.replace(**NO_SHIFTS, demography__migration__net_rate=[0.0] * N_AGE_BANDS)
    pop = make_pop([[(30, MALE, ROLE_HEAD)] for _ in range(100)])
    assert out_migration(pop, scn, 2015, np.random.default_rng(0)).size == 0
    assert in_migration(pop, scn, 2015, np.random.default_rng(0)).size == 0
    assert pop.n == 100


def test_in_migrants_arrive_as_households(yamae):
    scn = yamae.replace(**NO_SHIFTS, demography__migration__net_rate=[0.1] * N_AGE_BANDS)
    pop = make_pop([[(a, s, ROLE_HEAD)] for a in range(0, 100, 2) for s in (MALE, FEMALE) for _ in range(40)])
    n0, h0 = pop.n, pop.n_households
    new = in_migration(pop, scn, 2015, np.random.default_rng(8))
    assert abs(new.size - 0.1 * n0) < 4 * np.sqrt(0.1 * n0)
    assert np.all(new >= n0) and np.all(pop.household[new] >= h0)
    hh = np.unique(pop.household[new])
    size = np.bincount(pop.household[new], minlength=pop.n_households)[hh]
    assert np.all(heads_per_household(pop) == 1)
    assert (size >= 2).any()
    kids = new[pop.age[new] < 18]
    adult_in = np.zeros(pop.n_households, dtype=bool)
    adult_in[pop.household[new[pop.age[new] >= 18]]] = True
    assert adult_in[pop.household[kids]].all()
    assert np.all(pop.district[new] == pop.hh.district[pop.household[new]])
    # newcomers settle into existing blocks of their own district (they become neighbours of residents)
    blocks, districts = pop.hh.block, pop.hh.district
    old_district_of_block = dict(zip(blocks[:h0].tolist(), districts[:h0].tolist(), strict=False))
    joined = np.isin(blocks[h0:], blocks[:h0])
    assert joined.any()
    for blk, d in zip(blocks[h0:][joined].tolist(), districts[h0:][joined].tolist(), strict=True):
        assert old_district_of_block[blk] == d
    assert np.all(pop.arrived[new] == 2016)


def test_migration_levels_by_period(yamae):
    scn = yamae.replace(demography__migration__level={2015: 1.0, 2020: 2.0},
                        demography__migration__young_shift={2020: 0.01},
                        demography__migration__elderly_shift={2025: -0.02},
                        demography__migration__oldest_shift={})
    base = np.asarray(scn.demography.migration.net_rate)
    assert np.allclose(migration_rates(scn, 2017), base)
    r = migration_rates(scn, 2022)
    assert np.allclose(r[3:8], 2 * base[3:8] + 0.01)
    assert np.allclose(r[:3], 2 * base[:3]) and np.allclose(r[8:], 2 * base[8:])
    r = migration_rates(scn, 2027)
    assert np.allclose(r[13:], 2 * base[13:] - 0.02) and np.allclose(r[3:8], 2 * base[3:8] + 0.01)
    assert period_level({}, 2030) == 1.0 and period_level({2020: 3.0}, 2019) == 1.0
    assert period_level({}, 2030, 0.0) == 0.0


def test_household_change(yamae):
    scn = yamae.replace(demography__household_change__leave_home_rate=1.0,
                        demography__household_change__union_rate=1.0,
                        demography__household_change__move_in_with_family_rate=1.0)
    pop = make_pop([
        [(50, MALE, ROLE_HEAD), (48, FEMALE, ROLE_SPOUSE), (25, MALE, ROLE_CHILD), (10, FEMALE, ROLE_CHILD)],
        [(30, FEMALE, ROLE_HEAD)],
        [(33, MALE, ROLE_HEAD)],
        [(80, FEMALE, ROLE_HEAD)],
    ])
    pop.frail[6] = True
    left, unions, moved = household_change(pop, scn, np.random.default_rng(0))
    assert left == 1 and pop.role[2] == ROLE_HEAD and pop.household[2] >= 4
    # the grown child who left and the single adults may pair up; every union is a man and a woman
    assert unions >= 1
    spouses = np.flatnonzero(pop.role == ROLE_SPOUSE)
    for s in spouses:
        head = np.flatnonzero((pop.household == pop.household[s]) & (pop.role == ROLE_HEAD))
        assert head.size == 1 and pop.sex[head[0]] != pop.sex[s]
    assert moved == 1 and pop.role[6] == ROLE_ELDER
    hosts = pop.household[6] == pop.household
    assert hosts.sum() >= 3 and np.all(pop.age[hosts & (pop.role == ROLE_HEAD)] < 65)
    assert np.all(heads_per_household(pop) == 1)


def test_orphaned_children_are_taken_in_together():
    pop = make_pop([
        [(34, FEMALE, ROLE_HEAD), (6, MALE, ROLE_CHILD), (3, FEMALE, ROLE_CHILD)],
        [(40, MALE, ROLE_HEAD), (38, FEMALE, ROLE_SPOUSE)],
        [(70, MALE, ROLE_HEAD)],
    ])
    pop.remove(np.array([0]))  # the lone mother dies
    promote_heads(pop)
    n, gone = rehouse_orphans(pop, np.random.default_rng(0))
    assert n == 2 and gone.size == 0
    assert pop.household[1] == pop.household[2] != 0
    assert np.all(pop.role[[1, 2]] == ROLE_CHILD)
    assert np.all(heads_per_household(pop) == 1)
    # nothing to do the second time
    assert rehouse_orphans(pop, np.random.default_rng(0))[0] == 0


def test_orphans_leave_a_town_without_adults():
    pop = make_pop([[(34, FEMALE, ROLE_HEAD), (6, MALE, ROLE_CHILD)]])
    pop.remove(np.array([0]))
    n, gone = rehouse_orphans(pop, np.random.default_rng(0))
    assert n == 0 and gone.tolist() == [1] and pop.size == 0


@pytest.mark.parametrize("share", [0.0, 1.0])
def test_couples_among_newcomers_follow_the_scenario(yamae, share):
    scn = yamae.replace(**NO_SHIFTS, demography__migration__net_rate=[0.1] * N_AGE_BANDS,
                        demography__migration__couple_share=share)
    pop = make_pop([[(a, s, ROLE_HEAD)] for a in range(25, 65) for s in (MALE, FEMALE) for _ in range(20)])
    new = in_migration(pop, scn, 2015, np.random.default_rng(8))
    spouses = (pop.role[new] == ROLE_SPOUSE).sum()
    men = ((pop.sex[new] == MALE) & (pop.age[new] >= 25)).sum()
    women = ((pop.sex[new] == FEMALE) & (pop.age[new] >= 25)).sum()
    assert men > 0 and women > 0 and spouses == int(min(men, women) * share)


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(0, 60), st.integers(1, 5), st.integers(0, 30), st.booleans())
def test_households_after_arrivals_are_those_read_again(seed, n_households, n_districts, n_new, into_older):
    """Sizes and inhabited households by district, extended by the arrivals: what a fresh read gives."""
    from kyojosim.core.demography import inhabited_by_district, with_arrivals

    rng = np.random.default_rng(seed)
    pop = Population()
    pop.add_households(n_households, district=rng.integers(0, n_districts, n_households), block=0)
    members = rng.integers(0, 4, n_households)  # some households empty from the start
    if members.sum():
        slots = pop.add(int(members.sum()), age=30, sex=MALE, role=ROLE_HEAD,
                        household=np.repeat(np.arange(n_households), members))
        pop.remove(slots[rng.random(slots.size) < 0.3])  # and some emptied since
    sizes = pop.household_sizes()
    inhabited = inhabited_by_district(pop, sizes)
    # the arrivals' households, in districts beyond those listed too; some left empty
    ids = pop.add_households(n_new, district=rng.integers(0, n_districts + 2, n_new), block=0)
    count = rng.integers(0, 3, n_new)
    household = np.repeat(ids, count)
    if into_older and n_households and household.size:
        household[0] = rng.integers(0, n_households)  # an arrival moving into an older household
    arrivals = pop.add(household.size, age=30, sex=MALE, role=ROLE_HEAD, household=household)
    got_sizes, (got_ordered, got_start) = with_arrivals(pop, sizes, inhabited, arrivals)
    want_ordered, want_start = inhabited_by_district(pop)
    np.testing.assert_array_equal(got_sizes, pop.household_sizes())
    assert got_sizes.dtype == np.int64 and got_ordered.dtype == want_ordered.dtype
    np.testing.assert_array_equal(got_ordered, want_ordered)
    np.testing.assert_array_equal(got_start, want_start)
