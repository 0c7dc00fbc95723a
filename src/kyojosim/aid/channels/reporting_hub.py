"""The reporting hub channel (the Yamae case, 図表4-3-4-4): district reporters surface neighbours' troubles.

Rules (``scn.interventions.reporting_hub``; the channel runs in the years where it is active):

*Reporters* (情報化推進員; when the hub starts and at every turn of the year while it runs): each
district keeps ``reporters_per_district`` reporters (``AID_REPORTER``). A reporter keeps the role
while living in the municipality; those who died or left are replaced by residents of the
district aged ``reporter_min_age`` to ``reporter_max_age`` (30-74) and not frail, members of the
neighbourhood association (``groups[:, 0] >= 0``) first, in random order within each group.

*Volunteers*: every resident willing to help free with at least one category (``will ==
WILL_FREE``) gets one chance, when the hub starts or when they are born into or move to the
municipality, to register (``AID_VOLUNTEER``) with probability ``volunteer_share``.

*Surfacing*: a new need is noticed, with probability ``notice_rate``, when a reporter lives in the
requester's block (班) or is tied to the requester (any tie). The requester needs no smartphone
or social media: the reporter posts on their tablet. This is how the hub reaches residents that
platforms miss.

*Candidates*: the office reads and routes a report with a delay: a need is routed only once
``born <= step - routing_delay_weeks``; then up to ``dispatch_candidates`` volunteers of the
requester's district who could help this week (age, not frail) and are willing free for the
category are candidates (drawn as in :class:`kyojosim.aid.channels.base.DistrictPools`), weight
``dispatch_weight``. Help is free: nothing happens after a match.
"""

from __future__ import annotations

import numpy as np

from ...constants import AID_REPORTER, AID_VOLUNTEER, CH, WILL_FREE
from ...core.helping import can_help
from .base import AidContext, Channel, DistrictPools, register_channel


@register_channel
class ReportingHubChannel(Channel):
    """A municipal reporting hub with district reporters and volunteers (see the module docstring)."""

    name = "reporting_hub"
    bit = 1 << CH["reporting_hub"]
    section = "interventions.reporting_hub"

    def __init__(self, ctx: AidContext) -> None:
        super().__init__(ctx)
        self._started = False
        self._seen_uid = -1  # residents with a uid up to this one had their chance to volunteer
        self._pools: DistrictPools | None = None

    def active(self) -> bool:
        """Whether the hub runs this year."""
        return self.cfg.active(self.ctx.year)

    # -- yearly ------------------------------------------------------------------------------
    def appoint(self, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """Top up the reporters of every district and give newcomers their chance to volunteer.

        Returns:
            The slots of the new reporters and of the new volunteers.
        """
        pop = self.ctx.population
        role = pop.aid_role
        alive = pop.alive[: pop.n]
        district = pop.district.astype(np.int64)
        nd = int(district.max()) + 1 if district.size else 1
        u = rng.random(pop.n)
        is_rep = ((pop.aid_role & AID_REPORTER) != 0) & alive
        missing = np.maximum(self.cfg.reporters_per_district - np.bincount(district[is_rep], minlength=nd), 0)
        lo, hi = self.cfg.reporter_min_age, self.cfg.reporter_max_age
        cand = np.flatnonzero(alive & ~is_rep & (pop.age >= lo) & (pop.age <= hi) & ~pop.frail)
        nonmember = pop.groups[cand, 0] < 0
        cand = cand[np.lexsort((u[cand], nonmember, district[cand]))]
        d = district[cand]
        first = np.searchsorted(d, np.arange(nd))
        rank = np.arange(cand.size) - first[d]
        new_rep = cand[rank < missing[d]]
        role[new_rep] |= AID_REPORTER
        # volunteers: one chance each, at the start or on arrival
        v = rng.random(pop.n)
        fresh = alive & (pop.uid > self._seen_uid)
        free = (pop.will == WILL_FREE).any(axis=1)
        new_vol = np.flatnonzero(fresh & free & (v < self.cfg.volunteer_share))
        role[new_vol] |= AID_VOLUNTEER
        if pop.n:
            self._seen_uid = max(self._seen_uid, int(pop.uid.max()))
        self._started = True
        return new_rep, new_vol

    def yearly(self, year: int, rng: np.random.Generator) -> None:
        """Replace reporters who died or left and register newcomers as volunteers, if the hub runs next year."""
        if self.cfg.active(year + 1):
            self.appoint(rng)

    def refresh(self) -> None:
        """Appoint the first reporters if the hub runs from the start; rebuild what surfacing and routing use."""
        if not self.cfg.enabled:
            return
        year = self.ctx.year
        if not self._started and self.cfg.active(year):
            self.appoint(self.ctx.rng("yearly", year - 1))
        pop = self.ctx.population
        n = pop.n
        is_rep = ((pop.aid_role & AID_REPORTER) != 0) & pop.alive[:n]
        block = pop.hh.block[pop.household].astype(np.int64)
        self._block = block
        self._rep_in_block = np.bincount(block[is_rep], minlength=int(block.max()) + 1 if n else 1)
        adj = self.ctx.ties.adjacency(n)
        row = np.repeat(np.arange(n), np.diff(adj.indptr))
        self._tied_to_rep = np.bincount(row[is_rep[adj.indices]], minlength=n) > 0
        volunteer = ((pop.aid_role & AID_VOLUNTEER) != 0) & can_help(pop, self.ctx.scenario)
        self._pools = DistrictPools(volunteer[:, None] & (pop.will == WILL_FREE), pop.district)

    # -- weekly ------------------------------------------------------------------------------
    def surface(self, slot: np.ndarray, category: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Return which new needs a reporter notices (same block or tied), smartphone or not."""
        u = rng.random(slot.size)
        near = (self._rep_in_block[self._block[slot]] > 0) | self._tied_to_rep[slot]
        return near & (u < self.cfg.notice_rate)

    def candidates(self, slot: np.ndarray, category: np.ndarray, born: np.ndarray,
                   step: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Return candidate edges for routed needs: volunteers of the district willing free, weight dispatch_weight."""
        routed = np.flatnonzero(born <= step - self.cfg.routing_delay_weeks)
        rng = self.ctx.rng("candidates", step)
        need, helper = self._pools.draw(self.ctx.population.district[slot[routed]], category[routed],
                                        self.cfg.dispatch_candidates, rng)
        return routed[need], helper, np.full(need.size, self.cfg.dispatch_weight)
