"""Compiled kernels of trust and willingness (numba; see :mod:`kyojosim.compiled`).

:func:`reform_terms` and :func:`redraw_offers` are the two passes of
:func:`kyojosim.core.trust.yearly_willingness` over (resident, category) pairs, with the same
comparisons and arithmetic as its array form, so that the result is the same to the bit.
"""

from __future__ import annotations

import numpy as np

from ..compiled import compiled

__all__ = ["redraw_offers", "reform_terms"]


@compiled
def reform_terms(will: np.ndarray, u: np.ndarray, redo: np.ndarray, reciprocity: np.ndarray, mean_r: float,
                 free: np.ndarray, p_paid: np.ndarray, will_free: int, will_paid: int,
                 will_none: int) -> int:  # pragma: no cover - compiled
    """Re-form the terms of the (resident, category) pairs flagged in ``redo``, in place; return how many changed.

    A re-formed term is free if ``u < min(1, free[c] * r / mean_r)``, else only if paid if ``u`` is below that
    plus ``(1 - that) * p_paid[c]``, else none (``r`` the resident's reciprocity; a tilt of 1 when ``mean_r``
    is not positive).

    Args:
        will: int8 terms (residents x categories), changed in place.
        u: float64 uniforms, one per pair.
        redo: bool, which pairs are re-formed.
        reciprocity: float32 reciprocity of each resident (row).
        mean_r: Mean reciprocity over the rows.
        free: float64 share willing free per category.
        p_paid: float64 chance of paid terms per category among those not free.
        will_free: The code of free help.
        will_paid: The code of paid help.
        will_none: The code of no help.
    """
    changed = 0
    for i in range(will.shape[0]):
        tilt = np.float64(reciprocity[i]) / mean_r if mean_r > 0 else 1.0
        for c in range(will.shape[1]):
            if not redo[i, c]:
                continue
            p_free = free[c] * tilt
            if p_free > 1.0:
                p_free = 1.0
            x = u[i, c]
            if x < p_free:
                new = will_free
            elif x < p_free + (1.0 - p_free) * p_paid[c]:
                new = will_paid
            else:
                new = will_none
            if new != will[i, c]:
                changed += 1
                will[i, c] = new
    return changed


@compiled
def redraw_offers(platform_help: np.ndarray, will: np.ndarray, u: np.ndarray, redo: np.ndarray, use_free: np.ndarray,
                  use_paid: np.ndarray, will_free: int, will_paid: int) -> None:  # pragma: no cover - compiled
    """Draw again, in place, the platform-offer bit of every re-formed (resident, category) pair.

    The bit of category ``c`` is set when the new terms are free and ``u < use_free[c]``, or paid and
    ``u < use_paid[c]``; cleared otherwise. Bits of pairs not re-formed are kept.
    """
    for i in range(will.shape[0]):
        bits = platform_help[i]
        for c in range(will.shape[1]):
            if not redo[i, c]:
                continue
            bit = np.uint8(1 << c)
            w = will[i, c]
            offer = (w == will_free and u[i, c] < use_free[c]) or (w == will_paid and u[i, c] < use_paid[c])
            bits = (bits | bit) if offer else (bits & ~bit)
        platform_help[i] = bits
