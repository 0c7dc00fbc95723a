"""Compiled kernel of the yearly compaction of the population (numba; see :mod:`kyojosim.compiled`).

* :func:`compact_rows`: keep the flagged rows of a column, in order, at its front (in place, one
  pass: ``a[:k] = a[keep]``); :func:`compact_values` does the same for a column of one value per row;
* :func:`distinct_counts`: the distinct slots of a list and how often each occurs (``np.unique`` with
  counts, in the order of first occurrence), counted in an array of marks by slot that it leaves all
  zeros, so that the work follows the list, not the population;
* :func:`household_sizes`: the living members of every household, and :func:`sex_band_counts` the living
  by sex and age band, each one pass without temporaries;
* :func:`compaction_plan`: the new slot of every kept slot, the uid index and the inhabited households
  after a compaction, in one pass;
* :func:`band_table` and :func:`band_of`: the age band of an age read from a table of the ages up to the
  last band's lower bound (an integer division by a width known only at run time costs tens of cycles,
  once per resident, in every pass that needs the band).
"""

from __future__ import annotations

import numpy as np

from ..compiled import compiled

__all__ = ["band_of", "band_table", "compact_rows", "compact_values", "compaction_plan", "distinct_counts",
           "household_sizes", "sex_band_counts"]


@compiled
def compact_rows(a: np.ndarray, keep: np.ndarray) -> int:  # pragma: no cover - compiled
    """Move the rows ``i`` with ``keep[i]`` to the front of ``a``, in order (in place); return how many.

    ``a`` is two-dimensional (a column of one value per row is passed as ``(rows, 1)``).
    """
    width = a.shape[1]
    j = 0
    for i in range(keep.size):
        if keep[i]:
            if j != i:
                for w in range(width):
                    a[j, w] = a[i, w]
            j += 1
    return j


@compiled
def distinct_counts(slots: np.ndarray, marks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:  # pragma: no cover
    """Return ``(who, count)``: the distinct values of ``slots`` in the order they first occur, and their counts.

    Args:
        slots: int64 slots, each in ``0 .. marks.size - 1``.
        marks: int64 zeros, one per slot (a scratch array): counted in, and left all zeros again.
    """
    who = np.empty(slots.size, dtype=np.int64)
    k = 0
    for i in range(slots.size):
        s = slots[i]
        if marks[s] == 0:
            who[k] = s
            k += 1
        marks[s] += 1
    count = np.empty(k, dtype=np.int64)
    for j in range(k):
        count[j] = marks[who[j]]
        marks[who[j]] = 0
    return who[:k].copy(), count


@compiled
def compact_values(a: np.ndarray, keep: np.ndarray) -> int:  # pragma: no cover - compiled
    """Move the values ``a[i]`` with ``keep[i]`` to the front of the one-dimensional ``a``, in order (in place).

    :func:`compact_rows` of a column of one value per row, without its loop over the row (which costs
    more than the copy for one value); returns how many. Every value is written at the next place (never
    after its own) and the place advanced only for a kept one, without a branch; the one entry past the kept
    values that this overwrites is put back.
    """
    kept = 0
    for i in range(keep.size):
        kept += np.int64(keep[i])
    last = a[kept] if kept < a.size else a[0]
    j = 0
    for i in range(keep.size):
        a[j] = a[i]
        j += np.int64(keep[i])
    if kept < a.size:
        a[kept] = last
    return j


@compiled
def household_sizes(household: np.ndarray, alive: np.ndarray, n_households: int) -> np.ndarray:  # pragma: no cover
    """Return the number of living members of every household id: ``np.bincount(household[alive], minlength=n)``.

    ``alive`` covers the slots ``0 .. alive.size - 1`` (``household`` may be longer).
    """
    size = np.zeros(n_households, dtype=np.int64)
    for i in range(alive.size):
        if alive[i]:
            size[household[i]] += 1
    return size


@compiled
def compaction_plan(keep: np.ndarray, uid: np.ndarray, household: np.ndarray, slot_by_uid: np.ndarray,
                    inhabited: np.ndarray) -> np.ndarray:  # pragma: no cover - compiled
    """Return ``new_slot`` of a compaction that keeps the slots ``i`` with ``keep[i]``, in order (int64, -1 if dropped).

    In the same pass, ``slot_by_uid[uid[i]]`` becomes the new slot of every kept ``i`` and ``inhabited``
    (one flag per household id, all set to False first) is set for every kept slot's household.
    """
    inhabited[:] = False
    new_slot = np.empty(keep.size, dtype=np.int64)
    j = 0
    for i in range(keep.size):
        if keep[i]:
            new_slot[i] = j
            slot_by_uid[uid[i]] = j
            inhabited[household[i]] = True
            j += 1
        else:
            new_slot[i] = -1
    return new_slot


@compiled(inline=True)
def band_table(band_width: int, n_bands: int) -> np.ndarray:  # pragma: no cover - compiled
    """Return ``min(age // band_width, n_bands - 1)`` of the ages ``0 .. band_width * (n_bands - 1)`` (int64)."""
    last = band_width * (n_bands - 1)
    table = np.empty(last + 1, dtype=np.int64)
    for a in range(last + 1):
        table[a] = min(a // band_width, n_bands - 1)
    return table


@compiled(inline=True)
def band_of(table: np.ndarray, age: int) -> int:  # pragma: no cover - compiled
    """Return the age band of a non-negative ``age`` from :func:`band_table` (ages past its end: the last band)."""
    last = table.size - 1
    return table[age if age < last else last]


@compiled
def sex_band_counts(sex: np.ndarray, age: np.ndarray, alive: np.ndarray, band_width: int,
                    n_bands: int) -> np.ndarray:  # pragma: no cover - compiled
    """Return the living by sex (rows) and age band (columns), int64.

    ``np.bincount(sex[live] * n_bands + age_band(age[live]), minlength=2 * n_bands).reshape(2, n_bands)``
    (``alive`` covers the slots ``0 .. alive.size - 1``; sexes are 0 and 1, ages non-negative).
    """
    counts = np.zeros(2 * n_bands, dtype=np.int64)
    table = band_table(band_width, n_bands)
    for i in range(alive.size):
        if alive[i]:
            counts[np.int64(sex[i]) * n_bands + band_of(table, np.int64(age[i]))] += 1
    return counts.reshape(2, n_bands)
