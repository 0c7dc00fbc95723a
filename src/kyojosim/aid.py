"""The weekly round of mutual aid: needs arise, surface, are matched to helpers, or lapse.

One week, in this order (docs/ODD.md §3.1):

1. needs arise (:mod:`kyojosim.needs`);
2. each channel surfaces some of the new needs (:mod:`kyojosim.channels`);
3. helpers' hours for the week: their weekly time less the hours of their own open needs;
4. candidate edges from every channel for the open, surfaced needs, and matching
   (:func:`kyojosim.matching.match`): help given uses the helper's hours;
5. open needs past their deadline lapse;
6. the week's counts are recorded, by category.

Every need is, at any time, either matched, lapsed or open (pending): ``arisen = matched +
lapsed + open`` per category, cumulatively (a property test checks it). Needs of residents
who die or leave lapse at the turn of the year.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from .channels import build_channels
from .constants import CATEGORIES, CHANNELS
from .matching import Candidates, match
from .needs import N_CAT, NeedBook, NeedGroups, arise, weekly_need_probability

if TYPE_CHECKING:
    from .model import KyojoModel


class MutualAid:
    """The needs, channels and ledger of one model."""

    def __init__(self, model: KyojoModel) -> None:
        self.model = model
        self.channels = build_channels(model.scenario)
        self.book = NeedBook()
        self.total = {k: np.zeros(N_CAT, dtype=np.int64) for k in ("arisen", "surfaced", "matched", "lapsed")}
        self.total_hours = np.zeros(N_CAT)
        self.rows: list[dict[str, Any]] = []
        self.by_channel: list[np.ndarray] = []
        self.last: dict[str, Any] = {}
        self.refresh()

    def refresh(self) -> None:
        """Recompute what changes only yearly: need probabilities and the channels' networks."""
        m = self.model
        self.prob = weekly_need_probability(m.population, m.scenario)
        self.groups = NeedGroups.build(self.prob)
        for ch in self.channels:
            ch.refresh(m)

    def yearly(self, year: int) -> None:
        """Run the channels' yearly dynamics (adoption, registration...) at the turn of ``year``."""
        for ch in self.channels:
            ch.yearly(self.model, year, self.model.streams.fresh(f"yearly_{ch.name}", year))

    def drop_departed(self) -> np.ndarray:
        """Lapse the open needs of residents who died or left (call after the yearly compaction)."""
        slot = self.model._slot_by_uid[self.book.requester]
        gone = slot < 0
        counts = np.bincount(self.book.category[gone], minlength=N_CAT)
        self.total["lapsed"] += counts
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
        active = [ch for ch in self.channels if ch.active(m)]
        for ch in active:
            ch_rng = m.streams.fresh(f"surface_{ch.name}", step)
            surfaced[ch.surface(m, new["slot"], new["category"].astype(np.int64), ch_rng)] |= ch.bit
        self.book.append(requester=pop.uid[new["slot"]], category=new["category"], hours=new["hours"],
                         born=new["born"], deadline=new["deadline"], surfaced=surfaced)
        arisen = np.bincount(new["category"], minlength=N_CAT)
        n_surfaced = np.bincount(new["category"][surfaced > 0], minlength=N_CAT)
        # 3. helpers' hours: weekly time less their own open needs
        from .helping import weekly_hours

        book = self.book
        req_slot = m._slot_by_uid[book.requester]
        capacity = weekly_hours(pop, m.scenario).astype(np.float64)
        own = np.bincount(req_slot, weights=book.hours, minlength=pop.n)
        capacity = np.maximum(capacity - own, 0.0)
        # 4. candidates from every channel, then matching
        open_idx = np.flatnonzero(book.surfaced > 0)
        parts = []
        for ch in active:
            sel = open_idx[(book.surfaced[open_idx] & ch.bit) > 0]
            need, helper, weight = ch.candidates(m, req_slot[sel], book.category[sel].astype(np.int64),
                                                 book.born[sel], step)
            keep = helper != req_slot[sel][need]
            parts.append((sel[need[keep]], helper[keep], weight[keep], np.full(int(keep.sum()), ch.bit, np.int8)))
        if parts:
            cand = Candidates(
                need=np.concatenate([p[0] for p in parts]).astype(np.int64),
                helper=np.concatenate([p[1] for p in parts]).astype(np.int64),
                weight=np.concatenate([p[2] for p in parts]).astype(np.float64),
                channel=np.concatenate([p[3] for p in parts]),
            )
        else:  # pragma: no cover - the offline channel is always there
            cand = Candidates(*(np.zeros(0, dtype=t) for t in (np.int64, np.int64, np.float64, np.int8)))
        result = match(cand, book.hours.astype(np.float64), capacity, m.streams.fresh("matching", step))
        matched_mask = np.zeros(len(book), dtype=bool)
        matched_mask[result.need] = True
        matched = np.bincount(book.category[matched_mask], minlength=N_CAT)
        hours = np.bincount(book.category[result.need], weights=book.hours[result.need], minlength=N_CAT)
        for ch in active:
            via = result.channel == ch.bit
            if via.any():
                idx = result.need[via]
                ch.after_match(m, req_slot[idx], result.helper[via], book.category[idx].astype(np.int64),
                               book.hours[idx].astype(np.float64), step, m.streams.fresh(f"after_{ch.name}", step))
        self.by_channel.append(np.bincount(np.log2(np.maximum(result.channel, 1)).astype(np.int64),
                                           minlength=len(CHANNELS)))
        # 5. lapses: unmatched needs past their deadline
        lapse = ~matched_mask & (book.deadline <= step)
        lapsed = np.bincount(book.category[lapse], minlength=N_CAT)
        book.keep(~matched_mask & ~lapse)
        # 6. record
        for k, v in (("arisen", arisen), ("surfaced", n_surfaced), ("matched", matched), ("lapsed", lapsed)):
            self.total[k] += v
        self.total_hours += hours
        open_now = np.bincount(book.category, minlength=N_CAT)
        year = m.year
        for c, name in enumerate(CATEGORIES):
            self.rows.append({
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
            "matching_rate": float(self.total["matched"].sum() / done) if done else 0.0,
        }

    def matching_rate(self) -> dict[str, float]:
        """Cumulative matching rate by category: matched / (matched + lapsed)."""
        done = self.total["matched"] + self.total["lapsed"]
        rate = np.divide(self.total["matched"], done, out=np.zeros(N_CAT), where=done > 0)
        return dict(zip(CATEGORIES, rate.tolist(), strict=True))
