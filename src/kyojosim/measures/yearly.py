"""Model-level measures recorded each year and read by the weekly DataCollector."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ..constants import HOUSEHOLD_KINDS, PARTICIPATION_GROUPS, REQUESTER_AGE_GROUPS, WILL_FREE, WILL_PAID
from ..core.communities import participation_group

FRAME_AGES = (20, 79)
"""Ages over which the shares willing to help and the wish to ask are taken (the survey's frame)."""

if TYPE_CHECKING:
    from ..core.demography import YearEvents
    from ..model import KyojoModel


NAN = float("nan")


def year_summary(model: KyojoModel, events: YearEvents | None) -> dict[str, Any]:
    """Return the yearly summary row: population, ageing, households, participation, events, ties, helping.

    The helping columns: ``willing_free_share`` and ``willing_paid_share``, the mean over the eight
    categories of the share of living residents aged 20-79 willing to help free, or only if paid
    (図表4-3-4-3's shares at the start); ``ask_factor_mean``, their mean wish to ask (1 at the start);
    ``surfaced_share``, the share of the needs that arose in the year that ended which some channel
    surfaced (``nan`` at the start, before any week), and ``surfaced_share_<group>`` the same by the
    requester's age group (under 65, 65-74, 75+): as the town ages the overall share moves with the
    mix of requesters even where each group's share holds.

    The shares of residents (``share_65plus``, ``share_75plus``, ``share_under15``,
    ``smartphone_share``, ``sns_share``) and ``mean_age`` are ``nan`` in a town with no resident left
    (undefined, not 0); the counts are 0.

    Args:
        model: The model, just after the turn of a year (or at initialisation).
        events: What happened in the year that ended (``None`` at initialisation).
    """
    pop = model.population
    live = pop.live()
    n = int(live.size)
    # the living as a slice where every slot is alive (after the turn's compaction): the same values, no gather
    take = slice(0, n) if n == pop.n else live
    age = pop.age[take]
    kind = pop.hh.kind
    hh_counts = np.bincount(kind[kind >= 0], minlength=len(HOUSEHOLD_KINDS))
    part = np.bincount(participation_group(pop)[take], minlength=len(PARTICIPATION_GROUPS))
    degree = model.ties.degree(pop.n)[take] if n else np.zeros(0)
    row: dict[str, Any] = {
        "year": model.year,
        "population": n,
        "population_scaled": n / model.scenario.municipality.scale,
        "share_65plus": float((age >= 65).mean()) if n else NAN,
        "share_75plus": float((age >= 75).mean()) if n else NAN,
        "share_under15": float((age < 15).mean()) if n else NAN,
        "mean_age": float(age.mean()) if n else NAN,
        "households": int(hh_counts.sum()),
        "ties": len(model.ties),
        "isolated": int((degree == 0).sum()),
        "smartphone_share": float(pop.smartphone[take].mean()) if n else NAN,
        "sns_share": float(pop.sns[take].mean()) if n else NAN,
    }
    frame = live[(age >= FRAME_AGES[0]) & (age <= FRAME_AGES[1])]
    will = pop.will[frame]
    row["willing_free_share"] = float((will == WILL_FREE).mean()) if frame.size else 0.0
    row["willing_paid_share"] = float((will == WILL_PAID).mean()) if frame.size else 0.0
    row["ask_factor_mean"] = float(pop.ask_factor[frame].mean()) if frame.size else 1.0
    aid = getattr(model, "aid", None)
    year = aid.year_counts if aid is not None else None
    row["surfaced_share"] = _share(year, "surfaced", "arisen")
    for i, g in enumerate(REQUESTER_AGE_GROUPS):
        row[f"surfaced_share_{g}"] = _share(year, "surfaced_by_age", "arisen_by_age", i)
    for k, c in zip(HOUSEHOLD_KINDS, hh_counts, strict=True):
        row[f"hh_{k}"] = int(c)
    for g, c in zip(PARTICIPATION_GROUPS, part, strict=True):
        row[f"part_{g}"] = int(c)
    if events is None:
        row.update(births=0, deaths=0, out_migrants=0, in_migrants=0, left_home=0, unions=0, moved_in=0)
    else:
        row.update(
            births=int(events.births.size),
            deaths=int(events.deaths.size),
            out_migrants=int(events.out_migrants.size),
            in_migrants=int(events.in_migrants.size),
            left_home=events.left_home,
            unions=events.unions,
            moved_in=events.moved_in,
        )
    return row


def _share(counts: dict | None, part: str, whole: str, i: int | None = None) -> float:
    """Return ``counts[part] / counts[whole]`` (element ``i`` of each if given); ``nan`` without counts or a whole."""
    if not counts:
        return float("nan")
    a, b = counts[part], counts[whole]
    if i is not None:
        a, b = a[i], b[i]
    return float(a / b) if b else float("nan")
