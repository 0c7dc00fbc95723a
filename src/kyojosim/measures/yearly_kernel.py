"""Compiled kernel of the yearly summary row (numba; see :mod:`kyojosim.compiled`).

* :func:`living_counts`: the counts behind the row's shares and means, and the living by sex and age band, in
  one pass over the slots (the same counts the array code takes with masks, gathers and ``bincount``).
"""

from __future__ import annotations

import numpy as np

from ..compiled import compiled

__all__ = ["COUNTS", "living_counts"]

COUNTS: tuple[str, ...] = ("living", "age_65plus", "age_75plus", "age_under15", "age_sum", "smartphone", "sns",
                           "isolated", "frame", "will_free", "will_paid")
"""The counts :func:`living_counts` returns first, in order (then one per participation group)."""


@compiled
def living_counts(alive: np.ndarray, age: np.ndarray, sex: np.ndarray, smartphone: np.ndarray, sns: np.ndarray,
                  degree: np.ndarray, groups: np.ndarray, online: np.ndarray, will: np.ndarray, frame_lo: int,
                  frame_hi: int, free: int, paid: int, codes: np.ndarray, n_groups: int, band_width: int,
                  n_bands: int) -> tuple[np.ndarray, np.ndarray]:  # pragma: no cover - compiled
    """Return the counts of the yearly summary over the living slots (``alive``), and the living by sex and band.

    Returns:
        ``(counts, bands)``: ``counts`` in the order of :data:`COUNTS` (the living; aged 65+, 75+, under 15; the
        sum of their ages; with a smartphone; using social media; with degree 0; aged ``frame_lo..frame_hi``;
        the frame's (resident, category) pairs willing ``free`` and ``paid``), then the living of each
        participation group: ``codes[2 * offline + online]`` (offline: some group of ``groups`` is >= 0;
        online: ``online`` > 0), ``n_groups`` of them; ``bands`` (2 x ``n_bands``): the living by sex and age
        band (``min(age // band_width, n_bands - 1)``).
    """
    n = alive.size
    k = len(COUNTS)
    counts = np.zeros(k + n_groups, dtype=np.int64)
    bands = np.zeros((2, n_bands), dtype=np.int64)
    n_kinds = groups.shape[1]
    n_cat = will.shape[1]
    living = old = oldest = young = total = phone = social = isolated = frame = willing = paid_ = 0
    for s in range(n):  # without branches but for the dead
        if not alive[s]:
            continue
        a = np.int64(age[s])
        living += 1
        old += np.int64(a >= 65)
        oldest += np.int64(a >= 75)
        young += np.int64(a < 15)
        total += a
        phone += np.int64(smartphone[s])
        social += np.int64(sns[s])
        isolated += np.int64(degree[s] == 0)
        in_frame = np.int64(frame_lo <= a) & np.int64(a <= frame_hi)
        frame += in_frame
        f = 0
        p = 0
        for c in range(n_cat):
            f += np.int64(will[s, c] == free)
            p += np.int64(will[s, c] == paid)
        willing += in_frame * f
        paid_ += in_frame * p
        offline = 0
        for j in range(n_kinds):
            offline |= np.int64(groups[s, j] >= 0)
        counts[k + codes[2 * offline + np.int64(online[s] > 0)]] += 1
        bands[np.int64(sex[s]), min(a // band_width, n_bands - 1)] += 1
    for i, x in enumerate((living, old, oldest, young, total, phone, social, isolated, frame, willing, paid_)):
        counts[i] = x
    return counts, bands
