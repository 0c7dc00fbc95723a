"""Community Value of the local SNS (kyojosim.measures.community_value): worked by hand, and recorded in a run."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kyojosim.constants import TIE_COMMUNITY, TIE_ONLINE
from kyojosim.core.communities import ONLINE_BIT
from kyojosim.core.network import Ties
from kyojosim.measures.community_value import kpi_table, monthly_record
from kyojosim.measures.outcomes import TABLES
from kyojosim.runs.results import run
from towns import hand_built_town

SNS = {"local_sns": {"enabled": True, "start_year": 2015, "posts_per_user_month": 0.0, "reply_rate": 0.0,
                     "reaction_rate": 1.0}}


def test_community_value_worked_by_hand():
    model, (a, b, c, d, e) = hand_built_town([(30, "f"), (35, "m"), (40, "f"), (45, "m"), (50, "f")],
                                             interventions=SNS)
    pop = model.population
    pop.online[:] = 0
    pop.online[[a, b, c, d]] = ONLINE_BIT["local_sns"]  # e is not on the SNS
    ties = Ties()
    ties.add(np.array([a, b, c]), np.array([b, c, e]), TIE_COMMUNITY, 0.5)  # a-b, b-c, c-e
    ties.add(np.array([d]), np.array([e]), TIE_ONLINE, 0.2)  # d-e
    model.ties = ties
    sns = model.aid.channel("local_sns")
    sns.activity.take(model.population)  # forget anything logged while building
    sns.activity.posted(pop.uid[[a, a]])  # a posted two needs
    sns.activity.replied(pop.uid[[b]])  # b answered one of them (a match through the SNS)
    row = monthly_record(model, sns, np.random.default_rng(0))
    assert list(row) == list(TABLES["community_value"].columns)
    # posts: a 2 (no information posts); reactions: every tied adopter reacts to every post it sees:
    # b sees a's 2 posts -> 2; c sees b's 0; replies: b's answer 1 (reply_rate 0)
    assert row["users"] == 4 and row["posts"] == 2 and row["need_posts"] == 2
    assert row["replies"] == 1 and row["reactions"] == 2 and row["activity"] == 5
    # active: a (posted) and b (replied, reacted); c and d did nothing
    assert row["mau"] == 2
    # connections between adopters: a-b and b-c (c-e and d-e have a non-user); active ones: a-b
    assert row["unique_connections"] == 2 and row["active_connections"] == 1
    assert row["community_value"] == pytest.approx(1 * 5 / 2)
    # the log was cleared: an idle month is worth nothing
    idle = monthly_record(model, sns, np.random.default_rng(0))
    assert idle["mau"] == 0 and idle["community_value"] == 0.0


def test_community_value_recorded_monthly_while_the_sns_runs():
    res = run("koto-sns", years=4, seed=2, scale=0.005)
    cv = res.to_pandas("community_value")
    assert list(cv.columns) == list(TABLES["community_value"].columns)
    start = res.scenario.interventions.local_sns.start_year
    assert len(cv) > 0 and cv["year"].min() == start
    # one record per calendar month, in its last week, and one at the end of the run
    steps = res.to_pandas("steps")
    last_week = steps[steps["step"] > 0].groupby("month")["step"].max()
    assert cv["month"].is_unique and cv["step"].is_monotonic_increasing
    assert cv["step"].tolist() == last_week.loc[cv["month"]].tolist() and cv["step"].iloc[-1] == res.model.steps
    assert (cv["mau"] <= cv["users"]).all() and (cv["active_connections"] <= cv["unique_connections"]).all()
    assert (cv["need_posts"] <= cv["posts"]).all()
    assert cv["community_value"].iloc[-1] > 0
    expected = np.where(cv["mau"] > 0, cv["active_connections"] * cv["activity"] / cv["mau"].clip(lower=1), 0)
    assert np.allclose(cv["community_value"], expected)
    # beside the month's matching and つながり力: sums of the weekly rows of the month each record covers
    kpi = kpi_table(res)
    for _, row in kpi.iloc[[0, len(kpi) // 2, -1]].iterrows():
        weeks = steps[(steps["month"] == row["month"]) & (steps["step"] > 0)]
        assert 4 <= len(weeks) <= 5 and weeks["step"].max() == row["step"]
        assert row["matched_local_sns"] == weeks["matched_local_sns"].sum()
        done = weeks["needs_matched"].sum() + weeks["needs_lapsed"].sum()
        assert row["matching_rate"] == pytest.approx(weeks["needs_matched"].sum() / done)
    tsu = res.to_pandas("tsunagari")
    assert kpi["tsunagari_mean"].tolist() == tsu[tsu["group_type"] == "all"].set_index("step").loc[kpi["step"],
                                                                                                   "mean"].tolist()
    # no local SNS, no record
    quiet = run("yamae", years=1, seed=1)
    assert quiet.to_pandas("community_value").empty and kpi_table(quiet).empty


@given(st.integers(0, 2**32 - 1), st.integers(1, 200), st.integers(0, 400))
@settings(max_examples=40, deadline=None)
def test_compiled_month_equals_the_array_form(seed, n, n_ties):
    from kyojosim.measures.community_value_kernel import exposures, month_totals

    rng = np.random.default_rng(seed)
    users = rng.random(n) < 0.6
    need_posts = rng.integers(0, 3, n) * (rng.random(n) < 0.3)
    info = rng.poisson(1.5, n)
    a, b = rng.integers(0, n, n_ties), rng.integers(0, n, n_ties)
    both = users[a] & users[b]
    a, b = a[both], b[both]
    posts_want = need_posts * users + np.where(users, info, 0)
    exposure_want = (np.bincount(a, weights=posts_want[b], minlength=n)
                     + np.bincount(b, weights=posts_want[a], minlength=n)).astype(np.int64)
    posts, exposure = exposures(users, need_posts, info, a, b)
    assert np.array_equal(posts, posts_want) and np.array_equal(exposure, exposure_want)
    replies, reactions = rng.binomial(exposure, 0.2) + rng.integers(0, 2, n) * users, rng.binomial(exposure, 0.3)
    acts = posts + replies + reactions
    active = users & (acts > 0)
    want = [users.sum(), active.sum(), posts.sum(), (need_posts * users).sum(), replies.sum(), reactions.sum(),
            acts[users].sum(), (active[a] & active[b]).sum()]
    h = a.size // 3  # the ties in two parts count as the ties of both
    assert month_totals(users, need_posts, posts, replies, reactions, a[:h], b[:h], a[h:],
                        b[h:]).tolist() == [int(v) for v in want]


def _same_law(sample: np.ndarray, reference: np.ndarray) -> float:
    """p-value of a chi-square test that two samples of counts come from one distribution (tail bins pooled)."""
    from scipy.stats import chi2_contingency

    top = int(max(sample.max(), reference.max())) + 1
    table = np.array([np.bincount(sample, minlength=top), np.bincount(reference, minlength=top)])
    keep = table.sum(axis=0) >= 20  # pool the sparse tail into one bin
    pooled = np.column_stack([table[:, keep], table[:, ~keep].sum(axis=1)]) if (~keep).any() else table
    return float(chi2_contingency(pooled[:, pooled.sum(axis=0) > 0])[1])


def test_information_posts_have_the_law_of_a_poisson_draw_per_user():
    """A Poisson total allocated uniformly = an independent Poisson per user (same marginals, same total)."""
    from kyojosim.measures.community_value import information_posts

    rng, ref = np.random.default_rng(11), np.random.default_rng(12)
    users, mean, reps = 400, 0.5, 400
    drawn = np.array([information_posts(rng, users, mean) for _ in range(reps)])
    wanted = ref.poisson(mean, (reps, users))
    assert drawn.shape == wanted.shape
    assert _same_law(drawn.ravel(), wanted.ravel()) > 1e-4  # the counts per user
    assert _same_law(drawn.sum(axis=1), wanted.sum(axis=1)) > 1e-4  # the month's total: Poisson, not fixed
    # two users' counts are independent (a fixed total would make them negatively correlated)
    assert abs(np.corrcoef(drawn[:, 0], drawn[:, 1])[0, 1]) < 4 / np.sqrt(reps)
    assert abs(np.corrcoef(drawn[:, :200].sum(axis=1), drawn[:, 200:].sum(axis=1))[0, 1]) < 4 / np.sqrt(reps)
    # the comparison has power: a mean 10% higher is told apart
    assert _same_law(ref.poisson(mean * 1.1, (reps, users)).ravel(), wanted.ravel()) < 1e-4
    assert information_posts(rng, 0, mean).size == 0 and not information_posts(rng, 5, 0.0).any()


def test_thinned_posts_have_the_law_of_a_binomial_draw_per_user():
    """Replies (reactions) by inversion, a uniform per row (per block of posts) = a binomial draw per user."""
    from kyojosim.measures.community_value import THINNING_BLOCK, thinned

    rng, ref = np.random.default_rng(21), np.random.default_rng(22)
    exposure = np.array([0, 1, 3, 10, 40, 0, 2, THINNING_BLOCK + 300])  # the last row takes two blocks
    reps = 6000
    for p in (0.2, 0.7):  # above 1/2 the failures are inverted
        drawn = np.array([thinned(rng, exposure, p) for _ in range(reps)])
        wanted = ref.binomial(np.broadcast_to(exposure, (reps, exposure.size)), p)
        assert not drawn[:, exposure == 0].any() and (drawn <= exposure).all()
        for i in np.flatnonzero(exposure):
            assert _same_law(drawn[:, i], wanted[:, i]) > 1e-4, (p, i)
        assert _same_law(drawn.sum(axis=1), wanted.sum(axis=1)) > 1e-4
        assert abs(np.corrcoef(drawn[:, 3], drawn[:, 4])[0, 1]) < 4 / np.sqrt(reps)  # independent rows
        # power: the same comparison tells apart the draw at a rate 10% off
        off = np.array([thinned(rng, exposure, p * 1.1 if p < 0.5 else p * 0.9) for _ in range(reps)])
        assert _same_law(off[:, 4], wanted[:, 4]) < 1e-4 and _same_law(off[:, -1], wanted[:, -1]) < 1e-4
    assert np.array_equal(thinned(rng, exposure, 1.0), exposure) and not thinned(rng, exposure, 0.0).any()


def _inverted(exposure, p, u, block):
    """The array form of ``binomial_counts``: each block's cumulative probabilities walked in Python floats."""
    flip = p > 0.5
    q = 1.0 - p if flip else p
    out, j = [], 0
    for n in exposure.tolist():
        x = 0
        while n > 0:
            m = min(n, block)
            pk = (1.0 - q) ** float(m)
            c, k = pk, 0
            while k < m and u[j] >= c:
                pk *= (m - k) / (k + 1) * (q / (1.0 - q))
                k += 1
                c += pk
            x += m - k if flip else k
            j += 1
            n -= m
        out.append(x)
    return np.array(out, dtype=np.int64)


