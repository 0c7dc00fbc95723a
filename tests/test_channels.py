"""Channels register themselves and see the model through their context."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kyojosim.aid.channels.base import CHANNEL_TYPES, STREAM_KINDS, AidContext, Channel, register_channel
from kyojosim.aid.channels.offline import OfflineChannel
from kyojosim.constants import TIE_ONLINE
from kyojosim.model import KyojoModel
from kyojosim.params.scenario import load_scenario
from towns import random_ties

ORDER = ["offline", "sharing_platform", "reporting_hub", "local_sns", "offline_events"]
"""The order of the weekly round: offline first, then the interventions as their modules register them."""


@pytest.fixture(scope="module")
def model() -> KyojoModel:
    return KyojoModel("yamae-all", seed=4, years=1, scale=0.2, agents=False)


def test_channels_are_built_in_the_order_of_registration(model):
    assert list(CHANNEL_TYPES) == ORDER
    assert [ch.name for ch in model.aid.channels] == ORDER
    assert [type(ch) for ch in model.aid.channels] == list(CHANNEL_TYPES.values())


def test_a_channel_name_is_registered_once():
    class Again(Channel):
        name = "local_sns"

    before = dict(CHANNEL_TYPES)
    with pytest.raises(ValueError, match="'local_sns' is registered twice"):
        register_channel(Again)
    assert CHANNEL_TYPES == before


def test_each_channel_gets_its_own_section_streams_and_the_others(model):
    scn = model.scenario
    offline, platform, hub, sns, events = model.aid.channels
    assert offline.cfg is scn.helping and sns.cfg is scn.interventions.local_sns
    assert platform.cfg is scn.interventions.sharing_platform and hub.cfg is scn.interventions.reporting_hub
    assert events.cfg is scn.interventions.offline_events
    ctx = sns.ctx
    assert ctx.population is model.population and ctx.ties is model.ties and ctx.money is model.aid.money
    assert ctx.year == model.year and ctx.step == model.steps and ctx.meeting_log is model.meeting_log
    assert isinstance(ctx.channel("offline"), OfflineChannel) and ctx.channel("nonexistent") is None
    for kind in STREAM_KINDS:
        got = ctx.rng(kind, 7).random(4)
        assert np.array_equal(got, model.streams.fresh(f"{kind}_local_sns", 7).random(4)), kind
    with pytest.raises(KeyError, match="surfaces"):
        ctx.rng("surfaces", 7)


def test_the_local_sns_raises_offline_asking_through_the_context(scenario_from):
    scn = scenario_from(interventions__local_sns__enabled=True, interventions__local_sns__start_year=2015,
                        communities__local_sns_share=0.3, municipality__scale=0.2)
    m = KyojoModel(scn, seed=2, years=1, agents=False)
    offline, sns = m.aid.channel("offline"), m.aid.channel("local_sns")
    assert sns.active() and offline.ask_boost is not None
    adopters = sns.adopters
    assert adopters.any()
    assert np.array_equal(offline.ask_boost, np.where(adopters, scn.interventions.local_sns.awareness_boost, 0.0))


def test_a_new_channel_is_one_class_and_one_decorator(yamae):
    """A channel registered elsewhere joins every model built afterwards, after the bundled ones."""
    calls: list[tuple] = []

    class Noticeboard(Channel):
        """A notice board at the community centre (for this test: it only records what the round asks of it)."""

        name = "test_noticeboard"

        def refresh(self):
            calls.append(("refresh", self.ctx.year, self.ctx.population.n))

        def yearly(self, year, rng):
            calls.append(("yearly", year, rng.random(), self.ctx.rng("yearly", year).random()))

        def surface(self, slot, category, rng):
            calls.append(("surface", self.ctx.step, slot.size))
            return super().surface(slot, category, rng)

    register_channel(Noticeboard)
    try:
        m = KyojoModel(yamae, seed=1, years=1, scale=0.2, agents=False)
        board = m.aid.channel("test_noticeboard")
        assert [ch.name for ch in m.aid.channels] == [*ORDER, "test_noticeboard"]
        assert isinstance(board.ctx, AidContext) and board.cfg is None
        while m.running:
            m.step()
    finally:
        del CHANNEL_TYPES["test_noticeboard"]
    assert list(CHANNEL_TYPES) == ORDER
    refreshes = [c for c in calls if c[0] == "refresh"]
    assert [c[1] for c in refreshes] == [2015, 2016]  # at the start and after the turn of the year
    (yearly,) = [c for c in calls if c[0] == "yearly"]
    assert yearly[1] == 2015 and yearly[2] == yearly[3]  # its own stream yearly_test_noticeboard of 2015
    assert [c[1] for c in calls if c[0] == "surface"] == list(range(1, m.steps + 1))  # every week


@given(st.integers(0, 2**32 - 1), st.integers(0, 200), st.integers(1, 8), st.integers(1, 5), st.booleans())
@settings(max_examples=40, deadline=None)
def test_pool_and_tie_kernels_equal_their_array_forms(seed, n, n_cat, n_districts, some_rows):
    """The counting sort of the district pools is the stable sort by group; the last tie to a mark is numpy's."""
    import scipy.sparse as sp

    from kyojosim.aid.channels.base import DistrictPools
    from kyojosim.aid.channels.channel_kernel import last_tied

    rng = np.random.default_rng(seed)
    eligible = rng.random((n, n_cat)) < 0.3
    district = rng.integers(0, n_districts, n).astype(np.int16)
    rows = np.flatnonzero(rng.random(n) < 0.5) if some_rows else None
    got = DistrictPools(eligible, district, rows=rows)
    r = np.arange(n) if rows is None else rows
    s, c = np.nonzero(eligible[r])
    s = r[s]
    g = district[s].astype(np.int64) * n_cat + c
    want = s[np.argsort(g, kind="stable")]
    n_groups = (int(district.max()) + 1 if n else 1) * n_cat
    assert np.array_equal(got.members, want) and got.members.dtype == np.int64
    assert np.array_equal(got.size, np.bincount(g, minlength=n_groups))
    m = sp.random(n, n, density=0.05, random_state=seed % 2**31, format="csr") if n else sp.csr_matrix((0, 0))
    mark = rng.random(n) < 0.3
    row = np.repeat(np.arange(n), np.diff(m.indptr))
    want_tied = np.full(n, -1, dtype=np.int64)
    to = mark[m.indices]
    want_tied[row[to]] = m.indices[to]
    assert np.array_equal(last_tied(m.indptr, m.indices, mark), want_tied)


