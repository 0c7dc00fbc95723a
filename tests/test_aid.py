"""Mutual aid: needs, willingness, the offline channel and the weekly matching."""

from __future__ import annotations

import copy

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import towns
from kyojosim.aid.needs import NeedGroups, arise, base_rates, choose_each, choose_in_groups, weekly_need_probability
from kyojosim.constants import CAT, CATEGORIES, CH, TIE_HOUSEHOLD, TIE_NEIGHBOUR, WILL_FREE, WILL_NONE, WILL_PAID
from kyojosim.core.helping import weekly_hours
from kyojosim.core.network import Ties
from kyojosim.model import KyojoModel
from kyojosim.params.scenario import load_scenario
from towns import hand_built_town, silence_needs

OFFLINE = 1 << CH["offline"]


def tiny_town(employed_b: bool) -> KyojoModel:
    """Four adults A, B, C, D in one district with hand-set ties, willingness and time."""
    model, (a, b, c, d) = hand_built_town([(42, "f"), (43, "m"), (47, "f"), (81, "m")])
    pop = model.population
    pop.employed[b] = employed_b
    will = np.full((4, len(CATEGORIES)), WILL_NONE, dtype=np.int8)
    will[b, CAT["chores"]] = WILL_FREE
    will[c, CAT["chores"]] = WILL_FREE
    will[c, CAT["shopping"]] = WILL_FREE
    will[d, CAT["shopping"]] = WILL_FREE
    will[a, CAT["shopping"]] = WILL_PAID  # paid-only helpers are not asked offline
    pop.will[:4] = will
    ties = Ties()
    ties.add(np.array([a]), np.array([b]), TIE_HOUSEHOLD, 1.0)
    ties.add(np.array([a]), np.array([c]), TIE_NEIGHBOUR, 0.4)
    ties.add(np.array([b]), np.array([d]), TIE_NEIGHBOUR, 0.5)
    model.ties = ties
    model.aid.refresh()
    silence_needs(model)
    model.names = {"A": a, "B": b, "C": c, "D": d}
    return model


def add_need(model, who: str, category: str, hours: float, deadline: int = 10) -> None:
    towns.add_need(model, model.names[who], category, hours, deadline, surfaced_bits=OFFLINE)


@pytest.mark.parametrize("employed_b, expected", [
    # B not employed: 5 h a week less its own 2 h of needs = 3 h; it takes A's chores (1.5 h) and A's
    # second chores need (1 h) through the strong household tie; C (weaker tie) takes A's shopping;
    # D takes B's shopping; B's chores need has no willing contact and stays open.
    (False, {"n0": "B", "n1": "C", "n2": "D", "n4": "B"}),
    # B employed: 2 h less its own 2 h = nothing left; both of A's chores needs go to C instead.
    (True, {"n0": "C", "n1": "C", "n2": "D", "n4": "C"}),
])
def test_offline_matches_on_a_hand_built_town(employed_b, expected):
    model = tiny_town(employed_b)
    add_need(model, "A", "chores", 1.5)     # n0
    add_need(model, "A", "shopping", 1.0)   # n1
    add_need(model, "B", "shopping", 1.0)   # n2
    add_need(model, "B", "chores", 1.0)     # n3: A and D would not help with chores free
    add_need(model, "A", "chores", 1.0)     # n4
    book = model.aid.book
    ids = {f"n{i}": (int(book.requester[i]), int(book.category[i])) for i in range(5)}
    captured = {}
    with towns.watch_matching(lambda cand, hours, capacity, res: captured.update(res=res)):
        model.aid.week(1)
    res = captured["res"]
    slot_name = {v: k for k, v in model.names.items()}
    got = {f"n{int(i)}": slot_name[int(h)] for i, h in zip(res.need, res.helper, strict=True)}
    assert got == expected
    assert len(model.aid.book) == 1  # n3 stays open
    assert (int(model.aid.book.requester[0]), int(model.aid.book.category[0])) == ids["n3"]


def test_needs_follow_the_survey_frequencies():
    scn = load_scenario("yamae")
    model = KyojoModel(scn, seed=2, years=1)
    prob = weekly_need_probability(model.population, scn).astype(np.float64)
    age = model.population.age
    frame = (age >= 20) & (age <= 79)
    recall = scn.needs.recall_weeks
    prevalence = np.array([scn.needs.prevalence[c] for c in CATEGORIES])
    # 図表4-3-4-2: the share of residents 20-79 who met each trouble within the recall is n / 1,200
    had = (1 - (1 - prob[frame]) ** recall).mean(axis=0)
    assert np.allclose(had, prevalence, rtol=1e-3)
    # circumstances still decide who has the troubles: the frail have more chores than others of survey age
    frail = model.population.frail
    assert prob[frame & frail, CAT["chores"]].mean() > 2 * prob[frame & ~frail, CAT["chores"]].mean()
    model.run_model()
    arisen = model.aid.total["arisen"]
    # over all ages (not only the survey's 20-79) consultation stays the most common trouble and family
    # care one of the two rarest (childcare is rarer among the many older residents of Yamae)
    assert arisen.argmax() == CAT["consultation"]
    assert CAT["family_care"] in np.argsort(arisen)[:3]


def test_a_fixed_weekly_rate_splits_by_prevalence():
    scn = load_scenario("yamae", {"needs.weekly_rate": 0.06})
    model = KyojoModel(scn, seed=2, years=0)
    prob = weekly_need_probability(model.population, scn).astype(np.float64)
    age = model.population.age
    mean = prob[(age >= 20) & (age <= 79)].mean(axis=0)
    prevalence = np.array([scn.needs.prevalence[c] for c in CATEGORIES])
    assert np.isclose(mean.sum(), 0.06, rtol=1e-3)
    assert np.allclose(mean / mean.sum(), prevalence / prevalence.sum(), atol=1e-4)


