"""Compiled kernels of the monthly つながり力 record (numba; see :mod:`kyojosim.compiled`).

* :func:`index_values`: every frame resident's つながり力 on a fixed scale in one pass over the
  memberships (consciousness of each member, the mean of each community, the sum over a resident's
  communities, plus the constant);
* :func:`scatter_by_group`: the values of each group side by side (a counting sort by group), to be
  sorted segment by segment;
* :func:`segment_summary`: the number, mean and quantiles of each sorted segment; quantiles by numpy's
  default (``linear``) method, with its arithmetic, so that they equal ``np.percentile`` to the bit.
"""

from __future__ import annotations

import numpy as np

from ..compiled import compiled

__all__ = ["index_values", "scatter_by_group", "segment_summary"]


@compiled
def index_values(off_0: np.ndarray, off_1: np.ndarray, on_0: np.ndarray, on_1: np.ndarray, mean: np.ndarray,
                 weight: np.ndarray, slot: np.ndarray, comm: np.ndarray, online: np.ndarray, n_comm: int,
                 n_slots: int, frame: np.ndarray, shift: float) -> np.ndarray:  # pragma: no cover - compiled
    """Return the つながり力 of the ``frame`` slots on a fixed scale.

    A member's consciousness is ``sum_k weight[j, k] * (item_k - mean[j, k])`` with ``j`` 0 offline (the
    items ``off_0``, ``off_1``) and 1 online (``on_0``, ``on_1``); a community's tie strength is the mean
    consciousness of its members; a resident's つながり力 is the sum of the strengths of its communities
    plus ``shift``.

    Args:
        off_0: float32 first offline item of every slot (``off_1`` the second).
        off_1: float32 second offline item.
        on_0: float32 first online item of every slot (``on_1`` the second).
        on_1: float32 second online item.
        mean: float64 (2 x 2): the items' means, offline (row 0) and online (row 1).
        weight: float64 (2 x 2): the items' weights (loading / sd / sqrt(eigenvalue)).
        slot: int64 member's slot of each membership.
        comm: int64 community of each membership.
        online: bool, whether the community is an online one (the member's online consciousness counts).
        n_comm: Number of communities (size of the community index).
        n_slots: Number of slots.
        frame: int64 slots to return the index of.
        shift: The constant added to every sum.
    """
    total = np.zeros(n_comm)
    count = np.zeros(n_comm)
    for j in range(slot.size):
        s = slot[j]
        if online[j]:
            score = (weight[1, 0] * (np.float64(on_0[s]) - mean[1, 0])
                     + weight[1, 1] * (np.float64(on_1[s]) - mean[1, 1]))
        else:
            score = (weight[0, 0] * (np.float64(off_0[s]) - mean[0, 0])
                     + weight[0, 1] * (np.float64(off_1[s]) - mean[0, 1]))
        total[comm[j]] += score
        count[comm[j]] += 1.0
    raw = np.zeros(n_slots)
    for j in range(slot.size):
        c = comm[j]
        raw[slot[j]] += total[c] / count[c]
    out = np.empty(frame.size)
    for i in range(frame.size):
        out[i] = raw[frame[i]] + shift
    return out


@compiled
def scatter_by_group(values: np.ndarray, group: np.ndarray,
                     n_groups: int) -> tuple[np.ndarray, np.ndarray]:  # pragma: no cover - compiled
    """Return the values grouped by group, and where each group starts.

    ``out[start[g]:start[g + 1]]`` are the values of group ``g``, in their order; values of group -1 are
    left out.
    """
    start = np.zeros(n_groups + 1, dtype=np.int64)
    for i in range(values.size):
        g = group[i]
        if g >= 0:
            start[g + 1] += 1
    for g in range(n_groups):
        start[g + 1] += start[g]
    fill = start[:n_groups].copy()
    out = np.empty(start[n_groups])
    for i in range(values.size):
        g = group[i]
        if g >= 0:
            out[fill[g]] = values[i]
            fill[g] += 1
    return out, start


@compiled
def segment_summary(x: np.ndarray, start: np.ndarray,
                    q: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # pragma: no cover - compiled
    """Return ``(count, mean, quantiles)`` of each segment ``x[start[g]:start[g + 1]]``, each sorted ascending.

    Quantiles (``q`` as fractions) by the ``linear`` method of ``np.percentile``, with its arithmetic; the
    mean and the quantiles of an empty segment are ``nan``.
    """
    n_groups = start.size - 1
    count = np.zeros(n_groups, dtype=np.int64)
    mean = np.full(n_groups, np.nan)
    quant = np.full((n_groups, q.size), np.nan)
    for g in range(n_groups):
        lo_, hi_ = start[g], start[g + 1]
        m = hi_ - lo_
        count[g] = m
        if m == 0:
            continue
        total = 0.0
        for i in range(lo_, hi_):
            total += x[i]
        mean[g] = total / m
        for k in range(q.size):
            virtual = (m - 1) * q[k]
            if virtual >= m - 1:  # the last value (numpy's bound)
                quant[g, k] = x[hi_ - 1]
                continue
            below = np.floor(virtual)
            gamma = virtual - below
            a = x[lo_ + np.int64(below)]
            b = x[lo_ + np.int64(below) + 1]
            diff = b - a
            if gamma >= 0.5:
                quant[g, k] = b - diff * (1.0 - gamma)
            else:
                quant[g, k] = a + diff * gamma
    return count, mean, quant
