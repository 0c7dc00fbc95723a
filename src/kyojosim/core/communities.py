"""Membership of real-world and online communities, and the participation groups of 図表4-3-5-2.

Real-world communities (the ten kinds of 図表4-3-3-2) are open to adults by eligibility:
PTA to parents of a child aged 6-14, workplace groups and unions to the employed, the
neighbourhood association (自治会) to everyone by block, and so on. Each membership is a
group id (a local chapter of about ``community_group_size`` members in the same district,
or a group across the municipality for alumni and workplace groups).

The level of offline membership of each age group, and of online membership given offline status,
are fitted at synthesis so that the mix of residents of survey ages in no community / offline only
/ both / online only reproduces the scenario's survey row (2017 by default), while each age group
has its own mix: the share in a real-world community follows ``communities.offline_age_profile``
(scaled to the row) and the odds of taking part online follow the use of the internet (2008) or
of social media (2017) by age.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..constants import (
    OFFLINE_COMMUNITIES,
    ONLINE_COMMUNITIES,
    PARTICIPATION_GROUPS,
    ROLE_CHILD,
    TIE_COMMUNITY,
    TIE_ONLINE,
    age_band,
)
from ..params.scenario import Scenario
from .network import TieBatch, Ties, pairs_of_lists, pairs_touching, pairs_within_groups
from .population import Population

PARTICIPATION_ROWS = {
    # community_participation_all_ages.csv (図表4-3-5-2), percent
    2008: {"none": 16.7, "offline_only": 24.9, "both": 42.2, "online_only": 16.3},
    2017: {"none": 11.7, "offline_only": 7.8, "both": 36.5, "online_only": 44.1},
}
ONLINE_BIT = {name: 1 << i for i, name in enumerate(ONLINE_COMMUNITIES)}
K = {name: i for i, name in enumerate(OFFLINE_COMMUNITIES)}
LOCAL_KINDS = (
    "neighbourhood_association",
    "pta",
    "agricultural_trade_group",
    "coop_consumer_group",
    "volunteer_group",
    "civic_movement",
    "religious_group",
)
"""Kinds whose chapters are local to a district; the others (union, alumni, workplace) span the town."""
LOCAL_KIND_INDEX = tuple(k for k, name in enumerate(OFFLINE_COMMUNITIES) if name in LOCAL_KINDS)
"""The indices (into OFFLINE_COMMUNITIES) of the local kinds, ascending."""


class Chapters(NamedTuple):
    """The living members of the local kinds by district before anyone joins, for :func:`join_and_tie`.

    Attributes:
        kinds: The kinds listed (ascending indices into OFFLINE_COMMUNITIES).
        start: ``start[j, d]``: where the members of ``kinds[j]`` in district ``d`` begin in ``members``
            (as :func:`kyojosim.core.community_kernel.chapter_members` gives them, without new bits).
        members: The members, kind by kind and district by district, in slot order.
        ids: The group of each member in the kind it is listed in (``groups[members[e], kinds[j]]``).
        first: The first group id that no slot holds (the largest held + 1; 0 if none).
        unique: Whether every group id a living slot holds is held in one kind only.
    """

    kinds: np.ndarray
    start: np.ndarray
    members: np.ndarray
    ids: np.ndarray
    first: int
    unique: bool
OFFLINE_AGE_GROUPS: tuple[tuple[int, int], ...] = ((18, 29), (30, 39), (40, 49), (50, 59), (60, 69), (70, 79),
                                                   (80, 200))
"""Age groups with a level of real-world membership of their own (``communities.offline_age_profile``)."""
PROFILE_CAP = 0.98
"""Largest share in a real-world community an age group is fitted to."""


def offline_age_group(age: np.ndarray) -> np.ndarray:
    """Return the index into OFFLINE_AGE_GROUPS of each age (under 18: the first group; its weights are 0)."""
    a = np.asarray(age, dtype=np.int64)
    return np.clip((a - 20) // 10, 0, len(OFFLINE_AGE_GROUPS) - 1)


def offline_level(levels: dict, age: np.ndarray) -> np.ndarray:
    """Return the fitted level of real-world membership of each age (``levels["offline"]`` by age group)."""
    return np.asarray(levels["offline"], dtype=np.float64)[offline_age_group(age)]


def online_propensity(scn: Scenario, age: np.ndarray) -> np.ndarray:
    """Return the propensity to take part in online communities by age (0 under 13).

    ``communities.online_propensity_2008`` (internet use by age) when the population is fitted to the
    2008 row, ``ict.sns_rate`` (social-media use by age, 2017) otherwise.
    """
    a = np.asarray(age)
    table = scn.communities.online_propensity_2008 if scn.communities.participation_year == 2008 else scn.ict.sns_rate
    return np.asarray(table, dtype=np.float64)[age_band(a)] * (a >= 13)


def _odds(x: np.ndarray) -> np.ndarray:
    """Return ``x / (1 - x)`` (infinite at 1)."""
    x = np.asarray(x, dtype=np.float64)
    with np.errstate(divide="ignore"):
        return np.where(x >= 1, np.inf, x / np.maximum(1.0 - x, 0.0))


def offline_targets(scn: Scenario, counts: np.ndarray, target: float) -> np.ndarray:
    """Return the share in a real-world community of each age group: the profile times a fitted factor.

    The factor ``k`` makes ``sum_g counts[g] * min(k * profile[g], PROFILE_CAP) / sum(counts)`` equal
    ``target`` (the share of the frame in a real-world community); ``counts`` are the frame's residents
    by age group.
    """
    profile = np.asarray(scn.communities.offline_age_profile, dtype=np.float64)
    total = counts.sum()
    if total == 0 or not (profile > 0).any():
        return np.full(profile.size, target)
    weight = counts / total

    def share(k: float) -> float:
        return float(weight @ np.minimum(k * profile, PROFILE_CAP))

    lo, hi = 0.0, PROFILE_CAP / profile[profile > 0].min()
    if share(hi) <= target:
        return np.minimum(hi * profile, PROFILE_CAP)
    for _ in range(60):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if share(mid) < target else (lo, mid)
    return np.minimum((lo + hi) / 2 * profile, PROFILE_CAP)


def eligibility_weights(pop: Population, slots: np.ndarray, scn: Scenario) -> np.ndarray:
    """Return relative propensity (n, 10) of each resident to be in each kind of community.

    Rules (who can take part, after the kinds' definitions): only residents 18+; PTA for parents
    of a child 6-14 at home; labour unions and workplace groups for the employed; agricultural and
    trade groups from 40; from 60, neighbourhood associations ``communities.older_neighbourhood_weight``
    times as likely (2: older residents are the core of 自治会) and volunteer and religious groups
    ``communities.older_group_weight`` times (1.5). Each kind is normalised so that its mean weight
    over the living residents aged 20-69 is 1 (the survey's membership rates are per respondent
    aged 20-69).
    """
    from .community_kernel import eligibility

    school, scale, rule, older = eligibility_inputs(pop, scn)
    return eligibility(np.asarray(slots, dtype=np.int64), pop.age, pop.role, pop.household, pop.employed, school,
                       scale, int(ROLE_CHILD), rule, older)


def eligibility_inputs(pop: Population, scn: Scenario) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Return what the compiled eligibility weights read besides the columns (:func:`eligibility_weights`).

    ``(school, scale, rule, older)``: the households with a school child (6-14), each kind's mean raw
    weight over the frame (1 where it is 0), the indices of the kinds the rules name (PTA, labour union,
    workplace group, agricultural and trade group, neighbourhood association, volunteer group,
    religious group) and the factors from 60 (neighbourhood association; volunteer and religious groups).
    """
    from .community_kernel import frame_scale

    rule, older = eligibility_rules(scn)
    school, scale = frame_scale(pop.age, pop.role, pop.household, pop.alive[: pop.n], pop.employed,
                                int(pop.n_households), int(ROLE_CHILD), rule, older, len(OFFLINE_COMMUNITIES))
    return school, scale, rule, older


def eligibility_rules(scn: Scenario) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(rule, older)`` of :func:`eligibility_inputs`: the kinds the rules name and the factors from 60."""
    c = scn.communities
    rule = np.array([K["pta"], K["labour_union"], K["workplace_friends"], K["agricultural_trade_group"],
                     K["neighbourhood_association"], K["volunteer_group"], K["religious_group"]], dtype=np.int64)
    older = np.array([c.older_neighbourhood_weight, c.older_group_weight], dtype=np.float64)
    return rule, older


def _fit_level(u: np.ndarray, p: np.ndarray, target: float, frame: np.ndarray) -> float:
    """Find c such that the share of ``frame`` rows with any ``u < c*p`` equals ``target`` (bisection)."""
    if not frame.any():
        return 1.0
    uf, pf = u[frame], p[frame]
    # u/p is the level at which each entry switches on; a row switches on at the minimum over kinds
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(pf > 0, uf / pf, np.inf)
    row_on = ratio.min(axis=1) if ratio.ndim == 2 else ratio
    finite = np.sort(row_on[np.isfinite(row_on)])
    k = int(round(target * row_on.size))
    if k <= 0 or finite.size == 0:
        return 0.0
    if k > finite.size:
        return float(finite[-1]) * 1.000001
    # midway between the k-th and (k+1)-th switching levels: exactly k rows on
    lo = finite[k - 1]
    hi = finite[k] if k < finite.size else lo * 1.01 + 1e-12
    return float((lo + hi) / 2)


def assign_communities(pop: Population, scn: Scenario, rng: np.random.Generator) -> dict[str, np.ndarray | float]:
    """Assign real-world and online memberships to the whole initial population.

    Real-world: each age group of :data:`OFFLINE_AGE_GROUPS` gets its own level, fitted so that the
    group's share in any real-world community is its target (:func:`offline_targets`: the age profile
    scaled so that the survey-age residents take part as ``offline_only + both`` of the survey row).
    Online membership (which implies social-media use) is then fitted separately among those in and
    not in a real-world community, its odds following :func:`online_propensity` by age.

    Returns:
        The fitted levels (``offline``: one per age group; ``online_if_offline``, ``online_if_not``),
        which newcomers and the community dynamics reuse.
    """
    slots = np.arange(pop.n)
    c = scn.communities
    row = PARTICIPATION_ROWS[c.participation_year]
    total = sum(row.values())
    share = {k: v / total for k, v in row.items()}
    age = pop.age[slots]
    lo, hi = c.survey_ages
    frame = (age >= lo) & (age <= hi)
    rates = np.array([c.membership_rate[k] for k in OFFLINE_COMMUNITIES])
    p = eligibility_weights(pop, slots, scn) * rates
    u = rng.random(p.shape)
    group = offline_age_group(age)
    adult = age >= OFFLINE_AGE_GROUPS[0][0]
    n_groups = len(OFFLINE_AGE_GROUPS)
    counts = np.bincount(group[frame], minlength=n_groups)
    targets = offline_targets(scn, counts, share["offline_only"] + share["both"])
    level = np.full(n_groups, np.nan)
    for g in range(n_groups):
        rows = adult & (group == g)
        fit_rows = rows & frame if (rows & frame).any() else rows
        if fit_rows.any():
            level[g] = _fit_level(u, p, targets[g], fit_rows)
    fitted = level[np.isfinite(level)]
    level[~np.isfinite(level)] = float(np.median(fitted)) if fitted.size else 1.0
    levels: dict[str, np.ndarray | float] = {"offline": level}
    member = u < level[group][:, None] * p
    _set_groups(pop, slots, member, scn, rng)
    offline = member.any(axis=1)
    # online: the odds follow internet or social-media use by age; the factor is fitted per offline stratum
    w = _odds(online_propensity(scn, age))
    u_on = rng.random(slots.size)
    odds_u = _odds(u_on)
    online = np.zeros(slots.size, dtype=bool)
    for key, stratum, target in (
        ("online_if_offline", offline, share["both"] / max(share["both"] + share["offline_only"], 1e-12)),
        ("online_if_not", ~offline, share["online_only"] / max(share["online_only"] + share["none"], 1e-12)),
    ):
        f = frame & stratum
        lvl = _fit_level(odds_u[:, None], w[:, None], target, f) if f.any() else 1.0
        levels[key] = lvl
        online |= stratum & (odds_u < lvl * w)
    set_online(pop, slots, online, scn, rng)
    return levels


def join_communities(pop: Population, slots: np.ndarray, scn: Scenario, rng: np.random.Generator,
                     levels: dict, chapters: Chapters | None = None) -> Chapters | None:
    """Give newcomers and residents coming of age memberships at the levels fitted at synthesis.

    Memberships are added to any the residents already have (a teenager may already be online).
    Newcomers join an existing local chapter of their district where there is one (a random
    member's group), otherwise a chapter of their own.

    ``chapters``, when given, are the chapter lists of the population as it is (:func:`chapters_of`, or
    what this function returned last, nobody else having joined since): the existing members are read from
    them instead of a pass over the town, with the same result. The lists after the joining are then
    returned (None without ``chapters``).
    """
    if slots.size == 0:
        return chapters
    rates = np.array([scn.communities.membership_rate[k] for k in OFFLINE_COMMUNITIES])
    age = pop.age[slots]
    p = eligibility_weights(pop, slots, scn) * rates
    member = rng.random(p.shape) < offline_level(levels, age)[:, None] * p
    member &= pop.groups[slots] < 0
    joined = _add_memberships(pop, slots, member, scn, rng, chapters=chapters)
    offline = member.any(axis=1)
    w = _odds(online_propensity(scn, age))
    lvl = np.where(offline, levels["online_if_offline"], levels["online_if_not"])
    online = _odds(rng.random(slots.size)) < lvl * w
    set_online(pop, slots, online, scn, rng)
    if chapters is None or joined is None or joined[0].size == 0:
        return chapters
    from .chapters_kernel import ids_after_joining
    from .community_kernel import chapters_joined

    joiners, joins = joined[0], joined[1]
    start, members = chapters_joined(chapters.start, chapters.members, chapters.kinds, joiners, joins, pop.groups,
                                     pop.district)
    # the members listed before keep their groups: only the joiners' are read (what _listed_ids gives)
    ids = ids_after_joining(chapters.start, chapters.members, chapters.ids, start, members, chapters.kinds,
                            pop.groups)
    # new ids are numbered kind by kind and a joiner of a local chapter takes an id of that kind: ids stay of one kind
    first = max(chapters.first, int(pop.groups[joiners].max()) + 1)
    return Chapters(chapters.kinds, start, members, ids, first, chapters.unique)


def chapters_of(pop: Population) -> Chapters:
    """Return the chapter lists of every local kind as the population is now (one pass over the town).

    ``first`` is the largest group id any slot holds + 1 (0 if none), and ``unique`` is checked for every
    kind (:func:`kyojosim.core.community_kernel.chapter_members`).
    """
    from .community_kernel import chapter_members

    local = np.array(LOCAL_KIND_INDEX, dtype=np.int64)
    first = max(int(pop.groups.max()) + 1, 0) if pop.n else 0
    start, members, unique = chapter_members(pop.groups, pop.alive[: pop.n], pop.district, local,
                                             np.zeros(pop.n, dtype=np.uint16), first)
    return Chapters(local, start, members, _listed_ids(pop.groups, local, start, members), first, bool(unique))


def _listed_ids(groups: np.ndarray, kinds, start: np.ndarray, members: np.ndarray) -> np.ndarray:
    """Return the group of each listed member in the kind it is listed in (``groups[members[e], kinds[j]]``).

    ``start`` and ``members`` are chapter lists of ``kinds`` (:func:`chapter_members`): those of ``kinds[j]``
    run from ``start[j, 0]`` to ``start[j, -1]``.
    """
    ids = np.empty(members.size, dtype=np.int64)
    for j, k in enumerate(kinds):
        lo, hi = start[j, 0], start[j, -1]
        ids[lo:hi] = groups[members[lo:hi], k]
    return ids


def chapters_renumbered(chapters: Chapters, new_slot: np.ndarray) -> Chapters:
    """Return the chapter lists with the slots renumbered (``new_slot[old]``; -1: gone, dropped from the lists).

    ``new_slot`` keeps the order of the slots (a compaction), so each list stays in slot order.
    """
    slot = new_slot[chapters.members]
    keep = slot >= 0
    kept = np.concatenate(([0], np.cumsum(keep)))
    return chapters._replace(start=kept[chapters.start], members=slot[keep], ids=chapters.ids[keep])


def newcomer_lists(pop: Population, chapters: Chapters, is_new: np.ndarray) -> tuple | None:
    """Return the groups with a new member, of every kind, from the chapter lists; None where they cannot tell.

    What :func:`kyojosim.core.network_kernel.kinds_groups_with_new` gives for ``is_new`` (a bool per slot,
    every kind) when it succeeds, read from the new residents and ``chapters``
    (:func:`kyojosim.core.community_kernel.groups_of_joiners`) instead of a pass over the town. ``chapters``
    must list, in the slots as they are now, every living member of the local kinds who is not new (others
    listed are left out), and the group ids from ``chapters.first`` on must be held by new residents only
    (the lists were read before any of the new residents joined what they hold, and nobody else joined
    since); the living new residents hold all their memberships as new ones.
    """
    if not chapters.unique:
        return None
    from .community_kernel import groups_of_joiners

    live = pop.alive[: pop.n]
    new = np.flatnonzero(is_new & live)
    old = ~is_new[chapters.members] & live[chapters.members]
    kept = np.concatenate(([0], np.cumsum(old)))
    lists = groups_of_joiners(pop.groups, new, np.ones((new.size, pop.groups.shape[1]), dtype=bool),
                              chapters.kinds, kept[chapters.start], chapters.members[old], chapters.ids[old],
                              chapters.first)
    return lists if lists[0] else None


def add_memberships(pop: Population, slots: np.ndarray, member: np.ndarray, scn: Scenario,
                    rng: np.random.Generator) -> None:
    """Make ``slots`` members of the real-world kinds marked in ``member`` (n, 10), keeping other memberships.

    A new member of a local kind joins an existing chapter of their district where there is one
    (the group of a random existing member), otherwise a chapter of their own; town-wide kinds get
    groups as at synthesis (:func:`_set_groups`). Entries of ``member`` where the resident already
    belongs to that kind are ignored.
    """
    _add_memberships(pop, slots, member, scn, rng)


def join_and_tie(pop: Population, slots: np.ndarray, member: np.ndarray, scn: Scenario, rng: np.random.Generator,
                 ties: Ties | TieBatch, chapters: Chapters | None = None) -> None:
    """:func:`add_memberships`, then tie the new members to co-members of the kinds they joined.

    The same draws and ties as :func:`add_memberships` followed by :func:`build_community_ties` with
    ``is_new`` marking the entries of ``member`` (without online acquaintances), but the groups joined
    and their members are read from the joiners and the chapter lists of the local kinds
    (:func:`kyojosim.core.community_kernel.groups_of_joiners`) instead of a pass over the town, when
    every group id is of one kind (as the model numbers them); otherwise as those two functions do.
    ``slots`` are ascending. ``chapters``, when given, are those of the population as it is (read by the caller
    in its own pass over the town, :func:`kyojosim.core.community_kernel.turnover_apply`): they stand for the
    largest group id and the chapter lists that would otherwise be read here, with the same result.
    """
    joined = _add_memberships(pop, slots, member, scn, rng, check_ids=True, chapters=chapters)
    lists = None
    if joined is not None:
        from .community_kernel import groups_of_joiners

        joiners, joins, kinds, start, members, ids, first, unique = joined
        if unique:
            lists = groups_of_joiners(pop.groups, joiners, joins, kinds, start, members, ids, first)
    if lists is not None and lists[0]:
        build_community_ties(pop, scn, ties, None, rng, online=False, lists=lists)
        return
    is_new = np.zeros((pop.n, len(OFFLINE_COMMUNITIES)), dtype=bool)
    is_new[slots] = member
    build_community_ties(pop, scn, ties, is_new, rng, online=False)


def _add_memberships(pop: Population, slots: np.ndarray, member: np.ndarray, scn: Scenario,
                     rng: np.random.Generator, check_ids: bool = False,
                     chapters: Chapters | None = None) -> tuple | None:
    """Do :func:`add_memberships`; return what the joiners' ties can be read from, None if nobody joined.

    ``chapters`` (see :func:`join_and_tie`), when given, are the population's before this call: the first
    new group id and the chapter lists are taken from them instead of a pass over the town (the members of a
    kind before anyone joins are those :func:`chapter_members` reads after, without the joiners of the kind).

    Returns:
        ``(joiners, joins, kinds, start, members, ids, first, unique)``: the slots that joined something and
        the kinds each joined, the local kinds joined, their chapter lists (:func:`chapter_members`,
        empty when no local kind was joined) with the group of each listed member in its kind, the first group
        id new this year and, with ``check_ids``, whether every group id below it is of one kind (otherwise
        False, unchecked).
    """
    if slots.size == 0:
        return None
    from .community_kernel import chapter_members, new_memberships

    # the memberships that are new, and the rows of residents who join something (only they change: the same
    # draws, in the same order, on fewer rows)
    member, rows = new_memberships(pop.groups, np.asarray(slots, dtype=np.int64), np.ascontiguousarray(member))
    if chapters is not None:
        first = chapters.first
    else:
        first = int(pop.groups.max()) + 1 if pop.n else 0
    joining, joins = slots[rows], member[rows]
    before = pop.groups[joining].copy()
    _set_groups(pop, joining, joins, scn, rng, first_group=max(first, 0))
    pop.groups[joining] = np.where(joins, pop.groups[joining], before)
    # the existing members of each local kind joined now, by district, in slot order: everyone who belonged
    # before this call, including residents among ``slots`` who did not join that kind now (one pass for all)
    kinds = [k for k, name in enumerate(OFFLINE_COMMUNITIES) if name in LOCAL_KINDS and member[:, k].any()]
    joined = (np.asarray(joining, dtype=np.int64), np.ascontiguousarray(joins), np.array(kinds, dtype=np.int64),
              np.zeros((0, 1), dtype=np.int64), np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64),
              max(first, 0), check_ids)
    if not kinds:
        return joined
    ids = None
    if chapters is not None:
        listed = [int(k) for k in chapters.kinds]
        start = chapters.start[[listed.index(k) for k in kinds]]
        members, ids, unique = chapters.members, chapters.ids, chapters.unique and check_ids
    else:
        new_bits = np.zeros(pop.n, dtype=np.uint16)
        for j, k in enumerate(kinds):
            new_bits[slots[member[:, k]]] |= np.uint16(1 << j)
        start, members, unique = chapter_members(pop.groups, pop.alive[: pop.n], pop.district,
                                                 np.array(kinds, dtype=np.int64), new_bits,
                                                 max(first, 0) if check_ids else -1)
    for j, k in enumerate(kinds):
        new = slots[member[:, k]]
        first_j = start[j]
        if first_j[-1] == first_j[0]:  # nobody else is a member of the kind
            continue
        # copy the group of a random existing member of the same district
        d_new = pop.district[new].astype(np.int64)  # ``start`` covers every district of a slot
        left = first_j[d_new]
        count = first_j[d_new + 1] - left
        has = count > 0
        pick = left[has] + (rng.random(int(has.sum())) * count[has]).astype(np.int64)
        pop.groups[new[has], k] = pop.groups[members[pick], k]
    if ids is None and check_ids and unique:  # the group of each listed member (only the joiners' rows changed)
        ids = _listed_ids(pop.groups, kinds, start, members)
    return joined[:3] + (start, members, ids, max(first, 0), unique)


def set_online(pop: Population, slots: np.ndarray, online: np.ndarray, scn: Scenario, rng: np.random.Generator,
               local_share: float | None = None) -> None:
    """Give online participants their online communities (feed groups; some plaza boards and local SNS).

    ``local_share`` is the chance of being on the local SNS too (default ``communities.local_sns_share``,
    the share at the start; later adoption of the local SNS follows its own rule).
    """
    c = scn.communities
    local_share = c.local_sns_share if local_share is None else local_share
    bits = np.zeros(slots.size, dtype=np.uint8)
    bits[online] |= ONLINE_BIT["feed_groups"]
    plaza = online & (rng.random(slots.size) < c.plaza_share)
    bits[plaza] |= ONLINE_BIT["plaza_boards"]
    local = online & (rng.random(slots.size) < local_share)
    bits[local] |= ONLINE_BIT["local_sns"]
    pop.online[slots] |= bits
    # taking part in an online community means using social media (from a smartphone, a PC or a feature phone)
    pop.sns[slots] |= online


def _set_groups(pop: Population, slots: np.ndarray, member: np.ndarray, scn: Scenario, rng: np.random.Generator,
                first_group: int | None = None) -> None:
    """Turn memberships into group ids: local chapters by district, town-wide groups otherwise."""
    size = scn.network.community_group_size
    groups = np.full((slots.size, len(OFFLINE_COMMUNITIES)), -1, dtype=np.int32)
    district = pop.district[slots].astype(np.int64)
    base = int(first_group if first_group is not None else (pop.groups.max() + 1 if pop.n else 0))
    base = max(base, 0)
    for k, name in enumerate(OFFLINE_COMMUNITIES):
        idx = np.flatnonzero(member[:, k])
        if idx.size == 0:
            continue
        if name in LOCAL_KINDS:
            key = district[idx]
        else:
            # assumption: only a share of workplace/alumni/union peers live in town; the others are
            # members whose co-members live elsewhere (a group of one here)
            in_town = rng.random(idx.size) < scn.communities.workplace_in_town
            key = np.where(in_town, 0, 1 + np.arange(idx.size))
        order = np.lexsort((rng.random(idx.size), key))
        k_sorted = key[order]
        starts = np.flatnonzero(np.r_[True, k_sorted[1:] != k_sorted[:-1]])
        pos = np.arange(idx.size) - np.repeat(starts, np.diff(np.r_[starts, idx.size]))
        chunk = k_sorted * (idx.size + 1) + pos // size
        _, gid = np.unique(chunk, return_inverse=True)
        g = np.empty(idx.size, dtype=np.int64)
        g[order] = gid
        groups[idx, k] = base + g
        base += int(gid.max()) + 1
    pop.groups[slots] = groups


def build_community_ties(pop: Population, scn: Scenario, ties: Ties | TieBatch, is_new: np.ndarray | None,
                         rng: np.random.Generator, online: bool = True, lists: tuple | None = None) -> None:
    """Tie co-members of real-world communities, and online participants of a district, involving new slots.

    Args:
        pop: The population.
        scn: The scenario.
        ties: Where the ties go.
        is_new: Which slots are new: a bool per slot, or per slot and kind (n, 10) for residents
            who joined some kinds only (they are tied within those kinds); ``None`` at the synthesis,
            when every resident is (all groups are drawn in full, :func:`pairs_within_groups`).
            Otherwise only the pairs with a new end are drawn (:func:`pairs_touching`).
        rng: The stream.
        online: Whether to add the online-only acquaintances of new online participants too.
        lists: The groups with a new member and their members, as
            :func:`kyojosim.core.network_kernel.kinds_groups_with_new` gives them (``ok`` true) for
            ``is_new`` (or, with ``is_new`` None and ``online`` False, for the new memberships), when the
            caller has them.
    """
    net = scn.network
    st = net.strength
    groups = pop.groups
    live = pop.alive[: pop.n]

    if is_new is not None and lists is None:
        from .network_kernel import kinds_groups_with_new

        # the groups with a new member, of every kind at once (the dead are in no group)
        new = is_new if is_new.ndim == 2 else is_new[:, None]
        lists = kinds_groups_with_new(groups, np.ascontiguousarray(new), live)

    def pairs(k: int) -> tuple[np.ndarray, np.ndarray]:
        if is_new is None and lists is None:
            return pairs_within_groups(np.where(live, groups[:, k], -1), net.community_ties, rng)
        ok, first, start, members, n_new = lists
        if ok:
            lo, hi = first[k], first[k + 1]
            return pairs_of_lists(start[lo:hi + 1], members, n_new[lo:hi], net.community_ties, rng)
        new_k = is_new if is_new.ndim == 1 else is_new[:, k]
        return pairs_touching(groups[:, k], new_k, net.community_ties, rng, alive=live)

    for k, name in enumerate(OFFLINE_COMMUNITIES):
        a, b = pairs(k)
        ties.add(a, b, TIE_COMMUNITY, st["community"])
        # members who both use social media keep in touch online with a kind-specific share (図表4-3-3-2)
        both = pop.sns[a] & pop.sns[b] & (rng.random(a.size) < scn.communities.sns_use_rate[name])
        ties.add(a[both], b[both], TIE_COMMUNITY | TIE_ONLINE, st["community"])
    if not online:
        return
    # online-only acquaintances among online participants of the same district
    on = live & (pop.online > 0)
    if is_new is None:
        a, b = pairs_within_groups(np.where(on, pop.district.astype(np.int64), -1), net.online_ties, rng)
    else:
        a, b = pairs_touching_few(pop.district, is_new, net.online_ties, rng, on)
    ties.add(a, b, TIE_ONLINE, st["online"])


def pairs_touching_few(group: np.ndarray, new: np.ndarray, mean_ties: float, rng: np.random.Generator,
                       alive: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Draw the pairs of :func:`~kyojosim.core.network.pairs_touching` for group ids bounded by a small number.

    The same groups, listed in the same order, and the same draws, as ``pairs_touching(group, new, mean_ties,
    rng, alive=alive)``; the groups with a new member are listed by a counting sort over all group ids
    (:func:`kyojosim.core.households_kernel.few_groups_with_new`), which pays where the ids are few (the
    blocks, the districts): it keeps one counter per id up to the largest.

    Args:
        group: Group id of each slot (``-1``: in none); any integer dtype.
        new: Which slots are new (bool per slot).
        mean_ties: Mean number of ties each member gets.
        rng: The stream to draw from.
        alive: Which slots are members (the others as if ``-1``); one per slot.
    """
    if mean_ties <= 0 or group.size == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    from .households_kernel import few_groups_with_new

    start, members, n_new = few_groups_with_new(group, np.ascontiguousarray(new), alive)
    return pairs_of_lists(start, members, n_new, mean_ties, rng)


def participation_group(pop: Population) -> np.ndarray:
    """Return the participation group (index into PARTICIPATION_GROUPS) of every slot."""
    from .community_kernel import participation_codes

    # "none" is the first group (0)
    return participation_codes(pop.groups, pop.online, PARTICIPATION_GROUPS.index("offline_only"),
                               PARTICIPATION_GROUPS.index("both"), PARTICIPATION_GROUPS.index("online_only"))


def participation_mix(pop: Population, ages: tuple[int, int] | None = None) -> dict[str, float]:
    """Return the share of living residents (optionally of an age range) in each participation group."""
    live = pop.live()
    if ages is not None:
        live = live[(pop.age[live] >= ages[0]) & (pop.age[live] <= ages[1])]
    if live.size == 0:
        return {g: 0.0 for g in PARTICIPATION_GROUPS}
    counts = np.bincount(participation_group(pop)[live], minlength=len(PARTICIPATION_GROUPS))
    return {g: float(c / live.size) for g, c in zip(PARTICIPATION_GROUPS, counts, strict=True)}
