"""Tests of つながり力 (kyojosim.measures.tsunagari): the three steps by hand, and its monthly record in a run."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kyojosim.constants import PARTICIPATION_GROUPS
from kyojosim.core.communities import ONLINE_BIT, K
from kyojosim.core.population import Population
from kyojosim.measures.outcomes import TABLES
from kyojosim.measures.tsunagari import (
    DECADE_GROUPS,
    QUANTILES,
    FrameGroups,
    Scale,
    community_strengths,
    components,
    consciousness,
    fixed_scale,
    index_report,
    membership_counts,
    principal_component,
    raw_sums,
    recorded_values,
    summary_rows,
    tsunagari,
)
from kyojosim.model import KyojoModel
from kyojosim.runs.results import RunResult

R2 = np.sqrt(2.0)
LOCAL, FEED = ONLINE_BIT["local_sns"], ONLINE_BIT["feed_groups"]
NA, PTA = K["neighbourhood_association"], K["pta"]


def hand_population() -> Population:
    """Seven residents; all item values are exact in float32.

    slot  who  age district trust_off recip trust_on  communities
    0     A    30  0        0.25      0.25  1.0       NA group 0, PTA group 2, local SNS, feed groups
    1     B    45  0        0.5       0.5   0.5       NA group 0
    2     C    70  1        0.75      1.0   0.25      NA group 1, local SNS
    3     D    85  1        1.0       0.75  0.75      NA group 1, feed groups
    4     E    50  0        0.625     0.625 0.625     none
    5     F    10  0        0.875     0.875 0.875     none (a child: outside the 20+ frame)
    6     G    40  0        0.0       0.0   0.0       NA group 0, local SNS, but dead (removed)
    """
    pop = Population()
    pop.add(
        7,
        age=np.array([30, 45, 70, 85, 50, 10, 40]),
        district=np.array([0, 0, 1, 1, 0, 0, 0]),
        trust_offline=np.array([0.25, 0.5, 0.75, 1.0, 0.625, 0.875, 0.0]),
        reciprocity=np.array([0.25, 0.5, 1.0, 0.75, 0.625, 0.875, 0.0]),
        trust_online=np.array([1.0, 0.5, 0.25, 0.75, 0.625, 0.875, 0.0]),
        online=np.array([LOCAL | FEED, 0, LOCAL, FEED, 0, 0, LOCAL], dtype=np.uint8),
    )
    g = pop.groups
    g[[0, 1, 6], NA] = 0
    g[[2, 3], NA] = 1
    g[0, PTA] = 2
    pop.remove(np.array([6]))
    return pop


U = np.sqrt(3.6)
"""Unit of the hand town's factor scores: projection / sqrt(eigenvalue 1.8), the projection in units of 1/sqrt2."""


def test_consciousness_worked_by_hand():
    pop = hand_population()
    off, on = consciousness(pop)
    # frame: living residents 20+ = A, B, C, D, E (F is 10, G is dead)
    # trust_off: mean 0.625, deviations -0.375 -0.125 0.125 0.375 0; variance (0.140625*2 + 0.015625*2)/5 = 0.0625,
    #   sd 0.25 -> z_t = -1.5 -0.5 0.5 1.5 0
    # reciprocity: the same values permuted (C and D swapped) -> z_r = -1.5 -0.5 1.5 0.5 0
    # corr = mean(z_t z_r) = (2.25 + 0.25 + 0.75 + 0.75 + 0)/5 = 0.8 > 0: first component (1, 1)/sqrt2, eigenvalue 1.8
    # factor score = (z_t + z_r)/sqrt2 / sqrt(1.8) = (-3, -1, 2, 2, 0)/sqrt(3.6)
    # F (child): z_t = z_r = (0.875 - 0.625)/0.25 = 1 -> 2/sqrt(3.6); G dead -> 0
    assert np.allclose(off, np.array([-3, -1, 2, 2, 0, 2, 0]) / U)
    # trust_on: z = 1.5 -0.5 -1.5 0.5 0; corr with z_r = (-2.25 + 0.25 - 2.25 + 0.25)/5 = -0.8 < 0:
    # first component (eigenvalue 1.8) is (1, -1)/sqrt2: its loadings sum to 0, so the first is made positive
    # online score = (z_on - z_r)/sqrt2/sqrt(1.8) = (3, 0, -3, 0, 0)/sqrt(3.6); F: (1 - 1) = 0; G dead -> 0
    assert np.allclose(on, np.array([3, 0, -3, 0, 0, 0, 0]) / U)
    offline, online = components(pop)
    assert np.allclose(offline.loadings, [1 / R2, 1 / R2]) and np.isclose(offline.explained, 0.9)
    assert np.allclose(online.loadings, [1 / R2, -1 / R2]) and np.isclose(online.explained, 0.9)
    # factor scores have mean 0 and standard deviation 1 over the frame
    frame = np.array([0, 1, 2, 3, 4])
    assert np.isclose(off[frame].mean(), 0) and np.isclose(off[frame].std(), 1)