@given(st.integers(0, 2**32 - 1), st.integers(0, 200), st.integers(1, 8), st.integers(1, 5), st.booleans())
@settings(max_examples=40, deadline=None)
def test_pools_of_offers_equal_the_pools_of_the_eligibility_matrix(seed, n, n_cat, n_districts, some_rows):
    from kyojosim.aid.channels.base import DistrictPools

    rng = np.random.default_rng(seed)
    offers = rng.integers(0, 256, n).astype(np.uint8)
    will = rng.integers(0, 3, (n, n_cat)).astype(np.int8)
    district = rng.integers(0, n_districts, n).astype(np.int16)
    rows = np.flatnonzero(rng.random(n) < 0.5) if some_rows else np.arange(n)
    eligible = np.zeros((n, n_cat), dtype=bool)
    bits = ((offers[:, None] >> np.arange(n_cat, dtype=np.uint8)) & 1) > 0
    eligible[rows] = bits[rows] & (will[rows] == 1)
    want = DistrictPools(eligible, district, rows=rows)
    got = DistrictPools.of_offers(offers, will, 1, district, rows)
    assert (got.n, got.n_cat, got.n_districts) == (want.n, want.n_cat, want.n_districts)
    for name in ("members", "size", "start"):
        assert getattr(got, name).dtype == getattr(want, name).dtype
        assert np.array_equal(getattr(got, name), getattr(want, name))


