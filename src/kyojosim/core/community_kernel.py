"""Compiled kernels of community membership (numba; see :mod:`kyojosim.compiled`).

* :func:`frame_scale` and :func:`eligibility`: the eligibility weights of
  :func:`kyojosim.core.communities.eligibility_weights`: the households with a school child and each
  kind's mean raw weight over the frame (living, 20-69; added in slot order, as numpy's mean over the
  first axis of the frame's weights adds its rows), then each resident's raw weights rule after rule,
  divided by that mean, without intermediate arrays;
* :func:`turnover_scan` and :func:`turnover_apply`: the yearly leaving and joining of
  :func:`kyojosim.core.community_dynamics.yearly_memberships` over (resident, kind) pairs, the weights
  computed on the way (never stored): the memberships and the largest chance of joining per kind,
  then the leaving and joining of the pairs drawn;
* :func:`adult_scan`: the slots the yearly turnover applies to (living, not skipped, 18+) and the age
  group of each, with :func:`frame_scale` and :func:`turnover_scan` of them, each slot's raw weights read once;
* :func:`online_turnover`: the yearly leaving of online communities and who starts taking part, in one
  pass over the slots;
* :func:`new_memberships`: which of the memberships asked for are new (the resident is not in the
  kind yet), and the rows with any;
* :func:`participation_codes`: each slot's participation group (none, offline only, both, online
  only) in one pass;
* :func:`chapter_members`: the existing members of a kind by district (a counting sort in slot order),
  from which a newcomer to a local kind draws the member whose chapter they join, and whether every group
  id is of one kind; :func:`chapters_joined`: the same lists after some residents joined, from the lists
  before and the joiners instead of another pass;
* :func:`groups_of_joiners`: the groups a year's joiners joined with all their members (what
  :func:`kyojosim.core.network_kernel.kinds_groups_with_new` gives), from the joiners and the chapter
  lists instead of a pass over the town.

The weights are the same IEEE operations in the same order as the array rules
(``tests/test_community_dynamics.py`` compares them to the bit); as they depend on a resident through
five facts only, the passes over many residents read them from a table of the 32 combinations
(:func:`raw_table`), computed by the same rules.
"""

from __future__ import annotations

import numpy as np

from ..compiled import compiled
from .network_kernel import listed_groups

__all__ = ["adult_scan", "chapter_members", "chapters_joined", "eligibility", "frame_scale", "groups_of_joiners",
           "new_memberships", "online_turnover", "participation_codes", "turnover_apply", "turnover_scan"]


@compiled(inline=True)
def _raw_row(w: np.ndarray, a: int, parent: bool, employed: bool, rule: np.ndarray,
             older: np.ndarray) -> None:  # pragma: no cover - compiled
    """Fill ``w`` (one row, kinds) with the raw weights of one resident.

    Each weight starts at 1 (0 under 18) and is multiplied, rule by rule, by ``parent`` (PTA),
    ``employed`` (labour union, workplace group), ``age >= 40`` (agricultural and trade group) and,
    from 60, ``older[0]`` (neighbourhood association) and ``older[1]`` (volunteer and religious groups;
    1 below 60). ``rule`` holds the kinds' indices: PTA, labour union, workplace group, agricultural
    and trade group, neighbourhood association, volunteer group, religious group.
    """
    base = 0.0 if a < 18 else 1.0
    for k in range(w.size):
        w[k] = base
    w[rule[0]] *= 1.0 if parent else 0.0
    e = 1.0 if employed else 0.0
    w[rule[1]] *= e
    w[rule[2]] *= e
    w[rule[3]] *= 1.0 if a >= 40 else 0.0
    w[rule[4]] *= older[0] if a >= 60 else 1.0
    g = older[1] if a >= 60 else 1.0
    w[rule[5]] *= g
    w[rule[6]] *= g


@compiled(inline=True)
def _schools(age: np.ndarray, role: np.ndarray, household: np.ndarray, alive: np.ndarray, n_households: int,
             role_child: int) -> np.ndarray:  # pragma: no cover - compiled
    """Return which households have a living child 6-14 (``role == role_child``)."""
    school = np.zeros(n_households, dtype=np.bool_)
    for i in range(alive.size):
        if alive[i] and role[i] == role_child and age[i] >= 6 and age[i] <= 14:
            school[household[i]] = True
    return school


