"""The local SNS channel (the Koto ward + PIAZZA case) and offline meetups of online acquaintances.

:class:`LocalSNSChannel` (``interventions.local_sns``) is a mutual-aid channel of 図表4-3-4-1:

* **Adoption** (yearly, at the turn into a year in which the SNS runs): a smartphone user who uses
  social media and is not on the local SNS yet joins with probability
  ``adoption_rate × sns_rate[age band] / max(sns_rate) × (1 + peer_effect × s) × campaign[year]``
  (capped at 1), where ``s`` is the share of the resident's ties (of any kind) already on it.
  Joining sets ``ONLINE_BIT["local_sns"]`` in the ``online`` column. The year is the one that
  begins, so an SNS starting in 2018 has its first adopters from the first week of 2018. The model
  has no turn of year at its very start: a scenario whose SNS runs from the model's first year has
  no adopters that year unless ``communities.local_sns_share`` gives it some.
* **Offline meetings** (yearly, for the year that ends if the SNS ran in it): each online-only tie
  (kind exactly ``TIE_ONLINE``) between two adopters meets face to face with probability
  ``meet_rate``; see :func:`meet_face_to_face` for what a meeting changes.
* **Surfacing**: a new need is posted when its requester is an adopter who would use a platform
  for that category (bit of ``platform_need``, 図表4-3-4-2). No random draw.
* **Candidates**: other adopters of the requester's district who would offer help with the
  category on a platform (bit of ``platform_help``, 図表4-3-4-3), are willing to help with it
  free (paid help goes through the sharing platform) and have some weekly time (not a child or
  frail). A district of Koto holds tens of thousands of residents, so each open need gets at
  most ``max_candidates`` of them, drawn at random each week (stream ``candidates_local_sns`` of
  the step; duplicates of the draw are dropped, so a need may get a few fewer). Weight rule: the
  strength of the existing tie between requester and helper (any kind) if they are tied, else
  ``weak_tie_strength × stranger_factor`` (a stranger: by default half the strength of the weak
  tie that helping creates).
  Offline ties (household 1.0, neighbour 0.4, community 0.5 by default) therefore outrank strangers
  met on the SNS (0.1), who outrank nobody.
* **After a match**: requester and helper who were not tied get a weak online tie
  (``TIE_ONLINE``, ``weak_tie_strength``; Granovetter 1973). The channels read the network only at
  :meth:`refresh`, after each turn of the year, so ties made during a year are used (by this and
  the offline channel, once they meet) from the next year on.
* **Community Value** (the PIAZZA KPI): posts and replies are logged (:class:`ActivityLog`)
  and the model records the month's Community Value in the week each calendar month ends
  (:mod:`kyojosim.measures.community_value`).
* **Awareness**: while the SNS runs, municipal information pushed through it (Koto's ward
  information and child-rearing portal) raises each adopter's offline asking rate by
  ``awareness_boost`` (:attr:`kyojosim.aid.channels.offline.OfflineChannel.ask_boost`, reached through
  ``ctx.channel("offline")``).

:class:`OfflineEventsProgramme` (``interventions.offline_events``) holds meetups that turn online
ties into face-to-face ones; it surfaces no need and proposes no helper.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp

from ...constants import CH, TIE_COMMUNITY, TIE_ONLINE, WILL_FREE, age_band
from ...core.communities import ONLINE_BIT
from ...core.network import Ties, pair_strengths
from ...core.population import Population
from .base import AidContext, Channel, DistrictPools, register_channel
from .offline import OFFLINE_TIES

if TYPE_CHECKING:
    from ...params.scenario import Trust

LOCAL_SNS_BIT = ONLINE_BIT["local_sns"]

MEETING_SHARES = np.array([9.2, 44.2, 44.2, 1.9, 0.5]) / 100.0
"""Trust after meeting in person someone known through social media (MIC White Paper 2018,
図表4-3-2-4, trust_change_after_meeting.csv, n=208): much higher, somewhat higher, unchanged,
somewhat lower, much lower. A published table, kept as a constant; how much each outcome changes
the tie is the assumption ``trust.meeting_tie_change``."""

FACE_TO_FACE = TIE_COMMUNITY
"""The kind bit a meeting adds to an online-only tie. The model has no separate kind for people
who know each other in person; the community bit (people who meet in a real-world setting) is
the closest, and it is what the offline channel asks through. ``TIE_NEIGHBOUR`` stays reserved
for residents of the same block, which two SNS users need not be."""


class MeetingLog:
    """Face-to-face meetings of online acquaintances, one row per meeting in the order they happened.

    The model holds one (``model.meeting_log``); the local SNS and the offline events append to it,
    and the simulated survey reads it for the question on trust after meeting in person
    (:mod:`kyojosim.measures.survey`, 図表4-3-2-4) as a mapping of equal-length int64 columns ``uid_a``,
    ``uid_b`` and ``outcome`` (index into :data:`MEETING_SHARES`).
    """

    COLUMNS = ("uid_a", "uid_b", "outcome")

    def __init__(self) -> None:
        self._parts: dict[str, list[np.ndarray]] = {k: [] for k in self.COLUMNS}

    def append(self, uid_a: np.ndarray, uid_b: np.ndarray, outcome: np.ndarray) -> None:
        """Append meetings: the uids of the two ends of each and its outcome."""
        for key, values in zip(self.COLUMNS, (uid_a, uid_b, outcome), strict=True):
            self._parts[key].append(np.asarray(values, dtype=np.int64))

    def __getitem__(self, column: str) -> np.ndarray:
        parts = self._parts[column]
        if len(parts) > 1:  # joined once, when read
            self._parts[column] = parts = [np.concatenate(parts)]
        return parts[0] if parts else np.zeros(0, dtype=np.int64)

    def __len__(self) -> int:
        return int(sum(p.size for p in self._parts["outcome"]))


def log_meetings(log: MeetingLog, pop: Population, ties: Ties, idx: np.ndarray, outcome: np.ndarray) -> None:
    """Append the meetings of ties ``idx`` (slots in ``pop``) and their outcomes to ``log``."""
    uid = pop.uid
    a, b, _, _ = ties.view()
    log.append(uid[a[idx]], uid[b[idx]], outcome)


def meet_face_to_face(ties: Ties, idx: np.ndarray, rng: np.random.Generator, trust: Trust) -> np.ndarray:
    """Let the ties ``idx`` meet in person: change their strength as 図表4-3-2-4 and mark them face to face.

    Each tie draws one outcome of :data:`MEETING_SHARES`; its strength changes by the outcome's
    entry of ``trust.meeting_tie_change`` (kept within ``[trust.meeting_min_strength, 1]``) and it
    gains the :data:`FACE_TO_FACE` kind bit, whatever the outcome (the two now know each other in
    person). The strength and kind columns are changed in place (pairs and order are unchanged;
    :meth:`~kyojosim.core.network.Ties.update`, which keeps the adjacency of the ties current).

    Args:
        ties: The network.
        idx: Indices of the ties that meet.
        rng: The stream of the meetings.
        trust: The scenario's ``trust`` section.

    Returns:
        The outcome index (0..4) of each tie of ``idx``.
    """
    idx = np.asarray(idx, dtype=np.int64)
    outcome = rng.choice(MEETING_SHARES.size, size=idx.size, p=MEETING_SHARES)
    if idx.size:
        strength = ties.view()[3]
        change = np.asarray(trust.meeting_tie_change, dtype=np.float64)
        ties.update(idx, np.clip(strength[idx] + change[outcome], trust.meeting_min_strength, 1.0), FACE_TO_FACE)
    return outcome


def meet_at_events(a: np.ndarray, b: np.ndarray, n_events: int, attendance: float,
                   rng: np.random.Generator) -> np.ndarray:
    """Return which pairs ``(a[i], b[i])`` attend one of ``n_events`` meetups together.

    Each resident attends each meetup with probability ``attendance``, independently. Only the
    residents at an end of a pair are drawn (in ascending slot order, meetup by meetup): the others'
    attendance changes nothing.
    """
    met = np.zeros(a.size, dtype=bool)
    if a.size == 0:
        return met
    from .local_sns_kernel import ends_of_pairs, mark_attendance, met_at_marked

    # the ends in ascending slot order (np.unique's numbering, without a sort); each meetup's attendance is a bit
    # of a byte per slot, and the pairs are read once for up to eight meetups
    size = int(max(a.max(), b.max())) + 1
    ends = ends_of_pairs(a, b, size)
    attend = np.zeros(size, dtype=np.uint8)
    for event in range(n_events):
        mark_attendance(ends, rng.random(ends.size), attendance, 1 << (event % 8), attend)
        if event % 8 == 7 or event == n_events - 1:
            met_at_marked(a, b, attend, met)
            attend[:] = 0
    return met


def _adopters(pop: Population) -> np.ndarray:
    return pop.alive[: pop.n] & ((pop.online & LOCAL_SNS_BIT) > 0)


def _lookup(adj: sp.csr_matrix, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Return the strengths of the pairs ``(a, b)`` in ``adj`` (0 where they are not tied)."""
    return pair_strengths(adj, a, b)


