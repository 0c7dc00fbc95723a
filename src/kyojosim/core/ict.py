"""ICT use: smartphones and social media spreading through the population over the years.

Two rules, chosen by ``ict.national_path_start``:

* **Default** (``None``): a non-user takes up a smartphone with probability ``yearly_uptake``
  times the use rate of their age band (age groups that use more draw their members in faster),
  and a smartphone user takes up social media likewise; users keep using as they age, so the
  cohorts who own smartphones carry them into old age.
* **National path** (a calendar year, e.g. 2008): smartphone ownership of every age group follows
  the national series of 総務省 通信利用動向調査 (``kyojosim/data/smartphone_japan.csv``), the model's
  first year standing for ``national_path_start``. Each year, non-owners of an age band take up a
  smartphone with probability ``(r - s) / (1 - s)`` (0 when ``s >= r``), where ``r`` is the
  series' rate for the band in the year that begins and ``s`` the band's current share, so the
  band's share meets the series in expectation. A new owner starts using social media with
  probability ``sns_rate / smartphone_rate`` of the band (the scenario's 2017 ratio, at most 1):
  smartphones bring social media. After the series ends (2017) the default rule applies.

Social media are used from a PC or a feature phone too: taking part in an online community
implies social-media use but not a smartphone (:func:`kyojosim.core.communities.set_online`).
"""

from __future__ import annotations

import functools
from importlib import resources

import numpy as np

from ..constants import AGE_BAND_WIDTH, N_AGE_BANDS, age_band
from ..params.scenario import Scenario
from .population import Population

PATH_GROUPS = ((13, 19), (20, 29), (30, 39), (40, 49), (50, 59), (60, 69), (70, 79), (80, 200))
"""Age groups of the national series (columns of smartphone_japan.csv)."""


@functools.cache
def national_smartphone_path() -> dict[int, np.ndarray]:
    """Return the national smartphone ownership by year, as shares per 5-year age band (0-4 ... 85+).

    Bands take the rate of the series' age group they fall in; 10-14 takes half the 13-19 rate and
    0-9 none (assumption: the series starts at 13; the survey's 6-12 figures are not charted).
    """
    import csv

    text = resources.files("kyojosim").joinpath("data/smartphone_japan.csv").read_text(encoding="utf-8")
    rows = list(csv.DictReader(text.splitlines()))
    lower = np.arange(N_AGE_BANDS) * AGE_BAND_WIDTH
    out = {}
    for row in rows:
        rates = np.array([float(row[f"{lo}-{hi}" if hi < 200 else f"{lo}+"]) for lo, hi in PATH_GROUPS]) / 100
        band = np.zeros(N_AGE_BANDS)
        for (lo, hi), r in zip(PATH_GROUPS, rates, strict=True):
            band[(lower >= lo - 3) & (lower <= hi)] = r  # 15-19 with 13-19, 20-24 with 20-29 ...
        band[lower == 10] = rates[0] / 2
        out[int(row["year"])] = band
    return out


def path_year(scn: Scenario, year: int) -> int | None:
    """Return the calendar year of the national series that model year ``year`` stands for (None if off)."""
    start = scn.ict.national_path_start
    if start is None:
        return None
    return start + (year - scn.municipality.start_year)


def ict_uptake(pop: Population, scn: Scenario, rng: np.random.Generator, year: int | None = None) -> None:
    """Non-users take up a smartphone, and smartphone users social media, for the year that begins.

    Args:
        pop: The population (changed in place).
        scn: The scenario.
        rng: The ``ict_uptake`` stream of this year.
        year: The model year that begins (used by the national path).
    """
    alive = pop.alive[: pop.n]
    n_live = int(np.count_nonzero(alive))
    if n_live == 0:
        return
    u = rng.random((2, n_live))
    path = national_smartphone_path()
    target_year = path_year(scn, year) if year is not None else None
    if target_year is None or target_year not in path:
        from .ict_kernel import uptake

        # the chances per age band; each living resident's comparisons in one compiled pass
        phone = np.asarray(scn.ict.smartphone_rate, dtype=np.float64)
        sns = np.asarray(scn.ict.sns_rate, dtype=np.float64)
        share_sns = np.divide(sns, phone, out=np.zeros_like(sns), where=phone > 0)
        up = scn.ict.yearly_uptake
        uptake(alive, pop.age, pop.smartphone, pop.sns, u, up * phone, up * share_sns, AGE_BAND_WIDTH,
               N_AGE_BANDS - 1)
        return
    # the national path: each band's share meets the series
    live = np.flatnonzero(alive)
    band = age_band(pop.age[live])
    phone = np.asarray(scn.ict.smartphone_rate)[band]
    sns = np.asarray(scn.ict.sns_rate)[band]
    share_sns = np.divide(sns, phone, out=np.zeros_like(sns), where=phone > 0)
    target = path[target_year]
    has = pop.smartphone[live]
    count = np.bincount(band, minlength=N_AGE_BANDS)
    owners = np.bincount(band[has], minlength=N_AGE_BANDS)
    s = np.divide(owners, count, out=np.zeros(N_AGE_BANDS), where=count > 0)
    p_take = np.clip(np.divide(target - s, 1.0 - s, out=np.zeros(N_AGE_BANDS), where=s < 1), 0.0, 1.0)
    new_phone = ~has & (u[0] < p_take[band])
    pop.smartphone[live[new_phone]] = True
    new_sns = new_phone & ~pop.sns[live] & (u[1] < np.minimum(share_sns, 1.0))
    pop.sns[live[new_sns]] = True
