"""Residents as Mesa agents: thin handles onto the model's columns.

A :class:`Resident` carries identity (its ``unique_id``, the resident's ``uid`` in the population)
and reads its state from the model's numpy columns, so Mesa tools (``model.agents``,
``AgentSet.select``, a ``DataCollector`` with agent reporters) work on it, while the simulation's
rules run over whole columns and never loop over these objects.

A model built with ``agents=False`` keeps no handles (they cost more memory than the state they
point to); :meth:`kyojosim.model.KyojoModel.resident` then returns a :class:`ResidentView`, the
same reading of one resident's row, built on demand and not registered with Mesa.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa
import numpy as np

from .constants import HOUSEHOLD_KINDS, OFFLINE_COMMUNITIES, ONLINE_COMMUNITIES, ROLES, SEXES

if TYPE_CHECKING:
    from .model import KyojoModel


class ResidentState:
    """One resident's state, read from the model's columns by ``unique_id`` (the population's uid)."""

    model: KyojoModel
    unique_id: int

    @property
    def slot(self) -> int:
        """The resident's current row in the columns (changes when the columns are compacted)."""
        return self.model.slot_of(self.unique_id)

    def _col(self, name: str):
        return getattr(self.model.population, name)[self.slot]

    @property
    def age(self) -> int:
        """Age in completed years."""
        return int(self._col("age"))

    @property
    def sex(self) -> str:
        """``"male"`` or ``"female"``."""
        return SEXES[int(self._col("sex"))]

    @property
    def household(self) -> int:
        """Household id."""
        return int(self._col("household"))

    @property
    def household_kind(self) -> str:
        """Kind of the resident's household (e.g. ``"single_elderly"``)."""
        return HOUSEHOLD_KINDS[int(self.model.population.hh.kind[self.household])]

    @property
    def role(self) -> str:
        """Role in the household: head, spouse, child or elder."""
        return ROLES[int(self._col("role"))]

    @property
    def district(self) -> str:
        """Name of the district the resident lives in."""
        return self.model.scenario.municipality.districts[int(self._col("district"))].name

    @property
    def frail(self) -> bool:
        """Whether the resident is frail (needs care)."""
        return bool(self._col("frail"))

    @property
    def employed(self) -> bool:
        """Whether the resident is employed."""
        return bool(self._col("employed"))

    @property
    def drives(self) -> bool:
        """Whether the resident drives."""
        return bool(self._col("drives"))

    @property
    def smartphone(self) -> bool:
        """Whether the resident uses a smartphone."""
        return bool(self._col("smartphone"))

    @property
    def sns(self) -> bool:
        """Whether the resident uses social media."""
        return bool(self._col("sns"))

    @property
    def communities(self) -> list[str]:
        """Kinds of real-world and online community the resident takes part in."""
        groups = self._col("groups")
        online = int(self._col("online"))
        out = [name for name, g in zip(OFFLINE_COMMUNITIES, groups, strict=True) if g >= 0]
        return out + [name for i, name in enumerate(ONLINE_COMMUNITIES) if online >> i & 1]

    def ties(self) -> list[tuple[int, int, float]]:
        """Return the resident's ties as ``(other unique_id, kind bits, strength)``."""
        s = self.slot
        t = self.model.ties
        uid = self.model.population.uid
        sel_a, sel_b = t.a == s, t.b == s
        other = np.concatenate([t.b[sel_a], t.a[sel_b]])
        kind = np.concatenate([t.kind[sel_a], t.kind[sel_b]])
        strength = np.concatenate([t.strength[sel_a], t.strength[sel_b]])
        return [(int(uid[o]), int(k), float(w)) for o, k, w in zip(other, kind, strength, strict=True)]

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.unique_id}, age={self.age}, {self.sex}, {self.district})"


class Resident(ResidentState, mesa.Agent):
    """One resident of the municipality as a Mesa agent (a view onto its row of the model's columns).

    Args:
        model: The model.
        unique_id: The resident's uid in the population (:attr:`kyojosim.core.population.Population.uid`).
        register: Register with the model now (Mesa's ``register_agent``); ``False`` for handles the
            model registers as a batch (:meth:`kyojosim.model.KyojoModel.update_handles`).
    """

    def __init__(self, model: KyojoModel, unique_id: int, register: bool = True) -> None:
        # mesa.Agent.__init__ would number the agent from Mesa's class-level counter (mesa.Agent._ids,
        # a dict keyed by the model, which keeps every model alive); the population numbers residents
        # itself, so the handle takes that number and registers with the model as Mesa's own does
        self.model = model
        self.unique_id = int(unique_id)
        self.pos = None
        if register:
            model.register_agent(self)


class ResidentView(ResidentState):
    """One resident of a model without Mesa handles (``KyojoModel(agents=False)``), built on demand.

    It reads the same state as a :class:`Resident` but is not a Mesa agent: it is not in
    ``model.agents`` and is not kept by the model.
    """

    def __init__(self, model: KyojoModel, unique_id: int) -> None:
        self.model = model
        self.unique_id = int(unique_id)
