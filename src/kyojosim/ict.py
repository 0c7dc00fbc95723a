"""ICT use: smartphones and social media spreading through the population over the years."""

from __future__ import annotations

import numpy as np

from .constants import age_band
from .population import Population
from .scenario import Scenario


def ict_uptake(pop: Population, scn: Scenario, rng: np.random.Generator) -> None:
    """Non-users take up a smartphone, and smartphone users social media, each year.

    A non-user takes up with probability ``yearly_uptake`` times the use rate of their age band
    (age groups that use more draw their members in faster); users keep using as they age, so
    the cohorts who own smartphones carry them into old age.
    """
    live = pop.live()
    if live.size == 0:
        return
    band = age_band(pop.age[live])
    up = scn.ict.yearly_uptake
    phone = np.asarray(scn.ict.smartphone_rate)[band]
    sns = np.asarray(scn.ict.sns_rate)[band]
    u = rng.random((2, live.size))
    new_phone = ~pop.smartphone[live] & (u[0] < up * phone)
    pop.cols["smartphone"][live[new_phone]] = True
    share_sns = np.divide(sns, phone, out=np.zeros_like(sns), where=phone > 0)
    new_sns = pop.smartphone[live] & ~pop.sns[live] & (u[1] < up * share_sns)
    pop.cols["sns"][live[new_sns]] = True
