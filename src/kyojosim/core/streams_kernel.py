"""Compiled kernel of the random streams (numba; see :mod:`kyojosim.compiled`).

:func:`gap_positions` turns a block of standard exponential draws into the positions of Bernoulli successes
(:func:`kyojosim.core.streams.bernoulli_positions`): each draw becomes a geometric gap by inversion, the gaps
are added up and the positions up to the last trial kept, in one pass and with the arithmetic of numpy's
geometric draw by inversion, so the positions are those of ``rng.geometric`` to the bit.
"""

from __future__ import annotations

import numpy as np

from ..compiled import compiled

__all__ = ["gap_positions"]


@compiled
def gap_positions(exponential: np.ndarray, log_q: float, end: int,
                  n: int) -> tuple[np.ndarray, int]:  # pragma: no cover
    """Return the 0-based successes among the trials ``end + 1 .. n`` of a block of gaps, and where the block ends.

    Gap ``i`` is ``ceil(-exponential[i] / log_q)`` (``log_q = log1p(-p)``), the geometric draw of numpy's
    ``Generator.geometric(p)`` for ``p < 1/3`` from the same standard exponential (numpy caps a gap at
    ``2**63 - 1``, which the caller's ``p`` keeps out of reach). Successes fall at ``end`` plus the running
    sums of the gaps; those at most ``n`` are returned less one (ascending). The second value is the trial
    of the block's last success, or the first one past ``n`` (the gaps after it are not summed).
    """
    out = np.empty(exponential.size, dtype=np.int64)
    at = end
    k = 0
    for i in range(exponential.size):
        at += np.int64(np.ceil(-exponential[i] / log_q))
        if at > n:
            break
        out[k] = at - 1
        k += 1
    return out[:k], at
