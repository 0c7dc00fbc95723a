"""Population synthesis: exact age-sex marginals, households, traits, memberships and the participation mix."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kyojosim.constants import (
    AGE_BAND_WIDTH,
    FEMALE,
    HOUSEHOLD_KINDS,
    MALE,
    N_AGE_BANDS,
    OFFLINE_COMMUNITIES,
    ROLE_CHILD,
    ROLE_ELDER,
    ROLE_HEAD,
    ROLE_SPOUSE,
    TIE_HOUSEHOLD,
)
from kyojosim.core.communities import K, participation_mix
from kyojosim.core.households import classify
from kyojosim.core.streams import Streams
from kyojosim.core.synthesis import draw_ages_in_band, largest_remainder, synthesize, target_counts

# The participation mix of residents in their 20s-70s: MIC White Paper on Information and Communications 2018
# (平成30年版情報通信白書), 図表4-3-5-2, as in shared/whitepaper2018/community_participation_all_ages.csv
# (percent; columns none, offline_only, both, online_only). Hard-coded here so the tests run without shared/.
SURVEY_ROW = {
    2017: {"none": 11.7, "offline_only": 7.8, "both": 36.5, "online_only": 44.1},
    2008: {"none": 16.7, "offline_only": 24.9, "both": 42.2, "online_only": 16.3},
}


def household_table(pop):
    """Per household id of the living residents: members' slots."""
    live = pop.live()
    order = live[np.argsort(pop.household[live], kind="stable")]
    h = pop.household[order]
    cuts = np.flatnonzero(np.r_[True, h[1:] != h[:-1]])
    return {int(h[c]): order[c:e] for c, e in zip(cuts, np.r_[cuts[1:], h.size])}


# ---------------------------------------------------------------------------------------- marginals


def test_largest_remainder_is_exact():
    w = np.array([[1.0, 2.0, 3.3], [0.7, 0.0, 5.0]])
    for total in (0, 1, 7, 13, 1000):
        out = largest_remainder(w, total)
        assert out.sum() == total and out.shape == w.shape
        assert np.all(np.abs(out - w / w.sum() * total) < 1)
        assert out[1, 1] == 0


def test_age_sex_counts_match_targets_exactly(yamae, yamae_synth):
    pop, _, _ = yamae_synth
    target = target_counts(yamae)
    assert np.array_equal(pop.band_counts(), target)
    assert target.sum() == pop.size == round(yamae.municipality.population * yamae.municipality.scale)
    # the table (which may not sum to the census total exactly) is rescaled: within one person per cell
    table = np.array([yamae.municipality.age_structure.male, yamae.municipality.age_structure.female])
    assert np.all(np.abs(target - table / table.sum() * target.sum()) < 1)


def test_full_scale_reproduces_a_consistent_table(scenario_from):
    male = [10, 12, 0, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31, 33, 35]
    female = [9, 11, 13, 0, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30, 32, 40]
    scn = scenario_from({"municipality.age_structure.male": male, "municipality.age_structure.female": female,
                         "municipality.population": sum(male) + sum(female)})
    assert np.array_equal(target_counts(scn), np.array([male, female]))
    pop, _, _ = synthesize(scn, Streams(3))
    assert np.array_equal(pop.band_counts(), np.array([male, female]))


def test_scaled_population_total_and_marginals(scenario_from):
    scn = scenario_from(municipality__scale=0.3)
    pop, _, _ = synthesize(scn, Streams(4))
    assert pop.size == round(3422 * 0.3)
    assert np.array_equal(pop.band_counts(), target_counts(scn))
    # the sample keeps the age-sex shape within one person per cell
    table = np.array([scn.municipality.age_structure.male, scn.municipality.age_structure.female])
    assert np.all(np.abs(pop.band_counts() - table * 0.3) < 1)