@compiled(inline=True)
def _scale_of(sums: np.ndarray, count: int) -> np.ndarray:  # pragma: no cover - compiled
    """Return each kind's mean raw weight over a frame of ``count`` (its ``sums``), 1 where it is 0 or none are."""
    scale = np.ones(sums.size)
    if count > 0:
        for k in range(sums.size):
            m = sums[k] / count
            scale[k] = 1.0 if m == 0 else m
    return scale


@compiled(inline=True)
def _bound_of(seen: np.ndarray, table: np.ndarray, levels: np.ndarray, scale: np.ndarray, rates: np.ndarray,
              rate: float, cap: float) -> np.ndarray:  # pragma: no cover - compiled
    """Return each kind's bound on a non-member's yearly chance to join (the odds form of :func:`turnover_scan`).

    ``seen[lv, code, k]``: a non-member of kind ``k`` in age group ``lv`` has the raw-weight code ``code``; the
    bound is over the largest raw weight of such a non-member in each group (``table[code, k]``).
    """
    n_levels, _, n_kinds = seen.shape
    top = np.zeros((n_kinds, n_levels))  # the largest raw weight of a non-member, per kind and level
    for lv in range(n_levels):
        for code in range(N_RAW_CODES):
            for k in range(n_kinds):
                if seen[lv, code, k] and table[code, k] > top[k, lv]:
                    top[k, lv] = table[code, k]
    bound = np.zeros(n_kinds)
    for k in range(n_kinds):
        for lv in range(n_levels):
            if top[k, lv] > 0:
                p = min(levels[lv] * (top[k, lv] / scale[k]) * rates[k], cap)
                if p > 0:
                    q = min(rate * p / (1.0 - p), 1.0)
                    if q > bound[k]:
                        bound[k] = q
    return bound


@compiled(inline=True)
def _notes(district: np.ndarray, n: int, n_kinds: int,
           room: int) -> tuple[np.ndarray, np.ndarray]:  # pragma: no cover - compiled
    """Return ``(counts, noted)`` to fill for :func:`_lists_of_noted`: zero counts by kind and district, room to note.

    The districts are those of the first ``n`` slots; ``noted`` has room for ``room`` notes (``n * n_kinds``:
    each slot in every kind, of which only the pages written are taken; fewer for a caller that grows it).
    """
    n_districts = 0
    for i in range(n):
        if district[i] + 1 > n_districts:
            n_districts = district[i] + 1
    return np.zeros((n_kinds, n_districts), dtype=np.int64), np.empty(room, dtype=np.int64)


@compiled(inline=True)
def _starts_of(counts: np.ndarray):  # pragma: no cover - compiled
    """Return ``(start, total)``: where the lists of ``counts[j, d]`` members begin, and their total.

    Kind by kind and district by district: a column per district and one more, the offsets running on
    through the kinds.
    """
    n_kinds, n_districts = counts.shape
    start = np.zeros((n_kinds, n_districts + 1), dtype=np.int64)
    total = 0
    for j in range(n_kinds):
        for d in range(n_districts):
            start[j, d] = total
            total += counts[j, d]
        start[j, n_districts] = total
    return start, total


@compiled
def _lists_of_noted(counts: np.ndarray, noted: np.ndarray, n_noted: int, district: np.ndarray, groups: np.ndarray,
                    kinds: np.ndarray, with_ids: bool):  # pragma: no cover - compiled
    """Return ``(start, members, ids)``: the slots noted (``slot * kinds + j``, in slot order) by kind and district.

    ``counts[j, d]`` is how many of the noted are of kind index ``j`` in district ``d``. The members of ``j`` in
    ``d`` are ``members[start[j, d]:start[j, d + 1]]``, in the order noted; ``start`` has a column per district
    and one more, and its offsets run on through the kinds. With ``with_ids``, ``ids[e]`` is
    ``groups[members[e], kinds[j]]`` for the kind index ``j`` the member is listed in (read in the order
    noted, slot by slot); otherwise ``ids`` is empty.
    """
    n_kinds, n_districts = counts.shape
    start, total = _starts_of(counts)
    members = np.empty(total, dtype=np.int64)
    ids = np.empty(total if with_ids else 0, dtype=np.int64)
    fill = start[:, :n_districts].copy()
    for e in range(n_noted):
        i = noted[e] // n_kinds
        j = noted[e] - i * n_kinds
        d = district[i]
        members[fill[j, d]] = i
        if with_ids:
            ids[fill[j, d]] = groups[i, kinds[j]]
        fill[j, d] += 1
    return start, members, ids


