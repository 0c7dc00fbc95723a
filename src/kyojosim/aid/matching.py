"""Matching open needs to helpers through a sparse candidate graph, once a week.

A week's open requests for help (needs) meet the residents who could help through a sparse
candidate graph built by the caller: one row per feasible (need, helper) pair, with a weight
(higher is better: tie strength, trust and distance combined) and the channel the contact goes
through (carried through, never used for the choice). Need ``i`` takes ``hours[i]``; helper ``h``
has ``capacity[h]`` hours left this week. A need goes to at most one helper, whole (no
splitting); a helper takes several needs as long as their hours add up to at most its capacity.

The rule: greedy on weight
--------------------------
:func:`match` returns the matching of the *sequential greedy*: take the candidate edges from the
heaviest to the lightest (a strict total order, :func:`greedy_order`: weight descending, ties
broken by helper index, then need index, then row, or by a random permutation of the rows drawn
from ``rng``) and keep an edge when its need is still unmatched and its helper still has at least
the need's hours left (``hours[need] <= remaining[helper]``; the helper's remaining hours then
fall by the need's hours).

Two implementations compute it (``method``):

``"sequential"`` (the default)
    One sorted pass in compiled code (:mod:`kyojosim.aid.matching_kernel`, numba): a stable radix
    sort of the edges into the greedy order on the bits of their float64 weights, then the
    sequential greedy itself, edge by edge, with the same comparisons and subtractions as the
    rule above. O(E) for E candidate edges. The kernel is compiled on the first call in a
    process and cached on disk, so later processes load it (see :mod:`kyojosim.aid.matching_kernel`).

``"rounds"``
    The same matching in rounds of whole-array numpy operations, without compiled code:

    1. *Prune.* An edge stays live while its need is unmatched and ``hours[need] <= remaining
       capacity of its helper``. Capacity only goes down, so a pruned edge would be refused by
       the sequential greedy too.
    2. *Propose.* Every unmatched need proposes to its best live edge (first in the order above).
    3. *Accept.* Each helper looks at its live edges in order and takes the leading run of them
       that are proposals, stopping at the first live edge whose need proposed elsewhere (that
       need may still be refused there and come back with a heavier edge, so the helper waits
       for it). Along that run it accepts, in order, the proposals whose cumulative hours fit
       its remaining capacity (a segmented prefix sum per helper, over the live edges kept
       sorted by helper and then greedy order). The first proposal that does not fit is refused
       for good (step 1 prunes it); the ones after it wait for the next round, where a smaller
       one may still fit (first fit, as in the sequential greedy).
    4. Repeat until no live edge is left (converged) or ``max_rounds`` rounds have run.

    An edge is decided only once every heavier edge at its need and at its helper is decided,
    and then as the sequential greedy decides it. The heaviest live edge is always accepted, so
    every round matches at least one need; on random graphs a few rounds decide nearly
    everything. If ``max_rounds`` runs out first, the needs still undecided stay unmatched this
    step (``Matches.converged`` is False): what was matched is then a subset of the full greedy
    matching, never a different choice. Why the helper waits: if helpers accepted every proposal
    at once, a light proposal could take a helper that a heavier edge was about to need (the
    need behind it being refused elsewhere in the same round); with ``k`` such needs the result
    can fall to ``1/(k+1)`` of the optimum.

    The rounds add a helper's hours as prefix sums rather than subtracting them one by one, so
    they give the sequential greedy's matching *to the bit* only when those sums are exact in
    float64. They are in the model: a need's hours are a float32 value of at least 0.25 h (a
    multiple of 2**-25) and a helper's hours a float32 value less such needs, and float64 adds
    and subtracts such values without rounding at these magnitudes. With arbitrary float64 hours
    a sum that lands within rounding of a helper's capacity can be decided differently; the
    sequential method is then the reference.

The two methods are compared on every hand-worked case and on random graphs in
``tests/test_matching.py``, and the sequential one against a plain Python walk of the edges.

Guarantees (tested in ``tests/test_matching.py``)
-------------------------------------------------
* A need is matched at most once, only along a candidate edge; a helper's matched hours never
  exceed its capacity (up to floating-point rounding, below 1e-12 h for a 40-hour week; exact
  when hours are float32 values or multiples of a power of two such as half-hour slots).
* The matching is maximal (after convergence, for the rounds): no unmatched need has a candidate
  helper with at least its hours left.
* Deterministic: the same input (and the same ``rng`` state) gives the same output. With
  ``rng`` both methods draw exactly one ``rng.permutation(E)``, so the stream moves the same way.
* Unit capacities (no helper can fit two of its candidate needs): total weight at least 1/2 of
  the optimum (classical greedy bound). General capacities: at least ``1/(1 + K)`` of the
  optimum, where ``K`` is the largest number of needs one helper could fit; the greedy takes the
  heaviest edge even when several lighter, smaller needs would fill the helper better.

Measured (``.venv/bin/python benchmarks/bench_matching.py``; quality on 200 random small cases
each, seed 0, 12-30 needs, 8-20 helpers, 3 candidates per need on average, integer weights 1-20
so that ties occur; ratio = greedy total / exact optimum): unit capacities mean 0.959, worst
0.815, 5th percentile 0.891, optimal in 26% of cases; general capacities (helpers with 0-8 h
left, needs of 0.5-4 h) mean 0.966, worst 0.834, 5th percentile 0.911, optimal in 22%. Speed:
see ``benchmarks/README.md`` (the sequential pass is several times faster than the rounds on
weeks of 320,000-500,000 candidate edges).

:func:`exact_max_weight` gives the optimum for small cases, for comparison.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import min_weight_full_bipartite_matching

from ..core.network import stable_argsort_ids

__all__ = ["METHODS", "Candidates", "Matches", "exact_max_weight", "greedy_order", "is_unit_capacity", "match"]


@dataclass
class Candidates:
    """The sparse candidate graph of one step: one row per feasible (need, helper) pair.

    Attributes:
        need: int64 index into the needs of this step (``0 .. n_needs - 1``).
        helper: int64 index into the helpers (``0 .. n_helpers - 1``).
        weight: float64, > 0; higher is better (tie strength, trust, distance combined by the caller).
        channel: int8 channel id, carried through to the matches, not used for the choice.
        helper_ids: What each helper index stands for, if the caller numbered its helpers (the weekly
            round numbers the week's candidate helpers 0, 1, ... and keeps their slots here, so that the
            matching's work follows the candidate edges, not the population); not used for the choice.
    """

    need: np.ndarray
    helper: np.ndarray
    weight: np.ndarray
    channel: np.ndarray
    helper_ids: np.ndarray | None = None

    def __len__(self) -> int:
        return int(self.need.size)


@dataclass
class Matches:
    """The matched needs of one step, one row per matched need, sorted by need.

    Attributes:
        need: int64 need index.
        helper: int64 helper index the need goes to.
        weight: float64 weight of the edge used.
        channel: int8 channel of the edge used.
        rounds: Rounds of proposals run by the ``"rounds"`` method; the sequential pass counts as
            one (none without candidates).
        converged: True when every candidate edge was decided; False when ``max_rounds`` of the
            ``"rounds"`` method ran out first (the undecided needs stay unmatched this step).
    """

    need: np.ndarray
    helper: np.ndarray
    weight: np.ndarray
    channel: np.ndarray
    rounds: int
    converged: bool

    def __len__(self) -> int:
        return int(self.need.size)

    @property
    def total_weight(self) -> float:
        """Sum of the weights of the matched edges."""
        return float(self.weight.sum())


def _validated(
    cand: Candidates, hours: np.ndarray, capacity: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Return the columns as contiguous arrays of the documented dtypes, or raise ValueError."""
    need = np.asarray(cand.need, dtype=np.int64).ravel()
    helper = np.asarray(cand.helper, dtype=np.int64).ravel()
    weight = np.asarray(cand.weight, dtype=np.float64).ravel()
    channel = np.asarray(cand.channel).astype(np.int8, copy=False).ravel()
    hours = np.asarray(hours, dtype=np.float64).ravel()
    capacity = np.asarray(capacity, dtype=np.float64).ravel()
    n = need.size
    if not helper.size == weight.size == channel.size == n:
        raise ValueError(
            f"Candidates columns must have the same length; got need {n}, helper {helper.size}, "
            f"weight {weight.size}, channel {channel.size}"
        )
    if n and (need.min() < 0 or need.max() >= hours.size):
        raise ValueError(f"Candidates.need must index the {hours.size} needs (0..{hours.size - 1})")
    if n and (helper.min() < 0 or helper.max() >= capacity.size):
        raise ValueError(f"Candidates.helper must index the {capacity.size} helpers (0..{capacity.size - 1})")
    if not np.all(np.isfinite(weight) & (weight > 0)):
        raise ValueError("Candidates.weight must be finite and > 0")
    if not np.all(np.isfinite(hours) & (hours >= 0)):
        raise ValueError("hours must be finite and >= 0")
    if not np.all(np.isfinite(capacity) & (capacity >= 0)):
        raise ValueError("capacity must be finite and >= 0")
    return need, helper, weight, channel, hours, capacity


def greedy_order(cand: Candidates, rng: np.random.Generator | None = None) -> np.ndarray:
    """Candidate rows in the greedy order: the row taken first comes first.

    The order is weight descending; ties are broken by helper index, then need index, then row
    (deterministic), or, when ``rng`` is given, by a random key per row (one permutation drawn
    from ``rng``). Two stable sorts (one with ``rng``).

    Args:
        cand: The candidate graph.
        rng: Source of the random tie-break keys; None for the deterministic tie-break.

    Returns:
        int64 array, a permutation of ``0 .. len(cand) - 1``.
    """
    weight = np.asarray(cand.weight, dtype=np.float64).ravel()
    if rng is None:
        need = np.asarray(cand.need, dtype=np.int64).ravel()
        helper = np.asarray(cand.helper, dtype=np.int64).ravel()
        n_needs = int(need.max()) + 1 if need.size else 1
        tie = np.argsort(helper * n_needs + need, kind="stable")
    else:
        tie = rng.permutation(weight.size)
    return tie[np.argsort(-weight[tie], kind="stable")]


def _segment_starts(keys: np.ndarray) -> np.ndarray:
    """For sorted ``keys``, the position where each entry's run of equal keys starts."""
    n = keys.size
    is_start = np.ones(n, dtype=bool)
    is_start[1:] = keys[1:] != keys[:-1]
    return np.maximum.accumulate(np.where(is_start, np.arange(n), 0))


def _segmented_cumsum(values: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Prefix sums of ``values`` restarting at each segment (``starts`` from :func:`_segment_starts`).

    A doubling scan (log2 of the longest segment passes), so the sums never mix segments and
    their rounding error stays relative to one segment's total, not to the whole array's.
    """
    out = values.copy()
    depth = np.arange(values.size) - starts
    shift = 1
    longest = int(depth.max()) if depth.size else 0
    while shift <= longest:
        take = np.flatnonzero(depth >= shift)
        nxt = out.copy()
        nxt[take] += out[take - shift]
        out = nxt
        shift *= 2
    return out


METHODS = ("sequential", "rounds")


def match(
    cand: Candidates,
    hours: np.ndarray,
    capacity: np.ndarray,
    rng: np.random.Generator | None = None,
    method: Literal["sequential", "rounds"] = "sequential",
    max_rounds: int | None = None,
) -> Matches:
    """Match needs to helpers by the sequential greedy on weight.

    See the module docstring for the rule, the two methods and what they guarantee.

    Args:
        cand: The candidate graph (need, helper, weight, channel columns of equal length).
        hours: float, shape ``(n_needs,)``; the hours each need takes (>= 0).
        capacity: float, shape ``(n_helpers,)``; each helper's remaining hours this week (>= 0).
            Not modified.
        rng: If given, ties in weight are broken by a random permutation of the rows drawn from
            it (one ``rng.permutation`` call); if None, by helper index, then need index.
        method: ``"sequential"``, one sorted pass in compiled code (compiled on the first call
            in a process, cached on disk); or ``"rounds"``, vectorised numpy rounds.
        max_rounds: With ``"rounds"`` only: most rounds to run (default 20); needs still
            undecided then stay unmatched this step. The sequential pass decides every edge.

    Returns:
        The matches, one row per matched need sorted by need, with the rounds used (the
        sequential pass counts as one round, none without candidates).

    Raises:
        ValueError: Columns of different lengths, indices out of range, a weight that is not
            finite and > 0, negative or non-finite hours or capacity, an unknown method, or
            ``max_rounds`` negative or given with the sequential method.
    """
    need, helper, weight, channel, hours, capacity = _validated(cand, hours, capacity)
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}; got {method!r}")
    if method == "rounds":
        matched_edge, rounds, converged = _match_rounds(
            need, helper, weight, channel, hours, capacity, rng, 20 if max_rounds is None else max_rounds
        )
    else:
        if max_rounds is not None:
            raise ValueError("max_rounds applies to method='rounds' only; the sequential pass decides every edge")
        from .matching_kernel import greedy_pass  # numba is imported, and the kernel compiled, on first use

        random_tie = rng is not None
        tie = rng.permutation(need.size) if random_tie else np.zeros(0, dtype=np.int64)
        matched_edge = greedy_pass(need, helper, weight, hours, capacity, tie, random_tie)
        rounds, converged = int(need.size > 0), True

    matched = np.flatnonzero(matched_edge >= 0)
    edges = matched_edge[matched]
    return Matches(
        need=matched.astype(np.int64),
        helper=helper[edges],
        weight=weight[edges],
        channel=channel[edges],
        rounds=rounds,
        converged=converged,
    )


def _match_rounds(
    need: np.ndarray,
    helper: np.ndarray,
    weight: np.ndarray,
    channel: np.ndarray,
    hours: np.ndarray,
    capacity: np.ndarray,
    rng: np.random.Generator | None,
    max_rounds: int,
) -> tuple[np.ndarray, int, bool]:
    """Compute the greedy matching in vectorised rounds: each need's edge (-1: none), rounds run, converged."""
    if max_rounds < 0:
        raise ValueError(f"max_rounds must be >= 0; got {max_rounds}")
    order = greedy_order(Candidates(need, helper, weight, channel), rng)
    remaining = capacity.copy()
    matched_edge = np.full(hours.size, -1, dtype=np.int64)
    edge_hours = hours[need]

    # live edges in two orders, kept by filtering: by need then greedy order, by helper then greedy order
    order = order[edge_hours[order] <= remaining[helper[order]]]
    by_need = order[stable_argsort_ids(need[order])]
    by_helper = order[stable_argsort_ids(helper[order])]
    is_proposal = np.zeros(need.size, dtype=bool)

    rounds = 0
    while by_need.size and rounds < max_rounds:
        rounds += 1
        # 2. propose: the first live edge of each need
        n_of = need[by_need]
        first = np.ones(by_need.size, dtype=bool)
        first[1:] = n_of[1:] != n_of[:-1]
        proposals = by_need[first]
        is_proposal[proposals] = True

        # 3. accept: per helper, the leading run of proposals, as far as their hours fit
        h_of = helper[by_helper]
        starts = _segment_starts(h_of)
        not_prop = ~is_proposal[by_helper]
        n_not_prop = np.cumsum(not_prop)
        lead = n_not_prop == (n_not_prop[starts] - not_prop[starts])  # no non-proposal up to here
        lead_pos = np.flatnonzero(lead)  # the leading runs, still grouped by helper, in greedy order
        lead_edges = by_helper[lead_pos]
        lead_helper = h_of[lead_pos]
        used = _segmented_cumsum(edge_hours[lead_edges], _segment_starts(lead_helper))
        accept = used <= remaining[lead_helper]
        acc_edges = lead_edges[accept]
        acc_helper = lead_helper[accept]
        matched_edge[need[acc_edges]] = acc_edges
        # accepted edges are a prefix of each helper's run: the last one carries the helper's total
        last = np.ones(acc_helper.size, dtype=bool)
        last[:-1] = acc_helper[1:] != acc_helper[:-1]
        remaining[acc_helper[last]] -= used[accept][last]
        is_proposal[proposals] = False

        # 1. prune: drop edges of matched needs and edges whose need no longer fits the helper
        by_need = by_need[(matched_edge[need[by_need]] < 0) & (edge_hours[by_need] <= remaining[helper[by_need]])]
        by_helper = by_helper[
            (matched_edge[need[by_helper]] < 0) & (edge_hours[by_helper] <= remaining[helper[by_helper]])
        ]
    return matched_edge, rounds, by_need.size == 0


def is_unit_capacity(cand: Candidates, hours: np.ndarray, capacity: np.ndarray) -> bool:
    """Tell whether no helper can fit two of its candidate needs at once.

    Checked per helper on the two smallest needs among its candidates that fit it alone.

    Args:
        cand: The candidate graph.
        hours: Hours of each need.
        capacity: Remaining hours of each helper.

    Returns:
        Whether every helper can take at most one need.
    """
    need, helper, _, _, hours, capacity = _validated(cand, hours, capacity)
    fits = hours[need] <= capacity[helper]
    need, helper = need[fits], helper[fits]
    # one row per (helper, need) pair
    order = np.lexsort((need, helper))
    need, helper = need[order], helper[order]
    keep = np.ones(need.size, dtype=bool)
    keep[1:] = (helper[1:] != helper[:-1]) | (need[1:] != need[:-1])
    need, helper = need[keep], helper[keep]
    # smallest hours first within each helper: the second row of a group pairs with the first
    h = hours[need]
    order = np.lexsort((h, helper))
    helper, h = helper[order], h[order]
    second = np.flatnonzero(np.arange(helper.size) - _segment_starts(helper) == 1)
    return bool(np.all(h[second] + h[second - 1] > capacity[helper[second]]))


def exact_max_weight(
    cand: Candidates,
    hours: np.ndarray,
    capacity: np.ndarray,
    method: Literal["auto", "assignment", "milp"] = "auto",
) -> float:
    """Compute the largest total weight a feasible matching reaches; for SMALL cases, to compare with :func:`match`.

    With unit capacities (see :func:`is_unit_capacity`) it is an assignment problem, solved by
    ``scipy.sparse.csgraph.min_weight_full_bipartite_matching`` on needs x (helpers + one private
    dummy helper per need), with cost ``big - weight`` on real edges and ``big`` on the dummy
    edges (scipy matches every need, needs non-zero entries, and minimises): a need left on its
    dummy is unmatched, and the minimum cost is ``n_needs * big - best total weight``. Otherwise
    it solves the integer program with ``scipy.optimize.milp``: binary ``x_e``, at most one edge
    per need, ``sum hours * x_e <= capacity`` per helper, maximise ``sum weight * x_e``.

    Args:
        cand: The candidate graph.
        hours: Hours of each need.
        capacity: Remaining hours of each helper.
        method: ``"auto"`` (assignment when capacities are unit, else milp), or force one.

    Returns:
        The optimal total weight.

    Raises:
        ValueError: Bad input (as :func:`match`), ``"assignment"`` forced on non-unit
            capacities, or a solver failure.
    """
    need, helper, weight, channel, hours, capacity = _validated(cand, hours, capacity)
    fits = hours[need] <= capacity[helper]
    need, helper, weight = need[fits], helper[fits], weight[fits]
    if need.size == 0:
        return 0.0
    unit = is_unit_capacity(Candidates(need, helper, weight, channel[fits]), hours, capacity)
    if method == "assignment" and not unit:
        raise ValueError("method='assignment' needs unit capacities (no helper can fit two of its needs)")
    if method == "assignment" or (method == "auto" and unit):
        return _exact_assignment(need, helper, weight, hours.size, capacity.size)
    return _exact_milp(need, helper, weight, hours, capacity)


def _exact_assignment(need: np.ndarray, helper: np.ndarray, weight: np.ndarray, n_needs: int, n_helpers: int) -> float:
    """Best total weight of a one-to-one matching, by sparse assignment with a dummy helper per need."""
    # keep the heaviest of duplicate (need, helper) rows: a sparse matrix would add them up
    order = np.lexsort((-weight, helper, need))
    need, helper, weight = need[order], helper[order], weight[order]
    keep = np.ones(need.size, dtype=bool)
    keep[1:] = (need[1:] != need[:-1]) | (helper[1:] != helper[:-1])
    need, helper, weight = need[keep], helper[keep], weight[keep]
    big = 2.0 * float(weight.max()) + 1.0
    rows = np.concatenate([need, np.arange(n_needs)])
    cols = np.concatenate([helper, n_helpers + np.arange(n_needs)])
    cost = np.concatenate([big - weight, np.full(n_needs, big)])
    graph = sp.csr_array((cost, (rows, cols)), shape=(n_needs, n_helpers + n_needs))
    row, col = min_weight_full_bipartite_matching(graph)
    real = col < n_helpers
    return float((big - graph[row[real], col[real]]).sum())


def _exact_milp(
    need: np.ndarray, helper: np.ndarray, weight: np.ndarray, hours: np.ndarray, capacity: np.ndarray
) -> float:
    """Best total weight under the hour capacities, by a binary integer program."""
    from scipy.optimize import Bounds, LinearConstraint, milp  # only here: a run never needs the solver (11 MB)

    n_edges = need.size
    cols = np.arange(n_edges)
    per_need = sp.csr_array((np.ones(n_edges), (need, cols)), shape=(hours.size, n_edges))
    per_helper = sp.csr_array((hours[need], (helper, cols)), shape=(capacity.size, n_edges))
    res = milp(
        c=-weight,
        constraints=[LinearConstraint(per_need, -np.inf, 1.0), LinearConstraint(per_helper, -np.inf, capacity)],
        integrality=np.ones(n_edges),
        bounds=Bounds(0.0, 1.0),
    )
    if not res.success:
        raise ValueError(f"milp failed: {res.message}")
    return float(weight[res.x > 0.5].sum())