def test_base_rates_solve_the_prevalence():
    # two kinds of resident: four in five with multiplier 0.5, one in five with 3 (mean 1)
    x = np.array([[0.5]] * 4 + [[3.0]])
    b = base_rates(x, np.array([0.3]), recall=10)
    had = (1 - (1 - np.minimum(b[0] * x[:, 0], 1)) ** 10).mean()
    assert np.isclose(had, 0.3, rtol=1e-9)
    # nobody can have it, or nobody should: 0; out of reach: everyone who can has it every week
    assert base_rates(np.zeros((5, 1)), np.array([0.3]), 10)[0] == 0
    assert base_rates(x, np.array([0.0]), 10)[0] == 0
    out_of_reach = np.array([[0.0]] * 4 + [[5.0]])
    assert np.isclose(base_rates(out_of_reach, np.array([0.5]), 10)[0], 1 / 5)


def test_paid_pool_is_larger_than_free_pool():
    model = KyojoModel("ikoma", seed=1, scale=0.05, years=0)
    will = model.population.will
    for c, name in enumerate(CATEGORIES):
        free, paid = (will[:, c] == WILL_FREE).sum(), (will[:, c] == WILL_PAID).sum()
        assert paid > free, name
        # proportions of the n column of 図表4-3-4-3 (within sampling noise)
        scn = model.scenario
        share = scn.helping.paid_share[name] / scn.helping.free_share[name]
        assert abs(paid / free - share) < 0.25 * share, name


def test_frail_and_children_do_not_help():
    model = KyojoModel("yamae", seed=1, years=0)
    pop = model.population
    hours = weekly_hours(pop, model.scenario)
    assert (hours[pop.frail] == 0).all() and (hours[pop.age < 15] == 0).all()
    assert (hours[~pop.frail & (pop.age >= 15)] > 0).all()


BASE = load_scenario("yamae").to_dict()


@st.composite
def aid_scenarios(draw):
    data = copy.deepcopy(BASE)
    data["municipality"]["scale"] = draw(st.floats(0.03, 0.2))
    data["needs"]["weekly_rate"] = draw(st.floats(0.0, 0.5))
    data["helping"]["ask_rate_under65"] = draw(st.floats(0.0, 1.0))
    data["helping"]["ask_rate_65plus"] = draw(st.floats(0.0, 1.0))
    data["helping"]["weekly_hours_free"] = draw(st.floats(0.0, 20.0))
    data["simulation"]["years"] = 2
    data["simulation"]["seed"] = draw(st.integers(0, 2**32))
    return load_scenario(data)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scn=aid_scenarios())
def test_every_need_is_matched_lapsed_or_open(scn):
    model = KyojoModel(scn)

    def checked(cand, hours, capacity, res):
        # capacity is that of the week's candidate helpers, whose slots are cand.helper_ids
        index = {int(s): i for i, s in enumerate(cand.helper_ids)}
        given = np.bincount([index[int(h)] for h in res.helper], weights=hours[res.need], minlength=capacity.size)
        # a helper never gives more hours than the week's budget (less their own open needs)
        assert (given <= capacity + 1e-9).all()
        assert (capacity <= weekly_hours(model.population, model.scenario)[cand.helper_ids] + 1e-6).all()
        assert np.unique(res.need).size == res.need.size

    with towns.watch_matching(checked):
        model.run_model(progress=_check_books)


def _check_books(model):
    """Every need is matched, lapsed or open; none is open past its deadline."""
    t = model.aid.total
    open_now = np.bincount(model.aid.book.category, minlength=len(CATEGORIES))
    assert np.array_equal(t["arisen"], t["matched"] + t["lapsed"] + open_now)
    assert (t["surfaced"] <= t["arisen"]).all()
    assert (model.aid.book.deadline > model.steps).all()


def test_grouped_draw_is_bernoulli_per_resident():
    # residents with the same probability form a group; the count per resident matches p over many weeks
    prob = np.zeros((3000, len(CATEGORIES)), dtype=np.float32)
    prob[:1000, 0] = 0.3
    prob[1000:, 0] = 0.05
    prob[::7, 3] = 0.5
    groups = NeedGroups.build(prob)
    scn = load_scenario("yamae")
    rng = np.random.default_rng(5)
    hits = np.zeros(prob.shape)
    weeks = 400
    for w in range(weeks):
        new = arise(None, scn, groups, w, rng)
        assert len(set(zip(new["slot"].tolist(), new["category"].tolist(), strict=True))) == new["slot"].size
        np.add.at(hits, (new["slot"], new["category"]), 1)
    freq = hits / weeks
    assert abs(freq[:1000, 0].mean() - 0.3) < 0.01 and abs(freq[1000:, 0].mean() - 0.05) < 0.005
    assert abs(freq[::7, 3].mean() - 0.5) < 0.02 and freq[:, [1, 2, 4, 5, 6, 7]].sum() == 0
    assert (hits[1::7, 3] == 0).all()