N_RAW_CODES = 32
"""The raw weights depend on a resident through five facts only (:func:`raw_code`): 32 codes."""


@compiled(inline=True)
def raw_code(a: int, parent: bool, employed: bool) -> int:  # pragma: no cover - compiled
    """Return the code of what the raw weights of :func:`_raw_row` read: 18+, parent, employed, 40+, 60+ (bits)."""
    return ((1 if a >= 18 else 0) | (2 if parent else 0) | (4 if employed else 0) | (8 if a >= 40 else 0)
            | (16 if a >= 60 else 0))


@compiled
def raw_table(n_kinds: int, rule: np.ndarray, older: np.ndarray) -> np.ndarray:  # pragma: no cover - compiled
    """Return the raw weights of every :func:`raw_code` (32 x kinds): :func:`_raw_row` of an age with that code.

    A resident's raw weights are the row of its code, the same numbers (the rules read the age only
    through 18+, 40+ and 60+). The codes no age gives (60+ but not 18+ ...) have rows no resident reads.
    """
    table = np.empty((N_RAW_CODES, n_kinds))
    for code in range(N_RAW_CODES):
        a = 0
        if code & 1:
            a = 18
        if code & 8:
            a = 40
        if code & 16:
            a = 60
        _raw_row(table[code], a, (code & 2) != 0, (code & 4) != 0, rule, older)
    return table


@compiled
def frame_scale(age: np.ndarray, role: np.ndarray, household: np.ndarray, alive: np.ndarray, employed: np.ndarray,
                n_households: int, role_child: int, rule: np.ndarray, older: np.ndarray,
                n_kinds: int) -> tuple[np.ndarray, np.ndarray]:  # pragma: no cover - compiled
    """Return ``(school, scale)``: the households with a living child 6-14, and what each kind's weights are divided by.

    ``scale`` is the mean raw weight of each kind over the frame (the living residents aged 20-69,
    added in slot order), 1 where that mean is 0 or the frame is empty (dividing by 1 leaves the raw
    weights). A parent is a resident 18-64 who is not a child of the household (``role != role_child``)
    and lives with a child 6-14.
    """
    n = alive.size
    school = _schools(age, role, household, alive, n_households, role_child)
    table = raw_table(n_kinds, rule, older)
    sums = np.zeros(n_kinds)
    count = 0
    for i in range(n):
        a = np.int64(age[i])
        if not alive[i] or a < 20 or a >= 70:
            continue
        parent = school[household[i]] and role[i] != role_child and a >= 18 and a < 65
        code = raw_code(a, parent, employed[i])
        for k in range(n_kinds):
            sums[k] += table[code, k]
        count += 1
    scale = _scale_of(sums, count)
    return school, scale


@compiled
def eligibility(slots: np.ndarray, age: np.ndarray, role: np.ndarray, household: np.ndarray, employed: np.ndarray,
                school: np.ndarray, scale: np.ndarray, role_child: int, rule: np.ndarray,
                older: np.ndarray) -> np.ndarray:  # pragma: no cover - compiled
    """Return the eligibility weights (``slots`` x kinds, float64): raw weights divided by ``scale``.

    ``school`` and ``scale`` are those of :func:`frame_scale`.
    """
    n_kinds = scale.size
    table = raw_table(n_kinds, rule, older)
    w = np.empty((slots.size, n_kinds))
    for j in range(slots.size):
        s = slots[j]
        a = np.int64(age[s])
        parent = school[household[s]] and role[s] != role_child and a >= 18 and a < 65
        code = raw_code(a, parent, employed[s])
        for k in range(n_kinds):
            w[j, k] = table[code, k] / scale[k]
    return w


