"""The weekly matching's compiled kernel: one sorted pass of the sequential greedy (numba).

:func:`kyojosim.aid.matching.match` imports this module on first use, so that ``import kyojosim``
neither imports numba nor compiles anything. The kernels are compiled on their first call and the
machine code is cached on disk (``numba.njit(cache=True)``): next to this file in ``__pycache__``
when that folder is writable, else in numba's per-user cache folder, or in ``NUMBA_CACHE_DIR``
when that is set. When no cache folder is writable at all (a read-only installation and a
read-only home), the kernels are compiled without a cache, once per process, with the same result.

:func:`greedy_pass` sorts the candidate edges into the greedy order with a stable least
significant digit radix sort (11-bit digits; a digit that is the same for every edge is skipped),
first by the tie-break (need, then helper, or a given permutation) and last by weight
descending, keyed on the bits of the float64 weight (positive floats order as their bit patterns
do), then walks the edges once in that order. The order is the one of
:func:`kyojosim.aid.matching.greedy_order` to the edge, and the walk takes an edge exactly as the
sequential greedy does (same comparisons, same subtractions in float64).

The weekly round (:meth:`kyojosim.aid.round.MutualAid.week`) also uses :func:`weigh_candidates` (a
channel's edges without self-help, weighed by :func:`kyojosim.aid.round.preference`'s arithmetic) and
:func:`local_helpers` (the week's helpers numbered, with their hours left), each one pass over the edges,
and :func:`count_requesters` (the week's requesters counted by age group and district), and
:func:`count_unmet_old` (the residents of an age or older with a need left unmatched).
"""

from __future__ import annotations

import numba
import numpy as np

__all__ = ["channel_month_counts", "count_requesters", "count_unmet_old", "greedy_pass", "local_helpers",
           "radix_argsort", "weigh_candidates"]

_DIGIT_BITS = 11
_N_BUCKETS = 1 << _DIGIT_BITS
_N_DIGITS = (64 + _DIGIT_BITS - 1) // _DIGIT_BITS


def _compiled(func):
    """Compile ``func`` lazily with numba, caching the machine code on disk where a folder is writable.

    ``njit(cache=True)`` looks for a writable cache folder when it decorates and raises
    RuntimeError when it finds none; the function is then compiled without a cache.
    """
    try:
        return numba.njit(cache=True, nogil=True)(func)
    except RuntimeError:
        return numba.njit(cache=False, nogil=True)(func)


@_compiled
def radix_argsort(keys: np.ndarray, order: np.ndarray) -> np.ndarray:  # pragma: no cover - compiled
    """Sort ``order`` stably by ``keys`` ascending (``keys[i]`` is the key of ``order[i]``).

    Args:
        keys: uint64 keys, one per entry of ``order``.
        order: int64 row indices in their current order (the order ties keep).

    Returns:
        int64 array: ``order`` rearranged so that the keys ascend, ties in their former order.
    """
    n = keys.size
    counts = np.zeros((_N_DIGITS, _N_BUCKETS), dtype=np.int64)
    mask = np.uint64(_N_BUCKETS - 1)
    for i in range(n):
        k = keys[i]
        for d in range(_N_DIGITS):
            counts[d, np.int64((k >> np.uint64(d * _DIGIT_BITS)) & mask)] += 1
    key_a = keys.copy()
    row_a = order.copy()
    key_b = np.empty_like(key_a)
    row_b = np.empty_like(row_a)
    offset = np.empty(_N_BUCKETS, dtype=np.int64)
    for d in range(_N_DIGITS):
        constant = False
        for b in range(_N_BUCKETS):
            if counts[d, b] == n:
                constant = True
                break
        if constant:  # every key has the same digit here: the pass would not move anything
            continue
        total = 0
        for b in range(_N_BUCKETS):
            offset[b] = total
            total += counts[d, b]
        shift = np.uint64(d * _DIGIT_BITS)
        for i in range(n):
            b = np.int64((key_a[i] >> shift) & mask)
            j = offset[b]
            offset[b] = j + 1
            key_b[j] = key_a[i]
            row_b[j] = row_a[i]
        key_a, key_b = key_b, key_a
        row_a, row_b = row_b, row_a
    return row_a


