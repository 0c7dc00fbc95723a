"""Population synthesis: residents, households, traits, memberships and ties from a scenario.

The age-sex counts of the scenario are reproduced exactly (largest-remainder rounding at
the chosen scale). Residents are then partitioned into households of the census kinds by
filling household roles from the pool of residents (couples matched by rank of age,
children given to families by rank of the mother's age), so every resident is in exactly
one household and the marginals stay exact. Traits are drawn by age band; memberships
and ties follow :mod:`kyojosim.core.communities` and :mod:`kyojosim.core.network`.
"""

from __future__ import annotations

import numpy as np

from ..apportion import largest_remainder
from ..constants import (
    AGE_BAND_WIDTH,
    FEMALE,
    MALE,
    N_AGE_BANDS,
    ROLE_CHILD,
    ROLE_ELDER,
    ROLE_HEAD,
    ROLE_SPOUSE,
    TIE_HOUSEHOLD,
    TIE_NEIGHBOUR,
    TIE_ONLINE,
    age_band,
)
from ..params.scenario import Scenario
from .communities import Chapters, assign_communities, build_community_ties, newcomer_lists, pairs_touching_few
from .households import classify
from .network import TieBatch, Ties, pairs_within_groups, stable_argsort_ids
from .population import Population
from .streams import Streams


def draw_ages_in_band(band: np.ndarray, scn: Scenario, rng: np.random.Generator) -> np.ndarray:
    """Draw single-year ages uniformly within 5-year bands; the open 85+ band decays with age.

    Ages in 85+ are 85 + a geometric number of years with mean ``demography.mean_age_85plus``,
    at most ``demography.max_age``.
    """
    age = band * AGE_BAND_WIDTH + rng.integers(0, AGE_BAND_WIDTH, size=band.size)
    top = band == N_AGE_BANDS - 1
    d = scn.demography
    first = AGE_BAND_WIDTH * (N_AGE_BANDS - 1)
    p = 1.0 / (d.mean_age_85plus - first + 1.0)  # a geometric number k >= 1 of mean 1/p; the age is first + k - 1
    age[top] = np.minimum(first + rng.geometric(p, size=int(top.sum())) - 1, d.max_age)
    return age


def target_counts(scn: Scenario) -> np.ndarray:
    """Return the number of simulated residents by sex (rows) and age band, summing to the scaled population."""
    m = scn.municipality
    table = np.array([m.age_structure.male, m.age_structure.female], dtype=float)
    total = int(round(m.population * m.scale))
    return largest_remainder(table, total)


def synthesize(scn: Scenario, streams: Streams) -> tuple[Population, Ties, dict[str, float]]:
    """Build the initial population and network of a scenario.

    Args:
        scn: The scenario.
        streams: The model's random streams (uses ``synthesis``, ``communities``, ``ict``, ``network``).

    Returns:
        The population, its ties and the fitted community levels (reused for newcomers).
    """
    pop = synthesize_residents(scn, streams)
    levels = {"offline": 0.0, "online_if_offline": 0.0, "online_if_not": 0.0}
    if pop.n:
        levels = assign_communities(pop, scn, streams["communities"])
    ties = build_ties(pop, scn, streams["network"])
    return pop, ties, levels


def synthesize_residents(scn: Scenario, streams: Streams) -> Population:
    """Build the initial residents and households with their traits (no memberships, no ties).

    The first part of :func:`synthesize`, and all of it that the demography depends on
    (:mod:`kyojosim.demographic_run` starts from it). Uses the ``synthesis`` and ``ict`` streams.
    """
    rng = streams["synthesis"]
    counts = target_counts(scn)
    sex = np.repeat(np.repeat([MALE, FEMALE], N_AGE_BANDS), counts.ravel())
    band = np.repeat(np.tile(np.arange(N_AGE_BANDS), 2), counts.ravel())
    age = draw_ages_in_band(band, scn, rng)
    pop = Population()
    n = age.size
    pop.add(n, age=age, sex=sex, arrived=scn.municipality.start_year)
    if n:
        form_households(pop, scn, rng)
        draw_traits(pop, scn, streams["synthesis"], streams["ict"])
    return pop