def test_measures_by_group_add_up_and_burden_is_a_share():
    model = KyojoModel("yamae", seed=4, years=2)
    model.run_model()
    aid = model.aid
    for key in ("age_group", "district"):
        g = aid.by_group[key]
        assert g["arisen"].sum() == aid.total["arisen"].sum()
        assert g["matched"].sum() == aid.total["matched"].sum()
        assert g["lapsed"].sum() + aid.lapsed_departed == aid.total["lapsed"].sum()
    aid_years = model.table("aid_years")
    assert aid_years["year"].tolist() == [2015, 2016]
    for row in aid_years.to_dict("records"):
        assert 0.1 <= row["top10_helper_share"] <= 1.0 and row["helpers"] > 0
    steps = model.table("steps")
    assert steps["unmet_75plus_share"].between(0, 1).all() and steps["unmet_75plus_share"].max() > 0
    # undefined is nan: weeks to a match in a week without a match, and at step 0 (no week yet)
    assert (steps["weeks_to_match"].isna() == (steps["needs_matched"] == 0)).all()
    assert (steps["weeks_to_match"].dropna() >= 0).all() and steps["matching_rate"].isna().iloc[0]
    # matches by channel add up to the matches of the week (only the offline channel is on)
    assert (steps["matched_offline"] == steps["needs_matched"]).all()


def test_preferences_urgency_trust_and_distance():
    from kyojosim.aid.round import preference

    model = KyojoModel("yamae", seed=1, years=0)
    far = model.scenario.helping.other_district_factor
    pop = model.population
    d = pop.district
    a = int(np.flatnonzero(d == 0)[0])
    same = int(np.flatnonzero(d == 0)[1])
    other = int(np.flatnonzero(d == 1)[0])
    pop.trust_offline[a] = 0.3
    pop.trust_online[a] = 0.7
    req = np.array([a, a, a])
    helper = np.array([same, other, same])
    urgency = np.array([0.0, 0.0, 1.0])
    off = preference(model, req, helper, urgency, "offline")
    assert np.allclose(off, [0.8, 0.8 * far, 1.6])
    on = preference(model, req, helper, urgency, "online")
    assert np.allclose(on, [1.2, 1.2 * far, 2.4])
    # the two preference parameters of the scenario are the ones used
    model.scenario = model.scenario.replace(helping__other_district_factor=0.5, helping__trust_weight_base=1.0)
    assert np.allclose(preference(model, req, helper, urgency, "offline"), [1.3, 1.3 * 0.5, 2.6])


def test_urgent_needs_go_first():
    # two needs of equal tie weight compete for one helper with room for one: the urgent one wins
    model = tiny_town(employed_b=True)
    pop = model.population
    pop.will[model.names["B"], CAT["chores"]] = WILL_NONE  # only C can help with chores
    pop.employed[model.names["C"]] = True  # C: 2 h a week, room for one of the two
    model.aid.hours = weekly_hours(pop, model.scenario).astype(float)  # weekly hours are kept from refresh
    add_need(model, "A", "chores", 1.5)
    add_need(model, "A", "chores", 1.5)
    model.aid.book.urgency[:] = [0.1, 0.9]
    model.aid.week(1)
    assert len(model.aid.book) == 1 and np.isclose(model.aid.book.urgency[0], 0.1)


def test_need_sizes_and_family_care_follow_the_scenario():
    from kyojosim.aid.needs import NeedGroups, arise, circumstance_multipliers

    model = KyojoModel("yamae", seed=1, years=0)
    pop = model.population
    prob = np.zeros((pop.n, len(CATEGORIES)), dtype=np.float32)
    prob[:, CAT["chores"]] = 1.0
    groups = NeedGroups.build(prob)
    mean = model.scenario.needs.hours["chores"]
    for shape in (2.0, 8.0):  # the gamma's variance is mean^2 / shape (the floor of 0.25 h cuts a thin tail)
        hours = arise(pop, model.scenario.replace(needs__hours_shape=shape), groups, 0, np.random.default_rng(0))
        assert hours["hours"].astype(np.float64).var() == pytest.approx(mean**2 / shape, rel=0.2)
    hours = arise(pop, model.scenario.replace(needs__min_hours=1.5), groups, 0, np.random.default_rng(0))["hours"]
    assert hours.min() == pytest.approx(1.5) and (hours == hours.min()).sum() > 0.1 * hours.size
    # family care without a frail member at home
    scn = model.scenario.replace(needs__family_care_without_frail=0.2)
    pop.cols["frail"][: pop.n] = False
    m = circumstance_multipliers(pop, scn)
    adults = pop.live()[pop.age[pop.live()] >= 15]
    assert np.allclose(m[adults, CAT["family_care"]], 0.2)


# -- the compiled kernels of the yearly refresh against the array code they stand for -------------------

def _multipliers_array(age, frail, no_car, alone, other_frail, parent, live, f):
    """The circumstance multipliers rule by rule on whole columns (the array form)."""
    m = np.ones((age.size, len(CATEGORIES)))
    m[frail] *= f[0]
    for c in ("chores", "mobility", "shopping", "information", "sick_care"):
        m[age >= 75, CAT[c]] *= f[1]
    for c in ("mobility", "shopping"):
        m[no_car, CAT[c]] *= f[2]
    for c in ("sick_care", "consultation"):
        m[alone, CAT[c]] *= f[3]
    m[:, CAT["family_care"]] *= np.where(other_frail, f[4], f[5])
    m[:, CAT["childcare"]] = np.where(parent, f[6], 0.0)
    m[age < 15] = 0.0
    m[~live] = 0.0
    return m