@compiled
def turnover_scan(groups: np.ndarray, slots: np.ndarray, level_of: np.ndarray, levels: np.ndarray, age: np.ndarray,
                  role: np.ndarray, household: np.ndarray, employed: np.ndarray, school: np.ndarray, scale: np.ndarray,
                  role_child: int, rule: np.ndarray, older: np.ndarray, rates: np.ndarray, rate: float,
                  cap: float) -> tuple[int, np.ndarray]:  # pragma: no cover - compiled
    """Return ``(members, bound)``: the memberships of ``slots``, and per kind the largest chance of joining.

    With ``p = min(levels[level_of[i]] * w[i, k] * rates[k], cap)`` (``w`` the eligibility weights:
    raw weights divided by ``scale``), a non-member with ``p > 0`` joins with chance
    ``rate * p / (1 - p)``; ``bound[k]`` is the largest of these over the non-members of kind ``k``
    (at most 1; 0 if none can join). As ``p`` and the chance grow with the raw weight at a given
    level, the largest is that of the largest raw weight of a non-member at each level: only those
    are divided.
    """
    n_kinds = scale.size
    table = raw_table(n_kinds, rule, older)
    # which raw weights (code) a non-member of each kind has, per level; then the largest of them
    seen = np.zeros((levels.size, N_RAW_CODES, n_kinds), dtype=np.bool_)
    members = 0
    for i in range(slots.size):
        s = slots[i]
        a = np.int64(age[s])
        parent = school[household[s]] and role[s] != role_child and a >= 18 and a < 65
        code = raw_code(a, parent, employed[s])
        lv = level_of[i]
        for k in range(n_kinds):
            if groups[s, k] >= 0:
                members += 1
            else:
                seen[lv, code, k] = True
    bound = _bound_of(seen, table, levels, scale, rates, rate, cap)
    return members, bound


@compiled
def turnover_apply(groups: np.ndarray, slots: np.ndarray, level_of: np.ndarray, levels: np.ndarray, age: np.ndarray,
                   role: np.ndarray, household: np.ndarray, employed: np.ndarray, school: np.ndarray,
                   scale: np.ndarray, role_child: int, rule: np.ndarray, older: np.ndarray, rates: np.ndarray,
                   rate: float, cap: float, leave: np.ndarray, start: np.ndarray, candidate: np.ndarray, u: np.ndarray,
                   bound: np.ndarray, alive: np.ndarray, district: np.ndarray, local: np.ndarray,
                   n_ids: int):  # pragma: no cover - compiled
    """Apply a year of leaving to ``groups`` (in place); return who joins which kind and the chapters after leaving.

    With ``p`` as in :func:`turnover_scan`: the ``m``-th membership of ``slots`` (row by row, kind by
    kind) ends if ``p <= 0`` or ``m`` is in ``leave`` (ascending); a non-member joins if the row is a
    candidate of the kind (``candidate[start[k]:start[k + 1]]``, ascending rows) whose uniform ``u`` is
    below ``rate * p / (1 - p) / bound[k]``. ``p`` is computed only for members and candidates.

    The same pass goes over every slot (``alive`` has one entry per row of ``groups``; ``slots`` are ascending
    slots among them) and reads, after the leaving, what :func:`chapter_members` gives for the ``local`` kinds
    (ascending) with no new bits and every id checked, and the largest group id held. ``n_ids`` is more than
    any group id in ``groups`` (a ValueError otherwise).

    Returns:
        ``(rows, join, chapter_start, chapter_list, chapter_ids, unique, top)``: ``rows`` (ascending, int64) are
        the rows of ``slots`` that join some kind and ``join`` (``rows`` x kinds) which kinds they join (the rows
        of the whole matrix with an entry set, the others all False); ``chapter_start``, ``chapter_list`` and
        ``unique`` are :func:`chapter_members` ``(groups, alive, district, local, 0, top + 1)`` of the groups
        after the leaving, ``chapter_ids`` the group of each listed member in the kind it is listed in (int64),
        and ``top`` the largest id any slot holds after it (-1 if none).
    """
    n_kinds = scale.size
    table = raw_table(n_kinds, rule, older)
    # a row joins only if it is a candidate of some kind; each row of ``slots`` writes its row of ``join`` at
    # ``n_rows`` (kept only if it joins)
    rows = np.empty(min(slots.size, candidate.size), dtype=np.int64)  # the result is the first ``n_rows``
    join = np.empty((rows.size + 1, n_kinds), dtype=np.bool_)
    n_rows = 0
    at = start[:n_kinds].copy()
    m = 0
    li = 0
    n = alive.size
    n_local = local.size
    local_of = np.full(n_kinds, -1, dtype=np.int64)
    for j in range(n_local):
        local_of[local[j]] = j
    # the memberships of the local kinds after the leaving, noted (slot * n_local + j, in slot order) for the fill
    counts, noted = _notes(district, n, n_local, n * n_local)
    n_noted = 0
    owner = np.full(max(n_ids, 0), -1, dtype=np.int8)  # the kind of each id seen
    unique = True
    top = -1
    r = 0  # the next row of ``slots``
    for i in range(n):  # every slot: the turnover of those in ``slots``, then the groups each is in
        is_slot = r < slots.size and slots[r] == i
        row = r
        code = 0
        level = 0.0
        if is_slot:
            r += 1
            a = np.int64(age[i])
            parent = school[household[i]] and role[i] != role_child and a >= 18 and a < 65
            code = raw_code(a, parent, employed[i])
            level = levels[level_of[row]]
        live = alive[i]
        d = district[i]
        joins = False
        for k in range(n_kinds):
            g = groups[i, k]
            if is_slot:
                picked = at[k] < start[k + 1] and candidate[at[k]] == row
                x = 1.0
                if picked:
                    x = u[at[k]]
                    at[k] += 1
                takes = False
                if g >= 0:
                    p = min(level * (table[code, k] / scale[k]) * rates[k], cap)
                    drawn = li < leave.size and leave[li] == m
                    if drawn:
                        li += 1
                    if p <= 0 or drawn:
                        groups[i, k] = -1
                        g = -1
                    m += 1
                elif picked:
                    p = min(level * (table[code, k] / scale[k]) * rates[k], cap)
                    takes = p > 0 and x * bound[k] < rate * p / (1.0 - p)
                join[n_rows, k] = takes
                joins = joins or takes
            if g >= 0:
                if g > top:
                    top = g
                if live:
                    if g >= owner.size:
                        raise ValueError("a group id is not below n_ids")
                    if owner[g] < 0:
                        owner[g] = k
                    elif owner[g] != k:
                        unique = False
                    jl = local_of[k]
                    if jl >= 0:
                        counts[jl, d] += 1
                        noted[n_noted] = i * n_local + jl
                        n_noted += 1
        if joins:
            rows[n_rows] = row
            n_rows += 1
    if r != slots.size:
        raise ValueError("slots must be ascending slots of the rows")
    chapter_start, chapter_list, chapter_ids = _lists_of_noted(counts, noted, n_noted, district, groups, local, True)
    return rows[:n_rows], join[:n_rows], chapter_start, chapter_list, chapter_ids, unique, top