def test_first_component_of_positively_correlated_items():
    rng = np.random.default_rng(0)
    z = rng.standard_normal(5000)
    items = np.column_stack([0.8 * z + 0.6 * rng.standard_normal(5000), 0.6 * z + 0.8 * rng.standard_normal(5000),
                             -(0.7 * z + 0.71 * rng.standard_normal(5000))])
    frame = np.arange(4000)
    pc = principal_component(items[:, :2], frame)
    assert (pc.loadings > 0).all() and 0.5 < pc.explained < 1
    flipped = principal_component(-items[:, :2], frame)  # a component is oriented so that its loadings sum up
    assert (flipped.loadings > 0).all() and np.allclose(flipped.scores, -pc.scores)
    mixed = principal_component(items, frame)  # an item answered the other way round loads negatively
    assert mixed.loadings[2] < 0 < mixed.loadings[0]


def test_community_strengths_and_tsunagari_worked_by_hand():
    pop = hand_population()
    cs = community_strengths(pop)
    # in units of 1/sqrt(3.6) (consciousness above); dead G counts in none of its communities
    #   NA group 0 {A, B}:      (-3 - 1)/2 = -2        (offline consciousness)
    #   NA group 1 {C, D}:      ( 2 + 2)/2 =  2
    #   PTA group 2 {A}:        -3
    #   local SNS district 0 {A}: 3                  (online consciousness)
    #   local SNS district 1 {C}: -3
    #   feed groups district 0 {A}: 3
    #   feed groups district 1 {D}: 0
    v = np.array([-2, 2, -3, 3, -3, 3, 0], dtype=float)
    assert list(cs["kind"]) == ["neighbourhood_association"] * 2 + ["pta"] + ["local_sns"] * 2 + ["feed_groups"] * 2
    assert list(cs["online"]) == [False] * 3 + [True] * 4
    assert list(cs["group"]) == [0, 1, 2, 0, 1, 0, 1]
    assert list(cs["members"]) == [2, 2, 1, 1, 1, 1, 1]
    assert np.allclose(cs["mean"], v / U)
    assert np.allclose(cs["strength"], v / U)  # the tie strength is the mean: no constant per community
    # sums: A: NA0 -2 + PTA -3 + local SNS d0 3 + feed d0 3 = 1; B: NA0 -2; C: NA1 2 + local SNS d1 -3 = -1;
    #   D: NA1 2 + feed d1 0 = 2; E, F: in no community 0; G: dead
    assert np.allclose(raw_sums(pop), np.array([1, -2, -1, 2, 0, 0, 0]) / U)
    # one constant for everyone: the smallest sum of the frame (B's -2) with its sign changed; the dead stay 0
    assert np.allclose(tsunagari(pop), np.array([3, 0, 1, 4, 2, 2, 0]) / U)
    assert list(membership_counts(pop)) == [4, 1, 2, 2, 0, 0, 0]
    # the literal reading standardises the means too, over the real-world and over the online communities
    lit = community_strengths(pop, standardise=True)["strength"]
    offline, online = v[:3], v[3:]
    assert np.allclose(lit[:3], (offline - offline.mean()) / offline.std())
    assert np.allclose(lit[3:], (online - online.mean()) / online.std())


def test_joining_weaker_members_lowers_tsunagari():
    """The index is no count: a resident who joins a community of members less conscious than average loses."""
    pop = hand_population()
    before = raw_sums(pop)
    pop.groups[4, K["volunteer_group"]] = 9  # E joins a new group with B, the least conscious
    pop.groups[1, K["volunteer_group"]] = 9
    after = raw_sums(pop)
    assert after[4] < before[4] and after[1] < before[1]


