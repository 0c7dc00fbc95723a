"""The social network: a sparse, undirected list of ties with kinds and strengths.

Each tie is stored once (``a < b``, slot indices) with a bit mask of kinds (household,
neighbour, community, online; one tie can carry several) and a strength in [0, 1].
Ties of residents who die or leave are dropped when the population compacts. A CSR
adjacency (scipy) is built on demand for the mechanisms that walk neighbours.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp


@dataclass
class Ties:
    """Undirected ties between resident slots."""

    a: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int32))
    b: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int32))
    kind: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.uint8))
    strength: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.float32))

    def __len__(self) -> int:
        return int(self.a.size)

    def nbytes(self) -> int:
        """Bytes held by the tie columns."""
        return self.a.nbytes + self.b.nbytes + self.kind.nbytes + self.strength.nbytes

    def add(self, a: np.ndarray, b: np.ndarray, kind: int, strength: float) -> None:
        """Add ties of one kind between slot pairs; self-pairs are ignored and duplicates merged.

        A pair that is already tied keeps one tie whose kinds are OR-ed together and whose
        strength is the larger of the two. Ties stay sorted by ``(a, b)``, one per pair.
        """
        self.add_many([(a, b, kind, strength)])

    def add_many(self, batches: Iterable[tuple[np.ndarray, np.ndarray, int, float]]) -> None:
        """Add several batches ``(a, b, kind, strength)`` at once, as :meth:`add` of each in turn would.

        Merging is order-free (kinds OR-ed, the larger strength kept), so the result is the same as
        adding the batches one by one, at the cost of one pass over the existing ties: the new pairs
        are sorted and merged among themselves, matched against the existing ties by binary search
        and merged in (no re-sorting of all ties).
        """
        keys, kinds_in, strengths_in = [], [], []
        for a, b, kind, strength in batches:
            keys.append(pair_keys(a, b))
            kinds_in.append(kind)
            strengths_in.append(strength)
        self._merge_keys(keys, kinds_in, strengths_in)

    def _merge_keys(self, keys: list[np.ndarray], kinds_in: list[int], strengths_in: list[float]) -> None:
        """Merge batches of pair keys (see :func:`pair_keys`), each of one kind and strength, into the ties."""
        if keys and not self._is_canonical():
            # ties set from outside, unsorted or with duplicates: put them in order first (merging is order-free)
            self._merge_duplicates()
            self._mark_canonical()
        sizes = [k.size for k in keys]
        if sum(sizes) == 0:
            return
        key = np.concatenate(keys)
        kind_new = np.repeat(np.array(kinds_in, dtype=np.uint8), sizes)
        strength_new = np.repeat(np.array(strengths_in, dtype=np.float32), sizes)
        if len(sizes) > 1:
            order = np.argsort(key)
            key, kind_new, strength_new = key[order], kind_new[order], strength_new[order]
        else:
            key = np.sort(key)  # one kind and strength: the order within equal keys does not matter
        first = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
        if first.size < key.size:
            kind_new = np.bitwise_or.reduceat(kind_new, first)
            strength_new = np.maximum.reduceat(strength_new, first)
            key = key[first]
        old_key = self._key()
        pos = np.searchsorted(old_key, key)
        hit = pos < old_key.size
        hit[hit] = old_key[pos[hit]] == key[hit]
        kinds, strengths = self.kind, self.strength
        if hit.any():
            at = pos[hit]
            kinds, strengths = kinds.copy(), strengths.copy()
            kinds[at] |= kind_new[hit]
            strengths[at] = np.maximum(strengths[at], strength_new[hit])
        fresh = ~hit
        if fresh.any():
            # merge the fresh pairs in before their insertion points (stable, like np.insert)
            n, m = old_key.size, int(fresh.sum())
            dest = pos[fresh] + np.arange(m)
            is_old = np.ones(n + m, dtype=bool)
            is_old[dest] = False
            fresh_key = key[fresh]
            out = []
            for old, val in (
                (self.a, (fresh_key >> 32).astype(np.int32)),
                (self.b, (fresh_key & 0xFFFFFFFF).astype(np.int32)),
                (kinds, kind_new[fresh]),
                (strengths, strength_new[fresh]),
            ):
                arr = np.empty(n + m, dtype=old.dtype)
                arr[dest] = val
                arr[is_old] = old
                out.append(arr)
            self.a, self.b, kinds, strengths = out
        self.kind, self.strength = kinds, strengths
        self._mark_canonical()

    def _key(self) -> np.ndarray:
        """Return the sort key ``a << 32 | b`` of every tie."""
        return self.a.astype(np.int64) << 32 | self.b.astype(np.int64)

    def _mark_canonical(self) -> None:
        """Remember that the current tie arrays are sorted by ``(a, b)`` with one tie per pair."""
        self._canonical = (self.a, self.b)

    def _is_canonical(self) -> bool:
        """Whether the ties are sorted by ``(a, b)`` with one tie per pair (checked once per new arrays)."""
        mark = self.__dict__.get("_canonical")
        if mark is not None and mark[0] is self.a and mark[1] is self.b:
            return True
        if self.a.size > 1:
            key = self._key()
            if not bool(np.all(key[1:] > key[:-1])):
                return False
        self._mark_canonical()
        return True

    def _merge_duplicates(self) -> None:
        if self.a.size == 0:
            return
        key = self.a.astype(np.int64) << 32 | self.b.astype(np.int64)
        order = np.argsort(key, kind="stable")
        key = key[order]
        first = np.ones(key.size, dtype=bool)
        first[1:] = key[1:] != key[:-1]
        if first.all():
            self.a, self.b = self.a[order], self.b[order]
            self.kind, self.strength = self.kind[order], self.strength[order]
            return
        group = np.cumsum(first) - 1
        n = int(group[-1]) + 1
        kind = np.zeros(n, dtype=np.uint8)
        np.bitwise_or.at(kind, group, self.kind[order])
        strength = np.zeros(n, dtype=np.float32)
        np.maximum.at(strength, group, self.strength[order])
        idx = order[first]
        self.a, self.b, self.kind, self.strength = self.a[idx], self.b[idx], kind, strength

    def keep(self, mask: np.ndarray) -> None:
        """Keep only the ties where ``mask`` is true."""
        canonical = self._is_canonical()
        self.a, self.b = self.a[mask], self.b[mask]
        self.kind, self.strength = self.kind[mask], self.strength[mask]
        if canonical:
            self._mark_canonical()  # a subset of sorted, distinct pairs is sorted and distinct

    def remap(self, new_slot: np.ndarray) -> None:
        """Follow a compaction of the population: drop ties of dropped slots, renumber the rest."""
        na, nb = new_slot[self.a], new_slot[self.b]
        ok = (na >= 0) & (nb >= 0)
        canonical = self._is_canonical()
        self.keep(ok)
        self.a, self.b = na[ok].astype(np.int32), nb[ok].astype(np.int32)
        kept = new_slot[new_slot >= 0]
        if canonical and bool(np.all(kept[1:] > kept[:-1])):
            self._mark_canonical()  # renumbering that keeps the order of slots keeps the order of ties

    def strengthen(self, a: np.ndarray, b: np.ndarray, amount: float) -> int:
        """Add ``amount`` to the strength of existing ties between slot pairs (capped at 1).

        Pairs that are not tied are ignored (a new tie is made with :meth:`add`). A pair that occurs
        several times is strengthened once per occurrence.

        Returns:
            The number of pair occurrences that matched an existing tie.
        """
        if self.a.size == 0 or len(a) == 0:
            return 0
        if not self._is_canonical():
            self._merge_duplicates()
            self._mark_canonical()
        a = np.asarray(a, dtype=np.int64)
        b = np.asarray(b, dtype=np.int64)
        key = np.minimum(a, b) << 32 | np.maximum(a, b)
        keys = self._key()
        pos = np.searchsorted(keys, key)
        pos = np.minimum(pos, keys.size - 1)
        hit = keys[pos] == key
        np.add.at(self.strength, pos[hit], np.float32(amount))
        np.minimum(self.strength, 1.0, out=self.strength)
        return int(hit.sum())

    def drop_residents(self, gone: np.ndarray) -> None:
        """Drop every tie that touches a resident whose slot is flagged in ``gone`` (a bool mask)."""
        if self.a.size:
            self.keep(~(gone[self.a] | gone[self.b]))

    def degree(self, n: int, kind_mask: int = 0xFF) -> np.ndarray:
        """Return the number of ties of each slot whose kinds intersect ``kind_mask``."""
        sel = (self.kind & kind_mask) != 0
        return np.bincount(self.a[sel], minlength=n) + np.bincount(self.b[sel], minlength=n)

    def adjacency(self, n: int, kind_mask: int = 0xFF) -> sp.csr_matrix:
        """Return the symmetric CSR matrix of tie strengths among ``n`` slots."""
        sel = (self.kind & kind_mask) != 0
        a, b, w = self.a[sel], self.b[sel], self.strength[sel]
        m = sp.coo_matrix((np.concatenate([w, w]), (np.concatenate([a, b]), np.concatenate([b, a]))), shape=(n, n))
        return m.tocsr()

    def count_by_kind(self) -> dict[int, int]:
        """Return the number of ties carrying each kind bit."""
        return {bit: int(((self.kind & bit) != 0).sum()) for bit in (1, 2, 4, 8)}


class TieBatch:
    """Collects :meth:`Ties.add` calls and merges them into the ties in one pass (:meth:`flush`).

    It has the ``add`` of :class:`Ties`, so the functions that create ties can be handed a batch
    instead; the ties are unchanged until :meth:`flush` (the result is that of adding them directly).
    """

    def __init__(self, ties: Ties) -> None:
        self.ties = ties
        self.keys: list[np.ndarray] = []
        self.kinds: list[int] = []
        self.strengths: list[float] = []

    def add(self, a: np.ndarray, b: np.ndarray, kind: int, strength: float) -> None:
        """Record ties to add (see :meth:`Ties.add`)."""
        self.keys.append(pair_keys(a, b))
        self.kinds.append(kind)
        self.strengths.append(strength)

    def flush(self) -> Ties:
        """Merge the recorded ties into the tie list and return it."""
        keys, kinds, strengths = self.keys, self.kinds, self.strengths
        self.keys, self.kinds, self.strengths = [], [], []
        self.ties._merge_keys(keys, kinds, strengths)
        return self.ties


def pair_keys(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Return the key ``min << 32 | max`` of each slot pair, self-pairs left out."""
    a = np.asarray(a, dtype=np.int64)
    b = np.asarray(b, dtype=np.int64)
    ok = a != b
    a, b = a[ok], b[ok]
    return np.minimum(a, b) << 32 | np.maximum(a, b)


