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
    from .households_kernel import household_kinds

    codes = np.array([HH[k] for k in ("three_generation", "couple_only", "single_parent", "couple_with_children",
                                      "elderly_couple", "single_elderly", "single_adult")], dtype=np.int64)
    # one pass to count the living members of each household, then the rules in order
    return household_kinds(pop.household, pop.age, pop.role, pop.alive[: pop.n], int(pop.n_households), codes,
                           ELDERLY_AGE, int(ROLE_CHILD), int(ROLE_SPOUSE), int(ROLE_ELDER))
