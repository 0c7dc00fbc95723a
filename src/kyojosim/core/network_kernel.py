"""Compiled kernels of the tie list (numba; see :mod:`kyojosim.compiled`).

* :func:`find_pairs`: where pairs of slots sit in ties sorted by ``(a, b)`` (binary search), so that
  strengthening or adding a few ties touches only them, never the whole list;
* :func:`row_starts` and :func:`find_pairs_indexed`: the same positions found through where each
  slot's ties start (a table kept while the tie columns stay the same), so each search runs only
  within one slot's ties;
* :func:`strengthen_found`: add a gain to the strengths of the ties found, once per occurrence, then cap
  them at 1 (``np.add.at`` and the cap, in one pass over the pairs);
* :func:`csr_of_ties`: the symmetric CSR adjacency of sorted, distinct ties, the same matrix
  ``scipy.sparse.coo_matrix(...).tocsr()`` gives (indices sorted within each row), with the kind of each
  entry beside it: the upper part of each row copied from the ties in their order, the lower part by one
  counting scatter of a packed word per tie (:func:`csr_of_ties_scattered`: three scattered writes per tie,
  for any number of slots); :func:`csr_of_ties_into` and :func:`csr_of_ties_scattered_into` write the same
  into arrays given (last year's, filled again), :func:`csr_and_degree_into` with the degrees of
  :func:`tie_degree` counted in the same passes;
* :func:`remap_ties`: the ties between slots kept by a compaction, renumbered, in one pass
  (:func:`remap_ties_in_place` over its input columns; :func:`keeps_order`: whether that renumbering
  keeps the order of the slots; :func:`compaction_shifts` and :func:`remap_ties_shifted`: the same in place
  from a table of 16-bit words when the renumbering is that of a compaction);
* :func:`masked_degree`: the number of entries of each CSR row whose kinds meet a mask; :func:`tied_and_marked`:
  the number of ties of given slots and how many lead to a marked slot (the local SNS's adopters), read from
  their rows (counted for every slot while the adjacency is built, when asked);
  :func:`tie_degree`: the same counted over the ties (one pass, no row of the adjacency read);
* :func:`merge_ties`: sorted, distinct new pairs merged into the sorted ties in one pass (kinds OR-ed
  and the larger strength kept where a pair is already tied); :func:`merge_ties_into` writes it into arrays
  given, :func:`merge_ties_back` in place, into room after the ties; :func:`tagged_keys` and :func:`merged_tags`:
  the new pairs of several batches (each of one kind and strength) put in that form by one sort of packed words;
* :func:`groups_with_new`: the members of the groups that have a new member, new members first, for
  :func:`kyojosim.core.network.pairs_touching` (the next, of one kind);
* :func:`kinds_groups_with_new`: the same for every column of a group matrix at once (the
  communities of every kind), in passes over its rows;
  :func:`listed_groups`: the layout of its groups of two or more (also used for the joiners' groups
  read from the chapter lists);
* :func:`tied_candidates`: the neighbours of given residents whose code for a category is a given
  value (willing to help free, able to offer on the platform), in the order of the CSR rows;
* :func:`pairs_within`: the ties whose two ends are both in a set, in the order of the list (also numbered
  among the set);
* :func:`pair_values`: the entries of a CSR matrix at given (row, column) pairs (what scipy's
  ``adj[rows, cols]`` gives), each found in its row.
"""

from __future__ import annotations

import numpy as np

from ..compiled import compiled

__all__ = ["PACKED_SLOTS", "SHIFT_BLOCK", "TAG_BITS", "compaction_shifts", "csr_and_degree_into", "csr_of_ties",
           "csr_of_ties_into", "csr_of_ties_scattered", "csr_of_ties_scattered_into", "find_pairs",
           "find_pairs_indexed", "groups_with_new", "keeps_order", "kinds_groups_with_new", "listed_groups",
           "masked_degree", "merge_ties", "merge_ties_back", "merge_ties_into", "merged_tags", "pair_values",
           "pairs_within", "remap_ties", "remap_ties_in_place", "remap_ties_shifted", "row_starts",
           "set_tie_entries", "strengthen_found", "tagged_keys", "tie_degree", "tied_and_marked", "tied_candidates"]


@compiled
def find_pairs(a: np.ndarray, b: np.ndarray, qa: np.ndarray, qb: np.ndarray) -> np.ndarray:  # pragma: no cover
    """Return the index of each pair ``(qa[i], qb[i])`` (``qa <= qb``) in ties sorted by ``(a, b)``; -1 if absent.

    Args:
        a: int32 first slots of the ties, ascending (ties sorted by ``a``, then ``b``, each pair once).
        b: int32 second slots.
        qa: int64 smaller slot of each pair sought.
        qb: int64 larger slot.
    """
    n = a.size
    out = np.full(qa.size, -1, dtype=np.int64)
    for i in range(qa.size):
        x, y = qa[i], qb[i]
        lo, hi = 0, n
        while lo < hi:  # first tie not below (x, y)
            mid = (lo + hi) >> 1
            am = np.int64(a[mid])
            if am < x or (am == x and np.int64(b[mid]) < y):
                lo = mid + 1
            else:
                hi = mid
        if lo < n and np.int64(a[lo]) == x and np.int64(b[lo]) == y:
            out[i] = lo
    return out


