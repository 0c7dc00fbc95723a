"""Compiled kernels of the yearly refresh of need probabilities (numba; see :mod:`kyojosim.compiled`).

* :func:`multipliers`: the circumstance multipliers of :func:`kyojosim.aid.needs.circumstance_multipliers`
  in one pass over the residents, multiplying each entry by the rules' factors in the rules' order (the
  same IEEE products as the rule-by-rule array form, so the same values to the bit);
* :func:`circumstances`: the circumstances the multipliers read (no car, living alone, a frail
  family member, a parent of a young child) from the columns, in two passes (households, residents);
* :func:`frame_mean`: the mean multiplier of each category over the survey frame, the rows added in
  order (as numpy's mean over the first axis adds them), without copying the frame's rows;
* :func:`relative_distinct_all`: the distinct relative multipliers of every category over the frame
  and their counts, in one pass;
* :func:`circumstance_codes`, :func:`code_rows` and :func:`frame_mean_coded`: the same, from one byte per
  resident (the circumstances the multipliers depend on) and the multipliers of each of the 128 codes,
  instead of a row of multipliers per resident; :func:`group_codes`: the need groups from those codes;
  :func:`coded_circumstances`: the codes straight from the columns (the households' counts in one word each);
* :func:`group_all`: the need groups of every category at once (:func:`group_by_value` of each
  column, laid out one category after the other), in three passes over the probabilities;
* :func:`group_by_value`: the members of each category grouped by their probability, as a stable
  argsort by value would order them, by a counting sort over the few distinct values (the caller
  sorts instead when there are too many distinct values).

The weekly draw of the needy residents is in :mod:`kyojosim.aid.choice_kernel`.
"""

from __future__ import annotations

import numpy as np

from ..compiled import compiled

__all__ = ["HOUSEHOLD_FIELD", "MAX_DISTINCT", "N_CODES", "circumstance_codes", "circumstances",
           "code_rows",
           "coded_circumstances", "frame_mean",
           "frame_mean_coded", "group_all", "group_by_value", "group_codes", "multipliers", "probabilities",
           "relative_distinct", "relative_distinct_all"]

MAX_DISTINCT = 64
"""Most distinct values :func:`group_by_value` groups by counting; beyond it the caller sorts."""


@compiled
def multipliers(age: np.ndarray, frail: np.ndarray, no_car: np.ndarray, alone: np.ndarray, other_frail: np.ndarray,
                parent: np.ndarray, live: np.ndarray, old_cat: np.ndarray, car_cat: np.ndarray,
                alone_cat: np.ndarray, family_care: int, childcare: int, frail_m: float, old_m: float,
                no_car_m: float, alone_m: float, family_m: float, family_without_m: float,
                childcare_m: float) -> np.ndarray:  # pragma: no cover - compiled
    """Return the multipliers (slots x categories, float64).

    Each entry starts at 1 and is multiplied in turn by ``frail_m`` (frail), ``old_m`` (75+, the
    categories of ``old_cat``), ``no_car_m`` (``no_car``, ``car_cat``), ``alone_m`` (``alone``,
    ``alone_cat``) and, for family care, ``family_m`` or ``family_without_m`` (``other_frail``);
    childcare is ``childcare_m`` for a ``parent``, else 0; the row is 0 under 15 and for a dead slot.
    """
    n = age.size
    n_cat = old_cat.size
    m = np.empty((n, n_cat))
    for i in range(n):
        if age[i] < 15 or not live[i]:
            for c in range(n_cat):
                m[i, c] = 0.0
            continue
        old = age[i] >= 75
        for c in range(n_cat):
            v = 1.0
            if frail[i]:
                v *= frail_m
            if old and old_cat[c]:
                v *= old_m
            if no_car[i] and car_cat[c]:
                v *= no_car_m
            if alone[i] and alone_cat[c]:
                v *= alone_m
            if c == family_care:
                v *= family_m if other_frail[i] else family_without_m
            if c == childcare:
                v = childcare_m if parent[i] else 0.0
            m[i, c] = v
    return m


