"""Population decline: the yearly demographic process, over whole columns.

Once a year, in this order (see docs/ODD.md, "Process overview"):

1. ageing (everyone one year older), frailty onset;
2. deaths by age-, sex- and frailty-specific mortality, improving each year;
3. births by age-specific fertility of women 15-49, into the mother's household;
4. out-migration by the net migration rate of the age band: family units (head, spouse,
   children under 15) move together; grown children and elders move alone;
5. in-migration: newcomers by age band, grouped into households, placed in districts;
6. household change: heads replaced after a death (widowhood), grown children leaving
   home, single adults forming couples, frail single elderly moving in with a family,
   children left without an adult taken in by a family.

The model then compacts the columns (dropping the ties of those who died or left) and ties
newcomers into their district.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..constants import (
    AGE_BAND_WIDTH,
    FEMALE,
    HH,
    MALE,
    N_AGE_BANDS,
    ROLE_CHILD,
    ROLE_ELDER,
    ROLE_HEAD,
    ROLE_SPOUSE,
    age_band,
)
from ..params.scenario import Scenario
from .population import Population


@dataclass
class YearEvents:
    """What happened in one demographic year (slots refer to the columns before compaction)."""

    deaths: np.ndarray
    births: np.ndarray
    out_migrants: np.ndarray
    in_migrants: np.ndarray
    left_home: int = 0
    unions: int = 0
    moved_in: int = 0
    children_rehoused: int = 0


def _band_mean(values: np.ndarray, band: np.ndarray, n_bands: int) -> np.ndarray:
    s = np.bincount(band, weights=values, minlength=n_bands)
    c = np.bincount(band, minlength=n_bands)
    return np.divide(s, c, out=np.ones(n_bands), where=c > 0)


def death_probability(pop: Population, slots: np.ndarray, scn: Scenario, years_since_start: int) -> np.ndarray:
    """Yearly death probability of each resident: the table's rate, improved, frailty-weighted.

    Frail residents die at ``frail_mortality_ratio`` times the rate of the non-frail of their band
    and sex, normalised so that the band's mean stays at the table's rate. Nobody survives past
    ``demography.max_age``.
    """
    m = scn.demography.mortality
    band = age_band(pop.age[slots])
    sex = pop.sex[slots]
    table = np.array([m.male, m.female])
    q = table[sex, band] * m.multiplier * (1.0 - m.annual_improvement) ** years_since_start
    f = np.where(pop.frail[slots], scn.residents.frail_mortality_ratio, 1.0)
    key = sex.astype(np.int64) * N_AGE_BANDS + band
    norm = _band_mean(f, key, 2 * N_AGE_BANDS)[key]
    p = q * f / norm
    p[pop.age[slots] >= scn.demography.max_age] = 1.0
    return np.clip(p, 0.0, 1.0)


YOUNG_BANDS = slice(3, 8)
"""Age bands 15-19 ... 35-39, whose rate ``young_shift`` moves."""
ELDERLY_BANDS = slice(13, None)
"""Age bands 65-69 ... 85+, whose rate ``elderly_shift`` moves."""
OLDEST_BANDS = slice(15, None)
"""Age bands 75-79 ... 85+, whose rate ``oldest_shift`` also moves."""


def period_level(levels: dict[int, float], year: int, default: float = 1.0) -> float:
    """Return the value for the period containing ``year``: that of the latest start year <= year."""
    starts = sorted(k for k in levels if k <= year)
    return float(levels[starts[-1]]) if starts else default


def migration_rates(scn: Scenario, year: int) -> np.ndarray:
    """Return the yearly net migration rate by age band for ``year`` (level and shifts applied)."""
    mig = scn.demography.migration
    r = np.asarray(mig.net_rate, dtype=float) * period_level(mig.level, year)
    r[YOUNG_BANDS] += period_level(mig.young_shift, year, 0.0)
    r[ELDERLY_BANDS] += period_level(mig.elderly_shift, year, 0.0)
    r[OLDEST_BANDS] += period_level(mig.oldest_shift, year, 0.0)
    return r


def promote_heads(pop: Population) -> None:
    """Give every household that lost its head a new one: the spouse, else the oldest member."""
    from .demography_kernel import headless_members

    # the living members of households without a living head, in ascending slots (as from the living)
    orphan = headless_members(pop.household, pop.role, pop.alive[: pop.n], int(pop.n_households), int(ROLE_HEAD))
    if orphan.size == 0:
        return
    # rank candidates: spouse first, then by age (oldest first)
    score = (pop.role[orphan] == ROLE_SPOUSE) * 1000 + pop.age[orphan]
    order = np.lexsort((-score, pop.household[orphan]))
    oh = pop.household[orphan][order]
    first = np.r_[True, oh[1:] != oh[:-1]]
    new_heads = orphan[order][first]
    pop.role[new_heads] = ROLE_HEAD
    # in a household whose head is now a former child, the others stay as they are


def yearly_demography(
    pop: Population,
    scn: Scenario,
    year: int,
    rng: np.random.Generator,
    mig_rng: np.random.Generator,
    hh_rng: np.random.Generator,
) -> YearEvents:
    """Apply one year of demographic change to the columns (no compaction, no ties).

    Args:
        pop: The population (changed in place).
        scn: The scenario.
        year: The calendar year that is ending.
        rng: The ``demography`` stream for this year.
        mig_rng: The ``migration`` stream for this year.
        hh_rng: The ``households`` stream for this year.

    Returns:
        The slots of those who died, were born, left and arrived, and counts of household changes.
    """
    start = scn.municipality.start_year
    alive = pop.alive[: pop.n]
    n_live = int(np.count_nonzero(alive))
    # 1-2. ageing, frailty onset and deaths: one compiled pass over the living (the array form is death_probability)
    from .demography_kernel import age_and_die

    u_frail = rng.random(n_live)
    u_die = rng.random(n_live)
    m = scn.demography.mortality
    deaths = age_and_die(alive, pop.age, pop.sex, pop.frail, pop.employed, pop.drives,
                         np.asarray(scn.residents.frailty_onset_rate, dtype=np.float64), u_frail,
                         np.array([m.male, m.female], dtype=np.float64), float(m.multiplier),
                         (1.0 - m.annual_improvement) ** (year - start), float(scn.residents.frail_mortality_ratio),
                         int(scn.demography.max_age), AGE_BAND_WIDTH, N_AGE_BANDS, u_die)
    pop.remove(deaths)
    # 3. births to women 15-49 alive at year end
    from .demography_kernel import residents_where

    fert = scn.demography.fertility
    # the living women 15-49, in ascending slots (one compiled pass)
    women = residents_where(pop.alive[: pop.n], pop.household, np.zeros(0, dtype=np.int64), pop.age, pop.sex,
                            pop.frail, int(FEMALE), 0, 0, 15, 50, False)
    asfr = np.asarray(fert.age_pattern) * fert.tfr / 5.0
    p_birth = asfr[np.clip(pop.age[women] // 5 - 3, 0, 6)]
    mothers = women[rng.random(women.size) < p_birth]
    births = np.zeros(0, dtype=np.int64)
    if mothers.size:
        boy = rng.random(mothers.size) < fert.sex_ratio_at_birth / (1.0 + fert.sex_ratio_at_birth)
        births = pop.add(
            mothers.size,
            age=0,
            sex=np.where(boy, MALE, FEMALE),
            household=pop.household[mothers],
            role=ROLE_CHILD,
            district=pop.district[mothers],
            arrived=year + 1,
        )
    # 4-5. migration
    out = out_migration(pop, scn, year, mig_rng)
    # the households' living members and the inhabited households by district, read once: the arrivals settle
    # among them, and the grown children who leave home among them and the arrivals' households
    sizes = pop.household_sizes()
    inhabited = inhabited_by_district(pop, sizes)
    arrivals = in_migration(pop, scn, year, mig_rng, inhabited=inhabited)
    sizes, inhabited = with_arrivals(pop, sizes, inhabited, arrivals)
    # 6. household change
    promote_heads(pop)
    left, unions, moved = household_change(pop, scn, hh_rng, sizes=sizes, inhabited=inhabited)
    rehoused, gone = rehouse_orphans(pop, hh_rng)
    out = np.concatenate([out, gone]) if gone.size else out
    return YearEvents(deaths, births, out, arrivals, left, unions, moved, rehoused)


def changed_household(pop: Population, before: np.ndarray) -> np.ndarray:
    """Return the living slots of residents who were there before and now live in another household.

    Args:
        pop: The population.
        before: The household of every slot before (the slots added since then are not looked at).
    """
    from .demography_kernel import changed_household as changed

    return changed(pop.alive[: pop.n], pop.household, np.ascontiguousarray(before))


def rehouse_orphans(pop: Population, rng: np.random.Generator) -> tuple[int, np.ndarray]:
    """Children left without any adult at home (their lone parent died or moved) go to live with a family.

    assumption: relatives or foster carers in town take them in (in Japan most such children are raised by
    kin, 親族里親); siblings stay together, in a random household with an adult in their district (else
    anywhere in town). If no household in town has an adult, they leave the municipality.

    Returns:
        The number of children rehoused, and the slots of those who left.
    """
    from .demography_kernel import ids_by_district, minors_without_adult

    # the households with a living adult, and the living minors of the others (ascending, as from the living)
    adult_in, orphans = minors_without_adult(pop.household, pop.age, pop.alive[: pop.n], int(pop.n_households), 18)
    if orphans.size == 0:
        return 0, np.zeros(0, dtype=np.int64)
    hosts = np.flatnonzero(adult_in)
    if hosts.size == 0:
        pop.remove(orphans)
        return 0, orphans
    old_hh, inverse = np.unique(pop.household[orphans], return_inverse=True)
    district = pop.hh.district
    hosts, start = ids_by_district(hosts, district)
    left, right = district_ranges(start, district[old_hh])
    none_here = right <= left
    left[none_here], right[none_here] = 0, hosts.size
    new_hh = hosts[left + (rng.random(old_hh.size) * (right - left)).astype(np.int64)]
    pop.household[orphans] = new_hh[inverse.ravel()]
    pop.role[orphans] = ROLE_CHILD
    pop.district[orphans] = district[new_hh[inverse.ravel()]]
    return int(orphans.size), np.zeros(0, dtype=np.int64)


def out_migration(pop: Population, scn: Scenario, year: int, rng: np.random.Generator) -> np.ndarray:
    """Residents of bands with a negative net rate move out, as moving units.

    A *family unit* (head, spouse and children under 15) moves with the mean rate of its head and
    spouse, so that the expected number of adults who move equals the sum of their rates; grown
    children (15+) and elders living with family move alone at their own rate. Children under 15
    move only with their parents (their band's rate is carried by the parents' moves).
    """
    alive = pop.alive[: pop.n]
    n_live = int(np.count_nonzero(alive))
    if n_live == 0:
        return np.zeros(0, dtype=np.int64)
    rate = migration_rates(scn, year)
    from .demography_kernel import moving_out  # the array form: tests/test_demography.py

    nh = pop.n_households
    u_household = rng.random(nh)  # one draw per household (family units), then one per resident
    u_resident = rng.random(n_live)
    leaving = moving_out(alive, pop.age, pop.role, pop.household, np.asarray(rate, dtype=np.float64), int(nh),
                         int(ROLE_HEAD), int(ROLE_SPOUSE), int(ROLE_CHILD), AGE_BAND_WIDTH, N_AGE_BANDS,
                         u_household, u_resident)
    pop.remove(leaving)
    return leaving


def in_migration(pop: Population, scn: Scenario, year: int, rng: np.random.Generator,
                 inhabited: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray:
    """Newcomers by age band (positive net rates), grouped into households and given districts.

    ``inhabited``: the inhabited households by district as the population is (:func:`inhabited_by_district`),
    when the caller has them.
    """
    rate = migration_rates(scn, year)
    if not (rate > 0).any():
        return np.zeros(0, dtype=np.int64)
    counts = pop.band_counts()  # the living by sex and age band
    if counts.sum() == 0:
        return np.zeros(0, dtype=np.int64)
    lam = np.clip(rate, 0, None)[None, :] * counts
    arrive = rng.poisson(lam)
    total = int(arrive.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    sex = np.repeat(np.repeat([MALE, FEMALE], N_AGE_BANDS), arrive.ravel())
    band = np.repeat(np.tile(np.arange(N_AGE_BANDS), 2), arrive.ravel())
    from .synthesis import draw_ages_in_band  # local import: synthesis imports this module's peers

    age = draw_ages_in_band(band, scn, rng)
    household = np.full(total, -1, dtype=np.int64)
    role = np.full(total, ROLE_HEAD, dtype=np.int8)
    idx = np.arange(total)
    kids = idx[age < 18]
    adults = idx[(age >= 18) & (age < 65)]
    elderly = idx[age >= 65]
    n_new = 0
    # couples: arriving men and women 25-64 paired by rank of age, a share migration.couple_share of them
    couple_share = scn.demography.migration.couple_share
    m = adults[(sex[adults] == MALE) & (age[adults] >= 25)]
    f = adults[(sex[adults] == FEMALE) & (age[adults] >= 25)]
    k = int(min(m.size, f.size) * couple_share)
    m = rng.permutation(m)[:k]
    f = rng.permutation(f)[:k]
    m, f = m[np.argsort(age[m], kind="stable")], f[np.argsort(age[f], kind="stable")]
    household[m] = household[f] = np.arange(k)
    role[f] = ROLE_SPOUSE
    n_new = k
    # elderly couples likewise, others alone
    om, of = elderly[sex[elderly] == MALE], elderly[sex[elderly] == FEMALE]
    k2 = int(min(om.size, of.size) * couple_share)
    om, of = rng.permutation(om)[:k2], rng.permutation(of)[:k2]
    household[om] = household[of] = n_new + np.arange(k2)
    role[of] = ROLE_SPOUSE
    n_new += k2
    # children join arriving families (or single arriving adults 25-49), by rank of the parent's age
    parents = np.concatenate([f, adults[(household[adults] < 0) & (age[adults] >= 25) & (age[adults] < 50)]])
    if kids.size:
        if parents.size == 0:
            parents = adults if adults.size else idx[age >= 18]
        if parents.size:
            alone = parents[household[parents] < 0]
            household[alone] = n_new + np.arange(alone.size)
            n_new += alone.size
            p_order = parents[np.argsort(age[parents], kind="stable")]
            kid_order = kids[np.argsort(age[kids], kind="stable")]
            slot = (np.arange(kid_order.size) * p_order.size) // kid_order.size
            household[kid_order] = household[p_order[slot]]
            role[kid_order] = ROLE_CHILD
    rest = idx[household < 0]
    household[rest] = n_new + np.arange(rest.size)
    n_new += rest.size
    # districts by the scenario's shares; households settle into existing blocks of their district
    shares = np.array([d.population_share for d in scn.municipality.districts])
    district = rng.choice(shares.size, size=n_new, p=shares / shares.sum()).astype(np.int16)
    block = settle_blocks(pop, district, scn.network.block_households, rng, inhabited=inhabited)
    hh_ids = pop.add_households(n_new, district=district, block=block, kind=HH["single_adult"])
    slots = pop.add(
        total,
        age=age,
        sex=sex,
        household=hh_ids[household],
        role=role,
        district=district[household],
        arrived=year + 1,
    )
    return slots


def district_ranges(start: np.ndarray, district: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return where each district's ids begin and end in the order of :func:`~.demography_kernel.ids_by_district`.

    ``(left, right)``: what ``np.searchsorted`` of ``district`` (sides left and right) in the sorted
    districts of the ordered ids gives; a district beyond the largest one listed gets the end twice.
    """
    q = np.asarray(district, dtype=np.int64)
    ends = np.append(start, start[-1])  # one more end: an unlisted district reads the end twice
    at = np.where(q < start.size - 1, q, start.size - 1)
    return ends[at], ends[at + 1]