def test_ages_within_bands(yamae):
    band = np.repeat(np.arange(N_AGE_BANDS), 500)
    age = draw_ages_in_band(band, yamae, np.random.default_rng(0))
    top = band == N_AGE_BANDS - 1
    assert np.all(age[~top] // AGE_BAND_WIDTH == band[~top])
    assert yamae.demography.max_age == 105 and np.all((age[top] >= 85) & (age[top] <= 105))
    assert 87 < age[top].mean() < 91  # mean age of the 85+ about 89 (2015 census)
    # the two parameters of the open band: its mean and the oldest age
    band = np.full(20_000, N_AGE_BANDS - 1)
    older = draw_ages_in_band(band, yamae.replace(demography__mean_age_85plus=92.0, demography__max_age=100),
                              np.random.default_rng(0))
    assert older.max() <= 100 and 90 < older.mean() < 92


# ---------------------------------------------------------------------------------------- households


def test_every_resident_in_exactly_one_existing_household(yamae_synth):
    pop, _, _ = yamae_synth
    h = pop.household
    assert h.min() >= 0 and h.max() < pop.n_households
    # household ids are dense: every household has at least one member
    assert np.all(pop.household_sizes() >= 1)
    assert pop.n == pop.size  # no gone slots at the start
    assert np.all(pop.hh.kind >= 0)


def kind_shares(pop) -> np.ndarray:
    kind = pop.hh.kind
    return np.bincount(kind[kind >= 0], minlength=len(HOUSEHOLD_KINDS)) / (kind >= 0).sum()


def test_household_kind_shares_near_scenario(yamae, yamae_synth):
    pop, _, _ = yamae_synth
    got = kind_shares(pop)
    for i, k in enumerate(HOUSEHOLD_KINDS):
        want = yamae.municipality.households.shares[k]
        assert abs(got[i] - want) <= 0.02, (k, got[i], want)
    # the scenario's note: about 1,170 general households, mean size 2.9 (2015 census)
    assert 1100 <= pop.n_households <= 1250
    assert 2.7 <= pop.size / pop.n_households <= 3.1


@pytest.mark.parametrize("name", ["koto", "ikoma"])
def test_household_kind_shares_of_other_bundled_scenarios(name):
    from kyojosim.params.scenario import SCENARIO_DIR, load_scenario

    if not (SCENARIO_DIR / f"{name}.yaml").is_file():
        pytest.skip(f"no bundled scenario {name}")
    scn = load_scenario(name)
    scn = scn.replace(municipality__scale=min(1.0, 5000 / scn.municipality.population))
    pop, _, _ = synthesize(scn, Streams(2))
    got = kind_shares(pop)
    for i, k in enumerate(HOUSEHOLD_KINDS):
        assert abs(got[i] - scn.municipality.households.shares[k]) <= 0.05, (name, k, got[i])


def test_stored_kind_matches_classification(yamae_synth):
    pop, _, _ = yamae_synth
    assert np.array_equal(pop.hh.kind, classify(pop))


def test_one_head_per_household_and_couples_opposite_sex(yamae_synth):
    pop, _, _ = yamae_synth
    for _hid, members in household_table(pop).items():
        role = pop.role[members]
        assert (role == ROLE_HEAD).sum() == 1
        assert (role == ROLE_SPOUSE).sum() <= 1
        if (role == ROLE_SPOUSE).any():
            head = members[role == ROLE_HEAD][0]
            spouse = members[role == ROLE_SPOUSE][0]
            assert pop.sex[head] != pop.sex[spouse]
            assert pop.age[spouse] >= 18 and pop.age[head] >= 18


def test_children_live_with_an_adult(yamae_synth):
    pop, _, _ = yamae_synth
    hh = household_table(pop)
    minors = np.flatnonzero(pop.age < 18)
    assert np.all(pop.role[minors] == ROLE_CHILD)  # nobody under 18 heads a household at the start
    adult_in = np.zeros(pop.n_households, dtype=bool)
    adult_in[pop.household[pop.age >= 18]] = True
    assert adult_in[pop.household[minors]].all()
    # and the adult is a parent: a head or spouse of working age
    for m in minors[:200]:
        members = hh[int(pop.household[m])]
        parents = members[np.isin(pop.role[members], (ROLE_HEAD, ROLE_SPOUSE))]
        assert (pop.age[parents] >= 18).any()


def test_elders_live_with_younger_family(yamae_synth):
    pop, _, _ = yamae_synth
    elders = np.flatnonzero(pop.role == ROLE_ELDER)
    assert elders.size > 0
    assert np.all(pop.age[elders] >= 65)
    size = pop.household_sizes()
    assert np.all(size[pop.household[elders]] >= 2)


def test_districts_follow_population_shares(yamae, yamae_synth):
    pop, _, _ = yamae_synth
    d = pop.hh.district
    shares = np.array([x.population_share for x in yamae.municipality.districts])
    got = np.bincount(d, minlength=shares.size) / d.size
    assert np.all(np.abs(got - shares) < 1.0 / d.size + 1e-9)  # largest-remainder: within one household
    assert np.array_equal(pop.district, d[pop.household])


def test_blocks_are_within_a_district_and_of_the_right_size(yamae, yamae_synth):
    pop, _, _ = yamae_synth
    block, d = pop.hh.block, pop.hh.district
    for b in np.unique(block):
        assert np.unique(d[block == b]).size == 1
    assert np.bincount(block).max() <= yamae.network.block_households


# ---------------------------------------------------------------------------------------- traits and memberships


def test_traits_follow_age(yamae_synth):
    pop, _, _ = yamae_synth
    assert not pop.employed[pop.age < 15].any()
    assert not pop.drives[pop.age < 15].any()
    assert not (pop.employed & pop.frail).any()
    assert not (pop.drives & pop.frail).any()
    assert pop.smartphone[(pop.age >= 20) & (pop.age < 40)].mean() > pop.smartphone[pop.age >= 75].mean() + 0.4
    assert pop.frail[pop.age >= 85].mean() > 0.4 and pop.frail[pop.age < 65].mean() < 0.03


@pytest.mark.parametrize("year", [2017, 2008])
def test_participation_mix_reproduces_survey_row(yamae_dict, year):
    from kyojosim.params.scenario import load_scenario

    scn = load_scenario(yamae_dict, {"communities.participation_year": year})
    pop, _, _ = synthesize(scn, Streams(11))
    mix = participation_mix(pop, (20, 79))
    row = SURVEY_ROW[year]
    for group, pct in row.items():
        assert abs(100 * mix[group] - pct) <= 2.0, (year, group, 100 * mix[group], pct)


def test_participation_mix_of_yamae_seed(yamae_synth):
    pop, _, _ = yamae_synth
    mix = participation_mix(pop, (20, 79))
    for group, pct in SURVEY_ROW[2017].items():
        assert abs(100 * mix[group] - pct) <= 2.0


def test_online_participants_use_social_media_not_necessarily_a_smartphone(yamae_synth):
    pop, _, _ = yamae_synth
    online = pop.online > 0
    assert online.any()
    assert pop.sns[online].all()
    # social media from a PC or a feature phone too: smartphone ownership keeps the survey's rates by age
    assert not pop.smartphone[online].all()
    assert not online[pop.age < 13].any()


def test_pta_members_live_with_a_school_child(yamae_synth):
    pop, _, _ = yamae_synth
    pta = np.flatnonzero(pop.groups[:, K["pta"]] >= 0)
    assert pta.size > 0
    school = (pop.age >= 6) & (pop.age <= 14)
    hh_school = np.zeros(pop.n_households, dtype=bool)
    hh_school[pop.household[school]] = True
    assert hh_school[pop.household[pta]].all()
    assert np.all(pop.role[pta] != ROLE_CHILD)


def test_workplace_and_union_members_are_employed(yamae_synth):
    pop, _, _ = yamae_synth
    for kind in ("workplace_friends", "labour_union"):
        members = pop.groups[:, K[kind]] >= 0
        assert members.any()
        assert pop.employed[members].all(), kind


def test_no_minor_in_a_real_world_community(yamae_synth):
    pop, _, _ = yamae_synth
    assert not (pop.groups[pop.age < 18] >= 0).any()
    assert not (pop.groups[:, K["agricultural_trade_group"]][pop.age < 40] >= 0).any()


def test_local_chapters_are_within_a_district(yamae, yamae_synth):
    pop, _, _ = yamae_synth
    from kyojosim.core.communities import LOCAL_KINDS

    for name in LOCAL_KINDS:
        g = pop.groups[:, K[name]]
        for gid in np.unique(g[g >= 0]):
            members = g == gid
            assert np.unique(pop.district[members]).size == 1, name
            assert members.sum() <= yamae.network.community_group_size
    # group ids are unique across kinds (a chapter belongs to one kind)
    ids = [set(np.unique(pop.groups[:, k][pop.groups[:, k] >= 0])) for k in range(len(OFFLINE_COMMUNITIES))]
    for i in range(len(ids)):
        for j in range(i + 1, len(ids)):
            assert not ids[i] & ids[j]


# ---------------------------------------------------------------------------------------- ties


def assert_tie_invariants(ties, pop):
    """No self-ties, no duplicates, a < b, only living slots; household members all tied to each other."""
    a, b = ties.a.astype(np.int64), ties.b.astype(np.int64)
    assert np.all(a < b)
    key = a * (pop.n + 1) + b
    assert np.unique(key).size == key.size
    assert b.size == 0 or b.max() < pop.n
    assert pop.alive[: pop.n][a].all() and pop.alive[: pop.n][b].all()
    assert np.all((ties.strength > 0) & (ties.strength <= 1))
    assert np.all(ties.kind != 0)
    hh_tie = set(key[(ties.kind & TIE_HOUSEHOLD) != 0].tolist())
    live = pop.live()
    order = live[np.argsort(pop.household[live], kind="stable")]
    h = pop.household[order]
    cuts = np.flatnonzero(np.r_[True, h[1:] != h[:-1]])
    missing = []
    for c, e in zip(cuts, np.r_[cuts[1:], h.size]):
        m = np.sort(order[c:e])
        for i in range(m.size):
            for j in range(i + 1, m.size):
                if int(m[i]) * (pop.n + 1) + int(m[j]) not in hh_tie:
                    missing.append((int(m[i]), int(m[j])))
    assert not missing, f"{len(missing)} pairs of household members without a household tie, e.g. {missing[:3]}"
    # and household ties join members of one household only at the start (checked by the caller)


def test_tie_invariants_at_start(yamae_synth):
    pop, ties, _ = yamae_synth
    assert len(ties) > pop.size  # a connected village: more ties than residents
    assert_tie_invariants(ties, pop)
    hh = (ties.kind & TIE_HOUSEHOLD) != 0
    assert np.all(pop.household[ties.a[hh]] == pop.household[ties.b[hh]])


def test_neighbour_ties_within_blocks(yamae_synth):
    from kyojosim.constants import TIE_NEIGHBOUR

    pop, ties, _ = yamae_synth
    nb = (ties.kind & TIE_NEIGHBOUR) != 0
    assert nb.any()
    block = pop.hh.block[pop.household]
    assert np.all(block[ties.a[nb]] == block[ties.b[nb]])
    assert np.all(pop.age[ties.a[nb]] >= 15) and np.all(pop.age[ties.b[nb]] >= 15)


def test_mean_degree_is_plausible(yamae, yamae_synth):
    pop, ties, _ = yamae_synth
    deg = ties.degree(pop.n)
    adults = pop.age >= 18
    assert 3 < deg[adults].mean() < 30
    assert (deg == 0).mean() < 0.05


def test_sexes_are_both_present(yamae_synth):
    pop, _, _ = yamae_synth
    assert set(np.unique(pop.sex)) == {MALE, FEMALE}


def test_degenerate_towns_still_synthesise(scenario_from):
    """Only children, only elderly, or a single resident: every resident still gets one household."""
    male = [0] * N_AGE_BANDS
    female = [0] * N_AGE_BANDS
    for band, pop_size in ((1, 40), (17, 40), (8, 1)):
        m, f = list(male), list(female)
        m[band] = pop_size // 2 + pop_size % 2
        f[band] = pop_size // 2
        scn = scenario_from({"municipality.age_structure.male": m, "municipality.age_structure.female": f,
                             "municipality.population": pop_size})
        pop, ties, _ = synthesize(scn, Streams(1))
        assert pop.size == pop_size
        assert np.all(pop.household_sizes() >= 1)
        heads = np.bincount(pop.household[pop.role == ROLE_HEAD], minlength=pop.n_households)
        assert np.all(heads == 1), (band, heads)
        assert_tie_invariants(ties, pop)


@pytest.mark.parametrize("share", [0.0, 0.9])
def test_young_adults_living_with_parents_follow_the_scenario(yamae, share):
    scn = yamae.replace(municipality__households__live_with_parents_18_29=share)
    pop, _, _ = synthesize(scn, Streams(3))
    young = (pop.age >= 18) & (pop.age <= 29)
    at_home = (young & (pop.role == ROLE_CHILD)).sum() / young.sum()
    assert abs(at_home - share) < 0.1


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(0, 300), st.integers(1, 60), st.floats(0.0, 1.0), st.floats(0.0, 1.0),
       st.sampled_from([np.int16, np.int32, np.int64]))
