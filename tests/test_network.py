"""The tie list: undirected, deduplicated, kinds as bit flags, following compaction of the population."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from kyojosim.constants import TIE_COMMUNITY, TIE_HOUSEHOLD, TIE_NEIGHBOUR, TIE_ONLINE
from kyojosim.core.network import Ties, pairs_within_groups


def test_add_orders_pairs_drops_self_ties_and_merges_duplicates():
    t = Ties()
    t.add(np.array([3, 1, 2, 5]), np.array([1, 3, 2, 0]), TIE_NEIGHBOUR, 0.4)
    assert len(t) == 2  # (1,3) twice, (2,2) dropped, (0,5)
    assert np.all(t.a < t.b)
    assert sorted(zip(t.a.tolist(), t.b.tolist())) == [(0, 5), (1, 3)]
    t.add(np.array([3]), np.array([1]), TIE_COMMUNITY | TIE_ONLINE, 0.5)
    t.add(np.array([1]), np.array([3]), TIE_HOUSEHOLD, 0.2)
    assert len(t) == 2
    i = int(np.flatnonzero((t.a == 1) & (t.b == 3))[0])
    assert t.kind[i] == TIE_NEIGHBOUR | TIE_COMMUNITY | TIE_ONLINE | TIE_HOUSEHOLD
    assert t.strength[i] == np.float32(0.5)  # the strongest of the merged ties
    j = int(np.flatnonzero((t.a == 0) & (t.b == 5))[0])
    assert t.kind[j] == TIE_NEIGHBOUR and t.strength[j] == np.float32(0.4)


def test_add_nothing():
    t = Ties()
    t.add(np.zeros(0), np.zeros(0), TIE_ONLINE, 0.2)
    t.add(np.array([4]), np.array([4]), TIE_ONLINE, 0.2)
    assert len(t) == 0 and t.degree(5).sum() == 0


def test_remap_follows_compaction():
    t = Ties()
    t.add(np.array([0, 1, 2, 3]), np.array([4, 2, 4, 1]), TIE_NEIGHBOUR, 0.4)
    new_slot = np.array([0, -1, 1, 2, 3])  # slot 1 is gone; 2,3,4 move down by one
    t.remap(new_slot)
    assert sorted(zip(t.a.tolist(), t.b.tolist())) == [(0, 3), (1, 3)]
    assert np.all(t.a < t.b)
    assert t.a.dtype == np.int32 and t.kind.size == t.a.size == t.strength.size


def test_drop_residents_and_keep():
    t = Ties()
    t.add(np.array([0, 1, 2]), np.array([1, 2, 3]), TIE_COMMUNITY, 0.5)
    gone = np.array([False, False, True, False])
    t.drop_residents(gone)
    assert list(zip(t.a.tolist(), t.b.tolist())) == [(0, 1)]


def test_degree_and_adjacency_by_kind():
    t = Ties()
    t.add(np.array([0, 0, 1]), np.array([1, 2, 2]), TIE_HOUSEHOLD, 1.0)
    t.add(np.array([2]), np.array([3]), TIE_ONLINE, 0.2)
    assert t.degree(4).tolist() == [2, 2, 3, 1]
    assert t.degree(4, TIE_ONLINE).tolist() == [0, 0, 1, 1]
    adj = t.adjacency(4)
    assert sp.issparse(adj) and (adj != adj.T).nnz == 0
    assert adj[2, 3] == np.float32(0.2) and adj[0, 1] == 1.0 and adj[0, 3] == 0
    assert t.adjacency(4, TIE_ONLINE).nnz == 2
    assert t.count_by_kind() == {TIE_HOUSEHOLD: 3, TIE_NEIGHBOUR: 0, TIE_COMMUNITY: 0, TIE_ONLINE: 1}
    assert t.nbytes() > 0


def test_pairs_within_groups_stay_in_their_group():
    rng = np.random.default_rng(0)
    group = np.repeat(np.arange(50), 40)
    group[::7] = -1  # not members
    a, b = pairs_within_groups(group, 4.0, rng)
    assert a.size > 0
    assert np.all(group[a] == group[b]) and np.all(group[a] >= 0)
    assert np.all(a != b)


def test_pairs_within_groups_mean_degree():
    rng = np.random.default_rng(1)
    group = np.repeat(np.arange(100), 60)
    t = Ties()
    a, b = pairs_within_groups(group, 6.0, rng)
    t.add(a, b, TIE_COMMUNITY, 0.5)
    deg = t.degree(group.size)
    assert abs(deg.mean() - 6.0) < 0.3  # few duplicates in groups of 60


def test_pairs_within_groups_edge_cases():
    rng = np.random.default_rng(2)
    assert pairs_within_groups(np.array([0, 1, 2, 3]), 3.0, rng)[0].size == 0  # groups of one
    assert pairs_within_groups(np.array([-1, -1, -1]), 3.0, rng)[0].size == 0
    assert pairs_within_groups(np.array([0, 0, 0]), 0.0, rng)[0].size == 0
    a, b = pairs_within_groups(np.array([0, 0, 5, 1]), 20.0, rng)  # only the pair (0, 1) is possible
    assert set(zip(a.tolist(), b.tolist())) <= {(0, 1), (1, 0)} and a.size > 0


def test_slots_reused_after_compaction_start_clean():
    from kyojosim.core.population import Population

    pop = Population()
    pop.add(3, age=[30, 40, 50], employed=True, aid_role=5, groups=7)
    pop.remove(np.array([0]))
    pop.compact()
    new = pop.add(1, age=20)
    assert pop.employed[new[0]] == 0 and pop.aid_role[new[0]] == 0
    assert (pop.groups[new[0]] == -1).all()


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 120), st.integers(0, 300))
def test_compiled_pairs_within_a_set_equal_the_array_form(seed, n, n_ties):
    from kyojosim.core.network_kernel import pairs_within

    rng = np.random.default_rng(seed)
    member = rng.random(n) < 0.5
    a, b = rng.integers(0, n, n_ties).astype(np.int32), rng.integers(0, n, n_ties).astype(np.int32)
    both = member[a] & member[b]
    got_a, got_b = pairs_within(member, a, b)
    assert np.array_equal(got_a, a[both].astype(np.int64)) and np.array_equal(got_b, b[both].astype(np.int64))


def test_pairs_among_numbered_are_the_pairs_among_numbered_by_rank():
    rng = np.random.default_rng(4)
    ties = Ties()
    ties.add(rng.integers(0, 50, 120), rng.integers(0, 50, 120), TIE_COMMUNITY, 0.5)
    ties.pairs_among(np.ones(50, dtype=bool))  # settle the columns
    ties.add(np.array([3, 7]), np.array([9, 40]), TIE_ONLINE, 0.2)  # new ties of the buffer
    member = rng.random(50) < 0.6
    member[[3, 9]] = True
    a, b = ties.pairs_among(member)
    na, nb = ties.pairs_among(member, numbered=True)
    slots = np.flatnonzero(member)
    assert a.size and np.array_equal(slots[na], a) and np.array_equal(slots[nb], b)