def test_people_in_no_community_share_the_constant():
    pop = hand_population()
    value = tsunagari(pop)
    none = ~(pop.groups >= 0).any(axis=1) & (pop.online == 0) & pop.alive[: pop.n]
    assert none.sum() == 2 and np.allclose(value[none], value[none][0])
    # on a synthesised town too: the smallest value of the frame is 0 and people in none share one value
    model = KyojoModel("yamae", seed=1, years=1)
    pop = model.population
    value = tsunagari(pop)
    frame = pop.live()[pop.age[pop.live()] >= 20]
    none = ~(pop.groups >= 0).any(axis=1) & (pop.online == 0)
    assert np.isclose(value[frame].min(), 0) and (value[frame] >= 0).all()
    assert none[frame].any() and np.allclose(value[frame][none[frame]], value[frame][none[frame]][0])
    assert value[~none].std() > 0


def test_degenerate_cases_score_zero():
    pop = hand_population()
    for col in ("trust_offline", "trust_online", "reciprocity"):
        getattr(pop, col)[:] = 0.5  # no variance at all
    off, on = consciousness(pop)
    assert np.all(off == 0) and np.all(on == 0)
    assert np.all(community_strengths(pop)["strength"] == 0)
    assert np.all(tsunagari(pop) == 0)
    assert tsunagari(Population()).size == 0
    assert components(pop)[0].explained == 0


def _hand_model(pop: Population) -> SimpleNamespace:
    districts = [SimpleNamespace(name="north"), SimpleNamespace(name="south")]
    return SimpleNamespace(population=pop, steps=0, year=2015, month="2014-12", tsunagari_groups=FrameGroups(),
                           scenario=SimpleNamespace(municipality=SimpleNamespace(districts=districts)))


def test_summary_rows_of_the_hand_town():
    df = pd.DataFrame(summary_rows(_hand_model(hand_population())))
    assert list(df.columns) == list(TABLES["tsunagari"].columns)
    row = df.set_index(["group_type", "group"])
    # the 20+ frame: A 3, B 0, C 1, D 4, E 2 (units of 1/sqrt(3.6))
    a, b, c, d, e = np.array([3, 0, 1, 4, 2]) / U
    frame = np.array([a, b, c, d, e])
    assert row.loc[("all", "all"), "n"] == 5 and np.isclose(row.loc[("all", "all"), "mean"], frame.mean())
    assert np.isclose(row.loc[("all", "all"), "q50"], np.median(frame))
    assert np.isclose(row.loc[("all", "all"), "q25"], np.percentile(frame, 25))
    assert row.loc[("participation", "none"), "n"] == 1 and np.isclose(row.loc[("participation", "none"), "mean"], e)
    assert np.isclose(row.loc[("participation", "offline_only"), "mean"], b)  # B
    assert np.isclose(row.loc[("participation", "both"), "mean"], (a + c + d) / 3)  # A, C, D
    assert row.loc[("participation", "online_only"), "n"] == 0
    assert np.isnan(row.loc[("participation", "online_only"), "mean"])
    assert np.isclose(row.loc[("age_group", "80+"), "mean"], d)  # D, 85
    assert row.loc[("age_group", "60s"), "n"] == 0
    assert np.isclose(row.loc[("district", "north"), "mean"], (a + b + e) / 3)  # A, B, E
    assert np.isclose(row.loc[("district", "south"), "mean"], (c + d) / 2)  # C, D


def test_summary_rows_recorded_monthly_in_a_run():
    model = KyojoModel("yamae", seed=1, years=1)
    model.run_model()
    res = RunResult.from_model(model)
    df = res.to_pandas("tsunagari")
    assert list(df.columns) == list(TABLES["tsunagari"].columns)
    # the initial state, then one record per calendar month, in its last week (the run's last step closes December)
    months = df.drop_duplicates("step")
    assert months["month"].tolist() == ["2014-12", *(f"2015-{m:02d}" for m in range(1, 13))]
    weeks = res.to_pandas("steps").query("step > 0")
    assert months["step"].tolist() == [0, *weeks.groupby("month")["step"].max()]
    assert months["step"].iloc[-1] == model.steps
    names = [d.name for d in model.scenario.municipality.districts]
    expected = ([("all", "all")] + [("participation", g) for g in PARTICIPATION_GROUPS]
                + [("age_group", g) for g in DECADE_GROUPS] + [("district", n) for n in names])
    for _, rows in df.groupby("step"):
        assert list(zip(rows["group_type"], rows["group"], strict=True)) == expected
    first = df[df["step"] == 0].set_index(["group_type", "group"])
    assert first.loc[("all", "all"), "n"] == first.xs("participation")["n"].sum()
    assert first.loc[("all", "all"), "n"] == first.xs("age_group")["n"].sum() == first.xs("district")["n"].sum()
    assert df["year"].min() == model.start_year


