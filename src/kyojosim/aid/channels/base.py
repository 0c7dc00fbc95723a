"""The protocol of a channel, its context, the registry of channels, and random pools of helpers.

A channel decides which new needs it *surfaces* (makes known to possible helpers) and, for the
open needs it surfaced, proposes *candidate* helpers with a weight (:class:`Channel`); a channel
run by an office may also *respond* to open needs itself (the reporting hub's village sections). Every
channel class registers itself with :func:`register_channel`; :func:`build_channels` makes one of
each, in the order of registration (:mod:`kyojosim.aid.channels` imports the channel modules in
that order, the offline channel first). A channel sees the model only through its
:class:`AidContext`: the population, the ties, its own scenario section, the money ledger, the
clock, its own random streams and the other channels.
"""

from __future__ import annotations

from operator import attrgetter
from typing import TYPE_CHECKING, Any

import numpy as np

from ...core.network import TieBatch, Ties
from ...core.streams import declare_streams

if TYPE_CHECKING:
    from ...core.population import Population
    from ...params.scenario import Scenario
    from ..money import MoneyLedger
    from ..round import MutualAid
    from .local_sns import MeetingLog

STREAM_KINDS: tuple[str, ...] = ("surface", "candidates", "after", "yearly", "monthly", "respond", "traits")
"""The kinds of random stream every channel has: ``<kind>_<channel name>`` (see :meth:`AidContext.rng`).
``surface``, ``candidates``, ``after`` and ``respond`` are indexed by the step, ``monthly`` by the step in
which the month ends, ``yearly`` by the year; ``traits`` (index 0) keys what a channel draws once per
resident (:func:`uid_uniform`)."""


class AidContext:
    """What a channel may read and change of the model: everything it needs, and nothing else.

    Args:
        aid: The mutual aid of the model (which holds the channels).
        name: The channel's name; its random streams are ``<kind>_<name>``.
        cfg: The channel's own scenario section.
    """

    def __init__(self, aid: MutualAid, name: str, cfg: Any) -> None:
        self._aid = aid
        self.name = name
        self.cfg = cfg

    @property
    def population(self) -> Population:
        """The resident and household columns."""
        return self._aid.model.population

    @property
    def ties(self) -> Ties:
        """The network of ties."""
        return self._aid.model.ties

    @property
    def scenario(self) -> Scenario:
        """The whole scenario (for the sections shared by every channel: helping, network, ict)."""
        return self._aid.model.scenario

    @property
    def money(self) -> MoneyLedger:
        """The money ledger of the mutual aid."""
        return self._aid.money

    @property
    def meeting_log(self) -> MeetingLog:
        """The model's log of face-to-face meetings of online acquaintances (read by the simulated survey)."""
        return self._aid.model.meeting_log

    @property
    def need_probability(self) -> np.ndarray:
        """Each resident's weekly probability of a need, by category (``(n, categories)``; changes yearly)."""
        return self._aid.prob

    def has_need(self, categories: np.ndarray) -> np.ndarray:
        """Return which residents have a positive weekly probability of a need in any of ``categories`` (by slot).

        ``categories`` is a bool mask over the categories. What ``(need_probability[:, categories] > 0).any(axis=1)``
        gives, read from the residents' circumstance codes unless the probabilities have been read already.
        """
        return self._aid.need_probability.any_positive(categories)

    @property
    def weekly_hours(self) -> np.ndarray:
        """Each resident's weekly hours for helping, before their own needs (float64; changes yearly).

        :func:`~kyojosim.core.helping.weekly_hours`, computed once at the yearly refresh, before the channels'
        :meth:`Channel.refresh`.
        """
        return self._aid.hours

    @property
    def year(self) -> int:
        """The model's calendar year."""
        return int(self._aid.model.year)

    @property
    def step(self) -> int:
        """The model's step count (1 in the first week)."""
        return int(self._aid.model.steps)

    def rng(self, kind: str, index: int) -> np.random.Generator:
        """Return the channel's own stream ``<kind>_<name>`` at ``index`` (a step or a year).

        Args:
            kind: One of :data:`STREAM_KINDS`.
            index: The step (weekly and monthly streams), the year (``yearly``) or 0 (``traits``).
        """
        if kind not in STREAM_KINDS:
            raise KeyError(f"channel stream kind {kind!r}; allowed: {', '.join(STREAM_KINDS)}")
        return self._aid.model.streams.fresh(f"{kind}_{self.name}", index)

    def channel(self, name: str) -> Channel | None:
        """Return another channel of the model by name (``None`` if the model has none)."""
        return self._aid.channel(name)


