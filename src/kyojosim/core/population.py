"""Resident and household state as numpy columns (structure of arrays).

Residents occupy *slots* ``0..n-1`` of every column; rules are written over whole columns.
Every column is declared once, on its table class, as a typed :class:`Column`: ``pop.age`` is the
live view of the ages of slots ``0..n-1``, for reading and for writing (``pop.age[slots] += 1``).

A resident keeps its ``uid`` for life: the population numbers residents from 1 as they are added
and never reuses a number (a Mesa :class:`~kyojosim.agents.Resident` handle, when the model keeps
them, carries the same number as its ``unique_id``). Slots move when :meth:`Population.compact`
drops the dead and the departed once a year; :meth:`Population.slots_of` finds the current slot of
a uid. Households are indexed by household id (:class:`Households`, ``pop.hh``).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..constants import AGE_BAND_WIDTH, CATEGORIES, N_AGE_BANDS, OFFLINE_COMMUNITIES, age_band

N_CATEGORIES = len(CATEGORIES)

N_OFFLINE = len(OFFLINE_COMMUNITIES)


class Column:
    """One column of a table: ``table.<name>`` is the live view ``table.cols[name][:table.n]``.

    The view reads and writes the table's storage (``pop.age[slots] = 30``); assigning over the
    attribute itself (``pop.age = ...``) raises, so a column is never replaced by a copy.

    Args:
        dtype: The numpy dtype of the column.
        shape: Trailing shape of one row (``(N_CATEGORIES,)`` for one value per category).
        fill: Value of a new row that is not given (and of a reused slot).
        doc: What the column holds.
    """

    def __init__(self, dtype: Any, shape: tuple[int, ...] = (), fill: int | float = 0, doc: str = "") -> None:
        self.dtype = np.dtype(dtype)
        self.shape = tuple(shape)
        self.fill = fill
        self.__doc__ = doc
        self.name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, table: Table | None, owner: type | None = None) -> Any:
        if table is None:
            return self
        return table.cols[self.name][: table.n]

    def __set__(self, table: Table, value: Any) -> None:
        raise AttributeError(f"{type(table).__name__}.{self.name} is a column: write into it "
                             f"({self.name}[slots] = ...), not over it")

    def empty(self, rows: int) -> np.ndarray:
        """Return storage for ``rows`` rows of this column, filled with :attr:`fill`."""
        return np.full((rows, *self.shape), self.fill, dtype=self.dtype)


class Table:
    """Rows ``0..n-1`` of the :class:`Column` attributes declared on the class, with spare capacity.

    Attributes:
        n: Number of rows in use.
        capacity: Number of rows allocated.
        alive: Whether each row (of ``capacity``) holds a living member.
        cols: The storage of every column, each of length ``capacity``.
    """

    def __init__(self) -> None:
        self.n = 0
        self.capacity = 0
        self.alive = np.zeros(0, dtype=bool)
        self.cols: dict[str, np.ndarray] = {name: col.empty(0) for name, col in self.columns().items()}

    @classmethod
    def columns(cls) -> dict[str, Column]:
        """Return the columns of the table, in the order they are declared."""
        out: dict[str, Column] = {}
        for klass in reversed(cls.__mro__):
            out.update({k: v for k, v in vars(klass).items() if isinstance(v, Column)})
        return out

    def nbytes(self) -> int:
        """Bytes held by the columns (capacity included)."""
        return sum(a.nbytes for a in self.cols.values()) + self.alive.nbytes

    def _grow(self, need: int) -> None:
        if need <= self.capacity:
            return
        cap = max(need, int(self.capacity * 1.25) + 16)
        for k, a in self.cols.items():
            b = np.zeros((cap, *a.shape[1:]), dtype=a.dtype)
            b[: self.n] = a[: self.n]
            self.cols[k] = b
        alive = np.zeros(cap, dtype=bool)
        alive[: self.n] = self.alive[: self.n]
        self.alive = alive
        self.capacity = cap

    def _append(self, count: int, values: dict[str, Any]) -> np.ndarray:
        """Append ``count`` living rows: the given column values, :attr:`Column.fill` elsewhere."""
        self._grow(self.n + count)
        rows = np.arange(self.n, self.n + count)
        columns = self.columns()
        unknown = sorted(set(values) - set(columns))
        if unknown:
            raise KeyError(f"unknown {type(self).__name__} column {unknown[0]!r}; allowed: {', '.join(columns)}")
        # rows freed by a compaction still hold the values of their former members: clear them
        for name, col in columns.items():
            self.cols[name][rows] = col.fill
        for k, v in values.items():
            self.cols[k][rows] = v
        self.alive[rows] = True
        self.n += count
        return rows


class Households(Table):
    """The household columns, one row per household id (``pop.hh``); ids are never reused."""

    kind = Column(np.int8, doc="index into HOUSEHOLD_KINDS, derived from the members (kyojosim.core.households)")
    district = Column(np.int16, doc="district of the household")
    block = Column(np.int32, doc="block (班/組) of the household, numbered across the municipality")

    def add(self, count: int, **values: np.ndarray | int) -> np.ndarray:
        """Append ``count`` households (unspecified columns 0) and return their ids."""
        return self._append(count, values)


class Population(Table):
    """Columns of resident state (slots ``0..n-1``) and the households (:attr:`hh`).

    Attributes:
        n: Number of resident slots in use (alive or not yet compacted).
        alive: Whether each slot holds a resident still in the municipality.
        cols: The storage of the resident columns, each of length ``capacity``.
        hh: The household columns.
    """

    uid = Column(np.int64, doc="the resident's number, from 1, kept for life and never reused")
    age = Column(np.int16, doc="age in completed years")
    sex = Column(np.int8, doc="MALE or FEMALE")
    household = Column(np.int32, doc="household id (row of pop.hh)")
    role = Column(np.int8, doc="role in the household: ROLE_HEAD, ROLE_SPOUSE, ROLE_CHILD, ROLE_ELDER")
    district = Column(np.int16, doc="district of the resident's household")
    frail = Column(np.bool_, doc="needs care")
    employed = Column(np.bool_, doc="in work")
    drives = Column(np.bool_, doc="drives a car")
    smartphone = Column(np.bool_, doc="uses a smartphone")
    sns = Column(np.bool_, doc="uses social media")
    online = Column(np.uint8, doc="bit mask over ONLINE_COMMUNITIES (kyojosim.core.communities.ONLINE_BIT)")
    groups = Column(np.int32, (N_OFFLINE,), fill=-1,
                    doc="groups[:, k]: the group of community kind k (OFFLINE_COMMUNITIES), -1 if not a member")
    will = Column(np.int8, (N_CATEGORIES,),
                  doc="will[:, c]: willingness to help with category c (WILL_NONE, WILL_FREE, WILL_PAID)")
    platform_need = Column(np.uint8, doc="bit mask over CATEGORIES: would use a mutual-aid platform to ask for help")
    platform_help = Column(np.uint8, doc="bit mask over CATEGORIES: would offer help on a mutual-aid platform")
    aid_role = Column(np.uint8, doc="bit mask: AID_MEMBER, AID_CERTIFIED, AID_REPORTER, AID_VOLUNTEER")
    trust_offline = Column(np.float32, doc="trust in people met face to face, in [0, 1] (kyojosim.core.trust)")
    trust_online = Column(np.float32, doc="trust in people met online, in [0, 1]")
    reciprocity = Column(np.float32, doc="norm of reciprocity, in [0, 1]")
    ask_factor = Column(np.float32, doc="factor on the rate of asking offline, in (0, 1]")
    arrived = Column(np.int16, doc="year born in or moved to the municipality (the start year for the first residents)")

    def __init__(self) -> None:
        super().__init__()
        self.hh = Households()
        self.next_uid = 1
        """The uid the next resident added gets (uids count from 1, as Mesa numbers agents)."""
        self._slot_by_uid = np.full(1, -1, dtype=np.int64)
        self._marks = np.zeros(0, dtype=np.int64)  # the scratch of slot_marks (all zeros between calls)

    # -- access ------------------------------------------------------------------------
    @property
    def size(self) -> int:
        """Number of residents alive in the municipality."""
        return int(self.alive[: self.n].sum())

    @property
    def n_households(self) -> int:
        """Number of household ids in use (households are never renumbered)."""
        return self.hh.n

    def live(self) -> np.ndarray:
        """Return the slots of residents alive in the municipality."""
        return np.flatnonzero(self.alive[: self.n])

    def band(self) -> np.ndarray:
        """Return the age band of every slot."""
        return age_band(self.age)

    def household_sizes(self) -> np.ndarray:
        """Return the number of living members of every household id (int64)."""
        from .population_kernel import household_sizes

        return household_sizes(self.household, self.alive[: self.n], int(self.n_households))

    def slots_of(self, uids: np.ndarray | int) -> np.ndarray:
        """Return the current slot of each uid; -1 for a resident who died or left (or never was).

        Args:
            uids: Residents' uids (an array, or one uid).

        Returns:
            int64 slots, of the shape of ``uids``.
        """
        uids = np.asarray(uids, dtype=np.int64)
        index = self._slot_by_uid
        if uids.size == 0 or (int(uids.min()) >= 0 and int(uids.max()) < index.size):
            return index[uids]
        out = np.full(uids.shape, -1, dtype=np.int64)
        ok = (uids >= 0) & (uids < index.size)
        out[ok] = index[uids[ok]]
        return out

    def distinct_slots(self, slots: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Return the distinct slots of ``slots`` in the order they first occur, and how often each occurs.

        The values and counts of ``np.unique(slots, return_counts=True)``, in another order, found in one
        pass over ``slots`` (marks by slot kept between calls, so nothing the size of the population is
        allocated or cleared each time; a slot outside ``0 .. n - 1`` falls back to ``np.unique``).
        """
        slots = np.asarray(slots, dtype=np.int64).ravel()
        if slots.size == 0 or int(slots.min()) < 0 or int(slots.max()) >= self.n:
            return np.unique(slots, return_counts=True)
        from .population_kernel import distinct_counts

        return distinct_counts(slots, self.slot_marks())

    def slot_marks(self) -> np.ndarray:
        """Return a scratch array of int64 zeros, one (at least) per slot, for compiled passes that mark slots.

        Kept between calls, so that a pass over a few slots allocates and clears nothing the size of the
        population; a pass may count or number slots in it but must leave it all zeros.
        """
        if self._marks.size < self.n:
            self._marks = np.zeros(max(self.n, self.capacity), dtype=np.int64)
        return self._marks

    def nbytes(self) -> int:
        """Bytes held by the resident and household columns (capacity included)."""
        return super().nbytes() + self.hh.nbytes()

    def index_nbytes(self) -> int:
        """Bytes held by the uid -> slot index."""
        return int(self._slot_by_uid.nbytes)

    # -- change ------------------------------------------------------------------------
    def add(self, count: int, **values: np.ndarray | int) -> np.ndarray:
        """Append ``count`` residents with new uids; unspecified columns get their fill (0, ``groups`` -1).

        Returns:
            The new slots.
        """
        if "uid" in values:
            raise KeyError("the population numbers its residents: 'uid' is not given to add()")
        slots = self._append(count, values)
        uids = np.arange(self.next_uid, self.next_uid + count, dtype=np.int64)
        self.cols["uid"][slots] = uids
        self.next_uid += count
        if self.next_uid > self._slot_by_uid.size:
            grown = np.full(max(self.next_uid, int(self._slot_by_uid.size * 1.25) + 16), -1, dtype=np.int64)
            grown[: self._slot_by_uid.size] = self._slot_by_uid
            self._slot_by_uid = grown
        self._slot_by_uid[uids] = slots
        return slots

    def add_households(self, count: int, **values: np.ndarray | int) -> np.ndarray:
        """Append ``count`` households and return their ids."""
        return self.hh.add(count, **values)

    def remove(self, slots: np.ndarray) -> None:
        """Mark residents as gone (dead or moved out); :meth:`compact` drops their slots later."""
        self.alive[slots] = False
        self._slot_by_uid[self.cols["uid"][slots]] = -1

    def compact(self) -> np.ndarray:
        """Drop the slots of residents who are gone, and mark households left empty.

        Returns:
            ``new_slot`` with ``new_slot[old] = new`` for kept slots and ``-1`` for dropped ones.
        """
        from .population_kernel import compact_rows, compact_values, compaction_plan

        keep = self.alive[: self.n]
        # the new slots, the uid index and the inhabited households in one pass (before the uids move)
        new_slot = compaction_plan(keep, self.uid, self.household, self._slot_by_uid,
                                   self.hh.alive[: self.n_households])
        for a in self.cols.values():  # a[: kept.size] = a[kept], in place
            # each row read as the fewest unsigned words (one 64-bit word for the 8 categories' willingness)
            rows = a.reshape(a.shape[0], math.prod(a.shape[1:]))
            word = next(w for w in (8, 4, 2, 1) if rows.shape[1] * a.itemsize % w == 0)
            rows = rows.view(f"u{word}")
            if rows.shape[1] == 1:
                compact_values(rows.reshape(-1), keep)
            else:
                compact_rows(rows, keep)
        kept = int(np.count_nonzero(keep))
        self.alive[:kept] = True
        self.alive[kept : self.n] = False
        self.n = kept
        return new_slot

    def band_counts(self) -> np.ndarray:
        """Return living residents by sex (rows) and age band (columns), counted in one compiled pass."""
        from .population_kernel import sex_band_counts

        return sex_band_counts(self.sex, self.age, self.alive[: self.n], AGE_BAND_WIDTH, N_AGE_BANDS)


def any_per_row(mask: np.ndarray) -> np.ndarray:
    """Return ``mask.any(axis=1)`` for a 2-D bool array; a row of 8 bytes is read as one 64-bit word."""
    mask = np.asarray(mask)
    if mask.ndim == 2 and mask.shape[1] == 8 and mask.dtype == np.bool_ and mask.flags.c_contiguous:
        return mask.view(np.uint64)[:, 0] != 0
    return mask.any(axis=1)