@given(st.lists(st.integers(0, 2**63 - 1), max_size=50), st.integers(0, 2**62 - 1))
@settings(max_examples=40, deadline=None)
def test_uid_uniform_is_the_splitmix64_of_the_array_form(uids, key):
    from kyojosim.aid.channels.base import uid_uniform

    uid = np.array(uids, dtype=np.int64)
    x = uid.astype(np.uint64) + np.uint64(key)
    with np.errstate(over="ignore"):
        x = x + np.uint64(0x9E3779B97F4A7C15)
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        x = x ^ (x >> np.uint64(31))
    want = (x >> np.uint64(11)).astype(np.float64) * (1.0 / (1 << 53))
    got = uid_uniform(uid, key)
    assert got.dtype == np.float64 and np.array_equal(got, want) and ((got >= 0) & (got < 1)).all()
    assert np.array_equal(uid_uniform(uid.reshape(-1, 1), key), want.reshape(-1, 1))  # any shape


@given(st.integers(0, 2**32 - 1), st.integers(0, 200), st.floats(0.0, 1.0))
@settings(max_examples=40, deadline=None)
def test_last_tied_from_the_marked_rows_equals_the_pass_over_all_rows(seed, n, share):
    """On a symmetric adjacency with sorted rows, reading the marked rows gives each row's last marked column."""
    from kyojosim.aid.channels.channel_kernel import last_tied, last_tied_from
    from kyojosim.core.network import Ties

    rng = np.random.default_rng(seed)
    m = 3 * n
    a, b = rng.integers(0, max(n, 1), m), rng.integers(0, max(n, 1), m)
    keep = a != b
    lo, hi = np.minimum(a, b)[keep].astype(np.int32), np.maximum(a, b)[keep].astype(np.int32)
    ties = Ties(lo, hi, np.ones(lo.size, dtype=np.uint8), np.ones(lo.size, dtype=np.float32))
    adj = ties.adjacency(n)
    assert adj.has_sorted_indices
    mark = rng.random(n) < share
    want = last_tied(adj.indptr, adj.indices, mark)
    assert np.array_equal(last_tied_from(adj.indptr, adj.indices, np.flatnonzero(mark)), want)


