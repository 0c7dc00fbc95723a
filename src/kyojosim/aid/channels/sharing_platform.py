"""The sharing platform channel (the Ikoma + AsMama case, 図表4-3-4-4): paid help among acquaintances.

AsMama's 子育てシェア links people who already know each other (they connect by entering each other's
phone digits: 見知らぬ会員がつながることはない), for child pick-ups and minding (送迎・託児), with a
thank-you payment of 500-700 yen an hour, insurance, and certified supporters (ママサポ) who hold
meetups and workshops where parents and supporters become acquainted. The rules
(``scn.interventions.sharing_platform``; the channel runs in the years where it is active):

*Categories*: the platform serves only ``categories`` (child care by default); needs of other
categories are neither posted nor offered.

*Launch* (at the turn into the start year, or at the start of a run that begins with it running):
``certified_supporters × scale`` certified supporters (rounded at random to a whole number; the
national 680 ママサポ of March 2018 bound the key) are appointed among residents who could offer a
served category on a platform (``AID_MEMBER | AID_CERTIFIED``). They are the platform's small start;
those who die or leave are replaced at each turn of the year.

*Registration* (monthly, in the week each month ends; stream ``monthly_sharing_platform``): the
number of members follows the Bass (1969) model towards a potential ``M = user_share × households
with a child under 12``: with ``N`` members, ``Poisson(p / 12 × (M − N))`` residents register through
promotion (events, nurseries, schools), drawn at random among those who would have needs of a
served category (demand side), and ``Poisson(q / 12 × N / M × (M − N))`` through acquaintances,
drawn among all eligible residents with weights equal to their number of ties to members (this
year's meetup acquaintances included). Eligible: living residents aged 18+ with a smartphone who
are not members and either have needs of a served category or could offer one on a platform
(``platform_help`` bit, willing, able).

*Meetups* (monthly): ``Poisson(meetups_per_year / 12)`` meetups are held in the municipality. To
them come the certified supporters (who host them), ``Poisson(meetups × meetup_size × scale)``
members drawn at random and the month's registrants through promotion; each attendee gets to know
``meetup_contacts`` other attendees (distinct, drawn at random; all of them if there are fewer).
These new acquaintances are candidates from the next week on; at the turn of the year they become
community ties of the network
(``TIE_COMMUNITY``, community strength) and a share ``meetup_join_rate`` of those who met (18+)
join the volunteer group of their district.

*Surfacing* (a request): a new need of a served category is posted when the requester is a member
with a smartphone and draws ``u < min(1, b × d)``: ``b`` is 1 with the ``platform_need`` bit of the
category (図表4-3-4-2), else ``trust_boost`` if the service is ``insured``, else 0; the demand factor
``d = max(0, 1 + demand_elasticity × (P_r − reference_price) / reference_price)`` falls with the
requester's price ``P_r = max(0, price_per_hour − subsidy_per_hour)``.

*Candidates*: a member who could help this week offers a served category when they would offer it
on a platform (``platform_help``) and are willing free (``WILL_FREE``), or only if paid
(``WILL_PAID``) and the price they would receive ``P_h`` (``price_per_hour``, plus
``certified_premium_per_hour`` for a certified supporter) is above their own reservation price:
``u_i < min(1, (P_h / full_supply_price) ** supply_elasticity)``, ``u_i`` a fixed uniform of the
resident (:func:`~kyojosim.aid.channels.base.uid_uniform`). Candidates for a request: (a) such
members tied to the requester (any tie, or met at a meetup this year), weight ``strength +
tied_bonus``; (b) the certified supporters of the municipality who offer the category (the
fallback ママサポ), weight ``certified_weight``; (c) only as a what-if, up to ``stranger_candidates`` other members of
the district drawn at random, weight ``certified_weight`` or ``supporter_weight``.

*Payment*: every match pays the helper ``P_h × hours`` (whole yen,
:func:`kyojosim.aid.money.split_payment`): the municipality pays ``subsidy_per_hour × hours`` (at
most the whole) and the requester the rest (AsMama's thank-you rule applies to every helper).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...constants import (
    AID_CERTIFIED,
    AID_MEMBER,
    CAT,
    CATEGORIES,
    CH,
    OFFLINE_COMMUNITIES,
    ROLE_CHILD,
    TIE_COMMUNITY,
    WILL_FREE,
    WILL_PAID,
)
from ...core.communities import add_memberships
from ...core.helping import can_help
from ...core.network import Neighbourhood, TieBatch, neighbours
from ...core.streams import skip_uniforms, uniforms_at
from ..money import split_payment
from .base import AidContext, Channel, DistrictPools, register_channel, smallest, stochastic_round, uid_uniform

N_CAT = len(CATEGORIES)
CAT_BITS = (1 << np.arange(N_CAT)).astype(np.uint8)


@dataclass(frozen=True)
class Acquaintances:
    """Meetup acquaintances of the year as a CSR adjacency, each pair in both directions.

    The arrays :func:`~kyojosim.core.network.neighbours` reads, and the row of every entry.

    Attributes:
        indptr: Row pointers (``n + 1``).
        indices: The other end of each entry (int64), ascending within a row.
        data: The strength of each entry (float64).
        rows: The row of each entry (int64, ascending).
    """

    indptr: np.ndarray
    indices: np.ndarray
    data: np.ndarray
    rows: np.ndarray

    @property
    def nnz(self) -> int:
        """Number of entries."""
        return int(self.indices.size)

    @property
    def shape(self) -> tuple[int, int]:
        """``(n, n)``."""
        return (self.indptr.size - 1, self.indptr.size - 1)

    def csr(self):
        """Return the adjacency as a ``scipy.sparse.csr_matrix`` (for inspection; the channel reads the arrays)."""
        import scipy.sparse as sp

        return sp.csr_matrix((self.data, self.indices, self.indptr), shape=self.shape)


def tied_candidates(adj, slot: np.ndarray, category: np.ndarray,
                    eligible: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return ``(need_index, helper_slot, strength)`` for the requesters' ties eligible for the category."""
    need, helper, strength = neighbours(adj, slot)
    ok = eligible[helper, category[need]]
    return need[ok], helper[ok], strength[ok]


