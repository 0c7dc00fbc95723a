"""Compiled kernel of the yearly life-course transitions (numba; see :mod:`kyojosim.compiled`).

* :func:`transitions_due`: the residents who enter a new age band and those who come of age, in one
  pass over the slots (the selections of :func:`kyojosim.core.lifecourse.yearly_life_course`);
* :func:`follow_rates`: employment and driving of those entering a band follow the change of their
  band's rate (:func:`kyojosim.core.lifecourse.follow_rate`, the same IEEE operations in the same
  order), in one pass over them.
"""

from __future__ import annotations

import numpy as np

from ..compiled import compiled
from .population_kernel import band_of, band_table

__all__ = ["follow_rates", "transitions_due"]


@compiled
def transitions_due(alive: np.ndarray, age: np.ndarray, skip: np.ndarray, band_width: int, last_band_age: int,
                    adult_age: int) -> tuple[np.ndarray, np.ndarray]:  # pragma: no cover - compiled
    """Return ``(entering, coming_of_age)``: living slots (ascending) not in ``skip`` that enter a band or come of age.

    ``entering``: ``age % band_width == 0`` and ``0 < age <= last_band_age``; ``coming_of_age``:
    ``age == adult_age``. ``alive`` covers the slots ``0 .. alive.size - 1``.
    """
    n = alive.size
    n_bands = last_band_age // band_width + 1
    bands = band_table(band_width, n_bands)  # a band's lower bound is band * band_width (no division per resident)
    skipped = np.zeros(n, dtype=np.bool_)
    for s in skip:
        skipped[s] = True
    entering = np.empty(n, dtype=np.int64)
    adults = np.empty(n, dtype=np.int64)
    k = 0
    m = 0
    for i in range(n):
        if alive[i] and not skipped[i]:
            a = age[i]
            if a > 0 and a <= last_band_age and band_of(bands, np.int64(a)) * band_width == a:
                entering[k] = i
                k += 1
            if a == adult_age:
                adults[m] = i
                m += 1
    return entering[:k].copy(), adults[:m].copy()


@compiled(inline=True)
def _follow(has: bool, r_old: float, r_new: float, u: float) -> bool:  # pragma: no cover - compiled
    keep = r_new / r_old if r_old > 0 else 1.0
    gain = (r_new - r_old) / (1.0 - r_old) if r_old < 1 else 0.0
    lose = has and r_new < r_old and u >= keep
    win = (not has) and r_new > r_old and u < gain
    return (has and not lose) or win


@compiled
def follow_rates(entering: np.ndarray, age: np.ndarray, sex: np.ndarray, frail: np.ndarray, employed: np.ndarray,
                 drives: np.ndarray, employment: np.ndarray, driving: np.ndarray, male: int, band_width: int,
                 n_bands: int, u: np.ndarray) -> None:  # pragma: no cover - compiled
    """Update employment and driving of the residents ``entering`` a band (in place).

    Args:
        entering: int64 slots of those entering a band (not the first).
        age: The age column.
        sex: The sex column.
        frail: The frailty column (the frail neither work nor drive).
        employed: The employment column (changed in place).
        drives: The driving column (changed in place).
        employment: float64 (2 x bands) employment rate, row 0 women, row 1 men.
        driving: float64 driving rate by band.
        male: The code of men in ``sex``.
        band_width: The width of an age band.
        n_bands: The number of age bands.
        u: float64 (2 x entering) uniforms: employment, then driving.
    """
    for j in range(entering.size):
        i = entering[j]
        band = min(np.int64(age[i]) // band_width, n_bands - 1)
        prev = band - 1
        row = 1 if sex[i] == male else 0
        not_frail = not frail[i]
        employed[i] = _follow(employed[i], employment[row, prev], employment[row, band], u[0, j]) and not_frail
        drives[i] = _follow(drives[i], driving[prev], driving[band], u[1, j]) and not_frail
