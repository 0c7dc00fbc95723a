"""Compiled kernels of the channels (numba; see :mod:`kyojosim.compiled`).

* :func:`pool_members`: the eligible helpers of :class:`~kyojosim.aid.channels.base.DistrictPools`
  grouped by (district, category), by a counting sort in the order a stable sort of the eligible
  (slot, category) pairs by group gives;
* :func:`offer_pool_members`: the same pools for eligibility read from each slot's bits of offered categories
  and its willingness (no matrix of eligibility made);
* :func:`uid_uniforms`: the splitmix64 uniform of each uid (:func:`~kyojosim.aid.channels.base.uid_uniform`);
* :func:`last_tied`: for every slot, the last tie (in the order of its adjacency row) to a resident
  with a given mark, e.g. the reporter a requester is tied to; :func:`last_tied_from` gives the same
  from the rows of the marked residents only (a symmetric adjacency with sorted rows);
* :func:`pool_candidates`: the week's candidate edges of :meth:`DistrictPools.draw
  <kyojosim.aid.channels.base.DistrictPools.draw>` from the pools' sizes and the random draws, in one pass;
* :func:`ask_offline`: which new needs the requester asks an offline tie about (the offline channel's
  surfacing), from the week's uniforms, in one pass over the needs;
* :func:`willing_bits` and :func:`offline_candidates`: each slot's categories of one willingness as the bits
  of a byte, and the offline channel's candidate edges read from those bytes (the edges of
  :meth:`Neighbourhood.candidates <kyojosim.core.network.Neighbourhood.candidates>`, reading one byte of a
  helper instead of its row of willingness).
"""

from __future__ import annotations

import numpy as np

from ...compiled import compiled

__all__ = ["ask_offline", "last_tied", "last_tied_from", "offer_pool_members",
           "offline_candidates", "pool_candidates", "pool_members", "uid_uniforms", "willing_bits"]


@compiled
def pool_members(eligible: np.ndarray, district: np.ndarray, rows: np.ndarray,
                 n_groups: int) -> tuple[np.ndarray, np.ndarray]:  # pragma: no cover - compiled
    """Return ``(members, size)``: the slots of ``rows`` eligible in each group ``district * n_cat + category``.

    Members are ordered by group, and within a group by slot (the rows ascending), as
    ``np.argsort(group, kind="stable")`` orders the pairs of ``np.nonzero(eligible[rows])``; ``size``
    counts the members of each of the ``n_groups`` groups.
    """
    n_cat = eligible.shape[1]
    size = np.zeros(n_groups, dtype=np.int64)
    for r in range(rows.size):
        s = rows[r]
        for c in range(n_cat):
            if eligible[s, c]:
                size[np.int64(district[s]) * n_cat + c] += 1
    fill = np.zeros(n_groups, dtype=np.int64)
    total = 0
    for g in range(n_groups):
        fill[g] = total
        total += size[g]
    members = np.empty(total, dtype=np.int64)
    for r in range(rows.size):
        s = rows[r]
        for c in range(n_cat):
            if eligible[s, c]:
                g = np.int64(district[s]) * n_cat + c
                members[fill[g]] = s
                fill[g] += 1
    return members, size


@compiled
def offer_pool_members(offers: np.ndarray, will: np.ndarray, want: int, district: np.ndarray, rows: np.ndarray,
                       n_groups: int) -> tuple[np.ndarray, np.ndarray]:  # pragma: no cover - compiled
    """Return :func:`pool_members` of ``eligible[s, c]``: bit ``c`` of ``offers[s]`` set and ``will[s, c] == want``.

    ``offers`` holds each slot's bits of categories (uint8), ``will`` (slots x categories, at most 8) its
    willingness; only the slots of ``rows`` are read. The same members in the same order as :func:`pool_members`
    of that matrix. Without branches on the (unpredictable) eligibility: each row's eligible categories as a
    byte; every row is written to each of its groups, the group's next place taken only when it is eligible (a
    spare place after each group takes the writes past its end), then the groups are closed up.
    """
    n_cat = will.shape[1]
    hit = np.empty(rows.size, dtype=np.uint8)
    size = np.zeros(n_groups, dtype=np.int64)
    for r in range(rows.size):
        s = rows[r]
        bits = np.int64(offers[s])
        mask = np.int64(0)
        for c in range(n_cat):
            mask |= (((bits >> c) & 1) & np.int64(will[s, c] == want)) << c
        hit[r] = np.uint8(mask)
        base = np.int64(district[s]) * n_cat
        for c in range(n_cat):
            size[base + c] += (mask >> c) & 1
    fill = np.zeros(n_groups, dtype=np.int64)
    total = 0
    for g in range(n_groups):
        fill[g] = total + g  # room for the group and one spare place
        total += size[g]
    spaced = np.empty(total + n_groups, dtype=np.int64)
    for r in range(rows.size):
        s = rows[r]
        mask = np.int64(hit[r])
        if mask == 0:
            continue
        base = np.int64(district[s]) * n_cat
        for c in range(n_cat):
            g = base + c
            j = fill[g]
            spaced[j] = s
            fill[g] = j + ((mask >> c) & 1)
    members = np.empty(total, dtype=np.int64)
    o = 0
    for g in range(n_groups):
        first = fill[g] - size[g]
        for j in range(size[g]):
            members[o] = spaced[first + j]
            o += 1
    return members, size


