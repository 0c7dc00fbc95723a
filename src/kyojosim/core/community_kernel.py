"""Compiled kernels of community membership (numba; see :mod:`kyojosim.compiled`).

* :func:`eligibility`: the eligibility weights of :func:`kyojosim.core.communities.eligibility_weights`
  (each resident's raw weights one rule after the other, in one pass over the residents instead of a
  pass per rule): the households with a school
  child, the raw weights of the residents asked for and their mean over the frame (living, 20-69),
  in passes over the columns without the intermediate arrays (the frame's sums are taken in slot
  order, as numpy's mean over the first axis of the frame's weights adds its rows);
* :func:`chapter_members`: the existing members of a kind by district (a counting sort in slot order),
  from which a newcomer to a local kind draws the member whose chapter they join;
* :func:`turnover`: the yearly leaving and joining of :func:`kyojosim.core.community_dynamics.yearly_memberships`
  over (resident, kind) pairs, with the same comparisons and arithmetic as its array form.

Both do the same IEEE operations in the same order as the array code they replace, so their results
are the same to the bit (``tests/test_community_dynamics.py`` compares them).
"""

from __future__ import annotations

import numpy as np

from ..compiled import compiled

__all__ = ["chapter_members", "eligibility", "turnover"]


@compiled
def _raw_row(w: np.ndarray, a: int, parent: bool, employed: bool, k_pta: int, k_union: int, k_work: int, k_agri: int,
             k_neighbourhood: int, k_volunteer: int, k_religious: int, older_neighbourhood: float,
             older_group: float) -> None:  # pragma: no cover - compiled
    """Fill ``w`` (one row, kinds) with the raw weights of one resident.

    Each weight starts at 1 (0 under 18) and is multiplied, rule by rule, by ``parent`` (PTA),
    ``employed`` (labour union, workplace group), ``age >= 40`` (agricultural and trade group) and,
    from 60, ``older_neighbourhood`` (neighbourhood association) and ``older_group`` (volunteer and
    religious groups; 1 below 60).
    """
    base = 0.0 if a < 18 else 1.0
    for k in range(w.size):
        w[k] = base
    w[k_pta] *= 1.0 if parent else 0.0
    e = 1.0 if employed else 0.0
    w[k_union] *= e
    w[k_work] *= e
    w[k_agri] *= 1.0 if a >= 40 else 0.0
    w[k_neighbourhood] *= older_neighbourhood if a >= 60 else 1.0
    g = older_group if a >= 60 else 1.0
    w[k_volunteer] *= g
    w[k_religious] *= g


@compiled
def eligibility(slots: np.ndarray, age: np.ndarray, role: np.ndarray, household: np.ndarray, alive: np.ndarray,
                employed: np.ndarray, n_households: int, role_child: int, k_pta: int, k_union: int, k_work: int,
                k_agri: int, k_neighbourhood: int, k_volunteer: int, k_religious: int, n_kinds: int,
                older_neighbourhood: float, older_group: float) -> np.ndarray:  # pragma: no cover - compiled
    """Return the eligibility weights (``slots`` x kinds, float64), each kind divided by its mean over the frame.

    A parent is a resident 18-64 who is not a child of the household and lives with a child 6-14
    (``role == role_child``, living); the frame is the living residents aged 20-69. A kind whose mean
    is 0 is divided by 1; with an empty frame the raw weights are returned.
    """
    n = alive.size
    school = np.zeros(n_households, dtype=np.bool_)
    for i in range(n):
        if alive[i] and role[i] == role_child and age[i] >= 6 and age[i] <= 14:
            school[household[i]] = True
    row = np.empty(n_kinds)
    sums = np.zeros(n_kinds)
    count = 0
    for i in range(n):
        a = np.int64(age[i])
        if not alive[i] or a < 20 or a >= 70:
            continue
        parent = school[household[i]] and role[i] != role_child and a >= 18 and a < 65
        _raw_row(row, a, parent, employed[i], k_pta, k_union, k_work, k_agri, k_neighbourhood, k_volunteer,
                 k_religious, older_neighbourhood, older_group)
        for k in range(n_kinds):
            sums[k] += row[k]
        count += 1
    mean = np.ones(n_kinds)
    if count > 0:
        for k in range(n_kinds):
            m = sums[k] / count
            mean[k] = 1.0 if m == 0 else m
    w = np.empty((slots.size, n_kinds))
    for j in range(slots.size):
        s = slots[j]
        a = np.int64(age[s])
        parent = school[household[s]] and role[s] != role_child and a >= 18 and a < 65
        _raw_row(row, a, parent, employed[s], k_pta, k_union, k_work, k_agri, k_neighbourhood, k_volunteer,
                 k_religious, older_neighbourhood, older_group)
        for k in range(n_kinds):
            w[j, k] = row[k] / mean[k] if count > 0 else row[k]
    return w


@compiled
def turnover(groups: np.ndarray, slots: np.ndarray, level: np.ndarray, w: np.ndarray, rates: np.ndarray,
             u: np.ndarray, leave_below: float, rate: float, cap: float) -> np.ndarray:  # pragma: no cover
    """Apply a year of leaving to ``groups`` (in place) and return who joins which kind.

    For slot ``s = slots[i]`` and kind ``k``, with ``p = min(level[i] * w[i, k] * rates[k], cap)``: a
    member (``groups[s, k] >= 0``) leaves (group -1) if ``p <= 0`` or ``u[0, i, k] < leave_below``; a
    non-member joins (``True`` in the result) if ``p > 0`` and ``u[1, i, k] < rate * p / (1 - p)``.
    ``leave_below`` is the turnover rate as the comparison with the float32 uniforms sees it.
    """
    n, n_kinds = w.shape
    join = np.zeros((n, n_kinds), dtype=np.bool_)
    for i in range(n):
        s = slots[i]
        for k in range(n_kinds):
            p = min(level[i] * w[i, k] * rates[k], cap)
            if groups[s, k] >= 0:
                if p <= 0 or np.float64(u[0, i, k]) < leave_below:
                    groups[s, k] = -1
            elif p > 0 and np.float64(u[1, i, k]) < rate * p / (1.0 - p):
                join[i, k] = True
    return join


@compiled
def chapter_members(groups: np.ndarray, alive: np.ndarray, district: np.ndarray, k: int,
                    new: np.ndarray) -> tuple[np.ndarray, np.ndarray]:  # pragma: no cover - compiled
    """Return ``(start, members)``: the living members of kind ``k`` by district, in slot order within each.

    The members of district ``d`` are ``members[start[d]:start[d + 1]]``: every living slot with
    ``groups[slot, k] >= 0`` except the slots in ``new`` (those joining the kind now), in ascending
    slot order, which is the order of the living sorted stably by district and then filtered.
    """
    n = alive.size
    n_districts = 0
    for i in range(n):
        if district[i] + 1 > n_districts:
            n_districts = district[i] + 1
    skip = np.zeros(n, dtype=np.bool_)
    for s in new:
        skip[s] = True
    start = np.zeros(n_districts + 1, dtype=np.int64)
    for i in range(n):
        if alive[i] and groups[i, k] >= 0 and not skip[i]:
            start[district[i] + 1] += 1
    for d in range(n_districts):
        start[d + 1] += start[d]
    members = np.empty(start[n_districts], dtype=np.int64)
    fill = start[:n_districts].copy()
    for i in range(n):
        if alive[i] and groups[i, k] >= 0 and not skip[i]:
            d = district[i]
            members[fill[d]] = i
            fill[d] += 1
    return start, members
