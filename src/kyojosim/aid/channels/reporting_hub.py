"""The reporting hub channel (the Yamae case, 図表4-3-4-4): district reporters send troubles to the office.

In 山江村 an information promoter (情報化推進員) of each district, lent a tablet, posts what happens in
the district to the 地域づくり研究所 (2016); the planning section chief reads the posts and routes each
to the section concerned. The village's 100-person committee is the residents' forum. No source
describes volunteers sent out per request: the office's sections answer. The rules
(``scn.interventions.reporting_hub``; the channel runs in the years where it is active):

*Reporters* (when the hub starts and at every turn of the year while it runs): each district keeps
``reporters_per_district × scale`` reporters (``AID_REPORTER``; people of the municipality, so the
simulated number is scaled as every count is: rounded at random, district by district, once when the
hub starts). A reporter keeps the role while living in the municipality;
those who died or left are replaced by residents of the district aged ``reporter_min_age`` to
``reporter_max_age`` and not frail, members of the neighbourhood association (``groups[:, 0] >= 0``)
first, in random order within each group.

*Surfacing* (a report): a new need of one of ``categories`` (those a village section can act on) is
noticed, with probability ``notice_rate``, when a reporter lives in the requester's block (班) or is
tied to the requester (any tie); the requester needs no smartphone or social media. A reporter posts
at most ``Poisson(reports_per_reporter_month × 12 / 52)`` need reports a week; the needs a reporter
noticed beyond that stay unreported (in random order).

*Routing and the office's answer*: a report is read and routed after ``routing_delay_weeks``; from
then on, after each week's matching, the office's sections answer the routed reports still open,
oldest first (ties in random order), up to a weekly capacity of ``office_cases_per_1000`` per 1,000
living residents (a whole number each week, rounded at random). An answered need is met by the
office (:meth:`Channel.respond`): it uses no resident's hours, pays nothing and changes no tie.
Reports not answered wait in the queue until they are met otherwise or lapse.

*Roster* (a what-if, none by default): ``roster_per_1000`` volunteers per 1,000 residents
(``AID_VOLUNTEER``; at most the scale of the village's 100-person committee), chosen among residents
aged 18-79, not frail and willing to help free with one of ``categories``, members of the
neighbourhood association first; kept at that number at every turn of the year. For a routed need
the office also contacts up to ``dispatch_candidates`` roster volunteers of the requester's
district who are willing to help free with the category, weight ``dispatch_weight``.
"""

from __future__ import annotations

import numpy as np

from ...constants import AID_REPORTER, AID_VOLUNTEER, CAT, CATEGORIES, CH, WILL_FREE
from ...core.helping import can_help
from ...core.population import any_per_row
from .base import AidContext, Channel, DistrictPools, register_channel, stochastic_round

N_CAT = len(CATEGORIES)
ROSTER_AGES = (18, 79)
"""Ages of residents who may be put on the roster (a what-if: adults not yet in their eighties)."""


def ranked_pick(cand: np.ndarray, group: np.ndarray, first: np.ndarray, missing: np.ndarray,
                u: np.ndarray) -> np.ndarray:
    """Return, for each group ``g``, up to ``missing[g]`` of the candidates of group ``g``.

    Candidates with ``first`` come before the others, in the random order of ``u`` within each part.
    Only the groups that miss someone are sorted (at a turn of the year, usually a few).
    """
    cand = cand[missing[group[cand]] > 0]
    order = np.lexsort((u[cand], ~first[cand], group[cand]))
    cand = cand[order]
    g = group[cand]
    start = np.searchsorted(g, np.arange(missing.size))
    rank = np.arange(cand.size) - start[g]
    return cand[rank < missing[g]]


