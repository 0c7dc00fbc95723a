"""Compiled kernels of the yearly refresh of need probabilities (numba; see :mod:`kyojosim.compiled`).

* :func:`multipliers`: the circumstance multipliers of :func:`kyojosim.aid.needs.circumstance_multipliers`
  in one pass over the residents, multiplying each entry by the rules' factors in the rules' order (the
  same IEEE products as the rule-by-rule array form, so the same values to the bit);
* :func:`group_by_value`: the members of each category grouped by their probability, as a stable
  argsort by value would order them, by a counting sort over the few distinct values (the caller
  sorts instead when there are too many distinct values).
"""

from __future__ import annotations

import numpy as np

from ..compiled import compiled

__all__ = ["MAX_DISTINCT", "group_by_value", "multipliers", "probabilities", "relative_distinct"]

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