@_compiled
def greedy_pass(
    need: np.ndarray,
    helper: np.ndarray,
    weight: np.ndarray,
    hours: np.ndarray,
    capacity: np.ndarray,
    tie: np.ndarray,
    random_tie: bool,
) -> np.ndarray:  # pragma: no cover - compiled
    """Compute the sequential greedy matching: the candidate edge each need goes to.

    Args:
        need: int64 need index of each candidate edge.
        helper: int64 helper index of each edge.
        weight: float64 weight of each edge, finite and > 0.
        hours: float64 hours of each need.
        capacity: float64 hours each helper has left (not modified).
        tie: int64 permutation of the edges that orders ties in weight (the first comes first);
            used only when ``random_tie``.
        random_tie: Break ties by ``tie``; if False, by helper index, then need index, then row.

    Returns:
        int64 array of shape ``(n_needs,)``: the edge each need is matched along, -1 if none.
    """
    n_edges = need.size
    if random_tie:
        order = tie.copy()
    else:
        order = np.arange(n_edges)
        key = np.empty(n_edges, dtype=np.uint64)
        for i in range(n_edges):
            key[i] = np.uint64(need[i])
        order = radix_argsort(key, order)
        for i in range(n_edges):
            key[i] = np.uint64(helper[order[i]])
        order = radix_argsort(key, order)
    # weight descending: the complement of the bits of a positive float64 ascends as the weight falls
    bits = weight.view(np.uint64)
    key = np.empty(n_edges, dtype=np.uint64)
    for i in range(n_edges):
        key[i] = ~bits[order[i]]
    order = radix_argsort(key, order)

    remaining = capacity.copy()
    matched = np.full(hours.size, -1, dtype=np.int64)
    for i in range(n_edges):
        e = order[i]
        n = need[e]
        if matched[n] < 0:
            h = helper[e]
            if hours[n] <= remaining[h]:
                matched[n] = e
                remaining[h] -= hours[n]
    return matched


