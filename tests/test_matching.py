"""Weekly matching of needs to helpers: hand-worked cases, invariants, and quality against the optimum."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kyojosim.aid.matching import METHODS, Candidates, Matches, exact_max_weight, greedy_order, is_unit_capacity, match
from script_loader import load_script

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


@pytest.mark.parametrize("method", METHODS)
def test_chain_where_the_order_matters(method):
    # path n0 -1- h0 -2- n1 -3- h1 -4- n2, unit capacities.
    # Greedy: (n2,h1)=4 first; n1 loses h1 and takes (n1,h0)=2; n0 loses h0. Total 6 (= optimum).
    # Round 1: n0->h0, n1->h1, n2->h1. h1 takes n2 and refuses n1 (no room); h0 waits, since its
    # heavier edge to n1 is live and n1 proposed elsewhere. Round 2: n1->h0 and n0->h0; h0 takes n1.
    cand = cands([(0, 0, 1.0), (1, 0, 2.0), (1, 1, 3.0), (2, 1, 4.0)])
    m = match(cand, np.ones(3), np.ones(2), method=method)
    assert pairs(m) == {1: 0, 2: 1}
    assert m.weight.tolist() == [2.0, 4.0]
    assert m.rounds == (2 if method == "rounds" else 1) and m.converged
    assert m.total_weight == 6.0 == exact_max_weight(cand, np.ones(3), np.ones(2))


@pytest.mark.parametrize("method", METHODS)
def test_helper_waits_for_a_heavier_edge_instead_of_taking_a_light_proposal(method):
    # n0, n1, n2 all want helper 0 (11, 10, 10); n1 and n2 have second choices h1, h2 (9 each)
    # which n3, n4 also propose to with weight 1. Helpers that took proposals at once would
    # give 11 + 1 + 1 = 13; the greedy gives 11 + 9 + 9 = 29, the optimum.
    cand = cands([(0, 0, 11), (1, 0, 10), (2, 0, 10), (1, 1, 9), (2, 2, 9), (3, 1, 1), (4, 2, 1)])
    m = match(cand, np.ones(5), np.ones(3), method=method)
    assert pairs(m) == {0: 0, 1: 1, 2: 2}
    assert m.rounds == (2 if method == "rounds" else 1) and m.converged
    assert m.total_weight == 29.0 == exact_max_weight(cand, np.ones(5), np.ones(3))


@pytest.mark.parametrize("method", METHODS)
def test_capacity_for_two_needs(method):
    # helper 0 has 4 h; needs of 2, 2 and 1 h with weights 3, 2, 1: the first two fill it exactly
    cand = cands([(0, 0, 3.0), (1, 0, 2.0), (2, 0, 1.0)])
    hours, capacity = np.array([2.0, 2.0, 1.0]), np.array([4.0])
    m = match(cand, hours, capacity, method=method)
    assert pairs(m) == {0: 0, 1: 0}
    assert m.rounds == 1 and m.converged
    assert capacity.tolist() == [4.0]  # the caller's array is not touched
    assert exact_max_weight(cand, hours, capacity) == 5.0


@pytest.mark.parametrize("method", METHODS)
def test_a_need_that_does_not_fit_is_skipped_and_a_smaller_one_still_fits(method):
    # 3 h: n0 (2 h, w 3) taken; n1 (2 h, w 2) no longer fits; n2 (1 h, w 1) does (first fit).
    # Round 1 accepts n0 and refuses n1; n2, behind n1, waits and is taken in round 2.
    cand = cands([(0, 0, 3.0), (1, 0, 2.0), (2, 0, 1.0)])
    m = match(cand, np.array([2.0, 2.0, 1.0]), np.array([3.0]), method=method)
    assert pairs(m) == {0: 0, 2: 0}
    assert m.rounds == (2 if method == "rounds" else 1) and m.converged


@pytest.mark.parametrize("method", METHODS)
def test_needs_without_a_feasible_candidate_stay_unmatched(method):
    # n1 has no candidate; n3's only helper has 1 h left and n3 takes 2 h
    cand = cands([(0, 0, 1.0), (2, 1, 1.0), (3, 2, 5.0)], channel=[1, 2, 3])
    m = match(cand, np.array([1.0, 1.0, 1.0, 2.0]), np.array([1.0, 1.0, 1.0]), method=method)
    assert pairs(m) == {0: 0, 2: 1}
    assert m.channel.tolist() == [1, 2]
    assert m.converged


@pytest.mark.parametrize("method", METHODS)
def test_ties_are_broken_by_helper_then_need_index(method):
    # n0 ties between helpers 1 and 0 -> helper 0; n1 and n2 tie for helper 2 -> n1
    cand = cands([(0, 1, 2.0), (0, 0, 2.0), (2, 2, 1.0), (1, 2, 1.0)])
    m = match(cand, np.ones(3), np.ones(3), method=method)
    assert pairs(m) == {0: 0, 1: 2}


@pytest.mark.parametrize("method", METHODS)
def test_random_ties_follow_the_rng(method):
    cand = cands([(0, 0, 1.0), (0, 1, 1.0), (1, 0, 1.0)])
    outcomes = set()
    for seed in range(30):
        a = match(cand, np.ones(2), np.ones(2), rng=np.random.default_rng(seed), method=method)
        b = match(cand, np.ones(2), np.ones(2), rng=np.random.default_rng(seed), method=method)
        assert pairs(a) == pairs(b)
        outcomes.add(tuple(sorted(pairs(a).items())))
    # n0 takes h0 (n1 left without) or h1 (both matched); n1 may also win h0 first
    assert outcomes == {((0, 0),), ((0, 1), (1, 0))}


def test_running_out_of_rounds_leaves_a_subset_of_the_greedy_matching():
    cand = cands([(0, 0, 1.0), (1, 0, 2.0), (1, 1, 3.0), (2, 1, 4.0)])
    m = match(cand, np.ones(3), np.ones(2), method="rounds", max_rounds=1)
    assert pairs(m) == {2: 1}
    assert m.rounds == 1 and not m.converged
    none = match(cand, np.ones(3), np.ones(2), method="rounds", max_rounds=0)
    assert len(none) == 0 and not none.converged
    with pytest.raises(ValueError, match="max_rounds must be >= 0"):
        match(cand, np.ones(3), np.ones(2), method="rounds", max_rounds=-1)


def test_the_sequential_pass_has_no_rounds_to_limit_and_unknown_methods_are_refused():
    cand = cands([(0, 0, 1.0)])
    with pytest.raises(ValueError, match="max_rounds applies to method='rounds' only"):
        match(cand, np.ones(1), np.ones(1), max_rounds=3)
    with pytest.raises(ValueError, match="method must be one of sequential, rounds; got 'auction'"):
        match(cand, np.ones(1), np.ones(1), method="auction")


@pytest.mark.parametrize("method", METHODS)
def test_no_candidates(method):
    m = match(cands([]), np.ones(3), np.ones(2), method=method)
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
@pytest.mark.parametrize("method", METHODS)
def test_bad_input_is_refused(rows, hours, capacity, message, method):
    with pytest.raises(ValueError, match=message):
        match(cands(rows), np.array(hours), np.array(capacity), method=method)


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


@pytest.mark.parametrize("method", METHODS)
@settings(max_examples=200, deadline=None)
@given(small_graphs(), st.one_of(st.none(), st.integers(0, 2**32 - 1)))
def test_match_is_the_sequential_greedy_and_keeps_the_invariants(method, case, seed):
    cand, hours, capacity = case
    rng = None if seed is None else np.random.default_rng(seed)
    m = match(cand, hours, capacity, rng=rng, method=method)
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
    again = match(cand, hours, capacity, rng=None if seed is None else np.random.default_rng(seed), method=method)
    assert pairs(again) == pairs(m) and again.rounds == m.rounds


@settings(max_examples=60, deadline=None)
@given(small_graphs(), st.integers(0, 4))
def test_fewer_rounds_give_a_subset_of_the_greedy_matching(case, rounds):
    cand, hours, capacity = case
    full = pairs(match(cand, hours, capacity))
    part = match(cand, hours, capacity, method="rounds", max_rounds=rounds)
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


# ---------------------------------------------------------------- the compiled pass against a plain walk


def plain_greedy(cand, hours, capacity, rng=None) -> list[tuple[int, int, float, int]]:
    """The rule written out in plain Python: sort the rows, walk them, keep what fits.

    Independent of :func:`greedy_order`: the order is Python's stable ``sorted`` on (weight
    descending, helper, need, row), or (weight descending, position in ``rng.permutation``).
    Returns the matched (need, helper, weight, channel) rows sorted by need.
    """
    need, helper = cand.need.tolist(), cand.helper.tolist()
    weight, channel = cand.weight.tolist(), cand.channel.tolist()
    rows = range(len(need))
    if rng is None:
        order = sorted(rows, key=lambda e: (-weight[e], helper[e], need[e], e))
    else:
        position = [0] * len(need)
        for p, e in enumerate(rng.permutation(len(need)).tolist()):
            position[e] = p
        order = sorted(rows, key=lambda e: (-weight[e], position[e]))
    remaining = [float(c) for c in capacity]
    taken: dict[int, int] = {}
    for e in order:
        i, h = need[e], helper[e]
        if i not in taken and float(hours[i]) <= remaining[h]:
            taken[i] = e
            remaining[h] -= float(hours[i])
    return [(i, helper[e], weight[e], channel[e]) for i, e in sorted(taken.items())]


def rows_of(m: Matches) -> list[tuple[int, int, float, int]]:
    return list(zip(m.need.tolist(), m.helper.tolist(), m.weight.tolist(), m.channel.tolist()))


@st.composite
def rough_graphs(draw):
    """Graphs that stress the order and the arithmetic: many tied weights, duplicate rows, zero
    capacities, needs larger than any helper, no needs, helpers or edges at all, and hours that
    are arbitrary float64 values (their sums round)."""
    n_needs = draw(st.integers(0, 12))
    n_helpers = draw(st.integers(0, 8))
    weights = st.one_of(
        st.sampled_from([0.1, 0.2, 0.3, 1 / 3, 1.0, 2.0, 5e-324, 1e300]),
        st.floats(1e-12, 1e12, allow_nan=False, allow_infinity=False),
    )
    rows = []
    if n_needs and n_helpers:
        rows = draw(st.lists(st.tuples(st.integers(0, n_needs - 1), st.integers(0, n_helpers - 1), weights),
                             max_size=40))
        if rows:  # duplicates: the same (need, helper), with the same or another weight
            for k in draw(st.lists(st.integers(0, len(rows) - 1), max_size=10)):
                i, h, w = rows[k]
                rows.append((i, h, draw(st.one_of(st.just(w), weights))))
    cand = cands(rows, channel=draw(st.lists(st.integers(0, 3), min_size=len(rows), max_size=len(rows))))
    hours = st.one_of(st.just(0.0), st.floats(0.0, 10.0), st.just(1e6), st.sampled_from([0.1, 0.2, 0.3, 0.7]))
    capacity = st.one_of(st.just(0.0), st.floats(0.0, 10.0), st.sampled_from([0.3, 0.6, 1.0]))
    return (cand, np.array(draw(st.lists(hours, min_size=n_needs, max_size=n_needs)), dtype=np.float64),
            np.array(draw(st.lists(capacity, min_size=n_helpers, max_size=n_helpers)), dtype=np.float64))


@settings(max_examples=400, deadline=None)
@given(rough_graphs(), st.one_of(st.none(), st.integers(0, 2**32 - 1)))
def test_the_sequential_pass_is_the_plain_walk_of_the_edges(case, seed):
    cand, hours, capacity = case
    rng = None if seed is None else np.random.default_rng(seed)
    ref_rng = None if seed is None else np.random.default_rng(seed)
    m = match(cand, hours, capacity, rng=rng)
    assert rows_of(m) == plain_greedy(cand, hours, capacity, ref_rng)
    assert m.converged and m.rounds == int(len(cand) > 0)
    assert m.need.dtype == np.int64 and m.helper.dtype == np.int64 and m.channel.dtype == np.int8
    if seed is not None:  # one permutation drawn, as the reference: the stream moves on the same way
        assert rng.random() == ref_rng.random()


@st.composite
def model_like_graphs(draw):
    """Graphs with hours as the model has them: needs float32 of at least 0.25 h, helpers float32."""
    n_needs = draw(st.integers(1, 12))
    n_helpers = draw(st.integers(1, 8))
    rows = draw(st.lists(st.tuples(st.integers(0, n_needs - 1), st.integers(0, n_helpers - 1),
                                   st.floats(0.01, 3.0)), max_size=40))
    cand = cands(rows, channel=draw(st.lists(st.integers(0, 3), min_size=len(rows), max_size=len(rows))))
    f32 = st.floats(0.25, 6.0, width=32)
    hours = np.array(draw(st.lists(f32, min_size=n_needs, max_size=n_needs)), dtype=np.float32)
    weekly = np.array(draw(st.lists(st.floats(0.0, 10.0, width=32), min_size=n_helpers, max_size=n_helpers)),
                      dtype=np.float32)
    own = np.array(draw(st.lists(f32, min_size=n_helpers, max_size=n_helpers)), dtype=np.float32)
    capacity = np.maximum(weekly.astype(np.float64) - own.astype(np.float64), 0.0)
    return cand, hours.astype(np.float64), capacity


@settings(max_examples=200, deadline=None)
@given(model_like_graphs(), st.one_of(st.none(), st.integers(0, 2**32 - 1)))
def test_the_rounds_give_the_sequential_matching_on_hours_as_the_model_has_them(case, seed):
    cand, hours, capacity = case
    rounds = match(cand, hours, capacity, rng=None if seed is None else np.random.default_rng(seed),
                   method="rounds", max_rounds=1000)
    sequential = match(cand, hours, capacity, rng=None if seed is None else np.random.default_rng(seed))
    assert rows_of(rounds) == rows_of(sequential)
    assert rounds.converged


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.integers(0, 2**64 - 1), st.integers(0, 5), st.integers(2**63 - 3, 2**63 + 3)),
                max_size=300))
def test_the_radix_sort_is_a_stable_sort(keys):
    from kyojosim.aid.matching_kernel import radix_argsort

    keys = np.array(keys, dtype=np.uint64)
    start = np.random.default_rng(keys.size).permutation(keys.size)
    got = radix_argsort(keys[start], start)
    assert np.array_equal(got, start[np.argsort(keys[start], kind="stable")])


def test_importing_kyojosim_compiles_nothing():
    code = (
        "import sys, kyojosim, kyojosim.aid.matching\n"
        "assert 'kyojosim.aid.matching_kernel' not in sys.modules\n"
        "from kyojosim.aid import matching_kernel\n"
        "assert matching_kernel.greedy_pass.signatures == [] and matching_kernel.radix_argsort.signatures == []\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_the_kernel_compiles_without_a_cache_when_no_folder_is_writable():
    # numba finds no cache folder for a function whose source file does not exist (as for a
    # read-only installation with a read-only home); the kernel is then compiled uncached, silently
    source = importlib.util.find_spec("kyojosim.aid.matching_kernel").origin
    code = compile(Path(source).read_text(encoding="utf-8"), "/nonexistent/matching_kernel.py", "exec")
    namespace: dict = {"__name__": "matching_kernel_uncached"}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        exec(code, namespace)
        cand = cands([(0, 0, 2.0), (1, 0, 2.0), (1, 1, 1.0)])
        tie = np.zeros(0, dtype=np.int64)
        got = namespace["greedy_pass"](cand.need, cand.helper, cand.weight, np.ones(2), np.ones(2), tie, False)
    assert got.tolist() == [0, 2]  # need 0 takes helper 0 (edge 0); need 1 then goes to helper 1 (edge 2)
    assert type(namespace["greedy_pass"]._cache).__name__ == "NullCache"


def test_the_benchmark_still_runs(capsys):
    bench = load_script(BENCH, "bench_matching")
    out = bench.main(["--cases", "5", "--needs", "300", "--helpers", "500", "--koto-edges", "2000",
                      "--koto-helpers", "3000", "--repeat", "1"])
    assert 0.5 <= out["quality_unit"]["worst"] <= out["quality_unit"]["mean"] <= 1.0 + 1e-9
    assert 0.0 < out["quality_general"]["mean"] <= 1.0 + 1e-9
    assert out["timing"]["edges"] == 3000 and out["timing"]["rounds"]["converged"]
    assert out["timing"]["same_matching"] and out["timing_koto"]["same_matching"]
    assert out["timing_koto"]["edges"] == 2000
    assert set(out["compile"]) == {"cold", "warm"} and out["compile"]["cold"]["first_call_s"] > 0
    printed = capsys.readouterr().out
    assert "match 300 needs" in printed and "a Koto-like week" in printed and "empty cache: compiles" in printed
