"""The offline channel: asking people one knows, face to face (always on).

A resident asks only people they know (household, neighbours, co-members of real-world
communities) and some never ask at all (older residents reluctant to bother others, and anyone
with no one to ask), so many needs stay unsurfaced (吸い上げられない困りごと).
"""

from __future__ import annotations

import numpy as np

from ...constants import CH, TIE_COMMUNITY, TIE_HOUSEHOLD, TIE_NEIGHBOUR, WILL_FREE
from ...core.network import Neighbourhood
from .base import AidContext, Channel, register_channel

OFFLINE_TIES = TIE_HOUSEHOLD | TIE_NEIGHBOUR | TIE_COMMUNITY
"""The ties a resident asks through: household, neighbours and co-members of real-world communities."""


@register_channel
class OfflineChannel(Channel):
    """Asking people one knows, face to face (always on; its section is ``helping``)."""

    name = "offline"
    bit = 1 << CH["offline"]
    section = "helping"

    def __init__(self, ctx: AidContext) -> None:
        super().__init__(ctx)
        self._nb: Neighbourhood | None = None
        self._free: tuple | None = None  # (adjacency, willingness array, slots) and the bytes of willing_free
        self._last: tuple | None = None  # the bytes, the needs and the edges of the last call of candidates
        self.ask_boost: np.ndarray | None = None
        """Extra asking rate by slot, set by other channels (the local SNS raises it for its adopters)."""

    def release(self) -> None:
        """Let go of last year's adjacency (shared with the network, which rebuilds it), degrees and what was read."""
        self._nb = self._degree = self._free = self._last = None

    def release_network(self) -> None:
        """Let go of last year's adjacency and all read with it (the channel has no yearly pass)."""
        self.release()

    def refresh(self) -> None:
        """Take the network's adjacency (shared by the channels) and whether each resident has an offline tie.

        Whether, a byte per slot, from the numbers of offline ties of the adjacency just taken (counted while it is
        built, when it is): the weekly surfacing reads only that, from an eighth of the memory of the numbers.
        """
        n = self.ctx.population.n
        self._nb = self.ctx.ties.neighbourhood(n, count=OFFLINE_TIES)
        self._degree = (self.ctx.ties.degree(n, OFFLINE_TIES) > 0).view(np.uint8)

    def surface(self, slot: np.ndarray, category: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Return which new needs (by requester slot) the requester asks someone about.

        A resident asks with probability ``ask_rate_under65`` or ``ask_rate_65plus``, and only if
        they have at least one offline tie. Other channels may raise the rate of some residents
        (``ask_boost``, by slot; e.g. municipal information pushed through a local SNS); the
        resident's wish to ask (``ask_factor``, lowered by help that never came) multiplies it.
        """
        from .channel_kernel import ask_offline

        h = self.cfg
        pop = self.ctx.population
        slot = np.asarray(slot, dtype=np.int64)
        boost = np.zeros(0) if self.ask_boost is None else np.asarray(self.ask_boost, dtype=np.float64)
        # one pass over the needs, the arithmetic of: rate by age, np.minimum(rate + boost, 1.0), * ask_factor
        return ask_offline(slot, pop.age, boost, pop.ask_factor, self._degree, rng.random(slot.size),
                           float(h.ask_rate_65plus), float(h.ask_rate_under65))

    def candidates(self, slot: np.ndarray, category: np.ndarray, born: np.ndarray,
                   step: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Return candidate edges for needs: the requester's offline ties willing to help free.

        A need is given by its requester's ``slot`` and its ``category``; candidates are weighted by
        tie strength. The edges of ``Neighbourhood.candidates(slot, category, will, WILL_FREE, OFFLINE_TIES)``,
        reading each helper's categories of free help as the bits of one byte (:meth:`willing_free`); the edges
        of a need still open from the last call (``born`` before ``step``) are those found then, for the same
        adjacency and willingness (they depend on the requester and the category alone).

        Returns:
            ``(need_index, helper_slot, weight)`` arrays, need_index into the given needs.
        """
        from .channel_kernel import offline_candidates

        adj = self._nb.csr
        bits = self.willing_free()
        slot = np.asarray(slot, dtype=np.int64)
        category = np.asarray(category, dtype=np.int64)
        kept = self._last
        if kept is None or kept[0] is not bits:  # none yet with this adjacency and willingness
            empty = np.zeros(0, dtype=np.int64)
            kept = (bits, empty, empty, np.zeros(1, dtype=np.int64), empty, np.zeros(0))
        need, helper, weight, start = offline_candidates(adj.indptr, adj.indices, adj.data, self._nb.kinds,
                                                         OFFLINE_TIES, slot, category, bits,
                                                         np.asarray(born) < step, *kept[1:])
        self._last = (bits, slot, category, start, helper, weight)
        return need, helper, weight

    def willing_free(self) -> np.ndarray:
        """Return a byte per slot whose bit ``c`` is set where the resident would help with category ``c`` free.

        Willingness changes only at the turn of the year (the newcomers' terms and the yearly turnover), which
        ends with the :meth:`refresh` that gives the channel a new adjacency: the bytes are made from
        ``population.will`` at the first call with each adjacency (and with each array of willingness) and kept
        until the next, so they read the terms of the year, as the other channels' pools of helpers do.
        """
        pop = self.ctx.population
        will = pop.will
        kept = self._free  # read for the adjacency, the array the column is a view of and the number of slots
        if kept is None or kept[0][0] is not self._nb or kept[0][1] is not will.base or kept[0][2] != pop.n:
            from .channel_kernel import willing_bits

            kept = self._free = ((self._nb, will.base, pop.n), willing_bits(np.ascontiguousarray(will), int(WILL_FREE)))
        return kept[1]