@given(st.integers(0, 2**32 - 1), st.integers(0, 200), st.lists(st.floats(0.0, 10.0), min_size=7, max_size=7))
@settings(max_examples=40, deadline=None)
def test_multipliers_kernel_equals_the_array_rules(seed, n, f):
    from kyojosim.aid.needs_kernel import multipliers

    rng = np.random.default_rng(seed)
    age = rng.integers(0, 100, n).astype(np.int64)
    flags = rng.random((6, n)) < 0.4
    live = rng.random(n) < 0.9
    frail, no_car, alone, other_frail, parent = flags[0], flags[1], flags[2], flags[3], flags[4]

    def cats(*names):
        return np.isin(np.arange(len(CATEGORIES)), [CAT[c] for c in names])

    got = multipliers(age, frail, no_car, alone, other_frail, parent, live,
                      cats("chores", "mobility", "shopping", "information", "sick_care"), cats("mobility", "shopping"),
                      cats("sick_care", "consultation"), CAT["family_care"], CAT["childcare"], *f)
    want = _multipliers_array(age, frail, no_car, alone, other_frail, parent, live, f)
    assert np.array_equal(got.view(np.uint64), want.view(np.uint64))


_GROUP_SIZES = st.one_of(st.integers(1, 40), st.integers(9_990, 10_010), st.integers(10_001, 60_000),
                         st.just(2**33))