@compiled
def chapter_members(groups: np.ndarray, alive: np.ndarray, district: np.ndarray, kinds: np.ndarray,
                    new_bits: np.ndarray, n_ids: int) -> tuple[np.ndarray, np.ndarray, bool]:  # pragma: no cover
    """Return ``(start, members, unique)``: the living members of each of ``kinds`` by district, in slot order.

    For ``kinds[j]`` the members of district ``d`` are ``members[start[j, d]:start[j, d + 1]]``: every
    living slot with ``groups[slot, kinds[j]] >= 0`` whose bit ``j`` of ``new_bits`` is not set (those
    joining the kind now), in ascending slot order, which is the order of the living sorted stably by
    district and then filtered. ``start`` has a row per kind and a column per district (the districts
    of all slots) and one more; offsets run on through the kinds.

    ``unique`` tells whether each group id below ``n_ids`` that a living slot holds is held in one kind
    only (ids from ``n_ids`` on are not checked), read in the same pass over all the kinds; with ``n_ids``
    negative nothing is checked and ``unique`` is False.
    """
    n = alive.size
    n_kinds = kinds.size
    n_all = groups.shape[1]
    check = n_ids >= 0
    owner = np.full(max(n_ids, 0), -1, dtype=np.int8)
    unique = check
    # the memberships counted, noted (row * n_kinds + j, in row order) for the filling pass
    counts, noted = _notes(district, n, n_kinds, n * n_kinds)
    n_noted = 0
    for i in range(n):
        if not alive[i]:
            continue
        none = np.int64(-1)  # most rows hold no group: all of them -1, told by one branch
        for k in range(n_all):
            none &= np.int64(groups[i, k])
        if none == -1:
            continue
        for k in range(n_all if check else 0):
            g = groups[i, k]
            if g >= 0 and g < n_ids:
                if owner[g] < 0:
                    owner[g] = k
                elif owner[g] != k:
                    unique = False
        d = district[i]
        for j in range(n_kinds):
            if groups[i, kinds[j]] >= 0 and (new_bits[i] >> j) & 1 == 0:
                counts[j, d] += 1
                noted[n_noted] = i * n_kinds + j
                n_noted += 1
    start, members, _ = _lists_of_noted(counts, noted, n_noted, district, groups, kinds, False)
    return start, members, unique


