"""Compiled kernels of the yearly demography (numba; see :mod:`kyojosim.compiled`).

* :func:`age_and_die`: steps 1-2 of :func:`kyojosim.core.demography.yearly_demography` in two passes
  over the living: everyone ages a year, frailty sets in, the frail stop working and driving, and
  each resident dies with :func:`kyojosim.core.demography.death_probability` (the same IEEE
  operations in the same order, so the same deaths for the same uniforms); the age bands here and in
  :func:`moving_out` are read from :func:`~kyojosim.core.population_kernel.band_table`.
* :func:`moving_out`: the draws of out-migration (step 4) in passes over the living and the households;
* :func:`ids_by_district`, :func:`residents_where`, :func:`headless_members`,
  :func:`minors_without_adult` and :func:`changed_household`: the orderings and selections of the
  births (step 3) and household changes (step 6), each one pass over the residents or the households
  without town-sized temporaries, with the results of the array forms they stand for (named in each
  docstring; tests/test_demography.py).
"""

from __future__ import annotations

import numpy as np

from ..compiled import compiled
from .population_kernel import band_of, band_table

__all__ = ["age_and_die", "changed_household", "headless_members", "ids_by_district", "minors_without_adult",
           "moving_out", "residents_where"]


@compiled
def age_and_die(alive: np.ndarray, age: np.ndarray, sex: np.ndarray, frail: np.ndarray, employed: np.ndarray,
                drives: np.ndarray, onset: np.ndarray, u_frail: np.ndarray, table: np.ndarray, multiplier: float,
                improvement: float, frail_ratio: float, max_age: int, band_width: int, n_bands: int,
                u_die: np.ndarray) -> np.ndarray:  # pragma: no cover - compiled
    """Age the living a year (in place) and return the slots (ascending, int64) of those who die.

    The living are the slots ``i`` with ``alive[i]`` (``alive`` covers the slots ``0 .. alive.size - 1``); the
    ``j``-th of them in slot order draws ``u_frail[j]`` and ``u_die[j]`` (one uniform each per living resident).

    Args:
        alive: Whether each slot holds a living resident.
        age: The age column (changed in place).
        sex: The sex column.
        frail: The frailty column (changed in place).
        employed: The employment column (changed in place).
        drives: The driving column (changed in place).
        onset: float64 yearly frailty onset rate by age band.
        u_frail: One uniform per living resident for frailty onset.
        table: float64 (2 x bands) mortality table by sex and band.
        multiplier: The table's multiplier.
        improvement: ``(1 - annual_improvement) ** years_since_start``.
        frail_ratio: The frail's mortality relative to the non-frail of their band and sex.
        max_age: Nobody survives to this age.
        band_width: The width of an age band (:func:`kyojosim.constants.age_band`).
        n_bands: The number of age bands.
        u_die: One uniform per living resident for death.
    """
    n = u_frail.size
    key = np.empty(n, dtype=np.int64)
    s = np.zeros(2 * n_bands, dtype=np.float64)
    c = np.zeros(2 * n_bands, dtype=np.int64)
    bands = band_table(band_width, n_bands)
    i = 0
    for r in range(alive.size):
        if not alive[r]:
            continue
        age[r] += 1
        band = band_of(bands, np.int64(age[r]))
        fr = frail[r] | (u_frail[i] < onset[band])
        frail[r] = fr
        employed[r] = employed[r] & (not fr)
        drives[r] = drives[r] & (not fr)
        k = np.int64(sex[r]) * n_bands + band
        key[i] = k
        s[k] += frail_ratio if fr else 1.0
        c[k] += 1
        i += 1
    norm = np.ones(2 * n_bands, dtype=np.float64)
    for k in range(2 * n_bands):
        if c[k] > 0:
            norm[k] = s[k] / c[k]
    rate = table.ravel()  # rate[sex * n_bands + band]
    dies = np.empty(n, dtype=np.int64)
    m = 0
    i = 0
    for r in range(alive.size):
        if not alive[r]:
            continue
        k = key[i]
        q = rate[k] * multiplier * improvement
        f = frail_ratio if frail[r] else 1.0
        p = q * f / norm[k]
        p = 1.0 if age[r] >= max_age else p
        p = min(max(p, 0.0), 1.0)
        if u_die[i] < p:
            dies[m] = r
            m += 1
        i += 1
    return dies[:m].copy()