@compiled
def group_by_value(col: np.ndarray, max_distinct: int):  # pragma: no cover - compiled
    """Return ``(order, first, n_distinct)``: the rows with ``col > 0`` ordered by value, and where each value starts.

    ``order`` is ``idx[np.argsort(col[idx], kind="stable")]`` with ``idx`` the rows where ``col > 0``
    (ties in row order); ``first`` the positions in ``order`` where a new value begins. ``n_distinct``
    is -1 (and the arrays empty) if ``col`` has more than ``max_distinct`` distinct positive values.
    """
    distinct = np.empty(max_distinct, dtype=col.dtype)
    n_distinct = 0
    total = 0
    last = -1
    for i in range(col.size):
        x = col[i]
        if not x > 0:
            continue
        total += 1
        if last >= 0 and distinct[last] == x:
            continue
        last = -1
        for j in range(n_distinct):
            if distinct[j] == x:
                last = j
                break
        if last < 0:
            if n_distinct == max_distinct:
                return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64), -1
            distinct[n_distinct] = x
            last = n_distinct
            n_distinct += 1
    values = np.sort(distinct[:n_distinct])
    count = np.zeros(n_distinct + 1, dtype=np.int64)
    code = np.full(col.size, -1, dtype=np.int64)
    for i in range(col.size):
        x = col[i]
        if x > 0:
            k = np.searchsorted(values, x)
            code[i] = k
            count[k + 1] += 1
    for k in range(n_distinct):
        count[k + 1] += count[k]
    first = count[:n_distinct].copy()
    fill = count[:n_distinct].copy()
    order = np.empty(total, dtype=np.int64)
    for i in range(col.size):
        k = code[i]
        if k >= 0:
            order[fill[k]] = i
            fill[k] += 1
    return order, first, n_distinct


@compiled
def relative_distinct(m: np.ndarray, frame: np.ndarray, mean: np.ndarray, c: int,
                      max_distinct: int):  # pragma: no cover - compiled
    """Return the distinct values of ``m[frame, c] / mean[c]`` (ascending) and how often each occurs.

    What ``np.unique((m / mean)[frame][:, c], return_counts=True)`` returns; ``n_distinct`` -1 (and the
    arrays empty) when there are more than ``max_distinct`` distinct values.
    """
    distinct = np.empty(max_distinct)
    tally = np.zeros(max_distinct, dtype=np.int64)
    n_distinct = 0
    last = -1
    for i in range(m.shape[0]):
        if not frame[i]:
            continue
        x = m[i, c] / mean[c]
        if last >= 0 and distinct[last] == x:
            tally[last] += 1
            continue
        last = -1
        for j in range(n_distinct):
            if distinct[j] == x:
                last = j
                break
        if last < 0:
            if n_distinct == max_distinct:
                return np.empty(0), np.empty(0, dtype=np.int64), -1
            distinct[n_distinct] = x
            last = n_distinct
            n_distinct += 1
        tally[last] += 1
    order = np.argsort(distinct[:n_distinct])
    return distinct[:n_distinct][order], tally[:n_distinct][order], n_distinct


@compiled
def probabilities(m: np.ndarray, mean: np.ndarray, b: np.ndarray) -> np.ndarray:  # pragma: no cover - compiled
    """Return ``np.clip(b * (m / mean), 0, 1)`` as float32 (slots x categories)."""
    n, n_cat = m.shape
    out = np.empty((n, n_cat), dtype=np.float32)
    for i in range(n):
        for c in range(n_cat):
            v = b[c] * (m[i, c] / mean[c])
            if v < 0.0:
                v = 0.0
            if v > 1.0:
                v = 1.0
            out[i, c] = np.float32(v)
    return out


@compiled
def frame_mean(m: np.ndarray, frame: np.ndarray) -> np.ndarray:  # pragma: no cover - compiled
    """Return ``m[frame].mean(axis=0)``: each column's sum over the frame's rows in row order, over their number."""
    n, n_cat = m.shape
    sums = np.zeros(n_cat)
    count = 0
    for i in range(n):
        if frame[i]:
            for c in range(n_cat):
                sums[c] += m[i, c]
            count += 1
    return sums / count