@compiled
def groups_of_joiners(groups: np.ndarray, joiners: np.ndarray, joined: np.ndarray, kinds: np.ndarray,
                      chapter_start: np.ndarray, chapter_list: np.ndarray, chapter_ids: np.ndarray,
                      first_new: int):  # pragma: no cover - compiled
    """Return ``(ok, first, start, members, n_new)``: the groups joined by a year's joiners, from them and the lists.

    What :func:`kyojosim.core.network_kernel.kinds_groups_with_new` returns for ``groups`` with
    ``new[joiners[r], k] = joined[r, k]`` (all other entries False) and the joiners living, given that
    (checked by the caller, :func:`chapter_members`' ``unique``) the living hold each group id in one kind
    only: every group of two or more with a joiner, by kind and ascending id, its joiners first, then
    its other members, each part in ascending slot order.

    The other members are found in the chapter lists (``chapter_start``, ``chapter_list`` of
    :func:`chapter_members` for the local ``kinds``: every other living member of those kinds, read before
    the joiners took an existing chapter; ``chapter_ids``: each listed member's group in the kind it is listed
    in, ``groups[chapter_list[e], kinds[j]]``) and only for the ids below ``first_new``: ids from
    ``first_new`` on are new this year and held by joiners only. ``joiners`` are ascending slots.
    ``ok`` is False (the other arrays empty) where that does not hold: an id of two kinds among the
    joiners, or an id below ``first_new`` in a kind without chapter lists.
    """
    n_rows, n_kinds = joined.shape
    empty = np.zeros(0, dtype=np.int64)
    top = -1
    n_entries = 0
    for r in range(n_rows):
        s = joiners[r]
        for k in range(n_kinds):
            if joined[r, k]:
                g = groups[s, k]
                if g >= 0:
                    n_entries += 1
                    if g > top:
                        top = g
    index = np.full(top + 1, -1, dtype=np.int64)
    ids = np.empty(n_entries, dtype=np.int64)
    kind_of = np.empty(n_entries, dtype=np.int64)
    fresh = np.zeros(n_entries, dtype=np.int64)
    n_seen = 0
    for r in range(n_rows):
        s = joiners[r]
        for k in range(n_kinds):
            if joined[r, k]:
                g = groups[s, k]
                if g < 0:
                    continue
                if index[g] < 0:
                    index[g] = n_seen
                    ids[n_seen] = g
                    kind_of[n_seen] = k
                    n_seen += 1
                elif kind_of[index[g]] != k:
                    return False, empty, np.zeros(1, dtype=np.int64), empty, empty
                fresh[index[g]] += 1
    listed_kind = np.zeros(n_kinds, dtype=np.bool_)
    for j in range(kinds.size):
        listed_kind[kinds[j]] = True
    for q in range(n_seen):
        if ids[q] < first_new and not listed_kind[kind_of[q]]:
            return False, empty, np.zeros(1, dtype=np.int64), empty, empty
    size = fresh[:n_seen].copy()
    # the other members of the existing chapters joined, from the chapter lists of their kind
    for j in range(kinds.size):
        for e in range(chapter_start[j, 0], chapter_start[j, chapter_start.shape[1] - 1]):
            g = chapter_ids[e]
            if g <= top and index[g] >= 0:
                size[index[g]] += 1
    first, start, n_new, rank = listed_groups(kind_of[:n_seen], ids[:n_seen], size, fresh, top, n_kinds)
    n_listed = n_new.size
    fill_new = start[:n_listed].copy()
    fill_old = start[:n_listed] + n_new
    members = np.empty(start[n_listed], dtype=np.int64)
    for r in range(n_rows):  # the joiners, ascending
        s = joiners[r]
        for k in range(n_kinds):
            if joined[r, k]:
                g = groups[s, k]
                if g >= 0:
                    q = rank[index[g]]
                    if q >= 0:
                        members[fill_new[q]] = s
                        fill_new[q] += 1
    for j in range(kinds.size):  # the others, by district; then each group's in ascending slot order
        for e in range(chapter_start[j, 0], chapter_start[j, chapter_start.shape[1] - 1]):
            i = chapter_list[e]
            g = chapter_ids[e]
            if g <= top and index[g] >= 0:
                q = rank[index[g]]
                if q >= 0:
                    members[fill_old[q]] = i
                    fill_old[q] += 1
    for q in range(n_listed):
        lo, hi = start[q] + n_new[q], start[q + 1]
        for e in range(lo + 1, hi):
            if members[e] < members[e - 1]:  # a chapter across districts: sort its other members
                members[lo:hi] = np.sort(members[lo:hi])
                break
    return True, first, start, members, n_new


