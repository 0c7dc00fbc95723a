"""Compiled kernel of the yearly summary row (numba; see :mod:`kyojosim.compiled`).

* :func:`living_counts`: the counts behind the row's shares and means, and the living by sex and age band, in
  one pass over the slots (the same counts the array code takes with masks, gathers and ``bincount``), with the
  frame's wish to ask gathered for its mean; the terms of help are read eight categories to a 64-bit word.
"""

from __future__ import annotations

import numpy as np

from ..compiled import compiled
from ..core.population_kernel import band_of, band_table

__all__ = ["COUNTS", "bytes_equal", "living_counts"]

COUNTS: tuple[str, ...] = ("living", "age_65plus", "age_75plus", "age_under15", "age_sum", "smartphone", "sns",
                           "isolated", "frame", "will_free", "will_paid")
"""The counts :func:`living_counts` returns first, in order (then one per participation group)."""


@compiled(inline=True)
def bytes_equal(word: np.uint64, value: np.uint64) -> np.int64:  # pragma: no cover - compiled
    """Return how many of the eight bytes of ``word`` equal the byte ``value`` (a branch-free count)."""
    lo = np.uint64(0x0101010101010101)
    low7 = np.uint64(0x7F7F7F7F7F7F7F7F)
    y = word ^ (lo * value)  # a byte equal to the value is now zero
    nonzero = ((((y & low7) + low7) | y) >> np.uint64(7)) & lo  # 1 in each byte that is not zero
    return 8 - np.int64((nonzero * lo) >> np.uint64(56))


@compiled
def living_counts(alive: np.ndarray, age: np.ndarray, sex: np.ndarray, smartphone: np.ndarray, sns: np.ndarray,
                  degree: np.ndarray, groups: np.ndarray, online: np.ndarray, will: np.ndarray, ask: np.ndarray,
                  frame_lo: int, frame_hi: int, free: int, paid: int, codes: np.ndarray, n_groups: int,
                  band_width: int, n_bands: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # pragma: no cover
    """Return the yearly summary's counts over the living (``alive``), the living by sex and band, the frame's asking.

    Args:
        alive: Which slots are alive.
        age: The age of every slot.
        sex: The sex of every slot.
        smartphone: Whether every slot uses a smartphone.
        sns: Whether every slot uses social media.
        degree: Every slot's number of ties.
        groups: Every slot's group of each offline community kind (-1: none).
        online: Every slot's online communities (bits).
        will: Every slot's terms of help per category, as uint64 words of eight one-byte codes (slots x words;
            a byte that is no code pads a row).
        ask: Every slot's wish to ask.
        frame_lo: The lowest age of the frame.
        frame_hi: The highest age of the frame.
        free: The code of free help.
        paid: The code of paid help.
        codes: The participation group of each ``2 * offline + online``.
        n_groups: The number of participation groups.
        band_width: The width of an age band.
        n_bands: The number of age bands.

    Returns:
        ``(counts, bands, frame_ask)``: ``counts`` in the order of :data:`COUNTS` (the living; aged 65+, 75+,
        under 15; the sum of their ages; with a smartphone; using social media; with degree 0; aged
        ``frame_lo..frame_hi``; the frame's (resident, category) pairs willing ``free`` and ``paid``), then the
        living of each participation group: ``codes[2 * offline + online]`` (offline: some group of ``groups``
        is >= 0; online: ``online`` > 0), ``n_groups`` of them; ``bands`` (2 x ``n_bands``): the living by sex
        and age band (``min(age // band_width, n_bands - 1)``); ``frame_ask``: ``ask`` of the frame's slots, in
        slot order (``ask[live[(age[live] >= frame_lo) & (age[live] <= frame_hi)]]``).
    """
    n = alive.size
    k = len(COUNTS)
    counts = np.zeros(k + n_groups, dtype=np.int64)
    bands = np.zeros(2 * n_bands, dtype=np.int64)
    part = np.zeros(4, dtype=np.int64)
    frame_ask = np.empty(n, dtype=ask.dtype)
    n_kinds = groups.shape[1]
    n_words = will.shape[1]
    free_byte = np.uint64(free & 0xFF)
    paid_byte = np.uint64(paid & 0xFF)
    table = band_table(band_width, n_bands)
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
        frame_ask[frame] = ask[s]  # kept when in the frame (the next one writes past it otherwise)
        frame += in_frame
        f = 0
        p = 0
        for w in range(n_words):
            f += bytes_equal(will[s, w], free_byte)
            p += bytes_equal(will[s, w], paid_byte)
        willing += in_frame * f
        paid_ += in_frame * p
        g = np.int64(-1)
        for j in range(n_kinds):
            g &= np.int64(groups[s, j])
        offline = np.int64(g >= 0)  # some group >= 0: the sign bit of one of them, and so of all together, is clear
        part[2 * offline + np.int64(online[s] > 0)] += 1
        bands[np.int64(sex[s]) * n_bands + band_of(table, a)] += 1
    for i, x in enumerate((living, old, oldest, young, total, phone, social, isolated, frame, willing, paid_)):
        counts[i] = x
    for i in range(4):
        counts[k + codes[i]] += part[i]
    return counts, bands.reshape(2, n_bands), frame_ask[:frame].copy()
