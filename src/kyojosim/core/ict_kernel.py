"""Compiled kernel of ICT uptake (numba; see :mod:`kyojosim.compiled`).

:func:`uptake` is the default rule of :func:`kyojosim.core.ict.ict_uptake` in one pass over the
slots: the same comparisons of the same uniforms with the same float64 chances per age band as its
array form (``tests/test_community_dynamics.py`` compares them), without the temporaries over the town.
"""

from __future__ import annotations

import numpy as np

from ..compiled import compiled

__all__ = ["uptake"]


@compiled
def uptake(alive: np.ndarray, age: np.ndarray, smartphone: np.ndarray, sns: np.ndarray, u: np.ndarray,
           p_phone: np.ndarray, p_sns: np.ndarray, band_width: int,
           top_band: int) -> None:  # pragma: no cover - compiled
    """Let non-users take up a smartphone, and smartphone users social media, in place.

    The ``i``-th living slot ``s`` (in slot order), of age band ``b = min(age[s] // band_width, top_band)``,
    takes up a smartphone if it has none and ``u[0, i] < p_phone[b]``; then, if it has a smartphone
    (before or now) and no social media, takes up social media if ``u[1, i] < p_sns[b]``.
    """
    i = 0
    for s in range(alive.size):
        if not alive[s]:
            continue
        b = min(np.int64(age[s]) // band_width, top_band)
        if not smartphone[s] and u[0, i] < p_phone[b]:
            smartphone[s] = True
        if smartphone[s] and not sns[s] and u[1, i] < p_sns[b]:
            sns[s] = True
        i += 1