def test_index_report_by_hand():
    pop = hand_population()
    r = index_report(pop)
    # frame A, B, C, D, E: index 3, 0, 1, 4, 2 (units of 1/sqrt(3.6)); communities 4, 1, 2, 2, 0
    assert r["n"] == 5 and np.isclose(r["explained_offline"], 0.9)
    assert np.isclose(r["mean_both"], (3 + 1 + 4) / 3 / U) and np.isclose(r["mean_offline_only"], 0)
    assert np.isnan(r["mean_online_only"]) and r["holds"] is False  # no online-only resident: not shown
    assert np.isclose(r["corr_memberships"], np.corrcoef([3, 0, 1, 4, 2], [4, 1, 2, 2, 0])[0, 1])
    assert r["loadings_offline"] == pytest.approx((1 / R2, 1 / R2))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_participation_makes_the_survey_ordering(seed):
    """図表4-3-5-4 is reported, not imposed: it comes from taking part making members more trusting.

    The initial population starts where taking part has shaped trust and reciprocity (§5.6), and the yearly
    pull keeps shaping them (§7.16): the index follows participation and people in both kinds score above
    offline-only and online-only people, at the start and three years on. Without that effect it does not.
    """
    shaped = KyojoModel("yamae", seed=seed, years=3, agents=False)
    first = index_report(shaped.population)
    shaped.run_model()
    later = index_report(shaped.population)
    flat = KyojoModel("yamae", seed=seed, years=3, agents=False, trust__participation_effect=0.0)
    flat.run_model()
    unshaped = index_report(flat.population)
    for report in (first, later):
        assert report["corr_memberships"] > 0.3 and report["holds"], report
        assert 0.6 < report["explained_offline"] < 1 and all(x > 0 for x in report["loadings_offline"])
    assert abs(unshaped["corr_memberships"]) < 0.2


# -- the recorded index: one fixed scale for the whole run (the first record's) -------------------------------


def _record(model, step=None) -> pd.DataFrame:
    df = model.table("tsunagari")
    step = df["step"].max() if step is None else step
    return df[df["step"] == step].set_index(["group_type", "group"])


def test_the_first_record_is_the_within_record_index():
    model = KyojoModel("yamae", seed=2, years=0, agents=False)
    pop = model.population
    frame = pop.live()[pop.age[pop.live()] >= 20]
    within = tsunagari(pop)[frame]
    first = _record(model, 0)
    assert np.isclose(first.loc[("all", "all"), "mean"], within.mean())
    assert np.isclose(first.loc[("all", "all"), "q50"], np.median(within))
    scale = model.tsunagari_groups.scale
    assert np.isclose(scale.shift, -raw_sums(pop)[frame].min())
    # the weights are the components' loadings over the items' deviations and the root of the eigenvalue
    offline, _ = components(pop)
    assert np.allclose(scale.weight[0], offline.loadings / offline.sd / np.sqrt(offline.eigenvalue))


def test_later_records_keep_the_first_scale():
    model = KyojoModel("yamae", seed=2, years=0, agents=False)
    pop = model.population
    before = model.tsunagari_groups.scale
    # every resident trusts more: within a record nothing changes (scores are standardised), on the fixed scale
    # the index rises
    for col in ("trust_offline", "trust_online", "reciprocity"):
        getattr(pop, col)[:] = np.minimum(getattr(pop, col) + np.float32(0.1), 1)
    rows = pd.DataFrame(summary_rows(model)).set_index(["group_type", "group"])
    assert model.tsunagari_groups.scale is before
    frame = pop.live()[pop.age[pop.live()] >= 20]
    assert rows.loc[("all", "all"), "mean"] > _record(model, 0).loc[("all", "all"), "mean"] + 0.1
    assert np.isclose(tsunagari(pop)[frame].min(), 0)  # the survey's reading stays within the record