@compiled
def moving_out(alive: np.ndarray, age: np.ndarray, role: np.ndarray, household: np.ndarray, rate: np.ndarray,
               n_households: int, role_head: int, role_spouse: int, role_child: int, band_width: int, n_bands: int,
               u_household: np.ndarray, u_resident: np.ndarray) -> np.ndarray:  # pragma: no cover - compiled
    """Return the slots (ascending, int64) of the living who move out: the draws of out-migration.

    What :func:`kyojosim.core.demography.out_migration` computes with arrays, in a pass over the heads
    and spouses, one over the households and one over the living: a resident's rate is
    ``clip(-rate[band], 0, 1)``; a family unit (head, spouse and children under 15) moves if
    ``u_household[h]`` is below the mean rate of the household's head and spouse; others move if
    ``u_resident`` is below their own rate.

    Args:
        alive: Whether each slot holds a living resident (slots ``0 .. alive.size - 1``).
        age: The age column.
        role: The household role column.
        household: The household column.
        rate: float64 net migration rate by age band.
        n_households: Number of households (the length of ``u_household``).
        role_head: The head's role code.
        role_spouse: The spouse's role code.
        role_child: The child's role code.
        band_width: The width of an age band.
        n_bands: The number of age bands.
        u_household: One uniform per household.
        u_resident: One uniform per living resident, the ``j``-th for the ``j``-th of them in slot order.
    """
    bands = band_table(band_width, n_bands)
    # each household's sum of rates and count of head and spouse side by side (one cache line per household:
    # household ids are scattered over the slots); counts are exact in float64
    sc = np.zeros((n_households, 2), dtype=np.float64)
    for r in range(alive.size):
        if alive[r] and (role[r] == role_head or role[r] == role_spouse):
            band = band_of(bands, np.int64(age[r]))
            h = household[r]
            sc[h, 0] += min(max(-rate[band], 0.0), 1.0)
            sc[h, 1] += 1.0
    # whether each family unit moves, decided once per household (a byte each: the table stays in cache)
    family_moves = np.empty(n_households, dtype=np.bool_)
    for h in range(n_households):
        family_moves[h] = u_household[h] < (sc[h, 0] / sc[h, 1] if sc[h, 1] > 0 else 0.0)
    goes = np.empty(u_resident.size, dtype=np.int64)
    m = 0
    i = 0
    for r in range(alive.size):
        if not alive[r]:
            continue
        in_unit = role[r] == role_head or role[r] == role_spouse or (role[r] == role_child and age[r] < 15)
        if in_unit:
            moves = family_moves[household[r]]
        else:
            band = band_of(bands, np.int64(age[r]))
            moves = u_resident[i] < min(max(-rate[band], 0.0), 1.0)
        if moves:
            goes[m] = r
            m += 1
        i += 1
    return goes[:m].copy()


@compiled
def ids_by_district(ids: np.ndarray, district: np.ndarray) -> tuple[np.ndarray, np.ndarray]:  # pragma: no cover
    """Return ``(ordered, start)``: ``ids`` ordered by ``district[id]`` and, within a district, as given.

    ``ordered`` is ``ids[np.argsort(district[ids], kind="stable")]`` (a counting sort of the district
    ids); the ids of district ``d`` are ``ordered[start[d]:start[d + 1]]``, for ``d`` up to the largest
    district among them (``start`` has that many + 2 entries). Districts are non-negative.
    """
    m = ids.size
    d_of = np.empty(m, dtype=district.dtype)  # each id's district, read once (the ids are scattered)
    top = -1
    for j in range(m):
        d = district[ids[j]]
        d_of[j] = d
        top = max(top, np.int64(d))
    start = np.zeros(top + 2, dtype=np.int64)
    for j in range(m):
        start[np.int64(d_of[j]) + 1] += 1
    for d in range(top + 1):
        start[d + 1] += start[d]
    fill = start[:-1].copy()
    ordered = np.empty(m, dtype=np.int64)
    for j in range(m):
        d = np.int64(d_of[j])
        ordered[fill[d]] = ids[j]
        fill[d] += 1
    return ordered, start


