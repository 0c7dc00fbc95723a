"""Compiled kernels of the local SNS's and the offline events' yearly meetings (numba; see :mod:`kyojosim.compiled`).

* :func:`online_only_between`: the online-only ties whose two ends are marked (and, if asked, live in
  the same district), in one pass over the ties, instead of the index of every online-only tie and
  gathers of its ends;
* :func:`ends_of_pairs`, :func:`mark_attendance` and :func:`met_at_marked`: the pairs whose two ends attend a
  common meetup, from the meetups' uniforms: each meetup's attendance is one bit of a byte per slot, and the pairs
  are read once for up to eight meetups.

Each gives what the array form in :mod:`kyojosim.aid.channels.local_sns` gives, in the same order
(``tests/test_local_sns.py`` compares them).
"""

from __future__ import annotations

import numpy as np

from ...compiled import compiled

__all__ = ["ends_of_pairs", "mark_attendance", "met_at_marked", "online_only_between"]


@compiled
def online_only_between(a: np.ndarray, b: np.ndarray, kind: np.ndarray, online_kind: int, mark: np.ndarray,
                        district: np.ndarray, same_district: bool) -> np.ndarray:  # pragma: no cover - compiled
    """Return the indices (ascending, int64) of the ties of kind exactly ``online_kind`` between two marked slots.

    With ``same_district``, only the ties whose two ends have the same ``district`` (``district`` is not
    read otherwise).
    """
    # the online-only ties (counted first: an array of their size, not of every tie's, which at a city's size
    # would be memory the allocator maps anew at every call), then those between two marked ends, each written
    # without a branch (the kinds and marks follow no pattern the processor could predict)
    j = 0
    for t in range(a.size):
        j += kind[t] == online_kind
    out = np.empty(j + 1, dtype=np.int64)  # one more: the branchless write of a tie that is not kept
    j = 0
    for t in range(a.size):
        out[j] = t
        j += kind[t] == online_kind
    k = 0
    for i in range(j):
        t = out[i]
        x, y = a[t], b[t]
        keep = mark[x] & mark[y]
        if same_district:
            keep &= district[x] == district[y]
        out[k] = t
        k += keep
    return out[:k]


@compiled
def ends_of_pairs(a: np.ndarray, b: np.ndarray, size: int) -> np.ndarray:  # pragma: no cover - compiled
    """Return the slots (ascending, int64) at an end of some pair ``(a[i], b[i])``; every slot is below ``size``."""
    is_end = np.zeros(size, dtype=np.bool_)
    for i in range(a.size):
        is_end[a[i]] = True
        is_end[b[i]] = True
    count = 0
    for s in range(size):
        count += is_end[s]
    ends = np.empty(count, dtype=np.int64)
    k = 0
    for s in range(size):
        if is_end[s]:
            ends[k] = s
            k += 1
    return ends


@compiled
def mark_attendance(ends: np.ndarray, u: np.ndarray, attendance: float, bit: int,
                    attend: np.ndarray) -> None:  # pragma: no cover - compiled
    """Set ``bit`` in ``attend[ends[e]]`` (a byte per slot) where ``u[e] < attendance``: who attends one meetup."""
    flag = np.uint8(bit)
    for e in range(ends.size):
        if u[e] < attendance:
            attend[ends[e]] |= flag


@compiled
def met_at_marked(a: np.ndarray, b: np.ndarray, attend: np.ndarray, met: np.ndarray) -> None:  # pragma: no cover
    """Set ``met[i]`` where both ends of pair ``i`` attend a common meetup (a bit set in both ends' bytes)."""
    for i in range(a.size):
        met[i] |= (attend[a[i]] & attend[b[i]]) != 0
