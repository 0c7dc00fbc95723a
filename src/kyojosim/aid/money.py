"""Money moved by paid help: what requesters pay, what the municipality subsidises, what helpers get.

Amounts are whole yen (integers), so the ledger balances exactly: for each paid match the gross
payment ``round(price_per_hour * hours)`` is rounded once, the municipality's share
``round(min(subsidy_per_hour, price_per_hour) * hours)`` is rounded once and capped at the gross,
and the requester pays the rest. Hence, row by row, per step and cumulatively::

    received_by_helpers == paid_by_requesters + subsidy

The ledger records aggregate rows (one per step, channel and category with at least one match
through a paying channel: the ``money`` table of a run) and keeps running totals by channel and
category; it keeps no per-resident balances (residents move slots at the yearly compaction).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..constants import CATEGORIES, CHANNELS

N_CAT = len(CATEGORIES)
FIELDS = ("matches", "paid_matches", "hours", "paid_by_requesters", "subsidy", "received_by_helpers")
"""Columns of a ledger row besides ``step``, ``year``, ``channel`` and ``category``."""


def split_payment(price_per_hour: float | np.ndarray, subsidy_per_hour: float,
                  hours: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(paid_by_requester, subsidy)`` in whole yen for each paid match of ``hours``.

    The gross ``round(price * hours)`` goes to the helper; the municipality pays
    ``round(min(subsidy, price) * hours)`` of it (never more than the gross) and the requester the
    rest, so the requester never pays below 0 and the two parts add up to the gross exactly. The
    price may differ from match to match (an array: e.g. a premium for certified helpers).
    """
    hours = np.asarray(hours, dtype=np.float64)
    price = np.asarray(price_per_hour, dtype=np.float64)
    gross = np.rint(price * hours).astype(np.int64)
    subsidy = np.minimum(np.rint(np.minimum(subsidy_per_hour, price) * hours).astype(np.int64), gross)
    return gross - subsidy, subsidy


class MoneyLedger:
    """Aggregate payments per step, channel and category (integer yen).

    Args:
        record: Called with one dict per (step, channel, category) with a match through a paying
            channel: ``step``, ``year``, ``channel``, ``category`` and :data:`FIELDS` (the model's
            ``money`` table).

    Attributes:
        totals: Running totals, ``totals[field]`` an ``int64`` array (channels x categories)
            (``hours`` is ``float64``).
    """

    def __init__(self, record: Callable[[dict[str, Any]], None]) -> None:
        self.record_row = record
        self.totals: dict[str, np.ndarray] = {
            f: np.zeros((len(CHANNELS), N_CAT), dtype=np.float64 if f == "hours" else np.int64) for f in FIELDS
        }

    def record(self, step: int, year: int, channel: str, category: np.ndarray, hours: np.ndarray,
               paid: np.ndarray, paid_by_requesters: np.ndarray, subsidy: np.ndarray) -> None:
        """Record the matches of one step through ``channel``.

        Args:
            step: The step (week) of the matches.
            year: The model year.
            channel: Name of the channel (one of CHANNELS).
            category: Category index of each match.
            hours: Hours of each match.
            paid: Whether each match is paid (free helpers are not).
            paid_by_requesters: Whole yen the requester pays, per match (ignored for unpaid ones).
            subsidy: Whole yen the municipality pays, per match (ignored for unpaid ones).
        """
        ch = CHANNELS.index(channel)
        category = np.asarray(category, dtype=np.int64)
        paid = np.asarray(paid, dtype=bool)
        req = np.where(paid, paid_by_requesters, 0).astype(np.int64)
        sub = np.where(paid, subsidy, 0).astype(np.int64)
        sums = {
            "matches": np.bincount(category, minlength=N_CAT).astype(np.int64),
            "paid_matches": np.bincount(category[paid], minlength=N_CAT).astype(np.int64),
            "hours": np.bincount(category, weights=hours, minlength=N_CAT),
            # integer sums of integer yen (bincount with weights would go through float64)
            "paid_by_requesters": _int_sum(category, req),
            "subsidy": _int_sum(category, sub),
        }
        sums["received_by_helpers"] = sums["paid_by_requesters"] + sums["subsidy"]
        for f in FIELDS:
            self.totals[f][ch] += sums[f]
        for c in np.flatnonzero(sums["matches"]):
            self.record_row({"step": int(step), "year": int(year), "channel": channel, "category": CATEGORIES[c],
                              **{f: (float(sums[f][c]) if f == "hours" else int(sums[f][c])) for f in FIELDS}})

    def total(self, field: str, channel: str | None = None) -> int | float:
        """Return the running total of ``field`` (over every channel, or one)."""
        arr = self.totals[field] if channel is None else self.totals[field][CHANNELS.index(channel)]
        return arr.sum().item()


def _int_sum(category: np.ndarray, values: np.ndarray) -> np.ndarray:
    out = np.zeros(N_CAT, dtype=np.int64)
    np.add.at(out, category, values)
    return out