@compiled
def relative_distinct_all(m: np.ndarray, frame: np.ndarray, mean: np.ndarray,
                          max_distinct: int):  # pragma: no cover - compiled
    """Return ``(values, counts, n_distinct)``: :func:`relative_distinct` of every category (rows of the arrays).

    ``values[c, :n_distinct[c]]`` (ascending) and ``counts[c, :n_distinct[c]]``; ``n_distinct[c]`` is -1
    for a category with more than ``max_distinct`` distinct values.
    """
    n, n_cat = m.shape
    distinct = np.empty((n_cat, max_distinct))
    tally = np.zeros((n_cat, max_distinct), dtype=np.int64)
    nd = np.zeros(n_cat, dtype=np.int64)
    last = np.full(n_cat, -1, dtype=np.int64)
    for i in range(n):
        if not frame[i]:
            continue
        for c in range(n_cat):
            if nd[c] < 0:
                continue
            x = m[i, c] / mean[c]
            k = last[c]
            if k >= 0 and distinct[c, k] == x:
                tally[c, k] += 1
                continue
            k = -1
            for j in range(nd[c]):
                if distinct[c, j] == x:
                    k = j
                    break
            if k < 0:
                if nd[c] == max_distinct:
                    nd[c] = -1
                    continue
                k = nd[c]
                distinct[c, k] = x
                nd[c] += 1
            tally[c, k] += 1
            last[c] = k
    values = np.empty((n_cat, max_distinct))
    counts = np.zeros((n_cat, max_distinct), dtype=np.int64)
    for c in range(n_cat):
        if nd[c] > 0:
            order = np.argsort(distinct[c, : nd[c]])
            for j in range(nd[c]):
                values[c, j] = distinct[c, order[j]]
                counts[c, j] = tally[c, order[j]]
    return values, counts, nd


@compiled
def group_all(prob: np.ndarray, max_distinct: int):  # pragma: no cover - compiled
    """Return ``(category, value, start, members, ok)``: the residents grouped by category and probability.

    For each category in turn, the rows with ``prob[:, c] > 0`` ordered as :func:`group_by_value` orders
    them (by value, ties in row order); group ``g`` is category ``category[g]`` with probability
    ``value[g]`` and members ``members[start[g]:start[g + 1]]``. ``ok`` is False (and the arrays empty)
    if a category has more than ``max_distinct`` distinct positive values (at most 127: each entry's value
    is noted as an int8 in the first pass, and the second pass reads those instead of the probabilities).
    """
    n, n_cat = prob.shape
    max_distinct = min(max_distinct, 127)
    distinct = np.empty((n_cat, max_distinct), dtype=prob.dtype)
    nd = np.zeros(n_cat, dtype=np.int64)
    last = np.full(n_cat, -1, dtype=np.int64)
    # one pass over the probabilities: each entry's distinct value (in order of first sight; -1 if not > 0)
    code = np.empty((n, n_cat), dtype=np.int8)
    seen = np.zeros((n_cat, max_distinct), dtype=np.int64)  # entries of each distinct value
    for i in range(n):
        for c in range(n_cat):
            x = prob[i, c]
            if not x > 0:
                code[i, c] = -1
                continue
            k = last[c]
            if not (k >= 0 and distinct[c, k] == x):
                k = -1
                for j in range(nd[c]):
                    if distinct[c, j] == x:
                        k = j
                        break
                if k < 0:
                    if nd[c] == max_distinct:
                        return (np.empty(0, dtype=np.int64), np.empty(0), np.zeros(1, dtype=np.int64),
                                np.empty(0, dtype=np.int64), False)
                    k = nd[c]
                    distinct[c, k] = x
                    nd[c] += 1
                last[c] = k
            code[i, c] = k
            seen[c, k] += 1
    n_groups = 0
    for c in range(n_cat):
        n_groups += nd[c]
    base = np.zeros(n_cat + 1, dtype=np.int64)  # the first group of each category
    group = np.empty((n_cat, max_distinct), dtype=np.int64)  # the group of each distinct value (by value)
    category = np.empty(n_groups, dtype=np.int64)
    value = np.empty(n_groups)
    count = np.zeros(n_groups + 1, dtype=np.int64)
    for c in range(n_cat):
        base[c + 1] = base[c] + nd[c]
        order = np.argsort(distinct[c, : nd[c]])
        for r in range(nd[c]):
            k = order[r]
            g = base[c] + r
            group[c, k] = g
            category[g] = c
            value[g] = np.float64(distinct[c, k])
            count[g + 1] = seen[c, k]
    for g in range(n_groups):
        count[g + 1] += count[g]
    fill = count[:n_groups].copy()
    members = np.empty(count[n_groups], dtype=np.int64)
    for i in range(n):
        for c in range(n_cat):
            k = code[i, c]
            if k >= 0:
                g = group[c, k]
                members[fill[g]] = i
                fill[g] += 1
    return category, value, count, members, True