@compiled
def uid_uniforms(uid: np.ndarray, key: np.uint64) -> np.ndarray:  # pragma: no cover - compiled
    """Return the uniform in [0, 1) of each uid: the top 53 bits of splitmix64 of ``uid + key`` (uint64, wrapping).

    The arithmetic of :func:`~kyojosim.aid.channels.base.uid_uniform` in one pass (the same bits).
    """
    out = np.empty(uid.size)
    scale = 1.0 / (1 << 53)
    for i in range(uid.size):
        x = np.uint64(uid[i]) + key
        x = x + np.uint64(0x9E3779B97F4A7C15)
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        x = x ^ (x >> np.uint64(31))
        out[i] = np.float64(x >> np.uint64(11)) * scale
    return out


@compiled
def last_tied(indptr: np.ndarray, indices: np.ndarray, mark: np.ndarray) -> np.ndarray:  # pragma: no cover - compiled
    """Return, for every row of a CSR adjacency, the last column in its row with ``mark`` set (-1 if none)."""
    n = indptr.size - 1
    out = np.full(n, -1, dtype=np.int64)
    for r in range(n):
        for j in range(indptr[r], indptr[r + 1]):
            if mark[indices[j]]:
                out[r] = indices[j]
    return out


@compiled
def last_tied_from(indptr: np.ndarray, indices: np.ndarray, marked: np.ndarray) -> np.ndarray:  # pragma: no cover
    """Return what :func:`last_tied` gives, reading only the rows of the marked slots ``marked`` (ascending).

    The adjacency must be symmetric with the columns of each row ascending (as
    :meth:`kyojosim.core.network.Ties.neighbourhood` builds it): the last marked column of a row is then
    its largest marked neighbour, and the marked rows, read in ascending order, write it last.
    """
    n = indptr.size - 1
    out = np.full(n, -1, dtype=np.int64)
    for i in range(marked.size):
        r = marked[i]
        for j in range(indptr[r], indptr[r + 1]):
            out[indices[j]] = r
    return out


@compiled
def pool_candidates(size: np.ndarray, start: np.ndarray, members: np.ndarray, k: int,
                    draw: np.ndarray) -> tuple[np.ndarray, np.ndarray]:  # pragma: no cover - compiled
    """Return ``(need_index, helper_slot)``: every member of a pool of at most ``k``, ``k`` draws of a larger one.

    Need ``i`` has the pool ``members[start[i]:start[i] + size[i]]``. First, need by need, the needs whose
    pool has at most ``k`` members get all of them, in order; then the others, need by need, get the
    members at their row of ``draw`` (``k`` positions in the pool per such need, in the order of the
    needs, each row sorted ascending), each position once.
    """
    n = size.size
    total = 0
    for i in range(n):
        if size[i] <= k:
            total += size[i]
    n_big = draw.shape[0]
    for b in range(n_big):
        for j in range(k):
            if j == 0 or draw[b, j] != draw[b, j - 1]:
                total += 1
    need = np.empty(total, dtype=np.int64)
    helper = np.empty(total, dtype=np.int64)
    o = 0
    for i in range(n):
        if size[i] <= k:
            for j in range(size[i]):
                need[o] = i
                helper[o] = members[start[i] + j]
                o += 1
    b = 0
    for i in range(n):
        if size[i] > k:
            for j in range(k):
                if j == 0 or draw[b, j] != draw[b, j - 1]:
                    need[o] = i
                    helper[o] = members[start[i] + draw[b, j]]
                    o += 1
            b += 1
    return need, helper


