"""Compiled kernels of community membership (numba; see :mod:`kyojosim.compiled`).

* :func:`raw_weights`: the eligibility weights of :func:`kyojosim.core.communities.eligibility_weights`
  before normalisation, one pass over the residents instead of a pass per rule;
* :func:`turnover`: the yearly leaving and joining of :func:`kyojosim.core.community_dynamics.yearly_memberships`
  over (resident, kind) pairs, with the same comparisons and arithmetic as its array form.

Both do the same IEEE operations in the same order as the array code they replace, so their results
are the same to the bit (``tests/test_community_dynamics.py`` compares them).
"""

from __future__ import annotations

import numpy as np

from ..compiled import compiled

__all__ = ["raw_weights", "turnover"]


@compiled
def raw_weights(age: np.ndarray, parent: np.ndarray, employed: np.ndarray, k_pta: int, k_union: int,
                k_work: int, k_agri: int, k_neighbourhood: int, k_volunteer: int, k_religious: int,
                n_kinds: int, older_neighbourhood: float, older_group: float) -> np.ndarray:  # pragma: no cover
    """Return the raw eligibility weights (residents x kinds, float64).

    Each weight starts at 1 (0 under 18) and is multiplied, rule by rule, by ``parent`` (PTA),
    ``employed`` (labour union, workplace group), ``age >= 40`` (agricultural and trade group) and,
    from 60, ``older_neighbourhood`` (neighbourhood association) and ``older_group`` (volunteer and
    religious groups; 1 below 60).
    """
    n = age.size
    w = np.empty((n, n_kinds))
    for i in range(n):
        a = age[i]
        base = 0.0 if a < 18 else 1.0
        for k in range(n_kinds):
            w[i, k] = base
        w[i, k_pta] *= 1.0 if parent[i] else 0.0
        e = 1.0 if employed[i] else 0.0
        w[i, k_union] *= e
        w[i, k_work] *= e
        w[i, k_agri] *= 1.0 if a >= 40 else 0.0
        w[i, k_neighbourhood] *= older_neighbourhood if a >= 60 else 1.0
        g = older_group if a >= 60 else 1.0
        w[i, k_volunteer] *= g
        w[i, k_religious] *= g
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
