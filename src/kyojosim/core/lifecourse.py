"""Life-course transitions once a year: work, driving, and joining communities on coming of age.

Employment and driving are drawn at synthesis from rates by age band. When a resident enters a
new band, their status follows the change of the band's rate: if the rate falls (retirement,
giving up the licence), a fraction ``1 - r_new / r_old`` of those who had it lose it; if it rises
(starting work, getting a licence), a fraction ``(r_new - r_old) / (1 - r_old)`` of those without
it gain it. Band shares thus follow the scenario's rates as cohorts age, in expectation.
Residents who turn 18 join real-world and online communities at the levels fitted at synthesis.
"""

from __future__ import annotations

import numpy as np

from ..constants import AGE_BAND_WIDTH, MALE, N_AGE_BANDS
from ..params.scenario import Scenario
from .communities import Chapters, join_communities
from .population import Population

ADULT_AGE = 18


def follow_rate(has: np.ndarray, r_old: np.ndarray, r_new: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Update a status so that its share moves from ``r_old`` to ``r_new`` (see the module docstring).

    The array form of the rule; :func:`yearly_life_course` applies it in one compiled pass
    (:func:`kyojosim.core.lifecourse_kernel.follow_rates`, the same result to the bit).
    """
    keep = np.divide(r_new, r_old, out=np.ones_like(r_new), where=r_old > 0)
    gain = np.divide(r_new - r_old, 1.0 - r_old, out=np.zeros_like(r_new), where=r_old < 1)
    lose = has & (r_new < r_old) & (u >= keep)
    win = ~has & (r_new > r_old) & (u < gain)
    return (has & ~lose) | win


def yearly_life_course(
    pop: Population, scn: Scenario, rng: np.random.Generator, levels: dict[str, float],
    skip: np.ndarray | None = None, chapters: Chapters | None = None,
) -> np.ndarray:
    """Apply the yearly transitions to residents alive now (after ageing).

    Args:
        pop: The population (changed in place).
        scn: The scenario.
        rng: The ``lifecourse`` stream for this year.
        levels: The community levels fitted at synthesis.
        skip: Slots whose traits were just drawn for their age (this year's in-migrants).
        chapters: The chapter lists of the population as it is, if the caller has them
            (:func:`kyojosim.core.communities.join_communities`).

    Returns:
        The slots of residents who came of age (they are tied into their new communities).
    """
    from .lifecourse_kernel import follow_rates, transitions_due

    skip = np.zeros(0, dtype=np.int64) if skip is None else np.asarray(skip, dtype=np.int64)
    # entering a band 5-9 ... 85+ (85 is the last band boundary), and coming of age: one pass over the slots
    entering, coming_of_age = transitions_due(pop.alive[: pop.n], pop.age, skip, AGE_BAND_WIDTH,
                                              AGE_BAND_WIDTH * (N_AGE_BANDS - 1), ADULT_AGE)
    if entering.size:
        r = scn.residents
        emp = np.array([r.employment_rate_female, r.employment_rate_male], dtype=np.float64)
        u = rng.random((2, entering.size))
        follow_rates(entering, pop.age, pop.sex, pop.frail, pop.employed, pop.drives, emp,
                     np.asarray(r.driving_rate, dtype=np.float64), MALE, AGE_BAND_WIDTH, N_AGE_BANDS, u)
    join_communities(pop, coming_of_age, scn, rng, levels, chapters)
    return coming_of_age