@compiled
def new_memberships(groups: np.ndarray, slots: np.ndarray,
                    member: np.ndarray) -> tuple[np.ndarray, np.ndarray]:  # pragma: no cover - compiled
    """Return ``(new, rows)``: ``member & (groups[slots] < 0)`` and the rows of ``new`` with any entry set."""
    n, n_kinds = member.shape
    new = np.zeros((n, n_kinds), dtype=np.bool_)
    rows = np.empty(n, dtype=np.int64)
    n_rows = 0
    for i in range(n):
        s = slots[i]
        any_ = False
        for k in range(n_kinds):
            if member[i, k] and groups[s, k] < 0:
                new[i, k] = True
                any_ = True
        if any_:
            rows[n_rows] = i
            n_rows += 1
    return new, rows[:n_rows]


@compiled
def participation_codes(groups: np.ndarray, online: np.ndarray, offline_only: int, both: int,
                        online_only: int) -> np.ndarray:  # pragma: no cover - compiled
    """Return the participation group of every slot (int8): 0 in none, else by real-world and online membership."""
    n, n_kinds = groups.shape
    out = np.zeros(n, dtype=np.int8)
    for i in range(n):
        offline = False
        for k in range(n_kinds):
            if groups[i, k] >= 0:
                offline = True
                break
        on = online[i] > 0
        if offline and on:
            out[i] = both
        elif offline:
            out[i] = offline_only
        elif on:
            out[i] = online_only
    return out


