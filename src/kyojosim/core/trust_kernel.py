"""Compiled kernels of trust and willingness (numba; see :mod:`kyojosim.compiled`).

:func:`reform_selected` is the pass of :func:`kyojosim.core.trust.yearly_willingness` over the
(resident, category) pairs whose willingness is re-formed: the new terms and the platform-offer bit
of each, with the same comparisons and arithmetic as the rules in that function's docstring.
"""

from __future__ import annotations

import numpy as np

from ..compiled import compiled

__all__ = ["reform_selected"]


@compiled
def reform_selected(will: np.ndarray, platform_help: np.ndarray, rows: np.ndarray, pairs: np.ndarray, u: np.ndarray,
                    v: np.ndarray, reciprocity: np.ndarray, mean_r: float, free: np.ndarray, p_paid: np.ndarray,
                    use_free: np.ndarray, use_paid: np.ndarray, will_free: int, will_paid: int,
                    will_none: int) -> int:  # pragma: no cover - compiled
    """Re-form the terms and the platform-offer bit of the given (resident, category) pairs, in place.

    Pair ``j`` is resident ``rows[pairs[j] // n_cat]`` (a slot) and category ``pairs[j] % n_cat``. Its
    new terms are free if ``u[j] < min(1, free[c] * r / mean_r)``, else only if paid if ``u[j]`` is below
    that plus ``(1 - that) * p_paid[c]``, else none (``r`` the resident's reciprocity; a tilt of 1 when
    ``mean_r`` is not positive). The category's bit of ``platform_help`` is then set when the new terms
    are free and ``v[j] < use_free[c]``, or paid and ``v[j] < use_paid[c]``, and cleared otherwise.

    Args:
        will: int8 terms (slots x categories), changed in place.
        platform_help: uint8 offer bits of every slot, changed in place.
        rows: int64 slot of each resident row.
        pairs: int64 index ``row * n_cat + category`` of each pair re-formed.
        u: float64 uniform deciding the terms of each pair.
        v: float64 uniform deciding the offer bit of each pair.
        reciprocity: float32 reciprocity of every slot.
        mean_r: Mean reciprocity over the rows.
        free: float64 share willing free per category.
        p_paid: float64 chance of paid terms per category among those not free.
        use_free: float64 chance of offering on the platform when free, per category.
        use_paid: float64 chance of offering on the platform when paid, per category.
        will_free: The code of free help.
        will_paid: The code of paid help.
        will_none: The code of no help.

    Returns:
        How many pairs' terms changed.
    """
    n_cat = will.shape[1]
    changed = 0
    for j in range(pairs.size):
        s = rows[pairs[j] // n_cat]
        c = pairs[j] % n_cat
        tilt = np.float64(reciprocity[s]) / mean_r if mean_r > 0 else 1.0
        p_free = free[c] * tilt
        if p_free > 1.0:
            p_free = 1.0
        x = u[j]
        if x < p_free:
            new = will_free
        elif x < p_free + (1.0 - p_free) * p_paid[c]:
            new = will_paid
        else:
            new = will_none
        if new != will[s, c]:
            changed += 1
            will[s, c] = new
        bit = np.uint8(1 << c)
        offer = (new == will_free and v[j] < use_free[c]) or (new == will_paid and v[j] < use_paid[c])
        platform_help[s] = (platform_help[s] | bit) if offer else (platform_help[s] & ~bit)
    return changed
