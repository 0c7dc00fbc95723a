"""Household kinds, derived from who lives together."""

from __future__ import annotations

import numpy as np

from ..constants import HH, ROLE_CHILD, ROLE_ELDER, ROLE_SPOUSE
from .population import Population

ELDERLY_AGE = 65
CHILD_AGE = 18


def classify(pop: Population) -> np.ndarray:
    """Return the kind (index into HOUSEHOLD_KINDS) of every household id, from its living members.

    Rules, in order: one member 65+ is ``single_elderly``, one member under 65 ``single_adult``;
    an ``elder`` living with younger members makes ``three_generation``; all members 65+ is
    ``elderly_couple``; a couple with a child (role child) ``couple_with_children``; one parent with
    a child ``single_parent``; a couple alone ``couple_only``; anything else ``three_generation``
    (other multi-adult households). Empty households keep kind -1.
    """
    live = pop.live()
    h = pop.household[live].astype(np.int64)
    nh = pop.n_households
    age = pop.age[live]
    role = pop.role[live]
    size = np.bincount(h, minlength=nh)
    n_old = np.bincount(h, weights=age >= ELDERLY_AGE, minlength=nh)
    n_child = np.bincount(h, weights=role == ROLE_CHILD, minlength=nh)
    n_spouse = np.bincount(h, weights=role == ROLE_SPOUSE, minlength=nh)
    n_elder = np.bincount(h, weights=role == ROLE_ELDER, minlength=nh)
    kind = np.full(nh, HH["three_generation"], dtype=np.int8)
    kind[(size == 2) & (n_spouse == 1) & (n_child == 0)] = HH["couple_only"]
    kind[(n_child > 0) & (n_spouse == 0) & (size == n_child + 1)] = HH["single_parent"]
    kind[(n_child > 0) & (n_spouse == 1) & (size == n_child + 2)] = HH["couple_with_children"]
    kind[(size >= 2) & (n_old == size)] = HH["elderly_couple"]
    kind[(n_elder > 0) & (size > n_elder)] = HH["three_generation"]
    kind[size == 1] = np.where(n_old[size == 1] > 0, HH["single_elderly"], HH["single_adult"])
    kind[size == 0] = -1
    return kind