def _sample_size(n: int, kind: int, offset: int) -> int:
    """A sample of none (kind 0), of a few (1), near n // 50 (2, numpy's switch for n above 10,000), near n // 20
    (3), of half (4) or of all (5) of a group of ``n`` (at most 30 of a group beyond 2**32)."""
    if n >= 2**32:
        return 0 if kind == 0 else offset + 3 * kind
    want = [0, 1 + offset % 5, n // 50 + offset - 2, n // 20 + offset - 2, n // 2, n][kind]
    return int(min(max(want, 0), n))


@given(st.integers(0, 2**64 - 1),
       st.lists(st.tuples(_GROUP_SIZES, st.integers(0, 5), st.integers(0, 4)), min_size=0, max_size=6),
       st.booleans())
@settings(max_examples=80, deadline=None)
@example(1, [(20_000, 2, 3), (10_001, 2, 3), (10_000, 5, 0), (60_000, 2, 2)], False)  # each side of the switch
@example(2, [(20_000, 2, 4), (3, 5, 0), (2**33, 1, 4)], True)
def test_members_chosen_in_one_pass_equal_numpy_choice_group_by_group(seed, groups, half_word):
    """Every group's sample, its order and the generator's state after: numpy's choice without replacement.

    Groups of up to 40, around numpy's switch at 10,000, larger ones where a large sample shuffles the tail of the
    range instead of Floyd's algorithm, and one beyond 2**32 (64-bit draws); a sample of 0 draws nothing. With
    ``half_word`` the generator holds half of a 64-bit output when the draws begin (32-bit draws use it first).
    """
    from kyojosim.aid.choice_kernel import choose_in_groups

    size = np.array([n for n, _, _ in groups], dtype=np.int64)
    count = np.array([_sample_size(n, kind, offset) for n, kind, offset in groups], dtype=np.int64)
    start = np.r_[0, np.cumsum(size)].astype(np.int64)
    got_rng, each_rng, want_rng = (np.random.Generator(np.random.PCG64(seed)) for _ in range(3))
    if half_word:
        for r in (got_rng, each_rng, want_rng):
            state = r.bit_generator.state
            state["has_uint32"], state["uinteger"] = 1, 12345
            r.bit_generator.state = state
    got = choose_in_groups(got_rng, start, count)
    each = choose_each(each_rng, start, count)  # the fallback when the compiled pass cannot be imported
    want = [s + want_rng.choice(n, k, replace=False) for s, n, k in zip(start[:-1], size, count, strict=True) if k]
    want = np.concatenate(want) if want else np.zeros(0, dtype=np.int64)
    for drawn, r in ((got, got_rng), (each, each_rng)):
        assert drawn.dtype == np.int64 and np.array_equal(drawn, want)
        assert r.bit_generator.state == want_rng.bit_generator.state
    assert got_rng.integers(0, 1000, 4).tolist() == want_rng.integers(0, 1000, 4).tolist()


def test_needy_members_drawn_one_call_per_group_when_the_compiled_pass_cannot_be_imported(monkeypatch):
    """Without numba's helpers for numpy's bounded integers, the week's draw falls back to numpy, same result."""
    import sys

    from kyojosim.aid import needs

    start = np.array([0, 5, 5, 20_000, 20_040], dtype=np.int64)
    count = np.array([3, 0, 500, 40], dtype=np.int64)
    compiled_rng, fallback_rng = (np.random.default_rng(7) for _ in range(2))
    want = choose_in_groups(compiled_rng, start, count)
    calls = []
    monkeypatch.setattr(needs, "choose_each", lambda *args: calls.append(1) or choose_each(*args))
    monkeypatch.setitem(sys.modules, "kyojosim.aid.choice_kernel", None)  # import raises ImportError
    got = choose_in_groups(fallback_rng, start, count)
    assert calls == [1]
    assert np.array_equal(got, want) and fallback_rng.bit_generator.state == compiled_rng.bit_generator.state


@given(st.integers(0, 2**32 - 1), st.integers(0, 300), st.integers(1, 80))
@settings(max_examples=60, deadline=None)
def test_need_groups_by_counting_equal_a_stable_sort(seed, n, distinct):
    from kyojosim.aid.needs_kernel import group_by_value

    rng = np.random.default_rng(seed)
    values = np.r_[0.0, rng.random(distinct)].astype(np.float32)  # zeros are in no group
    col = values[rng.integers(0, values.size, n)]
    idx = np.flatnonzero(col > 0)
    want = idx[np.argsort(col[idx], kind="stable")]
    v = col[want]
    want_first = np.flatnonzero(np.r_[True, v[1:] != v[:-1]]) if want.size else np.zeros(0, int)
    order, first, n_distinct = group_by_value(col, 64)
    if n_distinct < 0:  # more distinct values than the counting sort takes: the caller sorts
        assert np.unique(col[col > 0]).size > 64
        return
    assert np.array_equal(order, want) and np.array_equal(first, want_first) and n_distinct == want_first.size
    prob = np.column_stack([col, col[::-1], np.zeros(n, dtype=np.float32)])
    groups = NeedGroups.build(prob)
    assert np.array_equal(groups.members[: want.size], want)


@given(st.integers(0, 2**32 - 1), st.integers(0, 200), st.integers(1, 12), st.integers(1, 80))
@settings(max_examples=40, deadline=None)
def test_need_probability_kernels_equal_unique_and_clip(seed, n, distinct, max_distinct):
    from kyojosim.aid.needs_kernel import probabilities, relative_distinct

    rng = np.random.default_rng(seed)
    levels = np.r_[0.0, rng.random(distinct) * 4]
    m = levels[rng.integers(0, levels.size, (n, len(CATEGORIES)))]
    frame = rng.random(n) < 0.8
    mean = np.where(rng.random(len(CATEGORIES)) < 0.2, 1.0, rng.random(len(CATEGORIES)) + 0.1)
    x = m / mean
    for c in range(len(CATEGORIES)):
        values, counts, n_distinct = relative_distinct(m, frame, mean, c, max_distinct)
        want_values, want_counts = np.unique(x[frame][:, c], return_counts=True)
        if n_distinct < 0:
            assert want_values.size > max_distinct
        else:
            assert np.array_equal(values, want_values) and np.array_equal(counts, want_counts)
    b = rng.random(len(CATEGORIES)) * 2 - 0.2
    want = np.clip(b * x, 0.0, 1.0).astype(np.float32)
    assert np.array_equal(probabilities(m, mean, b), want)


@given(st.integers(0, 2**32 - 1), st.integers(0, 300), st.integers(1, 70))
@settings(max_examples=60, deadline=None)
def test_need_groups_of_all_categories_at_once_equal_a_stable_sort_per_category(seed, n, distinct):
    from kyojosim.aid.needs_kernel import group_all

    rng = np.random.default_rng(seed)
    values = np.r_[0.0, rng.random(distinct)].astype(np.float32)
    prob = values[rng.integers(0, values.size, (n, len(CATEGORIES)))]
    category, value, start, members, ok = group_all(prob, 64)
    if not ok:
        assert max(np.unique(prob[:, c][prob[:, c] > 0]).size for c in range(len(CATEGORIES))) > 64
        return
    want_members, want_cat, want_value, want_start, offset = [], [], [], [], 0
    for c in range(len(CATEGORIES)):
        col = prob[:, c]
        idx = np.flatnonzero(col > 0)
        order = idx[np.argsort(col[idx], kind="stable")]
        v = col[order]
        first = np.flatnonzero(np.r_[True, v[1:] != v[:-1]]) if order.size else np.zeros(0, int)
        want_members.append(order)
        want_cat += [c] * first.size
        want_value += v[first].astype(np.float64).tolist()
        want_start += (offset + first).tolist()
        offset += order.size
    want_start.append(offset)
    assert np.array_equal(members, np.concatenate(want_members))
    assert np.array_equal(category, want_cat) and np.array_equal(value, want_value)
    assert np.array_equal(start, want_start)


@given(st.integers(0, 2**32 - 1), st.integers(1, 300), st.integers(1, 12), st.integers(1, 80))
@settings(max_examples=40, deadline=None)
def test_frame_mean_and_distinct_values_of_all_categories_equal_numpy(seed, n, distinct, max_distinct):
    from kyojosim.aid.needs_kernel import frame_mean, relative_distinct_all

    rng = np.random.default_rng(seed)
    levels = np.r_[0.0, rng.random(distinct) * 4]
    m = levels[rng.integers(0, levels.size, (n, len(CATEGORIES)))] * rng.choice([1.0, 1.3, 2.7], (n, len(CATEGORIES)))
    frame = rng.random(n) < 0.8
    frame[0] = True
    want_mean = m[frame].mean(axis=0)
    assert np.array_equal(frame_mean(m, frame).view(np.uint64), want_mean.view(np.uint64))
    mean = np.where(rng.random(len(CATEGORIES)) < 0.2, 1.0, rng.random(len(CATEGORIES)) + 0.1)
    values, counts, n_distinct = relative_distinct_all(m, frame, mean, max_distinct)
    for c in range(len(CATEGORIES)):
        want_values, want_counts = np.unique((m / mean)[frame][:, c], return_counts=True)
        if n_distinct[c] < 0:
            assert want_values.size > max_distinct
        else:
            assert np.array_equal(values[c, : n_distinct[c]], want_values)
            assert np.array_equal(counts[c, : n_distinct[c]], want_counts)


@given(st.integers(0, 2**32 - 1), st.integers(0, 300))
@settings(max_examples=40, deadline=None)
def test_circumstances_kernel_equals_the_array_form(seed, n):
    from kyojosim.aid.needs_kernel import circumstances
    from kyojosim.constants import ROLE_CHILD

    rng = np.random.default_rng(seed)
    age = rng.integers(0, 100, n).astype(np.int16)
    frail, drives, live = rng.random(n) < 0.2, rng.random(n) < 0.5, rng.random(n) < 0.9
    n_households = max(n // 2, 1)
    household = rng.integers(0, n_households, n).astype(np.int32)
    role = np.where(rng.random(n) < 0.4, ROLE_CHILD, 0).astype(np.int8)
    a, h = age.astype(np.int64), household.astype(np.int64)
    size = np.bincount(h[live], minlength=n_households)
    frail_in = np.bincount(h[live], weights=frail[live], minlength=n_households)
    young = live & (a < 12) & (role == ROLE_CHILD)
    want = ((~drives) & (a >= 18), size[h] == 1, (frail_in[h] - frail) > 0,
            (np.bincount(h[young], minlength=n_households)[h] > 0) & (role != ROLE_CHILD) & (a >= 18))
    got = circumstances(age, frail, drives, live, household, role, n_households, int(ROLE_CHILD))
    assert all(np.array_equal(x, y) for x, y in zip(got, want, strict=True))


@given(st.integers(0, 2**32 - 1), st.integers(0, 300), st.integers(1, 200))
@settings(max_examples=40, deadline=None)
def test_coded_circumstances_equal_the_codes_of_the_circumstances(seed, n, n_households):
    from kyojosim.aid.needs_kernel import HOUSEHOLD_FIELD, circumstance_codes, circumstances, coded_circumstances
    from kyojosim.constants import ROLE_CHILD

    rng = np.random.default_rng(seed)
    age = rng.integers(0, 100, n).astype(np.int16)
    frail, drives, live = rng.random(n) < 0.3, rng.random(n) < 0.5, rng.random(n) < 0.9
    household = rng.integers(0, n_households, n).astype(np.int32)
    role = np.where(rng.random(n) < 0.4, ROLE_CHILD, 0).astype(np.int8)
    columns = (age, frail, drives, live, household, role, n_households, int(ROLE_CHILD))
    code, ok = coded_circumstances(*columns)
    assert ok and code.dtype == np.uint8
    assert np.array_equal(code, circumstance_codes(age, frail, *circumstances(*columns), live))
    # one household as large as the word holds, then one more living member: refused (counted apart by the caller)
    for size, fits in (((1 << HOUSEHOLD_FIELD) - 1, True), (1 << HOUSEHOLD_FIELD, False)):
        big = (np.full(size + 1, 30, dtype=np.int16), np.ones(size + 1, dtype=bool), np.zeros(size + 1, dtype=bool),
               np.r_[np.ones(size, dtype=bool), False], np.zeros(size + 1, dtype=np.int32),
               np.zeros(size + 1, dtype=np.int8), 1, int(ROLE_CHILD))
        code, ok = coded_circumstances(*big)
        assert ok == fits
        if fits:  # every living member frail, with frail others: the counts near the top of their field are right
            assert np.array_equal(code, circumstance_codes(big[0], big[1], *circumstances(*big), big[3]))
            assert code[0] == 1 | 4 | 16 and code[-1] == 64


@pytest.mark.parametrize("weekly_rate", [None, 0.05])
def test_need_probabilities_from_circumstance_codes_equal_the_matrix_form(weekly_rate):
    """From a byte per resident and the multipliers per code, the probabilities are the matrix form's to the bit."""
    from kyojosim.aid.needs import circumstance_codes, circumstance_multipliers, survey_frame

    scn = load_scenario("yamae").replace(needs__weekly_rate=weekly_rate)
    model = KyojoModel(scn, seed=4, years=1, scale=0.3)
    pop = model.population
    rng = np.random.default_rng(4)
    pop.frail[: pop.n] |= rng.random(pop.n) < 0.2  # more mixed circumstances
    pop.drives[: pop.n] &= rng.random(pop.n) < 0.7
    pop.remove(np.flatnonzero(rng.random(pop.n) < 0.05))
    code, table = circumstance_codes(pop, scn)
    m = circumstance_multipliers(pop, scn)
    np.testing.assert_array_equal(table[code], m)
    # the matrix form: the frame's mean, the base rates of the frame's relative multipliers, the clipped products
    frame = survey_frame(pop)
    mean = m[frame].mean(axis=0)
    mean[mean == 0] = 1.0
    prevalence = np.array([scn.needs.prevalence[c] for c in CATEGORIES])
    if weekly_rate is None:
        b = base_rates((m / mean)[frame], prevalence, scn.needs.recall_weeks)
    else:
        b = weekly_rate * prevalence / prevalence.sum()
    want = np.clip(b * (m / mean), 0.0, 1.0).astype(np.float32)
    got = weekly_need_probability(pop, scn)
    assert got.dtype == np.float32 and (got > 0).any()
    np.testing.assert_array_equal(got, want)


@given(st.integers(0, 2**32 - 1), st.integers(0, 300), st.lists(st.booleans(), min_size=8, max_size=8))
@settings(max_examples=40, deadline=None)
def test_need_probability_is_the_matrix_of_the_codes_made_once(seed, n, categories):
    from kyojosim.aid.needs import NeedProbability
    from kyojosim.aid.needs_kernel import N_CODES

    rng = np.random.default_rng(seed)
    per_code = np.where(rng.random((N_CODES, len(CATEGORIES))) < 0.3, 0.0, rng.random((N_CODES, 8))).astype(np.float32)
    code = rng.integers(0, N_CODES, n).astype(np.uint8)
    chosen = np.array(categories)
    probability = NeedProbability(code, per_code)
    want = per_code[code]
    assert np.array_equal(probability.any_positive(chosen), (want[:, chosen] > 0).any(axis=1))  # from the codes
    matrix = probability.matrix()
    assert matrix.dtype == np.float32 and np.array_equal(matrix, want) and probability.matrix() is matrix
    matrix[: n // 2] = 0.0  # written into: what is read next follows the matrix
    assert np.array_equal(probability.any_positive(chosen), (matrix[:, chosen] > 0).any(axis=1))


def test_the_rounds_need_probability_is_made_when_first_read():
    model = KyojoModel("yamae", seed=2, years=1, scale=0.1)
    aid = model.aid
    assert aid.need_probability._matrix is None  # not made by the yearly refresh
    prob = aid.prob
    assert prob is aid.prob and np.array_equal(prob, weekly_need_probability(model.population, model.scenario))


@given(st.integers(0, 2**32 - 1), st.integers(0, 300), st.integers(1, 70))
@settings(max_examples=60, deadline=None)
def test_need_groups_from_codes_equal_the_groups_of_the_probabilities(seed, n, distinct):
    from kyojosim.aid.needs_kernel import N_CODES, group_all, group_codes

    rng = np.random.default_rng(seed)
    values = np.r_[0.0, rng.random(distinct)].astype(np.float32)
    per_code = values[rng.integers(0, values.size, (N_CODES, len(CATEGORIES)))]
    code = rng.integers(0, rng.integers(1, N_CODES + 1), n).astype(np.uint8)  # some codes never occur
    got = group_codes(code, per_code, 64)
    want = group_all(per_code[code], 64)
    assert got[4] == want[4]
    for g, w in zip(got[:4], want[:4], strict=True):
        np.testing.assert_array_equal(g, w)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 60), st.integers(0, 200), st.integers(0, 80))
def test_local_helpers_kernel_equals_the_array_form(seed, n, n_edges, n_needs):
    from kyojosim.aid.matching_kernel import local_helpers

    rng = np.random.default_rng(seed)
    helper = rng.integers(0, n, n_edges)
    requester = rng.integers(-1, n, n_needs)
    hours = (rng.integers(1, 16, n_needs) * 0.25).astype(np.float32)
    weekly = rng.random(n) * 6.0
    marks = np.zeros(n + 3, dtype=np.int64)
    slots, local, capacity = local_helpers(helper, requester, hours, weekly, marks)
    # the array form: helpers in the order they first appear, their own open needs' hours by np.bincount
    _, first = np.unique(helper, return_index=True)
    want_slots = helper[np.sort(first)]
    number = np.full(n, -1)
    number[want_slots] = np.arange(want_slots.size)
    own = np.bincount(requester[requester >= 0], weights=hours[requester >= 0].astype(np.float64), minlength=n)
    assert np.array_equal(slots, want_slots) and np.array_equal(local, number[helper])
    assert np.array_equal(capacity, np.maximum(weekly[want_slots] - own[want_slots], 0.0))
    assert not marks.any()  # the scratch is left all zeros


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 60), st.integers(0, 200), st.integers(1, 5))
def test_count_requesters_kernel_equals_bincount(seed, n, n_req, n_d):
    from kyojosim.aid.matching_kernel import count_requesters
    from kyojosim.constants import REQUESTER_AGE_EDGES, requester_age_group

    rng = np.random.default_rng(seed)
    age = rng.integers(0, 100, n).astype(np.int16)
    district = rng.integers(0, n_d, n).astype(np.int8)
    slot = rng.integers(0, n, n_req)
    start_age, start_d = rng.integers(0, 9, 3), rng.integers(0, 9, n_d)
    edges = np.asarray(REQUESTER_AGE_EDGES, dtype=np.int64)
    by_age, by_d = start_age.copy(), start_d.copy()
    assert count_requesters(slot, age, district, edges, by_age, by_d)
    assert np.array_equal(by_age, start_age + np.bincount(requester_age_group(age[slot]), minlength=3))
    assert np.array_equal(by_d, start_d + np.bincount(district[slot].astype(np.int64), minlength=n_d))
    if n_req:  # a district outside the counts: nothing is added
        by_age, by_d = start_age.copy(), start_d[:-1].copy()
        district[slot[0]] = n_d - 1
        assert not count_requesters(slot, age, district, edges, by_age, by_d)
        assert np.array_equal(by_age, start_age) and np.array_equal(by_d, start_d[:-1])


