"""The kyojosim model: a Mesa model of a municipality's residents, their ties and its decline."""

from __future__ import annotations

import gc
import itertools
import logging
import math
import operator
import time
import weakref
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import mesa
import numpy as np
import pandas as pd

from .agents import Resident, ResidentView
from .aid.channels.local_sns import MeetingLog
from .aid.round import MutualAid
from .constants import HOUSEHOLD_KINDS, age_band
from .core.communities import Chapters, chapters_of, chapters_renumbered, join_communities, participation_mix
from .core.community_dynamics import yearly_memberships
from .core.demography import YearEvents, changed_household, yearly_demography
from .core.helping import draw_willingness
from .core.households import classify
from .core.ict import ict_uptake
from .core.lifecourse import yearly_life_course
from .core.network import TieBatch
from .core.streams import Streams
from .core.synthesis import build_ties, draw_traits, household_ties, synthesize
from .core.trust import initial_trust, yearly_participation, yearly_willingness
from .measures import community_value, tsunagari
from .measures.outcomes import (
    TABLES,
    OutcomeError,
    age_structure_rows,
    make_datacollector,
    record_month,
    start_month,
    table_frame,
)
from .measures.yearly import year_record
from .params.scenario import Scenario, load_scenario

DAYS_PER_YEAR = 365.25

_MESA_LOG = logging.getLogger("MESA.mesa.model")
"""Mesa's logger of agent registration (``mesa.model``): with its debug level on, handles register one by one."""
_REMOVED = object()
"""What popping a handle gone from Mesa's hard references gives back (any value Mesa keeps there is not it)."""