def test_tied_and_marked_equal_bincounts_read_from_rows_or_counted_in_the_build():
    """Read from the rows of the adjacency of the slots asked about, or counted while it is built: the counts of the
    array form over the ties."""
    from kyojosim.core.network import Ties
    from kyojosim.core.network_kernel import tied_and_marked

    rng = np.random.default_rng(6)
    n, m = 400, 2000
    ties = Ties()
    a, b = rng.integers(0, n, m), rng.integers(0, n, m)
    for k in range(4):  # kind 0: ties counted as peers, not in the degree
        sel = rng.integers(0, 4, m) == k
        ties.add(a[sel], b[sel], k, 0.5)
    a, b, kind = ties.a, ties.b, ties.kind
    assert (kind == 0).any()
    on = rng.random(n) < 0.3
    sel = kind != 0
    want_degree = np.bincount(a[sel], minlength=n) + np.bincount(b[sel], minlength=n)
    want_peers = np.bincount(a, weights=on[b], minlength=n) + np.bincount(b, weights=on[a], minlength=n)
    nb = ties.neighbourhood(n)
    degree, peers = tied_and_marked(nb.csr.indptr, nb.csr.indices, nb.kinds, on, np.arange(n))
    assert np.array_equal(degree, want_degree) and np.array_equal(peers, want_peers)
    assert degree.dtype == np.int64 and peers.dtype == np.int64
    # counted for the slots asked about only, the same counts there
    rows = np.flatnonzero(rng.random(n) < 0.4)
    degree, peers = tied_and_marked(nb.csr.indptr, nb.csr.indices, nb.kinds, on, rows)
    assert np.array_equal(degree, want_degree[rows]) and np.array_equal(peers, want_peers[rows])
    # the same read from the rows by Ties.marked_degree (the adjacency was built without the mark) ...
    degree, peers = ties.marked_degree(n, on, rows)
    assert np.array_equal(degree, want_degree[rows]) and np.array_equal(peers, want_peers[rows])
    # ... and counted while it is built with the mark, handed over once, for that same array only
    ties.add(np.array([0]), np.array([1]), 1, 0.5)  # a change: the next adjacency is built
    a, b, kind = ties.a, ties.b, ties.kind
    sel = kind != 0
    want_degree = np.bincount(a[sel], minlength=n) + np.bincount(b[sel], minlength=n)
    want_peers = np.bincount(a, weights=on[b], minlength=n) + np.bincount(b, weights=on[a], minlength=n)
    ties.neighbourhood(n, count=1, mark=on)
    assert ties._marked is not None and ties._marked[1] is on
    degree, peers = ties.marked_degree(n, on)
    assert np.array_equal(degree, want_degree) and np.array_equal(peers, want_peers)
    assert ties._marked is None  # handed over
    ties.neighbourhood(n, count=1, mark=on)  # current: not built again, nothing counted anew
    assert ties._marked is None
    ties.add(np.array([2]), np.array([3]), 1, 0.5)
    ties.neighbourhood(n, mark=on)  # built for the new ties, counted with the mark ...
    ties.add(np.array([4]), np.array([5]), 1, 0.5)  # ... then the ties change: those counts are not handed over
    a, b, kind = ties.a, ties.b, ties.kind
    sel = kind != 0
    want_degree = np.bincount(a[sel], minlength=n) + np.bincount(b[sel], minlength=n)
    want_peers = np.bincount(a, weights=on[b], minlength=n) + np.bincount(b, weights=on[a], minlength=n)
    degree, peers = ties.marked_degree(n, on)
    assert np.array_equal(degree, want_degree) and np.array_equal(peers, want_peers)
    other = on.copy()
    ties.neighbourhood(n, mark=other)  # current: not built again, nothing counted
    degree, peers = ties.marked_degree(n, other, rows)  # read from the rows
    assert np.array_equal(degree, want_degree[rows]) and np.array_equal(peers, want_peers[rows])


def _draw_array_form(pools, district, category, k, rng):
    """DistrictPools.draw in whole-array numpy: small pools whole, large ones by sorted draws, repeats dropped."""
    g = district.astype(np.int64) * pools.n_cat + category.astype(np.int64)
    inside = district.astype(np.int64) < pools.n_districts
    size = np.where(inside, pools.size[np.minimum(g, pools.size.size - 1)], 0)
    start = np.where(inside, pools.start[np.minimum(g, pools.start.size - 1)], 0)
    idx = np.arange(g.size)
    small = size <= k
    cnt = np.where(small, size, 0)
    need_a = np.repeat(idx, cnt)
    offs = np.arange(need_a.size) - np.repeat(np.cumsum(cnt) - cnt, cnt)
    helper_a = pools.members[np.repeat(start, cnt) + offs]
    big = idx[~small]
    draw = np.sort(rng.integers(0, size[big][:, None], size=(big.size, k)), axis=1)
    first = np.ones(draw.shape, dtype=bool)
    first[:, 1:] = draw[:, 1:] != draw[:, :-1]
    need_b = np.broadcast_to(big[:, None], draw.shape)[first]
    helper_b = pools.members[(start[big][:, None] + draw)[first]]
    return np.concatenate([need_a, need_b]).astype(np.int64), np.concatenate([helper_a, helper_b]).astype(np.int64)