@pytest.fixture(scope="module")
def small_village():
    return KyojoModel(load_scenario("yamae", {"municipality.scale": 0.02, "simulation.years": 1}))


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(0, 120), st.sampled_from(["offline", "online"]),
       st.sampled_from([np.float64, np.float32]))
def test_weigh_candidates_kernel_equals_preference(small_village, seed, n_edges, trust_kind, weight_dtype):
    """The weekly round's compiled weighing drops self-help and multiplies by preference(), to the bit."""
    from kyojosim.aid.matching_kernel import weigh_candidates
    from kyojosim.aid.round import preference

    model = small_village
    pop, h = model.population, model.scenario.helping
    rng = np.random.default_rng(seed)
    n_open = 30
    requester = rng.integers(0, pop.n, n_open)
    urgency = rng.random(n_open, dtype=np.float32)
    sel = np.sort(rng.choice(n_open, 12, replace=False))
    need = rng.integers(0, sel.size, n_edges)
    helper = np.where(rng.random(n_edges) < 0.2, requester[sel[need]], rng.integers(0, pop.n, n_edges))
    weight = (rng.random(n_edges) + 0.1).astype(weight_dtype)
    trust = pop.trust_online if trust_kind == "online" else pop.trust_offline
    got = weigh_candidates(sel, need, helper, weight, requester, urgency, trust, pop.district,
                           np.float32(h.trust_weight_base), float(h.other_district_factor))
    keep = helper != requester[sel][need]
    want_need, want_helper = sel[need[keep]], helper[keep]
    want = weight[keep] * preference(model, requester[want_need], want_helper, urgency[want_need], trust_kind)
    assert np.array_equal(got[0], want_need) and np.array_equal(got[1], want_helper)
    assert got[2].dtype == np.float64 and np.array_equal(got[2], want)