def inhabited_by_district(pop: Population, sizes: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Return the inhabited households by district, in ascending ids within each: ``(ordered, start)``.

    :func:`~.demography_kernel.ids_by_district` of the household ids with a living member (a counting sort
    of their districts). ``sizes``: the living members of every household id
    (:meth:`Population.household_sizes`), when the caller has them.
    """
    from .demography_kernel import ids_by_district

    if sizes is None:
        sizes = pop.household_sizes()
    return ids_by_district(np.flatnonzero(sizes[: pop.n_households] > 0), pop.hh.district)


def with_arrivals(pop: Population, sizes: np.ndarray, inhabited: tuple[np.ndarray, np.ndarray],
                  arrivals: np.ndarray) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray]]:
    """Return the households' sizes and :func:`inhabited_by_district` after ``arrivals`` were added.

    ``sizes`` and ``inhabited`` are those before (nobody left or moved since). The arrivals' new households
    (ids from ``sizes.size`` on) are counted and merged into each district's list after the households
    listed there (their ids are larger); if an arrival moved into an older household, the lists are read
    again. The result is what :meth:`Population.household_sizes` and :func:`inhabited_by_district` give.
    """
    from .demography_kernel import ids_by_district

    nh0, nh = sizes.size, int(pop.n_households)
    household = pop.household[arrivals]
    if arrivals.size == 0 and nh == nh0:
        return sizes, inhabited
    if arrivals.size and int(household.min()) < nh0:  # an older household grew: count and list again
        sizes = pop.household_sizes()
        return sizes, inhabited_by_district(pop, sizes)
    new = np.bincount(household - nh0, minlength=nh - nh0)
    ordered, start = inhabited
    add, add_start = ids_by_district(nh0 + np.flatnonzero(new > 0), pop.hh.district)
    width = max(start.size, add_start.size)  # one more than the largest district listed in either
    start = np.pad(start, (0, width - start.size), mode="edge")
    add_start = np.pad(add_start, (0, width - add_start.size), mode="edge")
    ordered = np.insert(ordered, np.repeat(start[1:], np.diff(add_start)), add)
    return np.concatenate([sizes, new]), (ordered, start + add_start)


def settle_blocks(pop: Population, district: np.ndarray, block_households: int,
                  rng: np.random.Generator, sizes: np.ndarray | None = None,
                  inhabited: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray:
    """Return a block for each new household: the block of a random inhabited household of its district.

    New households thus become neighbours of people already there (blocks grow a little; the
    town's blocks are re-formed by no one). In a district where nobody lives, new blocks are formed.
    ``sizes``: the living members of every household id (:meth:`Population.household_sizes`), and
    ``inhabited``: the inhabited households by district (:func:`inhabited_by_district`), when the caller has
    them.
    """
    district = np.asarray(district, dtype=np.int64)
    block = np.empty(district.size, dtype=np.int32)
    # the inhabited households by district, in ascending ids within each (a counting sort of the district ids)
    inhabited, start = inhabited if inhabited is not None else inhabited_by_district(pop, sizes)
    left, right = district_ranges(start, district)
    has = right > left
    pick = left[has] + (rng.random(int(has.sum())) * (right[has] - left[has])).astype(np.int64)
    block[has] = pop.hh.block[inhabited[pick]]
    if (~has).any():
        from .synthesis import assign_blocks

        first = int(pop.hh.block.max()) + 1 if pop.n_households else 0
        block[~has] = assign_blocks(district[~has].astype(np.int16), block_households, rng, start=first)
    return block


def household_change(pop: Population, scn: Scenario, rng: np.random.Generator, sizes: np.ndarray | None = None,
                     inhabited: tuple[np.ndarray, np.ndarray] | None = None) -> tuple[int, int, int]:
    """Grown children leave home, single adults form couples, frail single elderly move in with family.

    ``sizes`` (:meth:`Population.household_sizes`) and ``inhabited`` (:func:`inhabited_by_district`): those of
    the population as it is, when the caller has them (``sizes`` is then changed in place).

    Returns:
        Counts of (children who left home, unions formed, elderly who moved in with a family).
    """
    from .demography_kernel import ids_by_district, residents_where
    from .population_kernel import household_sizes

    hc = scn.demography.household_change
    # the residents concerned are found by one compiled pass over all slots each (ascending slots, as from the
    # living), with the households' sizes counted in one pass
    alive, age = pop.alive[: pop.n], pop.age
    if not alive.any():
        return 0, 0, 0
    anyone, any_size = np.zeros(0, dtype=np.int64), -(1 << 30)

    def where(size: np.ndarray, role: int, size_range: tuple[int, int], age_range: tuple[int, int],
              frail_only: bool = False) -> np.ndarray:
        return residents_where(alive, pop.household, size, age, pop.role, pop.frail, role, *size_range, *age_range,
                               frail_only)

    # the households' sizes, counted once and then kept as residents move (the counts of household_sizes)
    size = household_sizes(pop.household, alive, int(pop.n_households)) if sizes is None else sizes

    def move(who: np.ndarray, to: np.ndarray) -> None:
        nonlocal size
        if size.size < pop.n_households:
            size = np.concatenate([size, np.zeros(pop.n_households - size.size, dtype=size.dtype)])
        np.subtract.at(size, pop.household[who], 1)
        np.add.at(size, to, 1)
        pop.household[who] = to

    # grown children leave home (stay in town, in a block of their district)
    grown = where(anyone, int(ROLE_CHILD), (any_size, 0), (18, 40))
    leavers = grown[rng.random(grown.size) < hc.leave_home_rate]
    if leavers.size:
        d = pop.district[leavers]
        block = settle_blocks(pop, d, scn.network.block_households, rng, sizes=size, inhabited=inhabited)
        ids = pop.add_households(leavers.size, district=d, block=block, kind=HH["single_adult"])
        move(leavers, ids)
        pop.role[leavers] = ROLE_HEAD
    # unions: single adults 25-44 living alone pair up within their district; she moves in with him
    alone = where(size, -1, (1, 1), (25, 45))
    cand = alone[rng.random(alone.size) < hc.union_rate]
    men = cand[pop.sex[cand] == MALE]
    women = cand[pop.sex[cand] == FEMALE]
    unions = 0
    if men.size and women.size:
        men = men[np.lexsort((pop.age[men], pop.district[men]))]
        women = women[np.lexsort((pop.age[women], pop.district[women]))]
        for d in np.intersect1d(pop.district[men], pop.district[women]):
            mm = men[pop.district[men] == d]
            ww = women[pop.district[women] == d]
            k = min(mm.size, ww.size)
            move(ww[:k], pop.household[mm[:k]])
            pop.role[ww[:k]] = ROLE_SPOUSE
            unions += k
    # frail single elderly move in with a family household of their district
    single_old = where(size, -1, (1, 1), (65, 1 << 30), frail_only=True)
    movers = single_old[rng.random(single_old.size) < hc.move_in_with_family_rate]
    moved = 0
    if movers.size:
        fam = where(size, int(ROLE_HEAD), (2, 1 << 62), (-(1 << 30), 65))
        if fam.size:
            fam, start = ids_by_district(fam, pop.district)  # by district, ascending slots within each
            left, right = district_ranges(start, pop.district[movers])
            ok = right > left
            pick = left[ok] + (rng.random(int(ok.sum())) * (right[ok] - left[ok])).astype(np.int64)
            pop.household[movers[ok]] = pop.household[fam[pick]]
            pop.role[movers[ok]] = ROLE_ELDER
            moved = int(ok.sum())
    return int(leavers.size), unions, moved
