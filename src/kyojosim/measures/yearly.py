"""Model-level measures recorded each year and read by the weekly DataCollector."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ..constants import HOUSEHOLD_KINDS, PARTICIPATION_GROUPS
from ..core.communities import participation_group

if TYPE_CHECKING:
    from ..core.demography import YearEvents
    from ..model import KyojoModel


NAN = float("nan")


def year_summary(model: KyojoModel, events: YearEvents | None) -> dict[str, Any]:
    """Return the yearly summary row: population, ageing, households, participation, events, ties.

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
    age = pop.age[live]
    kind = pop.hh.kind
    hh_counts = np.bincount(kind[kind >= 0], minlength=len(HOUSEHOLD_KINDS))
    part = np.bincount(participation_group(pop)[live], minlength=len(PARTICIPATION_GROUPS))
    degree = model.ties.degree(pop.n)[live] if n else np.zeros(0)
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
        "smartphone_share": float(pop.smartphone[live].mean()) if n else NAN,
        "sns_share": float(pop.sns[live].mean()) if n else NAN,
    }
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