@compiled
def row_starts(a: np.ndarray) -> np.ndarray:  # pragma: no cover
    """Return where each slot's ties start in ties sorted by ``a``: ``start[x]:start[x + 1]`` are slot ``x``'s.

    Args:
        a: int32 first slots of the ties, ascending.

    Returns:
        int64 array of ``a[-1] + 2`` entries (``[0]`` for no ties): ``np.searchsorted(a, np.arange(a[-1] + 2))``.
    """
    n = a.size
    size = np.int64(a[n - 1]) + 2 if n else 1
    start = np.empty(size, dtype=np.int64)
    x = 0
    for i in range(n):
        ai = np.int64(a[i])
        while x <= ai:
            start[x] = i
            x += 1
    while x < size:
        start[x] = n
        x += 1
    return start


@compiled
def find_pairs_indexed(start: np.ndarray, b: np.ndarray, qa: np.ndarray,
                       qb: np.ndarray) -> np.ndarray:  # pragma: no cover
    """Return what :func:`find_pairs` returns, searching each pair only among the ties of its smaller slot.

    Args:
        start: :func:`row_starts` of the ties' first slots.
        b: int32 second slots (ascending within each first slot).
        qa: int64 smaller slot of each pair sought.
        qb: int64 larger slot.
    """
    last = start.size - 1  # slots 0 .. last - 1 have an entry
    out = np.full(qa.size, -1, dtype=np.int64)
    for i in range(qa.size):
        x, y = qa[i], qb[i]
        if x < 0 or x >= last:
            continue
        lo, hi = start[x], start[x + 1]
        end = hi
        while lo < hi:  # first tie of slot x not below y
            mid = (lo + hi) >> 1
            if np.int64(b[mid]) < y:
                lo = mid + 1
            else:
                hi = mid
        if lo < end and np.int64(b[lo]) == y:
            out[i] = lo
    return out


@compiled
def strengthen_found(strength: np.ndarray, pos: np.ndarray, gain: np.float32) -> int:  # pragma: no cover
    """Add ``gain`` to ``strength[p]`` for each ``p >= 0`` of ``pos`` (once per occurrence), then cap those at 1.

    The float32 additions of ``np.add.at(strength, pos[pos >= 0], gain)``, in the same order, then
    ``strength[p] = min(strength[p], 1)`` for the ties touched. Returns the number of entries ``>= 0``.
    """
    hits = 0
    for i in range(pos.size):
        p = pos[i]
        if p >= 0:
            strength[p] = strength[p] + gain
            hits += 1
    one = np.float32(1.0)
    for i in range(pos.size):
        p = pos[i]
        if p >= 0 and strength[p] > one:
            strength[p] = one
    return hits


PACKED_SLOTS = 1 << 24
"""Slots below this fit an entry of :func:`csr_of_ties` in one 64-bit word (24 bits of slot, 8 of kinds and
32 of strength); with more slots the adjacency is built by :func:`csr_of_ties_scattered`."""