def test_a_variant_that_raises_trust_raises_the_recorded_index():
    """Variants that share the seed share the first record (common random numbers); the level then compares."""
    base = KyojoModel("yamae", seed=4, years=2, agents=False)
    base.run_model()
    gains = {"trust.trust_gain": 0.3, "trust.reciprocity_gain": 0.3, "trust.helper_reciprocity_gain": 0.3}
    more = KyojoModel("yamae", seed=4, years=2, agents=False, overrides=gains)
    more.run_model()
    pd.testing.assert_frame_equal(_record(base, 0), _record(more, 0))  # the same start, the same scale
    b, m = _record(base), _record(more)
    assert m.loc[("all", "all"), "mean"] > b.loc[("all", "all"), "mean"]
    # the summary metric reads the last record, so a comparison of variants sees the difference
    from kyojosim.measures.outcomes import METRICS

    res_b, res_m = RunResult.from_model(base), RunResult.from_model(more)
    summary = METRICS["tsunagari_mean"].summary
    assert summary(res_m) > summary(res_b)


def test_group_statistics_are_numpys():
    from kyojosim.measures.tsunagari import group_statistics

    rng = np.random.default_rng(5)
    for n in (1, 2, 3, 10, 1001):
        values = np.round(rng.normal(size=n), 1 if n > 3 else 3)  # ties among values, negative values
        groups = [(np.zeros(n, dtype=np.int64), 1), (rng.integers(-1, 4, n), 4)]
        for (group, k), (count, mean, quant) in zip(groups, group_statistics(values, groups), strict=True):
            for g in range(k):
                x = values[group == g]
                assert count[g] == x.size
                if x.size:
                    assert np.isclose(mean[g], x.mean())
                    assert np.array_equal(quant[g], np.percentile(x, QUANTILES))  # to the bit
                else:
                    assert np.isnan(mean[g]) and np.isnan(quant[g]).all()


@settings(max_examples=150, deadline=None)
@given(st.lists(st.floats(-1e6, 1e6, allow_nan=False, allow_subnormal=False), min_size=1, max_size=60),
       st.integers(1, 4), st.integers(0, 2**32 - 1))
def test_quantiles_by_group_are_numpys_on_any_values(values, k, seed):
    from kyojosim.measures.tsunagari import group_statistics

    values = np.array(values)
    group = np.random.default_rng(seed).integers(-1, k, values.size)
    ((count, _, quant),) = group_statistics(values, [(group, k)])
    for g in range(k):
        x = values[group == g]
        assert count[g] == x.size
        assert np.array_equal(quant[g], np.percentile(x, QUANTILES)) if x.size else np.isnan(quant[g]).all()


def _memberships_by_arrays(pop):
    """The memberships as the array form gives them: ``np.nonzero`` over the (slot, kind) tables."""
    from kyojosim.constants import OFFLINE_COMMUNITIES, ONLINE_COMMUNITIES

    live = pop.alive[: pop.n]
    groups = pop.groups.astype(np.int64)
    g1 = int(groups.max()) + 1 if groups.size else 0
    n_offline = len(OFFLINE_COMMUNITIES) * max(g1, 1)
    s_off, k_off = np.nonzero((groups >= 0) & live[:, None])
    c_off = k_off * max(g1, 1) + groups[s_off, k_off]
    d = int(pop.district.max()) + 1 if pop.n else 0
    bits = np.array([ONLINE_BIT[name] for name in ONLINE_COMMUNITIES], dtype=np.uint8)
    s_on, k_on = np.nonzero(((pop.online[:, None] & bits) > 0) & live[:, None])
    c_on = n_offline + k_on * d + pop.district[s_on].astype(np.int64)
    return (np.concatenate([s_off, s_on]), np.concatenate([c_off, c_on]),
            np.concatenate([np.zeros(s_off.size, bool), np.ones(s_on.size, bool)]))


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 300))
def test_compiled_memberships_equal_the_array_form(seed, n):
    """The compiled memberships equal the array code's."""
    from kyojosim.measures.tsunagari import _memberships

    rng = np.random.default_rng(seed)
    pop = Population()
    pop.add(n)
    pop.alive[:n] = rng.random(n) < 0.9
    shape = pop.groups.shape
    pop.groups[:] = np.where(rng.random(shape) < 0.3, rng.integers(0, 7, shape), -1)
    pop.online[:] = rng.integers(0, 16, n) * (rng.random(n) < 0.5)
    pop.district[:] = rng.integers(0, 4, n)
    slot, comm, online, _, _, n_comm = _memberships(pop)
    want = _memberships_by_arrays(pop)
    for got, exp in zip((slot, comm, online), want, strict=True):
        assert np.array_equal(got, exp)
    assert comm.size == 0 or comm.max() < n_comm


