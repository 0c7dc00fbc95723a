"""Compiled kernels of trust and willingness (numba; see :mod:`kyojosim.compiled`).

:func:`reform_selected` is the pass of :func:`kyojosim.core.trust.yearly_willingness` over the
(resident, category) pairs whose willingness is re-formed: the new terms and the platform-offer bit
of each, with the same comparisons and arithmetic as the rules in that function's docstring.
:func:`participation_pull` is :func:`kyojosim.core.trust.yearly_participation` in one pass over the
residents, with the same arithmetic as its array form (float64 levels, float32 steps).
:func:`add_capped` adds a gain per occurrence to the slots of a week's events (the trust and reciprocity
gains of :func:`kyojosim.core.trust.after_week`; :func:`add_week_gains` all four of them in one call) and
:func:`recover` is
:func:`kyojosim.core.trust.recover_asking` in one pass, each with the arithmetic of its array form.
"""

from __future__ import annotations

import numpy as np

from ..compiled import compiled

__all__ = ["add_capped", "add_week_gains", "participation_pull", "recover", "reform_selected"]


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
    shift = 0  # a power of two of categories (8): the row by a shift instead of a division
    while (1 << shift) < n_cat:
        shift += 1
    pow2 = (1 << shift) == n_cat
    changed = 0
    positive = mean_r > 0
    # the outcomes as selects and bitwise operations rather than branches (the uniforms are random)
    for j in range(pairs.size):
        q = pairs[j]
        row = (q >> shift) if pow2 else q // n_cat
        s = rows[row]
        c = q - row * n_cat
        tilt = np.float64(reciprocity[s]) / mean_r if positive else 1.0
        p_free = free[c] * tilt
        p_free = 1.0 if p_free > 1.0 else p_free
        x = u[j]
        is_free = x < p_free
        is_paid = (not is_free) & (x < p_free + (1.0 - p_free) * p_paid[c])
        new = will_free if is_free else (will_paid if is_paid else will_none)
        changed += np.int64(new != will[s, c])
        will[s, c] = new
        bit = np.uint8(1 << c)
        y = v[j]
        offer = (is_free & (y < use_free[c])) | (is_paid & (y < use_paid[c]))
        platform_help[s] = (platform_help[s] & ~bit) | (bit * np.uint8(offer))
    return changed


@compiled
def participation_pull(groups: np.ndarray, online: np.ndarray, alive: np.ndarray, online_bits: np.ndarray,
                       trust_offline: np.ndarray, trust_online: np.ndarray, reciprocity: np.ndarray, means: np.ndarray,
                       effect: float, cap: float, pull: np.float32) -> None:  # pragma: no cover - compiled
    """Move the trust and reciprocity of every living slot towards its participation levels (in place).

    With ``k`` real-world memberships and ``j`` online ones, the levels are
    ``clip(means[i] + effect * (min(count, cap) - 1), 0.01, 0.99)`` for offline trust (``k``), online
    trust (``j``) and reciprocity (``k + j``), in float64; each column moves by
    ``pull * (float32(level) - value)`` in float32 (the levels of every possible count computed first).
    """
    n_kinds = groups.shape[1]
    # the float32 level of every count each column can have (the same arithmetic, once per count)
    top = n_kinds + online_bits.size
    table = np.empty((3, top + 1), dtype=np.float32)
    for c in range(3):
        for count in range(top + 1):
            level = means[c] + effect * (min(np.float64(count), cap) - 1.0)
            table[c, count] = np.float32(min(max(level, 0.01), 0.99))
    for i in range(alive.size):
        if not alive[i]:
            continue
        k = 0
        for c in range(n_kinds):
            k += groups[i, c] >= 0
        j = 0
        for bit in online_bits:
            j += (online[i] & bit) != 0
        trust_offline[i] += pull * (table[0, k] - trust_offline[i])
        trust_online[i] += pull * (table[1, j] - trust_online[i])
        reciprocity[i] += pull * (table[2, k + j] - reciprocity[i])


@compiled
def add_capped(col: np.ndarray, who: np.ndarray, count: np.ndarray, gain: np.float32) -> None:  # pragma: no cover
    """``col[who] = np.minimum(col[who] + gain * count, 1.0)`` (float32 column, distinct ``who``), in place.

    As the array form computes it: the float32 gain times the int64 count in float64, added to the
    value in float64, capped at 1, rounded back to float32.
    """
    g = np.float64(gain)
    for i in range(who.size):
        s = who[i]
        v = np.float64(col[s]) + g * np.float64(count[i])
        if v > 1.0:
            v = 1.0
        col[s] = np.float32(v)


@compiled
def add_week_gains(reciprocity: np.ndarray, trust_online: np.ndarray, trust_offline: np.ndarray, requester: np.ndarray,
                   helper: np.ndarray, online: np.ndarray, marks: np.ndarray, requester_gain: np.float32,
                   helper_gain: np.float32, trust_gain: np.float32) -> bool:  # pragma: no cover - compiled
    """Add the week's gains of reciprocity and trust, in place; ``False`` (nothing changed) if a slot is out of range.

    In turn, as :func:`add_capped` of the distinct slots and their counts: ``requester_gain`` to the requesters'
    reciprocity, ``helper_gain`` to the helpers', ``trust_gain`` to the online trust of the requesters of the
    matches with ``online`` set and to the offline trust of the others. Each list is counted in ``marks``
    (int64 zeros, one at least per slot; left all zeros again), then each distinct slot gets its gain times its
    count: ``min(value + gain * count, 1)`` in float64, rounded to float32.

    Args:
        reciprocity: float32 reciprocity of every slot.
        trust_online: float32 online trust of every slot.
        trust_offline: float32 offline trust of every slot.
        requester: int64 requester slot of each match.
        helper: int64 helper slot of each match.
        online: bool per match: through a channel met online.
        marks: int64 scratch, zeros.
        requester_gain: ``trust.reciprocity_gain`` as float32.
        helper_gain: ``trust.helper_reciprocity_gain`` as float32.
        trust_gain: ``trust.trust_gain`` as float32.
    """
    n = reciprocity.size
    for i in range(requester.size):
        if not (0 <= requester[i] < n and 0 <= helper[i] < n):
            return False
    for step in range(4):
        col = reciprocity if step < 2 else (trust_online if step == 2 else trust_offline)
        slots = helper if step == 1 else requester
        g = np.float64(requester_gain if step == 0 else (helper_gain if step == 1 else trust_gain))
        for i in range(slots.size):
            if step < 2 or online[i] == (step == 2):
                marks[slots[i]] += 1
        for i in range(slots.size):
            s = slots[i]
            c = marks[s]
            if c > 0:
                v = np.float64(col[s]) + g * np.float64(c)
                if v > 1.0:
                    v = 1.0
                col[s] = np.float32(v)
                marks[s] = 0
    return True


@compiled
def recover(ask: np.ndarray, alive: np.ndarray, keep: np.float32) -> None:  # pragma: no cover - compiled
    """``ask[i] = 1 - (1 - ask[i]) * keep`` in float32 for every ``i`` with ``alive[i]``, in place."""
    one = np.float32(1.0)
    for i in range(ask.size):
        if alive[i]:
            ask[i] = one - (one - ask[i]) * keep
