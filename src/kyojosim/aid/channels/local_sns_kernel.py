"""Compiled kernels of the local SNS's and the offline events' yearly meetings (numba; see :mod:`kyojosim.compiled`).

* :func:`online_only_between`: the online-only ties whose two ends are marked (and, if asked, live in
  the same district), in one pass over the ties, instead of the index of every online-only tie and
  gathers of its ends;
* :func:`meet_at_one_event`: the pairs whose two ends attend one meetup, from that meetup's uniforms.

Each gives what the array form in :mod:`kyojosim.aid.channels.local_sns` gives, in the same order
(``tests/test_local_sns.py`` compares them).
"""

from __future__ import annotations

import numpy as np

from ...compiled import compiled

__all__ = ["meet_at_one_event", "online_only_between"]


@compiled
def online_only_between(a: np.ndarray, b: np.ndarray, kind: np.ndarray, online_kind: int, mark: np.ndarray,
                        district: np.ndarray, same_district: bool) -> np.ndarray:  # pragma: no cover - compiled
    """Return the indices (ascending, int64) of the ties of kind exactly ``online_kind`` between two marked slots.

    With ``same_district``, only the ties whose two ends have the same ``district`` (``district`` is not
    read otherwise).
    """
    out = np.empty(a.size, dtype=np.int64)  # room for every tie; the result is the first ``k`` (pages as written)
    # the online-only ties, then those between two marked ends, each written without a branch (the kinds and
    # marks follow no pattern the processor could predict)
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
def meet_at_one_event(u: np.ndarray, attendance: float, at_a: np.ndarray, at_b: np.ndarray,
                      met: np.ndarray) -> None:  # pragma: no cover - compiled
    """Set ``met[i]`` where both ends of pair ``i`` attend the meetup.

    End ``e`` attends if ``u[e] < attendance``; the ends of pair ``i`` are ``at_a[i]`` and ``at_b[i]``.
    """
    for i in range(at_a.size):
        if u[at_a[i]] < attendance and u[at_b[i]] < attendance:
            met[i] = True