def test_requester_counts_refuse_a_district_outside_them(small_village):
    """A requester whose district is not counted is an error that names the districts, and nothing is added."""
    aid, pop = small_village.aid, small_village.population
    before = {g: aid.by_group[g]["arisen"].copy() for g in ("age_group", "district")}
    kept = pop.district[0]
    pop.district[0] = aid.by_group["district"]["arisen"].size
    try:
        with pytest.raises(ValueError, match="districts counted"):
            aid._tally("arisen", np.array([1, 0]))
    finally:
        pop.district[0] = kept
    assert all(np.array_equal(aid.by_group[g]["arisen"], before[g]) for g in before)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 60), st.integers(0, 200), st.booleans())
def test_count_unmet_old_kernel_equals_the_distinct_requesters(seed, n, n_needs, gone):
    """The residents 75+ with an unmatched need, counted in one pass, are those of the distinct requesters' ages."""
    from kyojosim.aid.matching_kernel import count_unmet_old

    rng = np.random.default_rng(seed)
    age = rng.integers(60, 100, n).astype(np.int16)
    requester = rng.integers(0, n, n_needs)
    matched = rng.random(n_needs) < 0.5
    marks = np.zeros(n + 2, dtype=np.int64)
    want = int(np.count_nonzero(age[np.unique(requester[~matched])] >= 75))
    assert count_unmet_old(requester, matched, age, 75, marks) == want and not marks.any()
    if gone and n_needs:  # a requester who is not a slot: nothing counted
        requester[~matched] = -1
        assert count_unmet_old(requester, matched, age, 75, marks) == (-1 if (~matched).any() else 0)
        assert not marks.any()


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(0, 80))
def test_need_book_keeps_the_needs_of_the_mask_in_order(seed, n):
    """Keeping by a mask gives every column's rows where the mask is true, in order; an index array selects rows."""
    from kyojosim.aid.needs import COLUMNS, NeedBook

    rng = np.random.default_rng(seed)
    book = NeedBook()
    book.append(requester=rng.integers(0, 10**6, n), category=rng.integers(0, 8, n), hours=rng.random(n),
                born=rng.integers(0, 50, n), deadline=rng.integers(0, 60, n), surfaced=rng.integers(0, 4, n),
                urgency=rng.random(n))
    before = {name: getattr(book, name).copy() for name in COLUMNS}
    mask = rng.random(n) < 0.5
    book.keep(mask)
    for name in COLUMNS:
        got, want = getattr(book, name), before[name][mask]
        assert got.dtype == want.dtype and np.array_equal(got, want)
    rows = rng.integers(0, len(book), 3) if len(book) else np.zeros(0, dtype=np.int64)
    kept = {name: getattr(book, name).copy() for name in COLUMNS}
    book.keep(rows)
    assert all(np.array_equal(getattr(book, name), kept[name][rows]) for name in COLUMNS)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(0, 120), st.integers(0, 60))