@compiled
def residents_where(alive: np.ndarray, household: np.ndarray, size: np.ndarray, age: np.ndarray, code: np.ndarray,
                    frail: np.ndarray, want: int, size_lo: int, size_hi: int, age_lo: int, age_hi: int,
                    frail_only: bool) -> np.ndarray:  # pragma: no cover - compiled
    """Return the living slots (ascending) whose code (role or sex), household size, age and frailty are as asked.

    ``np.flatnonzero(alive & (code == want) & (size_lo <= size[household]) & (size[household] <= size_hi)
    & (age_lo <= age) & (age < age_hi) & (frail | ~frail_only))``, with ``want < 0`` for any code and an
    empty ``size`` for any household size; ``alive`` covers the slots ``0 .. alive.size - 1``.
    """
    check_size = size.size > 0
    out = np.empty(alive.size, dtype=np.int64)
    k = 0
    for i in range(alive.size):
        if not alive[i]:
            continue
        if want >= 0 and code[i] != want:
            continue
        a = age[i]
        if a < age_lo or a >= age_hi:
            continue
        if frail_only and not frail[i]:
            continue
        if check_size:
            s = size[household[i]]
            if s < size_lo or s > size_hi:
                continue
        out[k] = i
        k += 1
    return out[:k].copy()


@compiled
def headless_members(household: np.ndarray, role: np.ndarray, alive: np.ndarray, n_households: int,
                     role_head: int) -> np.ndarray:  # pragma: no cover - compiled
    """Return the living slots (ascending) of households with no living head.

    ``has_head[household[alive & (role == role_head)]] = True; np.flatnonzero(alive & ~has_head[household])``.
    """
    has_head = np.zeros(n_households, dtype=np.bool_)
    for i in range(alive.size):
        if alive[i] and role[i] == role_head:
            has_head[household[i]] = True
    out = np.empty(alive.size, dtype=np.int64)
    k = 0
    for i in range(alive.size):
        if alive[i] and not has_head[household[i]]:
            out[k] = i
            k += 1
    return out[:k].copy()


@compiled
def minors_without_adult(household: np.ndarray, age: np.ndarray, alive: np.ndarray, n_households: int,
                         adult_age: int) -> tuple[np.ndarray, np.ndarray]:  # pragma: no cover - compiled
    """Return ``(adult_in, minors)``: which households have a living adult, and the living minors of the others.

    ``adult_in = np.bincount(household[alive & (age >= adult_age)], minlength=n_households) > 0`` and
    ``np.flatnonzero(alive & (age < adult_age) & ~adult_in[household])`` (ascending slots).
    """
    adult_in = np.zeros(n_households, dtype=np.bool_)
    for i in range(alive.size):
        if alive[i] and age[i] >= adult_age:
            adult_in[household[i]] = True
    out = np.empty(alive.size, dtype=np.int64)
    k = 0
    for i in range(alive.size):
        if alive[i] and age[i] < adult_age and not adult_in[household[i]]:
            out[k] = i
            k += 1
    return adult_in, out[:k].copy()


@compiled
def changed_household(alive: np.ndarray, household: np.ndarray, before: np.ndarray) -> np.ndarray:  # pragma: no cover
    """Return the living slots below ``before.size`` (ascending) whose household is not the one in ``before``.

    ``stayed = live[live < before.size]; stayed[household[stayed] != before[stayed]]``.
    """
    out = np.empty(before.size, dtype=np.int64)
    k = 0
    for i in range(min(before.size, alive.size)):
        if alive[i] and household[i] != before[i]:
            out[k] = i
            k += 1
    return out[:k].copy()
