"""Compiled kernel of the household kinds (numba; see :mod:`kyojosim.compiled`).

:func:`household_kinds` counts the living members of every household (all, 65+, children, spouses,
elders; five 12-bit fields of one word per household, counted again in full words if a household has 4096
members or more) in one pass over the residents and applies the rules of
:func:`kyojosim.core.households.classify` in their order, household by household.
:func:`members_of` lists the living members of some households and :func:`neighbour_blocks` gives every
slot the block of its household if it is a living resident of an age to have neighbours (for the ties of
:mod:`kyojosim.core.synthesis`), each in one pass without town-sized temporaries.
"""

from __future__ import annotations

import numpy as np

from ..compiled import compiled

__all__ = ["few_groups_with_new", "household_kinds", "members_of", "neighbour_blocks", "pairs_by_distance"]


@compiled
def household_kinds(household: np.ndarray, age: np.ndarray, role: np.ndarray, alive: np.ndarray, n_households: int,
                    codes: np.ndarray, elderly_age: int, role_child: int, role_spouse: int,
                    role_elder: int) -> np.ndarray:  # pragma: no cover - compiled
    """Return the kind of every household id (int8; -1 if empty).

    ``codes`` holds the kinds' codes: three generations, couple only, single parent, couple with
    children, elderly couple, single elderly, single adult. Later rules override earlier ones, as in
    the array form.
    """
    kind, complete = _kinds(household, age, role, alive, n_households, codes, elderly_age, role_child, role_spouse,
                            role_elder, False)
    if not complete:
        # a household of 4096 or more wraps its packed field of all members: count again in full words
        kind, complete = _kinds(household, age, role, alive, n_households, codes, elderly_age, role_child,
                                role_spouse, role_elder, True)
    return kind


@compiled
def _kinds(household: np.ndarray, age: np.ndarray, role: np.ndarray, alive: np.ndarray, n_households: int,
           codes: np.ndarray, elderly_age: int, role_child: int, role_spouse: int, role_elder: int,
           wide: bool) -> tuple[np.ndarray, bool]:  # pragma: no cover - compiled
    """:func:`household_kinds`, the counts packed or (``wide``) in full words; whether every member was counted.

    Packed, the five counts of a household (all, 65+, children, spouses, elders) are 12-bit fields of one word,
    a resident's increments added at once (one word per household for the scattered increments); a household
    of 4096 members or more then wraps its field of all members, and the sizes fall short of the living.
    """
    packed = np.zeros(0 if wide else n_households, dtype=np.uint64)
    count = np.zeros((n_households if wide else 0, 5), dtype=np.int64)
    n_alive = 0
    for i in range(alive.size):
        if not alive[i]:
            continue
        r = role[i]
        if wide:
            h = household[i]
            count[h, 0] += 1
            count[h, 1] += np.int64(age[i] >= elderly_age)
            count[h, 2] += np.int64(r == role_child)
            count[h, 3] += np.int64(r == role_spouse)
            count[h, 4] += np.int64(r == role_elder)
        else:
            packed[household[i]] += (np.uint64(1) | (np.uint64(age[i] >= elderly_age) << np.uint64(12))
                                     | (np.uint64(r == role_child) << np.uint64(24))
                                     | (np.uint64(r == role_spouse) << np.uint64(36))
                                     | (np.uint64(r == role_elder) << np.uint64(48)))
        n_alive += 1
    kind = np.empty(n_households, dtype=np.int8)
    field = np.uint64(0xFFF)
    counted = 0
    for h in range(n_households):
        if wide:
            s, n_old, c, sp, n_elder = count[h, 0], count[h, 1], count[h, 2], count[h, 3], count[h, 4]
        else:
            x = packed[h]
            s = np.int64(x & field)
            n_old = np.int64((x >> np.uint64(12)) & field)
            c = np.int64((x >> np.uint64(24)) & field)
            sp = np.int64((x >> np.uint64(36)) & field)
            n_elder = np.int64((x >> np.uint64(48)) & field)
        counted += s
        k = codes[0]
        if s == 2 and sp == 1 and c == 0:
            k = codes[1]
        if c > 0 and sp == 0 and s == c + 1:
            k = codes[2]
        if c > 0 and sp == 1 and s == c + 2:
            k = codes[3]
        if s >= 2 and n_old == s:
            k = codes[4]
        if n_elder > 0 and s > n_elder:
            k = codes[0]
        if s == 1:
            k = codes[5] if n_old > 0 else codes[6]
        if s == 0:
            k = -1
        kind[h] = k
    return kind, counted == n_alive