@compiled
def ask_offline(slot: np.ndarray, age: np.ndarray, boost: np.ndarray, factor: np.ndarray, degree: np.ndarray,
                u: np.ndarray, rate_65plus: float, rate_under65: float) -> np.ndarray:  # pragma: no cover
    """Return whether each need's requester asks: ``u < min(rate + boost, 1) * factor`` and at least one tie.

    The float64 arithmetic of the array form in
    :meth:`OfflineTies.surface <kyojosim.aid.channels.offline.OfflineTies.surface>`, need by need: the
    rate by age (65+ or under), plus the requester's boost capped at 1 (no boost and no cap when
    ``boost`` is empty), times the requester's wish to ask.

    Args:
        slot: int64 requester slot of each new need.
        age: Age of every slot.
        boost: float64 extra rate of every slot, or an empty array for none.
        factor: Wish to ask of every slot (``ask_factor``).
        degree: Number of offline ties of every slot (or any integers positive where it is).
        u: float64 uniform of each need.
        rate_65plus: ``ask_rate_65plus``.
        rate_under65: ``ask_rate_under65``.
    """
    out = np.empty(slot.size, dtype=np.bool_)
    boosted = boost.size > 0
    for i in range(slot.size):
        s = slot[i]
        rate = rate_65plus if age[s] >= 65 else rate_under65
        if boosted:
            rate = rate + boost[s]
            if rate > 1.0:  # np.minimum(rate, 1.0) (a nan stays nan)
                rate = 1.0
        rate = rate * np.float64(factor[s])
        out[i] = (u[i] < rate) and degree[s] > 0
    return out


@compiled
def willing_bits(will: np.ndarray, want: int) -> np.ndarray:  # pragma: no cover - compiled
    """Return a byte per slot whose bit ``c`` is set where ``will[slot, c] == want`` (at most 8 categories)."""
    n, n_cat = will.shape
    out = np.empty(n, dtype=np.uint8)
    for s in range(n):
        b = 0
        for c in range(n_cat):
            b |= np.int64(will[s, c] == want) << c
        out[s] = np.uint8(b)
    return out


@compiled
def offline_candidates(indptr: np.ndarray, indices: np.ndarray, data: np.ndarray, kinds: np.ndarray, kind_mask: int,
                       slot: np.ndarray, category: np.ndarray, bits: np.ndarray, known: np.ndarray,
                       prev_slot: np.ndarray, prev_category: np.ndarray, prev_start: np.ndarray,
                       prev_helper: np.ndarray, prev_weight: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray,
                                                                                  np.ndarray]:  # pragma: no cover
    """Return ``(need_index, helper, strength, start)``: each need's ties of a kind in ``kind_mask`` to willing helpers.

    The edges of :func:`~kyojosim.core.network_kernel.tied_candidates` for ``code[helper, category] == want``,
    given ``bits = willing_bits(code, want)``: need by need, in the order of the requester's CSR row; ``start``
    gives where each need's edges begin (one more entry, the number of edges, at the end).

    A need's edges depend on its requester and category alone (for one adjacency and one ``bits``). Those of the
    needs given before (``prev_slot``, ``prev_category``, their edges ``prev_helper[prev_start[p]:prev_start[p +
    1]]`` and ``prev_weight``, made with the same adjacency and bits) are copied, not read again from the rows:
    each need with ``known`` set is looked for among the earlier needs, forward from the last one found (needs
    still open keep their order), and read from the rows when it is not found; the others are read from the rows.

    Args:
        indptr: Row starts of the adjacency.
        indices: Column (other slot) of each entry.
        data: float32 strength of each entry.
        kinds: uint8 kind bits of each entry.
        kind_mask: Kind bits a tie must carry one of.
        slot: int64 requester slot of each need.
        category: int64 category of each need.
        bits: uint8 byte of every slot (:func:`willing_bits`).
        known: bool per need: it may be one of the earlier needs.
        prev_slot: int64 requester slot of each earlier need.
        prev_category: int64 category of each earlier need.
        prev_start: int64 start of each earlier need's edges (one more entry at the end).
        prev_helper: int64 helper of each earlier edge.
        prev_weight: float64 strength of each earlier edge.
    """
    n = slot.size
    m = prev_slot.size
    found = np.full(n, -1, dtype=np.int64)
    room = 0
    p = 0
    for i in range(n):
        s, c = slot[i], category[i]
        if known[i]:
            q = p
            while q < m and (prev_slot[q] != s or prev_category[q] != c):
                q += 1
            if q < m:
                found[i] = q
                p = q + 1
                room += prev_start[q + 1] - prev_start[q]
                continue
        room += indptr[s + 1] - indptr[s]
    need = np.empty(room, dtype=np.int64)
    helper = np.empty(room, dtype=np.int64)
    weight = np.empty(room, dtype=np.float64)
    start = np.empty(n + 1, dtype=np.int64)
    k = 0
    for i in range(n):
        start[i] = k
        q = found[i]
        if q >= 0:
            for e in range(prev_start[q], prev_start[q + 1]):
                need[k] = i
                helper[k] = prev_helper[e]
                weight[k] = prev_weight[e]
                k += 1
            continue
        s, c = slot[i], category[i]
        for j in range(indptr[s], indptr[s + 1]):
            h = indices[j]
            if (kinds[j] & kind_mask) != 0 and (bits[h] >> c) & 1:
                need[k] = i
                helper[k] = h
                weight[k] = data[j]
                k += 1
    start[n] = k
    return need[:k].copy(), helper[:k].copy(), weight[:k].copy(), start
