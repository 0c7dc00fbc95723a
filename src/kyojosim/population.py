"""Resident and household state as numpy columns (structure of arrays).

Residents occupy *slots* ``0..n-1`` of every column; rules are written over whole columns.
A resident keeps its ``uid`` (the Mesa ``unique_id`` of its :class:`~kyojosim.agents.Resident`
handle) for life; slots move when :meth:`Population.compact` drops the dead and the departed
once a year. Households are indexed by household id.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .constants import CATEGORIES, N_AGE_BANDS, OFFLINE_COMMUNITIES, age_band

N_CATEGORIES = len(CATEGORIES)

N_OFFLINE = len(OFFLINE_COMMUNITIES)

RESIDENT_COLUMNS: dict[str, tuple[type, tuple[int, ...]]] = {
    "uid": (np.int64, ()),
    "age": (np.int16, ()),
    "sex": (np.int8, ()),
    "household": (np.int32, ()),
    "role": (np.int8, ()),
    "district": (np.int16, ()),
    "frail": (np.bool_, ()),
    "employed": (np.bool_, ()),
    "drives": (np.bool_, ()),
    "smartphone": (np.bool_, ()),
    "sns": (np.bool_, ()),
    "online": (np.uint8, ()),
    "groups": (np.int32, (N_OFFLINE,)),
    "will": (np.int8, (N_CATEGORIES,)),
    "platform_need": (np.uint8, ()),
    "platform_help": (np.uint8, ()),
    "aid_role": (np.uint8, ()),
    "trust_offline": (np.float32, ()),
    "trust_online": (np.float32, ()),
    "reciprocity": (np.float32, ()),
    "ask_factor": (np.float32, ()),
    "arrived": (np.int16, ()),
}
"""Column name -> (dtype, trailing shape). ``groups[:, k]`` is the group of community kind ``k``
(-1: not a member); ``online`` is a bit mask over ONLINE_COMMUNITIES; ``will[:, c]`` the willingness to help with
category ``c`` (WILL_NONE, WILL_FREE, WILL_PAID); ``platform_need`` and ``platform_help`` are bit
masks over CATEGORIES (would use a mutual-aid platform to ask for, or to offer, help with it);
``aid_role`` is a bit mask of roles in the interventions (AID_SUPPORTER, AID_CERTIFIED,
AID_REPORTER, AID_VOLUNTEER in kyojosim.constants); ``trust_offline``, ``trust_online`` and
``reciprocity`` are in [0, 1] and ``ask_factor`` multiplies the rate of asking (kyojosim.trust);
``arrived`` is the year the
resident was born in or moved to the municipality (the start year for the initial population)."""

HOUSEHOLD_COLUMNS: dict[str, type] = {"kind": np.int8, "district": np.int16, "block": np.int32}


@dataclass
class Population:
    """Columns of resident and household state.

    Attributes:
        n: Number of resident slots in use (alive or not yet compacted).
        alive: Whether each slot holds a resident still in the municipality.
        cols: The resident columns, each of length ``capacity``.
        n_households: Number of household ids in use.
        hh: The household columns.
    """

    n: int = 0
    capacity: int = 0
    alive: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    cols: dict[str, np.ndarray] = field(default_factory=dict)
    n_households: int = 0
    hh_capacity: int = 0
    hh: dict[str, np.ndarray] = field(default_factory=dict)
    hh_alive: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))

    def __post_init__(self) -> None:
        if not self.cols:
            self.cols = {k: np.zeros((0, *shape), dtype=dt) for k, (dt, shape) in RESIDENT_COLUMNS.items()}
            self.hh = {k: np.zeros(0, dtype=dt) for k, dt in HOUSEHOLD_COLUMNS.items()}

    # -- access ------------------------------------------------------------------------
    def __getattr__(self, name: str) -> np.ndarray:
        cols = self.__dict__.get("cols")
        if cols is not None and name in cols:
            return cols[name][: self.__dict__["n"]]
        raise AttributeError(name)

    @property
    def size(self) -> int:
        """Number of residents alive in the municipality."""
        return int(self.alive[: self.n].sum())

    def live(self) -> np.ndarray:
        """Return the slots of residents alive in the municipality."""
        return np.flatnonzero(self.alive[: self.n])

    def band(self) -> np.ndarray:
        """Return the age band of every slot."""
        return age_band(self.age)

    def household_sizes(self) -> np.ndarray:
        """Return the number of living members of every household id."""
        live = self.live()
        return np.bincount(self.household[live], minlength=self.n_households)

    def nbytes(self) -> int:
        """Bytes held by the columns (capacity included)."""
        total = sum(a.nbytes for a in self.cols.values()) + self.alive.nbytes
        return total + sum(a.nbytes for a in self.hh.values()) + self.hh_alive.nbytes

    # -- growth ------------------------------------------------------------------------
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

    def add(self, count: int, **values: np.ndarray | int) -> np.ndarray:
        """Append ``count`` residents; unspecified columns are 0 (``groups`` -1).

        Returns:
            The new slots.
        """
        self._grow(self.n + count)
        slots = np.arange(self.n, self.n + count)
        # slots freed by a compaction still hold the values of their former residents: clear them
        for col in self.cols.values():
            col[slots] = 0
        self.cols["groups"][slots] = -1
        for k, v in values.items():
            if k not in self.cols:
                raise KeyError(f"unknown resident column {k!r}")
            self.cols[k][slots] = v
        self.alive[slots] = True
        self.n += count
        return slots

    def add_households(self, count: int, **values: np.ndarray | int) -> np.ndarray:
        """Append ``count`` households and return their ids."""
        need = self.n_households + count
        if need > self.hh_capacity:
            cap = max(need, int(self.hh_capacity * 1.25) + 16)
            for k, a in self.hh.items():
                b = np.zeros(cap, dtype=a.dtype)
                b[: self.n_households] = a[: self.n_households]
                self.hh[k] = b
            alive = np.zeros(cap, dtype=bool)
            alive[: self.n_households] = self.hh_alive[: self.n_households]
            self.hh_alive = alive
            self.hh_capacity = cap
        ids = np.arange(self.n_households, need)
        for k, v in values.items():
            self.hh[k][ids] = v
        self.hh_alive[ids] = True
        self.n_households = need
        return ids

    def hcol(self, name: str) -> np.ndarray:
        """Return a household column (length ``n_households``)."""
        return self.hh[name][: self.n_households]

    def remove(self, slots: np.ndarray) -> None:
        """Mark residents as gone (dead or moved out); :meth:`compact` drops them later."""
        self.alive[slots] = False

    def compact(self) -> np.ndarray:
        """Drop the slots of residents who are gone and households left empty.

        Returns:
            ``new_slot`` with ``new_slot[old] = new`` for kept slots and ``-1`` for dropped ones.
        """
        keep = self.alive[: self.n]
        new_slot = np.full(self.n, -1, dtype=np.int64)
        kept = np.flatnonzero(keep)
        new_slot[kept] = np.arange(kept.size)
        for a in self.cols.values():
            a[: kept.size] = a[kept]
        self.alive[: kept.size] = True
        self.alive[kept.size : self.n] = False
        self.n = int(kept.size)
        sizes = np.bincount(self.household, minlength=self.n_households)
        self.hh_alive[: self.n_households] = sizes > 0
        return new_slot

    def band_counts(self) -> np.ndarray:
        """Return living residents by sex (rows) and age band (columns)."""
        live = self.live()
        idx = self.sex[live].astype(np.int64) * N_AGE_BANDS + age_band(self.age[live])
        return np.bincount(idx, minlength=2 * N_AGE_BANDS).reshape(2, N_AGE_BANDS)
