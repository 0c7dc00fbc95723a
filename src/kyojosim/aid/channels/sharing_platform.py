"""The sharing platform channel (the Ikoma + AsMama case, 図表4-3-4-4): paid help among acquaintances.

Rules (``scn.interventions.sharing_platform``; the channel runs in the years where it is active):

*Registration* (yearly, and once when the platform starts with the run): each resident who could
help (age ``>= helping.helper_min_age``, not frail) and would offer help on a platform for at
least one category (``platform_help != 0``, 図表4-3-4-3) and is not yet a supporter registers
(``AID_SUPPORTER``) with probability ``registration_rate`` a year; a share ``certified_share``
of the new supporters is certified (``AID_CERTIFIED``, AsMama's ママサポ). Supporters stay
registered while they live in the municipality.

*Meetups* (yearly, for the year that ends, assumption): the platform holds ``meetups_per_year``
meetups (the whole part every year, the fraction with that probability) in every district.
Supporters and residents who were helped through the platform that year each attend a meetup
with probability ``meetup_attendance``; each attending requester meets
``meetup_contacts`` attending supporters of its district drawn at random (with replacement)
and becomes tied to them offline (``TIE_COMMUNITY`` at the community strength of
``network.strength``): "parents and supporters become friends" (AsMama case).

Of the residents who met, a share ``meetup_join_rate`` (18+) join the volunteer group of their
district (a local chapter; :func:`kyojosim.core.communities.add_memberships`).

*Surfacing*: a new need is posted on the platform when the requester has a smartphone (the
service is an app; assumption) and would use a platform for that category (the
``platform_need`` bit, 図表4-3-4-2); when the service is ``insured``, requesters without the
bit get a second chance ``u < trust_boost`` (insurance and certification make some of the
reluctant willing).

*Candidates*: requests go first to acquaintances, then to supporters: a candidate is a
supporter who could help this week (age, not frail) and is willing for the category (``will`` is
WILL_FREE or WILL_PAID) and would offer it on a platform (``platform_help`` bit):
(a) supporters tied to the requester (any tie), weight ``strength + tied_bonus`` (1.0); (b) up
to ``random_candidates`` supporters of the requester's district drawn at random
(``random_candidates`` draws with replacement, duplicates and those already in (a) dropped; all
of them when the pool is no larger), weight ``certified_weight`` (0.6) if certified,
``supporter_weight`` (0.3) otherwise.

*Payment*: a match with a helper willing only if paid (``WILL_PAID``) moves
``price_per_hour * hours`` (whole yen, :func:`kyojosim.aid.money.split_payment`) to the helper; the
requester pays the price less ``subsidy_per_hour`` (never below 0) and the municipality the
subsidy. Helpers willing free (``WILL_FREE``) are not paid: AsMama's thank-you payment applies
to everyone, but the model keeps the survey's distinction between free and paid-only helpers
(図表4-3-4-3). Payments go to the :class:`~kyojosim.aid.money.MoneyLedger` of the mutual aid (``ctx.money``).
"""

from __future__ import annotations

import numpy as np

from ...constants import (
    AID_CERTIFIED,
    AID_SUPPORTER,
    CATEGORIES,
    CH,
    OFFLINE_COMMUNITIES,
    TIE_COMMUNITY,
    WILL_FREE,
    WILL_PAID,
)
from ...core.communities import add_memberships
from ...core.helping import can_help
from ...core.network import neighbours
from ..money import split_payment
from .base import AidContext, Channel, DistrictPools, register_channel

N_CAT = len(CATEGORIES)
CAT_BITS = (1 << np.arange(N_CAT)).astype(np.uint8)


