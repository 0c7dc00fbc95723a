"""Compiled kernels of the monthly Community Value record (numba; see :mod:`kyojosim.compiled`).

:func:`exposures` and :func:`month_totals` are the two passes of
:func:`kyojosim.measures.community_value.monthly_record` around its draws of replies and reactions,
with integer counts where the array form sums integers in float64 (exact below 2**53), so that every
count is the same; :func:`binomial_counts` draws the replies and reactions (binomial counts by inversion).
"""

from __future__ import annotations

import numpy as np

from ..compiled import compiled

__all__ = ["binomial_counts", "blocks", "exposures", "month_totals", "user_exposures"]


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
                 reactions: np.ndarray, a: np.ndarray, b: np.ndarray, a2: np.ndarray,
                 b2: np.ndarray) -> np.ndarray:  # pragma: no cover - compiled
    """Return the month's totals: users, MAU, posts, need posts, replies, reactions, activity, active connections.

    A user is active if it posted, replied or reacted; activity is the users' posts, replies and reactions;
    an active connection is a tie ``(a, b)`` or ``(a2, b2)`` (the ties in two parts, not copied into one)
    whose two ends are active; posts, replies and reactions are summed over every slot, need posts over users.
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
    for j in range(a2.size):
        both += np.int64(active[a2[j]]) & np.int64(active[b2[j]])
    out[7] = both
    return out


@compiled
def user_exposures(need: np.ndarray, info: np.ndarray, a: np.ndarray, b: np.ndarray, a2: np.ndarray,
                   b2: np.ndarray) -> tuple[np.ndarray, np.ndarray]:  # pragma: no cover - compiled
    """Return ``(posts, exposure)`` per user.

    ``posts`` is the need plus information posts; ``exposure`` the posts of the other end summed over every tie
    ``(a, b)`` and ``(a2, b2)`` among users (the ties in two parts; ends numbered as users), in both directions.
    """
    posts = need + info
    small = posts.astype(np.int32)  # counts of a month, far below 2**31; half the memory of the random reads
    seen = np.zeros(posts.size, dtype=np.int32)
    for j in range(a.size):
        x = a[j]
        y = b[j]
        seen[x] += small[y]
        seen[y] += small[x]
    for j in range(a2.size):
        x = a2[j]
        y = b2[j]
        seen[x] += small[y]
        seen[y] += small[x]
    return posts, seen.astype(np.int64)


GUIDE = 64
"""Buckets of the uniforms' range in the guide table of :func:`binomial_counts` (a power of 2)."""


@compiled
def blocks(exposure: np.ndarray, block: int) -> int:  # pragma: no cover - compiled
    """Return ``sum(ceil(exposure / block))``: the uniforms :func:`binomial_counts` takes."""
    total = 0
    for e in exposure:
        total += (e > 0) + ((e - 1) // block if e > block else 0)  # no division for most rows
    return total


@compiled
def binomial_counts(exposure: np.ndarray, p: float, u: np.ndarray, block: int) -> np.ndarray:  # pragma: no cover
    """Return an independent ``Binomial(exposure[i], p)`` for every row, by inversion of uniforms ``u``.

    Each row's posts are taken in blocks of at most ``block`` (``block`` <= 1000), one uniform of ``u`` per
    block, row by row (``u`` holds ``sum(ceil(exposure / block))`` of them). A block of ``m`` posts answers the
    smallest ``k`` with ``v < P(X <= k)``, ``X ~ Binomial(m, p')``, the cumulative probabilities summed from
    ``(1 - p')**m`` by the ratios of successive probabilities, ``v`` the block's uniform: with ``p' = p``, or,
    for ``p > 1/2``, ``p' = 1 - p`` and ``m - k`` answered (so ``(1 - p')**m`` stays far above the smallest
    double). The cumulative probabilities are tabled once, for the block sizes up to the largest present, with
    a guide table to start each search near its answer (the same answer as a search from 0).
    """
    flip = p > 0.5
    q = 1.0 - p if flip else p
    ratio = q / (1.0 - q)
    top = 0
    for i in range(exposure.size):
        top = max(top, min(exposure[i], block))
    width = top + 1
    cdf = np.empty(width * width)
    for m in range(width):
        pk = (1.0 - q) ** float(m)
        c = pk
        cdf[m * width] = c
        for k in range(m):
            pk *= (m - k) / (k + 1) * ratio
            c += pk
            cdf[m * width + k + 1] = c
    # a guide to each block size's answer (Chen and Asau's guide table): the entries of its cumulative
    # probabilities at most g / GUIDE, a starting point at or below the answer of every v in [g, g + 1) / GUIDE
    guide = np.empty(width * GUIDE, dtype=np.int64)
    for m in range(width):
        k = 0
        for g in range(GUIDE):
            while k < m and cdf[m * width + k] <= g / GUIDE:
                k += 1
            guide[m * GUIDE + g] = k
    out = np.zeros(exposure.size, dtype=np.int64)
    j = 0
    for i in range(exposure.size):
        left = exposure[i]
        x = 0
        while left > 0:
            m = min(left, block)
            v = u[j]
            j += 1
            row = m * width
            k = guide[m * GUIDE + int(v * GUIDE)]
            while k < m and v >= cdf[row + k]:
                k += 1
            x += m - k if flip else k
            left -= m
        out[i] = x
    return out