def _pick(pool: np.ndarray, k: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Pick ``k`` random members of ``pool``; return (picked, rest)."""
    k = int(min(max(k, 0), pool.size))
    perm = rng.permutation(pool.size)
    return pool[perm[:k]], pool[perm[k:]]


def _couples(males: np.ndarray, females: np.ndarray, k: int, age: np.ndarray, rng: np.random.Generator):
    """Form ``k`` couples from random men and women, paired by rank of age (husbands ~2 years older)."""
    k = int(min(k, males.size, females.size))
    m, m_rest = _pick(males, k, rng)
    f, f_rest = _pick(females, k, rng)
    m = m[np.argsort(age[m], kind="stable")]
    f = f[np.argsort(age[f], kind="stable")]
    return m, f, m_rest, f_rest


def form_households(pop: Population, scn: Scenario, rng: np.random.Generator) -> None:
    """Partition residents into households of the scenario's kinds and set roles and districts."""
    age = pop.age
    sex = pop.sex
    n = age.size
    shares = scn.municipality.households.shares
    idx = np.arange(n)
    elderly = idx[age >= 65]
    children = idx[age < 18]
    adults = idx[(age >= 18) & (age < 65)]
    young = adults[age[adults] < 30]
    share_home = scn.municipality.households.live_with_parents_18_29
    stay_home, _ = _pick(young, int(round(share_home * young.size)), rng)
    adults = np.setdiff1d(adults, stay_home)
    dependants = np.concatenate([children, stay_home])

    fixed = {  # persons per household other than children, by kind
        "single_elderly": 1, "elderly_couple": 2, "couple_only": 2, "couple_with_children": 2,
        "single_parent": 1, "single_adult": 1, "three_generation": 3,
    }
    per_hh = sum(shares[k] * fixed[k] for k in fixed)
    n_hh = max(1.0, (n - dependants.size) / per_hh)
    # working-age adults and the elderly fill different roles: plan no more households than either group can
    # fill. Elderly left over join families as elders (bigger three-generation households); working-age adults
    # left over would all live alone and inflate single_adult, so their count bounds the plan first.
    adult_per_hh = sum(shares[k] for k in ("couple_only", "couple_with_children", "three_generation")) * 2
    adult_per_hh += shares["single_parent"] + shares["single_adult"]
    if adult_per_hh > 0 and adults.size:
        n_hh = max(1.0, min(n_hh, adults.size / adult_per_hh))
    want = {k: int(round(n_hh * shares[k])) for k in fixed}

    household = np.full(n, -1, dtype=np.int64)
    role = np.zeros(n, dtype=np.int8)
    next_id = 0

    def new_households(count: int) -> np.ndarray:
        nonlocal next_id
        ids = np.arange(next_id, next_id + count)
        next_id += count
        return ids

    # --- elderly: couples, then singles; the rest live with family as elders
    old_m, old_f = elderly[sex[elderly] == MALE], elderly[sex[elderly] == FEMALE]
    hm, hf, old_m, old_f = _couples(old_m, old_f, want["elderly_couple"], age, rng)
    ids = new_households(hm.size)
    household[hm], household[hf], role[hm], role[hf] = ids, ids, ROLE_HEAD, ROLE_SPOUSE
    old_rest = np.concatenate([old_m, old_f])
    singles, old_rest = _pick(old_rest, want["single_elderly"], rng)
    household[singles], role[singles] = new_households(singles.size), ROLE_HEAD

    # --- adults: couples for families, three-generation households and couples without children
    ad_m, ad_f = adults[sex[adults] == MALE], adults[sex[adults] == FEMALE]
    n_family_couples = want["couple_with_children"] + want["three_generation"]
    # family couples come preferably from ages 28-59 (parents of school-age children)
    prime = lambda a: (age[a] >= 28) & (age[a] < 60)  # noqa: E731
    fm, ff, rest_m, rest_f = _couples(ad_m[prime(ad_m)], ad_f[prime(ad_f)], n_family_couples, age, rng)
    ad_m = np.concatenate([ad_m[~prime(ad_m)], rest_m])
    ad_f = np.concatenate([ad_f[~prime(ad_f)], rest_f])
    short = n_family_couples - fm.size
    if short > 0:
        # too few adults of prime age (an old village): the other family couples come from all ages 18-64,
        # e.g. couples in their early sixties living with a very old parent (three generations)
        xm, xf, ad_m, ad_f = _couples(ad_m, ad_f, short, age, rng)
        fm, ff = np.concatenate([fm, xm]), np.concatenate([ff, xf])
    fam_ids = new_households(fm.size)
    household[fm], household[ff], role[fm], role[ff] = fam_ids, fam_ids, ROLE_HEAD, ROLE_SPOUSE
    mother_age = age[ff].astype(float)
    # single parents: mostly mothers aged 25-54 (census 2015: about 85% of lone parents are mothers)
    sp_f_pool = ad_f[(age[ad_f] >= 25) & (age[ad_f] < 55)]
    n_sp = want["single_parent"]
    sp_f, _ = _pick(sp_f_pool, int(round(0.85 * n_sp)), rng)
    ad_f = np.setdiff1d(ad_f, sp_f)
    sp_m_pool = ad_m[(age[ad_m] >= 25) & (age[ad_m] < 55)]
    sp_m, _ = _pick(sp_m_pool, n_sp - sp_f.size, rng)
    ad_m = np.setdiff1d(ad_m, sp_m)
    sp = np.concatenate([sp_f, sp_m])
    sp_ids = new_households(sp.size)
    household[sp], role[sp] = sp_ids, ROLE_HEAD
    # couples without children
    cm, cf, ad_m, ad_f = _couples(ad_m, ad_f, want["couple_only"], age, rng)
    ids = new_households(cm.size)
    household[cm], household[cf], role[cm], role[cf] = ids, ids, ROLE_HEAD, ROLE_SPOUSE
    # everyone else of working age lives alone
    rest_adults = np.concatenate([ad_m, ad_f])
    household[rest_adults], role[rest_adults] = new_households(rest_adults.size), ROLE_HEAD

    # --- children and adult children: to families by rank of the parent's age
    parent_hh = np.concatenate([fam_ids, sp_ids])
    parent_age = np.concatenate([mother_age, age[sp].astype(float)])
    if parent_hh.size and dependants.size:
        fam_order = parent_hh[np.argsort(parent_age, kind="stable")]
        dep = dependants[np.argsort(age[dependants] + rng.random(dependants.size), kind="stable")]
        slot = (np.arange(dep.size) * fam_order.size) // dep.size
        household[dep], role[dep] = fam_order[slot], ROLE_CHILD
    elif dependants.size:
        # no parents at all: children are placed with elderly or alone (a degenerate town)
        hosts = np.flatnonzero(household >= 0)
        if hosts.size:
            household[dependants] = household[rng.choice(hosts, size=dependants.size)]
            role[dependants] = ROLE_CHILD
        else:
            household[dependants], role[dependants] = new_households(dependants.size), ROLE_HEAD

    # --- elders: the remaining elderly join three-generation families (first) or other families
    if old_rest.size:
        hosts = fam_ids[: max(want["three_generation"], 0)] if fam_ids.size else np.zeros(0, dtype=np.int64)
        if hosts.size == 0:
            hosts = np.unique(household[household >= 0])
        if hosts.size:
            # the first want["three_generation"] family ids host one elder each, then more at random
            first = hosts[: min(hosts.size, old_rest.size)]
            extra = old_rest.size - first.size
            host_of = np.concatenate([first, rng.choice(hosts, size=extra)]) if extra > 0 else first
            household[old_rest], role[old_rest] = host_of, ROLE_ELDER
        else:
            household[old_rest], role[old_rest] = new_households(old_rest.size), ROLE_HEAD

    # renumber household ids densely in random order (so ids carry no meaning)
    used = np.unique(household)
    perm = rng.permutation(used.size)
    remap = np.full(next_id, -1, dtype=np.int64)
    remap[used] = perm
    household = remap[household]
    pop.household[:n] = household
    pop.role[:n] = role
    n_households = used.size
    district = place_households(scn, n_households, rng)
    block = assign_blocks(district, scn.network.block_households, rng)
    pop.add_households(n_households, district=district, block=block)
    pop.district[:n] = district[household]
    pop.hh.kind[:] = classify(pop)


def place_households(scn: Scenario, n_households: int, rng: np.random.Generator) -> np.ndarray:
    """Give each household a district, in proportion to the districts' population shares."""
    shares = np.array([d.population_share for d in scn.municipality.districts])
    counts = largest_remainder(shares, n_households)
    district = np.repeat(np.arange(shares.size), counts)
    return rng.permutation(district).astype(np.int16)


def assign_blocks(district: np.ndarray, block_households: int, rng: np.random.Generator, start: int = 0) -> np.ndarray:
    """Group households of each district into blocks (班) of about ``block_households``."""
    n = district.size
    order = np.lexsort((rng.random(n), district))
    d_sorted = district[order]
    starts = np.flatnonzero(np.r_[True, d_sorted[1:] != d_sorted[:-1]]) if n else np.zeros(0, dtype=np.int64)
    pos_in_d = np.arange(n) - np.repeat(starts, np.diff(np.r_[starts, n]))
    local_block = pos_in_d // block_households
    # unique id per (district, local block)
    key = d_sorted.astype(np.int64) * (n + 1) + local_block
    _, block_sorted = np.unique(key, return_inverse=True)
    block = np.empty(n, dtype=np.int64)
    block[order] = block_sorted + start
    return block.astype(np.int32)


def draw_traits(pop: Population, scn: Scenario, rng: np.random.Generator, ict_rng: np.random.Generator,
                slots: np.ndarray | None = None) -> None:
    """Draw frailty, employment, driving, smartphone and social-media use by age band and sex."""
    if slots is None:
        slots = np.arange(pop.n)
    r = scn.residents
    band = age_band(pop.age[slots])
    sex = pop.sex[slots]
    emp_male, emp_female = np.asarray(r.employment_rate_male), np.asarray(r.employment_rate_female)
    emp_rate = np.where(sex == MALE, emp_male[band], emp_female[band])
    pop.frail[slots] = rng.random(slots.size) < np.asarray(r.frailty_rate)[band]
    pop.employed[slots] = (rng.random(slots.size) < emp_rate) & ~pop.frail[slots]
    pop.drives[slots] = (rng.random(slots.size) < np.asarray(r.driving_rate)[band]) & ~pop.frail[slots]
    # social-media users are a subset of smartphone users where the rates allow it (one uniform for both)
    u = ict_rng.random(slots.size)
    phone = np.asarray(scn.ict.smartphone_rate)[band]
    sns = np.asarray(scn.ict.sns_rate)[band]
    pop.smartphone[slots] = u < phone
    pop.sns[slots] = u < sns


def household_pairs(household: np.ndarray, members: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return all pairs of ``members`` (slots) that share a household.

    The members are ordered by household (stably); the pairs of neighbours in that order come first, then
    those two apart, and so on (:func:`kyojosim.core.households_kernel.pairs_by_distance`).
    """
    if members.size < 2:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    from .households_kernel import pairs_by_distance

    order = np.asarray(members[stable_argsort_ids(household[members])], dtype=np.int64)
    return pairs_by_distance(order, household[order])


def household_ties(pop: Population, scn: Scenario, ties: Ties | TieBatch, slots: np.ndarray) -> None:
    """Tie every pair of living members of the households of ``slots`` (no random draws).

    Family ties are also online where both use social media (LINE connects family, 図表4-3-3-1).
    """
    if slots.size == 0:
        return
    from .households_kernel import members_of

    st = scn.network.strength
    household = pop.household
    members = members_of(household, pop.alive[: pop.n], np.asarray(slots, dtype=np.int64), int(pop.n_households))
    a, b = household_pairs(household, members)
    ties.add(a, b, TIE_HOUSEHOLD, st["household"])
    both_sns = pop.sns[a] & pop.sns[b]
    ties.add(a[both_sns], b[both_sns], TIE_HOUSEHOLD | TIE_ONLINE, st["household"])


def build_ties(pop: Population, scn: Scenario, rng: np.random.Generator, slots: np.ndarray | None = None,
               ties: Ties | TieBatch | None = None, chapters: Chapters | None = None) -> Ties:
    """Create household, neighbour, community and online ties for ``slots`` (default: everyone).

    New residents are tied to everyone of their household, to neighbours of their block, to
    co-members of their communities and, if online, to other online participants of their district.
    Given a :class:`TieBatch`, the ties are recorded in it (merged when the caller flushes it) and its
    network is returned unchanged. ``chapters``, when given with ``slots``, are the chapter lists of the
    local kinds that :func:`kyojosim.core.communities.newcomer_lists` reads the groups of the new
    residents from (instead of a pass over the town; the same ties).
    """
    if isinstance(ties, TieBatch):
        _add_ties(pop, scn, rng, slots, ties, chapters)
        return ties.ties
    ties = ties if ties is not None else Ties()
    batch = TieBatch(ties)
    _add_ties(pop, scn, rng, slots, batch, chapters)
    return batch.flush()


def _add_ties(pop: Population, scn: Scenario, rng: np.random.Generator, slots: np.ndarray | None,
              batch: TieBatch, chapters: Chapters | None = None) -> None:
    """Record the ties of :func:`build_ties` in ``batch``."""
    n = pop.n
    everyone = slots is None  # the synthesis: every group is drawn in full
    if slots is None:
        slots = pop.live()
    if slots.size == 0:
        return
    from .households_kernel import neighbour_blocks

    net = scn.network
    st = net.strength
    is_new = np.zeros(n, dtype=bool)
    is_new[slots] = True
    # all new ties are merged into the tie list in one pass at the end (no draw depends on the ties)
    # household: all pairs in households that have a new member
    household_ties(pop, scn, batch, slots)
    # neighbours: adults (15+) of the same block
    block = neighbour_blocks(pop.household, pop.age, pop.alive[:n], pop.hh.block, 15)
    if everyone:
        a, b = pairs_within_groups(block, net.neighbour_ties, rng)
    else:  # only the pairs with a new end (the same ties in distribution as drawing all and keeping those)
        a, b = pairs_touching_few(block, is_new, net.neighbour_ties, rng, pop.alive[:n])
    batch.add(a, b, TIE_NEIGHBOUR, st["neighbour"])
    lists = None if everyone or chapters is None else newcomer_lists(pop, chapters, is_new)
    build_community_ties(pop, scn, batch, None if everyone else is_new, rng, lists=lists)