@register_channel
class ReportingHubChannel(Channel):
    """A municipal reporting hub: district reporters, the office's answers, an optional roster (module docstring)."""

    name = "reporting_hub"
    bit = 1 << CH["reporting_hub"]
    section = "interventions.reporting_hub"

    def __init__(self, ctx: AidContext) -> None:
        super().__init__(ctx)
        self._started = False
        served = np.zeros(N_CAT, dtype=bool)
        if self.cfg is not None:
            served[[CAT[c] for c in self.cfg.categories]] = True
        self.served = served
        """Whether reporters report, and the office answers, each category."""
        self._pools: DistrictPools | None = None
        self._reporters = np.zeros(0, dtype=np.int64)
        self._roster_size = 0
        self._targets: np.ndarray | None = None

    def active(self) -> bool:
        """Whether the hub runs this year."""
        return self.cfg.active(self.ctx.year)

    def counts(self) -> dict[str, int]:
        """Return the reporters and roster volunteers now."""
        pop = self.ctx.population
        alive = pop.alive[: pop.n]
        return {"members": int(np.count_nonzero(((pop.aid_role & AID_REPORTER) != 0) & alive)), "certified": 0,
                "roster": int(np.count_nonzero(((pop.aid_role & AID_VOLUNTEER) != 0) & alive))}

    # -- yearly ------------------------------------------------------------------------------
    def appoint(self, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """Top up the reporters of every district and the roster.

        Returns:
            The slots of the new reporters and of the new roster volunteers.
        """
        pop = self.ctx.population
        role = pop.aid_role
        alive = pop.alive[: pop.n]
        district = pop.district.astype(np.int64)
        nd = int(district.max()) + 1 if district.size else 1
        u = rng.random((2, pop.n))
        member_na = pop.groups[:, 0] >= 0
        if self._targets is None or self._targets.size != nd:  # once: the reporters of each district, scaled
            exact = self.cfg.reporters_per_district * self.ctx.scenario.municipality.scale
            self._targets = np.floor(exact).astype(np.int64) + (rng.random(nd) < exact - np.floor(exact))
        is_rep = ((role & AID_REPORTER) != 0) & alive
        missing = np.maximum(self._targets - np.bincount(district[is_rep], minlength=nd), 0)
        new_rep = new_vol = np.zeros(0, dtype=np.int64)  # nobody missing: no candidates to rank
        if missing.any():
            lo, hi = self.cfg.reporter_min_age, self.cfg.reporter_max_age
            cand = np.flatnonzero(alive & ~is_rep & (pop.age >= lo) & (pop.age <= hi) & ~pop.frail)
            new_rep = ranked_pick(cand, district, member_na, missing, u[0])
            role[new_rep] |= AID_REPORTER
        # the roster (a what-if): a number per 1,000 living residents, kept up
        on_roster = ((role & AID_VOLUNTEER) != 0) & alive
        target = int(round(self.cfg.roster_per_1000 * int(alive.sum()) / 1000))
        missing_roster = np.array([max(target - int(on_roster.sum()), 0)])
        if missing_roster[0] > 0:
            free = any_per_row((pop.will == WILL_FREE) & self.served)
            a, b = ROSTER_AGES
            cand = np.flatnonzero(alive & ~on_roster & free & (pop.age >= a) & (pop.age <= b) & ~pop.frail)
            new_vol = ranked_pick(cand, np.zeros(pop.n, dtype=np.int64), member_na, missing_roster, u[1])
            role[new_vol] |= AID_VOLUNTEER
        self._started = True
        return new_rep, new_vol

    def yearly(self, year: int, rng: np.random.Generator) -> None:
        """Replace reporters and roster volunteers who died or left, if the hub runs next year."""
        if self.cfg.active(year + 1):
            self.appoint(rng)

    def refresh(self) -> None:
        """Appoint the first reporters if the hub runs from the start; rebuild who reports whom, and the roster."""
        if not self.cfg.enabled:
            return
        year = self.ctx.year
        if not self._started and self.cfg.active(year):
            self.appoint(self.ctx.rng("yearly", year - 1))
        pop = self.ctx.population
        n = pop.n
        is_rep = ((pop.aid_role & AID_REPORTER) != 0) & pop.alive[:n]
        self._reporters = np.flatnonzero(is_rep)
        block = pop.hh.block[pop.household]  # each slot's block (as stored: an index, not widened)
        self._block = block
        # the reporter who reports a need: one living in the requester's block, else one tied to the requester
        self._block_rep = np.full(int(block.max()) + 1 if n else 1, -1, dtype=np.int64)
        self._block_rep[block[self._reporters]] = self._reporters
        adj = self.ctx.ties.adjacency(n)
        from .channel_kernel import last_tied, last_tied_from

        # the last reporter in each row: from the reporters' own rows where the rows are sorted (the adjacency is
        # symmetric), else from every row
        self._tied_rep = (last_tied_from(adj.indptr, adj.indices, self._reporters) if adj.has_sorted_indices
                          else last_tied(adj.indptr, adj.indices, is_rep))
        roster = np.flatnonzero(((pop.aid_role & AID_VOLUNTEER) != 0) & can_help(pop, self.ctx.scenario))
        self._roster_size = int(roster.size)
        # eligible: the roster's volunteers willing to help free in a served category (only their rows are read)
        served = np.uint8(np.sum(self.served.astype(np.int64) << np.arange(self.served.size)))
        self._pools = DistrictPools.of_offers(np.full(n, served, dtype=np.uint8), pop.will, WILL_FREE, pop.district,
                                              roster)

    # -- weekly ------------------------------------------------------------------------------
    def surface(self, slot: np.ndarray, category: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Return which new needs a reporter notices and reports this week (within their weekly reports)."""
        u = rng.random((2, slot.size))
        by_block = self._block_rep[self._block[slot]]
        rep = np.where(by_block >= 0, by_block, self._tied_rep[slot])
        noticed = (rep >= 0) & self.served[category] & (u[0] < self.cfg.notice_rate)
        reports = rng.poisson(self.cfg.reports_per_reporter_month * 12 / 52, self._reporters.size)
        idx = np.flatnonzero(noticed)
        if idx.size == 0:
            return noticed
        which = np.searchsorted(self._reporters, rep[idx])
        order = np.lexsort((u[1, idx], which))
        which = which[order]
        first = np.searchsorted(which, which)
        keep = (np.arange(idx.size) - first) < reports[which]
        out = np.zeros(slot.size, dtype=bool)
        out[idx[order][keep]] = True
        return out

    def candidates(self, slot: np.ndarray, category: np.ndarray, born: np.ndarray,
                   step: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Return candidate edges for routed needs: roster volunteers of the district (none without a roster)."""
        empty = np.zeros(0, dtype=np.int64)
        if self._roster_size == 0 or self._pools is None:
            return empty, empty, np.zeros(0)
        routed = np.flatnonzero(born <= step - self.cfg.routing_delay_weeks)
        rng = self.ctx.rng("candidates", step)
        need, helper = self._pools.draw(self.ctx.population.district[slot[routed]], category[routed],
                                        self.cfg.dispatch_candidates, rng)
        return routed[need], helper, np.full(need.size, self.cfg.dispatch_weight)

    def respond(self, slot: np.ndarray, category: np.ndarray, born: np.ndarray, step: int,
                rng: np.random.Generator) -> np.ndarray:
        """Return which routed, still open reports the office answers this week: oldest first, up to capacity."""
        pop = self.ctx.population
        capacity = stochastic_round(self.cfg.office_cases_per_1000 * int(np.count_nonzero(pop.alive[: pop.n])) / 1000,
                                    rng)
        u = rng.random(slot.size)
        routed = np.flatnonzero((born <= step - self.cfg.routing_delay_weeks) & self.served[category])
        out = np.zeros(slot.size, dtype=bool)
        out[routed[np.lexsort((u[routed], born[routed]))[:capacity]]] = True
        return out
