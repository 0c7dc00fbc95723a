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
  most ``MAX_CANDIDATES`` of them, drawn at random each week (stream ``candidates_local_sns`` of
  the step; duplicates of the draw are dropped, so a need may get a few fewer). Weight rule: the
  strength of the existing tie between requester and helper (any kind) if they are tied, else
  ``weak_tie_strength × 0.5`` (a stranger: half the strength of the weak tie that helping creates).
  Offline ties (household 1.0, neighbour 0.4, community 0.5 by default) therefore outrank strangers
  met on the SNS (0.1), who outrank nobody.
* **After a match**: requester and helper who were not tied get a weak online tie
  (``TIE_ONLINE``, ``weak_tie_strength``; Granovetter 1973). The channels read the network only at
  :meth:`refresh`, after each turn of the year, so ties made during a year are used (by this and
  the offline channel, once they meet) from the next year on.
* **Community Value** (the PIAZZA KPI): posts and replies are logged (:class:`~kyojosim.community_value.ActivityLog`)
  and the model records the month's Community Value in the week each calendar month ends
  (:mod:`kyojosim.community_value`).
* **Awareness**: while the SNS runs, municipal information pushed through it (Koto's ward
  information and child-rearing portal) raises each adopter's offline asking rate by
  ``awareness_boost`` (:attr:`kyojosim.channels.OfflineChannel.ask_boost`).

:class:`OfflineEventsProgramme` (``interventions.offline_events``) holds meetups that turn online
ties into face-to-face ones; it surfaces no need and proposes no helper.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp

from .channels import Channel, DistrictPools, OfflineChannel
from .communities import ONLINE_BIT
from .community_value import ActivityLog
from .constants import CH, TIE_COMMUNITY, TIE_ONLINE, WILL_FREE, age_band
from .helping import weekly_hours
from .network import Ties
from .population import N_CATEGORIES

if TYPE_CHECKING:
    from .model import KyojoModel
    from .scenario import LocalSNS, OfflineEvents

LOCAL_SNS_BIT = ONLINE_BIT["local_sns"]

MAX_CANDIDATES = 20
"""assumption: an open need is shown to at most 20 eligible adopters of its district a week."""

MEETING_SHARES = np.array([9.2, 44.2, 44.2, 1.9, 0.5]) / 100.0
"""Trust after meeting in person someone known through social media (MIC White Paper 2018,
図表4-3-2-4, trust_change_after_meeting.csv, n=208): much higher, somewhat higher, unchanged,
somewhat lower, much lower."""

MEETING_DELTAS = np.array([0.2, 0.1, 0.0, -0.05, -0.1])
"""assumption: the change of the tie's strength for each outcome of :data:`MEETING_SHARES`."""

MIN_STRENGTH = 0.01
"""assumption: a tie that met keeps at least this strength (matching needs weights > 0)."""

FACE_TO_FACE = TIE_COMMUNITY
"""The kind bit a meeting adds to an online-only tie. The model has no separate kind for people
who know each other in person; the community bit (people who meet in a real-world setting) is
the closest, and it is what the offline channel asks through. ``TIE_NEIGHBOUR`` stays reserved
for residents of the same block, which two SNS users need not be."""


def log_meetings(model: KyojoModel, idx: np.ndarray, outcome: np.ndarray) -> None:
    """Append the meetings of ties ``idx`` and their outcomes to ``model.meeting_log``.

    The log (a dict of equal-length arrays ``uid_a``, ``uid_b``, ``outcome``, one row per meeting in
    the order they happened) is what the simulated survey reads for the question on trust after
    meeting in person (:mod:`kyojosim.survey`, 図表4-3-2-4).
    """
    log = model.__dict__.setdefault("meeting_log", {k: np.zeros(0, dtype=np.int64) for k in ("uid_a", "uid_b",
                                                                                             "outcome")})
    uid = model.population.uid
    for key, values in (("uid_a", uid[model.ties.a[idx]]), ("uid_b", uid[model.ties.b[idx]]), ("outcome", outcome)):
        log[key] = np.concatenate([log[key], np.asarray(values, dtype=np.int64)])


