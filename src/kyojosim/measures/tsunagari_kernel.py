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
  default (``linear``) method, with its arithmetic, so that they equal ``np.percentile`` to the bit;
* :func:`class_keys`, :func:`hash_classes`, :func:`class_lists` (and :func:`exact_classes` when hashes
  collide): at the turn of the year, the frame residents in classes of the same participation group and list
  of communities (one つながり力 each), in runs of one age group and district;
* :func:`community_means`, :func:`class_values` and :func:`ordered_summary`: the monthly record from the
  classes: each community's strength, each class's value, then every group's count, mean and quantiles in
  one walk over the classes in the order of their values (:func:`reorder_classes` numbers them in that order
  once a year, so that the walk reads the classes nearly in order).
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
        n_on += live * _bits_set(online[s], bits)
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
    total = community_means(off_0, off_1, on_0, on_1, mean, weight, slot, comm, n_offline, count)
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
            quant[g, k] = _between(a, b, gamma)
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
        n_on += live * _bits_set(online[s], bits)
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


@compiled
def community_means(off_0: np.ndarray, off_1: np.ndarray, on_0: np.ndarray, on_1: np.ndarray, mean: np.ndarray,
                    weight: np.ndarray, slot: np.ndarray, comm: np.ndarray, n_offline: int,
                    count: np.ndarray) -> np.ndarray:  # pragma: no cover - compiled
    """Return every community's tie strength on a fixed scale: the mean consciousness of its members.

    The first half of :func:`index_values` (same arguments, same sums in the order of the memberships): a
    member's consciousness is ``sum_k weight[j, k] * (item_k - mean[j, k])``, ``j`` 0 in the real-world
    communities (below ``n_offline``) and 1 in the online ones; the sum over a community's members is divided
    by ``count``.
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
    return total


@compiled
def class_keys(comm: np.ndarray, at: np.ndarray, labels: np.ndarray, span: int, label_bits: int,
               index_bits: int, hash_bits: int = 64) -> tuple[np.ndarray, np.ndarray]:  # pragma: no cover
    """Return a sort key of every frame resident that brings residents of the same communities together.

    A frame resident's list is its communities in the order of the memberships (``comm[j]`` for the memberships
    ``j`` with ``at[j]`` its place; ``at`` -1 outside the frame). The key of resident ``i`` holds, from the top, a
    hash of its participation group ``labels[i, 0]`` and its list, then its label ``(labels[i, 1] + 1) * span +
    labels[i, 2] + 1`` (age group and district; ``label_bits`` bits) and then ``i`` (``index_bits`` bits):
    sorted, residents of equal hash come together, by label, then in order. Residents of the same group and list
    have the same hash; residents of equal hash need not have the same list. Only the top ``hash_bits`` bits of
    the hash are kept (fewer make residents of different lists share a hash).

    Returns:
        ``(keys, size)``: the keys and the length of each resident's list.
    """
    n_frame = labels.shape[0]
    mult = np.uint64(0x9E3779B97F4A7C15)
    h = np.full(n_frame + 1, np.uint64(0x632BE59BD9B4E019))  # the last one collects the memberships outside
    size = np.zeros(n_frame + 1, dtype=np.int64)
    for j in range(comm.size):  # in the order of the memberships; no branch on the resident
        i = np.int64(at[j])
        i = i if i >= 0 else n_frame
        x = (h[i] ^ np.uint64(comm[j])) * mult
        h[i] = x ^ (x >> np.uint64(29))
        size[i] += 1
    keys = np.empty(n_frame, dtype=np.uint64)
    low = index_bits + label_bits
    keep = ~np.uint64(0) << np.uint64(64 - hash_bits) if 0 < hash_bits < 64 else np.uint64(0)
    if hash_bits >= 64:
        keep = ~np.uint64(0)
    for i in range(n_frame):
        x = (h[i] ^ (np.uint64(labels[i, 0]) << np.uint64(48)) ^ np.uint64(size[i])) * mult
        x = (x ^ (x >> np.uint64(32))) & keep
        top = (x >> np.uint64(low)) << np.uint64(low) if low < 64 else np.uint64(0)
        label = (np.int64(labels[i, 1]) + 1) * span + np.int64(labels[i, 2]) + 1
        keys[i] = top | (np.uint64(label) << np.uint64(index_bits)) | np.uint64(i)
    return keys, size[:n_frame]


@compiled
def hash_classes(keys: np.ndarray, labels: np.ndarray, size: np.ndarray, label_bits: int,
                 index_bits: int) -> tuple[np.ndarray, ...]:  # pragma: no cover - compiled
    """Split the frame residents into classes of equal hash (:func:`class_keys`), in runs of one label.

    Walks the sorted ``keys`` (without branches): a resident opens a new class if its hash differs from the
    resident's before it, a new run if its label does. Each class takes the participation group (``labels[:, 0]``)
    and list length of its resident of the smallest place; :func:`class_lists` then checks that every resident of
    a class has them and the same list.

    Returns:
        ``(cls, first, class_part, comm_start, run_start, run_count, run_label)``: each resident's class (int32),
        each class's resident of the smallest place, participation group, start of its list in the classes'
        lists (``comm_start[c]:comm_start[c + 1]``) and runs (``run_start[c]:run_start[c + 1]``), each run's
        number of residents and label.
    """
    n = keys.size
    low = index_bits + label_bits
    index_mask = np.uint64((1 << index_bits) - 1)
    label_mask = np.uint64((1 << label_bits) - 1)
    top_mask = ~np.uint64(0) << np.uint64(low) if low < 64 else np.uint64(0)
    hash_mask = top_mask | (label_mask << np.uint64(index_bits))
    n_cls = 0
    n_runs = 0
    for t in range(n):  # count first: the arrays are allocated to size
        n_cls += np.int64(t == 0 or (keys[t] & top_mask) != (keys[t - 1] & top_mask))
        n_runs += np.int64(t == 0 or (keys[t] & hash_mask) != (keys[t - 1] & hash_mask))
    cls = np.empty(n, dtype=np.int32)
    first = np.full(n_cls, n, dtype=np.int64)
    run_start = np.zeros(n_cls + 1, dtype=np.int64)
    run_count = np.zeros(n_runs, dtype=np.int64)
    run_label = np.empty(n_runs, dtype=np.int64)
    c = -1
    r = -1
    before = ~keys[0] if n else np.uint64(0)
    for t in range(n):
        key = keys[t]
        i = np.int64(key & index_mask)
        c += np.int64((key & top_mask) != (before & top_mask))
        r += np.int64((key & hash_mask) != (before & hash_mask))
        run_label[r] = np.int64((key >> np.uint64(index_bits)) & label_mask)
        run_start[c + 1] = r + 1
        run_count[r] += 1
        first[c] = min(first[c], i)
        cls[i] = c
        before = key
    class_part = np.empty(n_cls, dtype=np.int64)
    comm_start = np.zeros(n_cls + 1, dtype=np.int64)
    for c in range(n_cls):
        class_part[c] = labels[first[c], 0]
        comm_start[c + 1] = comm_start[c] + size[first[c]]
    return cls, first, class_part, comm_start, run_start, run_count, run_label


@compiled
def class_lists(comm: np.ndarray, at: np.ndarray, cls: np.ndarray, first: np.ndarray, labels: np.ndarray,
                class_part: np.ndarray, size: np.ndarray,
                comm_start: np.ndarray) -> tuple[np.ndarray, bool]:  # pragma: no cover - compiled
    """Return each class's list of communities, and whether every resident of a class has its group and list.

    One pass over the memberships in order (each resident's list in its order): the class's resident of the
    smallest place (``first``) writes the list, which every other resident of the class is compared with in
    full (after it: it comes first), together with its participation group (``labels[:, 0]``) and list length.
    """
    n_frame = cls.size
    n_cls = class_part.size
    total = comm_start[-1]
    out = np.empty(total + 1, dtype=comm.dtype)  # the last place takes the writes of the others
    info = np.empty((n_cls, 3), dtype=np.int64)  # each class's group and length, first resident and start
    for c in range(n_cls):
        info[c, 0] = (comm_start[c + 1] - comm_start[c]) * 8 + class_part[c]
        info[c, 1] = first[c]
        info[c, 2] = comm_start[c]
    write = np.empty(n_frame + 1, dtype=np.int64)  # where each resident's list is written (the last place if not)
    read = np.empty(n_frame + 1, dtype=np.int64)  # and read
    write[n_frame] = total  # memberships outside the frame
    read[n_frame] = total
    bad = 0
    for i in range(n_frame):
        c = cls[i]
        part = np.int64(labels[i, 0])
        bad += np.int64(info[c, 0] != size[i] * 8 + (part & 7)) + np.int64(part != (part & 7))
        write[i] = info[c, 2] if info[c, 1] == i else total
        read[i] = info[c, 2]
    if bad:
        return out[:total], False
    out[total] = 0
    for j in range(comm.size):
        i = np.int64(at[j])
        i = i if i >= 0 else n_frame
        w = write[i]
        out[w] = comm[j]
        k = read[i]
        bad += np.int64(out[k] != comm[j])
        write[i] = w + np.int64(w < total)
        read[i] = k + np.int64(i < n_frame)
    return out[:total], bad == 0


@compiled
def exact_classes(keys: np.ndarray, comm: np.ndarray, at: np.ndarray, n_off: int, labels: np.ndarray, label_bits: int,
                  index_bits: int) -> tuple[np.ndarray, ...]:  # pragma: no cover - compiled
    """Split the frame residents into classes of the same participation group and list, comparing lists in full.

    The result of :func:`hash_classes` and :func:`class_lists` (without ``cls`` and ``first``) when hashes
    collide: walking the sorted ``keys``, a resident opens a new class unless it has the hash, group and list of
    the resident before it (one list may then make more than one class, never two lists one class), a new run
    unless it also has the same label. The memberships below ``n_off`` are the real-world ones (each part in the
    order of the residents).
    """
    n = keys.size
    start = np.zeros(n, dtype=np.int64)  # where each resident's memberships start in each part, and how many
    start2 = np.zeros(n, dtype=np.int64)
    size = np.zeros(n, dtype=np.int64)
    size2 = np.zeros(n, dtype=np.int64)
    for j in range(comm.size):
        i = at[j]
        if i < 0:
            continue
        if j < n_off:
            if size[i] == 0:
                start[i] = j
            size[i] += 1
        else:
            if size2[i] == 0:
                start2[i] = j
            size2[i] += 1
    low = index_bits + label_bits
    index_mask = np.uint64((1 << index_bits) - 1)
    label_mask = np.uint64((1 << label_bits) - 1)
    class_part = np.empty(n, dtype=np.int64)
    comm_start = np.zeros(n + 1, dtype=np.int64)
    class_comm = np.empty(comm.size, dtype=comm.dtype)
    run_start = np.zeros(n + 1, dtype=np.int64)
    run_count = np.zeros(n, dtype=np.int64)
    run_label = np.empty(n, dtype=np.int64)
    n_cls = 0
    n_runs = 0
    prev = -1
    prev_h = np.uint64(0)
    for t in range(n):
        key = keys[t]
        i = np.int64(key & index_mask)
        lab = np.int64((key >> np.uint64(index_bits)) & label_mask)
        h = key >> np.uint64(low) if low < 64 else np.uint64(0)
        same = (prev >= 0 and h == prev_h and labels[i, 0] == labels[prev, 0] and size[i] == size[prev]
                and size2[i] == size2[prev])
        if same:
            for j in range(size[i]):
                if comm[start[i] + j] != comm[start[prev] + j]:
                    same = False
            for j in range(size2[i]):
                if comm[start2[i] + j] != comm[start2[prev] + j]:
                    same = False
        if not same:
            class_part[n_cls] = labels[i, 0]
            run_start[n_cls] = n_runs
            at_ = comm_start[n_cls]
            for j in range(size[i]):
                class_comm[at_ + j] = comm[start[i] + j]
            for j in range(size2[i]):
                class_comm[at_ + size[i] + j] = comm[start2[i] + j]
            comm_start[n_cls + 1] = at_ + size[i] + size2[i]
            n_cls += 1
            run_label[n_runs] = lab
            n_runs += 1
        elif lab != run_label[n_runs - 1]:
            run_label[n_runs] = lab
            n_runs += 1
        run_count[n_runs - 1] += 1
        prev = i
        prev_h = h
    run_start[n_cls] = n_runs
    return (class_part[:n_cls].copy(), comm_start[:n_cls + 1].copy(), class_comm[:comm_start[n_cls]].copy(),
            run_start[:n_cls + 1].copy(), run_count[:n_runs].copy(), run_label[:n_runs].copy())


@compiled
def class_values(strength: np.ndarray, comm_start: np.ndarray, class_comm: np.ndarray,
                 shift: float) -> np.ndarray:  # pragma: no cover - compiled
    """Return the つながり力 of each class: the strengths of its communities summed in order from 0, plus ``shift``.

    The same additions as :func:`index_values` makes for each resident of the class.
    """
    n = comm_start.size - 1
    out = np.zeros(n)
    for c in range(n):
        v = 0.0
        for j in range(comm_start[c], comm_start[c + 1]):
            v += strength[class_comm[j]]
        out[c] = v + shift
    return out


@compiled
def value_keys(values: np.ndarray) -> tuple[np.ndarray, int, int, bool]:  # pragma: no cover - compiled
    """Return integer keys whose ascending order sorts ``values``: ``(keys, index_bits, shift, ok)``.

    Each value's bits made to order as unsigned integers (the sign bit flipped, or every bit for a negative value),
    less the smallest, shifted right by ``shift`` so that ``index_bits`` bits are left below for the value's
    index. Sorted, the keys give the values in order except among values whose shifted bits are equal
    (:func:`keyed_order` sorts those). ``ok`` is False if a value is not finite (nothing is keyed then).
    """
    n = values.size
    bits = values.view(np.uint64)
    index_bits = 0
    while (np.int64(1) << index_bits) < n:
        index_bits += 1
    keys = np.empty(n, dtype=np.uint64)
    sign = np.uint64(1) << np.uint64(63)
    lo = ~np.uint64(0)
    hi = np.uint64(0)
    for i in range(n):
        if not np.isfinite(values[i]):
            return keys, index_bits, 0, False
        b = bits[i]
        u = ~b if b & sign else b | sign
        keys[i] = u
        lo = min(lo, u)
        hi = max(hi, u)
    span = hi - lo if n else np.uint64(0)
    shift = 0
    while shift < 64 and (span >> np.uint64(shift)) >> np.uint64(63 - index_bits) > 0:
        shift += 1
    for i in range(n):
        keys[i] = (((keys[i] - lo) >> np.uint64(shift)) << np.uint64(index_bits)) | np.uint64(i)
    return keys, index_bits, shift, True


@compiled
def keyed_order(keys: np.ndarray, values: np.ndarray, index_bits: int,
                shift: int) -> tuple[np.ndarray, bool]:  # pragma: no cover - compiled
    """Return the order of ``values`` from their sorted :func:`value_keys`, and whether it was made.

    The indices in the low ``index_bits`` bits of the sorted keys; values of equal keys (they differ in bits
    shifted out) are put in order of value by insertion. If that takes more than a few moves per value (many
    values too close for their keys), ``False``: the caller sorts otherwise. Equal values come in any order.
    """
    n = keys.size
    order = np.empty(n, dtype=np.int64)
    mask = (np.uint64(1) << np.uint64(index_bits)) - np.uint64(1)
    for t in range(n):
        order[t] = np.int64(keys[t] & mask)
    if shift == 0:
        return order, True
    budget = 8 * n + 64
    for t in range(1, n):
        top = keys[t] >> np.uint64(index_bits)
        if top != keys[t - 1] >> np.uint64(index_bits):
            continue
        c = order[t]
        x = values[c]
        k = t - 1
        while k >= 0 and keys[k] >> np.uint64(index_bits) == top and values[order[k]] > x:
            order[k + 1] = order[k]
            k -= 1
            budget -= 1
        order[k + 1] = c
        if budget < 0:
            return order, False
    return order, True


@compiled
def ordered_summary(values: np.ndarray, order: np.ndarray, class_part: np.ndarray, run_start: np.ndarray,
                    run_count: np.ndarray, run_first: np.ndarray, run_second: np.ndarray, n_part: int, n_first: int,
                    n_second: int, q: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # pragma: no cover
    """Return ``(count, mean, quantiles)`` of every group, walking the classes in the order of their values.

    The groups: everyone, then the ``n_part`` participation groups (``class_part``), then the ``n_first`` groups
    of each run's ``run_first`` label and the ``n_second`` of its ``run_second`` (a label outside ``0..n - 1``
    counts in none). Walking the classes by ``order`` (any order that sorts ``values``, as ``np.argsort(values)``:
    equal values add and record the same whichever comes first) visits every group's values sorted, each resident
    once: the mean adds them in that order from 0 and divides by the count, the quantiles
    (``q`` as fractions) are those of :func:`segment_summary` on the sorted values, to the bit.
    """
    n_groups = 1 + n_part + n_first + n_second
    count = np.zeros(n_groups, dtype=np.int64)
    for c in range(class_part.size):
        g = 1 + class_part[c]
        for r in range(run_start[c], run_start[c + 1]):
            k = run_count[r]
            count[0] += k
            count[g] += k
            a = run_first[r]
            if 0 <= a < n_first:
                count[1 + n_part + a] += k
            b = run_second[r]
            if 0 <= b < n_second:
                count[1 + n_part + n_first + b] += k
    nq = q.size
    rank = np.empty((n_groups, 2 * nq), dtype=np.int64)  # the places each group's quantiles read, ascending
    for g in range(n_groups):
        m = count[g]
        for k in range(nq):
            virtual = (m - 1) * q[k]
            if virtual >= m - 1:
                rank[g, 2 * k] = m - 1
                rank[g, 2 * k + 1] = m - 1
            else:
                below = np.int64(np.floor(virtual))
                rank[g, 2 * k] = below
                rank[g, 2 * k + 1] = below + 1
        rank[g] = np.sort(rank[g])
    got = np.full((n_groups, 2 * nq), np.nan)
    ptr = np.zeros(n_groups, dtype=np.int64)  # each group's next place to record (into rank[g])
    # how many more of a group's values are walked before that place (never reached: none left to record);
    # when it falls below 0, the value walked is recorded at every place passed
    far = np.int64(1) << np.int64(62)
    left = np.full(n_groups, far, dtype=np.int64)
    for g in range(n_groups):
        if 2 * nq > 0:
            left[g] = rank[g, 0]
    total = np.zeros(n_groups)
    for t in range(order.size):
        c = order[t]
        x = values[c]
        p = 1 + class_part[c]
        acc_all = total[0]
        acc_part = total[p]
        size = 0
        for r in range(run_start[c], run_start[c + 1]):
            k = run_count[r]
            size += k
            a = run_first[r]
            b = run_second[r]
            ga = 1 + n_part + a if 0 <= a < n_first else -1
            gb = 1 + n_part + n_first + b if 0 <= b < n_second else -1
            if ga >= 0 and gb >= 0:
                acc_a = total[ga]
                acc_b = total[gb]
                for _ in range(k):
                    acc_all += x
                    acc_part += x
                    acc_a += x
                    acc_b += x
                total[ga] = acc_a
                total[gb] = acc_b
            else:
                for _ in range(k):
                    acc_all += x
                    acc_part += x
                for g in (ga, gb):
                    if g >= 0:
                        acc = total[g]
                        for _ in range(k):
                            acc += x
                        total[g] = acc
            for g in (ga, gb):
                if g >= 0:
                    left[g] -= k
                    if left[g] < 0:  # (rarely) places passed: seen is the number of the group's values walked
                        seen = rank[g, ptr[g]] - left[g]
                        while ptr[g] < 2 * nq and rank[g, ptr[g]] < seen:
                            got[g, ptr[g]] = x
                            ptr[g] += 1
                        left[g] = rank[g, ptr[g]] - seen if ptr[g] < 2 * nq else far
        total[0] = acc_all
        total[p] = acc_part
        for g in (0, p):
            left[g] -= size
            if left[g] < 0:
                seen = rank[g, ptr[g]] - left[g]
                while ptr[g] < 2 * nq and rank[g, ptr[g]] < seen:
                    got[g, ptr[g]] = x
                    ptr[g] += 1
                left[g] = rank[g, ptr[g]] - seen if ptr[g] < 2 * nq else far
    mean = np.full(n_groups, np.nan)
    quant = np.full((n_groups, nq), np.nan)
    for g in range(n_groups):
        m = count[g]
        if m == 0:
            continue
        mean[g] = total[g] / m
        for k in range(nq):
            virtual = (m - 1) * q[k]
            if virtual >= m - 1:
                quant[g, k] = _ranked(rank[g], got[g], m - 1)
                continue
            below = np.floor(virtual)
            gamma = virtual - below
            a = _ranked(rank[g], got[g], np.int64(below))
            b = _ranked(rank[g], got[g], np.int64(below) + 1)
            quant[g, k] = _between(a, b, gamma)
    return count, mean, quant


@compiled(inline=True)
def _bits_set(x: int, bits: np.ndarray) -> int:  # pragma: no cover - compiled
    """Return how many of ``bits`` (one bit each: the online communities) are set in ``x``, without branches."""
    row = 0
    for j in range(bits.size):
        row += np.int64((x & bits[j]) != 0)
    return row


@compiled(inline=True)
def _between(a: float, b: float, gamma: float) -> float:  # pragma: no cover - compiled
    """Return the linear quantile between neighbours ``a`` and ``b`` at ``gamma``, as numpy computes it (``_lerp``)."""
    diff = b - a
    if gamma >= 0.5:
        return b - diff * (1.0 - gamma)
    return a + diff * gamma


@compiled(inline=True)
def _ranked(rank: np.ndarray, got: np.ndarray, r: int) -> float:  # pragma: no cover - compiled
    """Return the value recorded for place ``r`` (one of ``rank``)."""
    for i in range(rank.size):
        if rank[i] == r:
            return got[i]
    return np.nan


@compiled
def reorder_classes(order: np.ndarray, class_part: np.ndarray, comm_start: np.ndarray, class_comm: np.ndarray,
                    run_start: np.ndarray, run_count: np.ndarray, run_first: np.ndarray,
                    run_second: np.ndarray) -> tuple[np.ndarray, ...]:  # pragma: no cover - compiled
    """Return the classes of :func:`hash_classes` numbered anew: class ``t`` is the old class ``order[t]``.

    The same arrays (``class_part``, ``comm_start``, ``class_comm``, ``run_start``, ``run_count``, ``run_first``,
    ``run_second``), each class's list of communities and runs kept in their order.
    """
    n = order.size
    part = np.empty(n, dtype=class_part.dtype)
    c_start = np.zeros(n + 1, dtype=np.int64)
    comm = np.empty(class_comm.size, dtype=class_comm.dtype)
    r_start = np.zeros(n + 1, dtype=np.int64)
    count = np.empty(run_count.size, dtype=run_count.dtype)
    first = np.empty(run_first.size, dtype=run_first.dtype)
    second = np.empty(run_second.size, dtype=run_second.dtype)
    for t in range(n):
        c = order[t]
        part[t] = class_part[c]
        at = c_start[t]
        for j in range(comm_start[c], comm_start[c + 1]):
            comm[at] = class_comm[j]
            at += 1
        c_start[t + 1] = at
        at = r_start[t]
        for r in range(run_start[c], run_start[c + 1]):
            count[at] = run_count[r]
            first[at] = run_first[r]
            second[at] = run_second[r]
            at += 1
        r_start[t + 1] = at
    return part, c_start, comm, r_start, count, first, second
