"""Compiled kernel of the weekly draw of needs: numpy's ``Generator.choice`` without replacement, every group at once.

:func:`choose_in_groups` draws ``rng.choice(n, k, replace=False)`` in every need group in one pass, with
numpy's algorithms and its bounded integers drawn from the same bit generator, so the same residents in the
same order and the same state of the generator afterwards as the calls one by one
(:func:`kyojosim.aid.needs.choose_each`). It uses numba's helpers for numpy's bounded integers, which are not
part of numba's public interface: :func:`kyojosim.aid.needs.choose_in_groups` falls back to the calls one by
one when this module cannot be imported. The tests compare both with numpy, draw for draw.
"""

from __future__ import annotations

import numpy as np
from numba.np.random.generator_core import next_uint32
from numba.np.random.random_methods import bounded_lemire_uint64, buffered_bounded_lemire_uint32

from ..compiled import compiled

__all__ = ["CHOICE_TAIL_SHUFFLE", "choose_in_groups"]


CHOICE_TAIL_SHUFFLE = (10000, 50)
"""When numpy's ``Generator.choice(n, k, replace=False)`` shuffles the tail of ``0..n-1`` (``n`` above the first
number and ``k`` above ``n // second``) instead of drawing by Floyd's algorithm."""


@compiled(inline=True)
def _bounded(bitgen, top: int) -> int:  # pragma: no cover - compiled
    """Return a uniform integer in ``0..top`` as numpy draws it (``random_bounded_uint64``, Lemire's rejection)."""
    r = np.uint64(top)
    if r == 0:
        return np.int64(0)
    if r <= np.uint64(0xFFFFFFFF):
        if r == np.uint64(0xFFFFFFFF):
            return np.int64(next_uint32(bitgen))
        return np.int64(buffered_bounded_lemire_uint32(bitgen, r))
    return np.int64(bounded_lemire_uint64(bitgen, r))


@compiled
def choose_in_groups(rng: np.random.Generator, start: np.ndarray, count: np.ndarray) -> np.ndarray:  # pragma: no cover
    """Return ``start[g] + rng.choice(start[g + 1] - start[g], count[g], replace=False)`` of every group, concatenated.

    The groups with ``count[g] > 0`` in order, each as numpy's ``Generator.choice`` draws it without replacement
    from the same bit generator: a shuffle of the tail of ``0..n-1`` for a large sample of a large group
    (:data:`CHOICE_TAIL_SHUFFLE`), else Floyd's algorithm followed by a shuffle of the sample. Every draw is
    numpy's bounded integer (Lemire's method on the bit generator's 32- or 64-bit outputs), so the positions, and
    the generator's state afterwards, are those of the calls one by one.
    """
    bitgen = rng.bit_generator
    total = 0
    for g in range(count.size):
        total += count[g]
    out = np.empty(total, dtype=np.int64)
    at = 0
    big, part = CHOICE_TAIL_SHUFFLE
    for g in range(count.size):
        k = count[g]
        if k <= 0:
            continue
        n = start[g + 1] - start[g]
        sample = out[at:at + k]
        if n > big and k > n // part:  # the tail of 0..n-1 shuffled
            idx = np.arange(n)
            for i in range(n - 1, max(n - k, 1) - 1, -1):
                j = _bounded(bitgen, i)
                idx[i], idx[j] = idx[j], idx[i]
            sample[:] = idx[n - k:]
        else:  # Floyd's algorithm (a set of the drawn, open addressing as numpy's), then the sample shuffled
            mask = np.uint64(np.float64(1.2) * np.float64(k))
            for shift in (1, 2, 4, 8, 16, 32):
                mask |= mask >> np.uint64(shift)
            m = np.int64(mask)
            seen = np.full(m + 1, -1, dtype=np.int64)
            for j in range(n - k, n):
                val = _bounded(bitgen, j)
                loc = val & m
                while seen[loc] != -1 and seen[loc] != val:
                    loc = (loc + 1) & m
                if seen[loc] == -1:
                    seen[loc] = val
                else:  # drawn before: take j (never drawn, every earlier value is below it)
                    val = j
                    loc = j & m
                    while seen[loc] != -1:
                        loc = (loc + 1) & m
                    seen[loc] = j
                sample[j - n + k] = val
            for i in range(k - 1, 0, -1):
                j = _bounded(bitgen, i)
                sample[i], sample[j] = sample[j], sample[i]
        for t in range(k):
            sample[t] += start[g]
        at += k
    return out
