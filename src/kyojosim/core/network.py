"""The social network: a sparse, undirected list of ties with kinds and strengths.

Each tie is stored once (``a < b``, slot indices) with a bit mask of kinds (household,
neighbour, community, online; one tie can carry several) and a strength in [0, 1].
Ties of residents who die or leave are dropped when the population compacts. A CSR
adjacency (scipy) is built on demand for the mechanisms that walk neighbours.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from .buffers import Refill


class Ties:
    """Undirected ties between resident slots, each stored once (``a < b``), sorted by ``(a, b)``.

    The columns ``a``, ``b``, ``kind`` and ``strength`` are read and set as attributes. Changes within
    a week touch only the ties concerned: :meth:`strengthen` finds its pairs by binary search and
    updates their strengths in place; :meth:`add` of a few ties (a match through the local SNS) updates
    the kinds and strengths of pairs already tied in place and keeps new pairs in a small sorted buffer
    beside the list, merged into it when the columns are next read (at the latest at the turn of the
    year, when the yearly submodels read them; a compaction renumbers the buffer with the list, and the
    next batch merged takes the buffer with it). The ties are the same as if every change had been
    applied to the list at once; only the cost differs. Larger batches (the network's yearly upkeep)
    are merged in at once.

    :meth:`neighbourhood` gives the CSR adjacency of all ties with the kind of each entry; it is built
    once for a state of the ties and shared by every caller until the ties change (the channels read it
    at :meth:`~kyojosim.aid.channels.base.Channel.refresh`, after each turn of the year, and let go of it
    at :meth:`~kyojosim.aid.channels.base.Channel.release` before, so that it is written into the same
    arrays again).
    """

    SMALL_ADD = 4096
    """Batches of at most this many pairs go to the buffer of new ties; larger ones are merged at once."""

    def __init__(self, a: np.ndarray | None = None, b: np.ndarray | None = None, kind: np.ndarray | None = None,
                 strength: np.ndarray | None = None) -> None:
        self._a = np.zeros(0, dtype=np.int32) if a is None else a
        self._b = np.zeros(0, dtype=np.int32) if b is None else b
        self._kind = np.zeros(0, dtype=np.uint8) if kind is None else kind
        self._strength = np.zeros(0, dtype=np.float32) if strength is None else strength
        self._new_key = np.zeros(0, dtype=np.int64)  # the buffer of new pairs (keys a << 32 | b, sorted)
        self._new_kind = np.zeros(0, dtype=np.uint8)
        self._new_strength = np.zeros(0, dtype=np.float32)
        self._version = 0  # bumped by every change (and every read of a column, which may write into it)
        self._neighbourhood: tuple[tuple[int, int], Neighbourhood] | None = None
        self._among: tuple[np.ndarray, ...] | None = None

    # -- the columns (reading one merges the buffer of new ties first) ------------------
    @property
    def a(self) -> np.ndarray:
        """int32 smaller slot of each tie."""
        self._flush()
        self._lent = True
        self._version += 1
        self._among = None
        return self._a

    @a.setter
    def a(self, value: np.ndarray) -> None:
        self._flush()
        self._a = value
        self._version += 1
        self._among = None

    @property
    def b(self) -> np.ndarray:
        """int32 larger slot of each tie."""
        self._flush()
        self._lent = True
        self._version += 1
        self._among = None
        return self._b

    @b.setter
    def b(self, value: np.ndarray) -> None:
        self._flush()
        self._b = value
        self._version += 1
        self._among = None

    @property
    def kind(self) -> np.ndarray:
        """uint8 bit mask of the kinds of each tie."""
        self._flush()
        self._lent = True
        self._version += 1
        return self._kind

    @kind.setter
    def kind(self, value: np.ndarray) -> None:
        self._flush()
        self._kind = value
        self._version += 1

    @property
    def strength(self) -> np.ndarray:
        """float32 strength of each tie, in [0, 1]."""
        self._flush()
        self._lent = True
        self._version += 1
        return self._strength

    @strength.setter
    def strength(self, value: np.ndarray) -> None:
        self._flush()
        self._strength = value
        self._version += 1

    def __len__(self) -> int:
        return int(self._a.size + self._new_key.size)

    def nbytes(self) -> int:
        """Bytes held by the tie columns (with the room after them, :meth:`_merge_sorted`) and the new ties' buffer."""
        columns = (self._a, self._b, self._kind, self._strength)
        arrays = self.__dict__.get("_room_of")
        if arrays is None or any(c.base is not x for c, x in zip(columns, arrays, strict=True)):
            arrays = columns
        return sum(x.nbytes for x in arrays) + self._new_key.nbytes + self._new_kind.nbytes + self._new_strength.nbytes

    @property
    def pending(self) -> int:
        """Number of new ties in the buffer, not yet merged into the columns."""
        return int(self._new_key.size)

    # -- adding ties ---------------------------------------------------------------------
    def add(self, a: np.ndarray, b: np.ndarray, kind: int, strength: float) -> None:
        """Add ties of one kind between slot pairs; self-pairs are ignored and duplicates merged.

        A pair that is already tied keeps one tie whose kinds are OR-ed together and whose
        strength is the larger of the two. Ties stay sorted by ``(a, b)``, one per pair. A batch of
        at most :attr:`SMALL_ADD` pairs touches only its pairs (the new ones wait in the buffer).
        """
        key = pair_keys(a, b)
        if key.size == 0:
            return
        if key.size > self.SMALL_ADD or self._a.size == 0 or not self._is_canonical():
            self.add_many([(a, b, kind, strength)])
            return
        key = np.sort(key)  # one kind and strength: merging duplicates is dropping them (np.unique, faster)
        key = key[np.r_[True, key[1:] != key[:-1]]]
        kind_new = np.uint8(kind)
        strength_new = np.float32(strength)
        pos = self._find_pairs(key >> 32, key & 0xFFFFFFFF)
        at = pos[pos >= 0]
        if at.size:
            self._kind[at] |= kind_new
            self._strength[at] = np.maximum(self._strength[at], strength_new)
        fresh = key[pos < 0]
        if fresh.size:
            nk = self._new_key
            p = np.searchsorted(nk, fresh)
            hit = p < nk.size
            hit[hit] = nk[p[hit]] == fresh[hit]
            if hit.any():
                self._new_kind[p[hit]] |= kind_new
                self._new_strength[p[hit]] = np.maximum(self._new_strength[p[hit]], strength_new)
            ins = p[~hit]
            self._new_key = np.insert(nk, ins, fresh[~hit])
            self._new_kind = np.insert(self._new_kind, ins, kind_new)
            self._new_strength = np.insert(self._new_strength, ins, strength_new)
        self._version += 1

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

    def _find_pairs(self, qa: np.ndarray, qb: np.ndarray) -> np.ndarray:
        """Return the index of each pair ``(qa[i], qb[i])`` (``qa <= qb``) in the sorted columns; -1 if absent.

        The second search in the same columns builds a table of where each slot's ties start
        (:func:`~kyojosim.core.network_kernel.row_starts`), kept until the columns are replaced (new ties
        wait in the buffer meanwhile, so within a year the table is built once); each search then runs
        among one slot's ties only. The columns must be canonical.
        """
        from .network_kernel import find_pairs, find_pairs_indexed, row_starts

        qa = np.ascontiguousarray(qa, dtype=np.int64)
        qb = np.ascontiguousarray(qb, dtype=np.int64)
        seen = self.__dict__.get("_row_index")
        if seen is None or seen[0] is not self._a or seen[1] is not self._b:
            self._row_index = (self._a, self._b, None)  # first search in these columns: no table yet
            return find_pairs(self._a, self._b, qa, qb)
        start = seen[2]
        if start is None:
            start = row_starts(self._a)
            self._row_index = (self._a, self._b, start)
        return find_pairs_indexed(start, self._b, qa, qb)

    def _merge_keys(self, keys: list[np.ndarray], kinds_in: list[int], strengths_in: list[float]) -> None:
        """Merge batches of pair keys (see :func:`pair_keys`), each of one kind and strength, into the ties.

        The buffer of new ties is merged in the same pass (its pairs are merged with the batches' like
        theirs among themselves: kinds OR-ed, the larger strength kept). Several batches (and no buffer) with
        slots below 2**24 are put in order as one array of words, each key packed with the number of its batch
        (:func:`~kyojosim.core.network_kernel.tagged_keys`, one sort, no argsort), and their pairs merged in a
        compiled pass (:func:`~kyojosim.core.network_kernel.merged_tags`).
        """
        sizes = [k.size for k in keys]
        if sum(sizes) == 0:
            self._flush()
            return
        if not self._is_canonical():
            # ties set from outside, unsorted or with duplicates: put them in order first (merging is order-free)
            self._flush()
            self._merge_duplicates()
            self._mark_canonical()
        key = np.concatenate(keys)
        if self._new_key.size == 0 and len(sizes) > 1:
            from .network_kernel import merged_tags, tagged_keys

            # each key packed with the number of its batch: one sort of words, the pairs of a key side by side
            words, ok = tagged_keys(key, np.array(sizes, dtype=np.int64))
            if ok:
                words.sort()
                self._merge_sorted(*merged_tags(words, np.array(kinds_in, dtype=np.uint8),
                                                np.array(strengths_in, dtype=np.float32)))
                self._mark_canonical()
                self._version += 1
                return
        kind_new = np.repeat(np.array(kinds_in, dtype=np.uint8), sizes)
        strength_new = np.repeat(np.array(strengths_in, dtype=np.float32), sizes)
        if self._new_key.size:  # the buffer's pairs join the batches (one pass over the ties for all)
            key = np.concatenate([key, self._new_key])
            kind_new = np.concatenate([kind_new, self._new_kind])
            strength_new = np.concatenate([strength_new, self._new_strength])
            sizes.append(self._new_key.size)
            self._new_key = np.zeros(0, dtype=np.int64)
            self._new_kind = np.zeros(0, dtype=np.uint8)
            self._new_strength = np.zeros(0, dtype=np.float32)
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
        self._merge_sorted(key, kind_new, strength_new)
        self._mark_canonical()
        self._version += 1

    MERGE_ROOM = 2
    """New columns made by a merge have room for ``1 / MERGE_ROOM`` more ties after them (:meth:`_merge_sorted`).

    Half as many again: a town's ties grow by a fifth to a third over its first decade (Koto: 1.9 to 2.6
    million from 2020 to 2030), and every merge in place moves the columns' start on by the pairs that were
    tied already, so that a quarter's room ran out within six years and the next merge wrote a new set of
    columns (tens of MB of new pages). The room is address space until ties are written into it: it costs no
    memory before then."""

    def _merge_sorted(self, key: np.ndarray, kind: np.ndarray, strength: np.ndarray) -> None:
        """Merge sorted, distinct pair keys with their kinds and strengths into the sorted columns (one pass).

        The columns a merge makes are the front of larger arrays (with room for half as many again after them). The
        next merge writes into those arrays in place, from the back (no second set of columns, no new memory to fault
        in), if it fits, the columns have not been handed out since they were made (by a merge or a compaction's
        renumbering in place; see :meth:`remap`) and the room is still theirs; else it makes new columns.
        """
        from .network_kernel import merge_ties_back, merge_ties_into

        self._row_index = None  # kept for the columns being replaced: let go of them as soon as they are
        key = np.ascontiguousarray(key, dtype=np.int64)
        kind = np.ascontiguousarray(kind, dtype=np.uint8)
        strength = np.ascontiguousarray(strength, dtype=np.float32)
        n, m = self._a.size, key.size
        room = self._room()
        if room is not None and room[1] + n + m <= room[0][0].size:
            arrays, start = room
            first = merge_ties_back(*arrays, start, n, key, kind, strength)
            end = start + n + m
        else:
            size = n + m + (n + m) // self.MERGE_ROOM
            arrays = tuple(np.empty(size, dtype=c.dtype) for c in (self._a, self._b, self._kind, self._strength))
            first = 0
            end = merge_ties_into(self._a, self._b, self._kind, self._strength, key, kind, strength, *arrays)
        self._a, self._b, self._kind, self._strength = (x[first:end] for x in arrays)
        self._room_of = arrays
        self._lent = False
        self._owned = (self._a, self._b, self._kind, self._strength)  # made here: nobody else holds them
        self._among = None

    def _room(self) -> tuple[tuple[np.ndarray, ...], int] | None:
        """Return the arrays whose entries from ``start`` on the columns are, and ``start``, if they may be written to.

        None unless the columns were made by this network (:meth:`_merge_sorted` or :meth:`remap`) and not handed
        out through the attributes since.
        """
        arrays = self.__dict__.get("_room_of")
        owned = self.__dict__.get("_owned")
        columns = (self._a, self._b, self._kind, self._strength)
        if (arrays is None or owned is None or self.__dict__.get("_lent", True)
                or any(c is not o for c, o in zip(columns, owned, strict=True))):
            return None
        start = -1
        for c, x in zip(columns, arrays, strict=True):
            if c.base is not x or c.dtype != x.dtype or not c.flags.c_contiguous:
                return None
            offset, rest = divmod(c.ctypes.data - x.ctypes.data, c.itemsize)
            if rest or (start >= 0 and offset != start):
                return None
            start = offset
        return arrays, start

    def __getstate__(self) -> dict:
        """Return the state without the room after the columns (a copy or a pickle holds the columns alone)."""
        state = self.__dict__.copy()
        state.pop("_room_of", None)
        return state

    def _flush(self) -> None:
        """Merge the buffer of new ties into the columns (the pairs in it are not in the columns)."""
        if self._new_key.size == 0:
            return
        key, kind, strength = self._new_key, self._new_kind, self._new_strength
        self._new_key = np.zeros(0, dtype=np.int64)
        self._new_kind = np.zeros(0, dtype=np.uint8)
        self._new_strength = np.zeros(0, dtype=np.float32)
        self._merge_sorted(key, kind, strength)
        self._mark_canonical()
        self._version += 1

    def _key(self) -> np.ndarray:
        """Return the sort key ``a << 32 | b`` of every tie of the columns."""
        return self._a.astype(np.int64) << 32 | self._b.astype(np.int64)

    def _mark_canonical(self) -> None:
        """Remember that the current tie arrays are sorted by ``(a, b)`` with one tie per pair."""
        self._canonical = (self._a, self._b)

    def _is_canonical(self) -> bool:
        """Whether the ties are sorted by ``(a, b)`` with one tie per pair (checked once per new arrays)."""
        mark = self.__dict__.get("_canonical")
        if mark is not None and mark[0] is self._a and mark[1] is self._b:
            return True
        if self._a.size > 1:
            key = self._key()
            if not bool(np.all(key[1:] > key[:-1])):
                return False
        self._mark_canonical()
        return True

    def _merge_duplicates(self) -> None:
        self._among = None
        if self._a.size == 0:
            return
        key = self._key()
        order = np.argsort(key, kind="stable")
        key = key[order]
        first = np.ones(key.size, dtype=bool)
        first[1:] = key[1:] != key[:-1]
        if first.all():
            self._a, self._b = self._a[order], self._b[order]
            self._kind, self._strength = self._kind[order], self._strength[order]
            return
        group = np.cumsum(first) - 1
        n = int(group[-1]) + 1
        kind = np.zeros(n, dtype=np.uint8)
        np.bitwise_or.at(kind, group, self._kind[order])
        strength = np.zeros(n, dtype=np.float32)
        np.maximum.at(strength, group, self._strength[order])
        idx = order[first]
        self._a, self._b, self._kind, self._strength = self._a[idx], self._b[idx], kind, strength

    # -- changing and dropping ties --------------------------------------------------------
    def keep(self, mask: np.ndarray) -> None:
        """Keep only the ties where ``mask`` is true (one entry per tie, in the order of the columns)."""
        self._flush()
        canonical = self._is_canonical()
        self._row_index = None  # kept for the columns being replaced: let go of them as soon as they are
        self._a, self._b = self._a[mask], self._b[mask]
        self._kind, self._strength = self._kind[mask], self._strength[mask]
        self._version += 1
        self._among = None
        if canonical:
            self._mark_canonical()  # a subset of sorted, distinct pairs is sorted and distinct

    def remap(self, new_slot: np.ndarray) -> None:
        """Follow a compaction of the population: drop ties of dropped slots, renumber the rest.

        The renumbering of a compaction (the kept slots numbered 0, 1, 2, ... in order) is read from a table of
        16-bit words (:func:`~kyojosim.core.network_kernel.compaction_shifts`), half the memory of the int32
        table used for any other.
        """
        from .network_kernel import compaction_shifts, keeps_order, remap_ties, remap_ties_in_place, remap_ties_shifted

        new_slot = np.asarray(new_slot)
        shifts = compaction_shifts(new_slot) if new_slot.dtype.kind == "i" else None
        compacted = shifts is not None and bool(shifts[2])  # slots kept in order, numbered 0, 1, 2, ...
        order_kept = compacted or bool(keeps_order(new_slot))
        if order_kept and self._new_key.size:
            # the buffer of new ties follows as it is (renumbering that keeps the order of slots keeps its order)
            na, nb = new_slot[self._new_key >> 32], new_slot[self._new_key & 0xFFFFFFFF]
            both = (na >= 0) & (nb >= 0)
            self._new_key = na[both].astype(np.int64) << 32 | nb[both].astype(np.int64)
            self._new_kind, self._new_strength = self._new_kind[both], self._new_strength[both]
        else:
            self._flush()
        canonical = self._is_canonical()
        # slots are int32 (as the ties' ends): the half-size table of new slots stays in cache better
        columns = (self._a, self._b, self._kind, self._strength)
        owned = self.__dict__.get("_owned")
        if (owned is not None and all(c is o for c, o in zip(columns, owned, strict=True))
                and self._a.dtype == self._b.dtype == np.int32):
            # columns this network made itself (read through the properties, kept by no one across a compaction):
            # the kept ties move to their front in place, without a second set of columns
            if compacted:
                kept = remap_ties_shifted(*columns, shifts[0], shifts[1])
            else:
                kept = remap_ties_in_place(*columns, new_slot.astype(np.int32))
            self._a, self._b, self._kind, self._strength = (c[:kept] for c in columns)
            self._lent = False  # new views of the columns, handed out to no one yet (the old ones are overwritten)
        else:
            self._a, self._b, self._kind, self._strength = remap_ties(*columns, new_slot.astype(np.int32))
        self._owned = (self._a, self._b, self._kind, self._strength)
        self._version += 1
        self._among = None
        if canonical and order_kept:
            self._mark_canonical()  # renumbering that keeps the order of slots keeps the order of ties

    def strengthen(self, a: np.ndarray, b: np.ndarray, amount: float) -> int:
        """Add ``amount`` to the strength of existing ties between slot pairs (capped at 1).

        Pairs that are not tied are ignored (a new tie is made with :meth:`add`). A pair that occurs
        several times is strengthened once per occurrence. Only the ties concerned are touched (a
        binary search for each pair; strengths are never above 1, so the cap applies to them alone).

        Returns:
            The number of pair occurrences that matched an existing tie.
        """
        if len(self) == 0 or len(a) == 0:
            return 0
        if not self._is_canonical():
            self._flush()
            self._merge_duplicates()
            self._mark_canonical()
        a = np.asarray(a, dtype=np.int64)
        b = np.asarray(b, dtype=np.int64)
        lo, hi = np.minimum(a, b), np.maximum(a, b)
        gain = np.float32(amount)
        from .network_kernel import strengthen_found

        pos = self._find_pairs(lo, hi)
        hits = int(strengthen_found(self._strength, pos, gain))  # each occurrence adds, then the cap at 1
        if self._new_key.size and hits < pos.size:
            hit = pos >= 0
            key = lo[~hit] << 32 | hi[~hit]
            p = np.minimum(np.searchsorted(self._new_key, key), self._new_key.size - 1)
            found = self._new_key[p] == key
            if found.any():
                hits += int(strengthen_found(self._new_strength, np.where(found, p, -1), gain))
        self._version += 1
        return hits

    def update(self, idx: np.ndarray, strength: np.ndarray | float, add_kind: int = 0) -> None:
        """Set the strengths of the ties ``idx`` (indices into the columns) and add the kind bits ``add_kind`` to them.

        In place, as ``strength_column[idx] = strength`` and ``kind_column[idx] |= add_kind`` would. The pairs do not
        change, so the adjacency of :meth:`neighbourhood`, if it was built for the ties as they were, is changed the
        same way (both entries of each tie, found by binary search in their rows) and stays the current one, instead
        of being built again (whoever holds it sees the change), with the degrees counted with it (``count`` of
        :meth:`neighbourhood`).
        """
        from .network_kernel import set_tie_entries

        self._flush()
        idx = np.asarray(idx, dtype=np.int64)
        cached = self._neighbourhood
        current = cached is not None and cached[0][0] == self._version
        counted = self.__dict__.get("_counted") if current else None
        if counted is not None:  # the degrees counted with the adjacency follow the ties whose kinds meet the mask now
            once = np.unique(idx)
            before = (self._kind[once] & counted[1]) != 0
        self._strength[idx] = strength
        self._kind[idx] |= np.uint8(add_kind)
        self._version += 1
        self._counted = None
        if not current:
            return
        nb = cached[1]
        csr = nb.csr
        if not set_tie_entries(csr.indptr, csr.indices, csr.data, nb.kinds, self._a, self._b,
                               np.ascontiguousarray(self._strength, np.float32), self._kind, idx):
            self._neighbourhood = None  # not the adjacency of these ties (it cannot be patched): built again when asked
            return
        self._neighbourhood = ((self._version, cached[0][1]), nb)
        if counted is not None:
            change = ((self._kind[once] & counted[1]) != 0).astype(np.int64) - before
            moved = change != 0
            degree = counted[2]
            np.add.at(degree, self._a[once[moved]], change[moved])
            np.add.at(degree, self._b[once[moved]], change[moved])
            self._counted = ((self._version, counted[0][1]), counted[1], degree)

    def view(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Return read-only views of the columns ``(a, b, kind, strength)``, the buffer of new ties merged first.

        Unlike reading the attributes (which may be written into), this leaves the adjacency of :meth:`neighbourhood`
        current; change ties through :meth:`update`.
        """
        self._flush()
        self._lent = True
        out = []
        for column in (self._a, self._b, self._kind, self._strength):
            v = column.view()
            v.flags.writeable = False
            out.append(v)
        return out[0], out[1], out[2], out[3]

    def drop_residents(self, gone: np.ndarray) -> None:
        """Drop every tie that touches a resident whose slot is flagged in ``gone`` (a bool mask)."""
        self._flush()
        if self._a.size:
            self.keep(~(gone[self._a] | gone[self._b]))

    # -- reading the network ---------------------------------------------------------------
    def degree(self, n: int, kind_mask: int = 0xFF) -> np.ndarray:
        """Return the number of ties of each slot whose kinds intersect ``kind_mask`` (int64).

        With every kind, and the adjacency of :meth:`neighbourhood` built for the current ties, the lengths of
        its rows (when every tie has a kind); with another mask and that adjacency, counted row by row over it;
        else counted over the ties in one compiled pass.
        """
        self._flush()
        cached = self._neighbourhood
        counted = self.__dict__.get("_counted")
        if counted is not None and cached is not None and counted[0] == (self._version, n) and counted[1] == kind_mask:
            self._counted = None  # counted with the adjacency (:meth:`neighbourhood`): handed over once
            return counted[2]
        if (kind_mask & 0xFF == 0xFF and cached is not None and cached[0] == (self._version, n)
                and np.count_nonzero(self._kind) == self._kind.size):
            return np.diff(cached[1].csr.indptr).astype(np.int64)  # every tie has a kind: each row's length
        from .network_kernel import masked_degree, tie_degree

        if cached is not None and cached[0] == (self._version, n):  # read row by row from the adjacency (in order)
            return masked_degree(cached[1].csr.indptr, cached[1].kinds, int(kind_mask))
        degree, ok = tie_degree(self._a, self._b, self._kind, int(n), int(kind_mask))
        if not ok:
            raise ValueError(f"a tie refers to a slot outside 0 .. {n - 1}: the degrees are of {n} slots")
        return degree

    def neighbourhood(self, n: int, count: int | None = None, mark: np.ndarray | None = None) -> Neighbourhood:
        """Return the CSR adjacency of all ties among ``n`` slots with the kind of every entry (shared; read only).

        Built once for a state of the ties (in two compiled passes over them) and returned again to
        every caller until the ties change. Ties set from outside unsorted or with duplicates are first
        put in order (duplicates merged: kinds OR-ed, the larger strength kept). The arrays of the previous
        adjacency are filled again when no one holds it or a view of it any more (the channels let go of
        theirs before the yearly refresh), so that the adjacency stays where it is in memory year after
        year (:class:`~kyojosim.core.buffers.Refill`); a caller who kept it keeps it unchanged.

        With ``count`` (a mask of kinds), when the adjacency is built now, the degrees of :meth:`degree` for that
        mask are counted in the same passes and kept for the next call of :meth:`degree` with it (once). With
        ``mark`` (a bool per slot), each slot's ties and ties to marked slots are counted the same way and kept
        for the next call of :meth:`marked_degree` with that array (once).
        """
        self._flush()
        if not self._is_canonical():
            self._merge_duplicates()
            self._mark_canonical()
            self._version += 1
        cached = self._neighbourhood
        if cached is not None and cached[0] == (self._version, n):
            return cached[1]
        self._neighbourhood = cached = self._counted = self._marked = None  # let go of the old one first
        from .network_kernel import csr_and_degree_into

        # the ties are in order of ``a`` now: its largest is the last (one pass over ``b`` only)
        top = max(int(self._a[-1]), int(self._b.max())) if self._a.size else -1
        if top >= n:
            raise ValueError(f"a tie refers to slot {top}; the adjacency has {n} slots")
        room = self.__dict__.get("_adjacency_room")
        if room is None or len(room) < 5:
            room = self._adjacency_room = (Refill(np.int32), Refill(np.int32), Refill(np.float32), Refill(np.uint8),
                                           Refill(np.uint64))
        # last year's arrays, filled again where no one holds them any more (see kyojosim.core.buffers), and
        # the build's scratch list of the lower entries (a word per tie), kept to be written again next year
        entries = 2 * self._a.size
        indptr, indices, data, kinds = (room[0].take(n + 1), room[1].take(entries), room[2].take(entries),
                                        room[3].take(entries))
        degree = np.empty(n if count is not None else 0, dtype=np.int64)
        marks = np.zeros(0, dtype=np.bool_) if mark is None else np.ascontiguousarray(mark, dtype=np.bool_)
        if marks.size and marks.size < n:
            raise ValueError(f"mark has {marks.size} entries; the adjacency has {n} slots")
        tied, peers = (np.empty(n if marks.size else 0, dtype=np.int64) for _ in range(2))
        csr_and_degree_into(self._a, self._b, np.ascontiguousarray(self._strength, np.float32), self._kind,
                            indptr, indices, data, kinds, 0 if count is None else int(count), degree,
                            room[4].scratch(self._a.size), marks, tied, peers)
        if count is not None:
            self._counted = ((self._version, n), count, degree)
        if marks.size:
            self._marked = ((self._version, n), mark, tied, peers)
        csr = sp.csr_matrix((data, indices, indptr), shape=(n, n))
        csr.has_sorted_indices = True  # each row's columns ascend (no pass needed to find it out)
        nb = Neighbourhood(csr, kinds)
        self._neighbourhood = ((self._version, n), nb)
        return nb

    def marked_degree(self, n: int, mark: np.ndarray, rows: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Return ``(tied, peers)``: each slot's number of ties (with a kind) and of ties to a slot marked in ``mark``.

        Of the slots ``rows`` (all ``n`` if None), int64. Counted while the adjacency of :meth:`neighbourhood` was
        built, if it was built with this same ``mark`` array for the current ties (handed over once); else read
        from the rows of the adjacency (:func:`~kyojosim.core.network_kernel.tied_and_marked`: the same counts).
        """
        self._flush()
        marked = self.__dict__.get("_marked")  # any change of the ties since the build changed the version
        if marked is not None and marked[0] == (self._version, n) and marked[1] is mark:
            self._marked = None
            tied, peers = marked[2], marked[3]
            return (tied, peers) if rows is None else (tied[rows], peers[rows])
        from .network_kernel import tied_and_marked

        nb = self.neighbourhood(n)
        rows = np.arange(n) if rows is None else np.asarray(rows, dtype=np.int64)
        return tied_and_marked(nb.csr.indptr, nb.csr.indices, nb.kinds, np.ascontiguousarray(mark, dtype=np.bool_),
                               rows)

    def adjacency(self, n: int, kind_mask: int = 0xFF) -> sp.csr_matrix:
        """Return the symmetric CSR matrix of tie strengths among ``n`` slots (of the kinds in ``kind_mask``).

        With every kind (the default) this is the matrix of :meth:`neighbourhood`, shared by every
        caller until the ties change: read it, never write into it.
        """
        self._flush()
        if kind_mask & 0xFF == 0xFF and self._is_canonical():
            return self.neighbourhood(n).csr
        sel = (self._kind & kind_mask) != 0
        a, b, w = self._a[sel], self._b[sel], self._strength[sel]
        m = sp.coo_matrix((np.concatenate([w, w]), (np.concatenate([a, b]), np.concatenate([b, a]))), shape=(n, n))
        return m.tocsr()

    def _selection(self, member: np.ndarray) -> tuple:
        """Return the kept selection of the ties among ``member`` (made again when the columns or the mask changed)."""
        member = np.asarray(member, dtype=bool)
        cached = self._among
        if (cached is None or cached[0] is not self._a or cached[1].shape != member.shape
                or not np.array_equal(cached[1], member)):
            from .network_kernel import pairs_within

            self._among = None
            a, b, rank, rank_a, rank_b = pairs_within(member, self._a, self._b)  # rank: each slot's among members
            self._among = cached = (self._a, member.copy(), a, b, rank, rank_a, rank_b)
        return cached

    def pairs_among_parts(self, member: np.ndarray, numbered: bool = False) -> tuple[tuple[np.ndarray, ...], ...]:
        """Return :meth:`pairs_among` in two parts: the ties of the columns and the new ties of the buffer.

        The pairs of :meth:`pairs_among` are the first part followed by the second; the parts are not copied
        into one array (the first is the kept selection itself: do not modify it).
        """
        member = np.asarray(member, dtype=bool)
        cached = self._selection(member)
        a, b = (cached[5], cached[6]) if numbered else (cached[2], cached[3])
        na, nb = self._new_key >> 32, self._new_key & 0xFFFFFFFF
        if na.size:
            both = member[na] & member[nb]
            na, nb = na[both], nb[both]
        if numbered:
            na, nb = cached[4][na], cached[4][nb]
        return (a, b), (na, nb)

    def pairs_among(self, member: np.ndarray, numbered: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """Return the slots ``(a, b)`` (int64) of the ties whose two ends are both ``member`` (a bool mask by slot).

        The ties of the columns are selected once for a state of the columns and a mask (kept until
        either changes); the new ties of the buffer are added at every call. The order of the pairs is
        not that of the columns. With ``numbered``, the ends are numbered among the members instead
        (``i`` for the ``i``-th member slot, ascending; int32), the same pairs in the same order.
        """
        (a, b), (na, nb) = self.pairs_among_parts(member, numbered)
        if na.size:
            a, b = np.concatenate([a, na]), np.concatenate([b, nb])
        return a, b

    def rank_among(self, member: np.ndarray) -> np.ndarray:
        """Return each slot's number among the ``member`` slots (``cumsum(member) - 1``, int32).

        The numbers of the numbered :meth:`pairs_among`, kept with the selection (do not modify them).
        """
        return self._selection(member)[4]

    def count_by_kind(self) -> dict[int, int]:
        """Return the number of ties carrying each kind bit."""
        self._flush()
        return {bit: int(((self._kind & bit) != 0).sum()) for bit in (1, 2, 4, 8)}


@dataclass(frozen=True)
class Neighbourhood:
    """The symmetric CSR adjacency of the ties (data: strengths) and the kind bits of each of its entries.

    Attributes:
        csr: ``scipy.sparse.csr_matrix`` of tie strengths (float32), columns sorted within each row.
        kinds: uint8 kind bits of each stored entry (aligned with ``csr.indices``).
    """

    csr: sp.csr_matrix
    kinds: np.ndarray

    def degree(self, kind_mask: int = 0xFF) -> np.ndarray:
        """Return the number of ties of each slot whose kinds intersect ``kind_mask``."""
        if kind_mask & 0xFF == 0xFF:
            return np.diff(self.csr.indptr)
        from .network_kernel import masked_degree

        return masked_degree(self.csr.indptr, self.kinds, int(kind_mask))

    def candidates(self, slot: np.ndarray, category: np.ndarray, code: np.ndarray, want: int,
                   kind_mask: int = 0xFF) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Return ``(need_index, helper_slot, strength)``: each need's ties to residents with a given code.

        The ties (of kinds in ``kind_mask``) of each need's requester ``slot[i]`` to residents whose
        ``code[helper, category[i]]`` is ``want``: need by need, and within a need in the order of the
        requester's row (ascending slots), the order of :func:`neighbours` filtered by the condition.
        """
        from .network_kernel import tied_candidates

        adj = self.csr
        code = np.asarray(code)
        if code.dtype == np.bool_:
            code = code.view(np.int8)
        return tied_candidates(adj.indptr, adj.indices, adj.data, self.kinds, int(kind_mask),
                               np.asarray(slot, dtype=np.int64), np.asarray(category, dtype=np.int64),
                               code, int(want))


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


def pairs_touching(group: np.ndarray, new: np.ndarray, mean_ties: float, rng: np.random.Generator,
                   alive: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Draw the pairs of :func:`pairs_within_groups` that involve a new member, drawing only those.

    The result has the distribution of ``pairs_within_groups(group, mean_ties, rng)`` filtered to
    the pairs with a ``new`` end (the same multiset of proposals in distribution; other draws):

    1. every new member of a group of ``m >= 2`` proposes Poisson(``mean_ties / 2``) ties to members
       chosen uniformly among the ``m - 1`` others;
    2. the ``m - k`` other members of a group with ``k`` new members together propose
       Poisson(``mean_ties / 2 * (m - k) * k / (m - 1)``) ties to new members: each such proposal from
       a member chosen uniformly among them to a new member chosen uniformly. (A member's proposals
       that reach a new member are the Poisson(``mean_ties / 2``) proposals thinned by ``k / (m - 1)``,
       and a sum of independent Poisson counts is a Poisson count whose events fall on each member
       in proportion to its rate.)

    The cost grows with the members of groups that have a new member and the pairs drawn, not with
    every member of every group.

    Args:
        group: Group id of each candidate slot (``-1``: not in any group), indexed by slot.
        new: Which slots are new (bool, indexed by slot).
        mean_ties: Mean number of ties each member gets.
        rng: The stream to draw from.
        alive: If given, only the slots where it is true are members (the others as if ``-1``).

    Returns:
        Arrays ``(a, b)`` (int64) of slot pairs, each with a new end (may contain duplicates).
    """
    empty = np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    if mean_ties <= 0 or group.size == 0:
        return empty
    from .network_kernel import groups_with_new

    start, members, n_new = groups_with_new(group, new, np.ones(group.size, dtype=bool) if alive is None else alive)
    return pairs_of_lists(start, members, n_new, mean_ties, rng)


def pairs_of_lists(start: np.ndarray, members: np.ndarray, n_new: np.ndarray, mean_ties: float,
                   rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Draw the pairs of :func:`pairs_touching` from the groups with a new member, listed.

    Group ``j`` has the members ``members[start[j]:start[j + 1]]``, its ``n_new[j]`` new members first
    (:func:`kyojosim.core.network_kernel.groups_with_new`; ``start`` may be a part of a longer list).
    """
    empty = np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    if n_new.size == 0 or mean_ties <= 0:
        return empty
    size = np.diff(start)
    # 1. the proposals of new members: to any other member of the group
    which = np.repeat(np.arange(n_new.size), n_new)  # the group of each new member
    pos = np.arange(which.size) - np.repeat(np.cumsum(n_new) - n_new, n_new)  # its place in the group's list
    k = rng.poisson(mean_ties / 2.0, size=which.size)
    src = np.repeat(np.arange(which.size), k)
    g = which[src]
    off = rng.integers(1, size[g])
    a1 = members[start[g] + pos[src]]
    b1 = members[start[g] + (pos[src] + off) % size[g]]
    # 2. the proposals of the other members that reach a new member
    old = size - n_new
    count = rng.poisson(mean_ties / 2.0 * old * n_new / (size - 1))
    g = np.repeat(np.arange(n_new.size), count)
    a2 = members[start[g] + n_new[g] + rng.integers(0, np.maximum(old[g], 1))]
    b2 = members[start[g] + rng.integers(0, n_new[g])]
    return np.concatenate([a1, a2]), np.concatenate([b1, b2])


def pair_strengths(adj: sp.csr_matrix, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Return the entries of ``adj`` at the pairs ``(a[i], b[i])`` as float64 (0 where they are not tied).

    What ``np.asarray(adj[a, b]).ravel()`` gives, found in compiled code row by row (the rows of a
    resident are short), without scipy's indexing machinery.
    """
    a = np.asarray(a, dtype=np.int64)
    b = np.asarray(b, dtype=np.int64)
    if a.size == 0:
        return np.zeros(0)
    if int(min(a.min(), b.min())) < 0 or int(max(a.max(), b.max())) >= adj.shape[0]:
        return np.asarray(adj[a, b], dtype=np.float64).ravel()  # scipy's rules for indices out of range
    from .network_kernel import pair_values

    return pair_values(adj.indptr, adj.indices, adj.data, a, b)


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