def _first_appearance(comm):
    """Each community numbered ``0..k-1`` in order of its first membership (the array form)."""
    _, first, inverse = np.unique(comm, return_index=True, return_inverse=True)
    rank = np.empty(first.size, dtype=np.int64)
    rank[np.argsort(first, kind="stable")] = np.arange(first.size)
    return rank[inverse]


def _random_town(rng: np.random.Generator, n: int, top: int, spread: int = 7) -> Population:
    """A town of ``n`` slots (a tenth dead) with random ages, districts, real-world groups and online bits."""
    pop = Population()
    pop.add(n)
    pop.alive[:n] = rng.random(n) < 0.9
    shape = pop.groups.shape
    low = rng.integers(0, top, shape[1])  # each kind's group ids in a range of its own, ranges overlapping
    pop.groups[:] = np.where(rng.random(shape) < 0.3, low + rng.integers(0, spread, shape), -1)
    pop.online[:] = rng.integers(0, 16, n) * (rng.random(n) < 0.5)
    pop.district[:] = rng.integers(0, 4, n)
    pop.age[:] = rng.integers(0, 100, n)
    return pop


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(0, 300), st.sampled_from([7, 400]))
def test_frame_groups_equal_the_array_form(seed, n, top):
    """The frame, its labels and the dense memberships of one compiled pass equal the array code's, exactly."""
    from kyojosim.core.communities import participation_group
    from kyojosim.measures.tsunagari import _frame, decade_group

    rng = np.random.default_rng(seed)
    pop = _random_town(rng, n, top)
    fg = FrameGroups().update(pop, 2030)
    frame = _frame(pop)
    assert np.array_equal(fg.frame, frame)
    labels = np.column_stack([participation_group(pop)[frame], decade_group(pop.age[frame]), pop.district[frame]])
    assert fg.labels.shape == (frame.size, 3) and np.array_equal(fg.labels.astype(np.int64), labels)
    slot, comm, online = _memberships_by_arrays(pop)
    dense = _first_appearance(comm)
    got_slot, got_comm, n_offline, count, at = fg.dense
    assert np.array_equal(got_slot, slot) and np.array_equal(got_comm, dense)
    assert n_offline == np.unique(comm[~online]).size
    assert count.dtype == np.float64 and np.array_equal(count, np.bincount(dense, minlength=count.size))
    place = np.full(pop.n, -1)
    place[frame] = np.arange(frame.size)
    assert np.array_equal(at, place[slot])
    assert fg.update(pop, 2030) is fg and fg.key == (2030, n)
    # the recorded values: the sums of the array form, in the order of the memberships, to the bit
    for c in ("trust_offline", "trust_online", "reciprocity"):
        getattr(pop, c)[:] = rng.random(n).astype(np.float32)
    scale = fixed_scale(pop) if frame.size else Scale(np.zeros((2, 2)), np.ones((2, 2)), 0.0)
    item = {c: getattr(pop, c).astype(np.float64) for c in ("trust_offline", "trust_online", "reciprocity")}
    off = (scale.weight[0, 0] * (item["trust_offline"] - scale.mean[0, 0])
           + scale.weight[0, 1] * (item["reciprocity"] - scale.mean[0, 1]))
    on = (scale.weight[1, 0] * (item["trust_online"] - scale.mean[1, 0])
          + scale.weight[1, 1] * (item["reciprocity"] - scale.mean[1, 1]))
    total = np.zeros(count.size)
    np.add.at(total, dense, np.where(online, on[slot], off[slot]))
    raw = np.zeros(pop.n)
    np.add.at(raw, slot, total[dense] / count[dense])
    assert np.array_equal(recorded_values(pop, scale, fg), raw[frame] + scale.shift)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(0, 200), st.integers(1, 3))