def test_channel_month_counts_kernel_equals_the_sums(seed, n_new, n_met):
    """The week's counts per channel for its month, in one pass over each list, are the array form's sums."""
    from kyojosim.aid.matching_kernel import channel_month_counts

    rng = np.random.default_rng(seed)
    bits = np.array([1, 2, 4, 8, 16], dtype=np.int64)
    surfaced = rng.integers(0, 32, n_new).astype(np.uint8)
    met_bit = rng.choice(bits, n_met).astype(np.int8)
    answered = rng.choice(bits, n_met // 3).astype(np.int8)
    closed_matched, closed_lapsed = (rng.integers(0, 32, k).astype(np.uint8) for k in (n_met, n_new // 2))
    got = channel_month_counts(surfaced, met_bit, answered, closed_matched, closed_lapsed, bits)
    want = [[int(((surfaced & b) > 0).sum()), int((met_bit == b).sum()), int((answered == b).sum()),
             int(((closed_matched & b) > 0).sum()), int(((closed_lapsed & b) > 0).sum())] for b in bits]
    assert got.dtype == np.int64 and np.array_equal(got, want)


def test_requesters_slots_kept_from_week_to_week_are_those_looked_up_by_uid():
    # the slots of the needs left open are kept from one week to the next and looked up again after a turn of the
    # year (slots are compacted) or when the book is changed otherwise: always those of slots_of
    model = KyojoModel("ikoma", seed=3, scale=0.05, years=2)
    aid, pop = model.aid, model.population
    kept_weeks = 0
    for _ in range(70):
        before = aid.__dict__.get("_book_slots")
        model.step()
        kept = aid._book_slots
        assert kept[2] is aid.book.requester and kept[0] is aid.groups
        assert np.array_equal(kept[3], pop.slots_of(aid.book.requester))
        assert (kept[3] >= 0).all()
        kept_weeks += before is not None and before[0] is aid.groups
    assert 60 <= kept_weeks < 70  # kept in most weeks, looked up again after each turn
    aid.book.keep(np.arange(len(aid.book)) % 2 == 0)  # the book changed outside the week: looked up again
    model.step()
    assert np.array_equal(aid._book_slots[3], pop.slots_of(aid.book.requester))


def test_refresh_lets_go_of_the_kept_slots_with_last_years_need_groups():
    # the kept slots hold last year's need groups: the refresh drops them with the groups, before this year's are
    # made, so that both years' groups are never held at once (the peak of memory at the turn of the year)
    model = KyojoModel("ikoma", seed=3, scale=0.05, years=1)
    model.step()
    old_groups = model.aid.groups
    assert model.aid._book_slots[0] is old_groups
    model.aid.refresh()
    assert model.aid._book_slots is None and model.aid.groups is not old_groups