@given(st.lists(st.integers(0, 70), max_size=60), st.sampled_from([0.0, 0.01, 0.2, 0.5, 0.7, 0.99, 1.0]),
       st.sampled_from([1, 7, 64]), st.integers(0, 2**32 - 1))
@settings(max_examples=80, deadline=None)
def test_compiled_binomial_counts_equal_the_array_form(exposure, p, block, seed):
    from kyojosim.measures.community_value_kernel import binomial_counts, blocks

    exposure = np.array(exposure, dtype=np.int64)
    n_u = int((-(-exposure // block)).sum())
    assert blocks(exposure, block) == n_u
    u = np.random.default_rng(seed).random(n_u)
    assert np.array_equal(binomial_counts(exposure, p, u, block), _inverted(exposure, p, u, block))


@given(st.integers(0, 2**32 - 1), st.integers(1, 200), st.integers(0, 400))
@settings(max_examples=40, deadline=None)
def test_compiled_user_counts_equal_the_array_form(seed, n, n_ties):
    from kyojosim.measures.community_value_kernel import user_exposures

    rng = np.random.default_rng(seed)
    users = rng.random(n) < 0.6
    slots = np.flatnonzero(users)
    need, info = rng.integers(0, 3, slots.size), rng.poisson(1.5, slots.size)
    m = n_ties if slots.size else 0
    a, b = rng.integers(0, max(slots.size, 1), m), rng.integers(0, max(slots.size, 1), m)
    h = m // 2  # the ties in two parts
    posts, exposure = user_exposures(need, info, a[:h], b[:h], a[h:], b[h:])
    assert np.array_equal(posts, need + info)
    u = slots.size
    want = np.bincount(a, weights=posts[b], minlength=u) + np.bincount(b, weights=posts[a], minlength=u)
    assert np.array_equal(exposure, want.astype(np.int64))