class KyojoModel(mesa.Model):
    """Residents of one municipality, their households, communities and ties, week by week.

    Build it from a scenario (:meth:`from_scenario`) or with plain keyword parameters, which is
    what :func:`mesa.batch_run` does::

        model = KyojoModel(scenario="yamae", seed=3, simulation__years=10)
        mesa.batch_run(KyojoModel, {"scenario": "yamae", "seed": [1, 2]}, max_steps=104)

    Every resident has a Mesa :class:`~kyojosim.agents.Resident` handle (``model.agents``) unless
    the model is built with ``agents=False``: the handles cost more memory than the whole state
    and nothing in the simulation reads them, so sweeps, projections and the dashboard can do
    without. :meth:`resident` then builds a :class:`~kyojosim.agents.ResidentView` on demand.

    Args:
        scenario: A :class:`~kyojosim.params.scenario.Scenario`, a scenario file, or a bundled name.
        seed: Seed of every random stream (overrides ``simulation.seed``).
        years: Length of the run in years (overrides ``simulation.years``).
        scale: Fraction of residents simulated (overrides ``municipality.scale``).
        overrides: Dotted-path overrides, e.g. ``{"demography.fertility.tfr": 1.6}``.
        agents: Keep a Mesa :class:`~kyojosim.agents.Resident` handle for every resident (the
            default, for Mesa tools); ``False`` for runs that need none (less memory, no
            :meth:`release` needed).
        **params: The same overrides as keywords, ``__`` for dots (``demography__fertility__tfr=1.6``).
    """

    def __init__(
        self,
        scenario: Scenario | str | Path = "yamae",
        seed: int | None = None,
        years: int | None = None,
        scale: float | None = None,
        overrides: Mapping[str, Any] | None = None,
        agents: bool = True,
        **params: Any,
    ) -> None:
        over = dict(overrides or {})
        over.update({k.replace("__", "."): v for k, v in params.items()})
        if seed is not None:
            over["simulation.seed"] = int(seed)
        if years is not None:
            over["simulation.years"] = int(years)
        if scale is not None:
            over["municipality.scale"] = float(scale)
        if isinstance(scenario, Scenario):
            scn = scenario.replace(**over) if over else scenario
        else:
            scn = load_scenario(scenario, over)
        super().__init__(seed=scn.simulation.seed)
        self.scenario = scn
        self.streams = Streams(scn.simulation.seed)
        self.start_year = scn.municipality.start_year
        self.year = self.start_year
        self.days = 0.0
        self.n_steps = math.ceil(scn.simulation.years * DAYS_PER_YEAR / scn.simulation.step_days)
        self.running = self.n_steps > 0
        # initialisation (ODD §5): synthetic population, memberships, network
        self.population, self.ties, self.community_levels = synthesize(scn, self.streams)
        draw_willingness(self.population, scn, np.arange(self.population.n), self.streams["willingness"])
        initial_trust(self.population, scn, np.arange(self.population.n), self.streams["trust"], by_participation=True)
        self.keeps_agents = bool(agents)
        """Whether every resident has a Mesa handle (``model.agents``)."""
        self._handles: np.ndarray | None = np.empty(0, dtype=object) if agents else None
        self._attach_handles(np.arange(self.population.n))
        self.meeting_log = MeetingLog()  # face-to-face meetings of online acquaintances (local SNS, offline events)
        self.tsunagari_groups = tsunagari.FrameGroups()  # the survey frame's groups, kept within a year
        self.timings: dict[str, float] = dict.fromkeys([name for name, _ in YEARLY] + ["mutual_aid"], 0.0)
        """Seconds spent in each yearly submodel (names of :data:`YEARLY`) and in the weekly round of mutual aid."""
        self.last_events: YearEvents | None = None
        # every table is recorded through the DataCollector, declared in kyojosim.measures.outcomes.TABLES
        self.datacollector = make_datacollector(self._reporters(), [d.name for d in scn.municipality.districts])
        self.stats: dict[str, Any] = {}
        self.month = start_month(self.start_year)  # the calendar month the latest records belong to
        self._record_year(None)
        self.aid = MutualAid(self)
        self.datacollector.collect(self)
        self._record_tsunagari()

    # -- construction helpers -----------------------------------------------------------
    @classmethod
    def from_scenario(cls, scenario: Scenario | str | Path, **overrides: Any) -> KyojoModel:
        """Build a model from a scenario (object, file or bundled name) with keyword overrides."""
        return cls(scenario=scenario, **overrides)

    def _attach_handles(self, slots: np.ndarray) -> None:
        """Create a :class:`Resident` handle for each slot (if the model keeps handles).

        The handles are kept by uid (``_handles[uid]``): uids are never reused, so the array only grows
        at its end and the yearly compaction of the slots leaves it as it is.
        """
        if self._handles is None or slots.size == 0:
            return
        uids = self.population.uid[slots]
        # a plain loop of constructors (create_agents also builds a throwaway AgentSet), registered as a
        # batch; the cyclic garbage collector is paused meanwhile, as hundreds of thousands of new objects
        # trigger it, and the new handles then go straight to its oldest generation
        enabled = gc.isenabled()
        gc.disable()
        try:
            agents = [Resident(self, uid, register=False) for uid in uids.tolist()]
            self._register_handles(agents)
            _to_oldest_generation()
        finally:
            if enabled:
                gc.enable()
        self._grow_handles()
        self._handles[uids] = agents

    def _register_handles(self, agents: list[Resident]) -> None:
        """Register new handles with Mesa, in order: the state ``register_agent`` of each in turn leaves.

        The same three entries per agent (the model's hard reference and its place in ``agents_by_type``
        and ``agents``), added registry by registry through Mesa's public ``AgentSet.add``, without
        ``register_agent``'s per-agent call and log line; with Mesa's debug log on, each goes through
        ``register_agent`` so that the log is complete.
        """
        if _MESA_LOG.isEnabledFor(logging.DEBUG) or not agents:
            for agent in agents:
                self.register_agent(agent)
            return
        if Resident not in self.agents_by_type:
            self.register_agent(agents[0])  # Mesa makes the AgentSet of the type
            agents = agents[1:]
        self._agents.update(zip(agents, itertools.repeat(None)))  # mesa.Model's own dict of hard references
        for agent_set in (self.agents_by_type[Resident], self.agents):
            _add_all(agent_set, agents)

    def _deregister_handles(self, agents: list[Resident]) -> None:
        """Remove handles from Mesa: what ``agent.remove()`` of each does (``deregister_agent``, once per agent).

        Handles removed already (by their own ``remove``) are skipped, as ``remove`` skips them. With
        Mesa's debug log on, each goes through ``remove`` so that the log is complete.
        """
        if _MESA_LOG.isEnabledFor(logging.DEBUG):
            for agent in agents:
                agent.remove()
            return
        # each popped from the hard references in one pass: those registered (Mesa keeps None for each) are
        # removed from the agent sets, those removed already (the marker comes back) are skipped
        popped = list(map(self._agents.pop, agents, itertools.repeat(_REMOVED)))
        agents = list(itertools.compress(agents, map(operator.is_not, popped, itertools.repeat(_REMOVED))))
        refs = list(map(weakref.ref, agents))  # the weak-dictionary keys of both sets, made once
        for agent_set in (self.agents_by_type[Resident], self.agents):
            _remove_all(agent_set, agents, refs)

    def _grow_handles(self) -> None:
        """Make room in the handle array for every uid given so far, and a quarter more for the years to come.

        Copying the array touches the reference count of every handle (hundreds of thousands of scattered
        objects), so it is grown rarely: with the room to spare, a town of stable size grows it every few years.
        """
        need = self.population.next_uid
        if self._handles is not None and need > self._handles.size:
            h = np.empty(int(need * 1.25) + 16, dtype=object)
            h[: self._handles.size] = self._handles
            self._handles = h

    def update_handles(self, arrived: np.ndarray, gone: np.ndarray) -> None:
        """Give the residents who arrived (slots) a Mesa handle if still in town; remove the handles of those gone.

        ``gone`` are slots before the compaction (their uids are still in the column). Does nothing in a
        model without handles (``agents=False``).
        """
        if self._handles is None:
            return
        self._attach_handles(arrived[self.population.alive[arrived]])
        if gone.size == 0:
            return
        self._grow_handles()
        uids = self.population.uid[gone]
        self._deregister_handles([agent for agent in self._handles[uids].tolist() if agent is not None])
        self._handles[uids] = None

    def compact(self) -> np.ndarray:
        """Drop the slots of the dead and departed (:meth:`Population.compact`); the ties follow.

        The handles are kept by uid and need no change.

        Returns:
            ``new_slot`` with ``new_slot[old] = new`` for kept slots and ``-1`` for dropped ones.
        """
        new_slot = self.population.compact()
        self.ties.remap(new_slot)
        return new_slot

    def slot_of(self, unique_id: int) -> int:
        """Return the current column row of the resident with ``unique_id`` (-1 if gone)."""
        return int(self.population.slots_of(unique_id))

    def resident(self, unique_id: int) -> Resident | ResidentView | None:
        """Return the resident with ``unique_id``, or ``None`` if gone.

        With handles (the default) this is the resident's Mesa :class:`Resident`; in a model built
        with ``agents=False``, a :class:`~kyojosim.agents.ResidentView` made now (not a Mesa agent).
        """
        s = self.slot_of(unique_id)
        if s < 0:
            return None
        if self._handles is None:
            return ResidentView(self, unique_id)
        return self._handles[unique_id]

    # -- the schedule ---------------------------------------------------------------------
    def step(self) -> None:
        """Advance one step (a week by default): the process overview of docs/ODD.md §3.1.

        1. Advance the clock; for each calendar year that ended, :meth:`turn_of_year` runs the
           yearly submodels of :data:`YEARLY` (§3.2).
        2. The week of mutual aid (:meth:`kyojosim.aid.round.MutualAid.week`): needs arise, surface
           through the channels, are matched to helpers or lapse.
        3. Record the weekly series (the DataCollector's model reporters), and, in the week a
           calendar month ends (:func:`kyojosim.measures.outcomes.record_month`) and at the last step, the
           channels' monthly dynamics and counts (:meth:`kyojosim.aid.round.MutualAid.monthly`; the
           dynamics only when a month ended), the つながり力 summary
           (:func:`kyojosim.measures.tsunagari.summary_rows`) and, while the local SNS runs, its
           Community Value (:func:`kyojosim.measures.community_value.monthly_record`), as rows of
           the DataCollector's tables (:data:`kyojosim.measures.outcomes.TABLES`).
        4. Stop once the run's number of steps is reached.
        """
        for year in self._advance_clock():
            self.turn_of_year(year)
        t0 = time.perf_counter()
        self.aid.week(self.steps)
        self.timings["mutual_aid"] += time.perf_counter() - t0
        step_days = self.scenario.simulation.step_days
        self.month, month_ended = record_month(self.days - step_days, self.days, self.start_year, DAYS_PER_YEAR)
        self.datacollector.collect(self)
        if month_ended or self.steps >= self.n_steps:
            self.aid.monthly(self.steps, dynamics=month_ended)
            self._record_tsunagari()
            self._record_community_value()
        if self.steps >= self.n_steps:
            self.running = False

    def run_model(self, progress: Callable[[KyojoModel], None] | None = None) -> None:
        """Step until the run ends (Mesa's ``run_model``), calling ``progress(model)`` after every step if given."""
        if progress is None:
            super().run_model()
            return
        while self.running:
            self.step()
            progress(self)

    def _advance_clock(self) -> range:
        """Add a step's days to the clock; return the calendar years that ended (normally none)."""
        before = self.year
        self.days += self.scenario.simulation.step_days
        self.year = self.start_year + int(self.days // DAYS_PER_YEAR)
        return range(before, self.year)

    def turn_of_year(self, year: int) -> None:
        """Run the yearly submodels of :data:`YEARLY` for the year that ends, in order (docs/ODD.md §3.2).

        Each submodel's time is added to :attr:`timings` under its name.
        """
        state = YearState(year)
        for name, submodel in YEARLY:
            t0 = time.perf_counter()
            submodel(self, state)
            self.timings[name] += time.perf_counter() - t0
        if state.new_ties is not None:
            state.new_ties.flush()  # nothing left unmerged (the batch is empty after ``household_ties``)

    # -- metrics ----------------------------------------------------------------------------
    def _record_year(self, events: YearEvents | None) -> None:
        """Record the ``years`` row and the ``age_structure`` rows of the year (at the start and every turn)."""
        row, bands = year_record(self, events)
        self.stats = row
        dc = self.datacollector
        dc.add_table_row("years", row)
        for r in age_structure_rows(self.year, bands, self.scenario.municipality.scale):
            dc.add_table_row("age_structure", r)

    def _record_tsunagari(self) -> None:
        """Record the つながり力 summary (:func:`kyojosim.measures.tsunagari.summary_rows`)."""
        for row in tsunagari.summary_rows(self):
            self.datacollector.add_table_row("tsunagari", row)

    def _record_community_value(self) -> None:
        """Record the local SNS's monthly Community Value (:mod:`kyojosim.measures.community_value`) while it runs."""
        sns = self.aid.channel("local_sns")
        if sns is None or not sns.active():
            return
        rng = self.streams.fresh("community_value", self.steps)
        self.datacollector.add_table_row("community_value", community_value.monthly_record(self, sns, rng))

    def _reporters(self) -> dict[str, Any]:
        """Return the weekly reporters: one per column of ``steps`` (the week's aid record, else the year's)."""

        def weekly(column: str):
            if column == "year":
                return lambda m: m.year
            if column == "month":
                return lambda m: m.month
            return lambda m: _weekly_value(m, column)

        return {c: weekly(c) for c in TABLES["steps"].columns if c != "step"}

    def table(self, name: str) -> pd.DataFrame:
        """Return a table recorded so far as a frame (``years``, ``steps`` ...; see ``measures.outcomes.TABLES``)."""
        return table_frame(self.datacollector, name)

    def release(self) -> None:
        """Let a model with Mesa handles be freed once the caller drops it; the model must not be used afterwards.

        Only a model that keeps handles (``agents=True``, the default) needs this: its handles live in a
        numpy object array, which the cyclic garbage collector does not traverse, so the cycle model ->
        handles -> resident -> model would never be collected. This empties the array. A model built with
        ``agents=False`` holds no such cycle and is freed like any object (``release`` does nothing
        there). No class-level registry keeps a model alive: residents take their ``unique_id`` from the
        population, not from Mesa's per-model counter ``mesa.Agent._ids``. Runners that build model after
        model in one process (sweeps, variants, projections) call it when they are done with a model.
        """
        if self._handles is not None:
            self._handles.fill(None)

    # -- conveniences -----------------------------------------------------------------------
    def participation(self, ages: tuple[int, int] | None = None) -> dict[str, float]:
        """Return the participation mix of living residents (optionally of an age range)."""
        return participation_mix(self.population, ages)

    def household_shares(self) -> dict[str, float]:
        """Return the share of households of each kind."""
        kind = self.population.hh.kind
        kind = kind[kind >= 0]
        counts = np.bincount(kind, minlength=len(HOUSEHOLD_KINDS))
        total = max(int(counts.sum()), 1)
        return {k: float(c / total) for k, c in zip(HOUSEHOLD_KINDS, counts, strict=True)}

    def age_band_counts(self) -> np.ndarray:
        """Return living residents by sex and 5-year age band (2 x 18)."""
        return self.population.band_counts()

    def memory_bytes(self) -> dict[str, int]:
        """Bytes held by resident columns, ties, the uid index and the handle array (not the Mesa objects)."""
        handles = self._handles.nbytes if self._handles is not None else 0
        return {
            "columns": self.population.nbytes(),
            "ties": self.ties.nbytes(),
            "index": self.population.index_nbytes() + handles,
        }


def _weekly_value(model: KyojoModel, column: str) -> Any:
    """Return a column of the weekly series: the week's aid record (at step 0: the initial state's), else the year's."""
    last = model.aid.last
    if column in last:
        return last[column]
    if column in model.stats:
        return model.stats[column]
    if not last:
        return 0  # the initial state: no week of mutual aid yet
    raise OutcomeError(f"the steps table declares {column!r}, which neither the week's aid record nor the year's "
                       "row holds (kyojosim.measures.outcomes.TABLES)")


def draw_traits_births(pop, births: np.ndarray) -> None:
    """Newborns: not frail, not employed, no car, no phone, no communities."""
    pop.frail[births] = False
    pop.employed[births] = False
    pop.drives[births] = False
    pop.smartphone[births] = False
    pop.sns[births] = False
    pop.online[births] = 0
    pop.groups[births] = -1


# -- the turn of the year, one submodel per step of docs/ODD.md §3.2 --------------------------------

_NO_SLOTS = np.zeros(0, dtype=np.int64)


@dataclass
class YearState:
    """What the yearly submodels hand to each other during one turn of the year.

    Slots are those before the compaction unless said otherwise.

    Attributes:
        year: The calendar year that ends.
        events: Who died, was born, left and arrived (``demography``).
        rehoused: Residents who stayed in town but now live in another household (``demography``).
        newcomers: Newborns and in-migrants (``demography``).
        adults: Residents who came of age (``life_course``).
        new_slot: ``new_slot[old]``: the slot after compaction, -1 if dropped (``compaction``).
        moved: Slots after compaction of the residents tied in this year: newcomers and those who came
            of age (``newcomer_ties``).
        new_ties: The ties made by ``newcomer_ties``, ``community_dynamics`` and ``household_ties``, merged
            into the network in one pass at the end of ``household_ties`` (no entry between them reads the
            ties; merging is order-free, so the network is the one adding each batch in turn gives).
        chapters: The chapter lists of the local kinds read before the in-migrants joined
            (``in_migrant_memberships``); the newcomers' community ties are read from them.
        joined_chapters: The chapter lists after the in-migrants joined, for those who come of age
            (``in_migrant_memberships``).
    """

    year: int
    events: YearEvents | None = None
    rehoused: np.ndarray = field(default_factory=lambda: _NO_SLOTS)
    newcomers: np.ndarray = field(default_factory=lambda: _NO_SLOTS)
    adults: np.ndarray = field(default_factory=lambda: _NO_SLOTS)
    new_slot: np.ndarray = field(default_factory=lambda: _NO_SLOTS)
    moved: np.ndarray = field(default_factory=lambda: _NO_SLOTS)
    new_ties: TieBatch | None = None
    chapters: Chapters | None = None
    joined_chapters: Chapters | None = None


def _new_ties(m: KyojoModel, ys: YearState) -> TieBatch:
    """Return the batch of the ties made in this turn (see :attr:`YearState.new_ties`)."""
    if ys.new_ties is None:
        ys.new_ties = TieBatch(m.ties)
    return ys.new_ties


def _fresh(m: KyojoModel, stream: str, ys: YearState) -> np.random.Generator:
    """Return the stream ``stream`` of the year that ends."""
    return m.streams.fresh(stream, ys.year)


def _demography(m: KyojoModel, ys: YearState) -> None:
    """Ageing, deaths, births, migration and household change; note who changed household and who came."""
    pop = m.population
    household_before = pop.household.copy()
    ys.events = yearly_demography(pop, m.scenario, ys.year, _fresh(m, "demography", ys), _fresh(m, "migration", ys),
                                  _fresh(m, "households", ys))
    # residents who changed household (a union, an elder moving in with family, a child leaving home)
    ys.rehoused = changed_household(pop, household_before)
    ys.newcomers = np.concatenate([ys.events.births, ys.events.in_migrants])


def _in_migrant_traits(m: KyojoModel, ys: YearState) -> None:
    draw_traits(m.population, m.scenario, _fresh(m, "traits", ys), _fresh(m, "ict", ys), slots=ys.events.in_migrants)


def _newcomer_willingness(m: KyojoModel, ys: YearState) -> None:
    draw_willingness(m.population, m.scenario, ys.newcomers, _fresh(m, "willingness", ys))


def _newcomer_trust(m: KyojoModel, ys: YearState) -> None:
    initial_trust(m.population, m.scenario, ys.newcomers, _fresh(m, "trust", ys))


def _in_migrant_memberships(m: KyojoModel, ys: YearState) -> None:
    # the town's chapter lists, read once: the joins of this turn and the newcomers' ties use them
    ys.chapters = chapters_of(m.population)
    ys.joined_chapters = join_communities(m.population, ys.events.in_migrants, m.scenario,
                                          _fresh(m, "communities", ys), m.community_levels, ys.chapters)


def _life_course(m: KyojoModel, ys: YearState) -> None:
    ys.adults = yearly_life_course(m.population, m.scenario, _fresh(m, "lifecourse", ys), m.community_levels,
                                   skip=ys.events.in_migrants, chapters=ys.joined_chapters)


def _weak_dict(agent_set: mesa.agent.AgentSet) -> weakref.WeakKeyDictionary | None:
    """Return the weak dictionary behind a Mesa ``AgentSet`` (Mesa 3.3's ``_agents``), or None if it is not one."""
    wkd = getattr(agent_set, "_agents", None)
    if type(wkd) is weakref.WeakKeyDictionary and hasattr(wkd, "data") and hasattr(wkd, "_remove"):
        return wkd
    return None


def _add_all(agent_set: mesa.agent.AgentSet, agents: list[Resident]) -> None:
    """Add agents to a Mesa ``AgentSet`` in order, as ``agent_set.add`` of each in turn would.

    ``AgentSet.add`` sets ``_agents[agent] = None`` in a ``weakref.WeakKeyDictionary``, which stores
    ``weakref.ref(agent, its _remove callback)`` in its ``data`` dict. The same keys, callback and order
    go in here in one C-level pass; with an ``AgentSet`` of another make, each goes through ``add``.
    """
    wkd = _weak_dict(agent_set)
    if wkd is None:
        for agent in agents:
            agent_set.add(agent)
        return
    wkd.data.update(zip(map(weakref.ref, agents, itertools.repeat(wkd._remove)), itertools.repeat(None)))


def _remove_all(agent_set: mesa.agent.AgentSet, agents: list[Resident], refs: list[weakref.ref] | None = None) -> None:
    """Remove agents (all present) from a Mesa ``AgentSet``, as ``agent_set.remove`` of each would.

    ``WeakKeyDictionary.__delitem__`` marks its length as to be recounted and deletes ``data[ref(agent)]``;
    the same is done here for all of them in one C-level pass (a missing agent raises ``KeyError`` as
    ``remove`` does). ``refs``, when given, are ``weakref.ref`` of each of ``agents`` (made once for
    several sets; a weak reference without callback equals every other reference to its agent).
    """
    wkd = _weak_dict(agent_set)
    if wkd is None:
        for agent in agents:
            agent_set.remove(agent)
        return
    wkd._dirty_len = True
    deque(map(wkd.data.__delitem__, map(weakref.ref, agents) if refs is None else refs), maxlen=0)


def _to_oldest_generation() -> None:
    """Move every object the cyclic garbage collector tracks to its oldest generation, without walking them.

    A turn of the year makes tens of thousands of Mesa handles (each with its two weak references in
    Mesa's agent sets), which live for years. Left in the young generations, each is walked by a young
    collection and again by a middle one before it reaches the oldest (about 0.8 µs an object: some
    0.8 s of a 20-year run of Koto, up to 270 ms in one turn). ``gc.freeze()`` then ``gc.unfreeze()``
    puts every tracked object in the oldest generation in constant time; they stay collectable (a full
    collection walks them as before). When the process has frozen objects itself (``gc.freeze`` in a
    sweep's worker), nothing is done, so that they stay frozen.
    """
    if gc.get_freeze_count() == 0:
        gc.freeze()
        gc.unfreeze()


def _mesa_agents(m: KyojoModel, ys: YearState) -> None:
    m.update_handles(ys.newcomers, np.concatenate([ys.events.deaths, ys.events.out_migrants]))


def _compaction(m: KyojoModel, ys: YearState) -> None:
    ys.new_slot = m.compact()


def _newcomer_ties(m: KyojoModel, ys: YearState) -> None:
    moved = ys.new_slot[np.concatenate([ys.newcomers, ys.adults])]
    ys.moved = moved[moved >= 0]
    chapters = None if ys.chapters is None else chapters_renumbered(ys.chapters, ys.new_slot)
    build_ties(m.population, m.scenario, _fresh(m, "network", ys), slots=ys.moved, ties=_new_ties(m, ys),
               chapters=chapters)


def _community_dynamics(m: KyojoModel, ys: YearState) -> None:
    yearly_memberships(m.population, m.scenario, _fresh(m, "community_dynamics", ys), m.community_levels,
                       _new_ties(m, ys), ys.year, skip=ys.moved)


def _household_ties(m: KyojoModel, ys: YearState) -> None:
    # members of a household are all tied: tie those who moved in with the household they joined
    household_ties(m.population, m.scenario, _new_ties(m, ys), ys.new_slot[ys.rehoused])
    m.aid.yearly_ties(ys.year, _new_ties(m, ys))  # and the ties the channels make at the turn (meetup acquaintances)
    _new_ties(m, ys).flush()  # the year's new ties, merged into the network in one pass


def _household_kinds(m: KyojoModel, ys: YearState) -> None:
    m.population.hh.kind[:] = classify(m.population)


def _year_record(m: KyojoModel, ys: YearState) -> None:
    m.last_events = ys.events
    m._record_year(ys.events)


Submodel = Callable[[KyojoModel, YearState], None]

YEARLY: tuple[tuple[str, Submodel], ...] = (
    ("close_aid_year", lambda m, ys: m.aid.close_year(ys.year)),
    ("demography", _demography),
    ("in_migrant_traits", _in_migrant_traits),
    ("newborn_traits", lambda m, ys: draw_traits_births(m.population, ys.events.births)),
    ("newcomer_willingness", _newcomer_willingness),
    ("newcomer_trust", _newcomer_trust),
    ("willingness_turnover",
     lambda m, ys: yearly_willingness(m.population, m.scenario, _fresh(m, "willingness_turnover", ys))),
    ("in_migrant_memberships", _in_migrant_memberships),
    ("ict_uptake", lambda m, ys: ict_uptake(m.population, m.scenario, _fresh(m, "ict_uptake", ys), ys.year + 1)),
    ("life_course", _life_course),
    ("mesa_agents", _mesa_agents),
    ("compaction", _compaction),
    ("newcomer_ties", _newcomer_ties),
    ("community_dynamics", _community_dynamics),
    ("participation_shapes_trust", lambda m, ys: yearly_participation(m.population, m.scenario)),
    ("household_ties", _household_ties),
    ("household_kinds", _household_kinds),
    ("drop_departed_needs", lambda m, ys: m.aid.drop_departed()),
    ("channel_dynamics", lambda m, ys: m.aid.yearly(ys.year)),
    ("refresh", lambda m, ys: m.aid.refresh()),
    ("record_year", _year_record),
)
"""The yearly submodels, in the order of docs/ODD.md §3.2 (one entry per numbered step, same names).

Each entry is ``(name, submodel)``; :meth:`KyojoModel.turn_of_year` calls ``submodel(model, state)``
with one :class:`YearState` shared by the entries of that turn, and adds the time taken to
``model.timings[name]``."""


__all__ = ["YEARLY", "KyojoModel", "YearState", "age_band"]