@compiled(inline=True)
def _new_adjacency(n: int, m: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:  # pragma: no cover
    """Return new ``(indptr, indices, data, kinds)`` for the adjacency of ``m`` ties among ``n`` slots."""
    return (np.empty(n + 1, dtype=np.int32), np.empty(2 * m, dtype=np.int32), np.empty(2 * m, dtype=np.float32),
            np.empty(2 * m, dtype=np.uint8))


@compiled
def csr_of_ties(a: np.ndarray, b: np.ndarray, strength: np.ndarray, kind: np.ndarray,
                n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:  # pragma: no cover
    """Return ``(indptr, indices, data, kinds)`` of the symmetric adjacency of ties sorted by ``(a, b)``.

    Row ``r`` holds first the ties ``(x, r)`` (columns ``x < r``, ascending as the ties are sorted by
    ``a``), then the ties ``(r, y)`` (columns ``y > r``, ascending): its columns are sorted, as in the
    canonical CSR form. ``data`` is the tie's strength (float32, contiguous) and ``kinds`` its kind bits.
    The arrays are new; :func:`csr_of_ties_into` writes the same into arrays given.
    """
    indptr, indices, data, kinds = _new_adjacency(n, a.size)
    csr_of_ties_into(a, b, strength, kind, indptr, indices, data, kinds)
    return indptr, indices, data, kinds


@compiled
def csr_of_ties_into(a: np.ndarray, b: np.ndarray, strength: np.ndarray, kind: np.ndarray, indptr: np.ndarray,
                     indices: np.ndarray, data: np.ndarray, kinds: np.ndarray) -> None:  # pragma: no cover
    """Write the adjacency of :func:`csr_of_ties` among ``indptr.size - 1`` slots into the arrays given.

    :func:`csr_and_degree_into` without the degrees.
    """
    none = np.zeros(0, dtype=np.int64)
    csr_and_degree_into(a, b, strength, kind, indptr, indices, data, kinds, 0, none, np.zeros(0, dtype=np.uint64),
                        np.zeros(0, dtype=np.bool_), none, none)


@compiled
def csr_and_degree_into(a: np.ndarray, b: np.ndarray, strength: np.ndarray, kind: np.ndarray, indptr: np.ndarray,
                        indices: np.ndarray, data: np.ndarray, kinds: np.ndarray, kind_mask: int,
                        degree: np.ndarray, scratch: np.ndarray, mark: np.ndarray, tied: np.ndarray,
                        peers: np.ndarray) -> None:  # pragma: no cover
    """Write the adjacency of :func:`csr_of_ties` among ``indptr.size - 1`` slots into the arrays given.

    With ``degree`` (int64, one per slot; empty: none counted), each slot's number of ties whose kinds meet
    ``kind_mask`` (:func:`tie_degree`) is written into it in the same passes: the entries of each row are
    written row after row, so the counts are added where the row's entries are. With ``mark`` (bool, one per
    slot; empty: none), ``tied`` and ``peers`` (int64, one per slot) get each slot's number of ties with a kind
    and of ties to a marked slot, counted the same way (what
    :func:`tied_and_marked` reads from the rows afterwards).

    ``indptr`` (int32) has one entry per slot and one more; ``indices`` (int32), ``data`` (float32) and
    ``kinds`` (uint8) one per entry, two per tie. Every element of them is written (their former contents
    do not matter), so the arrays of a previous adjacency can be filled again.

    The upper parts ``(r, y)`` are the ties themselves in their order: each tie's entry is written at its
    place directly (a sequential pass). The lower parts ``(x, r)`` need the ties in the order of ``b``: a
    counting scatter, whose cost is one random write per tie. With fewer than :data:`PACKED_SLOTS` slots the
    scatter writes one 64-bit word per tie (column, kinds and the strength's bits) into a list of the lower
    parts, copied out row by row afterwards (sequentially), instead of a write into each of the three
    outputs; with more, it writes into the outputs (:func:`csr_of_ties_scattered_into`). Both give the same
    arrays.

    ``scratch`` (uint64) holds that list when it has room for one word per tie (its contents do not matter and
    are overwritten); else the list is a new array. A scratch array kept from year to year spares the
    process the page faults of a new array of that size every year (tens of MB at a city's size, which the
    allocator hands back to the system and takes again).
    """
    n = indptr.size - 1
    counted = degree.size > 0
    marking = mark.size > 0
    if n > PACKED_SLOTS:
        csr_of_ties_scattered_into(a, b, strength, kind, indptr, indices, data, kinds)
        if counted:
            count, _ = tie_degree(a, b, kind, n, kind_mask)
            degree[:] = count
        if marking:
            for r in range(n):
                tied[r] = 0
                peers[r] = 0
                for j in range(indptr[r], indptr[r + 1]):
                    tied[r] += kinds[j] != 0
                    peers[r] += mark[indices[j]]
        return
    m = a.size
    indptr[:] = 0
    lower = np.zeros(n + 1, dtype=np.int32)  # lower[r + 1]: the lower entries of rows up to r (after the sums)
    for t in range(m):
        indptr[a[t] + 1] += 1
        lower[b[t] + 1] += 1
    for r in range(n):
        indptr[r + 1] += indptr[r] + lower[r + 1]
        lower[r + 1] += lower[r]
    bits = strength.view(np.uint32)
    packed = scratch[:m] if scratch.size >= m else np.empty(m, dtype=np.uint64)  # the lower entries, row after row
    fill = lower[:n].copy()
    for t in range(m):
        r = b[t]
        j = fill[r]
        packed[j] = (np.uint64(bits[t]) << np.uint64(32)) | np.uint64((np.uint32(a[t]) << np.uint32(8))
                                                                        | np.uint32(kind[t]))
        fill[r] = j + 1
    data_bits = data.view(np.uint32)  # the strengths' bits
    if counted:
        degree[:] = 0
    if marking:
        tied[:] = 0
        peers[:] = 0
    for t in range(m):  # the upper entry of tie t: after the ties of smaller a, the lower part of row a and t's
        p = t + lower[a[t] + 1]
        indices[p] = b[t]
        data_bits[p] = bits[t]
        kinds[p] = kind[t]
        if counted:  # rows in order (the ties are sorted by a): the count of row a[t], in the cache
            degree[a[t]] += np.int64((kind[t] & kind_mask) != 0)
        if marking:
            tied[a[t]] += np.int64(kind[t] != 0)
            peers[a[t]] += np.int64(mark[b[t]])
    r = 0
    for q in range(m):  # the lower entries, each to the head of its row
        while lower[r + 1] <= q:
            r += 1
        p = q + indptr[r] - lower[r]
        e = packed[q]
        low = np.uint32(e & np.uint64(0xFFFFFFFF))
        col = np.int32(low >> np.uint32(8))
        indices[p] = col
        k = np.uint8(low & np.uint32(0xFF))
        kinds[p] = k
        data_bits[p] = np.uint32(e >> np.uint64(32))
        if counted:
            degree[r] += np.int64((k & kind_mask) != 0)
        if marking:
            tied[r] += np.int64(k != 0)
            peers[r] += np.int64(mark[col])


@compiled
def csr_of_ties_scattered(a: np.ndarray, b: np.ndarray, strength: np.ndarray, kind: np.ndarray,
                          n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:  # pragma: no cover
    """Return :func:`csr_of_ties` by a counting scatter of each tie into the three outputs (any number of slots)."""
    indptr, indices, data, kinds = _new_adjacency(n, a.size)
    csr_of_ties_scattered_into(a, b, strength, kind, indptr, indices, data, kinds)
    return indptr, indices, data, kinds


@compiled
def csr_of_ties_scattered_into(a: np.ndarray, b: np.ndarray, strength: np.ndarray, kind: np.ndarray,
                               indptr: np.ndarray, indices: np.ndarray, data: np.ndarray,
                               kinds: np.ndarray) -> None:  # pragma: no cover
    """Write :func:`csr_of_ties_scattered` into the arrays given (as :func:`csr_of_ties_into`)."""
    n = indptr.size - 1
    m = a.size
    indptr[:] = 0
    for t in range(m):
        indptr[a[t] + 1] += 1
        indptr[b[t] + 1] += 1
    for r in range(n):
        indptr[r + 1] += indptr[r]
    fill = indptr[:n].copy()
    bits = strength.view(np.uint32)
    data_bits = data.view(np.uint32)  # the strengths' bits, copied as they are
    for t in range(m):  # the lower part of each row: ties (x, r)
        r = b[t]
        j = fill[r]
        indices[j] = a[t]
        data_bits[j] = bits[t]
        kinds[j] = kind[t]
        fill[r] = j + 1
    for t in range(m):  # then the upper part: ties (r, y)
        r = a[t]
        j = fill[r]
        indices[j] = b[t]
        data_bits[j] = bits[t]
        kinds[j] = kind[t]
        fill[r] = j + 1


@compiled
def tied_candidates(indptr: np.ndarray, indices: np.ndarray, data: np.ndarray, kinds: np.ndarray, kind_mask: int,
                    slot: np.ndarray, category: np.ndarray, code: np.ndarray,
                    want: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # pragma: no cover
    """Return ``(need_index, helper, strength)``: each need's ties to residents with a given code.

    The ties of a kind in ``kind_mask`` of each need's requester to a resident whose ``code[helper,
    category]`` is ``want``, need by need, in the order of the CSR row.

    Args:
        indptr: int32 row starts of the adjacency (:func:`csr_of_ties`).
        indices: int32 column (other slot) of each entry.
        data: float32 strength of each entry.
        kinds: uint8 kind bits of each entry.
        kind_mask: Kind bits a tie must carry one of.
        slot: int64 requester slot of each need.
        category: int64 category of each need.
        code: int8 matrix (slots x categories), e.g. the willingness column.
        want: The value of ``code`` a helper must have.
    """
    # one pass over the rows, into room for every entry of them (the result is the first ``k``): each row, and
    # each helper's code, is read once
    room = 0
    for i in range(slot.size):
        room += indptr[slot[i] + 1] - indptr[slot[i]]
    need = np.empty(room, dtype=np.int64)
    helper = np.empty(room, dtype=np.int64)
    weight = np.empty(room, dtype=np.float64)
    k = 0
    for i in range(slot.size):
        s, c = slot[i], category[i]
        for j in range(indptr[s], indptr[s + 1]):
            h = indices[j]
            if (kinds[j] & kind_mask) != 0 and code[h, c] == want:
                need[k] = i
                helper[k] = h
                weight[k] = data[j]
                k += 1
    return need[:k].copy(), helper[:k].copy(), weight[:k].copy()


@compiled
def pair_values(indptr: np.ndarray, indices: np.ndarray, data: np.ndarray, rows: np.ndarray,
                cols: np.ndarray) -> np.ndarray:  # pragma: no cover
    """Return the entry of a CSR matrix at each pair ``(rows[i], cols[i])`` as float64 (0 where none is stored).

    Entries of the same row and column stored more than once are added up (in their order, in the
    precision of ``data``), as scipy's indexing of a matrix with duplicates does.
    """
    out = np.zeros(rows.size, dtype=np.float64)
    zero = np.zeros(1, dtype=data.dtype)[0]
    for i in range(rows.size):
        r, c = rows[i], cols[i]
        v = zero
        for j in range(indptr[r], indptr[r + 1]):
            if indices[j] == c:
                v += data[j]
        out[i] = v
    return out


@compiled
def pairs_within(member: np.ndarray, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, ...]:  # pragma: no cover
    """Return the ties whose ends are both ``member`` (bool per slot), as slots and numbered among the members.

    ``(a[both], b[both])`` as int64, ``both`` the ties with both ends members, in the order of the list; the
    rank of every slot among the members (``cumsum(member) - 1``, int32); and the ends of those ties as ranks
    (int32). The ties are selected without branches (the ends' membership is random, a branch would be
    mispredicted): every tie is written and the next position advanced only for a kept one.
    """
    n = member.size
    rank = np.empty(n, dtype=np.int32)
    r = 0
    for s in range(n):
        r += np.int32(member[s])
        rank[s] = r - 1
    count = 0
    for j in range(a.size):
        count += np.int64(member[a[j]]) & np.int64(member[b[j]])
    out_a = np.empty(count + 1, dtype=np.int64)  # one spare entry for the writes after the last kept tie
    out_b = np.empty(count + 1, dtype=np.int64)
    i = 0
    for j in range(a.size):
        out_a[i] = a[j]
        out_b[i] = b[j]
        i += np.int64(member[a[j]]) & np.int64(member[b[j]])
    rank_a = np.empty(count, dtype=np.int32)
    rank_b = np.empty(count, dtype=np.int32)
    for i in range(count):
        rank_a[i] = rank[out_a[i]]
        rank_b[i] = rank[out_b[i]]
    return out_a[:count], out_b[:count], rank, rank_a, rank_b


def groups_with_new(group: np.ndarray, new: np.ndarray,
                    alive: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return ``(start, members, n_new)``: the members of every group of two or more with a new member.

    Groups are those of ``group >= 0`` (the group id of each slot) where ``alive``; a group is listed if
    it has at least two members and at least one of them is ``new``. Listed groups come in ascending group id;
    the members of listed group ``j`` are ``members[start[j]:start[j + 1]]``, its ``n_new[j]`` new
    members first, then the others, each part in ascending slot order. Only the groups of new members
    are counted (one index entry per group id, no counters for every group). This is
    :func:`kinds_groups_with_new` of one kind.
    """
    _, _, start, members, n_new = kinds_groups_with_new(np.ascontiguousarray(group.reshape(-1, 1)),
                                                        np.ascontiguousarray(new.reshape(-1, 1)), alive)
    return start, members, n_new


@compiled
def merge_ties(a: np.ndarray, b: np.ndarray, kind: np.ndarray, strength: np.ndarray, key: np.ndarray,
               kind_new: np.ndarray, strength_new: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray,
                                                                        np.ndarray]:  # pragma: no cover
    """Merge new pairs into ties sorted by ``(a, b)``; return the four columns of the result.

    Args:
        a: int32 first slots of the ties, sorted by ``(a, b)``, each pair once.
        b: int32 second slots.
        kind: uint8 kind bits of each tie.
        strength: float32 strength of each tie.
        key: int64 keys ``a << 32 | b`` of the new pairs, ascending and distinct.
        kind_new: uint8 kind bits of each new pair.
        strength_new: float32 strength of each new pair.

    A new pair already tied ORs its kinds into the tie and keeps the larger strength; the others are
    inserted in order (before no tie of a larger key, after every tie of a smaller one).
    """
    n, m = a.size, key.size
    out_a = np.empty(n + m, dtype=a.dtype)  # room for every new pair; the result is the first ``o`` entries
    out_b = np.empty(n + m, dtype=b.dtype)
    out_kind = np.empty(n + m, dtype=kind.dtype)
    out_strength = np.empty(n + m, dtype=strength.dtype)
    o = merge_ties_into(a, b, kind, strength, key, kind_new, strength_new, out_a, out_b, out_kind, out_strength)
    return out_a[:o], out_b[:o], out_kind[:o], out_strength[:o]


@compiled
def merge_ties_into(a: np.ndarray, b: np.ndarray, kind: np.ndarray, strength: np.ndarray, key: np.ndarray,
                    kind_new: np.ndarray, strength_new: np.ndarray, out_a: np.ndarray, out_b: np.ndarray,
                    out_kind: np.ndarray, out_strength: np.ndarray) -> int:  # pragma: no cover
    """Write :func:`merge_ties` into the first entries of the arrays given (room for ``a.size + key.size``).

    Returns the number of entries written.
    """
    n, m = a.size, key.size
    i = 0
    o = 0
    for j in range(m):
        x, y = key[j] >> 32, key[j] & 0xFFFFFFFF
        while i < n and (np.int64(a[i]) < x or (np.int64(a[i]) == x and np.int64(b[i]) < y)):
            out_a[o] = a[i]
            out_b[o] = b[i]
            out_kind[o] = kind[i]
            out_strength[o] = strength[i]
            i += 1
            o += 1
        if i < n and np.int64(a[i]) == x and np.int64(b[i]) == y:
            out_a[o] = a[i]
            out_b[o] = b[i]
            out_kind[o] = kind[i] | kind_new[j]
            out_strength[o] = max(strength[i], strength_new[j])
            i += 1
        else:
            out_a[o] = x
            out_b[o] = y
            out_kind[o] = kind_new[j]
            out_strength[o] = strength_new[j]
        o += 1
    while i < n:
        out_a[o] = a[i]
        out_b[o] = b[i]
        out_kind[o] = kind[i]
        out_strength[o] = strength[i]
        i += 1
        o += 1
    return o


@compiled
def merge_ties_back(a: np.ndarray, b: np.ndarray, kind: np.ndarray, strength: np.ndarray, start: int, n: int,
                    key: np.ndarray, kind_new: np.ndarray, strength_new: np.ndarray) -> int:  # pragma: no cover
    """Merge new pairs into ties held in place (:func:`merge_ties` without a second set of columns).

    The ties are the entries ``start`` to ``start + n - 1`` of the arrays, which have room for ``key.size``
    more after them. The merge runs from the back: the ties and new pairs of the largest keys are written
    at the end first, so every tie moves only towards the back, past entries already read. The result
    ends at ``start + n + key.size`` and begins at the entry returned (later than ``start`` by the number of
    new pairs that were already tied).
    """
    m = key.size
    i = start + n - 1
    o = start + n + m - 1
    for j in range(m - 1, -1, -1):
        k = key[j]
        tied = np.int64(-1)
        while i >= start:
            tied = (np.int64(a[i]) << 32) | np.int64(b[i])
            if tied <= k:
                break
            a[o] = a[i]
            b[o] = b[i]
            kind[o] = kind[i]
            strength[o] = strength[i]
            i -= 1
            o -= 1
        if i >= start and tied == k:
            kind[o] = kind[i] | kind_new[j]
            strength[o] = max(strength[i], strength_new[j])
            a[o] = a[i]
            b[o] = b[i]
            i -= 1
        else:
            a[o] = k >> 32
            b[o] = k & 0xFFFFFFFF
            kind[o] = kind_new[j]
            strength[o] = strength_new[j]
        o -= 1
    if o == i:  # no new pair was tied already: the ties before the first new pair stay where they are
        return start
    while i >= start:  # else they move back by the number of those
        a[o] = a[i]
        b[o] = b[i]
        kind[o] = kind[i]
        strength[o] = strength[i]
        i -= 1
        o -= 1
    return o + 1


TAG_BITS = 16
"""Low bits of a tagged key (:func:`tagged_keys`) that hold the number of its batch."""


@compiled
def tagged_keys(key: np.ndarray, sizes: np.ndarray) -> tuple[np.ndarray, bool]:  # pragma: no cover - compiled
    """Return each pair key ``a << 32 | b`` packed with the number of its batch, as ``a << 40 | b << 16 | batch``.

    Args:
        key: int64 keys of :func:`kyojosim.core.network.pair_keys` (``0 <= a < b``), the batches one after
            the other.
        sizes: int64 number of keys of each batch.

    Returns:
        ``(words, ok)``: the uint64 words (sorting them sorts the pairs by ``(a, b)``, the pairs of several
        batches side by side, by batch); ``ok`` is False (and the words not all written) if a slot is
        negative or does not fit in 24 bits, or there are ``2 ** TAG_BITS`` batches or more.
    """
    words = np.empty(key.size, dtype=np.uint64)
    if sizes.size >= 1 << TAG_BITS:
        return words, False
    low = np.int64(0xFFFFFFFF)
    i = 0
    for tag in range(sizes.size):
        for _ in range(sizes[tag]):
            x, y = key[i] >> 32, key[i] & low
            if x < 0 or x >= PACKED_SLOTS or y >= PACKED_SLOTS:
                return words, False
            words[i] = (np.uint64(x) << np.uint64(40)) | (np.uint64(y) << np.uint64(TAG_BITS)) | np.uint64(tag)
            i += 1
    return words, True


@compiled
def merged_tags(words: np.ndarray, tag_kind: np.ndarray,
                tag_strength: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # pragma: no cover
    """Return the distinct pairs of sorted tagged keys (:func:`tagged_keys`) with their batches' kinds and strengths.

    Args:
        words: uint64 tagged keys, ascending.
        tag_kind: uint8 kind bits of each batch.
        tag_strength: float32 strength of each batch.

    Returns:
        ``(key, kind, strength)``: the distinct keys ``a << 32 | b`` (int64, ascending), the kinds of the
        batches of each OR-ed and the largest of their strengths (``np.maximum``: a NaN gives NaN).
    """
    m = words.size
    key = np.empty(m, dtype=np.int64)
    kind = np.empty(m, dtype=np.uint8)
    strength = np.empty(m, dtype=np.float32)
    tag_mask = np.uint64((1 << TAG_BITS) - 1)
    slot_mask = np.uint64(0xFFFFFF)
    o = -1
    last = np.uint64(0)
    for q in range(m):
        w = words[q]
        t = np.int64(w & tag_mask)
        pair = w >> np.uint64(TAG_BITS)
        if o < 0 or pair != last:
            o += 1
            last = pair
            key[o] = (np.int64(pair >> np.uint64(24)) << 32) | np.int64(pair & slot_mask)
            kind[o] = tag_kind[t]
            strength[o] = tag_strength[t]
        else:
            kind[o] |= tag_kind[t]
            v = tag_strength[t]
            s = strength[o]
            if s == s and (v != v or v > s):
                strength[o] = v
    return key[: o + 1], kind[: o + 1], strength[: o + 1]


@compiled
def masked_degree(indptr: np.ndarray, kinds: np.ndarray, kind_mask: int) -> np.ndarray:  # pragma: no cover
    """Return the number of entries of each CSR row whose kind bits intersect ``kind_mask`` (int64).

    Each entry adds its test to the count without a branch (the kinds follow no pattern a processor could predict).
    """
    n = indptr.size - 1
    out = np.zeros(n, dtype=np.int64)
    mask = np.uint8(kind_mask & 0xFF)
    for r in range(n):
        k = 0
        for j in range(indptr[r], indptr[r + 1]):
            k += (kinds[j] & mask) != 0
        out[r] = k
    return out


@compiled
def tied_and_marked(indptr: np.ndarray, indices: np.ndarray, kinds: np.ndarray, mark: np.ndarray,
                    rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:  # pragma: no cover - compiled
    """Return ``(tied, peers)`` of the slots ``rows``: their ties (with a kind), and those to a marked slot (int64).

    Read from the slots' rows of the symmetric adjacency of the ties (``kinds``: the kind bits of each entry), one
    value of each per slot of ``rows``: what :func:`csr_and_degree_into` counts for every slot while it builds the
    adjacency.
    """
    tied = np.zeros(rows.size, dtype=np.int64)
    peers = np.zeros(rows.size, dtype=np.int64)
    for i in range(rows.size):
        r = rows[i]
        d = 0
        p = 0
        for j in range(indptr[r], indptr[r + 1]):
            d += kinds[j] != 0
            p += mark[indices[j]]
        tied[i] = d
        peers[i] = p
    return tied, peers


@compiled
def set_tie_entries(indptr: np.ndarray, indices: np.ndarray, data: np.ndarray, kinds: np.ndarray, a: np.ndarray,
                    b: np.ndarray, strength: np.ndarray, kind: np.ndarray, idx: np.ndarray) -> bool:  # pragma: no cover
    """Copy the strength and kinds of the ties ``idx`` (indices into the columns) into both entries of each.

    The adjacency is that of :func:`csr_and_degree_into` (columns ascending within each row): the entry of
    ``(x, y)`` is found by a binary search in row ``x``. The strengths are copied as their bits. Returns False,
    having written the entries found before, if a tie has no entry.
    """
    bits = strength.view(np.uint32)
    data_bits = data.view(np.uint32)
    for i in range(idx.size):
        t = idx[i]
        for side in range(2):
            r, c = (a[t], b[t]) if side == 0 else (b[t], a[t])
            lo, hi = np.int64(indptr[r]), np.int64(indptr[r + 1])
            end = hi
            while lo < hi:
                mid = (lo + hi) >> 1
                if indices[mid] < c:
                    lo = mid + 1
                else:
                    hi = mid
            if lo == end or indices[lo] != c:
                return False
            data_bits[lo] = bits[t]
            kinds[lo] = kind[t]
    return True


@compiled
def tie_degree(a: np.ndarray, b: np.ndarray, kind: np.ndarray, n: int,
               kind_mask: int) -> tuple[np.ndarray, bool]:  # pragma: no cover - compiled
    """Return the number of ties of each of ``n`` slots whose kind bits intersect ``kind_mask`` (int64), and ok.

    :func:`masked_degree` of the ties' adjacency, counted over the ties: each tie adds one to both ends when
    its kinds meet the mask (added without a branch; the counts are kept as int32, half the memory to hit).
    ``ok`` is False (and the counts empty) if a tie has an end outside ``0 .. n - 1``.
    """
    count = np.zeros(n, dtype=np.int32)
    for t in range(a.size):
        x, y = np.int64(a[t]), np.int64(b[t])
        if x < 0 or y < 0 or x >= n or y >= n:
            return np.zeros(0, dtype=np.int64), False
        hit = np.int32((kind[t] & kind_mask) != 0)
        count[x] += hit
        count[y] += hit
    return count.astype(np.int64), True


@compiled
def remap_ties(a: np.ndarray, b: np.ndarray, kind: np.ndarray, strength: np.ndarray,
               new_slot: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:  # pragma: no cover
    """Return the ties whose two ends are kept (``new_slot >= 0``), renumbered, in their order (new columns).

    :func:`remap_ties_in_place` on copies of the columns (the slots as int32).
    """
    out_a, out_b = a.astype(np.int32), b.astype(np.int32)
    out_kind, out_strength = kind.copy(), strength.copy()
    j = remap_ties_in_place(out_a, out_b, out_kind, out_strength, new_slot)
    return out_a[:j], out_b[:j], out_kind[:j], out_strength[:j]


@compiled
def remap_ties_in_place(a: np.ndarray, b: np.ndarray, kind: np.ndarray, strength: np.ndarray,
                        new_slot: np.ndarray) -> int:  # pragma: no cover - compiled
    """:func:`remap_ties` written over its input columns (each tie moves only towards the front); return how many.

    The ties kept are the first entries of the four columns afterwards.
    """
    j = 0
    for t in range(a.size):
        x, y = new_slot[a[t]], new_slot[b[t]]
        if x >= 0 and y >= 0:
            a[j] = x
            b[j] = y
            kind[j] = kind[t]
            strength[j] = strength[t]
            j += 1
    return j


SHIFT_BLOCK = 15
"""Slots are grouped in blocks of ``2 ** SHIFT_BLOCK`` for :func:`compaction_shifts` (its counts fit 15 bits)."""


@compiled
def compaction_shifts(new_slot: np.ndarray) -> tuple[np.ndarray, np.ndarray, bool]:  # pragma: no cover - compiled
    """Return the renumbering of a compaction as a table of 16-bit words: ``(table, base, ok)``.

    A compaction keeps the slots in order and numbers them from 0: ``new_slot[s]`` is the number of kept
    slots before ``s``, or -1. Then ``new_slot[s] = s - base[s >> SHIFT_BLOCK] - (table[s] & 0x7FFF)`` for a kept
    slot (``base``: the slots dropped before the slot's block; the low bits: those dropped before it in its
    block) and the top bit of ``table[s]`` marks a dropped slot: a quarter of the int64 table's memory, half
    of int32's, so that more of it stays in the cache while the ties are renumbered.

    ``ok`` is False if ``new_slot`` is not such a renumbering (its kept slots not numbered 0, 1, 2, ... in
    order, or an entry below -1).
    """
    n = new_slot.size
    table = np.empty(n, dtype=np.uint16)
    base = np.zeros((n >> SHIFT_BLOCK) + 1, dtype=np.int64)
    dropped = 0
    block_mask = (1 << SHIFT_BLOCK) - 1
    for s in range(n):
        if (s & block_mask) == 0:
            base[s >> SHIFT_BLOCK] = dropped
        local = dropped - base[s >> SHIFT_BLOCK]
        x = new_slot[s]
        if x == -1:
            table[s] = np.uint16(local | (1 << SHIFT_BLOCK))
            dropped += 1
        elif x == s - dropped:
            table[s] = np.uint16(local)
        else:
            return table, base, False
    return table, base, True


@compiled
def remap_ties_shifted(a: np.ndarray, b: np.ndarray, kind: np.ndarray, strength: np.ndarray, table: np.ndarray,
                       base: np.ndarray) -> int:  # pragma: no cover - compiled
    """:func:`remap_ties_in_place` of a compaction given by :func:`compaction_shifts`; return how many ties are kept.

    Every tie is written at the next place (never after its own) and the place advanced only for a tie whose
    two ends are kept (no branch on it: the ends' fate is random).
    """
    j = 0
    low = np.uint16((1 << SHIFT_BLOCK) - 1)
    top = np.uint16(1 << SHIFT_BLOCK)
    for t in range(a.size):
        x, y = np.int64(a[t]), np.int64(b[t])
        u, v = table[x], table[y]
        a[j] = x - base[x >> SHIFT_BLOCK] - np.int64(u & low)
        b[j] = y - base[y >> SHIFT_BLOCK] - np.int64(v & low)
        kind[j] = kind[t]
        strength[j] = strength[t]
        j += np.int64(((u | v) & top) == 0)
    return j


@compiled
def keeps_order(new_slot: np.ndarray) -> bool:  # pragma: no cover - compiled
    """Whether the kept slots' new numbers ascend (``np.all(kept[1:] > kept[:-1])`` of ``new_slot[new_slot >= 0]``)."""
    last = -1
    for i in range(new_slot.size):
        x = new_slot[i]
        if x >= 0:
            if x <= last:
                return False
            last = x
    return True


@compiled
def listed_groups(kind_of: np.ndarray, ids: np.ndarray, size: np.ndarray, fresh: np.ndarray, top: int,
                  n_kinds: int):  # pragma: no cover - compiled
    """Lay out the groups of two or more members, by kind and then ascending group id.

    Args:
        kind_of: Each group's kind (groups seen, in the order first seen).
        ids: Each group's id (below or at ``top``).
        size: Each group's number of members.
        fresh: Each group's number of new members.
        top: The highest id.
        n_kinds: Number of kinds.

    Returns:
        ``(first, start, n_new, rank)``: where each kind's listed groups begin (``n_kinds + 1`` entries,
        a kind with none starting where the previous one ended), where each listed group's members begin
        (one more than the listed groups), each listed group's number of new members, and each seen group's
        place among the listed (-1: fewer than two members).
    """
    n_seen = ids.size
    order = np.argsort(kind_of * (top + 1) + ids)
    n_listed = 0
    for r in range(n_seen):
        if size[order[r]] >= 2:
            n_listed += 1
    start = np.zeros(n_listed + 1, dtype=np.int64)
    n_new = np.zeros(n_listed, dtype=np.int64)
    first = np.zeros(n_kinds + 1, dtype=np.int64)
    rank = np.full(n_seen, -1, dtype=np.int64)
    j = 0
    for r in range(n_seen):
        q = order[r]
        if size[q] >= 2:
            rank[q] = j
            start[j + 1] = start[j] + size[q]
            n_new[j] = fresh[q]
            first[kind_of[q] + 1] = j + 1
            j += 1
    for k in range(n_kinds):  # kinds with no listed group start where the previous kind ended
        if first[k + 1] < first[k]:
            first[k + 1] = first[k]
    return first, start, n_new, rank


@compiled
def kinds_groups_with_new(groups: np.ndarray, new: np.ndarray, alive: np.ndarray):  # pragma: no cover - compiled
    """Return ``(ok, first, start, members, n_new)``: :func:`groups_with_new` of every column of ``groups``.

    Column ``k`` of ``groups`` holds the group of each slot in kind ``k`` (``-1``: none); a slot is new
    in kind ``k`` if ``new[slot, k]`` (or ``new[slot, 0]`` when ``new`` has one column). The listed
    groups of kind ``k`` are ``first[k]`` to ``first[k + 1] - 1``, each as :func:`groups_with_new`
    lists them (ascending group id; new members first, then the others, in slot order). Group ids
    must be unique across kinds (they are: one counter numbers them); ``ok`` is False, and the
    other arrays empty, if an id occurs in two kinds.
    """
    n, n_kinds = groups.shape
    wide = new.shape[1] > 1
    # one pass over the marks: the rows with a membership that is new (all new entries are theirs), and the
    # largest group id among those memberships (no larger id has a new member); only their groups are read
    top = -1
    n_new_entries = 0
    new_rows = np.empty(n, dtype=np.int64)
    n_rows = 0
    for i in range(n):
        if alive[i] and (wide or new[i, 0]):
            has_new = False
            for k in range(n_kinds):
                if new[i, k if wide else 0]:
                    g = groups[i, k]
                    if g >= 0:
                        n_new_entries += 1
                        has_new = True
                        if g > top:
                            top = g
            if has_new:
                new_rows[n_rows] = i
                n_rows += 1
    index = np.full(top + 1, -1, dtype=np.int64)
    ids = np.empty(n_new_entries, dtype=np.int64)
    kind_of = np.empty(n_new_entries, dtype=np.int64)
    n_seen = 0
    for r in range(n_rows):
        i = new_rows[r]
        for k in range(n_kinds):
            g = groups[i, k]
            if g >= 0 and new[i, k if wide else 0] and index[g] < 0:
                index[g] = n_seen
                ids[n_seen] = g
                kind_of[n_seen] = k
                n_seen += 1
    size = np.zeros(n_seen, dtype=np.int64)
    fresh = np.zeros(n_seen, dtype=np.int64)
    empty = np.zeros(0, dtype=np.int64)
    # the memberships of the groups seen, noted in row order as one word each, (row << 32) | (place << 1) | new,
    # for the last pass (read back by shifts and masks: no division); pages are taken only as far as written
    noted = np.empty(n * n_kinds if n_seen else 0, dtype=np.int64)
    n_noted = 0
    for i in range(n):
        if not alive[i]:
            continue
        for k in range(n_kinds):
            g = groups[i, k]
            if g >= 0 and g <= top and index[g] >= 0:
                j = index[g]
                if kind_of[j] != k:
                    return False, empty, np.zeros(1, dtype=np.int64), empty, empty
                f = np.int64(new[i, k if wide else 0])
                size[j] += 1
                fresh[j] += f
                noted[n_noted] = (np.int64(i) << 32) | (j << 1) | f
                n_noted += 1
    first, start, n_new, rank = listed_groups(kind_of[:n_seen], ids[:n_seen], size, fresh, top, n_kinds)
    n_listed = n_new.size
    fill_new = start[:n_listed].copy()
    fill_old = start[:n_listed] + n_new
    members = np.empty(start[n_listed], dtype=np.int64)
    place = np.int64(0xFFFFFFFF)
    for e in range(n_noted):
        x = noted[e]
        j = rank[(x & place) >> 1]
        if j >= 0:
            if x & 1:
                members[fill_new[j]] = x >> 32
                fill_new[j] += 1
            else:
                members[fill_old[j]] = x >> 32
                fill_old[j] += 1
    return True, first, start, members, n_new
