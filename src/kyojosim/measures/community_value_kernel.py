"""Compiled kernels of the monthly Community Value record (numba; see :mod:`kyojosim.compiled`).

:func:`exposures` and :func:`month_totals` are the two passes of
:func:`kyojosim.measures.community_value.monthly_record` around its draws of replies and reactions,
with integer counts where the array form sums integers in float64 (exact below 2**53), so that every
count is the same.
"""

from __future__ import annotations

import numpy as np

from ..compiled import compiled

__all__ = ["exposures", "month_totals", "spread", "user_exposures"]


@compiled
def exposures(users: np.ndarray, need_posts: np.ndarray, info: np.ndarray, a: np.ndarray,
              b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:  # pragma: no cover - compiled
    """Return ``(posts, exposure)`` per slot.

    ``posts`` is the need posts of a user plus its information posts (``info``, drawn for every slot;
    0 for a non-user); ``exposure`` the posts of the other end summed over every tie ``(a, b)`` among
    users, in both directions.
    """
    n = users.size
    posts = np.empty(n, dtype=np.int64)
    for i in range(n):
        posts[i] = need_posts[i] + info[i] if users[i] else 0
    exposure = np.zeros(n, dtype=np.int64)
    for j in range(a.size):
        exposure[a[j]] += posts[b[j]]
        exposure[b[j]] += posts[a[j]]
    return posts, exposure


@compiled
def month_totals(users: np.ndarray, need_posts: np.ndarray, posts: np.ndarray, replies: np.ndarray,
                 reactions: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:  # pragma: no cover - compiled
    """Return the month's totals: users, MAU, posts, need posts, replies, reactions, activity, active connections.

    A user is active if it posted, replied or reacted; activity is the users' posts, replies and reactions;
    an active connection is a tie ``(a, b)`` whose two ends are active; posts, replies and reactions are
    summed over every slot, need posts over users.
    """
    n = users.size
    active = np.zeros(n, dtype=np.bool_)
    out = np.zeros(8, dtype=np.int64)
    for i in range(n):
        acts = posts[i] + replies[i] + reactions[i]
        out[2] += posts[i]
        out[4] += replies[i]
        out[5] += reactions[i]
        if users[i]:
            out[0] += 1
            out[3] += need_posts[i]
            out[6] += acts
            if acts > 0:
                active[i] = True
                out[1] += 1
    both = 0
    for j in range(a.size):  # branch-free: the ends' activity are random, a branch would be mispredicted
        both += np.int64(active[a[j]]) & np.int64(active[b[j]])
    out[7] = both
    return out


@compiled
def user_exposures(need: np.ndarray, info: np.ndarray, a: np.ndarray,
                   b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:  # pragma: no cover - compiled
    """Return ``(posts, exposure)`` per user.

    ``posts`` is the need plus information posts; ``exposure`` the posts of the other end summed over every tie
    ``(a, b)`` among users (ends numbered as users), in both directions.
    """
    posts = need + info
    small = posts.astype(np.int32)  # counts of a month, far below 2**31; half the memory of the random reads
    seen = np.zeros(posts.size, dtype=np.int32)
    for j in range(a.size):
        x = a[j]
        y = b[j]
        seen[x] += small[y]
        seen[y] += small[x]
    return posts, seen.astype(np.int64)


@compiled
def spread(exposure: np.ndarray, picked: np.ndarray) -> np.ndarray:  # pragma: no cover - compiled
    """Return how many of the ``picked`` posts fall in each row.

    The posts are numbered row by row: row ``r`` holds numbers ``exposure[:r].sum()`` to
    ``exposure[:r + 1].sum() - 1``; ``picked`` is sorted ascending, each below ``exposure.sum()``.
    """
    out = np.zeros(exposure.size, dtype=np.int64)
    r = 0
    end = exposure[0] if exposure.size else 0
    for q in picked:
        while q >= end:
            r += 1
            end += exposure[r]
        out[r] += 1
    return out
