"""Willingness to help: free, only if paid, or not at all, per resident and category; weekly time.

Willingness is drawn once per resident (at synthesis, birth or arrival) with one uniform per
category: free with probability ``free_share[c]``, only if paid with ``paid_share[c]``
(図表4-3-4-3: the paid pool is larger in every category), otherwise not at all. Whether a
resident can help in a given week also needs age ``>= helper_min_age``, not being frail, and
hours left: ``weekly_hours`` by age and employment, less the hours of the resident's own open
needs (a helper in trouble has less to give).
"""

from __future__ import annotations

import numpy as np

from ..constants import CATEGORIES, WILL_FREE, WILL_NONE, WILL_PAID
from ..params.scenario import Scenario
from .population import Population


def draw_willingness(pop: Population, scn: Scenario, slots: np.ndarray, rng: np.random.Generator) -> None:
    """Draw the willingness (none / free / paid only) of ``slots`` for every category."""
    h = scn.helping
    free = np.array([h.free_share[c] for c in CATEGORIES])
    paid = np.array([h.paid_share[c] for c in CATEGORIES])
    u = rng.random((slots.size, len(CATEGORIES)))
    will = np.full(u.shape, WILL_NONE, dtype=np.int8)
    will[u < free + paid] = WILL_PAID
    will[u < free] = WILL_FREE
    pop.will[slots] = will
    # would use a mutual-aid platform: to offer help (by terms) and to ask for it (図表4-3-4-2/3)
    use_free = np.array([h.platform_use_free[c] for c in CATEGORIES])
    use_paid = np.array([h.platform_use_paid[c] for c in CATEGORIES])
    use_need = np.array([scn.needs.platform_use[c] for c in CATEGORIES])
    v = rng.random((2, slots.size, len(CATEGORIES)))
    offer = ((will == WILL_FREE) & (v[0] < use_free)) | ((will == WILL_PAID) & (v[0] < use_paid))
    ask = v[1] < use_need
    bits = (1 << np.arange(len(CATEGORIES))).astype(np.uint8)
    pop.platform_help[slots] = (offer * bits).sum(axis=1).astype(np.uint8)
    pop.platform_need[slots] = (ask * bits).sum(axis=1).astype(np.uint8)


def weekly_hours(pop: Population, scn: Scenario) -> np.ndarray:
    """Return each resident's hours available for helping this week, before their own needs."""
    h = scn.helping
    age = pop.age
    hours = np.where(pop.employed, h.weekly_hours_employed, h.weekly_hours_free).astype(np.float32)
    hours[age >= 75] = h.weekly_hours_75plus
    hours[(age < h.helper_min_age) | pop.frail | ~pop.alive[: pop.n]] = 0.0
    return hours


def can_help(pop: Population, scn: Scenario) -> np.ndarray:
    """Return which slots could help at all this year (alive, aged ``helper_min_age`` or more, not frail)."""
    return pop.alive[: pop.n] & (pop.age >= scn.helping.helper_min_age) & ~pop.frail