def meet_face_to_face(ties: Ties, idx: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Let the ties ``idx`` meet in person: change their strength as 図表4-3-2-4 and mark them face to face.

    Each tie draws one outcome of :data:`MEETING_SHARES`; its strength changes by the outcome's
    :data:`MEETING_DELTAS` (kept within ``[MIN_STRENGTH, 1]``) and it gains the :data:`FACE_TO_FACE`
    kind bit, whatever the outcome (the two now know each other in person). The tie arrays are
    replaced by modified copies (pairs and order are unchanged).

    Returns:
        The outcome index (0..4) of each tie of ``idx``.
    """
    idx = np.asarray(idx, dtype=np.int64)
    outcome = rng.choice(MEETING_SHARES.size, size=idx.size, p=MEETING_SHARES)
    if idx.size:
        strength = ties.strength.copy()
        kind = ties.kind.copy()
        strength[idx] = np.clip(strength[idx] + MEETING_DELTAS[outcome], MIN_STRENGTH, 1.0)
        kind[idx] |= FACE_TO_FACE
        ties.strength, ties.kind = strength, kind
    return outcome


def _online_only(ties: Ties) -> np.ndarray:
    """Return the indices of ties whose only kind is ``TIE_ONLINE``."""
    return np.flatnonzero(ties.kind == TIE_ONLINE)


def _adopters(model: KyojoModel) -> np.ndarray:
    pop = model.population
    return pop.alive[: pop.n] & ((pop.online & LOCAL_SNS_BIT) > 0)


def _lookup(adj: sp.csr_matrix, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Return the strengths of the pairs ``(a, b)`` in ``adj`` (0 where they are not tied)."""
    if a.size == 0:
        return np.zeros(0)
    return np.asarray(adj[a, b], dtype=np.float64).ravel()


class LocalSNSChannel(Channel):
    """A local SNS (PIAZZA-like): adopters post needs and offers seen by adopters of their district.

    Args:
        cfg: The scenario's ``interventions.local_sns`` section.
        offline: The offline channel whose asking rate the SNS raises for adopters.
    """

    name = "local_sns"
    bit = 1 << CH["local_sns"]
    trust_kind = "online"

    def __init__(self, cfg: LocalSNS, offline: OfflineChannel | None = None) -> None:
        self.cfg = cfg
        self.offline = offline
        self.adopters: np.ndarray = np.zeros(0, dtype=bool)
        self._adj: sp.csr_matrix | None = None
        self._pools: DistrictPools | None = None
        self._boosting = False
        self.activity = ActivityLog()

    def active(self, model: KyojoModel) -> bool:
        """Whether the SNS runs in the model's current year."""
        return self.cfg.active(model.year)

    # -- yearly ------------------------------------------------------------------------
    def yearly(self, model: KyojoModel, year: int, rng: np.random.Generator) -> None:
        """Meetings of the year that ends (if the SNS ran in it), then adoption for the year that begins."""
        if self.cfg.active(year):
            self.meet(model, rng)
        if self.cfg.active(year + 1):
            self.adopt(model, year + 1, rng)

    def adopt(self, model: KyojoModel, year: int, rng: np.random.Generator) -> np.ndarray:
        """Let social-media users join the SNS (see the module docstring); return the new adopters' slots."""
        cfg, pop = self.cfg, model.population
        n = pop.n
        on = _adopters(model)
        live = pop.alive[:n]
        eligible = np.flatnonzero(live & pop.smartphone & pop.sns & ~on)
        if eligible.size == 0:
            return eligible
        sns_rate = np.asarray(model.scenario.ict.sns_rate, dtype=np.float64)
        top = sns_rate.max()
        rel = sns_rate[age_band(pop.age[eligible])] / top if top > 0 else np.zeros(eligible.size)
        adj = model.ties.adjacency(n)
        adj.data[:] = 1.0
        degree = np.diff(adj.indptr)[eligible]
        peers = (adj @ on.astype(np.float64))[eligible]
        share = np.divide(peers, degree, out=np.zeros(eligible.size), where=degree > 0)
        p = cfg.adoption_rate * rel * (1.0 + cfg.peer_effect * share) * cfg.campaign.get(year, 1.0)
        new = eligible[rng.random(eligible.size) < np.minimum(p, 1.0)]
        pop.cols["online"][new] |= LOCAL_SNS_BIT
        return new

    def meet(self, model: KyojoModel, rng: np.random.Generator) -> np.ndarray:
        """Online-only ties between two adopters meet in person with probability ``meet_rate``.

        Returns:
            The indices of the ties that met.
        """
        ties = model.ties
        on = _adopters(model)
        idx = _online_only(ties)
        idx = idx[on[ties.a[idx]] & on[ties.b[idx]]]
        idx = idx[rng.random(idx.size) < self.cfg.meet_rate]
        log_meetings(model, idx, meet_face_to_face(ties, idx, rng))
        return idx

    # -- refresh -----------------------------------------------------------------------
    def refresh(self, model: KyojoModel) -> None:
        """Cache adopters, the network (for tie strengths) and the eligible helpers by category and district."""
        if not self.cfg.active(model.year):
            self.adopters = np.zeros(model.population.n, dtype=bool)
            self._adj = None
            if self._boosting and self.offline is not None:
                self.offline.ask_boost = None
            self._boosting = False
            return
        pop = model.population
        n = pop.n
        self.adopters = on = _adopters(model)
        self._adj = model.ties.adjacency(n)
        can = on & (weekly_hours(pop, model.scenario) > 0)
        offers = ((pop.platform_help[:, None].astype(np.int64) >> np.arange(N_CATEGORIES)) & 1) > 0
        self._pools = DistrictPools(can[:, None] & offers & (pop.will == WILL_FREE), pop.district)
        if self.offline is not None:
            self.offline.ask_boost = np.where(on, self.cfg.awareness_boost, 0.0)
            self._boosting = True

    # -- weekly ------------------------------------------------------------------------
    def surface(self, model: KyojoModel, slot: np.ndarray, category: np.ndarray,
                rng: np.random.Generator) -> np.ndarray:
        """Return which new needs are posted: an adopter who would use a platform for that category."""
        need_bits = model.population.platform_need[slot].astype(np.int64)
        posted = self.adopters[slot] & (((need_bits >> category) & 1) > 0)
        self.activity.posted(model.population.uid[slot[posted]])
        return posted

    def candidates(self, model: KyojoModel, slot: np.ndarray, category: np.ndarray, born: np.ndarray,
                   step: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Return up to ``MAX_CANDIDATES`` adopters of the requester's district per need (see the module doc).

        Returns:
            ``(need_index, helper_slot, weight)`` arrays, need_index into the given needs.
        """
        empty = np.zeros(0, dtype=np.int64)
        if slot.size == 0 or self._adj is None or self._pools is None:
            return empty, empty, np.zeros(0)
        rng = model.streams.fresh("candidates_local_sns", step)
        need, helper = self._pools.draw(model.population.district[slot], category, MAX_CANDIDATES, rng)
        strength = _lookup(self._adj, slot[need], helper)
        stranger = max(self.cfg.weak_tie_strength * 0.5, 1e-6)
        weight = np.where(strength > 0, strength, stranger)
        return need, helper, weight

    def after_match(self, model: KyojoModel, requester: np.ndarray, helper: np.ndarray, category: np.ndarray,
                    hours: np.ndarray, step: int, rng: np.random.Generator) -> None:
        """Tie requester and helper who were not tied (as of the last refresh) with a weak online tie."""
        if self._adj is None or requester.size == 0:
            return
        self.activity.replied(model.population.uid[helper])
        untied = _lookup(self._adj, requester, helper) == 0
        if untied.any():
            model.ties.add(requester[untied], helper[untied], TIE_ONLINE, self.cfg.weak_tie_strength)


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

    def __init__(self, cfg: OfflineEvents) -> None:
        self.cfg = cfg

    def active(self, model: KyojoModel) -> bool:
        """Whether the programme runs in the model's current year."""
        return self.cfg.active(model.year)

    def yearly(self, model: KyojoModel, year: int, rng: np.random.Generator) -> None:
        """Hold the meetups of the year that ends (if the programme ran in it)."""
        if self.cfg.active(year):
            self.hold_meetups(model, rng)

    def hold_meetups(self, model: KyojoModel, rng: np.random.Generator) -> np.ndarray:
        """Hold a year's meetups; return the indices of the ties that met."""
        pop, ties = model.population, model.ties
        online = pop.alive[: pop.n] & (pop.online > 0)
        idx = _online_only(ties)
        a, b = ties.a[idx], ties.b[idx]
        idx = idx[online[a] & online[b] & (pop.district[a] == pop.district[b])]
        e = self.cfg.events_per_year
        n_events = int(e) + int(rng.random() < e - int(e))
        met = np.zeros(idx.size, dtype=bool)
        for _ in range(n_events):
            attend = rng.random(pop.n) < self.cfg.attendance
            met |= attend[ties.a[idx]] & attend[ties.b[idx]]
        idx = idx[met]
        log_meetings(model, idx, meet_face_to_face(ties, idx, rng))
        return idx