@given(st.integers(0, 2**32 - 1), st.integers(1, 300), st.integers(1, 4), st.integers(0, 60), st.integers(1, 12))
@settings(max_examples=40, deadline=None)
def test_pool_draws_kernel_equals_the_array_form(seed, n, n_districts, n_needs, k):
    """The compiled pass of DistrictPools.draw gives the array form's edges from the same draws."""
    from kyojosim.aid.channels.base import DistrictPools

    rng = np.random.default_rng(seed)
    pools = DistrictPools(rng.random((n, 3)) < 0.4, rng.integers(0, n_districts, n).astype(np.int16))
    district = rng.integers(0, n_districts + 1, n_needs)  # some outside every district: no candidate
    category = rng.integers(0, 3, n_needs)
    got = pools.draw(district, category, k, np.random.default_rng(seed + 1))
    want = _draw_array_form(pools, district, category, k, np.random.default_rng(seed + 1))
    assert all(x.dtype == np.int64 and np.array_equal(x, y) for x, y in zip(got, want, strict=True))


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 60), st.integers(0, 150), st.booleans())
def test_ask_offline_kernel_equals_the_array_form(seed, n, n_needs, boosted):
    """The offline channel's compiled surfacing gives the array form's decisions, from the same uniforms."""
    from kyojosim.aid.channels.channel_kernel import ask_offline

    rng = np.random.default_rng(seed)
    slot = rng.integers(0, n, n_needs)
    age = rng.integers(0, 100, n).astype(np.int16)
    boost = rng.random(n) * 0.8 if boosted else None
    factor = rng.random(n).astype(np.float32)
    degree = rng.integers(0, 3, n)
    u = rng.random(n_needs)
    r65, r_under = float(rng.random()), float(rng.random())
    rate = np.where(age[slot] >= 65, r65, r_under)
    if boost is not None:
        rate = np.minimum(rate + boost[slot], 1.0)
    want = (u < rate * factor[slot]) & (degree[slot] > 0)
    got = ask_offline(slot, age, np.zeros(0) if boost is None else boost, factor, degree, u, r65, r_under)
    assert got.dtype == np.bool_ and np.array_equal(got, want)



def test_at_the_refresh_the_adjacency_is_written_into_last_years_arrays():
    # every channel lets go of last year's adjacency before any refreshes, so the network fills the same arrays
    start = {f"interventions.{name}.start_year": 2015 for name in ("local_sns", "sharing_platform", "reporting_hub")}
    scn = load_scenario("koto-all", {"municipality.scale": 0.05, "simulation.years": 1, **start})
    m = KyojoModel(scn, seed=3, agents=False)
    n = m.population.n
    assert all(m.aid.channel(name).active() for name in ("local_sns", "sharing_platform", "reporting_hub"))

    def addresses(nb) -> list[int]:
        return [x.__array_interface__["data"][0] for x in (nb.csr.indptr, nb.csr.indices, nb.csr.data, nb.kinds)]

    m.aid.refresh()
    first = addresses(m.ties.neighbourhood(n))  # the one the channels took
    a, b = 0, n - 1
    assert m.ties.neighbourhood(n).csr[a, b] == 0
    m.ties.add(np.array([a]), np.array([b]), TIE_ONLINE, 0.25)  # the ties change: the next refresh rebuilds
    m.aid.refresh()
    nb = m.ties.neighbourhood(n)
    assert addresses(nb) == first and nb.csr[a, b] == np.float32(0.25)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(2, 60), st.integers(0, 300), st.integers(0, 50), st.integers(0, 50))
