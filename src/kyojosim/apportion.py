"""Apportionment: whole numbers that sum exactly to a total (the largest-remainder method)."""

from __future__ import annotations

import numpy as np


def largest_remainder(weights: np.ndarray, total: int) -> np.ndarray:
    """Round ``weights`` scaled to ``total`` into integers that sum exactly to ``total``."""
    w = np.asarray(weights, dtype=float)
    if total <= 0 or w.sum() <= 0:
        return np.zeros(w.shape, dtype=np.int64)
    exact = w / w.sum() * total
    base = np.floor(exact).astype(np.int64)
    rest = total - int(base.sum())
    if rest > 0:
        order = np.argsort(-(exact - base).ravel(), kind="stable")[:rest]
        flat = base.ravel()
        flat[order] += 1
        base = flat.reshape(w.shape)
    return base


__all__ = ["largest_remainder"]