class ActivityLog:
    """What adopters did on the local SNS since the last monthly record (residents' ``uid``)."""

    def __init__(self) -> None:
        self.posters: list[np.ndarray] = []
        self.repliers: list[np.ndarray] = []

    def posted(self, uids: np.ndarray) -> None:
        """Record needs posted (one entry per post)."""
        if uids.size:
            self.posters.append(np.asarray(uids, dtype=np.int64))

    def replied(self, uids: np.ndarray) -> None:
        """Record helpers' answers to matched needs (one entry per reply)."""
        if uids.size:
            self.repliers.append(np.asarray(uids, dtype=np.int64))

    def take(self, pop: Population) -> tuple[np.ndarray, np.ndarray]:
        """Return the month's need posts and replies per slot of ``pop`` (living residents), and clear the log."""
        return tuple(np.bincount(slots, minlength=pop.n).astype(np.int64) for slots in self.take_slots(pop))

    def take_slots(self, pop: Population) -> tuple[np.ndarray, np.ndarray]:
        """Return the slots of the month's need posts and replies (one entry each, living), and clear the log."""
        out = []
        for entries in (self.posters, self.repliers):
            uids = np.concatenate(entries) if entries else np.zeros(0, dtype=np.int64)
            slots = pop.slots_of(uids)
            out.append(slots[slots >= 0].astype(np.int64))
        self.posters, self.repliers = [], []
        return out[0], out[1]


