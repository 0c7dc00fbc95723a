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

from ..constants import AGE_BAND_WIDTH, MALE, N_AGE_BANDS, age_band
from ..params.scenario import Scenario
from .communities import join_communities
from .population import Population

ADULT_AGE = 18


def _follow_rate(has: np.ndarray, r_old: np.ndarray, r_new: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Update a status so that its share moves from ``r_old`` to ``r_new`` (see the module docstring)."""
    keep = np.divide(r_new, r_old, out=np.ones_like(r_new), where=r_old > 0)
    gain = np.divide(r_new - r_old, 1.0 - r_old, out=np.zeros_like(r_new), where=r_old < 1)
    lose = has & (r_new < r_old) & (u >= keep)
    win = ~has & (r_new > r_old) & (u < gain)
    return (has & ~lose) | win


def yearly_life_course(
    pop: Population, scn: Scenario, rng: np.random.Generator, levels: dict[str, float],
    skip: np.ndarray | None = None,
) -> np.ndarray:
    """Apply the yearly transitions to residents alive now (after ageing).

    Args:
        pop: The population (changed in place).
        scn: The scenario.
        rng: The ``lifecourse`` stream for this year.
        levels: The community levels fitted at synthesis.
        skip: Slots whose traits were just drawn for their age (this year's in-migrants).

    Returns:
        The slots of residents who came of age (they are tied into their new communities).
    """
    live = pop.live()
    if skip is not None and skip.size:
        keep = np.ones(pop.n, dtype=bool)
        keep[skip] = False
        live = live[keep[live]]
    age = pop.age[live]
    # entering a band 5-9 ... 85+ (85 is the last band boundary)
    entering = live[(age % AGE_BAND_WIDTH == 0) & (age > 0) & (age <= AGE_BAND_WIDTH * (N_AGE_BANDS - 1))]
    if entering.size:
        band = age_band(pop.age[entering])
        prev = band - 1
        r = scn.residents
        male = pop.sex[entering] == MALE
        emp = np.array([r.employment_rate_female, r.employment_rate_male])
        e_old, e_new = emp[male.astype(int), prev], emp[male.astype(int), band]
        drv = np.asarray(r.driving_rate)
        u = rng.random((2, entering.size))
        frail = pop.frail[entering]
        pop.employed[entering] = _follow_rate(pop.employed[entering], e_old, e_new, u[0]) & ~frail
        pop.drives[entering] = _follow_rate(pop.drives[entering], drv[prev], drv[band], u[1]) & ~frail
    coming_of_age = live[age == ADULT_AGE]
    join_communities(pop, coming_of_age, scn, rng, levels)
    return coming_of_age