@compiled
def adult_scan(groups: np.ndarray, alive: np.ndarray, keep: np.ndarray, age: np.ndarray, role: np.ndarray,
               household: np.ndarray, employed: np.ndarray, n_households: int, role_child: int, rule: np.ndarray,
               older: np.ndarray, adult: int, n_groups: int, levels: np.ndarray, rates: np.ndarray, rate: float,
               cap: float):  # pragma: no cover - compiled
    """Return the adults of the yearly turnover, :func:`frame_scale` and :func:`turnover_scan` of them, in two passes.

    The first pass over the slots marks the households with a school child; the second reads each living
    slot's raw weights once for the frame's sums (20-69) and, for the slots ``alive & keep`` aged ``adult`` or
    more, their age groups (``n_groups``; each an index into ``levels``), memberships and the raw weights of the
    non-members.

    Returns:
        ``(slots, level_of, school, scale, members, bound)``: the slots ``alive & keep`` aged ``adult`` or more
        (ascending) and the age group of each (``(age - 20) // 10`` within ``[0, n_groups - 1]``,
        :func:`kyojosim.core.communities.offline_age_group`),
        ``frame_scale(age, role, household, alive, employed, n_households, role_child, rule, older, kinds)`` and
        ``turnover_scan`` of those slots with those levels, ``rates``, ``rate`` and ``cap``.
    """
    n = alive.size
    n_kinds = rates.size
    n_levels = levels.size
    school = _schools(age, role, household, alive, n_households, role_child)
    table = raw_table(n_kinds, rule, older)
    sums = np.zeros(n_kinds)
    count = 0
    slots = np.empty(n, dtype=np.int64)  # room for every slot; the result is the first ``j``
    level_of = np.empty(n, dtype=np.int64)
    seen = np.zeros((n_levels, N_RAW_CODES, n_kinds), dtype=np.bool_)
    members = 0
    j = 0
    for s in range(n):
        if not alive[s]:
            continue
        a = np.int64(age[s])
        in_frame = a >= 20 and a < 70
        taken = keep[s] and a >= adult
        if not (in_frame or taken):
            continue
        parent = school[household[s]] and role[s] != role_child and a >= 18 and a < 65
        code = raw_code(a, parent, employed[s])
        if in_frame:  # the frame's sums, in slot order
            for k in range(n_kinds):
                sums[k] += table[code, k]
            count += 1
        if taken:
            lv = min(max((a - 20) // 10, 0), n_groups - 1)
            slots[j] = s
            level_of[j] = lv
            j += 1
            for k in range(n_kinds):
                if groups[s, k] >= 0:
                    members += 1
                else:
                    seen[lv, code, k] = True
    scale = _scale_of(sums, count)
    bound = _bound_of(seen, table, levels, scale, rates, rate, cap)
    return slots[:j], level_of[:j], school, scale, members, bound


@compiled
def online_turnover(online: np.ndarray, sns: np.ndarray, slots: np.ndarray, v: np.ndarray, exit_rate: float,
                    join_rate: float, bits: np.uint8) -> np.ndarray:  # pragma: no cover - compiled
    """Apply a year of leaving online communities (in place) and return who starts taking part (ascending slots).

    Slot ``slots[i]`` is in one if ``online`` has any of ``bits``: it then leaves them all if
    ``v[i] < exit_rate``; otherwise, if it uses social media, it starts if ``v[i] < join_rate``.
    """
    out = np.empty(slots.size, dtype=np.int64)
    j = 0
    for i in range(slots.size):
        s = slots[i]
        if (online[s] & bits) != 0:
            if v[i] < exit_rate:
                online[s] &= ~bits
        elif sns[s] and v[i] < join_rate:
            out[j] = s
            j += 1
    return out[:j]


@compiled
def chapters_joined(start: np.ndarray, members: np.ndarray, kinds: np.ndarray, joiners: np.ndarray,
                    joined: np.ndarray, groups: np.ndarray,
                    district: np.ndarray) -> tuple[np.ndarray, np.ndarray]:  # pragma: no cover - compiled
    """Return ``(start, members)``: the chapter lists of ``kinds`` after the joiners took their memberships.

    ``start`` and ``members`` are the lists of :func:`chapter_members` (without new bits, offsets from 0) read
    before the joining; ``joiners`` are ascending living slots and ``joined[r, k]`` whether ``joiners[r]`` took a
    membership of kind ``k`` (it was in none of the kind before; its group is now ``groups[joiners[r], k]``).
    The result is what :func:`chapter_members` reads after the joining: each list of the kind and district
    merged, in slot order, with the joiners of that kind living in that district. Nobody else's group or
    district may have changed in between. The districts of the joiners are among those of ``start``.
    """
    n_kinds = kinds.size
    n_districts = start.shape[1] - 1
    n_rows = joiners.size
    for r in range(1, n_rows):
        if joiners[r] <= joiners[r - 1]:
            raise ValueError("joiners must be ascending slots")
    # the joiners of each kind and district, counted, then listed in slot order (a counting sort)
    add = np.zeros((n_kinds, n_districts), dtype=np.int64)
    for r in range(n_rows):
        s = joiners[r]
        for j in range(n_kinds):
            k = kinds[j]
            if joined[r, k] and groups[s, k] >= 0:
                add[j, district[s]] += 1
    add_start, n_add = _starts_of(add)
    new_start = start + add_start  # each list grows by its joiners and moves by those of the lists before it
    total = new_start[n_kinds - 1, n_districts] if n_kinds else 0
    added = np.empty(n_add, dtype=np.int64)
    fill = add_start[:, :n_districts].copy()
    for r in range(n_rows):
        s = joiners[r]
        for j in range(n_kinds):
            k = kinds[j]
            if joined[r, k] and groups[s, k] >= 0:
                d = district[s]
                added[fill[j, d]] = s
                fill[j, d] += 1
    # each kind and district: the members before and its joiners merged in slot order
    out = np.empty(total, dtype=np.int64)
    for j in range(n_kinds):
        for d in range(n_districts):
            a, a_end = start[j, d], start[j, d + 1]
            b, b_end = add_start[j, d], add_start[j, d + 1]
            o = new_start[j, d]
            while a < a_end and b < b_end:
                if members[a] < added[b]:
                    out[o] = members[a]
                    a += 1
                else:
                    out[o] = added[b]
                    b += 1
                o += 1
            while a < a_end:
                out[o] = members[a]
                a += 1
                o += 1
            while b < b_end:
                out[o] = added[b]
                b += 1
                o += 1
    return new_start, out