def test_values_put_by_kept_places_are_those_of_the_scatter(seed, n, rows):
    """Places counted once put any values group by group, in order (groups -1 in none), with or without everyone."""
    from kyojosim.measures.tsunagari_kernel import group_places, scatter_places

    rng = np.random.default_rng(seed)
    sizes = rng.integers(1, 6, rows)
    labels = (rng.integers(-1, sizes + 1, (n, rows)) % (sizes + 1) - 1).astype(np.int8)  # -1 .. size - 1
    for everyone in (True, False):
        place, start = group_places(labels, sizes, everyone)
        for _ in range(2):  # the same places for other values
            values = rng.normal(size=n)
            # the array form: every value first (with everyone), then each group's values in their order
            parts = ([values] if everyone else []) + [values[labels[:, r] == g]
                                                      for r in range(rows) for g in range(sizes[r])]
            want = np.concatenate(parts) if parts else np.zeros(0)
            assert np.array_equal(start, np.concatenate([[0], np.cumsum([p.size for p in parts])]))
            assert np.array_equal(scatter_places(values, place, int(start[-1]), everyone), want)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(0, 400), st.sampled_from([1, 2, 7]), st.sampled_from([0, 3, 64]))
def test_statistics_by_classes_are_those_of_the_sorted_groups(seed, n, spread, hash_bits):
    """Residents of one class (participation group and list of communities) walked in the order of their values
    give every group's count, mean and quantiles of the sorted values, to the bit; with few hash bits (lists that
    share a hash) the classes are made comparing lists in full, with the same result."""
    from kyojosim.measures.tsunagari import _class_statistics, _classes, group_statistics
    from kyojosim.measures.tsunagari_kernel import class_keys, class_lists, hash_classes

    rng = np.random.default_rng(seed)
    pop = _random_town(rng, n, 5, spread)  # few groups: many residents share a list
    fg = FrameGroups().update(pop, 2030)
    slot, comm, n_offline, count, at = fg.dense
    n_off = int(np.count_nonzero(comm < n_offline))
    n_districts = 4
    fg.classes = _classes(comm, n_off, at, fg.labels, n_districts, hash_bits)
    class_part, comm_start, class_comm, run_start, run_count, run_age, run_district = fg.classes
    # every frame resident is in one run; each run's residents share the class's group, age group and district
    labels = fg.labels.astype(np.int64)
    assert run_count.sum() == fg.frame.size and run_start[-1] == run_count.size
    per_class = np.repeat(np.arange(class_part.size), np.diff(run_start))
    got = sorted(zip(class_part[per_class].repeat(run_count), run_age.repeat(run_count),
                     run_district.repeat(run_count), strict=True))
    assert got == sorted(map(tuple, labels.tolist()))
    # the classes' lists are the residents' lists (as many residents of each list as of each class's)
    lists: dict[tuple, int] = {}
    for i in range(fg.frame.size):
        key = (int(labels[i, 0]), *comm[at == i].tolist())
        lists[key] = lists.get(key, 0) + 1
    made: dict[tuple, int] = {}
    for c in range(class_part.size):
        key = (int(class_part[c]), *class_comm[comm_start[c]:comm_start[c + 1]].tolist())
        made[key] = made.get(key, 0) + int(run_count[run_start[c]:run_start[c + 1]].sum())
    assert made == lists
    if hash_bits == 0 and len(lists) > 1:  # every list shares the one hash: the check must see it
        bits = max(fg.frame.size - 1, 0).bit_length()
        keys, size = class_keys(comm, at, fg.labels, n_districts + 1, 7, bits, 0)
        keys.sort()
        cls, first, c_part, c_start, *_ = hash_classes(keys, fg.labels, size, 7, bits)
        assert not class_lists(comm, at, cls, first, fg.labels, c_part, size, c_start)[1]
    for _ in range(2):  # a record, then one with the classes numbered in the order of the first's values
        for c in ("trust_offline", "trust_online", "reciprocity"):
            getattr(pop, c)[:] = rng.integers(0, 8, pop.n).astype(np.float32) / 8  # ties between values
        if fg.scale is None:
            fg.scale = fixed_scale(pop) if fg.frame.size else Scale(np.zeros((2, 2)), np.ones((2, 2)), 0.0)
        values = recorded_values(pop, fg.scale, fg)
        sizes = [len(PARTICIPATION_GROUPS), len(DECADE_GROUPS), n_districts + 1]  # the last district empty
        want = group_statistics(values, [(np.zeros(values.size, dtype=np.int64), 1)]
                                + [(labels[:, r], k) for r, k in enumerate(sizes)])
        got_stats = _class_statistics(pop, fg, sizes)
        for (c1, m1, q1), (c2, m2, q2) in zip(want, got_stats, strict=True):
            assert np.array_equal(c1, c2)
            assert np.array_equal(m1, m2, equal_nan=True) and np.array_equal(q1, q2, equal_nan=True)
        assert fg.ordered


