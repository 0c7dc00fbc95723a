"""The weekly round of mutual aid: needs arise, surface, are matched to helpers, or lapse.

One week, in this order (docs/ODD.md §3.1):

1. needs arise (:mod:`kyojosim.aid.needs`);
2. each channel surfaces some of the new needs (:mod:`kyojosim.aid.channels.base`);
3. helpers' hours for the week: their weekly time less the hours of their own open needs;
4. candidate edges from every channel for the open, surfaced needs, and matching
   (:func:`kyojosim.aid.matching.match`): help given uses the helper's hours; then a channel run
   by an office may meet some of the needs it surfaced that are still open (:meth:`Channel.respond`:
   the reporting hub's village sections), with no resident helper;
5. open needs past their deadline lapse;
6. the week's counts are recorded: by category (rows of the ``needs`` table), by channel of the
   match, by the requester's age group and district (cumulative), the mean weeks a matched need
   waited, the share of residents 75+ with an unmet need (open or lapsed this week; ``last``, read
   by the weekly series) and the hours each helper gave (for the yearly helper burden, a row of the
   ``aid_years`` table: the share of hours given by the top 10% of helpers); and, per channel for
   the month, the needs it surfaced, the needs matched through it (and of those, answered by its
   office), and of the needs it had surfaced, how many were matched (through any channel) or lapsed
   (the ``channel_months`` table, recorded by :meth:`MutualAid.monthly`).

Every need is, at any time, either matched, lapsed or open (pending): ``arisen = matched +
lapsed + open`` per category, cumulatively (a property test checks it). Needs of residents
who die or leave lapse at the turn of the year.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any

import numpy as np

from ..constants import CATEGORIES, CHANNELS, REQUESTER_AGE_EDGES, REQUESTER_AGE_GROUPS
from ..core.helping import weekly_hours
from ..core.trust import after_week
from .channels import Channel, build_channels
from .matching import Candidates, match
from .money import MoneyLedger
from .needs import N_CAT, NeedBook, NeedGroups, NeedProbability, arise, weekly_need_codes

if TYPE_CHECKING:
    from ..core.network import TieBatch
    from ..model import KyojoModel

MONTH_COUNTS: tuple[str, ...] = ("surfaced", "matched", "answered", "closed_matched", "closed_lapsed")
"""What :class:`MutualAid` counts per channel and month: new needs the channel surfaced, needs matched
through it, of those the ones its office answered (:meth:`Channel.respond`), and of the needs it had
surfaced, those matched (through any channel) or lapsed that month (its fill rate)."""


def preference(model: KyojoModel, requester: np.ndarray, helper: np.ndarray, urgency: np.ndarray,
               trust_kind: str) -> np.ndarray:
    """Multiply a channel's candidate weights by the requester's preferences.

    ``(1 + urgency)`` puts pressing needs first; ``(helping.trust_weight_base + trust)`` with the
    requester's trust in the people the channel reaches (online trust for the local SNS, offline
    trust otherwise) makes a requester who trusts people met online prefer them;
    ``helping.other_district_factor`` lowers helpers from another district (only ties cross
    districts).

    The weekly round applies this arithmetic edge by edge in one compiled pass
    (:func:`kyojosim.aid.matching_kernel.weigh_candidates`, the same values to the bit); this is its
    array form.
    """
    pop = model.population
    h = model.scenario.helping
    trust = pop.trust_online[requester] if trust_kind == "online" else pop.trust_offline[requester]
    near = np.where(pop.district[requester] == pop.district[helper], 1.0, h.other_district_factor)
    return (1.0 + urgency) * (h.trust_weight_base + trust) * near


class MutualAid:
    """The needs, channels and ledger of one model."""

    def __init__(self, model: KyojoModel) -> None:
        self.model = model
        self.book = NeedBook()
        self.money = MoneyLedger(record=partial(model.datacollector.add_table_row, "money"))
        self.channels: list[Channel] = build_channels(self)
        self.total = {k: np.zeros(N_CAT, dtype=np.int64) for k in ("arisen", "surfaced", "matched", "lapsed")}
        self.total_hours = np.zeros(N_CAT)
        self.by_channel: list[np.ndarray] = []
        n_d = len(model.scenario.municipality.districts)
        self.by_group = {  # cumulative counts by requester's age group and by district
            key: {k: np.zeros(size, dtype=np.int64) for k in ("arisen", "surfaced", "matched", "lapsed")}
            for key, size in (("age_group", len(REQUESTER_AGE_GROUPS)), ("district", n_d))
        }
        self.helper_hours = np.zeros(model.population.n)
        self.lapsed_departed = 0
        self.carried_lapses = np.zeros(N_CAT, dtype=np.int64)
        self.last: dict[str, Any] = {}  # the week's totals, read by the weekly series (``steps``)
        self.year_counts: dict[str, np.ndarray] | None = None
        """Needs that arose and surfaced in the year last closed, in total (``arisen``, ``surfaced``) and by the
        requester's age group (``arisen_by_age``, ``surfaced_by_age``); ``None`` before the first turn of the year."""
        self._year_start = self._year_totals()
        self.month_counts = {ch.name: np.zeros(len(MONTH_COUNTS), dtype=np.int64) for ch in self.channels}
        """Per channel, the counts of :data:`MONTH_COUNTS` since the last monthly record."""
        self.refresh()
        self.last = self.initial_record()

    def initial_record(self) -> dict[str, Any]:
        """Return the weekly record of the initial state (step 0): no need yet, so no rate is defined.

        Counts are 0; ``matching_rate`` and ``weeks_to_match`` are ``nan`` (nothing decided, nothing
        matched); ``unmet_75plus_share`` is 0, or ``nan`` if nobody is 75 or older.
        """
        pop = self.model.population
        n_old = int((pop.age[pop.live()] >= 75).sum())
        return {"needs_arisen": 0, "needs_surfaced": 0, "needs_matched": 0, "needs_lapsed": 0, "needs_open": 0,
                "hours_given": 0.0, "matching_rate": float("nan"), "weeks_to_match": float("nan"),
                "unmet_75plus_share": 0.0 if n_old else float("nan"), **{f"matched_{c}": 0 for c in CHANNELS}}

    def channel(self, name: str) -> Channel | None:
        """Return the channel called ``name`` (``None`` if the model has none)."""
        return next((ch for ch in self.channels if ch.name == name), None)

    def refresh(self) -> None:
        """Recompute what changes only yearly: need probabilities and the channels' networks."""
        m = self.model
        # last year's arrays go before this year's are made (they are replaced below): a lower peak of memory
        # (the open needs' kept slots go too: they hold last year's need groups and are stale after compaction)
        self.need_probability = self.hours = self.groups = self._n_old = self._book_slots = None
        for ch in self.channels:
            ch.release()
        code, per_code = weekly_need_codes(m.population, m.scenario)
        self.need_probability = NeedProbability(code, per_code)
        self.hours = weekly_hours(m.population, m.scenario).astype(np.float64)  # changes only yearly
        self.groups = NeedGroups.from_codes(code, per_code)
        del code, per_code  # held by the need probabilities; not needed by the channels' refresh
        for ch in self.channels:
            ch.refresh()

    @property
    def prob(self) -> np.ndarray:
        """Each resident's weekly probability of a need, by category (slots x categories, float32; set yearly).

        Made from the residents' circumstance codes when first read after :meth:`refresh` (then kept).
        """
        return self.need_probability.matrix()

    def _residents_75plus(self) -> int:
        """Return the number of living residents aged 75 or older.

        The living and their ages change only at the turn of the year, which ends with :meth:`refresh`
        (new need groups): the count is kept with the groups it was made for and made again with new ones.
        """
        pop = self.model.population
        kept = self.__dict__.get("_n_old")
        if kept is not None and kept[0] is self.groups and kept[1] == pop.n:
            return kept[2]
        live = pop.alive[: pop.n]
        n_old = int(np.count_nonzero(pop.age >= 75)) if live.all() else int(np.count_nonzero(pop.age[live] >= 75))
        self._n_old = (self.groups, pop.n, n_old)
        return n_old

    def _requester_slots(self, before: np.ndarray, new_slot: np.ndarray) -> np.ndarray:
        """Return the slot of each open need's requester, in the order of the book, the week's new needs last.

        ``before`` is the book's column of requesters before the new needs (``new_slot``) were added. Slots change
        only at the turn of the year, which ends with :meth:`refresh` (new need groups): the slots of the needs
        left open last week are kept with the groups and the column they were found for, and looked up by uid
        (:meth:`~kyojosim.core.population.Population.slots_of`) again when either is another.
        """
        pop = self.model.population
        kept = self.__dict__.get("_book_slots")
        if kept is not None and kept[0] is self.groups and kept[1] == pop.n and kept[2] is before:
            return np.concatenate([kept[3], np.asarray(new_slot, dtype=np.int64)])
        return pop.slots_of(self.book.requester)

    def _unmet_old(self, req_slot: np.ndarray, matched_mask: np.ndarray) -> int:
        """Return the number of residents 75+ with a need open or lapsed (the requesters of the needs not matched)."""
        from .matching_kernel import count_unmet_old

        pop = self.model.population
        found = count_unmet_old(req_slot, matched_mask, pop.age, 75, pop.slot_marks())
        if found < 0:  # not slots: as numpy indexes
            unmet, _ = pop.distinct_slots(req_slot[~matched_mask])
            found = int(np.count_nonzero(pop.age[unmet] >= 75))
        return int(found)

    def _count_month(self, surfaced: np.ndarray, met_bit: np.ndarray, answered_bit: list[np.ndarray],
                     closed_matched: np.ndarray, closed_lapsed: np.ndarray) -> None:
        """Add the week's counts of :data:`MONTH_COUNTS` per channel (bit masks of the needs concerned)."""
        from .matching_kernel import channel_month_counts

        answered = np.concatenate(answered_bit)
        counted = [ch for ch in self.channels if ch.bit != 0]
        # per channel: ((surfaced & bit) > 0).sum(), (met_bit == bit).sum(), (answered == bit).sum(), and the closed
        # needs' ((surfaced & bit) > 0).sum(), in one compiled pass over each list
        counts = channel_month_counts(surfaced, met_bit, answered, closed_matched, closed_lapsed,
                                      np.array([ch.bit for ch in counted], dtype=np.int64))
        for ch, row in zip(counted, counts, strict=True):
            self.month_counts[ch.name] += row

    def _tally(self, kind: str, slot: np.ndarray) -> None:
        """Add requesters (slots) to the cumulative counts ``kind`` by age group and district."""
        from .matching_kernel import count_requesters

        pop = self.model.population
        by_age, by_district = self.by_group["age_group"][kind], self.by_group["district"][kind]
        if not count_requesters(np.asarray(slot, dtype=np.int64), pop.age, pop.district,
                                np.asarray(REQUESTER_AGE_EDGES, dtype=np.int64), by_age, by_district):
            raise ValueError(f"a requester's district is not one of the {by_district.size} districts counted")

    def close_year(self, year: int) -> None:
        """Record the year's helper burden and the cumulative rates by group (call before compaction)."""
        hours = self.helper_hours[self.helper_hours > 0]
        if hours.size:
            top = np.sort(hours)[::-1][: max(1, int(np.ceil(0.1 * hours.size)))]
            burden = float(top.sum() / hours.sum())
        else:  # nobody helped: the share of the hours given by the top helpers is undefined
            burden = float("nan")
        row: dict[str, Any] = {"year": year, "helpers": int(hours.size), "hours_given": float(hours.sum()),
                               "top10_helper_share": burden}
        districts = [d.name for d in self.model.scenario.municipality.districts]
        names = {"age_group": REQUESTER_AGE_GROUPS, "district": districts}
        for key, counts in self.by_group.items():
            for i, name in enumerate(names[key]):
                done = counts["matched"][i] + counts["lapsed"][i]
                row[f"matching_rate_{key}_{name}"] = float(counts["matched"][i] / done) if done else float("nan")
        self.model.datacollector.add_table_row("aid_years", row)
        self.helper_hours = np.zeros(self.model.population.n)
        totals = self._year_totals()
        self.year_counts = {k: totals[k] - self._year_start[k] for k in totals}
        self._year_start = totals

    def _year_totals(self) -> dict[str, np.ndarray]:
        """Cumulative needs arisen and surfaced, in total and by the requester's age group (copies)."""
        by_age = self.by_group["age_group"]
        return {"arisen": self.total["arisen"].sum(), "surfaced": self.total["surfaced"].sum(),
                "arisen_by_age": by_age["arisen"].copy(), "surfaced_by_age": by_age["surfaced"].copy()}

    def monthly(self, step: int, dynamics: bool = True) -> None:
        """Close a calendar month: the channels' monthly dynamics, then a ``channel_months`` row per channel.

        Args:
            step: The step in which the month ends (or the last step of the run).
            dynamics: Whether to run the channels' :meth:`Channel.monthly` (``False`` at the end of a
                run in mid-month: the counts are recorded, nothing else happens).
        """
        m = self.model
        for ch in self.channels:
            if dynamics and ch.active():
                ch.monthly(step, ch.ctx.rng("monthly", step))
        for ch in self.channels:
            counts = self.month_counts[ch.name]
            if ch.bit == 0 or not (ch.active() or counts.any()):
                continue
            m.datacollector.add_table_row("channel_months", {
                "step": step, "year": m.year, "month": m.month, "channel": ch.name, **ch.counts(),
                **{k: int(v) for k, v in zip(MONTH_COUNTS, counts, strict=True)}})
            counts[:] = 0

    def yearly_ties(self, year: int, batch: TieBatch) -> None:
        """Add the ties each channel makes at the turn of ``year`` to ``batch`` (:meth:`Channel.yearly_ties`)."""
        for ch in self.channels:
            ch.yearly_ties(year, batch)

    def yearly(self, year: int) -> None:
        """Run the channels' yearly dynamics (adoption, registration...) at the turn of ``year``.

        Last year's adjacency is let go of first: a yearly pass may have this year's built (the refresh then takes it),
        into the same arrays.
        """
        for ch in self.channels:
            ch.release_network()
        for ch in self.channels:
            ch.yearly(year, ch.ctx.rng("yearly", year))

    def drop_departed(self) -> np.ndarray:
        """Lapse the open needs of residents who died or left (call after the yearly compaction)."""
        slot = self.model.population.slots_of(self.book.requester)
        gone = slot < 0
        counts = np.bincount(self.book.category[gone], minlength=N_CAT)
        self.total["lapsed"] += counts
        self.carried_lapses += counts  # reported with the next week's lapses
        self.lapsed_departed += int(gone.sum())
        self.book.keep(~gone)
        return counts

    def week(self, step: int) -> None:
        """Run one week of mutual aid (see the module docstring for the order)."""
        m = self.model
        pop = m.population
        rng = m.streams.fresh("needs", step)
        # 1. needs arise
        new = arise(pop, m.scenario, self.groups, step, rng)
        # 2. surfacing, channel by channel (each with its own stream)
        surfaced = np.zeros(new["slot"].size, dtype=np.uint8)
        active = [ch for ch in self.channels if ch.active()]
        for ch in active:
            ch_rng = ch.ctx.rng("surface", step)
            asked = ch.surface(new["slot"], new["category"].astype(np.int64), ch_rng)
            if asked.dtype == np.bool_ and asked.shape == surfaced.shape:  # the bit where asked, without a selection
                surfaced |= asked.view(np.uint8) * np.uint8(ch.bit)
            else:
                surfaced[asked] |= ch.bit
        before = self.book.requester
        self.book.append(requester=pop.uid[new["slot"]], category=new["category"], hours=new["hours"],
                         born=new["born"], deadline=new["deadline"], surfaced=surfaced, urgency=new["urgency"])
        arisen = np.bincount(new["category"], minlength=N_CAT)
        surfaced_at = np.flatnonzero(surfaced)  # (positions: numpy gathers by them faster than it selects by a mask)
        n_surfaced = np.bincount(new["category"][surfaced_at], minlength=N_CAT)
        book = self.book
        req_slot = self._requester_slots(before, new["slot"])
        # 4. candidates from every channel (step 3, the helpers' hours, is taken for them below), then matching
        open_idx = np.flatnonzero(book.surfaced > 0)
        from .matching_kernel import local_helpers, weigh_candidates

        h = m.scenario.helping
        parts = []
        for ch in active:
            sel = open_idx[(book.surfaced[open_idx] & ch.bit) > 0]
            need, helper, weight = ch.candidates(req_slot[sel], book.category[sel].astype(np.int64),
                                                 book.born[sel], step)
            # drop self-help and weigh by the requester's preference (the arithmetic of preference(), in one pass)
            trust = pop.trust_online if ch.trust_kind == "online" else pop.trust_offline
            need, helper, weight = weigh_candidates(sel, np.asarray(need, dtype=np.int64),
                                                    np.asarray(helper, dtype=np.int64), np.asarray(weight),
                                                    req_slot, book.urgency, trust, pop.district,
                                                    np.float32(h.trust_weight_base), float(h.other_district_factor))
            parts.append((need, helper, weight, np.full(need.size, ch.bit, np.int8)))
        if parts:
            cand = Candidates(
                need=np.concatenate([p[0] for p in parts]).astype(np.int64, copy=False),
                helper=np.concatenate([p[1] for p in parts]).astype(np.int64, copy=False),
                weight=np.concatenate([p[2] for p in parts]).astype(np.float64, copy=False),
                channel=np.concatenate([p[3] for p in parts]),
            )
        else:  # pragma: no cover - the offline channel is always there
            cand = Candidates(*(np.zeros(0, dtype=t) for t in (np.int64, np.int64, np.float64, np.int8)))
        # 3. the candidate helpers' hours: weekly time less their own open needs (numbered 0.. for the matching)
        cand.helper_ids, cand.helper, capacity = local_helpers(cand.helper, req_slot, book.hours, self.hours,
                                                               pop.slot_marks())
        result = match(cand, book.hours.astype(np.float64), capacity, m.streams.fresh("matching", step))
        result.helper = cand.helper_ids[result.helper]  # back to slots
        matched_mask = np.zeros(len(book), dtype=bool)
        matched_mask[result.need] = True
        for ch in active:
            via = result.channel == ch.bit
            if via.any():
                idx = result.need[via]
                ch.after_match(req_slot[idx], result.helper[via], book.category[idx].astype(np.int64),
                               book.hours[idx].astype(np.float64), step, ch.ctx.rng("after", step))
        # an office meets some of the needs its channel surfaced that are still open (no resident helper)
        answered, answered_bit = [np.zeros(0, dtype=np.int64)], [np.zeros(0, dtype=np.int8)]
        for ch in active:
            if type(ch).respond is Channel.respond:
                continue
            sel = open_idx[((book.surfaced[open_idx] & ch.bit) > 0) & ~matched_mask[open_idx]]
            got = sel[ch.respond(req_slot[sel], book.category[sel].astype(np.int64), book.born[sel], step,
                                 ch.ctx.rng("respond", step))]
            matched_mask[got] = True
            answered.append(got)
            answered_bit.append(np.full(got.size, ch.bit, np.int8))
        answered_need = np.concatenate(answered)
        met = np.concatenate([result.need, answered_need])  # every need met this week
        met_bit = np.concatenate([result.channel, np.concatenate(answered_bit)])
        # (masks turned into positions once: numpy gathers by positions faster than it selects by a mask)
        matched_at = np.flatnonzero(matched_mask)
        matched = np.bincount(book.category[matched_at], minlength=N_CAT)
        hours = np.bincount(book.category[met], weights=book.hours[met], minlength=N_CAT)
        self.by_channel.append(np.bincount(np.log2(np.maximum(met_bit, 1)).astype(np.int64),
                                           minlength=len(CHANNELS)))
        # 5. lapses: unmatched needs past their deadline
        lapse = ~matched_mask & (book.deadline <= step)
        lapse_at = np.flatnonzero(lapse)
        lapsed = np.bincount(book.category[lapse_at], minlength=N_CAT)
        self._count_month(surfaced, met_bit, answered_bit, book.surfaced[matched_at], book.surfaced[lapse_at])
        self._tally("arisen", new["slot"])
        self._tally("surfaced", new["slot"][surfaced_at])
        self._tally("matched", req_slot[met])
        self._tally("lapsed", req_slot[lapse_at])
        if self.helper_hours.size != pop.n:  # a new year: the columns were compacted since close_year
            self.helper_hours = np.zeros(pop.n)
        # (hours are float32 values: their sums in float64 are exact, in any order)
        np.add.at(self.helper_hours, result.helper, book.hours[result.need].astype(np.float64))
        waited = step - book.born[met]
        n_old = self._residents_75plus()
        unmet_75 = float(self._unmet_old(req_slot, matched_mask) / n_old) if n_old else float("nan")
        after_week(m, req_slot[result.need], result.helper, result.channel,
                   req_slot[lapse_at[book.surfaced[lapse_at] > 0]])
        still_open = np.flatnonzero(~matched_mask & ~lapse)
        book.keep(still_open)
        self._book_slots = (self.groups, pop.n, book.requester, req_slot[still_open])
        # 6. record
        for k, v in (("arisen", arisen), ("surfaced", n_surfaced), ("matched", matched), ("lapsed", lapsed)):
            self.total[k] += v
        lapsed = lapsed + self.carried_lapses  # the week's rows also count needs of those who left
        self.carried_lapses = np.zeros(N_CAT, dtype=np.int64)
        self.total_hours += hours
        open_now = np.bincount(book.category, minlength=N_CAT)
        year = m.year
        record = m.datacollector.add_table_row
        for c, name in enumerate(CATEGORIES):
            record("needs", {
                "step": step, "year": year, "category": name, "arisen": int(arisen[c]),
                "surfaced": int(n_surfaced[c]), "matched": int(matched[c]), "lapsed": int(lapsed[c]),
                "open": int(open_now[c]), "hours": float(hours[c]),
            })
        done = self.total["matched"].sum() + self.total["lapsed"].sum()
        self.last = {
            "needs_arisen": int(arisen.sum()),
            "needs_surfaced": int(n_surfaced.sum()),
            "needs_matched": int(matched.sum()),
            "needs_lapsed": int(lapsed.sum()),
            "needs_open": int(open_now.sum()),
            "hours_given": float(hours.sum()),
            "matching_rate": float(self.total["matched"].sum() / done) if done else float("nan"),
            "weeks_to_match": float(waited.mean()) if waited.size else float("nan"),
            "unmet_75plus_share": unmet_75,
            **{f"matched_{name}": int(c) for name, c in zip(CHANNELS, self.by_channel[-1], strict=True)},
        }

    def matching_rate(self) -> dict[str, float]:
        """Cumulative matching rate by category: matched / (matched + lapsed), ``nan`` where none was decided."""
        done = self.total["matched"] + self.total["lapsed"]
        rate = np.divide(self.total["matched"], done, out=np.full(N_CAT, np.nan), where=done > 0)
        return dict(zip(CATEGORIES, rate.tolist(), strict=True))