class Channel:
    """The protocol every channel follows (the offline channel and the interventions).

    The weekly round (:class:`kyojosim.aid.round.MutualAid`) calls, for each channel that is
    :meth:`active`: :meth:`surface` on the week's new needs, :meth:`candidates` on the open needs it
    surfaced, :meth:`after_match` on the needs matched through it, and :meth:`respond` on the needs
    it surfaced that are still open after the matching. :meth:`refresh` runs at the start and after
    every turn of the year (the network and population changed); :meth:`yearly` runs at the turn of
    the year before it (adoption, registration and similar dynamics) and :meth:`monthly` in the week
    a calendar month ends. Each call that draws random numbers gets a stream of its own, so
    switching a channel on leaves every other channel's draws unchanged.

    Args:
        ctx: The channel's view of the model (:class:`AidContext`).
    """

    name = "channel"
    bit = 0
    trust_kind = "offline"
    """Which of the requester's trusts (offline or online) weighs this channel's candidates."""
    section: str | None = None
    """Dotted path of the channel's own scenario section (``ctx.cfg``), e.g. ``interventions.local_sns``."""

    def __init__(self, ctx: AidContext) -> None:
        self.ctx = ctx
        self.cfg = ctx.cfg

    def active(self) -> bool:
        """Whether the channel runs in the model's current year."""
        return True

    def release(self) -> None:
        """Let go of what :meth:`refresh` rebuilds, before any channel refreshes (last year's copy is freed first)."""

    def release_network(self) -> None:
        """Let go of last year's adjacency of the ties, before the channels' yearly passes (which may have it rebuilt).

        The rest of what :meth:`refresh` rebuilds is kept until :meth:`release`.
        """

    def refresh(self) -> None:
        """Rebuild what depends on the population and the network."""

    def yearly_ties(self, year: int, batch: TieBatch) -> None:
        """Add the ties the channel makes at the turn of ``year`` to ``batch``, the turn's new ties (none by default).

        The batch is merged into the network with the year's other new ties, in one pass, before the channels' yearly
        dynamics (:meth:`yearly`) read it; the ties are those an ``add`` at the start of :meth:`yearly` would make.
        """

    def yearly(self, year: int, rng: np.random.Generator) -> None:
        """Yearly dynamics of the channel (adoption, registration...), at the turn of ``year``."""

    def monthly(self, step: int, rng: np.random.Generator) -> None:
        """Dynamics of the channel within the year (registration, meetups), in the week a month ends."""

    def counts(self) -> dict[str, int]:
        """Return who takes part now: ``members``, ``certified`` and ``roster`` (0 where they do not apply).

        Recorded monthly in the ``channel_months`` table (:mod:`kyojosim.measures.outcomes`).
        """
        return {"members": 0, "certified": 0, "roster": 0}

    def surface(self, slot: np.ndarray, category: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Return which new needs (requester slots and categories) the channel makes known."""
        return np.zeros(slot.size, dtype=bool)

    def candidates(self, slot: np.ndarray, category: np.ndarray, born: np.ndarray,
                   step: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Return candidate edges ``(need_index, helper_slot, weight)`` for open needs it surfaced."""
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, np.zeros(0)

    def after_match(self, requester: np.ndarray, helper: np.ndarray, category: np.ndarray, hours: np.ndarray,
                    step: int, rng: np.random.Generator) -> None:
        """Effects of the help given through the channel this week (payments, new ties, trust)."""

    def respond(self, slot: np.ndarray, category: np.ndarray, born: np.ndarray, step: int,
                rng: np.random.Generator) -> np.ndarray:
        """Return which of the open needs it surfaced, unmatched this week, the channel meets itself.

        A need met this way has no resident helper (an office answered it): it counts as matched
        through the channel, uses no resident's hours and changes no tie or trust.
        """
        return np.zeros(slot.size, dtype=bool)


CHANNEL_TYPES: dict[str, type[Channel]] = {}
"""Every registered channel class by name, in the order of registration (the order of the weekly round)."""


def register_channel(cls: type[Channel]) -> type[Channel]:
    """Register a channel class (a class decorator) and declare its random streams.

    Raises:
        ValueError: If a channel of the same name is registered already.
    """
    if cls.name in CHANNEL_TYPES:
        raise ValueError(f"channel {cls.name!r} is registered twice ({CHANNEL_TYPES[cls.name].__qualname__} "
                         f"and {cls.__qualname__})")
    declare_streams(f"channel {cls.name!r}", *(f"{kind}_{cls.name}" for kind in STREAM_KINDS))
    CHANNEL_TYPES[cls.name] = cls
    return cls


class DistrictPools:
    """Eligible helpers grouped by (district, category), for drawing random candidates fast.

    Used by the channels that reach people one does not know (local SNS, sharing platform,
    reporting hub): each need gets every eligible helper of its district if there are at most
    ``k``, otherwise ``k`` draws with replacement among them, repeated ones dropped.

    Args:
        eligible: ``(n, categories)`` booleans: slot ``s`` may be a candidate for category ``c``.
        district: District of every slot.
        rows: The slots that may be eligible at all, ascending (the others' rows are all false), if known:
            only their rows are read.
    """

    def __init__(self, eligible: np.ndarray, district: np.ndarray, rows: np.ndarray | None = None) -> None:
        self.n = int(eligible.shape[0])
        self.n_cat = int(eligible.shape[1]) if eligible.ndim == 2 else 1
        self.n_districts = int(district.max()) + 1 if district.size else 1
        from .channel_kernel import pool_members

        rows = np.arange(self.n) if rows is None else np.asarray(rows, dtype=np.int64)
        matrix = eligible.reshape(self.n, self.n_cat)
        n_groups = self.n_districts * self.n_cat
        # a counting sort by group: the order of a stable sort of the eligible pairs (row-major) by group
        self.members, self.size = pool_members(np.ascontiguousarray(matrix), district, rows, n_groups)
        self.start = np.cumsum(self.size) - self.size

    @classmethod
    def of_offers(cls, offers: np.ndarray, will: np.ndarray, want: int, district: np.ndarray,
                  rows: np.ndarray) -> DistrictPools:
        """Return the pools of the helpers who offer a category and are willing, without a matrix of eligibility.

        The pools of ``DistrictPools(eligible, district, rows)`` for ``eligible[s, c]``: bit ``c`` of ``offers[s]``
        set and ``will[s, c] == want`` where ``s`` is in ``rows`` (ascending), false elsewhere.

        Args:
            offers: Each slot's bits of categories it offers (uint8).
            will: Each slot's willingness by category (slots x categories).
            want: The willingness a helper must have.
            district: District of every slot.
            rows: The slots that may be eligible, ascending.
        """
        from .channel_kernel import offer_pool_members

        pools = cls.__new__(cls)
        pools.n = int(will.shape[0])
        pools.n_cat = int(will.shape[1])
        pools.n_districts = int(district.max()) + 1 if district.size else 1
        pools.members, pools.size = offer_pool_members(offers, will, int(want), district,
                                                       np.asarray(rows, dtype=np.int64),
                                                       pools.n_districts * pools.n_cat)
        pools.start = np.cumsum(pools.size) - pools.size
        return pools

    def draw(self, district: np.ndarray, category: np.ndarray, k: int,
             rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """Return ``(need_index, helper_slot)``: up to ``k`` random pool members for each need."""
        g = district.astype(np.int64) * self.n_cat + category.astype(np.int64)
        inside = district.astype(np.int64) < self.n_districts
        size = np.where(inside, self.size[np.minimum(g, self.size.size - 1)], 0)
        start = np.where(inside, self.start[np.minimum(g, self.start.size - 1)], 0)
        big = size > k
        draw = np.sort(rng.integers(0, size[big][:, None], size=(int(big.sum()), k)), axis=1)
        from .channel_kernel import pool_candidates

        # the edges in one pass: the small pools whole, then each large pool's draws, repeats dropped
        return pool_candidates(size.astype(np.int64), start.astype(np.int64), self.members, int(k), draw)


def uid_uniform(uid: np.ndarray, key: int) -> np.ndarray:
    """Return a uniform number in [0, 1) for each resident uid, the same for a uid whenever asked.

    A fixed trait a channel gives each resident (e.g. the price at which a helper would offer)
    without a column of its own: the splitmix64 hash of ``uid + key``, ``key`` drawn once from the
    channel's ``traits`` stream. Slots change at the yearly compaction, uids never do.
    """
    from .channel_kernel import uid_uniforms

    uid = np.asarray(uid)
    if uid.dtype.kind not in "iu":
        uid = uid.astype(np.uint64)  # as numpy converts it
    return uid_uniforms(np.ascontiguousarray(uid).ravel(), np.uint64(key)).reshape(uid.shape)


def smallest(u: np.ndarray, k: int) -> np.ndarray:
    """Return ``np.argsort(u, kind="stable")[:k]``: the indices of the ``k`` smallest values, in that order.

    Found by a partition (linear in ``u``) rather than a sort; equal values at the boundary are taken in
    the order of their indices, as the stable sort takes them.
    """
    u = np.asarray(u)
    k = max(0, min(int(k), u.size))
    if k == 0:
        return np.zeros(0, dtype=np.intp)
    if k == u.size:
        return np.argsort(u, kind="stable")
    t = np.partition(u, k - 1)[k - 1]
    below = np.flatnonzero(u < t)
    sel = np.concatenate([below, np.flatnonzero(u == t)[: k - below.size]])
    return sel[np.lexsort((sel, u[sel]))]


def stochastic_round(x: float, rng: np.random.Generator) -> int:
    """Return ``floor(x)``, plus one with probability ``x - floor(x)`` (a count whose mean is ``x``)."""
    whole = int(np.floor(x))
    return whole + int(rng.random() < x - whole)


def build_channels(aid: MutualAid) -> list[Channel]:
    """Return one channel of every registered kind for ``aid``, in the order of registration (offline first).

    Each gets an :class:`AidContext` with its own scenario section. Intervention channels are listed
    whether or not they are enabled; each one's :meth:`Channel.active` says whether it runs in a
    given year.
    """
    scn = aid.model.scenario
    return [cls(AidContext(aid, name, attrgetter(cls.section)(scn) if cls.section else None))
            for name, cls in CHANNEL_TYPES.items()]