def tied_candidates(adj, slot: np.ndarray, category: np.ndarray,
                    eligible: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return ``(need_index, helper_slot, strength)`` for the requesters' ties eligible for the category."""
    need, helper, strength = neighbours(adj, slot)
    ok = eligible[helper, category[need]]
    return need[ok], helper[ok], strength[ok]


@register_channel
class SharingPlatformChannel(Channel):
    """A paid sharing platform with registered (and some certified) supporters (see the module docstring)."""

    name = "sharing_platform"
    bit = 1 << CH["sharing_platform"]
    section = "interventions.sharing_platform"

    def __init__(self, ctx: AidContext) -> None:
        super().__init__(ctx)
        self._started = False
        self._users: list[np.ndarray] = []  # uids of requesters helped through the platform this year
        self._adj = None
        self._eligible = np.zeros((0, N_CAT), dtype=bool)
        self._pools: DistrictPools | None = None

    def active(self) -> bool:
        """Whether the platform runs this year."""
        return self.cfg.active(self.ctx.year)

    # -- yearly ------------------------------------------------------------------------------
    def register(self, rng: np.random.Generator) -> np.ndarray:
        """Register new supporters (and certify some); return their slots."""
        pop = self.ctx.population
        role = pop.aid_role
        u = rng.random((2, pop.n))
        could = can_help(pop, self.ctx.scenario) & (pop.platform_help != 0) & ((pop.aid_role & AID_SUPPORTER) == 0)
        new = np.flatnonzero(could & (u[0] < self.cfg.registration_rate))
        role[new] |= AID_SUPPORTER
        role[new[u[1, new] < self.cfg.certified_share]] |= AID_CERTIFIED
        self._started = True
        return new

    def meetups(self, rng: np.random.Generator) -> int:
        """Hold the year's meetups: attending requesters get offline ties to attending supporters.

        Returns:
            The number of requester-supporter meetings (pairs, before merging with existing ties).
        """
        pop, ties, scn = self.ctx.population, self.ctx.ties, self.ctx.scenario
        users = np.concatenate(self._users) if self._users else np.zeros(0, dtype=np.int64)
        self._users = []
        per_year = self.cfg.meetups_per_year
        n_meet = int(per_year) + int(rng.random() < per_year - int(per_year))
        users = pop.slots_of(np.unique(users)) if users.size else users
        users = users[users >= 0]
        supporters = np.flatnonzero(((pop.aid_role & AID_SUPPORTER) != 0) & pop.alive[: pop.n])
        pairs_a, pairs_b = [], []
        for _ in range(n_meet):
            u = rng.random(users.size + supporters.size)
            req = users[u[: users.size] < self.cfg.meetup_attendance]
            sup = supporters[u[users.size:] < self.cfg.meetup_attendance]
            if req.size == 0 or sup.size == 0:
                continue
            sup = sup[np.argsort(pop.district[sup], kind="stable")]
            nd = int(pop.district.max()) + 1
            size = np.bincount(pop.district[sup], minlength=nd)
            start = np.cumsum(size) - size
            req = req[size[pop.district[req]] > 0]
            a = np.repeat(req, self.cfg.meetup_contacts)
            d = pop.district[a]
            b = sup[start[d] + rng.integers(0, size[d])] if a.size else a
            pairs_a.append(a)
            pairs_b.append(b)
        if not pairs_a:
            return 0
        a, b = np.concatenate(pairs_a), np.concatenate(pairs_b)
        ties.add(a, b, TIE_COMMUNITY, float(scn.network.strength["community"]))
        # some of those who met join the volunteer group of their district (community dynamics)
        met = np.unique(np.concatenate([a, b]))
        joins = met[(rng.random(met.size) < self.cfg.meetup_join_rate) & (pop.age[met] >= 18)]
        member = np.zeros((joins.size, len(OFFLINE_COMMUNITIES)), dtype=bool)
        member[:, OFFLINE_COMMUNITIES.index("volunteer_group")] = True
        add_memberships(pop, joins, member, scn, rng)
        return int(a.size)

    def yearly(self, year: int, rng: np.random.Generator) -> None:
        """Meetups of the year that ends (if the platform ran), registration for the next (if it runs)."""
        if self.cfg.active(year):
            self.meetups(rng)
        self._users = []
        if self.cfg.active(year + 1):
            self.register(rng)

    def refresh(self) -> None:
        """Register the first supporters if the platform runs from the start; rebuild the pools."""
        if not self.cfg.enabled:
            return
        year = self.ctx.year
        if not self._started and self.cfg.active(year):
            self.register(self.ctx.rng("yearly", year - 1))
        pop = self.ctx.population
        supporter = (pop.aid_role & AID_SUPPORTER) != 0
        willing = (pop.will == WILL_FREE) | (pop.will == WILL_PAID)
        offers = (pop.platform_help[:, None] & CAT_BITS[None, :]) != 0
        self._eligible = (supporter & can_help(pop, self.ctx.scenario))[:, None] & willing & offers
        self._certified = (pop.aid_role & AID_CERTIFIED) != 0
        self._adj = self.ctx.ties.adjacency(pop.n)
        self._pools = DistrictPools(self._eligible, pop.district)

    # -- weekly ------------------------------------------------------------------------------
    def surface(self, slot: np.ndarray, category: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Return which new needs are posted on the platform (see the module docstring)."""
        pop = self.ctx.population
        u = rng.random(slot.size)
        would = (pop.platform_need[slot] & CAT_BITS[category]) != 0
        if self.cfg.insured:
            would |= u < self.cfg.trust_boost
        return would & pop.smartphone[slot]

    def candidates(self, slot: np.ndarray, category: np.ndarray, born: np.ndarray,
                   step: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Return candidate edges: tied supporters first (weight strength + tied_bonus), then others of the district."""
        pop = self.ctx.population
        need_a, helper_a, strength = tied_candidates(self._adj, slot, category, self._eligible)
        rng = self.ctx.rng("candidates", step)
        need_b, helper_b = self._pools.draw(pop.district[slot], category, self.cfg.random_candidates, rng)
        n = pop.n
        fresh = ~np.isin(need_b * n + helper_b, need_a * n + helper_a)
        need_b, helper_b = need_b[fresh], helper_b[fresh]
        weight_b = np.where(self._certified[helper_b], self.cfg.certified_weight, self.cfg.supporter_weight)
        return (np.concatenate([need_a, need_b]), np.concatenate([helper_a, helper_b]),
                np.concatenate([strength + self.cfg.tied_bonus, weight_b]))

    def after_match(self, requester: np.ndarray, helper: np.ndarray, category: np.ndarray, hours: np.ndarray,
                    step: int, rng: np.random.Generator) -> None:
        """Pay paid-only helpers (requester and subsidy) and remember the requesters for the meetups."""
        pop = self.ctx.population
        self._users.append(pop.uid[requester].copy())
        paid = pop.will[helper, category] == WILL_PAID
        by_req, subsidy = split_payment(self.cfg.price_per_hour, self.cfg.subsidy_per_hour, hours)
        self.ctx.money.record(step, self.ctx.year, self.name, category, hours, paid, by_req, subsidy)