@compiled
def circumstances(age: np.ndarray, frail: np.ndarray, drives: np.ndarray, live: np.ndarray, household: np.ndarray,
                  role: np.ndarray, n_households: int, role_child: int) -> tuple[np.ndarray, np.ndarray, np.ndarray,
                                                                                   np.ndarray]:  # pragma: no cover
    """Return ``(no_car, alone, other_frail, parent)`` of every slot.

    ``no_car``: 18+ and not driving; ``alone``: the only living member of the household; ``other_frail``:
    another living member of the household is frail; ``parent``: 18+, not a child of the household,
    living with a living child under 12 (``role_child``). Household counts are of living members.
    """
    n = age.size
    size = np.zeros(n_households, dtype=np.int64)
    frail_in = np.zeros(n_households, dtype=np.int64)
    child = np.zeros(n_households, dtype=np.bool_)
    for i in range(n):
        if live[i]:
            h = household[i]
            size[h] += 1
            if frail[i]:
                frail_in[h] += 1
            if age[i] < 12 and role[i] == role_child:
                child[h] = True
    no_car = np.empty(n, dtype=np.bool_)
    alone = np.empty(n, dtype=np.bool_)
    other_frail = np.empty(n, dtype=np.bool_)
    parent = np.empty(n, dtype=np.bool_)
    for i in range(n):
        h = household[i]
        no_car[i] = (not drives[i]) and age[i] >= 18
        alone[i] = size[h] == 1
        other_frail[i] = frail_in[h] - (1 if frail[i] else 0) > 0
        parent[i] = child[h] and role[i] != role_child and age[i] >= 18
    return no_car, alone, other_frail, parent


N_CODES = 128
"""Circumstance codes (:func:`circumstance_codes`): 7 bits."""


@compiled
def circumstance_codes(age: np.ndarray, frail: np.ndarray, no_car: np.ndarray, alone: np.ndarray,
                       other_frail: np.ndarray, parent: np.ndarray, live: np.ndarray) -> np.ndarray:  # pragma: no cover
    """Return each slot's circumstances as one byte: what its row of :func:`multipliers` depends on.

    Bits: 1 frail, 2 aged 75+, 4 no car, 8 living alone, 16 a frail family member, 32 a parent of a young
    child, 64 no needs of its own (under 15 or a dead slot). :func:`code_rows` gives the row of each code.
    """
    n = age.size
    code = np.empty(n, dtype=np.uint8)
    for i in range(n):
        if age[i] < 15 or not live[i]:
            code[i] = 64
            continue
        k = 0
        if frail[i]:
            k |= 1
        if age[i] >= 75:
            k |= 2
        if no_car[i]:
            k |= 4
        if alone[i]:
            k |= 8
        if other_frail[i]:
            k |= 16
        if parent[i]:
            k |= 32
        code[i] = k
    return code


HOUSEHOLD_FIELD = 10
"""Bits of each count (living members, frail members, young children) in :func:`coded_circumstances`' word per
household: households of up to ``2 ** 10 - 1`` living members are counted in one int32."""


@compiled
def coded_circumstances(age: np.ndarray, frail: np.ndarray, drives: np.ndarray, live: np.ndarray,
                        household: np.ndarray, role: np.ndarray, n_households: int,
                        role_child: int) -> tuple[np.ndarray, bool]:  # pragma: no cover - compiled
    """Return ``(code, ok)``: :func:`circumstance_codes` of :func:`circumstances`, in two passes.

    The living members, frail members and young children (under 12, ``role_child``) of each household are
    counted in one int32 word per household (:data:`HOUSEHOLD_FIELD` bits each; half the memory of separate
    counts, added without branches), then each slot's code is read from its household's word. ``ok`` is
    False (and the codes empty) if a household has too many living members for the word.
    """
    n = age.size
    full = np.int32((1 << HOUSEHOLD_FIELD) - 1)
    word = np.zeros(n_households, dtype=np.int32)
    for i in range(n):
        if live[i]:
            h = household[i]
            w = word[h]
            if (w & full) == full:
                return np.zeros(0, dtype=np.uint8), False
            young = np.int32(age[i] < 12) & np.int32(role[i] == role_child)
            word[h] = w + np.int32(1) + (np.int32(frail[i]) << HOUSEHOLD_FIELD) + (young << (2 * HOUSEHOLD_FIELD))
    code = np.empty(n, dtype=np.uint8)
    for i in range(n):
        a = age[i]
        if a < 15 or not live[i]:
            code[i] = 64
            continue
        w = word[household[i]]
        f = np.int32(frail[i])
        k = f
        k |= np.int32(a >= 75) << 1
        k |= (np.int32(not drives[i]) & np.int32(a >= 18)) << 2
        k |= np.int32((w & full) == 1) << 3
        k |= np.int32(((w >> HOUSEHOLD_FIELD) & full) - f > 0) << 4
        k |= (np.int32(((w >> (2 * HOUSEHOLD_FIELD)) & full) > 0) & np.int32(role[i] != role_child)
              & np.int32(a >= 18)) << 5
        code[i] = np.uint8(k)
    return code, True


