"""Compiled kernels of the monthly つながり力 record (numba; see :mod:`kyojosim.compiled`).

* :func:`memberships`: every living membership as ``(slot, community, online)``, in the order of
  ``np.nonzero`` over the (slot, kind) tables (real-world kinds first, then online kinds);
* :func:`frame_counts` and :func:`frame_memberships`: at the turn of the year, the survey frame, its groups
  (participation, age group, district) and the memberships with the communities that have members numbered
  ``0..k-1`` (in order of first appearance), so that the monthly pass sums into small arrays;
* :func:`group_places`: where each value goes when several groupings of the same values are put side by
  side group by group (for the frame: counted once a year), :func:`scatter_places` puts them there;
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

__all__ = ["frame_counts", "frame_memberships", "group_places", "index_values", "memberships", "scatter_by_group",
           "scatter_places", "segment_summary"]


@compiled
def memberships(groups: np.ndarray, online: np.ndarray, alive: np.ndarray, district: np.ndarray, bits: np.ndarray,
                n_offline: int, n_districts: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # pragma: no cover
    """Return ``(slot, community, online)`` of every membership of a living slot.

    Real-world memberships first (slot by slot, kind by kind within a slot): community ``kind * (n_offline //
    kinds) + group`` for ``groups[slot, kind] >= 0``; then online ones (slot by slot, in the order of ``bits``):
    community ``n_offline + j * n_districts + district[slot]`` where ``online[slot] & bits[j]``. The same
    arrays, in the same order, as ``np.nonzero`` over the two (slot, kind) tables.
    """
    n, k = groups.shape
    width = n_offline // k if k else 0
    n_off = 0
    n_on = 0
    for s in range(n):  # counted without branches
        live = np.int64(alive[s])
        row = 0
        for j in range(k):
            row += np.int64(groups[s, j] >= 0)
        n_off += live * row
        x = online[s]
        row = 0
        for j in range(bits.size):
            row += np.int64((x & bits[j]) != 0)
        n_on += live * row
    slot = np.empty(n_off + n_on, dtype=np.int64)
    comm = np.empty(n_off + n_on, dtype=np.int64)
    is_online = np.zeros(n_off + n_on, dtype=np.bool_)
    i = 0
    o = n_off
    for s in range(n):
        if alive[s]:
            for j in range(k):
                g = groups[s, j]
                if g >= 0:
                    slot[i] = s
                    comm[i] = j * width + np.int64(g)
                    i += 1
            x = online[s]
            if x:
                for j in range(bits.size):
                    if x & bits[j]:
                        slot[o] = s
                        comm[o] = n_offline + j * n_districts + np.int64(district[s])
                        is_online[o] = True
                        o += 1
    return slot, comm, is_online


@compiled
def index_values(off_0: np.ndarray, off_1: np.ndarray, on_0: np.ndarray, on_1: np.ndarray, mean: np.ndarray,
                 weight: np.ndarray, slot: np.ndarray, comm: np.ndarray, n_offline: int, count: np.ndarray,
                 at: np.ndarray, n_frame: int, shift: float) -> np.ndarray:  # pragma: no cover - compiled
    """Return the つながり力 of the frame residents on a fixed scale.

    A member's consciousness is ``sum_k weight[j, k] * (item_k - mean[j, k])`` with ``j`` 0 offline (the
    items ``off_0``, ``off_1``) and 1 online (``on_0``, ``on_1``); a community's tie strength is the mean
    consciousness of its members (the sum in the order of the memberships, over the number of members); a
    resident's つながり力 is the sum of the strengths of its communities (in the order of the memberships) plus
    ``shift``.

    Args:
        off_0: float32 first offline item of every slot (``off_1`` the second).
        off_1: float32 second offline item.
        on_0: float32 first online item of every slot (``on_1`` the second).
        on_1: float32 second online item.
        mean: float64 (2 x 2): the items' means, offline (row 0) and online (row 1).
        weight: float64 (2 x 2): the items' weights (loading / sd / sqrt(eigenvalue)).
        slot: member's slot of each membership (an integer array).
        comm: community of each membership, numbered ``0..k-1``, the real-world ones first (below ``n_offline``).
        n_offline: Number of real-world communities (the member's offline consciousness counts in them, the online
            one in the others).
        count: float64 number of members of each community.
        at: each membership's resident's place among the frame residents (-1 outside the frame).
        n_frame: Number of frame residents (the values returned).
        shift: The constant added to every sum.
    """
    n_comm = count.size
    total = np.zeros(n_comm)
    for j in range(slot.size):
        s = slot[j]
        c = comm[j]
        if c >= n_offline:
            score = (weight[1, 0] * (np.float64(on_0[s]) - mean[1, 0])
                     + weight[1, 1] * (np.float64(on_1[s]) - mean[1, 1]))
        else:
            score = (weight[0, 0] * (np.float64(off_0[s]) - mean[0, 0])
                     + weight[0, 1] * (np.float64(off_1[s]) - mean[0, 1]))
        total[c] += score
    for c in range(n_comm):
        total[c] = total[c] / count[c]
    out = np.zeros(n_frame)
    for j in range(slot.size):
        i = at[j]
        if i >= 0:
            out[i] += total[comm[j]]
    for i in range(n_frame):
        out[i] += shift
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


@compiled
def frame_counts(groups: np.ndarray, online: np.ndarray, alive: np.ndarray, age: np.ndarray, district: np.ndarray,
                 bits: np.ndarray, min_age: int) -> tuple[np.ndarray, np.ndarray]:  # pragma: no cover - compiled
    """Return what :func:`frame_memberships` needs to size its arrays, in one pass over the slots.

    ``(base, counts)``: ``base[j] + group`` is the place of group ``group`` of kind ``j`` in a table of the
    real-world communities (each kind with a group takes ``largest - smallest + 1`` places, over every slot), and
    ``counts``
    ``[largest district (-1 with no slot), real-world memberships, online memberships, frame residents,
    size of the table]`` (memberships and frame over the living slots; the frame: aged ``min_age`` or over).
    """
    n, k = groups.shape
    big = np.iinfo(np.int64).max
    low = np.full(k, big, dtype=np.int64)
    high = np.full(k, -1, dtype=np.int64)
    d_max = -1
    n_off = 0
    n_on = 0
    n_frame = 0
    for s in range(n):
        live = np.int64(alive[s])
        row = 0
        for j in range(k):
            g = np.int64(groups[s, j])
            if g >= 0:
                low[j] = min(low[j], g)
                high[j] = max(high[j], g)
                row += 1
        n_off += live * row
        x = online[s]
        row = 0
        for j in range(bits.size):
            row += np.int64((x & bits[j]) != 0)
        n_on += live * row
        n_frame += live * np.int64(age[s] >= min_age)
        d_max = max(d_max, np.int64(district[s]))
    base = np.zeros(k, dtype=np.int64)
    size = 0
    for j in range(k):
        if high[j] >= 0:
            base[j] = size - low[j]
            size += high[j] - low[j] + 1
    return base, np.array([d_max, n_off, n_on, n_frame, size], dtype=np.int64)


@compiled
def frame_memberships(groups: np.ndarray, online: np.ndarray, alive: np.ndarray, age: np.ndarray,
                      district: np.ndarray, bits: np.ndarray, min_age: int, n_decades: int, code: np.ndarray,
                      base: np.ndarray, size: int, n_districts: int, n_off: int, slot: np.ndarray, comm: np.ndarray,
                      at: np.ndarray, frame: np.ndarray,
                      labels: np.ndarray) -> tuple[int, np.ndarray]:  # pragma: no cover - compiled
    """Fill the memberships and the survey frame of :class:`~kyojosim.measures.tsunagari.FrameGroups` in one pass.

    ``slot`` and ``comm`` (sized by :func:`frame_counts`; ``n_off`` real-world memberships) receive every living
    membership as :func:`memberships` lists them (real-world ones slot by slot and kind by kind, then online ones
    slot by slot in the order of ``bits``), with the communities that have members numbered ``0..k-1`` in order
    of first appearance (real-world ones first); ``base`` and ``size`` from :func:`frame_counts` place each
    real-world community in a table. ``frame`` receives the living slots aged ``min_age`` or over, in order,
    ``at`` the place in ``frame`` of each membership's slot (-1 outside it), and ``labels`` one row per frame
    slot: its participation group (``code[2 * offline + online]``: offline if in a real-world community, online
    if any bit of ``online`` is set), its ten-year age group from ``min_age`` (capped at ``n_decades - 1``) and
    its district.

    Returns:
        The number of real-world communities with members and every community's number of members (float64).
    """
    n, k = groups.shape
    n_bits = bits.size
    table_off = np.full((size, 2), -1, dtype=np.int32)  # (number, members) side by side: one cache line
    table_on = np.full((n_bits * n_districts, 2), -1, dtype=np.int32)
    k_off = 0
    k_on = 0
    i = 0
    o = n_off
    f = 0
    for s in range(n):
        if not alive[s]:
            continue
        in_frame = age[s] >= min_age
        place = f if in_frame else -1
        off = 0
        for j in range(k):
            g = np.int64(groups[s, j])
            if g >= 0:
                c = base[j] + g
                if table_off[c, 0] < 0:
                    table_off[c, 0] = k_off
                    table_off[c, 1] = 0
                    k_off += 1
                slot[i] = s
                at[i] = place
                comm[i] = table_off[c, 0]
                table_off[c, 1] += 1
                i += 1
                off = 1
        x = online[s]
        if x:
            for j in range(n_bits):
                if x & bits[j]:
                    c = j * n_districts + np.int64(district[s])
                    if table_on[c, 0] < 0:
                        table_on[c, 0] = k_on
                        table_on[c, 1] = 0
                        k_on += 1
                    slot[o] = s
                    at[o] = place
                    comm[o] = table_on[c, 0]  # the real-world communities' number added below
                    table_on[c, 1] += 1
                    o += 1
        if in_frame:
            frame[f] = s
            labels[f, 0] = code[2 * off + (1 if x > 0 else 0)]
            labels[f, 1] = min((np.int64(age[s]) - min_age) // 10, n_decades - 1)
            labels[f, 2] = district[s]
            f += 1
    for j in range(n_off, slot.size):
        comm[j] += k_off
    count = np.empty(k_off + k_on)
    for c in range(size):
        if table_off[c, 0] >= 0:
            count[table_off[c, 0]] = table_off[c, 1]
    for c in range(n_bits * n_districts):
        if table_on[c, 0] >= 0:
            count[k_off + table_on[c, 0]] = table_on[c, 1]
    return k_off, count


@compiled
def group_places(labels: np.ndarray, sizes: np.ndarray,
                 everyone: bool = True) -> tuple[np.ndarray, np.ndarray]:  # pragma: no cover - compiled
    """Return where each value goes when the values of several groupings are put side by side, group by group.

    Column ``r`` of ``labels`` (one row per value) gives the group (``0..sizes[r] - 1``, or -1 for none) of
    each value in grouping ``r``; the groups of grouping 0 come first, then those of grouping 1, and so on,
    each holding its values in their order. With ``everyone``, a first group holds every value, at
    ``0..n-1``. ``(place, start)``: ``place[r, i]`` is the position of value ``i`` in its group of grouping
    ``r`` (-1 for none; int32: the values of all groups together must number less than 2**31), ``start`` the
    start of each group (``start[i]:start[i + 1]`` is the ``i``-th group overall). The same positions for any
    values: kept while the groups stay the same, :func:`scatter_places` then puts the values there without
    counting them again.
    """
    n, n_rows = labels.shape
    first = 1 if everyone else 0
    offset = np.zeros(n_rows + 1, dtype=np.int64)
    offset[0] = first
    for r in range(n_rows):
        offset[r + 1] = offset[r] + sizes[r]
    total = offset[n_rows]
    start = np.zeros(total + 1, dtype=np.int64)
    if everyone:
        start[1] = n
    for i in range(n):
        for r in range(n_rows):
            g = labels[i, r]
            if g >= 0:
                start[offset[r] + g + 1] += 1
    for g in range(total):
        start[g + 1] += start[g]
    fill = start[:total].copy()
    place = np.empty((n_rows, n), dtype=np.int32)  # the caller keeps ``start[-1]`` below 2**31
    for i in range(n):
        for r in range(n_rows):
            g = labels[i, r]
            if g >= 0:
                c = offset[r] + g
                place[r, i] = fill[c]
                fill[c] += 1
            else:
                place[r, i] = -1
    return place, start


@compiled
def scatter_places(values: np.ndarray, place: np.ndarray, size: int,
                   everyone: bool = True) -> np.ndarray:  # pragma: no cover - compiled
    """Return the ``size`` values of every group side by side, put at the places of :func:`group_places`.

    ``everyone`` as given to :func:`group_places`: the first group, every value in order, at ``0..n-1``.
    """
    out = np.empty(size)
    n = values.size
    if everyone:
        for i in range(n):
            out[i] = values[i]
    for r in range(place.shape[0]):
        for i in range(n):
            at = place[r, i]
            if at >= 0:
                out[at] = values[i]
    return out