def test_lists_of_one_length_and_group_that_share_a_hash_are_told_apart():
    """Residents alike in all but their community share a hash without bits: the check compares the lists."""
    from kyojosim.measures.tsunagari import _classes
    from kyojosim.measures.tsunagari_kernel import class_keys, class_lists, hash_classes

    pop = Population()
    pop.add(6, age=np.full(6, 40), district=np.zeros(6, dtype=np.int64))
    pop.groups[:] = -1
    pop.groups[:, NA] = [0, 1, 0, 1, 1, 0]
    fg = FrameGroups().update(pop, 2030)
    slot, comm, n_offline, count, at = fg.dense
    keys, size = class_keys(comm, at, fg.labels, 2, 5, 3, 0)
    keys.sort()
    cls, first, c_part, c_start, *_ = hash_classes(keys, fg.labels, size, 5, 3)
    assert np.all(cls == 0)  # one hash, one class of six
    assert not class_lists(comm, at, cls, first, fg.labels, c_part, size, c_start)[1]
    for bits in (0, 64):  # without bits a list may make several classes (of one list each)
        class_part, comm_start, class_comm, run_start, run_count, *_ = _classes(comm, 6, at, fg.labels, 1, bits)
        assert np.array_equal(comm_start, np.arange(comm_start.size)) and np.array_equal(run_start, comm_start)
        assert np.bincount(class_comm, weights=run_count).tolist() == [3, 3]
        assert class_comm.size == (2 if bits else 5)  # sorted by place: 0, 1, 0, 1 1, 0


_ORDER_VALUES = st.one_of(
    st.lists(st.floats(allow_nan=False, allow_infinity=False, width=64), max_size=300),
    st.lists(st.sampled_from([1.0, np.nextafter(1.0, 2.0), np.nextafter(1.0, 0.0), 2.5, -3.0, 0.0, -0.0, 5e-324]),
             max_size=300),
    st.lists(st.floats(-1e300, 1e300) | st.floats(-1e-300, 1e-300) | st.just(float("nan")) | st.just(np.inf),
             max_size=50),
)


@settings(max_examples=120, deadline=None)
@given(_ORDER_VALUES, st.integers(0, 400))
def test_value_order_sorts_as_argsort(values, close):
    """The order of the monthly walk sorts the values as ``np.argsort`` (any order among equal values): values far
    apart with ``close`` others a few units in the last place apart (the keys cannot tell those apart: sorted by
    insertion, or by ``np.argsort`` when too many), duplicates, signed zeros, tiny and huge values, ``nan``/``inf``."""
    from kyojosim.measures.tsunagari import value_order
    from kyojosim.measures.tsunagari_kernel import keyed_order, value_keys

    near = np.nextafter(np.full(close, 7.0), 8.0) + np.arange(close)[::-1] * 2.0**-50  # descending, ulps apart
    x = np.r_[np.asarray(values, dtype=np.float64), near, -1e300 if close else []]
    order = value_order(x)
    assert np.array_equal(np.sort(order), np.arange(x.size))
    assert np.array_equal(x[order], np.sort(x), equal_nan=True)
    keys, index_bits, shift, ok = value_keys(x)
    assert ok == bool(np.isfinite(x).all())
    if ok:
        keys.sort()
        got, made = keyed_order(keys, x, index_bits, shift)
        if made:
            assert np.array_equal(x[got], np.sort(x))
        else:  # too many values too close for their keys (more moves than the budget): only the close ones can be
            assert close > 0 and shift > 0
