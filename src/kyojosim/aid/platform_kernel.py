"""Compiled kernels of the sharing platform's monthly work (numba; see :mod:`kyojosim.compiled`).

* :func:`row_pointers`: the row pointers of a CSR adjacency from its sorted row numbers, in one pass
  (what ``np.cumsum(np.bincount(rows, minlength=n))`` gives, without the two whole-town temporaries).
"""

from __future__ import annotations

import numpy as np

from ..compiled import compiled

__all__ = ["row_pointers"]


@compiled
def row_pointers(rows: np.ndarray, n: int) -> np.ndarray:  # pragma: no cover - compiled
    """Return ``indptr`` (``n + 1`` entries) of a CSR matrix whose entries have the row numbers ``rows``, ascending."""
    indptr = np.empty(n + 1, dtype=np.int64)
    j = 0
    for r in range(n + 1):
        while j < rows.size and rows[j] < r:
            j += 1
        indptr[r] = j
    return indptr
