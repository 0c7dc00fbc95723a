"""Trust, reciprocity and the wish to ask."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from kyojosim.constants import CATEGORIES, CH, REQUESTER_AGE_GROUPS, TIE_NEIGHBOUR, WILL_FREE, WILL_NONE, WILL_PAID
from kyojosim.core.network import Ties
from kyojosim.core.trust import after_week, recover_asking, yearly_willingness
from kyojosim.model import KyojoModel


def test_strengthen_existing_ties_only():
    t = Ties()
    t.add(np.array([0, 2]), np.array([1, 3]), TIE_NEIGHBOUR, 0.5)
    hits = t.strengthen(np.array([1, 3, 0]), np.array([0, 0, 1]), 0.3)
    assert hits == 2  # (1, 0) twice; (3, 0) is not a tie
    assert np.allclose(t.strength, [1.0, 0.5])  # 0.5 + 0.3 + 0.3, capped at 1


def test_initial_trust_follows_the_survey():
    model = KyojoModel("ikoma", seed=1, scale=0.05, years=0)
    pop = model.population
    assert abs(pop.trust_offline.mean() - 0.338) < 0.01  # 図表4-3-5-3, 2017
    assert pop.trust_online.mean() < pop.trust_offline.mean()
    old = KyojoModel("ikoma", seed=1, scale=0.05, years=0, communities__participation_year=2008)
    assert abs(old.population.trust_offline.mean() - 0.407) < 0.01


def test_help_and_lapses_change_trust_reciprocity_and_asking():
    model = KyojoModel("yamae", seed=1, years=0)
    pop = model.population
    t = model.scenario.trust
    a, b = int(model.ties.a[0]), int(model.ties.b[0])  # an existing tie
    req, helper = np.array([a, 5]), np.array([b, 6])
    before = {k: getattr(pop, k).copy() for k in ("reciprocity", "trust_offline", "trust_online", "ask_factor")}
    strength = float(model.ties.strength[0])
    channel = np.array([1 << CH["offline"], 1 << CH["local_sns"]], dtype=np.int8)
    pop.ask_factor[[a, 5]] = 0.5
    after_week(model, req, helper, channel, lapsed_requester=np.array([9]))
    assert np.isclose(pop.reciprocity[a], min(before["reciprocity"][a] + t.reciprocity_gain, 1))
    assert np.isclose(pop.trust_offline[a], min(before["trust_offline"][a] + t.trust_gain, 1))
    assert np.isclose(pop.trust_online[5], min(before["trust_online"][5] + t.trust_gain, 1))
    assert pop.trust_online[a] == before["trust_online"][a]
    assert np.isclose(pop.ask_factor[9], 1 - t.discouragement)
    # a week of recovery (a share ask_recovery of the loss a year), then the week's encouragement
    keep = (1 - t.ask_recovery) ** (1 / 52)
    assert np.isclose(pop.ask_factor[a], (1 - 0.5 * keep) * (1 + t.encouragement))
    assert np.isclose(model.ties.strength[0], min(strength + t.tie_gain, 1))


def test_initial_items_share_one_disposition():
    """Trust and reciprocity are drawn as items of one disposition: positively correlated, survey means kept."""
    model = KyojoModel("ikoma", seed=3, scale=0.05, years=0)
    pop, t = model.population, model.scenario.trust
    corr = np.corrcoef([pop.trust_offline, pop.trust_online, pop.reciprocity])
    off_diagonal = corr[np.triu_indices(3, 1)]
    # a Gaussian copula of loading l: correlations about l^2 (0.49 for the default 0.7; participation adds a little)
    assert np.all(np.abs(off_diagonal - t.item_loading ** 2) < 0.06), corr
    assert abs(pop.reciprocity.mean() - t.reciprocity) < 0.01 and abs(pop.trust_online.mean() - t.online_trust) < 0.01
    # the initial population starts where taking part has shaped it (§7.16): more communities, more trust
    k = (pop.groups >= 0).sum(axis=1)
    assert pop.trust_offline[k >= 2].mean() > pop.trust_offline[k == 0].mean() + 0.03
    weak = KyojoModel("ikoma", seed=3, scale=0.05, years=0, trust__item_loading=0.0,
                      trust__participation_effect=0.0).population
    assert np.all(np.abs(np.corrcoef([weak.trust_offline, weak.trust_online, weak.reciprocity])[np.triu_indices(3, 1)])
                  < 0.05)


def _bits(mask: np.ndarray, n_cat: int) -> np.ndarray:
    return ((mask[:, None].astype(int) >> np.arange(n_cat)) & 1).astype(bool)


def test_willingness_turnover_keeps_the_survey_shares_and_follows_reciprocity():
    model = KyojoModel("ikoma", seed=1, scale=0.05, years=0, trust__willingness_turnover=1.0)
    pop, h = model.population, model.scenario.helping
    live = pop.live()
    high = live[: live.size // 2]
    pop.reciprocity[live] = 0.2
    pop.reciprocity[high] = 0.8  # mean 0.5: the high half is 1.6 times as likely to be free, the low 0.4 times
    changed = yearly_willingness(pop, model.scenario, np.random.default_rng(5))
    assert changed > 0
    free = np.array([h.free_share[c] for c in CATEGORIES])
    paid = np.array([h.paid_share[c] for c in CATEGORIES])
    will = pop.will[live]
    # every willingness was re-formed: the shares are the survey's (図表4-3-4-3), in expectation
    assert np.all(np.abs((will == WILL_FREE).mean(axis=0) - free) < 0.02)
    assert np.all(np.abs((will == WILL_PAID).mean(axis=0) - paid) < 0.025)
    # reciprocity decides who is free: the high half four times as often as the low half (1.6 / 0.4)
    share_high = (pop.will[high] == WILL_FREE).mean()
    share_low = (pop.will[np.setdiff1d(live, high)] == WILL_FREE).mean()
    assert 3.0 < share_high / share_low < 5.5
    # the platform bit follows the new terms: never for a resident not willing
    bits = _bits(pop.platform_help[live], len(CATEGORIES))
    assert not bits[will == WILL_NONE].any()
    use_free = np.mean([h.platform_use_free[c] for c in CATEGORIES])
    assert abs(bits[will == WILL_FREE].mean() - use_free) < 0.03


def _willingness_turnover_per_pair(pop, scn, rng) -> None:
    """The willingness turnover drawn with three uniforms for every (resident, category) pair (the array form)."""
    h = scn.helping
    live = pop.live()
    free = np.array([h.free_share[c] for c in CATEGORIES])
    paid = np.array([h.paid_share[c] for c in CATEGORIES])
    use_free = np.array([h.platform_use_free[c] for c in CATEGORIES])
    use_paid = np.array([h.platform_use_paid[c] for c in CATEGORIES])
    shape = (live.size, len(CATEGORIES))
    redo = rng.random(shape) < scn.trust.willingness_turnover
    u, v = rng.random(shape), rng.random(shape)
    r = pop.reciprocity[live].astype(np.float64)
    p_free = np.minimum(1.0, free * (r / r.mean())[:, None])
    p_paid = np.divide(paid, 1.0 - free, out=np.zeros_like(paid), where=free < 1)
    new = np.where(u < p_free, WILL_FREE, np.where(u < p_free + (1 - p_free) * p_paid, WILL_PAID, WILL_NONE))
    will = np.where(redo, new, pop.will[live])
    offer = ((will == WILL_FREE) & (v < use_free)) | ((will == WILL_PAID) & (v < use_paid))
    bits = _bits(pop.platform_help[live], len(CATEGORIES))
    bits = np.where(redo, offer, bits)
    pop.will[live] = will
    pop.platform_help[live] = (bits * (1 << np.arange(len(CATEGORIES)))).sum(axis=1).astype(np.uint8)


def test_willingness_turnover_has_the_distribution_of_a_draw_per_pair():
    """Drawing only the pairs re-formed (geometric gaps) gives the outcome of drawing for every pair, in distribution.

    From one start (reciprocity 0.2 or 0.8, the willingness and offer bits of the synthesis), many runs
    of each way: per stratum (category, reciprocity, start terms, start bit) the counts of the end
    (terms, bit); a chi-square test of homogeneity of the two ways, summed over the strata, at level 1e-4
    (fixed seeds).
    """
    from scipy import stats

    model = KyojoModel("ikoma", seed=1, scale=0.05, years=0, trust__willingness_turnover=0.3)
    pop, scn = model.population, model.scenario
    live = pop.live()
    pop.reciprocity[live] = np.where(np.arange(live.size) % 2 == 0, np.float32(0.2), np.float32(0.8))
    will0, bits0 = pop.will.copy(), pop.platform_help.copy()
    stratum = (np.arange(len(CATEGORIES)) * 12 + (pop.reciprocity[live] > 0.5)[:, None] * 6
               + will0[live].astype(np.int64) * 2 + _bits(bits0[live], len(CATEGORIES)))
    n_strata = len(CATEGORIES) * 12
    counts = []
    for way, seed0 in ((_willingness_turnover_per_pair, 100), (yearly_willingness, 200)):
        c = np.zeros((n_strata, 6), dtype=np.int64)
        for run in range(12):
            pop.will[:] = will0
            pop.platform_help[:] = bits0
            way(pop, scn, np.random.default_rng(seed0 + run))
            end = pop.will[live].astype(np.int64) * 2 + _bits(pop.platform_help[live], len(CATEGORIES))
            np.add.at(c, (stratum.ravel(), end.ravel()), 1)
        counts.append(c)
    assert (counts[0] != counts[1]).any()  # other draws
    chi2, dof = 0.0, 0
    for s in range(n_strata):
        table = np.array([counts[0][s], counts[1][s]])
        table = table[:, table.sum(axis=0) > 0]
        if table.shape[1] < 2:
            continue
        stat, _, d, _ = stats.chi2_contingency(table, correction=False)
        chi2, dof = chi2 + stat, dof + d
    assert dof > 50 and stats.chi2.sf(chi2, dof) > 1e-4


def test_without_turnover_nothing_changes_and_without_shares_nobody_becomes_willing():
    model = KyojoModel("yamae", seed=2, years=0, trust__willingness_turnover=0.0)
    before = model.population.will.copy()
    assert yearly_willingness(model.population, model.scenario, np.random.default_rng(1)) == 0
    assert np.array_equal(model.population.will, before)
    zero = {f"helping.{k}": dict.fromkeys(CATEGORIES, 0.0) for k in ("free_share", "paid_share")}
    model = KyojoModel("yamae", seed=2, years=0, overrides={**zero, "trust.willingness_turnover": 1.0})
    pop = model.population
    pop.reciprocity[:] = 1.0
    assert (pop.will == WILL_NONE).all()
    yearly_willingness(pop, model.scenario, np.random.default_rng(1))
    assert (pop.will == WILL_NONE).all() and (pop.platform_help == 0).all()


def test_the_wish_to_ask_recovers():
    model = KyojoModel("yamae", seed=1, years=0)
    pop, t = model.population, model.scenario.trust
    pop.ask_factor[:] = 0.5
    for _ in range(52):
        recover_asking(pop, model.scenario)
    # a share ask_recovery of the loss is regained in a year
    assert np.allclose(pop.ask_factor[pop.live()], 1 - 0.5 * (1 - t.ask_recovery), atol=1e-4)


def test_no_willingness_means_no_help_at_all():
    """With nobody willing to help, free or paid, no channel makes a single match over the years."""
    zero = {f"helping.{k}": dict.fromkeys(CATEGORIES, 0.0) for k in ("free_share", "paid_share")}
    model = KyojoModel("yamae-all", seed=4, years=3, scale=0.5, agents=False, overrides=zero)
    model.run_model()
    assert model.aid.total["arisen"].sum() > 0
    assert model.aid.total["matched"].sum() == 0
    assert (model.population.will[model.population.live()] == WILL_NONE).all()


def test_baseline_shares_do_not_drift():
    """A baseline run keeps the shares willing to help and the share of needs surfaced near their start.

    The share surfaced moves with the mix of requesters as the town ages (older residents ask less, §7.13.1):
    taken at one fixed age mix it stays within 3 points of its start.
    """
    model = KyojoModel("ikoma", seed=2, years=20, scale=0.05, agents=False)
    model.run_model()
    years = model.table("years").set_index("year")
    for col in ("willing_free_share", "willing_paid_share"):
        assert (years[col] - years[col].iloc[0]).abs().max() < 0.03, years[col]
    assert years["ask_factor_mean"].min() > 0.95
    by_age = years[[f"surfaced_share_{g}" for g in REQUESTER_AGE_GROUPS]].dropna()
    aid = model.aid.by_group["age_group"]
    weight = aid["arisen"] / aid["arisen"].sum()  # one fixed age mix of requesters (that of the whole run)
    standardised = by_age @ weight
    assert abs(standardised.iloc[-3:].mean() - standardised.iloc[:3].mean()) < 0.03, standardised


def test_participation_pull_kernel_equals_the_array_form():
    from kyojosim.core.trust import participation_levels, yearly_participation

    model = KyojoModel("ikoma", seed=3, scale=0.05, years=0)
    pop, scn = model.population, model.scenario
    pop.alive[: pop.n : 7] = False  # some slots gone before a compaction
    live = pop.live()
    want = [c.copy() for c in (pop.trust_offline, pop.trust_online, pop.reciprocity)]
    pull = np.float32(scn.trust.participation_pull)
    for col, target in zip(want, participation_levels(pop, scn), strict=True):
        col[live] += pull * (target[live].astype(np.float32) - col[live])
    yearly_participation(pop, scn)
    for col, w in zip((pop.trust_offline, pop.trust_online, pop.reciprocity), want, strict=True):
        assert col.dtype == w.dtype and np.array_equal(col.view(np.uint32), w.view(np.uint32))


def test_after_week_kernels_equal_the_array_forms():
    """The compiled gains and recovery of the wish to ask give the array forms' values to the bit."""
    from kyojosim.core.trust_kernel import add_capped

    model = KyojoModel("ikoma", seed=5, scale=0.05, years=0)
    pop, scn = model.population, model.scenario
    rng = np.random.default_rng(5)
    pop.reciprocity[:] = rng.random(pop.n).astype(np.float32)  # some near the cap of 1
    slots = rng.integers(0, pop.n, 3000)
    for gain in (0.02, 0.3):
        want = pop.reciprocity.copy()
        who, c = np.unique(slots, return_counts=True)
        want[who] = np.minimum(want[who] + np.float32(gain) * c, 1.0)
        who, c = pop.distinct_slots(slots)
        add_capped(pop.reciprocity, who, c, np.float32(gain))
        assert np.array_equal(pop.reciprocity.view(np.uint32), want.view(np.uint32))
    # the wish to ask recovers as the whole-array arithmetic, all alive or some gone
    pop.ask_factor[:] = rng.random(pop.n).astype(np.float32)
    for gone in (False, True):
        if gone:
            pop.alive[: pop.n : 5] = False
        live = pop.alive[: pop.n]
        keep = np.float32((1.0 - scn.trust.ask_recovery) ** (1 / 52.0))
        want = pop.ask_factor.copy()
        want[live] = 1.0 - (1.0 - want[live]) * keep
        recover_asking(pop, scn)
        assert np.array_equal(pop.ask_factor.view(np.uint32), want.view(np.uint32))


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 40), turnover=st.floats(0.0, 1.0),
       mean_r=st.sampled_from([0.5, 0.0, 1.3]), n_cat=st.sampled_from([len(CATEGORIES), 5]))