@_compiled
def local_helpers(helper: np.ndarray, requester: np.ndarray, hours: np.ndarray, weekly: np.ndarray,
                  marks: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # pragma: no cover - compiled
    """Return the week's candidate helpers numbered 0, 1, ... and their hours left for the week.

    Args:
        helper: int64 helper slot of each candidate edge.
        requester: int64 requester slot of each open need (-1: gone).
        hours: float32 hours of each open need.
        weekly: float64 weekly hours of every slot.
        marks: int64 zeros, one per slot (a scratch array, :meth:`~kyojosim.core.population.Population.slot_marks`):
            each helper's number plus one is kept in it while the pass runs; it is left all zeros again.

    Returns:
        ``(slots, local, capacity)``: the distinct helper slots in the order they first appear, each edge's
        helper as an index into them, and each one's hours left: its weekly hours less the hours of its own
        open needs (summed in the order of the needs, as ``np.bincount`` does), never below 0.
    """
    local = np.empty(helper.size, dtype=np.int64)
    count = 0
    for i in range(helper.size):
        h = helper[i]
        if marks[h] == 0:
            count += 1
            marks[h] = count
        local[i] = marks[h] - 1
    slots = np.empty(count, dtype=np.int64)
    for i in range(helper.size):
        slots[local[i]] = helper[i]
    own = np.zeros(count)
    for j in range(requester.size):
        r = requester[j]
        if r >= 0 and marks[r] > 0:
            own[marks[r] - 1] += np.float64(hours[j])
    capacity = np.empty(count)
    for k in range(count):
        left = weekly[slots[k]] - own[k]
        capacity[k] = left if left > 0.0 else 0.0
    for k in range(count):
        marks[slots[k]] = 0
    return slots, local, capacity


@_compiled
def weigh_candidates(sel: np.ndarray, need: np.ndarray, helper: np.ndarray, weight: np.ndarray,
                     requester: np.ndarray, urgency: np.ndarray, trust: np.ndarray, district: np.ndarray,
                     trust_base: np.float32, other_district: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    # pragma: no cover - compiled
    """Return a channel's candidate edges as the weekly round keeps them: ``(need, helper, weight)``.

    Edge ``e`` is for the open need ``sel[need[e]]``; an edge whose helper is the requester is dropped;
    the others keep their order, and their weight is multiplied by the requester's preference, with the
    arithmetic of :func:`kyojosim.aid.round.preference` (float32 ``(1 + urgency) * (trust_base + trust)``,
    then float64 with the district factor).

    Args:
        sel: int64 index into the open needs of each need the channel was given.
        need: int64 index into ``sel`` of each edge.
        helper: int64 helper slot of each edge.
        weight: The channel's weight of each edge.
        requester: int64 requester slot of each open need.
        urgency: float32 urgency of each open need.
        trust: float32 trust of every slot (offline or online, as the channel's ``trust_kind``).
        district: District of every slot.
        trust_base: ``helping.trust_weight_base`` as float32.
        other_district: ``helping.other_district_factor``.
    """
    n_keep = 0
    for e in range(need.size):
        if helper[e] != requester[sel[need[e]]]:
            n_keep += 1
    out_need = np.empty(n_keep, dtype=np.int64)
    out_helper = np.empty(n_keep, dtype=np.int64)
    out_weight = np.empty(n_keep, dtype=np.float64)
    one = np.float32(1.0)
    k = 0
    for e in range(need.size):
        i = sel[need[e]]
        r = requester[i]
        h = helper[e]
        if h == r:
            continue
        pref = (one + urgency[i]) * (trust_base + trust[r])  # float32, as the array form
        near = 1.0 if district[r] == district[h] else other_district
        out_need[k] = i
        out_helper[k] = h
        out_weight[k] = np.float64(weight[e]) * (np.float64(pref) * near)
        k += 1
    return out_need, out_helper, out_weight


@_compiled
def count_requesters(slot: np.ndarray, age: np.ndarray, district: np.ndarray, edges: np.ndarray, by_age: np.ndarray,
                     by_district: np.ndarray) -> bool:  # pragma: no cover - compiled
    """Add each requester to the counts of their age group and district, in place; ``False`` if one does not fit.

    The counts of ``np.bincount(requester_age_group(age[slot]))`` and ``np.bincount(district[slot])``, in one
    pass. Nothing is added if a requester's district is outside ``by_district``.

    Args:
        slot: int64 requester slots.
        age: Age of every slot.
        district: District of every slot.
        edges: The ages at which the second and third age groups begin (:data:`kyojosim.constants.REQUESTER_AGE_EDGES`).
        by_age: int64 counts of the three age groups.
        by_district: int64 counts of the districts.
    """
    n_d = by_district.size
    for i in range(slot.size):
        d = district[slot[i]]
        if d < 0 or d >= n_d:
            return False
    young, old = edges[0], edges[1]
    for i in range(slot.size):
        s = slot[i]
        a = age[s]
        by_age[(1 if a >= young else 0) + (1 if a >= old else 0)] += 1
        by_district[district[s]] += 1
    return True


@_compiled
def count_unmet_old(requester: np.ndarray, matched: np.ndarray, age: np.ndarray, min_age: int,
                    marks: np.ndarray) -> int:  # pragma: no cover - compiled
    """Return how many distinct requesters of the needs not ``matched`` are ``min_age`` or older (-1: not slots).

    ``np.count_nonzero(age[np.unique(requester[~matched])] >= min_age)`` in one pass over the needs, the old
    requesters marked in ``marks`` (int64 zeros, one at least per slot; left all zeros again). -1, nothing
    counted, if a requester is outside ``0 .. age.size - 1``.
    """
    n = age.size
    for i in range(requester.size):
        if not matched[i] and not 0 <= requester[i] < n:
            return -1
    found = np.empty(requester.size, dtype=np.int64)
    k = 0
    for i in range(requester.size):
        if matched[i]:
            continue
        s = requester[i]
        if age[s] >= min_age and marks[s] == 0:
            marks[s] = 1
            found[k] = s
            k += 1
    for j in range(k):
        marks[found[j]] = 0
    return k


@_compiled
def channel_month_counts(surfaced: np.ndarray, met_bit: np.ndarray, answered: np.ndarray, closed_matched: np.ndarray,
                         closed_lapsed: np.ndarray, bits: np.ndarray) -> np.ndarray:  # pragma: no cover - compiled
    """Return the week's counts of each channel (rows, one per bit of ``bits``) for the ``channel_months`` table.

    Columns, as :data:`kyojosim.aid.round.MONTH_COUNTS` orders them: the new needs whose ``surfaced`` bits hold the
    channel's bit, the needs met through it (``met_bit`` equal to it), those of them answered by its office
    (``answered`` equal to it), and the needs matched or lapsed whose surfaced bits hold it (``closed_matched``,
    ``closed_lapsed``): the sums of ``(surfaced & bit) > 0``, ``met_bit == bit`` and so on, one pass over each list.
    """
    n_bits = bits.size
    out = np.zeros((n_bits, 5), dtype=np.int64)
    for i in range(surfaced.size):
        for k in range(n_bits):
            out[k, 0] += np.int64((np.int64(surfaced[i]) & bits[k]) != 0)
    for i in range(met_bit.size):
        for k in range(n_bits):
            out[k, 1] += np.int64(np.int64(met_bit[i]) == bits[k])
    for i in range(answered.size):
        for k in range(n_bits):
            out[k, 2] += np.int64(np.int64(answered[i]) == bits[k])
    for i in range(closed_matched.size):
        for k in range(n_bits):
            out[k, 3] += np.int64((np.int64(closed_matched[i]) & bits[k]) != 0)
    for i in range(closed_lapsed.size):
        for k in range(n_bits):
            out[k, 4] += np.int64((np.int64(closed_lapsed[i]) & bits[k]) != 0)
    return out