def test_offline_candidates_kernel_equals_the_ties_filtered(seed, n, n_ties, n_earlier, n_needs):
    """The offline channel's candidates read from willingness bytes, with earlier needs' edges copied, are exact.

    Against :meth:`Neighbourhood.candidates` (the ties of a kind, to helpers with the code), for needs of which
    some were given before (in order, with others dropped between them), some are new and some are marked as
    earlier ones but were never given (they are read from the rows).
    """
    from kyojosim.aid.channels.channel_kernel import offline_candidates, willing_bits
    from kyojosim.constants import TIE_COMMUNITY, TIE_HOUSEHOLD

    rng = np.random.default_rng(seed)
    nb = random_ties(rng, n, n_ties).neighbourhood(n)
    will = rng.integers(0, 3, (n, 8)).astype(np.int8)
    bits = willing_bits(will, 1)
    assert np.array_equal(bits, ((will == 1) * (1 << np.arange(8))).sum(axis=1))
    mask = TIE_HOUSEHOLD | TIE_COMMUNITY
    adj = nb.csr

    def run(slot, category, known, prev):
        return offline_candidates(adj.indptr, adj.indices, adj.data, nb.kinds, mask, slot, category, bits, known,
                                  *prev)

    empty = np.zeros(0, dtype=np.int64)
    first = rng.integers(0, n, n_earlier), rng.integers(0, 8, n_earlier)
    need, helper, weight, start = run(*first, np.zeros(n_earlier, dtype=bool), (empty, empty, np.zeros(1, np.int64),
                                                                               empty, np.zeros(0)))
    want = nb.candidates(*first, will, 1, mask)
    assert all(x.dtype == y.dtype and np.array_equal(x, y) for x, y in zip((need, helper, weight), want, strict=True))
    assert np.array_equal(start, np.searchsorted(need, np.arange(n_earlier + 1)))
    # this week: the earlier needs still open (in order), then new ones, and some wrongly marked as earlier
    kept = np.flatnonzero(rng.random(n_earlier) < 0.6)
    slot = np.concatenate([first[0][kept], rng.integers(0, n, n_needs)])
    category = np.concatenate([first[1][kept], rng.integers(0, 8, n_needs)])
    known = np.concatenate([np.ones(kept.size, dtype=bool), rng.random(n_needs) < 0.3])
    got = run(slot, category, known, (*first, start, helper, weight))
    want = nb.candidates(slot, category, will, 1, mask)
    assert all(x.dtype == y.dtype and np.array_equal(x, y) for x, y in zip(got[:3], want, strict=True))
    assert np.array_equal(got[3], np.searchsorted(got[0], np.arange(slot.size + 1)))


def test_offline_candidates_over_many_weeks_equal_those_read_again():
    """The bytes of willingness and the edges of needs still open, kept between weeks, give the edges read afresh.

    Every week of two years (with turns of the year: new adjacency, new willingness), the offline channel's
    candidates are those of :meth:`Neighbourhood.candidates` on the willingness of that week.
    """
    from kyojosim.aid.channels.offline import OFFLINE_TIES
    from kyojosim.constants import WILL_FREE

    model = KyojoModel("yamae", seed=2, years=2, scale=0.3, agents=False)
    ch = model.aid.channel("offline")
    seen = []
    given_before, refreshed = ch.candidates, ch.refresh
    adjacency = [model.ties.neighbourhood(model.population.n)]  # the one the channel took (shared, unchanged since)

    def refresh():
        refreshed()
        adjacency.append(model.ties.neighbourhood(model.population.n))

    def checked(slot, category, born, step):
        got = given_before(slot, category, born, step)
        want = adjacency[-1].candidates(slot, category, model.population.will, WILL_FREE, OFFLINE_TIES)
        assert all(x.dtype == y.dtype and np.array_equal(x, y) for x, y in zip(got, want, strict=True))
        seen.append((slot.size, int((born < step).sum()), got[0].size))
        return got

    ch.candidates, ch.refresh = checked, refresh
    model.run_model()
    assert len(seen) == model.steps and len(adjacency) >= 2
    assert sum(s[1] for s in seen) > 0.2 * sum(s[0] for s in seen)  # many needs were open from an earlier week
    assert sum(s[2] for s in seen) > 0
