"""The kyojosim model: a Mesa model of a municipality's residents, their ties and its decline."""

from __future__ import annotations

import gc
import math
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import mesa
import numpy as np
import pandas as pd

from . import community_value, tsunagari
from .agents import Resident
from .aid import MutualAid
from .communities import join_communities, participation_mix
from .community_dynamics import yearly_memberships
from .constants import HOUSEHOLD_KINDS, age_band
from .demography import YearEvents, yearly_demography
from .helping import draw_willingness
from .households import classify
from .ict import ict_uptake
from .lifecourse import yearly_life_course
from .metrics import year_summary
from .outcomes import (
    TABLES,
    OutcomeError,
    age_structure_rows,
    make_datacollector,
    record_month,
    start_month,
    table_frame,
)
from .scenario import Scenario, load_scenario
from .streams import Streams
from .synthesis import build_ties, draw_traits, household_ties, synthesize
from .trust import initial_trust, yearly_participation, yearly_reciprocity

DAYS_PER_YEAR = 365.25


class KyojoModel(mesa.Model):
    """Residents of one municipality, their households, communities and ties, week by week.

    Build it from a scenario (:meth:`from_scenario`) or with plain keyword parameters, which is
    what :func:`mesa.batch_run` does::

        model = KyojoModel(scenario="yamae", seed=3, simulation__years=10)
        mesa.batch_run(KyojoModel, {"scenario": "yamae", "seed": [1, 2]}, max_steps=104)

    Args:
        scenario: A :class:`~kyojosim.scenario.Scenario`, a scenario file, or a bundled name.
        seed: Seed of every random stream (overrides ``simulation.seed``).
        years: Length of the run in years (overrides ``simulation.years``).
        scale: Fraction of residents simulated (overrides ``municipality.scale``).
        overrides: Dotted-path overrides, e.g. ``{"demography.fertility.tfr": 1.6}``.
        **params: The same overrides as keywords, ``__`` for dots (``demography__fertility__tfr=1.6``).
    """

    def __init__(
        self,
        scenario: Scenario | str | Path = "yamae",
        seed: int | None = None,
        years: int | None = None,
        scale: float | None = None,
        overrides: Mapping[str, Any] | None = None,
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
        initial_trust(self.population, scn, np.arange(self.population.n), self.streams["trust"])
        self._slot_by_uid = np.zeros(0, dtype=np.int64)
        self._handles = np.empty(0, dtype=object)
        self._attach_handles(np.arange(self.population.n))
        self.last_events: YearEvents | None = None
        # every table is recorded through the DataCollector, declared in kyojosim.outcomes.TABLES
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
        """Create a :class:`Resident` for each slot and record its ``unique_id`` in the columns."""
        if slots.size == 0:
            return
        # a plain loop of constructors (create_agents also builds a throwaway AgentSet); the cyclic
        # garbage collector is paused meanwhile, as hundreds of thousands of new objects trigger it
        enabled = gc.isenabled()
        gc.disable()
        try:
            agents = [Resident(self) for _ in range(int(slots.size))]
        finally:
            if enabled:
                gc.enable()
        uids = np.fromiter((a.unique_id for a in agents), dtype=np.int64, count=len(agents))
        self.population.cols["uid"][slots] = uids
        need = int(uids.max()) + 1
        if need > self._slot_by_uid.size:
            grown = np.full(max(need, int(self._slot_by_uid.size * 1.25) + 16), -1, dtype=np.int64)
            grown[: self._slot_by_uid.size] = self._slot_by_uid
            self._slot_by_uid = grown
        self._slot_by_uid[uids] = slots
        if self.population.n > self._handles.size:
            h = np.empty(self.population.capacity, dtype=object)
            h[: self._handles.size] = self._handles
            self._handles = h
        self._handles[slots] = agents

    def slot_of(self, unique_id: int) -> int:
        """Return the current column row of the resident with ``unique_id`` (-1 if gone)."""
        if unique_id >= self._slot_by_uid.size:
            return -1
        return int(self._slot_by_uid[unique_id])

    def resident(self, unique_id: int) -> Resident | None:
        """Return the :class:`Resident` handle with ``unique_id``, or ``None`` if gone."""
        s = self.slot_of(unique_id)
        return None if s < 0 else self._handles[s]

    # -- the schedule ---------------------------------------------------------------------
    def step(self) -> None:
        """Advance one step (a week by default), in the order of the process overview (docs/ODD.md §3).

        1. At the turn of a year (:meth:`turn_of_year`): demography (ageing, deaths, births,
           out- and in-migration, household change); traits and memberships of in-migrants;
           ICT uptake; life course (work, driving, coming of age); network upkeep (columns
           compacted, ties of the dead and departed dropped, newcomers, those coming of age
           and those who moved in tied); household kinds; the yearly summary.
        2. The week of mutual aid (:meth:`kyojosim.aid.MutualAid.week`): needs arise, surface
           through the channels, are matched to helpers or lapse.
        3. Record the weekly series (the DataCollector's model reporters), and, in the week a
           calendar month ends (:func:`kyojosim.outcomes.record_month`) and at the last step, the
           つながり力 summary (:func:`kyojosim.tsunagari.summary_rows`) and, while the local SNS
           runs, its Community Value (:func:`kyojosim.community_value.monthly_record`), as rows of
           the DataCollector's tables (:data:`kyojosim.outcomes.TABLES`).
        """
        step_days = self.scenario.simulation.step_days
        before = self.year
        self.days += step_days
        self.year = self.start_year + int(self.days // DAYS_PER_YEAR)
        for year in range(before, self.year):
            self.turn_of_year(year)
        self.aid.week(self.steps)
        self.month, month_ended = record_month(self.days - step_days, self.days, self.start_year, DAYS_PER_YEAR)
        self.datacollector.collect(self)
        if month_ended or self.steps >= self.n_steps:
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

    def turn_of_year(self, year: int) -> None:
        """Run the yearly submodels for the year that ends, in the order of docs/ODD.md §3.2."""
        pop, scn, s = self.population, self.scenario, self.streams
        self.aid.close_year(year)
        n_before = pop.n
        household_before = pop.household.copy()
        events = yearly_demography(
            pop, scn, year, s.fresh("demography", year), s.fresh("migration", year), s.fresh("households", year)
        )
        # residents who changed household (a union, an elder moving in with family, a child leaving home)
        stayed = pop.live()
        stayed = stayed[stayed < n_before]
        rehoused = stayed[pop.household[stayed] != household_before[stayed]]
        newcomers = np.concatenate([events.births, events.in_migrants])
        draw_traits(pop, scn, s.fresh("traits", year), s.fresh("ict", year), slots=events.in_migrants)
        draw_traits_births(pop, events.births)
        draw_willingness(pop, scn, newcomers, s.fresh("willingness", year))
        initial_trust(pop, scn, newcomers, s.fresh("trust", year))
        yearly_reciprocity(pop, scn, s.fresh("reciprocity", year))
        join_communities(pop, events.in_migrants, scn, s.fresh("communities", year), self.community_levels)
        ict_uptake(pop, scn, s.fresh("ict_uptake", year), year + 1)
        adults = yearly_life_course(pop, scn, s.fresh("lifecourse", year), self.community_levels,
                                    skip=events.in_migrants)
        self._attach_handles(newcomers)
        self._retire(np.concatenate([events.deaths, events.out_migrants]))
        # network upkeep: drop ties of residents who are gone, tie newcomers and their households
        new_slot = pop.compact()
        self.ties.remap(new_slot)
        self._handles[: pop.n] = self._handles[np.flatnonzero(new_slot >= 0)]
        self._handles[pop.n :] = None
        uids = pop.uid
        self._slot_by_uid[uids] = np.arange(pop.n)
        moved = new_slot[np.concatenate([newcomers, adults])]
        moved = moved[moved >= 0]
        build_ties(pop, scn, s.fresh("network", year), slots=moved, ties=self.ties)
        # community dynamics: joining and leaving as lives change; participation shapes trust
        yearly_memberships(pop, scn, s.fresh("community_dynamics", year), self.community_levels, self.ties, year,
                           skip=moved)
        yearly_participation(pop, scn)
        # members of a household are all tied: tie those who moved in with the household they joined
        household_ties(pop, scn, self.ties, new_slot[rehoused])
        pop.hh["kind"][: pop.n_households] = classify(pop)
        self.aid.drop_departed()
        self.aid.yearly(year)
        self.aid.refresh()
        self.last_events = events
        self._record_year(events)

    def _retire(self, slots: np.ndarray) -> None:
        """Remove the Mesa handles of residents who died or left."""
        if slots.size == 0:
            return
        uids = self.population.cols["uid"][slots]
        for agent in self._handles[slots]:
            if agent is not None:
                agent.remove()
        self._slot_by_uid[uids] = -1

    # -- metrics ----------------------------------------------------------------------------
    def _record_year(self, events: YearEvents | None) -> None:
        """Record the ``years`` row and the ``age_structure`` rows of the year (at the start and every turn)."""
        row = year_summary(self, events)
        self.stats = row
        dc = self.datacollector
        dc.add_table_row("years", row)
        for r in age_structure_rows(self.year, self.population.band_counts(), self.scenario.municipality.scale):
            dc.add_table_row("age_structure", r)

    def _record_tsunagari(self) -> None:
        """Record the つながり力 summary (:func:`kyojosim.tsunagari.summary_rows`)."""
        for row in tsunagari.summary_rows(self):
            self.datacollector.add_table_row("tsunagari", row)

    def _record_community_value(self) -> None:
        """Record the local SNS's monthly Community Value (:mod:`kyojosim.community_value`) while it runs."""
        sns = self.aid.channel("local_sns")
        if sns is None or not sns.active(self):
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
        """Return a table recorded so far (``years``, ``steps``, ``needs`` ...; kyojosim.outcomes.TABLES) as a frame."""
        return table_frame(self.datacollector, name)

    def release(self) -> None:
        """Let this model be freed once the caller drops it; the model must not be used afterwards.

        Two references would otherwise keep a finished model alive with all its residents: Mesa 3.3
        numbers agents per model in ``mesa.Agent._ids``, a class-level dict keyed by the model; and the
        array of :class:`~kyojosim.agents.Resident` handles is a numpy object array, which the cyclic
        garbage collector does not traverse, so the cycle model -> handles -> resident -> model is never
        collected. This drops the first and empties the second. Runners that build model after model
        in one process (sweeps, variants, projections) call it when they are done with a model.
        """
        ids = getattr(mesa.Agent, "_ids", None)
        if isinstance(ids, dict):
            ids.pop(self, None)
        if isinstance(self._handles, np.ndarray) and self._handles.dtype == object:
            self._handles.fill(None)

    # -- conveniences -----------------------------------------------------------------------
    def participation(self, ages: tuple[int, int] | None = None) -> dict[str, float]:
        """Return the participation mix of living residents (optionally of an age range)."""
        return participation_mix(self.population, ages)

    def household_shares(self) -> dict[str, float]:
        """Return the share of households of each kind."""
        kind = self.population.hcol("kind")
        kind = kind[kind >= 0]
        counts = np.bincount(kind, minlength=len(HOUSEHOLD_KINDS))
        total = max(int(counts.sum()), 1)
        return {k: float(c / total) for k, c in zip(HOUSEHOLD_KINDS, counts, strict=True)}

    def age_band_counts(self) -> np.ndarray:
        """Return living residents by sex and 5-year age band (2 x 18)."""
        return self.population.band_counts()

    def memory_bytes(self) -> dict[str, int]:
        """Bytes held by resident columns, ties and the handle index (not the Mesa objects)."""
        return {
            "columns": self.population.nbytes(),
            "ties": self.ties.nbytes(),
            "index": self._slot_by_uid.nbytes + self._handles.nbytes,
        }


def _weekly_value(model: KyojoModel, column: str) -> Any:
    """Return a column of the weekly series: the week's aid record, else the year's row (0 before the first week)."""
    last = model.aid.last
    if column in last:
        return last[column]
    if column in model.stats:
        return model.stats[column]
    if not last:
        return 0  # the initial state: no week of mutual aid yet
    raise OutcomeError(f"the steps table declares {column!r}, which neither the week's aid record nor the year's "
                       "row holds (kyojosim.outcomes.TABLES)")


def draw_traits_births(pop, births: np.ndarray) -> None:
    """Newborns: not frail, not employed, no car, no phone, no communities."""
    for col in ("frail", "employed", "drives", "smartphone", "sns"):
        pop.cols[col][births] = False
    pop.cols["online"][births] = 0
    pop.cols["groups"][births] = -1


__all__ = ["KyojoModel", "age_band"]
