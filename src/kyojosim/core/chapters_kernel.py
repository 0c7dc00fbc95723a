"""Compiled kernel of the chapter lists of the local kinds (numba; see :mod:`kyojosim.compiled`).

:func:`ids_after_joining` gives the group of each member of the lists after a joining
(:func:`kyojosim.core.communities.join_communities`) from the groups listed before it, reading the
groups of the joiners only, in one pass over the lists.
"""

from __future__ import annotations

import numpy as np

from ..compiled import compiled

__all__ = ["ids_after_joining"]


@compiled
def ids_after_joining(start: np.ndarray, members: np.ndarray, ids: np.ndarray, new_start: np.ndarray,
                      new_members: np.ndarray, kinds: np.ndarray, groups: np.ndarray) -> np.ndarray:  # pragma: no cover
    """Return ``groups[new_members[e], kinds[j]]`` for every entry ``e`` of the lists of ``kinds[j]`` after a joining.

    ``start``, ``members`` and ``ids`` are the chapter lists before the joining, with the group of each member
    (:class:`kyojosim.core.communities.Chapters`); ``new_start`` and ``new_members`` are the lists after it
    (:func:`kyojosim.core.community_kernel.chapters_joined`): each list of a kind and district holds the members
    it held before, in the same slot order, merged with the joiners. A member listed before keeps its group
    (nobody else's group changed in the joining), so its group is taken from ``ids``; the joiners' are read
    from ``groups``.
    """
    n_kinds, width = start.shape
    out = np.empty(new_members.size, dtype=np.int64)
    for j in range(n_kinds):
        k = kinds[j]
        for d in range(width - 1):
            p = start[j, d]
            stop = start[j, d + 1]
            for e in range(new_start[j, d], new_start[j, d + 1]):
                s = new_members[e]
                if p < stop and members[p] == s:
                    out[e] = ids[p]
                    p += 1
                else:
                    out[e] = groups[s, k]
    return out