def test_few_groups_with_new_equal_the_general_listing_and_draw_the_same_pairs(seed, n, n_ids, share_new,
                                                                               share_alive, dtype):
    from kyojosim.core.communities import pairs_touching_few
    from kyojosim.core.households_kernel import few_groups_with_new
    from kyojosim.core.network import pairs_touching
    from kyojosim.core.network_kernel import groups_with_new

    rng = np.random.default_rng(seed)
    group = np.where(rng.random(n) < 0.2, -1, rng.integers(0, n_ids, n)).astype(dtype)
    new = rng.random(n) < share_new
    alive = rng.random(n) < share_alive
    got = few_groups_with_new(group, new, alive)
    want = groups_with_new(group.astype(np.int64), new, alive)
    for g, w in zip(got, want, strict=True):
        assert g.dtype == w.dtype and np.array_equal(g, w)
    # the pairs drawn from the listing are those of the general path, draw for draw
    a, b = pairs_touching_few(group, new, 3.0, np.random.default_rng(seed), alive)
    wa, wb = pairs_touching(group.astype(np.int64), new, 3.0, np.random.default_rng(seed), alive=alive)
    assert np.array_equal(a, wa) and np.array_equal(b, wb)


def _household_pairs_by_arrays(household: np.ndarray, members: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The array form of the household pairs: members ordered by household, pairs d apart for d = 1, 2, ..."""
    order = members[np.argsort(household[members], kind="stable")]
    h = household[order]
    out_a, out_b = [np.zeros(0, dtype=np.int64)], [np.zeros(0, dtype=np.int64)]
    for d in range(1, order.size):
        same = h[d:] == h[:-d]
        if not same.any():
            break
        out_a.append(order[:-d][same])
        out_b.append(order[d:][same])
    return np.concatenate(out_a), np.concatenate(out_b)


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(0, 200), st.integers(1, 80))
def test_household_pairs_equal_the_array_form(seed, n, n_households):
    from kyojosim.core.synthesis import household_pairs

    rng = np.random.default_rng(seed)
    household = rng.integers(0, n_households, n).astype(np.int32)
    members = np.flatnonzero(rng.random(n) < 0.7)
    a, b = household_pairs(household, members)
    want_a, want_b = _household_pairs_by_arrays(household, members)
    assert a.dtype == np.int64 and b.dtype == np.int64
    np.testing.assert_array_equal(a, want_a)
    np.testing.assert_array_equal(b, want_b)