@register_channel
class LocalSNSChannel(Channel):
    """A local SNS (PIAZZA-like): adopters post needs and offers seen by adopters of their district.

    Its section is ``interventions.local_sns``. It raises the asking rate of adopters on the offline
    channel (``ctx.channel("offline").ask_boost``) while it runs.
    """

    name = "local_sns"
    bit = 1 << CH["local_sns"]
    trust_kind = "online"
    section = "interventions.local_sns"

    def __init__(self, ctx: AidContext) -> None:
        super().__init__(ctx)
        self.adopters: np.ndarray = np.zeros(0, dtype=bool)
        self._adj: sp.csr_matrix | None = None
        self._pools: DistrictPools | None = None
        self._boosting = False
        self.activity = ActivityLog()

    def active(self) -> bool:
        """Whether the SNS runs in the model's current year."""
        return self.cfg.active(self.ctx.year)

    # -- yearly ------------------------------------------------------------------------
    def yearly(self, year: int, rng: np.random.Generator) -> None:
        """Meetings of the year that ends (if the SNS ran in it), then adoption for the year that begins."""
        if self.cfg.active(year):
            self.meet(rng)
        if self.cfg.active(year + 1):
            self.adopt(year + 1, rng)

    def adopt(self, year: int, rng: np.random.Generator) -> np.ndarray:
        """Let social-media users join the SNS (see the module docstring); return the new adopters' slots."""
        cfg, pop = self.cfg, self.ctx.population
        n = pop.n
        on = _adopters(pop)
        live = pop.alive[:n]
        eligible = np.flatnonzero(live & pop.smartphone & pop.sns & ~on)
        if eligible.size == 0:
            return eligible
        sns_rate = np.asarray(self.ctx.scenario.ict.sns_rate, dtype=np.float64)
        top = sns_rate.max()
        rel = sns_rate[age_band(pop.age[eligible])] / top if top > 0 else np.zeros(eligible.size)
        # each eligible's ties and ties to adopters, counted while the adjacency of the ties is built (here, once for
        # the ties of the new year: the refresh takes it, with the offline degrees counted for it)
        ties = self.ctx.ties
        ties.neighbourhood(n, count=OFFLINE_TIES, mark=on)
        degree, peers = ties.marked_degree(n, on, eligible)
        share = np.divide(peers, degree, out=np.zeros(eligible.size), where=degree > 0)
        p = cfg.adoption_rate * rel * (1.0 + cfg.peer_effect * share) * cfg.campaign.get(year, 1.0)
        new = eligible[rng.random(eligible.size) < np.minimum(p, 1.0)]
        pop.online[new] |= LOCAL_SNS_BIT
        return new

    def meet(self, rng: np.random.Generator) -> np.ndarray:
        """Online-only ties between two adopters meet in person with probability ``meet_rate``.

        Returns:
            The indices of the ties that met.
        """
        pop, ties = self.ctx.population, self.ctx.ties
        from .local_sns_kernel import online_only_between

        # the online-only ties between two adopters, in one pass over the ties
        a, b, kind, _ = ties.view()
        idx = online_only_between(a, b, kind, TIE_ONLINE, _adopters(pop), pop.district, False)
        idx = idx[rng.random(idx.size) < self.cfg.meet_rate]
        log_meetings(self.ctx.meeting_log, pop, ties, idx, meet_face_to_face(ties, idx, rng, self.ctx.scenario.trust))
        return idx

    # -- refresh -----------------------------------------------------------------------
    def release(self) -> None:
        """Let go of last year's adjacency (shared with the network, which rebuilds it at the refresh)."""
        self._adj = None

    def release_network(self) -> None:
        """Let go of last year's adjacency (before the yearly pass, whose adoption has this year's built)."""
        self.release()

    def refresh(self) -> None:
        """Cache adopters, the network (for tie strengths) and the eligible helpers by category and district."""
        pop = self.ctx.population
        offline = self.ctx.channel("offline")
        if not self.cfg.active(self.ctx.year):
            self.adopters = np.zeros(pop.n, dtype=bool)
            self._adj = None
            if self._boosting and offline is not None:
                offline.ask_boost = None
            self._boosting = False
            return
        n = pop.n
        self.adopters = on = _adopters(pop)
        self._adj = self.ctx.ties.adjacency(n)
        can = np.flatnonzero(on & (self.ctx.weekly_hours > 0))
        # eligible: adopters with time who offer the category on a platform and would help free (only their rows
        # are read, no matrix of eligibility is made)
        self._pools = DistrictPools.of_offers(pop.platform_help, pop.will, WILL_FREE, pop.district, can)
        if offline is not None:
            offline.ask_boost = np.where(on, self.cfg.awareness_boost, 0.0)
            self._boosting = True

    # -- weekly ------------------------------------------------------------------------
    def surface(self, slot: np.ndarray, category: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Return which new needs are posted: an adopter who would use a platform for that category."""
        pop = self.ctx.population
        need_bits = pop.platform_need[slot].astype(np.int64)
        posted = self.adopters[slot] & (((need_bits >> category) & 1) > 0)
        self.activity.posted(pop.uid[slot[posted]])
        return posted

    def candidates(self, slot: np.ndarray, category: np.ndarray, born: np.ndarray,
                   step: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Return up to ``max_candidates`` adopters of the requester's district per need (see the module doc).

        Returns:
            ``(need_index, helper_slot, weight)`` arrays, need_index into the given needs.
        """
        empty = np.zeros(0, dtype=np.int64)
        if slot.size == 0 or self._adj is None or self._pools is None:
            return empty, empty, np.zeros(0)
        rng = self.ctx.rng("candidates", step)
        need, helper = self._pools.draw(self.ctx.population.district[slot], category, self.cfg.max_candidates, rng)
        strength = _lookup(self._adj, slot[need], helper)
        stranger = max(self.cfg.weak_tie_strength * self.cfg.stranger_factor, 1e-6)
        weight = np.where(strength > 0, strength, stranger)
        return need, helper, weight

    def after_match(self, requester: np.ndarray, helper: np.ndarray, category: np.ndarray, hours: np.ndarray,
                    step: int, rng: np.random.Generator) -> None:
        """Tie requester and helper who were not tied (as of the last refresh) with a weak online tie."""
        if self._adj is None or requester.size == 0:
            return
        self.activity.replied(self.ctx.population.uid[helper])
        untied = _lookup(self._adj, requester, helper) == 0
        if untied.any():
            self.ctx.ties.add(requester[untied], helper[untied], TIE_ONLINE, self.cfg.weak_tie_strength)


@register_channel
class OfflineEventsProgramme(Channel):
    """Meetups for online participants (``interventions.offline_events``): online ties meet in person.

    Each year the programme runs, ``events_per_year`` meetups are held in every district (a
    fractional part is one more meetup with that probability). Each resident who takes part in an
    online community (any bit of ``online``) attends a given meetup with probability
    ``attendance``, so about ``events_per_year × attendance`` meetups a year each. An online-only
    tie whose two ends live in the same district and attend the same meetup meets face to face
    (:func:`meet_face_to_face`), once a year at most. Applied at the turn of the year, for the year
    that ends. The programme surfaces no need and proposes no helper.
    """

    name = "offline_events"
    bit = 0
    section = "interventions.offline_events"

    def active(self) -> bool:
        """Whether the programme runs in the model's current year."""
        return self.cfg.active(self.ctx.year)

    def yearly(self, year: int, rng: np.random.Generator) -> None:
        """Hold the meetups of the year that ends (if the programme ran in it)."""
        if self.cfg.active(year):
            self.hold_meetups(rng)

    def hold_meetups(self, rng: np.random.Generator) -> np.ndarray:
        """Hold a year's meetups; return the indices of the ties that met."""
        pop, ties = self.ctx.population, self.ctx.ties
        from .local_sns_kernel import online_only_between

        # the online-only ties between two online participants of one district, in one pass over the ties
        online = pop.alive[: pop.n] & (pop.online > 0)
        a, b, kind, _ = ties.view()
        idx = online_only_between(a, b, kind, TIE_ONLINE, online, pop.district, True)
        e = self.cfg.events_per_year
        n_events = int(e) + int(rng.random() < e - int(e))
        idx = idx[meet_at_events(a[idx], b[idx], n_events, self.cfg.attendance, rng)]
        log_meetings(self.ctx.meeting_log, pop, ties, idx, meet_face_to_face(ties, idx, rng, self.ctx.scenario.trust))
        return idx