def code_rows() -> tuple[np.ndarray, ...]:
    """Return ``(age, frail, no_car, alone, other_frail, parent, live)`` of one made-up resident per code.

    Passed to :func:`multipliers`, they give the multipliers of every code by the same products as
    for a resident with that code (so ``multipliers(...)[circumstance_codes(...)]`` is the resident's row).
    """
    k = np.arange(N_CODES)
    age = np.where(k & 64, 0, np.where(k & 2, 75, 20)).astype(np.int64)
    return (age, (k & 1) > 0, (k & 4) > 0, (k & 8) > 0, (k & 16) > 0, (k & 32) > 0, np.ones(N_CODES, dtype=np.bool_))


@compiled
def frame_mean_coded(code: np.ndarray, table: np.ndarray, frame: np.ndarray) -> np.ndarray:  # pragma: no cover
    """Return :func:`frame_mean` of the rows ``table[code]`` (the same sums in the same order), and the code counts.

    Returns:
        ``(mean, tally)``: the mean row over the frame, and how many of the frame's rows have each code.
    """
    n_cat = table.shape[1]
    sums = np.zeros(n_cat)
    tally = np.zeros(table.shape[0], dtype=np.int64)
    count = 0
    for i in range(code.size):
        if frame[i]:
            k = code[i]
            for c in range(n_cat):
                sums[c] += table[k, c]
            tally[k] += 1
            count += 1
    return sums / count, tally


@compiled
def group_codes(code: np.ndarray, per_code: np.ndarray, max_distinct: int):  # pragma: no cover - compiled
    """Return :func:`group_all` of ``per_code[code]``, from the codes (no row of probabilities per resident read).

    ``per_code`` (codes x categories, float32) holds each code's probabilities. The groups of a category
    are the distinct positive probabilities of the codes that occur, ascending; members in row order.
    ``ok`` is False (and the arrays empty) if a category has more than ``max_distinct`` of them.
    """
    n_codes, n_cat = per_code.shape
    tally = np.zeros(n_codes, dtype=np.int64)
    for i in range(code.size):
        tally[code[i]] += 1
    group = np.full((n_cat, n_codes), -1, dtype=np.int64)
    base = np.zeros(n_cat + 1, dtype=np.int64)
    values = np.empty((n_cat, n_codes), dtype=per_code.dtype)
    nd = np.zeros(n_cat, dtype=np.int64)
    for c in range(n_cat):
        for k in range(n_codes):
            x = per_code[k, c]
            if tally[k] > 0 and x > 0:
                new = True
                for j in range(nd[c]):
                    if values[c, j] == x:
                        new = False
                        break
                if new:
                    values[c, nd[c]] = x
                    nd[c] += 1
        if nd[c] > max_distinct:
            return (np.empty(0, dtype=np.int64), np.empty(0), np.zeros(1, dtype=np.int64),
                    np.empty(0, dtype=np.int64), False)
        values[c, : nd[c]] = np.sort(values[c, : nd[c]])
        base[c + 1] = base[c] + nd[c]
    n_groups = base[n_cat]
    category = np.empty(n_groups, dtype=np.int64)
    value = np.empty(n_groups)
    count = np.zeros(n_groups + 1, dtype=np.int64)
    for c in range(n_cat):
        for r in range(nd[c]):
            category[base[c] + r] = c
            value[base[c] + r] = np.float64(values[c, r])
        for k in range(n_codes):
            x = per_code[k, c]
            if tally[k] > 0 and x > 0:
                r = np.searchsorted(values[c, : nd[c]], x)
                group[c, k] = base[c] + r
                count[base[c] + r + 1] += tally[k]
    for g in range(n_groups):
        count[g + 1] += count[g]
    fill = count[:n_groups].copy()
    members = np.empty(count[n_groups], dtype=np.int64)
    for i in range(code.size):
        k = code[i]
        for c in range(n_cat):
            g = group[c, k]
            if g >= 0:
                members[fill[g]] = i
                fill[g] += 1
    return category, value, count, members, True
