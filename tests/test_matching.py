"""Weekly matching of needs to helpers: hand-worked cases, invariants, and quality against the optimum."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kyojosim.matching import Candidates, Matches, exact_max_weight, greedy_order, is_unit_capacity, match

BENCH = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_matching.py"


def cands(rows, channel=None):
    """Candidates from ``(need, helper, weight)`` rows."""
    rows = list(rows)
    need = np.array([r[0] for r in rows], dtype=np.int64)
    helper = np.array([r[1] for r in rows], dtype=np.int64)
    weight = np.array([r[2] for r in rows], dtype=np.float64)
    ch = np.zeros(len(rows), dtype=np.int8) if channel is None else np.asarray(channel, dtype=np.int8)
    return Candidates(need, helper, weight, ch)


def pairs(m: Matches) -> dict[int, int]:
    return dict(zip(m.need.tolist(), m.helper.tolist()))


def sequential_greedy(cand, hours, capacity, rng=None) -> dict[int, int]:
    """The reference: walk the edges one by one in the greedy order."""
    remaining = np.asarray(capacity, dtype=np.float64).copy()
    out: dict[int, int] = {}
    for e in greedy_order(cand, rng):
        i, h = int(cand.need[e]), int(cand.helper[e])
        if i not in out and hours[i] <= remaining[h]:
            out[i] = h
            remaining[h] -= hours[i]
    return out


# ---------------------------------------------------------------- hand-worked cases


def test_chain_where_the_order_matters():
    # path n0 -1- h0 -2- n1 -3- h1 -4- n2, unit capacities.
    # Greedy: (n2,h1)=4 first; n1 loses h1 and takes (n1,h0)=2; n0 loses h0. Total 6 (= optimum).
    # Round 1: n0->h0, n1->h1, n2->h1. h1 takes n2 and refuses n1 (no room); h0 waits, since its
    # heavier edge to n1 is live and n1 proposed elsewhere. Round 2: n1->h0 and n0->h0; h0 takes n1.
    cand = cands([(0, 0, 1.0), (1, 0, 2.0), (1, 1, 3.0), (2, 1, 4.0)])
    m = match(cand, np.ones(3), np.ones(2))
    assert pairs(m) == {1: 0, 2: 1}
    assert m.weight.tolist() == [2.0, 4.0]
    assert m.rounds == 2 and m.converged
    assert m.total_weight == 6.0 == exact_max_weight(cand, np.ones(3), np.ones(2))


def test_helper_waits_for_a_heavier_edge_instead_of_taking_a_light_proposal():
    # n0, n1, n2 all want helper 0 (11, 10, 10); n1 and n2 have second choices h1, h2 (9 each)
    # which n3, n4 also propose to with weight 1. Helpers that took proposals at once would
    # give 11 + 1 + 1 = 13; the greedy gives 11 + 9 + 9 = 29, the optimum.
    cand = cands([(0, 0, 11), (1, 0, 10), (2, 0, 10), (1, 1, 9), (2, 2, 9), (3, 1, 1), (4, 2, 1)])
    m = match(cand, np.ones(5), np.ones(3))
    assert pairs(m) == {0: 0, 1: 1, 2: 2}
    assert m.rounds == 2 and m.converged
    assert m.total_weight == 29.0 == exact_max_weight(cand, np.ones(5), np.ones(3))


def test_capacity_for_two_needs():
    # helper 0 has 4 h; needs of 2, 2 and 1 h with weights 3, 2, 1: the first two fill it exactly
    cand = cands([(0, 0, 3.0), (1, 0, 2.0), (2, 0, 1.0)])
    hours, capacity = np.array([2.0, 2.0, 1.0]), np.array([4.0])
    m = match(cand, hours, capacity)
    assert pairs(m) == {0: 0, 1: 0}
    assert m.rounds == 1 and m.converged
    assert capacity.tolist() == [4.0]  # the caller's array is not touched
    assert exact_max_weight(cand, hours, capacity) == 5.0


def test_a_need_that_does_not_fit_is_skipped_and_a_smaller_one_still_fits():
    # 3 h: n0 (2 h, w 3) taken; n1 (2 h, w 2) no longer fits; n2 (1 h, w 1) does (first fit).
    # Round 1 accepts n0 and refuses n1; n2, behind n1, waits and is taken in round 2.
    cand = cands([(0, 0, 3.0), (1, 0, 2.0), (2, 0, 1.0)])
    m = match(cand, np.array([2.0, 2.0, 1.0]), np.array([3.0]))
    assert pairs(m) == {0: 0, 2: 0}
    assert m.rounds == 2 and m.converged


def test_needs_without_a_feasible_candidate_stay_unmatched():
    # n1 has no candidate; n3's only helper has 1 h left and n3 takes 2 h
    cand = cands([(0, 0, 1.0), (2, 1, 1.0), (3, 2, 5.0)], channel=[1, 2, 3])
    m = match(cand, np.array([1.0, 1.0, 1.0, 2.0]), np.array([1.0, 1.0, 1.0]))
    assert pairs(m) == {0: 0, 2: 1}
    assert m.channel.tolist() == [1, 2]
    assert m.converged


def test_ties_are_broken_by_helper_then_need_index():
    # n0 ties between helpers 1 and 0 -> helper 0; n1 and n2 tie for helper 2 -> n1
    cand = cands([(0, 1, 2.0), (0, 0, 2.0), (2, 2, 1.0), (1, 2, 1.0)])
    m = match(cand, np.ones(3), np.ones(3))
    assert pairs(m) == {0: 0, 1: 2}


def test_random_ties_follow_the_rng():
    cand = cands([(0, 0, 1.0), (0, 1, 1.0), (1, 0, 1.0)])
    outcomes = set()
    for seed in range(30):
        a = match(cand, np.ones(2), np.ones(2), rng=np.random.default_rng(seed))
        b = match(cand, np.ones(2), np.ones(2), rng=np.random.default_rng(seed))
        assert pairs(a) == pairs(b)
        outcomes.add(tuple(sorted(pairs(a).items())))
    # n0 takes h0 (n1 left without) or h1 (both matched); n1 may also win h0 first
    assert outcomes == {((0, 0),), ((0, 1), (1, 0))}


def test_running_out_of_rounds_leaves_a_subset_of_the_greedy_matching():
    cand = cands([(0, 0, 1.0), (1, 0, 2.0), (1, 1, 3.0), (2, 1, 4.0)])
    m = match(cand, np.ones(3), np.ones(2), max_rounds=1)
    assert pairs(m) == {2: 1}
    assert m.rounds == 1 and not m.converged
    none = match(cand, np.ones(3), np.ones(2), max_rounds=0)
    assert len(none) == 0 and not none.converged


def test_no_candidates():
    m = match(cands([]), np.ones(3), np.ones(2))
    assert len(m) == 0 and m.rounds == 0 and m.converged
    assert m.need.dtype == np.int64 and m.channel.dtype == np.int8
    assert exact_max_weight(cands([]), np.ones(3), np.ones(2)) == 0.0


@pytest.mark.parametrize(
    "rows, hours, capacity, message",
    [
        ([(0, 0, 1.0)], [1.0], [], "index the 0 helpers"),
        ([(1, 0, 1.0)], [1.0], [1.0], "index the 1 needs"),
        ([(0, 0, 0.0)], [1.0], [1.0], "weight must be finite and > 0"),
        ([(0, 0, 1.0)], [-1.0], [1.0], "hours"),
        ([(0, 0, 1.0)], [1.0], [np.nan], "capacity"),
    ],
)
def test_bad_input_is_refused(rows, hours, capacity, message):
    with pytest.raises(ValueError, match=message):
        match(cands(rows), np.array(hours), np.array(capacity))


def test_columns_of_different_lengths_are_refused():
    cand = Candidates(np.array([0, 0]), np.array([0]), np.array([1.0]), np.array([0], dtype=np.int8))
    with pytest.raises(ValueError, match="same length"):
        match(cand, np.ones(1), np.ones(1))


def test_exact_solvers_agree_on_unit_capacities_and_assignment_refuses_general_ones():
    cand = cands([(0, 0, 11), (1, 0, 10), (2, 0, 10), (1, 1, 9), (2, 2, 9), (3, 1, 1), (4, 2, 1), (3, 1, 2)])
    hours, capacity = np.ones(5), np.ones(3)
    assert is_unit_capacity(cand, hours, capacity)
    assert exact_max_weight(cand, hours, capacity, method="assignment") == 29.0
    assert exact_max_weight(cand, hours, capacity, method="milp") == 29.0
    assert not is_unit_capacity(cand, hours, np.array([2.0, 1.0, 1.0]))
    with pytest.raises(ValueError, match="unit capacities"):
        exact_max_weight(cand, hours, np.array([2.0, 1.0, 1.0]), method="assignment")


def test_greedy_falls_short_when_one_heavy_need_fills_a_helper():
    # the knapsack-like case: one 4 h need (w 5) beats four 1 h needs (w 4 each, 16 in all)
    cand = cands([(0, 0, 5.0), (1, 0, 4.0), (2, 0, 4.0), (3, 0, 4.0), (4, 0, 4.0)])
    hours, capacity = np.array([4.0, 1.0, 1.0, 1.0, 1.0]), np.array([4.0])
    assert match(cand, hours, capacity).total_weight == 5.0
    assert exact_max_weight(cand, hours, capacity) == 16.0


# ---------------------------------------------------------------- properties


@st.composite
def small_graphs(draw, unit: bool = False):
    n_needs = draw(st.integers(1, 10))
    n_helpers = draw(st.integers(1, 7))
    rows = draw(
        st.lists(
            st.tuples(st.integers(0, n_needs - 1), st.integers(0, n_helpers - 1), st.integers(1, 6)),
            max_size=30,
        )
    )
    cand = cands(rows, channel=draw(st.lists(st.integers(0, 3), min_size=len(rows), max_size=len(rows))))
    if unit:
        return cand, np.ones(n_needs), np.ones(n_helpers)
    # half-hour slots: the sums are exact in floating point, so the reference agrees to the bit
    hours = np.array(draw(st.lists(st.integers(1, 8), min_size=n_needs, max_size=n_needs))) / 2.0
    capacity = np.array(draw(st.lists(st.integers(0, 16), min_size=n_helpers, max_size=n_helpers))) / 2.0
    return cand, hours, capacity


@settings(max_examples=200, deadline=None)
@given(small_graphs(), st.one_of(st.none(), st.integers(0, 2**32 - 1)))
def test_match_is_the_sequential_greedy_and_keeps_the_invariants(case, seed):
    cand, hours, capacity = case
    rng = None if seed is None else np.random.default_rng(seed)
    m = match(cand, hours, capacity, rng=rng)
    ref_rng = None if seed is None else np.random.default_rng(seed)
    assert pairs(m) == sequential_greedy(cand, hours, capacity, ref_rng)
    assert m.converged and m.rounds <= max(1, len(hours))  # every round matches at least one need

    # each need at most once, sorted; each row an existing candidate edge with its weight and channel
    assert np.all(np.diff(m.need) > 0)
    rows = set(zip(cand.need.tolist(), cand.helper.tolist(), cand.weight.tolist(), cand.channel.tolist()))
    assert set(zip(m.need.tolist(), m.helper.tolist(), m.weight.tolist(), m.channel.tolist())) <= rows
    # helpers never over capacity
    used = np.bincount(m.helper, weights=hours[m.need], minlength=capacity.size)
    assert np.all(used <= capacity)
    # maximal: no unmatched need has a candidate helper with its hours left
    left = capacity - used
    unmatched = np.ones(hours.size, dtype=bool)
    unmatched[m.need] = False
    open_edge = unmatched[cand.need] & (hours[cand.need] <= left[cand.helper])
    assert not open_edge.any()
    # deterministic
    again = match(cand, hours, capacity, rng=None if seed is None else np.random.default_rng(seed))
    assert pairs(again) == pairs(m) and again.rounds == m.rounds


@settings(max_examples=60, deadline=None)
@given(small_graphs(), st.integers(0, 4))
def test_fewer_rounds_give_a_subset_of_the_greedy_matching(case, rounds):
    cand, hours, capacity = case
    full = pairs(match(cand, hours, capacity))
    part = match(cand, hours, capacity, max_rounds=rounds)
    assert part.rounds <= rounds
    assert pairs(part).items() <= full.items()
    if part.converged:
        assert pairs(part) == full


@settings(max_examples=80, deadline=None)
@given(small_graphs(unit=True))
def test_unit_capacities_reach_half_the_optimum(case):
    cand, hours, capacity = case
    best = exact_max_weight(cand, hours, capacity)
    assert match(cand, hours, capacity).total_weight >= 0.5 * best - 1e-9


@settings(max_examples=60, deadline=None)
@given(small_graphs())
def test_general_capacities_reach_the_charging_bound(case):
    # each greedy edge answers for at most one optimal edge at its need and K at its helper,
    # K = the most needs one helper could fit: greedy >= optimum / (1 + K)
    cand, hours, capacity = case
    fill = np.cumsum(np.sort(hours))
    k = int(np.searchsorted(fill, capacity.max(), side="right"))
    best = exact_max_weight(cand, hours, capacity)
    assert match(cand, hours, capacity).total_weight >= best / (1 + max(k, 1)) - 1e-9


def test_the_benchmark_still_runs(capsys):
    spec = importlib.util.spec_from_file_location("bench_matching", BENCH)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    out = bench.main(["--cases", "5", "--needs", "300", "--helpers", "500", "--repeat", "1"])
    assert 0.5 <= out["quality_unit"]["worst"] <= out["quality_unit"]["mean"] <= 1.0 + 1e-9
    assert 0.0 < out["quality_general"]["mean"] <= 1.0 + 1e-9
    assert out["timing"]["edges"] == 3000 and out["timing"]["converged"]
    assert "match 300 needs" in capsys.readouterr().out