def stable_argsort_ids(key: np.ndarray) -> np.ndarray:
    """Return ``np.argsort(key, kind="stable")`` for non-negative integer ids, faster.

    Ids below 2**16 are sorted as ``uint16`` (numpy's radix sort); ids below 2**32 by two stable
    radix passes over their low and high 16 bits (least significant first), which gives the same
    permutation as one stable sort.
    """
    key = np.asarray(key)
    if key.size == 0:
        return np.zeros(0, dtype=np.intp)
    top = int(key.max())
    if int(key.min()) < 0 or top >= 1 << 32:
        return np.argsort(key, kind="stable")
    if top < 1 << 16:
        return np.argsort(key.astype(np.uint16), kind="stable")
    low = np.argsort((key & 0xFFFF).astype(np.uint16), kind="stable")
    return low[np.argsort((key[low] >> 16).astype(np.uint16), kind="stable")]


def pairs_within_groups(group: np.ndarray, mean_ties: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Draw random pairs of members within each group, about ``mean_ties`` ties per member.

    Args:
        group: Group id of each candidate slot (``-1``: not in any group), indexed by slot.
        mean_ties: Mean number of ties each member gets.
        rng: The stream to draw from.

    Returns:
        Arrays ``(a, b)`` of slot pairs (may contain self-pairs and duplicates; :meth:`Ties.add`
        drops and merges them).
    """
    members = np.flatnonzero(group >= 0)
    if members.size < 2 or mean_ties <= 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    order = members[stable_argsort_ids(group[members])]
    g = group[order]
    starts = np.flatnonzero(np.r_[True, g[1:] != g[:-1]])
    sizes = np.diff(np.r_[starts, g.size])
    pos_start = np.repeat(starts, sizes)
    pos_size = np.repeat(sizes, sizes)
    # each member proposes Poisson(mean/2) ties to random others of its group: mean degree ~ mean_ties
    k = rng.poisson(mean_ties / 2.0, size=order.size)
    k[pos_size < 2] = 0
    src_pos = np.repeat(np.arange(order.size), k)
    off = rng.integers(1, np.maximum(pos_size[src_pos], 2))
    dst_pos = pos_start[src_pos] + (src_pos - pos_start[src_pos] + off) % pos_size[src_pos]
    return order[src_pos], order[dst_pos]


def neighbours(adj: sp.csr_matrix, slot: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return every tie of the given slots from a CSR adjacency, as flat arrays.

    Returns:
        ``(index, other, strength)``: ``index`` into ``slot`` of the resident, the slot of the other
        end of the tie, and the tie's strength.
    """
    start, stop = adj.indptr[slot], adj.indptr[slot + 1]
    count = stop - start
    index = np.repeat(np.arange(slot.size), count)
    pos = np.repeat(start, count) + np.arange(index.size) - np.repeat(np.cumsum(count) - count, count)
    return index, adj.indices[pos].astype(np.int64), adj.data[pos].astype(np.float64)