def test_reform_selected_equals_the_array_rule(seed, n, turnover, mean_r, n_cat):
    """The compiled re-forming of the selected pairs gives, pair by pair, the terms and offer bits of the array rule.

    With the model's categories (a power of two: the row by a shift) and with five (by a division).
    """
    from kyojosim.core.trust_kernel import reform_selected

    rng = np.random.default_rng(seed)
    slots = 2 * n + 3
    will = rng.integers(0, 3, size=(slots, n_cat)).astype(np.int8)
    bits = rng.integers(0, 256, size=slots).astype(np.uint8)
    rows = np.sort(rng.choice(slots, size=n, replace=False)).astype(np.int64)
    pairs = np.flatnonzero(rng.random(n * n_cat) < turnover).astype(np.int64)
    u, v = rng.random(pairs.size), rng.random(pairs.size)
    reciprocity = rng.random(slots).astype(np.float32)
    free, paid = rng.random(n_cat) * 0.6, rng.random(n_cat) * 0.4
    free[0] = 1.0  # a category where everyone tilted up is free
    p_paid = np.divide(paid, 1.0 - free, out=np.zeros_like(paid), where=free < 1)
    use_free, use_paid = rng.random(n_cat), rng.random(n_cat)
    # the array rule, pair by pair
    s, c = rows[pairs // n_cat], pairs % n_cat
    tilt = reciprocity[s].astype(np.float64) / mean_r if mean_r > 0 else np.ones(pairs.size)
    p_free = np.minimum(free[c] * tilt, 1.0)
    new = np.where(u < p_free, WILL_FREE, np.where(u < p_free + (1.0 - p_free) * p_paid[c], WILL_PAID, WILL_NONE))
    offer = ((new == WILL_FREE) & (v < use_free[c])) | ((new == WILL_PAID) & (v < use_paid[c]))
    want_will, want_bits = will.copy(), _bits(bits, n_cat)
    changed = int((want_will[s, c] != new).sum())
    want_will[s, c] = new
    want_bits[s, c] = offer
    got_will, got_bits = will.copy(), bits.copy()
    assert reform_selected(got_will, got_bits, rows, pairs, u, v, reciprocity, mean_r, free, p_paid, use_free,
                           use_paid, WILL_FREE, WILL_PAID, WILL_NONE) == changed
    assert np.array_equal(got_will, want_will)
    assert np.array_equal(_bits(got_bits, n_cat), want_bits)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 50), st.integers(0, 120), st.booleans())
