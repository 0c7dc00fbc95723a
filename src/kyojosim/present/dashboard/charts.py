"""The dashboard's matplotlib figures, drawn from the points a :class:`DashboardModel` records.

Every function takes the dashboard model and returns a :class:`matplotlib.figure.Figure` (no
pyplot, so nothing is left open between redraws). With a baseline, each chart but the pyramid
shows the two variants side by side on the same scale. Every word comes from the glossary in the
model's language (``model.lang``); the time axis runs from the start to the step shown.
"""

from __future__ import annotations

import math
import textwrap

import matplotlib_fontja  # noqa: F401  (registers the Japanese font and makes it the default)
import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from ...constants import AGE_BAND_LABELS, CATEGORIES, PARTICIPATION_GROUPS
from ...params.scenario import District
from ..labels import CATEGORY_LABELS, PARTICIPATION_LABELS, SEX_LABELS, text
from .wrapper import DashboardModel, Track, matching_series, unmet_by_district

DPI = 100
CATEGORY_COLOURS = ("#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#9c755f")
GROUP_COLOURS = ("#bab0ac", "#4e79a7", "#59a14f", "#f28e2b")


def _titles(model: DashboardModel) -> list[str]:
    return [text("dashboard.with", model.lang), text("dashboard.without", model.lang)][: len(model.tracks)]


def time_span(model: DashboardModel) -> tuple[float, float]:
    """Return the span of the time axis: from the start to the step shown (at least a year)."""
    start = float(model.main.start_year)
    now = float(model.tracks[0].points[-1].t)
    return start, max(now, start + 1.0)


def _years_axis(ax, model: DashboardModel) -> None:
    start, end = time_span(model)
    ax.set_xlim(start, end)
    ax.xaxis.set_major_locator(MaxNLocator(nbins=6, integer=True))
    ax.grid(True, color="#dddddd", linewidth=0.6)
    ax.set_xlabel(text("dashboard.years_axis", model.lang))


def _mark_starts(ax, model: DashboardModel) -> None:
    """Dotted lines at the start years of the interventions switched on (within the axis), labelled once per year."""
    _, end = time_span(model)
    years = sorted({year for _, year in model.settings.active() if year <= end})
    for year in years:
        ax.axvline(year, color="#777777", linestyle=":", linewidth=1)
        ax.text(year, 0.98, " " + text("dashboard.starts_marker", model.lang, year=year),
                transform=ax.get_xaxis_transform(), fontsize=7, color="#555555", va="top", ha="left")


def matching_figure(model: DashboardModel) -> Figure:
    """Draw the matching rate by category over the trailing 12 months, over time (a panel per variant)."""
    n = len(model.tracks)
    lang = model.lang
    fig = Figure(figsize=(10.0, 3.6), dpi=DPI)
    fig.subplots_adjust(left=0.07, right=0.88, top=0.84, bottom=0.14, wspace=0.1)
    axes = fig.subplots(1, n, sharey=True, squeeze=False)[0]
    for k, (ax, tr, title) in enumerate(zip(axes, model.tracks, _titles(model), strict=True)):
        t, by_cat, overall = matching_series(tr)
        # the first weeks' rates are all matches (needs lapse only after their deadline): start at 3 months
        keep = t >= model.main.start_year + 0.25 - 1e-9
        t, by_cat, overall = t[keep], by_cat[keep], overall[keep]
        for c, name in enumerate(CATEGORIES):
            ax.plot(t, 100 * by_cat[:, c], color=CATEGORY_COLOURS[c], linewidth=1.2, label=CATEGORY_LABELS[lang][name])
        ax.plot(t, 100 * overall, color="black", linewidth=2.4, label=CATEGORY_LABELS[lang]["all"])
        ax.set_title(title, fontsize=10)
        ax.set_ylim(0, 100)
        _years_axis(ax, model)
        if k == 0:
            ax.set_ylabel(text("dashboard.matching_axis", lang))
            _mark_starts(ax, model)
    axes[-1].legend(loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=8, frameon=False)
    fig.suptitle(text("dashboard.matching_title", lang), fontsize=11)
    return fig


