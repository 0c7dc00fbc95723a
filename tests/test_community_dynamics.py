"""Community dynamics (kyojosim.core.community_dynamics), participation-shaped trust (kyojosim.core.trust) and the
national smartphone path (kyojosim.core.ict)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kyojosim.constants import TIE_COMMUNITY, age_band
from kyojosim.core.communities import ONLINE_BIT, K, eligibility_weights
from kyojosim.core.community_dynamics import FEED_AND_PLAZA, yearly_memberships
from kyojosim.core.ict import ict_uptake, national_smartphone_path, path_year
from kyojosim.core.trust import participation_levels, yearly_participation
from kyojosim.model import KyojoModel
from towns import hand_built_town


def _model(**over) -> KyojoModel:
    return KyojoModel("yamae", seed=3, years=1, **over)


def _apply(model: KyojoModel, years: int = 1, seed: int = 0) -> list[np.ndarray]:
    joined = []
    for y in range(years):
        rng = np.random.default_rng(seed + y)
        joined.append(yearly_memberships(model.population, model.scenario, rng, model.community_levels,
                                         model.ties, model.year + y))
    return joined


def test_members_who_lose_eligibility_leave():
    model = _model()
    pop = model.population
    live = pop.live()
    # take every PTA parent's children out of school age, and retire everyone: PTA, unions and workplace groups empty
    pop.age[live[pop.age[live] < 18]] = 18
    pop.employed[:] = False
    assert (pop.groups[live, K["pta"]] >= 0).any() and (pop.groups[live, K["workplace_friends"]] >= 0).any()
    _apply(model)
    live = pop.live()
    w = eligibility_weights(pop, live, model.scenario)
    assert not ((pop.groups[live] >= 0) & (w <= 0)).any()
    for kind in ("pta", "labour_union", "workplace_friends"):
        assert not (pop.groups[live, K[kind]] >= 0).any(), kind


def test_turnover_keeps_the_level_without_a_trend():
    model = _model(communities__offline_trend=0.0, communities__turnover=0.2)
    pop = model.population
    live = pop.live()
    before = pop.groups[live] >= 0
    _apply(model, years=5)
    after = pop.groups[live] >= 0
    # people move in and out (a fifth of members leave each year) ...
    assert (before & ~after).sum() > 0.3 * before.sum() and (~before & after).sum() > 0.2 * before.sum()
    # ... but each kind keeps its share of residents (two-state chain at the synthesis level)
    assert np.allclose(after.mean(axis=0), before.mean(axis=0), atol=0.02)


def test_a_declining_trend_lowers_offline_participation_and_stops_at_its_end_year():
    model = _model(communities__offline_trend=-0.3, communities__trend_end_year=None, communities__turnover=0.3)
    live = model.population.live()
    share = (model.population.groups[live] >= 0).any(axis=1).mean()
    level = model.community_levels["offline"]
    _apply(model, years=3)
    # every age group's level follows the trend
    assert model.community_levels["offline"] == pytest.approx(level * 0.7 ** 3)
    assert (model.population.groups[live] >= 0).any(axis=1).mean() < share - 0.05
    # with the trend ending in the model's first year, the level no longer moves
    stopped = _model(communities__offline_trend=-0.3, communities__trend_end_year=2015)
    level = stopped.community_levels["offline"]
    _apply(stopped, years=3)
    assert np.array_equal(stopped.community_levels["offline"], level)


def test_social_media_users_join_online_communities_and_members_leave():
    model = _model(communities__online_join_rate=1.0, communities__online_exit_rate=0.0)
    pop = model.population
    live = pop.live()
    adults = live[pop.age[live] >= 18]
    outside = adults[pop.sns[adults] & ((pop.online[adults] & FEED_AND_PLAZA) == 0)]
    assert outside.size > 0
    _apply(model)
    assert np.all((pop.online[outside] & ONLINE_BIT["feed_groups"]) != 0)
    # nobody joins the local SNS this way (it has its own adoption rule)
    assert np.all((pop.online[outside] & ONLINE_BIT["local_sns"]) == 0)
    quits = _model(communities__online_join_rate=0.0, communities__online_exit_rate=1.0)
    _apply(quits)
    p = quits.population
    assert not ((p.online[p.live()] & FEED_AND_PLAZA) != 0)[p.age[p.live()] >= 18].any()


def test_new_members_are_tied_to_co_members():
    model = _model(communities__offline_trend=0.0, communities__turnover=0.5)
    pop = model.population
    before = set(zip(model.ties.a.tolist(), model.ties.b.tolist(), strict=True))
    joined = _apply(model)[0]
    assert joined.size > 0
    new = [(a, b) for a, b, k in zip(model.ties.a.tolist(), model.ties.b.tolist(), model.ties.kind.tolist(),
                                     strict=True) if (a, b) not in before]
    assert new
    joiners = set(joined.tolist())
    for a, b in new:
        assert a in joiners or b in joiners
        shared = (pop.groups[a] >= 0) & (pop.groups[a] == pop.groups[b])
        assert shared.any()
    kinds = {k for a, b, k in zip(model.ties.a.tolist(), model.ties.b.tolist(), model.ties.kind.tolist(),
                                  strict=True) if (a, b) not in before}
    assert all(k & TIE_COMMUNITY for k in kinds)


def test_yearly_joiners_of_a_local_kind_join_the_existing_chapters_of_their_district():
    model = _model(communities__offline_trend=0.0, communities__turnover=0.5)
    pop = model.population
    k = K["neighbourhood_association"]
    live = pop.live()
    chapters_before = {int(g): int(d) for g, d in zip(pop.groups[live, k], pop.district[live], strict=True)
                       if g >= 0}
    members_before = set(live[pop.groups[live, k] >= 0].tolist())
    _apply(model)
    live = pop.live()
    joiners = [s for s in live[pop.groups[live, k] >= 0].tolist() if s not in members_before]
    assert len(joiners) > 20
    districts_with_chapters = set(chapters_before.values())
    for s in joiners:
        if int(pop.district[s]) in districts_with_chapters:
            g = int(pop.groups[s, k])
            # a chapter that existed before the year, of the joiner's own district
            assert g in chapters_before and chapters_before[g] == int(pop.district[s])


def test_participation_levels_worked_by_hand():
    model, (a, b, c) = hand_built_town([(30, "f"), (45, "m"), (70, "f")])
    pop, scn = model.population, model.scenario
    pop.groups[[a, b, c]] = -1
    pop.online[[a, b, c]] = 0
    # a: 3 real-world communities and 1 online; b: 1 real-world; c: none
    pop.groups[a, [K["pta"], K["neighbourhood_association"], K["volunteer_group"]]] = 7
    pop.online[a] = ONLINE_BIT["feed_groups"]
    pop.groups[b, K["neighbourhood_association"]] = 7
    off, on, rec = participation_levels(pop, scn)
    t, e = scn.trust, scn.trust.participation_effect
    m_off = t.offline_trust_2017
    assert off[[a, b, c]] == pytest.approx([m_off + 2 * e, m_off, m_off - e])
    assert on[[a, b, c]] == pytest.approx([t.online_trust, t.online_trust - e, t.online_trust - e])
    assert rec[[a, b, c]] == pytest.approx([t.reciprocity + 3 * e, t.reciprocity, t.reciprocity - e])
    pop.trust_offline[[a, b, c]] = 0.5
    yearly_participation(pop, scn)
    pull = t.participation_pull
    expected = 0.5 + pull * (np.array([m_off + 2 * e, m_off, m_off - e]) - 0.5)
    assert pop.trust_offline[[a, b, c]] == pytest.approx(expected, abs=1e-6)


def test_national_path_values_and_tracking():
    path = national_smartphone_path()
    assert sorted(path) == list(range(2008, 2018))
    bands = age_band(np.array([22, 27, 67, 85]))
    assert path[2011][bands] == pytest.approx([0.448, 0.448, 0.025, 0.001])
    assert path[2016][age_band(np.array([12]))][0] == pytest.approx(0.814 / 2)
    model = KyojoModel("ikoma", seed=1, years=1, scale=0.05, ict__national_path_start=2008,
                       ict__smartphone_rate=[float(x) for x in path[2008]])
    assert path_year(model.scenario, 2015) == 2008 and path_year(model.scenario, 2019) == 2012
    pop = model.population
    for year in range(2015, 2020):
        ict_uptake(pop, model.scenario, np.random.default_rng(year), year + 1)
    live = pop.live()
    band = age_band(pop.age[live])
    for b in np.unique(band):
        sel = band == b
        if sel.sum() > 200:
            # ownership meets the series of 2013 (the model's 2020) for every well-populated band
            assert pop.smartphone[live][sel].mean() == pytest.approx(path[2013][b], abs=0.06), b


def test_participation_cap_and_older_members_are_the_scenarios():
    model, (a, b, c) = hand_built_town([(30, "f"), (45, "m"), (70, "f")])
    pop = model.population
    pop.cols["groups"][[a, b, c]] = -1
    pop.cols["online"][[a, b, c]] = 0
    pop.cols["groups"][a, [K["pta"], K["neighbourhood_association"], K["volunteer_group"]]] = 7
    scn = model.scenario.replace(trust__participation_cap=2)
    off, _, _ = participation_levels(pop, scn)
    # three communities count as two
    assert off[a] == pytest.approx(scn.trust.offline_trust_2017 + scn.trust.participation_effect)
    # residents 60+ belong to the neighbourhood association and to volunteer and religious groups more often
    for na, group in ((2.0, 1.5), (3.0, 1.0)):
        s = model.scenario.replace(communities__older_neighbourhood_weight=na, communities__older_group_weight=group)
        w = eligibility_weights(pop, np.array([b, c]), s)
        assert w[1, K["neighbourhood_association"]] / w[0, K["neighbourhood_association"]] == pytest.approx(na)
        assert w[1, K["volunteer_group"]] / w[0, K["volunteer_group"]] == pytest.approx(group)
        assert w[1, K["religious_group"]] / w[0, K["religious_group"]] == pytest.approx(group)


# -- the compiled kernels against the array code they stand for ---------------------------------------

def _raw_weights_array(age, parent, employed, older_neighbourhood, older_group) -> np.ndarray:
    """The eligibility weights before normalisation, rule by rule on whole columns (the array form)."""
    w = np.ones((age.size, len(K)))
    w[age < 18] = 0.0
    w[:, K["pta"]] *= parent
    w[:, K["labour_union"]] *= employed
    w[:, K["workplace_friends"]] *= employed
    w[:, K["agricultural_trade_group"]] *= age >= 40
    w[:, K["neighbourhood_association"]] *= np.where(age >= 60, older_neighbourhood, 1.0)
    w[:, K["volunteer_group"]] *= np.where(age >= 60, older_group, 1.0)
    w[:, K["religious_group"]] *= np.where(age >= 60, older_group, 1.0)
    return w


def _turnover_array(groups, slots, level, w, rates, u, rate, cap):
    """A year of leaving and joining over (resident, kind) pairs (the array form)."""
    p = np.minimum(level[:, None] * w * rates, cap)
    g = groups[slots]
    member = g >= 0
    leave = member & ((p <= 0) | (u[0] < rate))
    g[leave] = -1
    groups[slots] = g
    return ~member & (p > 0) & (u[1] < rate * p / (1.0 - p))


def _eligibility_array(age, role, household, alive, employed, n_households, slots, older_neighbourhood, older_group):
    """The normalised eligibility weights of ``slots`` on whole columns (the array form)."""
    from kyojosim.constants import ROLE_CHILD

    live = np.flatnonzero(alive)
    frame = live[(age[live] >= 20) & (age[live] < 70)]
    school = live[(age[live] >= 6) & (age[live] <= 14) & (role[live] == ROLE_CHILD)]
    hh_school = np.zeros(n_households, dtype=bool)
    hh_school[household[school]] = True

    def raw(s):
        a = age[s].astype(np.int64)
        parent = hh_school[household[s]] & (role[s] != ROLE_CHILD) & (a >= 18) & (a < 65)
        return _raw_weights_array(a, parent, employed[s], older_neighbourhood, older_group)

    w = raw(slots)
    if frame.size:
        mean = raw(frame).mean(axis=0)
        mean[mean == 0] = 1.0
        w = w / mean
    return w


def _kernel_town(rng, n, older_neighbourhood, older_group):
    """Random residents for the eligibility kernels: ages, roles, households, employment, rules, older weights."""
    from kyojosim.constants import ROLE_CHILD

    age = rng.integers(0, 100, n).astype(np.int16)
    role = np.where(rng.random(n) < 0.4, ROLE_CHILD, 0).astype(np.int8)
    n_households = max(n // 3, 1)
    household = rng.integers(0, n_households, n).astype(np.int32)
    employed = rng.random(n) < 0.5
    rule = np.array([K["pta"], K["labour_union"], K["workplace_friends"], K["agricultural_trade_group"],
                     K["neighbourhood_association"], K["volunteer_group"], K["religious_group"]], dtype=np.int64)
    return age, role, household, n_households, employed, rule, np.array([older_neighbourhood, older_group])


@given(st.integers(0, 2**32 - 1), st.integers(0, 300), st.floats(0.0, 5.0), st.floats(0.0, 5.0))
@settings(max_examples=40, deadline=None)
def test_eligibility_kernel_equals_the_array_rules(seed, n, older_neighbourhood, older_group):
    from kyojosim.constants import ROLE_CHILD
    from kyojosim.core.community_kernel import eligibility, frame_scale

    rng = np.random.default_rng(seed)
    age, role, household, n_households, employed, rule, older = _kernel_town(rng, n, older_neighbourhood, older_group)
    alive = rng.random(n) < 0.9
    slots = rng.permutation(n)[: n // 2].astype(np.int64)
    school, scale = frame_scale(age, role, household, alive, employed, n_households, int(ROLE_CHILD), rule, older,
                                len(K))
    got = eligibility(slots, age, role, household, employed, school, scale, int(ROLE_CHILD), rule, older)
    want = _eligibility_array(age, role, household, alive, employed, n_households, slots, older_neighbourhood,
                              older_group)
    assert got.dtype == want.dtype and np.array_equal(got.view(np.uint64), want.view(np.uint64))


@given(st.integers(0, 2**32 - 1), st.integers(0, 300), st.floats(0.0, 5.0), st.floats(0.0, 5.0))
@settings(max_examples=40, deadline=None)
def test_turnover_kernels_equal_the_pair_by_pair_rules(seed, n, older_neighbourhood, older_group):
    """The scan and the application of a year's turnover (weights from the table of codes) equal a loop over pairs."""
    from kyojosim.constants import ROLE_CHILD
    from kyojosim.core.community_kernel import chapter_members, frame_scale, turnover_apply, turnover_scan

    rng = np.random.default_rng(seed)
    age, role, household, n_households, employed, rule, older = _kernel_town(rng, n, older_neighbourhood, older_group)
    alive = np.ones(n, dtype=bool)
    n_kinds = len(K)
    groups = np.where(rng.random((n, n_kinds)) < 0.3, rng.integers(0, 50, (n, n_kinds)), -1).astype(np.int32)
    slots = np.sort(rng.permutation(n)[: n // 2]).astype(np.int64)
    school, scale = frame_scale(age, role, household, alive, employed, n_households, int(ROLE_CHILD), rule, older,
                                n_kinds)
    levels = rng.random(3) * 2
    level_of = rng.integers(0, 3, slots.size).astype(np.int64)
    rates = rng.random(n_kinds)
    rate, cap = 0.3, 0.95
    cols = (level_of, levels, age, role, household, employed, school, scale, int(ROLE_CHILD), rule, older)
    # the pair-by-pair rules, from the array form of the raw weights
    a = age[slots].astype(np.int64)
    parent = school[household[slots]] & (role[slots] != ROLE_CHILD) & (a >= 18) & (a < 65)
    raw = _raw_weights_array(a, parent, employed[slots], older_neighbourhood, older_group)
    p = np.minimum(levels[level_of][:, None] * (raw / scale) * rates, cap)
    member = groups[slots] >= 0
    with np.errstate(divide="ignore", invalid="ignore"):
        q = np.where(~member & (p > 0), np.minimum(rate * p / (1.0 - p), 1.0), 0.0)
    members, bound = turnover_scan(groups, slots, *cols, rates, rate, cap)
    assert members == member.sum() and np.array_equal(bound, q.max(axis=0) if slots.size else np.zeros(n_kinds))
    leave = np.flatnonzero(rng.random(int(members)) < 0.3)
    candidates = [np.flatnonzero(rng.random(slots.size) < 0.5) for _ in range(n_kinds)]
    start = np.r_[0, np.cumsum([c.size for c in candidates])].astype(np.int64)
    candidate = np.concatenate(candidates).astype(np.int64)
    u = rng.random(candidate.size)
    want_groups, want_join = groups.copy(), np.zeros((slots.size, n_kinds), dtype=bool)
    m = 0
    for i, s_ in enumerate(slots):
        for k in range(n_kinds):
            if member[i, k]:
                if p[i, k] <= 0 or m in leave:
                    want_groups[s_, k] = -1
                m += 1
            elif i in candidates[k]:
                x = u[start[k] + np.searchsorted(candidates[k], i)]
                want_join[i, k] = p[i, k] > 0 and x * bound[k] < rate * p[i, k] / (1.0 - p[i, k])
    # the chapters after the leaving are read in the same pass: as chapter_members gives them, with every id checked
    alive = rng.random(n) < 0.9
    alive[slots] = True
    district = rng.integers(0, 4, n).astype(np.int16)
    local = np.sort(rng.choice(n_kinds, int(rng.integers(0, n_kinds + 1)), replace=False)).astype(np.int64)
    if rng.random() < 0.5:  # ids of two kinds (else every id of one kind)
        groups[groups >= 0] += (np.arange(n_kinds, dtype=np.int32) * 50)[np.nonzero(groups >= 0)[1]]
        want_groups[want_groups >= 0] += (np.arange(n_kinds, dtype=np.int32) * 50)[np.nonzero(want_groups >= 0)[1]]
    n_ids = int(groups.max()) + 1 if n else 0
    rows, join, chapter_start, chapter_list, chapter_ids, unique, top = turnover_apply(
        groups, slots, *cols, rates, rate, cap, leave, start, candidate, u, bound, alive, district, local, n_ids)
    want_rows = np.flatnonzero(want_join.any(axis=1))
    assert np.array_equal(groups, want_groups) and np.array_equal(rows, want_rows)
    assert join.shape == (rows.size, n_kinds) and np.array_equal(join, want_join[want_rows])
    assert top == (int(want_groups.max()) if n else -1)
    want = chapter_members(want_groups, alive, district, local, np.zeros(n, dtype=np.uint16), top + 1)
    assert np.array_equal(chapter_start, want[0]) and np.array_equal(chapter_list, want[1]) and unique == want[2]
    listed = np.repeat(local, chapter_start[:, -1] - chapter_start[:, 0])  # each member's group in its listed kind
    assert chapter_ids.dtype == np.int64 and np.array_equal(chapter_ids, want_groups[chapter_list, listed])
    if (groups[alive] >= 0).any():  # an id not below n_ids is refused
        with pytest.raises(ValueError, match="n_ids"):
            turnover_apply(groups.copy(), slots, *cols, rates, rate, cap, leave, start, candidate, u, bound, alive,
                           district, local, 0)
    if slots.size > 1:  # slots out of order are refused (after the pass)
        with pytest.raises(ValueError, match="ascending"):
            turnover_apply(groups, slots[::-1].copy(), *cols, rates, rate, cap, leave, start, candidate, u, bound,
                           alive, district, local, n_ids)


def test_turnover_has_the_distribution_of_a_draw_per_pair():
    """Drawing only the memberships that may change gives what two uniforms per (resident, kind) pair give.

    From one start (an Ikoma town, turnover 0.3 so that joining is frequent), many runs of each way:
    per stratum (kind, member or not, the pair's chance p) the number of pairs that changed (left or
    joined); a chi-square test of homogeneity of the two ways over the strata, at level 1e-4 (fixed
    seeds). The array form draws float32 uniforms, as the model once did.
    """
    from scipy import stats

    from kyojosim.core.communities import offline_level
    from kyojosim.core.community_dynamics import MAX_SHARE, turnover

    model = KyojoModel("ikoma", seed=2, scale=0.05, years=0, communities__turnover=0.3)
    pop, scn = model.population, model.scenario
    live = pop.live()
    slots = live[pop.age[live] >= 18]
    level = offline_level(model.community_levels, pop.age[slots])
    rate = scn.communities.turnover
    rates = np.array([scn.communities.membership_rate[k] for k in K])
    w = eligibility_weights(pop, slots, scn)
    p = np.minimum(level[:, None] * w * rates, MAX_SHARE)
    groups0 = pop.groups.copy()
    member = groups0[slots] >= 0
    _, p_index = np.unique(p, return_inverse=True)
    stratum = (np.arange(len(K)) * 2 + member) * (p_index.max() + 1) + p_index.reshape(p.shape)
    n_strata = len(K) * 2 * (p_index.max() + 1)
    changed = []
    for way in ("per pair", "drawn"):
        count = np.zeros(n_strata, dtype=np.int64)
        for run in range(30):
            pop.groups[:] = groups0
            rng = np.random.default_rng(1000 * (way == "drawn") + run)
            if way == "per pair":
                g = pop.groups.copy()
                join = _turnover_array(g, slots, level, w, rates, rng.random((2, *w.shape), dtype=np.float32), rate,
                                       MAX_SHARE)
                pop.groups[:] = g
            else:
                rows, joined = turnover(pop, scn, slots, np.asarray(model.community_levels["offline"]), rng)
                join = np.zeros(w.shape, dtype=bool)
                join[rows] = joined
            assert not (join & member).any()
            moved = join | (member & (pop.groups[slots] < 0))
            count += np.bincount(stratum[moved], minlength=n_strata)
        changed.append(count)
    size = np.bincount(stratum.ravel(), minlength=n_strata) * 30
    assert (changed[0] != changed[1]).any()  # other draws
    chi2, dof = 0.0, 0
    for s_ in np.flatnonzero((changed[0] + changed[1] > 0) & (changed[0] + changed[1] < 2 * size)):
        table = np.array([[changed[0][s_], size[s_] - changed[0][s_]], [changed[1][s_], size[s_] - changed[1][s_]]])
        chi2 += stats.chi2_contingency(table, correction=False)[0]
        dof += 1
    assert dof > 30 and stats.chi2.sf(chi2, dof) > 1e-4
    # members still eligible (p > 0) leave with probability ``turnover``; those who are not, all leave
    eligible = member & (p > 0)
    is_member_stratum = np.arange(n_strata) // (p_index.max() + 1) % 2 == 1
    positive = np.zeros(n_strata, dtype=bool)
    positive[stratum[eligible]] = True
    left = changed[1][is_member_stratum & positive].sum()
    trials = eligible.sum() * 30
    assert abs(left / trials - rate) < 4 * np.sqrt(rate * (1 - rate) / trials)
    assert changed[1][is_member_stratum & ~positive].sum() == size[is_member_stratum & ~positive].sum()


def test_participation_group_and_any_per_row_equal_the_array_forms():
    from kyojosim.constants import PARTICIPATION_GROUPS
    from kyojosim.core.communities import participation_group
    from kyojosim.core.population import any_per_row

    model = _model()
    pop = model.population
    rng = np.random.default_rng(2)
    pop.groups[:] = np.where(rng.random(pop.groups.shape) < 0.1, 3, -1)
    pop.online[:] = np.where(rng.random(pop.n) < 0.4, 2, 0)
    offline, online = (pop.groups >= 0).any(axis=1), pop.online > 0
    want = np.zeros(pop.n, dtype=np.int8)
    want[offline & ~online] = PARTICIPATION_GROUPS.index("offline_only")
    want[offline & online] = PARTICIPATION_GROUPS.index("both")
    want[~offline & online] = PARTICIPATION_GROUPS.index("online_only")
    assert np.array_equal(participation_group(pop), want)
    for shape in ((50, 8), (50, 10), (0, 8)):
        mask = rng.random(shape) < 0.1
        assert np.array_equal(any_per_row(mask), mask.any(axis=1))
    assert np.array_equal(any_per_row(mask[:, ::-1]), mask[:, ::-1].any(axis=1))


@given(st.integers(0, 2**32 - 1), st.integers(0, 300), st.integers(0, 4), st.integers(1, 6))
@settings(max_examples=40, deadline=None)
def test_chapter_members_kernel_equals_a_stable_sort_by_district(seed, n, n_kinds, n_districts):
    """The members of each kind by district, in slot order, as filtering the living sorted stably by district."""
    from kyojosim.core.community_kernel import chapter_members

    rng = np.random.default_rng(seed)
    groups = np.where(rng.random((n, len(K))) < 0.4, rng.integers(0, 30, (n, len(K))), -1).astype(np.int32)
    groups[rng.random(n) < 0.3] = -1  # residents in no group at all
    alive = rng.random(n) < 0.9
    district = rng.integers(0, n_districts, n).astype(np.int16)
    kinds = np.sort(rng.choice(len(K), n_kinds, replace=False)).astype(np.int64)
    new_bits = rng.integers(0, 1 << max(n_kinds, 1), n).astype(np.uint16)
    start, members, unique = chapter_members(groups, alive, district, kinds, new_bits, 20)
    held = [set(groups[alive, k][(groups[alive, k] >= 0) & (groups[alive, k] < 20)].tolist()) for k in range(len(K))]
    assert unique == all(not (held[k] & held[k2]) for k in range(len(K)) for k2 in range(k))
    unchecked = chapter_members(groups, alive, district, kinds, new_bits, -1)
    assert not unchecked[2] and np.array_equal(unchecked[0], start) and np.array_equal(unchecked[1], members)
    d_all = int(district.max()) + 1 if n else 0
    assert start.shape == (n_kinds, d_all + 1)
    order = np.argsort(district, kind="stable")
    offset = 0
    for j, k in enumerate(kinds):
        keep = alive & (groups[:, k] >= 0) & ((new_bits >> j) & 1 == 0)
        for d in range(d_all):
            want = order[keep[order] & (district[order] == d)]
            assert start[j, d] == offset
            assert np.array_equal(members[start[j, d]:start[j, d + 1]], want)
            offset += want.size
        assert start[j, d_all] == offset
    assert members.size == offset


@given(st.integers(0, 2**32 - 1), st.integers(0, 400), st.floats(0.0, 1.0))
@settings(max_examples=40, deadline=None)
def test_ict_uptake_kernel_equals_the_array_rule(seed, n, yearly_uptake):
    """The compiled default rule of ICT uptake: the same new smartphone and social-media users as the array rule."""
    from kyojosim.constants import AGE_BAND_WIDTH, N_AGE_BANDS
    from kyojosim.core.ict_kernel import uptake

    rng = np.random.default_rng(seed)
    alive = rng.random(n) < 0.8
    age = rng.integers(0, 110, n).astype(np.int16)
    phone0, sns0 = rng.random(n) < 0.5, rng.random(n) < 0.3
    rate_phone = rng.random(N_AGE_BANDS)
    rate_phone[rng.random(N_AGE_BANDS) < 0.2] = 0.0  # bands without smartphones: no social media by this rule
    rate_sns = rng.random(N_AGE_BANDS) * 1.2
    live = np.flatnonzero(alive)
    u = rng.random((2, live.size))
    # the array rule
    band = age_band(age[live])
    share = np.divide(rate_sns, rate_phone, out=np.zeros(N_AGE_BANDS), where=rate_phone > 0)[band]
    want_phone, want_sns = phone0.copy(), sns0.copy()
    new_phone = ~want_phone[live] & (u[0] < yearly_uptake * rate_phone[band])
    want_phone[live[new_phone]] = True
    new_sns = want_phone[live] & ~want_sns[live] & (u[1] < yearly_uptake * share)
    want_sns[live[new_sns]] = True
    got_phone, got_sns = phone0.copy(), sns0.copy()
    p_sns = yearly_uptake * np.divide(rate_sns, rate_phone, out=np.zeros(N_AGE_BANDS), where=rate_phone > 0)
    uptake(alive, age, got_phone, got_sns, u, yearly_uptake * rate_phone, p_sns, AGE_BAND_WIDTH, N_AGE_BANDS - 1)
    assert np.array_equal(got_phone, want_phone)
    assert np.array_equal(got_sns, want_sns)


@given(st.integers(0, 2**32 - 1), st.integers(0, 300), st.floats(0.0, 5.0), st.floats(0.0, 5.0))
@settings(max_examples=40, deadline=None)
def test_adult_scan_equals_the_adults_frame_scale_and_turnover_scan(seed, n, older_neighbourhood, older_group):
    """The slots of the yearly turnover, the eligibility inputs and the scan read in one pass: as the array form
    of the slots and the kernels of the eligibility inputs and of the scan."""
    from kyojosim.constants import ROLE_CHILD
    from kyojosim.core.communities import OFFLINE_AGE_GROUPS, offline_age_group
    from kyojosim.core.community_kernel import adult_scan, frame_scale, turnover_scan

    rng = np.random.default_rng(seed)
    age, role, household, n_households, employed, rule, older = _kernel_town(rng, n, older_neighbourhood, older_group)
    alive, keep = rng.random(n) < 0.85, rng.random(n) < 0.9
    groups = np.where(rng.random((n, len(K))) < 0.3, rng.integers(0, 50, (n, len(K))), -1).astype(np.int32)
    n_groups = len(OFFLINE_AGE_GROUPS)
    levels = rng.random(n_groups) * 2
    rates = rng.random(len(K))
    rate, cap = float(rng.random()), 0.95
    got = adult_scan(groups, alive, keep, age, role, household, employed, n_households, int(ROLE_CHILD), rule, older,
                     18, n_groups, levels, rates, rate, cap)
    slots = np.flatnonzero(alive & keep & (age >= 18))  # the living adults not skipped, and their age groups
    level_of = offline_age_group(age[slots])
    school, scale = frame_scale(age, role, household, alive, employed, n_households, int(ROLE_CHILD), rule, older,
                                len(K))
    members, bound = turnover_scan(groups, slots, level_of, levels, age, role, household, employed, school, scale,
                                   int(ROLE_CHILD), rule, older, rates, rate, cap)
    for a, b in zip(got, (slots, level_of, school, scale, members, bound), strict=True):
        a, b = np.atleast_1d(a), np.atleast_1d(b)  # to the bit (the floats too)
        assert a.dtype == b.dtype and np.array_equal(a.view(np.uint8), b.view(np.uint8))


@given(st.integers(0, 2**32 - 1), st.integers(0, 300))
@settings(max_examples=40, deadline=None)
def test_online_turnover_equals_the_array_form(seed, n):
    """The online leaving and starting of the yearly turnover: as the array form."""
    from kyojosim.core.community_kernel import online_turnover

    rng = np.random.default_rng(seed)
    alive, keep = rng.random(n) < 0.8, rng.random(n) < 0.9
    age = rng.integers(0, 110, n).astype(np.int16)
    slots = np.flatnonzero(alive & keep & (age >= 18))
    online = rng.integers(0, 16, n).astype(np.uint8)
    sns = rng.random(n) < 0.5
    v = rng.random(slots.size)
    exit_rate, join_rate = rng.random(2)
    want_online = online.copy()
    in_feed = (online[slots] & FEED_AND_PLAZA) != 0
    want_online[slots[in_feed & (v < exit_rate)]] &= ~FEED_AND_PLAZA
    want_new = slots[~in_feed & sns[slots] & (v < join_rate)]
    got = online_turnover(online, sns, slots, v, float(exit_rate), float(join_rate), FEED_AND_PLAZA)
    assert np.array_equal(got, want_new) and np.array_equal(online, want_online)


@given(st.integers(0, 2**32 - 1), st.integers(0, 300), st.integers(1, 5), st.booleans())
@settings(max_examples=60, deadline=None)
def test_groups_of_joiners_equal_the_groups_with_new_members(seed, n, n_districts, cross):
    """The groups a year's joiners joined, from the joiners and the chapter lists: what a pass over the town gives.

    A random town whose group ids are of one kind each (some chapters across districts, as residents who
    moved keep theirs); joiners take an existing chapter of a local kind or a new id, as
    :func:`add_memberships` gives them; with ``cross``, one existing id is also held in a second kind.
    """
    from kyojosim.core.communities import LOCAL_KINDS
    from kyojosim.core.community_kernel import chapter_members, groups_of_joiners
    from kyojosim.core.network_kernel import kinds_groups_with_new

    rng = np.random.default_rng(seed)
    n_kinds = len(K)
    per_kind = 6
    ids = np.arange(n_kinds * per_kind).reshape(n_kinds, per_kind)  # the ids of each kind, one counter
    groups = np.where(rng.random((n, n_kinds)) < 0.4, ids[np.arange(n_kinds), rng.integers(0, per_kind, (n, n_kinds))],
                      -1).astype(np.int32)
    alive = rng.random(n) < 0.9
    district = rng.integers(0, n_districts, n).astype(np.int16)
    first_new = n_kinds * per_kind
    if cross and n:
        groups[rng.integers(0, n), 1] = ids[0, 0]  # an id of the first kind held in the second too
    # the joiners: living non-members of some kinds
    joiners = np.flatnonzero(alive & (rng.random(n) < 0.3))
    joined = (rng.random((joiners.size, n_kinds)) < 0.3) & (groups[joiners] < 0)
    has = joined.any(axis=1)
    joiners, joined = joiners[has], joined[has]
    local = np.array([name in LOCAL_KINDS for name in K])
    kinds = np.flatnonzero(local & joined.any(axis=0)).astype(np.int64)
    new_bits = np.zeros(n, dtype=np.uint16)
    for j, k in enumerate(kinds):
        new_bits[joiners[joined[:, k]]] |= np.uint16(1 << j)
    start, members, unique = chapter_members(groups, alive, district, kinds, new_bits, first_new)
    # joiners of a local kind take an existing id of the kind (or a new one), of others a new id
    for r, s_ in enumerate(joiners):
        for k in np.flatnonzero(joined[r]):
            if local[k] and rng.random() < 0.7:
                groups[s_, k] = ids[k, rng.integers(0, per_kind)]
            else:  # new ids of the kind, some shared by joiners
                groups[s_, k] = first_new + 3 * k + int(rng.integers(0, 3))
    is_new = np.zeros((n, n_kinds), dtype=bool)
    is_new[joiners] = joined
    want = kinds_groups_with_new(groups, is_new, alive)
    listed = np.repeat(kinds, start[:, -1] - start[:, 0])  # the kind each member is listed in
    chapter_ids = groups[members, listed].astype(np.int64)  # read after the joiners joined: their rows only changed
    got = groups_of_joiners(groups, joiners.astype(np.int64), np.ascontiguousarray(joined), kinds, start, members,
                            chapter_ids, first_new)
    if unique:
        assert want[0] and got[0]
        for g, w in zip(got[1:], want[1:], strict=True):
            np.testing.assert_array_equal(g, w)
    else:
        assert cross
