"""Arrays rebuilt every year, kept and filled again in place instead of allocated anew.

Some arrays are made again at every turn of the year and live for the whole year after it (the
adjacency of the ties, for instance). Allocating each year's copy anew, while the temporaries of the
turn come and go around it, leaves the freed copies as holes in the heap that the allocator keeps:
the process's memory grows turn after turn although the simulation state hardly does. A
:class:`Refill` keeps one array with room to grow and hands out its first elements again at the
next rebuild, so the long-lived array stays where it is and the temporaries reuse the same free
memory every year. It is filled again only when nothing else holds a view of it (a caller who kept
last year's adjacency keeps it unchanged): otherwise, and when it is too small, a new array is made.
"""

from __future__ import annotations

import sys

import numpy as np

GROWTH = 1.25
"""A new array has this much room (times the size asked for), so that it serves the next years' growth."""


class Refill:
    """One long-lived array, handed out again (its first elements) at every rebuild where that is safe.

    Args:
        dtype: The array's element type.
        growth: Room of a new array, relative to the size asked for (at least 1).
    """

    def __init__(self, dtype: np.dtype | type, growth: float = GROWTH) -> None:
        if growth < 1:
            raise ValueError(f"growth must be at least 1, got {growth}")
        self.dtype = np.dtype(dtype)
        self.growth = float(growth)
        self._owner: np.ndarray | None = None
        self._probe = np.empty(0, dtype=self.dtype)  # held as the kept array is: the reference count of no view
        self.in_use = 0
        """Elements handed out by the last :meth:`take` (the rest of the kept array is room to grow)."""

    def take(self, size: int) -> np.ndarray:
        """Return an array of ``size`` elements whose contents are undefined (to be written in full).

        It is the kept array's first ``size`` elements when the kept array is large enough and nothing
        but this object holds it or a view of it; else a new array with room (the kept one is let go:
        freed, or left to whoever still holds it).
        """
        owner, probe = self._owner, self._probe
        if owner is None or owner.size < size or not self._only_here(owner, probe):
            self._owner = owner = None  # let go of the old one before the new one is made
            owner = np.empty(max(int(size * self.growth), size), dtype=self.dtype)
            self._owner = owner
        self.in_use = int(size)
        return owner[:size]

    def scratch(self, size: int) -> np.ndarray:
        """Return :meth:`take`'s array for scratch work within one call: none of it counts as in use afterwards.

        The kept array then holds nothing between the calls (:attr:`in_use` is 0: all of it is room), but it
        stays allocated, so the next call writes into memory the process already has.
        """
        out = self.take(size)
        self.in_use = 0
        return out

    def release(self) -> None:
        """Let go of the kept array (it is freed once no view of it is held elsewhere)."""
        self._owner = None
        self.in_use = 0

    @property
    def capacity(self) -> int:
        """Elements of the kept array (0 when none is kept)."""
        return 0 if self._owner is None else int(self._owner.size)

    @staticmethod
    def _only_here(owner: np.ndarray, probe: np.ndarray) -> bool:
        """Whether ``owner`` is referenced only as ``probe`` is (an attribute, the caller's name, this argument).

        Every view of an array holds a reference to it (views of views to the array that owns the memory),
        so CPython's reference count tells whether any view handed out earlier is still alive, as numpy's
        own ``ndarray.resize`` checks before it moves an array. The count is compared with that of an array
        nobody else holds, referenced the same way, so the interpreter's own references cancel out. Where
        reference counts are not available, the array is never reused.
        """
        getrefcount = getattr(sys, "getrefcount", None)
        if getrefcount is None:
            return False
        return getrefcount(owner) <= getrefcount(probe)

    def __getstate__(self) -> dict:
        """Pickle without the kept array (it holds no state: the next :meth:`take` makes a new one)."""
        state = dict(self.__dict__)
        state["_owner"], state["in_use"] = None, 0
        return state

    def __setstate__(self, state: dict) -> None:
        """Restore a pickled :class:`Refill` (with a probe of its own)."""
        self.__dict__.update(state)
        self._probe = np.empty(0, dtype=self.dtype)


__all__ = ["GROWTH", "Refill"]
