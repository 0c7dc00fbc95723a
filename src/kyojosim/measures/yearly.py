"""Model-level measures recorded each year and read by the weekly DataCollector."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ..constants import (
    AGE_BAND_WIDTH,
    HOUSEHOLD_KINDS,
    N_AGE_BANDS,
    PARTICIPATION_GROUPS,
    REQUESTER_AGE_GROUPS,
    WILL_FREE,
    WILL_PAID,
)

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
    return year_record(model, events)[0]


def year_record(model: KyojoModel, events: YearEvents | None) -> tuple[dict[str, Any], np.ndarray]:
    """Return :func:`year_summary`'s row and the living by sex and age band (:meth:`Population.band_counts`).

    The counts behind the shares and means are taken in one compiled pass over the slots
    (:func:`~kyojosim.measures.yearly_kernel.living_counts`); a share is the count over the number of residents
    (of pairs for the shares willing), the mean age the sum of ages over it: the values numpy's means of the
    masks and ages give, to the bit.
    """
    from .yearly_kernel import COUNTS, living_counts

    pop = model.population
    n_slots = pop.n
    kind = pop.hh.kind
    hh_counts = np.bincount(kind[kind >= 0], minlength=len(HOUSEHOLD_KINDS))
    codes = np.array([PARTICIPATION_GROUPS.index(g) for g in ("none", "online_only", "offline_only", "both")],
                     dtype=np.int64)
    counts, bands, frame_ask = living_counts(
        pop.alive[:n_slots], pop.age, pop.sex, pop.smartphone, pop.sns, model.ties.degree(n_slots), pop.groups,
        pop.online, will_words(pop.will), pop.ask_factor, FRAME_AGES[0], FRAME_AGES[1], WILL_FREE, WILL_PAID, codes,
        len(PARTICIPATION_GROUPS), AGE_BAND_WIDTH, N_AGE_BANDS)
    c = dict(zip(COUNTS, (int(x) for x in counts), strict=False))
    part = counts[len(COUNTS):]
    n = c["living"]
    row: dict[str, Any] = {
        "year": model.year,
        "population": n,
        "population_scaled": n / model.scenario.municipality.scale,
        "share_65plus": c["age_65plus"] / n if n else NAN,
        "share_75plus": c["age_75plus"] / n if n else NAN,
        "share_under15": c["age_under15"] / n if n else NAN,
        "mean_age": c["age_sum"] / n if n else NAN,
        "households": int(hh_counts.sum()),
        "ties": len(model.ties),
        "isolated": c["isolated"],
        "smartphone_share": c["smartphone"] / n if n else NAN,
        "sns_share": c["sns"] / n if n else NAN,
    }
    n_frame = c["frame"]
    pairs = n_frame * pop.will.shape[1]
    row["willing_free_share"] = c["will_free"] / pairs if pairs else 0.0
    row["willing_paid_share"] = c["will_paid"] / pairs if pairs else 0.0
    # numpy's float32 mean of the frame's values in slot order, as of the gathered column
    row["ask_factor_mean"] = float(frame_ask.mean()) if n_frame else 1.0
    aid = getattr(model, "aid", None)
    year = aid.year_counts if aid is not None else None
    row["surfaced_share"] = _share(year, "surfaced", "arisen")
    for i, g in enumerate(REQUESTER_AGE_GROUPS):
        row[f"surfaced_share_{g}"] = _share(year, "surfaced_by_age", "arisen_by_age", i)
    for k, x in zip(HOUSEHOLD_KINDS, hh_counts, strict=True):
        row[f"hh_{k}"] = int(x)
    for g, x in zip(PARTICIPATION_GROUPS, part, strict=True):
        row[f"part_{g}"] = int(x)
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
    return row, bands


def will_words(will: np.ndarray) -> np.ndarray:
    """Return the terms of help (slots x categories, one byte each) as rows of uint64 words of eight categories.

    A view when a row fills whole words (eight categories); otherwise a copy whose rows are padded with the
    byte 0xFF, which is no code of terms.
    """
    will = np.ascontiguousarray(will, dtype=np.int8)
    rows, width = will.shape
    if width % 8:
        padded = np.full((rows, width + 8 - width % 8), -1, dtype=np.int8)
        padded[:, :width] = will
        will = padded
    return will.view(np.uint64)


def _share(counts: dict | None, part: str, whole: str, i: int | None = None) -> float:
    """Return ``counts[part] / counts[whole]`` (element ``i`` of each if given); ``nan`` without counts or a whole."""
    if not counts:
        return float("nan")
    a, b = counts[part], counts[whole]
    if i is not None:
        a, b = a[i], b[i]
    return float(a / b) if b else float("nan")