@compiled
def members_of(household: np.ndarray, alive: np.ndarray, slots: np.ndarray,
               n_households: int) -> np.ndarray:  # pragma: no cover - compiled
    """Return the living slots (ascending) whose household is that of one of ``slots``.

    ``selected[household[slots]] = True; live[selected[household[live]]]`` with ``live`` the living slots
    (``alive`` covers the slots ``0 .. alive.size - 1``).
    """
    selected = np.zeros(n_households, dtype=np.bool_)
    for s in slots:
        selected[household[s]] = True
    out = np.empty(alive.size, dtype=np.int64)
    k = 0
    for i in range(alive.size):
        if alive[i] and selected[household[i]]:
            out[k] = i
            k += 1
    return out[:k].copy()


@compiled
def neighbour_blocks(household: np.ndarray, age: np.ndarray, alive: np.ndarray, hh_block: np.ndarray,
                     min_age: int) -> np.ndarray:  # pragma: no cover - compiled
    """Return the block of every slot's household for the living of ``min_age`` or more, -1 for the others (int64).

    ``block = np.full(n, -1); adults = live[age[live] >= min_age]; block[adults] = hh_block[household[adults]]``.
    """
    block = np.empty(alive.size, dtype=np.int64)
    for i in range(alive.size):
        block[i] = hh_block[household[i]] if alive[i] and age[i] >= min_age else -1
    return block


@compiled
def few_groups_with_new(group: np.ndarray, new: np.ndarray,
                        alive: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # pragma: no cover
    """Return ``(start, members, n_new)`` of :func:`kyojosim.core.network_kernel.groups_with_new`, by counting sort.

    For group ids bounded by a small number (blocks, districts): one counter per id up to the largest
    (not only for the groups of new members), so two counting passes and a filling pass over the slots
    ``0 .. alive.size - 1``, without the index of the general kernel. A group (``group >= 0`` where
    ``alive``) is listed if it has two or more members and a ``new`` one; listed groups come in ascending
    id, each with its new members first, then the others, each part in ascending slot order.
    """
    n = alive.size
    top = -1
    for i in range(n):
        if alive[i] and group[i] > top:
            top = np.int64(group[i])
    size = np.zeros(top + 1, dtype=np.int64)
    fresh = np.zeros(top + 1, dtype=np.int64)
    for i in range(n):
        if alive[i]:
            g = np.int64(group[i])
            if g >= 0:
                size[g] += 1
                if new[i]:
                    fresh[g] += 1
    n_listed = 0
    for g in range(top + 1):
        if size[g] >= 2 and fresh[g] > 0:
            n_listed += 1
    start = np.zeros(n_listed + 1, dtype=np.int64)
    n_new = np.zeros(n_listed, dtype=np.int64)
    fill_new = np.full(top + 1, -1, dtype=np.int64)  # where the next new member of each listed id goes
    fill_old = np.zeros(top + 1, dtype=np.int64)
    j = 0
    for g in range(top + 1):
        if size[g] >= 2 and fresh[g] > 0:
            start[j + 1] = start[j] + size[g]
            n_new[j] = fresh[g]
            fill_new[g] = start[j]
            fill_old[g] = start[j] + fresh[g]
            j += 1
    members = np.empty(start[n_listed], dtype=np.int64)
    for i in range(n):
        if alive[i]:
            g = np.int64(group[i])
            if g >= 0 and fill_new[g] >= 0:
                if new[i]:
                    members[fill_new[g]] = i
                    fill_new[g] += 1
                else:
                    members[fill_old[g]] = i
                    fill_old[g] += 1
    return start, members, n_new


@compiled
def pairs_by_distance(order: np.ndarray, key: np.ndarray) -> tuple[np.ndarray, np.ndarray]:  # pragma: no cover
    """Return all pairs ``(order[i], order[i + d])`` with ``key[i] == key[i + d]``, ``d`` by ``d`` from 1 (int64).

    ``key`` is sorted (runs of equal keys are the groups, ``order`` their members in that order). The pairs of
    distance 1 come first, each distance in ascending ``i``: what the loop of
    :func:`kyojosim.core.synthesis.household_pairs` over ``d`` gives, counted first and then written.
    """
    n = key.size
    total = 0
    longest = 1 if n else 0
    run = 1
    for i in range(1, n):
        run = run + 1 if key[i] == key[i - 1] else 1
        longest = max(longest, run)
        total += run - 1
    a = np.empty(total, dtype=np.int64)
    b = np.empty(total, dtype=np.int64)
    k = 0
    for d in range(1, longest):
        for i in range(n - d):
            if key[i + d] == key[i]:
                a[k] = order[i]
                b[k] = order[i + d]
                k += 1
    return a, b