def test_week_gains_in_one_pass_equal_the_array_forms(seed, n, n_match, out_of_range):
    """The four gains of a week in one compiled call give the array forms' values, each applied in turn, to the bit.

    A resident may be requester and helper (reciprocity gains twice, the requester's first), values near the cap
    of 1; with a slot out of range the kernel changes nothing and says so.
    """
    from kyojosim.core.trust_kernel import add_week_gains

    rng = np.random.default_rng(seed)
    cols = [np.where(rng.random(n) < 0.3, np.float32(0.999), rng.random(n)).astype(np.float32) for _ in range(3)]
    requester, helper = rng.integers(0, n, n_match), rng.integers(0, n, n_match)
    online = rng.random(n_match) < 0.4
    gains = [np.float32(x) for x in rng.random(3) * 0.1]
    want = [c.copy() for c in cols]
    for col, slots, gain in ((want[0], requester, gains[0]), (want[0], helper, gains[1]),
                             (want[1], requester[online], gains[2]), (want[2], requester[~online], gains[2])):
        who, c = np.unique(slots, return_counts=True)
        col[who] = np.minimum(col[who] + gain * c, 1.0)
    if out_of_range and n_match:
        helper[-1] = n
        before = [c.copy() for c in cols]
        assert not add_week_gains(*cols, requester, helper, online, np.zeros(n + 1, dtype=np.int64), *gains)
        assert all(np.array_equal(c, b) for c, b in zip(cols, before, strict=True))
        return
    marks = np.zeros(n + 3, dtype=np.int64)
    assert add_week_gains(*cols, requester, helper, online, marks, *gains)
    assert all(np.array_equal(c.view(np.uint32), w.view(np.uint32)) for c, w in zip(cols, want, strict=True))
    assert not marks.any()  # the scratch is left all zeros