def tile_positions(districts: tuple[District, ...] | list[District]) -> list[tuple[int, int]]:
    """Place districts on a grid of tiles roughly as on a map: ``(row, column)`` of each, north on top.

    The number of columns follows the east-west over north-south extent of the district centres;
    districts are put into rows from north to south and, within a row, into the columns nearest
    their longitude, west to east. Districts that all share one position are laid out in a square
    grid in the order of the file.
    """
    n = len(districts)
    if n == 0:
        return []
    lat = np.array([d.lat for d in districts])
    lon = np.array([d.lon for d in districts])
    if np.ptp(lat) == 0 and np.ptp(lon) == 0:
        # no distinct positions (e.g. the wards of a city built from the census tables): a square grid in file order
        cols = math.ceil(math.sqrt(n))
        return [(i // cols, i % cols) for i in range(n)]
    width = np.ptp(lon) * math.cos(math.radians(float(lat.mean())))
    height = np.ptp(lat)
    aspect = width / height if height > 0 else float(n)
    cols = int(min(max(round(math.sqrt(n * aspect)), 1), n))
    order = np.argsort(-lat, kind="stable")
    pos: list[tuple[int, int]] = [(0, 0)] * n
    span = np.ptp(lon) if np.ptp(lon) > 0 else 1.0
    for r in range(math.ceil(n / cols)):
        row = order[r * cols:(r + 1) * cols]
        row = row[np.argsort(lon[row], kind="stable")]
        ideal = np.clip(((lon[row] - lon.min()) / span * cols).astype(int), 0, cols - 1)
        taken = -1
        for k, i in enumerate(row):
            # the nearest free column, leaving room for the districts still to place in the row
            c = min(max(int(ideal[k]), taken + 1), cols - (row.size - k))
            pos[int(i)] = (r, c)
            taken = c
    return pos


def district_figure(model: DashboardModel) -> Figure:
    """Draw the needs left unmet in the trailing 12 months per 100 residents, by district, as a tile map."""
    districts = model.scenario.municipality.districts
    pos = tile_positions(districts)
    rows = max(r for r, _ in pos) + 1
    cols = max(c for _, c in pos) + 1
    values = [unmet_by_district(tr) for tr in model.tracks]
    lo = min(float(v.min()) for v in values)
    hi = max(float(v.max()) for v in values)
    n = len(model.tracks)
    fig = Figure(figsize=(5.6 if n > 1 else 3.6, 3.6), dpi=DPI)
    fig.subplots_adjust(left=0.01, right=0.99, top=0.86, bottom=0.02, wspace=0.04)
    axes = fig.subplots(1, n, squeeze=False)[0]
    from matplotlib import colormaps
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import Normalize

    cmap = colormaps["OrRd"]
    norm = Normalize(lo, hi if hi > lo else lo + 1.0)  # the spread between districts, not from 0
    for ax, v, title in zip(axes, values, _titles(model), strict=True):
        for i, d in enumerate(districts):
            r, c = pos[i]
            colour = cmap(norm(v[i]))
            ax.add_patch(_square(c, rows - 1 - r, colour))
            dark = norm(v[i]) > 0.6
            name = _wrap_name(d.name)
            ax.text(c + 0.5, rows - 1 - r + 0.58, name, ha="center", va="center", fontsize=7,
                    color="white" if dark else "black")
            ax.text(c + 0.5, rows - 1 - r + 0.2, f"{v[i]:.0f}", ha="center", va="center", fontsize=10,
                    color="white" if dark else "black")
        ax.set_xlim(-0.05, cols + 0.05)
        ax.set_ylim(-0.05, rows + 0.05)
        ax.set_aspect("equal")
        ax.axis("off")
        ax.set_title(title, fontsize=9)
    fig.colorbar(ScalarMappable(norm, cmap), ax=list(axes), shrink=0.7,
                 label=text("dashboard.district_unit", model.lang))
    fig.suptitle(text("dashboard.district_title", model.lang), fontsize=11)
    return fig


def _wrap_name(name: str) -> str:
    """Break a long district name before a bracket, or every 5 characters."""
    for bracket in ("（", "("):
        if bracket in name and not name.startswith(bracket):
            head, _, tail = name.partition(bracket)
            return f"{head}\n{bracket}{tail}"
    return "\n".join(textwrap.wrap(name, 5)) if len(name) > 5 else name


def _square(x: float, y: float, colour):
    from matplotlib.patches import Rectangle

    return Rectangle((x + 0.04, y + 0.04), 0.92, 0.92, facecolor=colour, edgecolor="#888888", linewidth=0.6)


def tsunagari_figure(model: DashboardModel) -> Figure:
    """Draw the mean つながり力 of residents 20+ by participation group over time (a panel per variant)."""
    n = len(model.tracks)
    fig = Figure(figsize=(10.0, 3.2), dpi=DPI)
    fig.subplots_adjust(left=0.07, right=0.84, top=0.82, bottom=0.15, wspace=0.1)
    axes = fig.subplots(1, n, sharey=True, squeeze=False)[0]
    for k, (ax, tr, title) in enumerate(zip(axes, model.tracks, _titles(model), strict=True)):
        t, values = _tsunagari_series(tr)
        for g, name in enumerate(PARTICIPATION_GROUPS):
            ax.plot(t, values[:, g], color=GROUP_COLOURS[g], linewidth=1.6,
                    label=PARTICIPATION_LABELS[model.lang][name])
        ax.set_title(title, fontsize=10)
        _years_axis(ax, model)
        if k == 0:
            ax.set_ylabel(text("dashboard.tsunagari_axis", model.lang))
            _mark_starts(ax, model)
    axes[-1].legend(loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=8, frameon=False,
                    title=text("dashboard.tsunagari_legend", model.lang), title_fontsize=8)
    fig.suptitle(text("dashboard.tsunagari_title", model.lang), fontsize=11)
    return fig


def _tsunagari_series(track: Track) -> tuple[np.ndarray, np.ndarray]:
    pts = list(track.points)
    return np.array([p.t for p in pts]), np.array([p.tsunagari for p in pts])


def pyramid_figure(model: DashboardModel) -> Figure:
    """Draw the population pyramid now (bars) against the start (outline), scaled to the municipality."""
    tr = model.tracks[0]
    first, last = tr.points[0], tr.points[-1]
    fig = Figure(figsize=(4.4, 3.6), dpi=DPI)
    fig.subplots_adjust(left=0.14, right=0.97, top=0.9, bottom=0.2)
    ax = fig.subplots()
    y = np.arange(len(AGE_BAND_LABELS))
    sexes = SEX_LABELS[model.lang]
    ax.barh(y, -last.pyramid[0], height=0.85, color="#4e79a7", label=sexes["male"])
    ax.barh(y, last.pyramid[1], height=0.85, color="#e15759", label=sexes["female"])
    for sex, sign in ((0, -1), (1, 1)):
        ax.step(sign * np.append(first.pyramid[sex], first.pyramid[sex][-1]), np.append(y, y[-1] + 1) - 0.5,
                where="post", color="black", linewidth=0.8)
    ax.plot([], [], color="black", linewidth=0.8, label=text("dashboard.pyramid_start", model.lang,
                                                            year=model.main.start_year))
    ax.set_yticks(y[::2], [AGE_BAND_LABELS[i] for i in y[::2]], fontsize=7)
    lim = max(float(first.pyramid.max()), float(last.pyramid.max()), 1.0) * 1.05
    ax.set_xlim(-lim, lim)
    ticks = ax.get_xticks()
    ax.set_xticks(ticks, [f"{abs(v):,.0f}" for v in ticks], fontsize=7)
    ax.set_xlim(-lim, lim)
    ax.axvline(0, color="black", linewidth=0.6)
    ax.set_xlabel(text("dashboard.pyramid_axis", model.lang), labelpad=1)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=3, fontsize=7, frameon=False)
    year = int(last.t)
    ax.set_title(text("dashboard.pyramid_title", model.lang, year=year, population=f"{last.population:,.0f}"),
                 fontsize=11)
    return fig


__all__ = ["district_figure", "matching_figure", "pyramid_figure", "tile_positions", "time_span", "tsunagari_figure"]