def demand_factor(requester_price: float, reference_price: float, elasticity: float) -> float:
    """Return the factor on the share of requests at the requester's price (linear demand, never below 0).

    ``1 + elasticity × (P − P_ref) / P_ref``: 1 at the reference price, with the stated elasticity there.
    """
    return max(0.0, 1.0 + elasticity * (requester_price - reference_price) / reference_price)


def offer_share(price: np.ndarray | float, full_supply_price: float, elasticity: float) -> np.ndarray:
    """Return the share of residents willing to help only if paid who offer at ``price`` (constant elasticity).

    ``min(1, (price / full_supply_price) ** elasticity)``; 0 at price 0.
    """
    ratio = np.maximum(np.asarray(price, dtype=np.float64), 0.0) / full_supply_price
    return np.minimum(ratio ** elasticity, 1.0)


def households_with_young_children(pop) -> int:
    """Return the number of households with a living child under 12."""
    live = pop.alive[: pop.n]
    young = live & (pop.age < 12) & (pop.role == ROLE_CHILD)
    marked = np.zeros(pop.n_households, dtype=bool)  # the households of the young, each marked once
    marked[pop.household[young]] = True
    return int(np.count_nonzero(marked))


def weighted_sample(weights: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """Return the indices of ``k`` draws without replacement with probability proportional to ``weights``.

    Efraimidis and Spirakis (2006): the ``k`` smallest ``-log(u) / w``; zero weights are never drawn.
    """
    return sample_positive(np.flatnonzero(weights > 0), weights[weights > 0], weights.size, k, rng)


def sample_positive(pos: np.ndarray, weights: np.ndarray, n: int, k: int, rng: np.random.Generator) -> np.ndarray:
    """Return :func:`weighted_sample` of ``n`` entries, given the positions ``pos`` of the positive ones.

    ``pos`` ascending, ``weights`` theirs: the same draws (a uniform for each of the ``n`` entries) and the same
    result, without a whole array of weights. Only the uniforms of the positive entries are drawn, and none when
    there is no choice to make (``k`` is 0, or reaches the positive entries): the others are skipped
    (:func:`~kyojosim.core.streams.skip_uniforms`), so ``rng`` ends where ``rng.random(n)`` leaves it.
    """
    k = min(k, pos.size)
    if k <= 0 or k == pos.size:
        skip_uniforms(rng, n)
        return pos.astype(np.int64) if k > 0 else np.zeros(0, dtype=np.int64)
    key = -np.log1p(-uniforms_at(rng, n, pos)) / weights
    return pos[np.argpartition(key, k - 1)[:k]]


@register_channel
class SharingPlatformChannel(Channel):
    """A paid sharing platform among acquaintances, with certified supporters (see the module docstring)."""

    name = "sharing_platform"
    bit = 1 << CH["sharing_platform"]
    section = "interventions.sharing_platform"

    def __init__(self, ctx: AidContext) -> None:
        super().__init__(ctx)
        self._launched = False
        self._certified_target = 0
        served = np.zeros(N_CAT, dtype=bool)
        if self.cfg is not None:
            served[[CAT[c] for c in self.cfg.categories]] = True
        self.served = served
        """Whether the platform serves each category."""
        self._key: int | None = None
        self._met: list[tuple[np.ndarray, np.ndarray]] = []  # this year's meetup acquaintances, as uid pairs
        self._promoted = np.zeros(0, dtype=np.int64)  # uids registered through promotion this month
        self._adj = None
        self._nb: Neighbourhood | None = None
        self._member_ties: tuple[np.ndarray | None, np.ndarray] = (None, np.zeros(0))
        self._year_sides: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
        self._offer_terms: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None = None
        self._met_adj = None
        self._potential = 0.0
        self._helper_ok = np.zeros((0, N_CAT), dtype=bool)
        self._helpers_of: tuple[np.ndarray, np.ndarray, tuple] | None = None  # members, certified, terms of _helper_ok
        self._certified = np.zeros(0, dtype=bool)
        self._certified_pools: DistrictPools | None = None
        self._max_certified = 0
        self._member_pools: DistrictPools | None = None
        self.meetings = 0
        """Acquaintances made at meetups so far (pairs, counted once per attendee's contact)."""

    def active(self) -> bool:
        """Whether the platform runs this year."""
        return self.cfg.active(self.ctx.year)

    # -- prices ------------------------------------------------------------------------------
    def requester_price(self) -> float:
        """Return the price an hour the requester expects to pay: the price less the subsidy, never below 0."""
        return max(0.0, self.cfg.price_per_hour - self.cfg.subsidy_per_hour)

    def helper_price(self, certified: np.ndarray) -> np.ndarray:
        """Return the price an hour each helper receives: the price, plus the premium for a certified supporter."""
        return self.cfg.price_per_hour + np.where(certified, self.cfg.certified_premium_per_hour, 0.0)

    def reservation(self, uid: np.ndarray) -> np.ndarray:
        """Each resident's fixed uniform that decides at which price they would offer paid help."""
        if self._key is None:
            self._key = int(self.ctx.rng("traits", 0).integers(0, 2**62))
        return uid_uniform(uid, self._key)

    # -- who takes part -----------------------------------------------------------------------
    def members(self) -> np.ndarray:
        """Which slots are living members."""
        pop = self.ctx.population
        return ((pop.aid_role & AID_MEMBER) != 0) & pop.alive[: pop.n]

    def counts(self) -> dict[str, int]:
        """Return the members and certified supporters now."""
        pop = self.ctx.population
        member = self.members()
        return {"members": int(np.count_nonzero(member)),
                "certified": int(np.count_nonzero(member & ((pop.aid_role & AID_CERTIFIED) != 0))), "roster": 0}

    def _supply_side(self) -> np.ndarray:
        """Residents who could offer a served category on a platform (able, willing, ``platform_help``)."""
        pop = self.ctx.population
        offers_any = np.zeros(pop.n, dtype=bool)
        for c in np.flatnonzero(self.served):  # served categories only: the others never count
            will = pop.will[:, c]
            offers_any |= ((pop.platform_help & CAT_BITS[c]) != 0) & ((will == WILL_FREE) | (will == WILL_PAID))
        return can_help(pop, self.ctx.scenario) & pop.smartphone & offers_any

    def _demand_side(self) -> np.ndarray:
        """Adults with a smartphone who have needs of a served category (from the weekly need probabilities)."""
        pop = self.ctx.population
        has_need = self.ctx.has_need(self.served)
        has_need = has_need if has_need.size == pop.n else np.zeros(pop.n, bool)
        return pop.alive[: pop.n] & (pop.age >= 18) & pop.smartphone & has_need

    def _sides(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Return who could register (adults 18+ with a smartphone), the demand side and the supply side.

        They change only at the turn of the year (ages, phones, willingness, need probabilities): taken the
        first time they are needed after :meth:`refresh` and kept until the next.
        """
        pop = self.ctx.population
        if self._year_sides is None or self._year_sides[0].size != pop.n:
            adult = pop.alive[: pop.n] & (pop.age >= 18) & pop.smartphone
            self._year_sides = (adult, self._demand_side(), self._supply_side())
        return self._year_sides

    def _ties_to(self, member: np.ndarray) -> np.ndarray:
        """Return each slot's number of ties (as of the last refresh) to the residents of ``member``.

        Kept from one month to the next: only the rows of residents who joined (or left) since are read,
        so the cost follows the month's new members and their ties, not the whole network.
        """
        pop = self.ctx.population
        if self._adj is None:
            return np.zeros(pop.n)
        counted, counts = self._member_ties
        if counted is None or counted.size != member.size:
            counted, counts = np.zeros(member.size, dtype=bool), np.zeros(member.size)
        for rows, sign in ((np.flatnonzero(member & ~counted), 1.0), (np.flatnonzero(counted & ~member), -1.0)):
            if rows.size:
                _, other, _ = neighbours(self._adj, rows)
                np.add.at(counts, other, sign)
        self._member_ties = (member.copy(), counts)
        return counts.copy()

    def certify(self, rng: np.random.Generator) -> np.ndarray:
        """Top the certified supporters up to the launch's number; return the new ones' slots."""
        pop = self.ctx.population
        certified = self.members() & ((pop.aid_role & AID_CERTIFIED) != 0)
        missing = self._certified_target - int(certified.sum())
        cand = np.flatnonzero(self._supply_side() & ~certified & (pop.age >= 18))
        u = rng.random(pop.n)
        if missing <= 0 or cand.size == 0:
            return np.zeros(0, dtype=np.int64)
        new = cand[smallest(u[cand], missing)]
        pop.aid_role[new] |= AID_MEMBER | AID_CERTIFIED
        return new

    def launch(self, rng: np.random.Generator) -> np.ndarray:
        """Appoint the certified supporters (the small start); return their slots."""
        scale = self.ctx.scenario.municipality.scale
        self._certified_target = stochastic_round(self.cfg.certified_supporters * scale, rng)
        self._launched = True
        return self.certify(rng)

    def register(self, rng: np.random.Generator) -> np.ndarray:
        """Register the month's new members (Bass: promotion and acquaintances); return their slots."""
        pop = self.ctx.population
        member = self.members()
        n_members = int(np.count_nonzero(member))
        m = self._potential
        gap = max(m - n_members, 0.0)
        k_promo = int(rng.poisson(self.cfg.innovation / 12 * gap))
        k_ties = int(rng.poisson(self.cfg.imitation / 12 * (n_members / m) * gap)) if m > 0 else 0
        adult, demand_side, supply_side = self._sides()
        adult = adult & ~member
        demand = demand_side & adult
        if k_promo == 0 and k_ties == 0:  # nobody registers: the month's uniforms are skipped, not drawn
            skip_uniforms(rng, int(np.count_nonzero(demand)) + pop.n)
            self._promoted = pop.uid[:0].copy()
            return np.zeros(0, dtype=np.int64)
        eligible = demand | (supply_side & adult)
        pool = np.flatnonzero(demand)
        if k_promo > 0:
            promo = pool[smallest(rng.random(pool.size), k_promo)]
            eligible[promo] = False
        else:
            skip_uniforms(rng, pool.size)
            promo = np.zeros(0, dtype=np.int64)
        ties = self._ties_to(member)
        if self._met_adj is not None and self._met_adj.nnz and self._met_adj.data[0] > 0:
            met = self._met_adj  # this year's meetup acquaintances who are members, per slot (whole numbers)
            np.add.at(ties, met.rows, member[met.indices].astype(np.float64))
        cand = np.flatnonzero(eligible & (ties > 0))  # the eligible with a tie to a member
        by_ties = sample_positive(cand, ties[cand], pop.n, k_ties, rng)
        new = np.concatenate([promo, by_ties]).astype(np.int64)
        pop.aid_role[new] |= AID_MEMBER
        self._promoted = pop.uid[promo].copy()
        return new

    def meetups(self, rng: np.random.Generator) -> int:
        """Hold the month's meetups: attendees get to know a few other attendees; return the new pairs."""
        pop = self.ctx.population
        n_meet = int(rng.poisson(self.cfg.meetups_per_year / 12))
        promoted = pop.slots_of(self._promoted) if self._promoted.size else self._promoted
        self._promoted = np.zeros(0, dtype=np.int64)
        if n_meet == 0:
            return 0
        member = self.members()
        certified = member & ((pop.aid_role & AID_CERTIFIED) != 0)
        others = np.flatnonzero(member & ~certified)
        k = int(rng.poisson(n_meet * self.cfg.meetup_size * self.ctx.scenario.municipality.scale))
        u = rng.random(others.size)
        came = others[smallest(u, k)]
        attendees = np.unique(np.concatenate([np.flatnonzero(certified), came, promoted[promoted >= 0]]))
        size, c = attendees.size, min(self.cfg.meetup_contacts, attendees.size - 1)
        if c <= 0:
            return 0
        key = rng.random((size, size))
        np.fill_diagonal(key, np.inf)  # anyone but oneself
        j = np.argpartition(key, c - 1, axis=1)[:, :c] if c < size - 1 else np.argsort(key, axis=1)[:, :c]
        a, b = attendees[np.repeat(np.arange(size), c)], attendees[j.ravel()]
        self._met.append((pop.uid[a].copy(), pop.uid[b].copy()))
        self.meetings += int(a.size)
        self._build_met_adjacency()
        return int(a.size)

    def _met_pairs(self) -> tuple[np.ndarray, np.ndarray]:
        """Return this year's meetup acquaintances as slot pairs (both still living in the municipality)."""
        pop = self.ctx.population
        if not self._met:
            empty = np.zeros(0, dtype=np.int64)
            return empty, empty
        a = pop.slots_of(np.concatenate([p[0] for p in self._met]))
        b = pop.slots_of(np.concatenate([p[1] for p in self._met]))
        keep = (a >= 0) & (b >= 0)
        return a[keep], b[keep]

    def _build_met_adjacency(self) -> None:
        """Build the adjacency of this year's meetup acquaintances (each pair once, community strength)."""
        from ..platform_kernel import row_pointers

        n = self.ctx.population.n
        a, b = self._met_pairs()
        if a.size == 0:
            self._met_adj = None
            return
        key = np.unique(np.concatenate([a, b]).astype(np.int64) * n + np.concatenate([b, a]))
        rows, cols = key // n, key % n
        data = np.full(key.size, float(self.ctx.scenario.network.strength["community"]))
        self._met_adj = Acquaintances(row_pointers(rows, n), cols, data, rows)

    def _flush_meetings(self, rng: np.random.Generator) -> int:
        """Let some of those who met at the year's meetups join a volunteer group; forget the year's acquaintances.

        The acquaintances became community ties with the year's other new ties (:meth:`yearly_ties`).
        """
        pop, scn = self.ctx.population, self.ctx.scenario
        a, b = self._met_pairs()
        self._met = []
        self._met_adj = None
        if a.size == 0:
            return 0
        met = np.unique(np.concatenate([a, b]))
        joins = met[(rng.random(met.size) < self.cfg.meetup_join_rate) & (pop.age[met] >= 18)]
        member = np.zeros((joins.size, len(OFFLINE_COMMUNITIES)), dtype=bool)
        member[:, OFFLINE_COMMUNITIES.index("volunteer_group")] = True
        add_memberships(pop, joins, member, scn, rng)
        return int(a.size)

    def _terms(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Return who would offer free, who only if paid, and whose reservation price each price meets.

        The first two are (slots x categories), for the served categories; the last two say whether each
        resident's reservation price is met at the ordinary and at the certified supporter's price.

        They change only at the turn of the year (willingness, offers, who can help): taken the first time
        they are needed after :meth:`refresh` and kept until the next; membership is applied monthly
        (:meth:`_update_helpers`).
        """
        pop = self.ctx.population
        if self._offer_terms is None or self._offer_terms[0].shape[0] != pop.n:
            can = can_help(pop, self.ctx.scenario)
            # able: can help, offers the category and the platform serves it; the columns of the categories
            # not served stay False, so only the served ones are computed
            free = np.zeros(pop.will.shape, dtype=bool)
            paid = np.zeros(pop.will.shape, dtype=bool)
            for c in np.flatnonzero(self.served):
                able = can & ((pop.platform_help & CAT_BITS[c]) != 0)
                will = pop.will[:, c]
                free[:, c] = able & (will == WILL_FREE)
                paid[:, c] = able & (will == WILL_PAID)
            u = self.reservation(pop.uid)
            share = [offer_share(self.helper_price(np.array([c])), self.cfg.full_supply_price,
                                 self.cfg.supply_elasticity)[0] for c in (False, True)]
            self._offer_terms = (free, paid, u < share[0], u < share[1])
        return self._offer_terms

    def _update_helpers(self) -> None:
        """Recompute who offers which category at the current price (members only), and the fallback pools.

        Within a year only new members change anything (the offers, the certified supporters and the living
        are those of the turn of the year): their rows are added to the last month's and the certified
        supporters' pool is kept, which is what recomputing every row gives.
        """
        pop = self.ctx.population
        member = self.members()
        certified = member & ((pop.aid_role & AID_CERTIFIED) != 0)
        terms = self._terms()
        free, paid, accepts_plain, accepts_certified = terms
        last = self._helpers_of
        same = (last is not None and last[2] is terms and last[0].size == member.size
                and self._helper_ok.shape[0] == member.size and np.array_equal(last[1], certified)
                and not (last[0] & ~member).any())
        rows = np.flatnonzero(member & ~last[0]) if same else np.flatnonzero(member)
        accepts = np.where(certified[rows], accepts_certified[rows], accepts_plain[rows])
        if not same:
            self._helper_ok = np.zeros(free.shape, dtype=bool)
        self._helper_ok[rows] = free[rows] | (paid[rows] & accepts[:, None])
        self._helpers_of = (member, certified, terms)
        if not same:
            self._certified = certified
            # the certified supporters serve the whole municipality (there are a handful of them)
            self._certified_pools = DistrictPools(self._helper_ok, np.zeros(pop.n, dtype=np.int64),
                                                  rows=np.flatnonzero(certified))
            self._max_certified = int(certified.sum())
        if self.cfg.stranger_candidates > 0:
            self._member_pools = DistrictPools(self._helper_ok, pop.district)

    # -- yearly and monthly -------------------------------------------------------------------
    def yearly_ties(self, year: int, batch: TieBatch) -> None:
        """At the turn of ``year``: the year's meetup acquaintances become community ties (added to ``batch``)."""
        if self.cfg.active(year):
            a, b = self._met_pairs()
            if a.size:
                batch.add(a, b, TIE_COMMUNITY, float(self.ctx.scenario.network.strength["community"]))

    def yearly(self, year: int, rng: np.random.Generator) -> None:
        """At the turn of ``year``: some who met at meetups join a volunteer group; launch or top up the certified."""
        if self.cfg.active(year):
            self._flush_meetings(rng)
        self._met, self._met_adj = [], None
        if self.cfg.active(year + 1):
            if not self._launched:
                self.launch(rng)
            else:
                self.certify(rng)

    def monthly(self, step: int, rng: np.random.Generator) -> None:
        """Register the month's members, hold the month's meetups, update who offers what."""
        self.register(rng)
        self.meetups(rng)
        self._update_helpers()

    def release(self) -> None:
        """Let go of last year's adjacency (shared with the network, which rebuilds it at the refresh).

        And of the year's arrays the refresh makes again: who is on which side, who offers on what terms
        (and the offers computed from them), and the counts of ties to members.
        """
        self._nb = self._adj = None
        self._member_ties = (None, np.zeros(0))
        self._year_sides = self._offer_terms = self._helpers_of = None

    def release_network(self) -> None:
        """Let go of last year's adjacency and the counts of ties to members (the yearly pass reads neither)."""
        self._nb = self._adj = None
        self._member_ties = (None, np.zeros(0))

    def refresh(self) -> None:
        """Launch if the platform runs from the start; rebuild the network caches, the potential and the offers."""
        if not self.cfg.enabled:
            return
        year = self.ctx.year
        if not self._launched and self.cfg.active(year):
            self.launch(self.ctx.rng("yearly", year - 1))
        pop = self.ctx.population
        self._nb = self.ctx.ties.neighbourhood(pop.n)
        self._adj = self._nb.csr
        self._member_ties = (None, np.zeros(0))
        self._year_sides = None
        self._offer_terms = None
        self._build_met_adjacency()
        self._potential = self.cfg.user_share * households_with_young_children(pop)
        self._update_helpers()

    # -- weekly ------------------------------------------------------------------------------
    def surface(self, slot: np.ndarray, category: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Return which new needs members post on the platform (see the module docstring)."""
        pop = self.ctx.population
        u = rng.random(slot.size)
        would = (pop.platform_need[slot] & CAT_BITS[category]) != 0
        base = np.where(would, 1.0, self.cfg.trust_boost if self.cfg.insured else 0.0)
        d = demand_factor(self.requester_price(), self.cfg.reference_price, self.cfg.demand_elasticity)
        member = (pop.aid_role[slot] & AID_MEMBER) != 0
        return member & self.served[category] & pop.smartphone[slot] & (u < np.minimum(base * d, 1.0))

    def candidates(self, slot: np.ndarray, category: np.ndarray, born: np.ndarray,
                   step: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Return candidate edges: acquaintances who offer (strength + tied_bonus), then the district's ママサポ."""
        pop = self.ctx.population
        n = pop.n
        need_a, helper_a, strength = self._nb.candidates(slot, category, self._helper_ok, True)
        weight_a = strength + self.cfg.tied_bonus
        if self._met_adj is not None:
            need_m, helper_m, strength_m = tied_candidates(self._met_adj, slot, category, self._helper_ok)
            need_a, helper_a = np.concatenate([need_a, need_m]), np.concatenate([helper_a, helper_m])
            weight_a = np.concatenate([weight_a, strength_m + self.cfg.tied_bonus])
        rng = self.ctx.rng("candidates", step)
        district = pop.district[slot]
        need_b, helper_b = self._certified_pools.draw(np.zeros(slot.size, dtype=np.int64), category,
                                                      max(self._max_certified, 1), rng)
        fresh = ~np.isin(need_b * n + helper_b, need_a * n + helper_a)
        need_b, helper_b = need_b[fresh], helper_b[fresh]
        weight_b = np.full(need_b.size, self.cfg.certified_weight)
        parts = [(need_a, helper_a, weight_a), (need_b, helper_b, weight_b)]
        if self.cfg.stranger_candidates > 0 and self._member_pools is not None:
            need_c, helper_c = self._member_pools.draw(district, category, self.cfg.stranger_candidates, rng)
            known = np.concatenate([need_a * n + helper_a, need_b * n + helper_b])
            fresh = ~np.isin(need_c * n + helper_c, known)
            need_c, helper_c = need_c[fresh], helper_c[fresh]
            weight_c = np.where(self._certified[helper_c], self.cfg.certified_weight, self.cfg.supporter_weight)
            parts.append((need_c, helper_c, weight_c))
        return tuple(np.concatenate([p[k] for p in parts]) for k in range(3))  # type: ignore[return-value]

    def after_match(self, requester: np.ndarray, helper: np.ndarray, category: np.ndarray, hours: np.ndarray,
                    step: int, rng: np.random.Generator) -> None:
        """Pay every helper the thank-you (requester and subsidy)."""
        price = self.helper_price(self._certified[helper])
        by_req, subsidy = split_payment(price, self.cfg.subsidy_per_hour, hours)
        paid = np.ones(helper.size, dtype=bool)
        self.ctx.money.record(step, self.ctx.year, self.name, category, hours, paid, by_req, subsidy)
