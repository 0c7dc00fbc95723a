"""The model the dashboard drives: a scenario with the controls applied, stepped month by month.

:class:`DashboardModel` is a Mesa model whose keyword arguments are the controls of the page
(the page re-creates it with them on *Reset*, as mesa's ``SolaraViz`` does). It holds one
:class:`~kyojosim.model.KyojoModel` built from the chosen scenario with the controls applied and, if
asked, a *baseline*: the same scenario and seed with every intervention off. One step of the
dashboard advances both by a month (or a quarter, or a year: ``period``) of weekly steps and records
a :class:`Point` for each, holding everything the charts draw, so that drawing never reads a model
while it steps.

The controls map to scenario keys (:meth:`Settings.overrides`):

- each intervention ``interventions.<name>.enabled`` and ``.start_year``;
- ``campaign``: the adoption campaign of the local SNS, ``interventions.local_sns.campaign``,
  a multiplier of adoption in the first :data:`CAMPAIGN_YEARS` years from its start
  (1 means no campaign);
- ``price`` and ``subsidy``: ``interventions.sharing_platform.price_per_hour`` and
  ``.subsidy_per_hour`` (yen an hour);
- ``reporters``: ``interventions.reporting_hub.reporters_per_district``;
- ``seed``: ``simulation.seed``.

The page speaks Japanese or English (``lang``): every word comes from the glossary
(:mod:`kyojosim.present.labels`). A bundled town opens with its own case switched on
(:data:`OWN_CASE`: 山江村 with its reporting hub, 生駒市 with the paid sharing service, 江東区 with the
local SNS), so that the run beside it, with every intervention off, differs from the start.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import mesa
import numpy as np

from ...constants import PARTICIPATION_GROUPS
from ...errors import ScenarioError
from ...measures.outcomes import last_rows
from ...model import DAYS_PER_YEAR, KyojoModel
from ...params.scenario import Scenario, find_scenario, load_scenario
from ..labels import LANGS, check_lang, terms, text

INTERVENTIONS: tuple[str, ...] = ("local_sns", "sharing_platform", "reporting_hub", "offline_events")
"""The interventions the dashboard switches (keys of ``interventions`` in a scenario)."""
CAMPAIGN_YEARS = 3
"""The adoption campaign of the local SNS runs this many years from the SNS's start year."""
BUNDLED: tuple[str, ...] = ("yamae", "ikoma", "koto")
"""The bundled municipalities offered in the municipality menu."""
OWN_CASE: dict[str, str] = {"yamae": "yamae-hub", "ikoma": "ikoma-platform", "koto": "koto-sns"}
"""The scenario each bundled town opens with: the town with its own case switched on (its reporting hub, its
paid sharing service, its local SNS), as the scenario files of that name set it."""
DAYS_PER_MONTH = DAYS_PER_YEAR / 12
PERIOD_MONTHS: dict[str, int] = {"month": 1, "quarter": 3, "year": 12}
"""Length of one dashboard step in months, by its key in the glossary (``terms.period``)."""


def period_labels(lang: str = "ja") -> dict[str, int]:
    """Return the step lengths as the page offers them: label in ``lang`` -> months."""
    names = terms("period", lang)
    return {names[k]: months for k, months in PERIOD_MONTHS.items()}


def period_months(period: str) -> int | None:
    """Return the months of a step length given by its label in either language (or its key), else ``None``."""
    if period in PERIOD_MONTHS:
        return PERIOD_MONTHS[period]
    for lang in LANGS:
        months = period_labels(lang).get(period)
        if months is not None:
            return months
    return None

_CHOICES: dict[str, str] = {}
"""Menu label -> scenario (bundled name or file path), filled by :func:`scenario_choices`."""


def scenario_label(scn: Scenario, lang: str = "ja") -> str:
    """Return the menu label of a scenario: its municipality's name in ``lang`` (山江村, Yamae village)."""
    m = scn.municipality
    return str(m.name) if lang == "ja" else str(getattr(m, "name_en", "") or m.name)


def bundled_name(source: str | Path) -> str:
    """Return the name of a bundled scenario given by name or by its file, else ``source`` as it is."""
    text_ = str(source)
    stem = Path(text_).stem
    if text_ != stem and Path(text_).is_file():
        try:
            if find_scenario(stem).resolve() == Path(text_).resolve():
                return stem
        except OSError:
            return text_
    return text_


def scenario_choices(launched: str | Path | None = None, lang: str = "ja") -> dict[str, str]:
    """Return the municipality menu: label -> scenario, the launched scenario first.

    A bundled town is offered with its own case switched on (:data:`OWN_CASE`), and so is the launched
    scenario when it is a bundled town's plain scenario (``yamae`` opens as ``yamae-hub``). Any other
    launched scenario heads the menu as launched (山江村（起動時の設定）, Yamae village (as launched)).

    Args:
        launched: The scenario the dashboard was started with (a bundled name or a file path).
        lang: The language of the labels.

    Raises:
        ScenarioError: If the launched scenario is invalid.
    """
    check_lang(lang)
    choices: dict[str, str] = {}
    bundled = [OWN_CASE[b] for b in BUNDLED]
    if launched is not None:
        source = OWN_CASE.get(bundled_name(launched), str(launched))
        if source not in bundled:
            scn = load_scenario(source)
            choices[text("dashboard.as_launched", lang, name=scenario_label(scn, lang))] = source
        else:
            bundled.remove(source)
            bundled.insert(0, source)
    for src in bundled:
        choices[scenario_label(load_scenario(src), lang)] = src
    _CHOICES.update(choices)
    return choices


def resolve_other(typed: str, fallback: str, lang: str = "ja") -> tuple[str, str]:
    """Return the scenario of a municipality (or file) typed in, or ``fallback`` and why it was not found."""
    from ...errors import KyojoError
    from ...runs.builder import scenario_path

    if Path(typed).is_file():
        return typed, ""
    from ...params.japan import MunicipalityError

    try:
        return str(scenario_path(typed, progress=False)), ""
    except MunicipalityError as exc:
        names = text("dashboard.names_sep", lang).join(r.label() for r in exc.candidates[:4])
        key = {"ambiguous": "notice_ambiguous", "ward": "notice_ward", "prefecture": "notice_prefecture",
               "no_data": "notice_no_data", "unknown": "notice_unknown" if names else "notice_unknown_plain"}.get(
                   exc.reason)
        if key is None:
            return fallback, text("dashboard.notice_unusable", lang, text=typed, error=exc)
        return fallback, text(f"dashboard.{key}", lang, text=typed, names=names)
    except KyojoError as exc:
        return fallback, text("dashboard.notice_unusable", lang, text=typed, error=exc)


def resolve_choice(municipality: str) -> str:
    """Return the scenario (name or path) of a menu label; other text is taken as a scenario itself."""
    return _CHOICES.get(municipality, municipality)


@dataclass(frozen=True)
class Settings:
    """The values of the dashboard's controls (see the module docstring for the keys they set)."""

    local_sns: bool = False
    local_sns_start: int = 2018
    sharing_platform: bool = False
    sharing_platform_start: int = 2018
    reporting_hub: bool = False
    reporting_hub_start: int = 2018
    offline_events: bool = False
    offline_events_start: int = 2018
    campaign: float = 1.0
    price: float = 600.0
    subsidy: float = 0.0
    reporters: int = 1
    seed: int = 0

    @classmethod
    def from_scenario(cls, scn: Scenario) -> Settings:
        """Return the settings a scenario has (the controls' starting values)."""
        iv = scn.interventions
        sns = iv.local_sns
        campaign = max(sns.campaign.values(), default=1.0)
        values: dict[str, Any] = {}
        for name in INTERVENTIONS:
            cfg = getattr(iv, name)
            values[name] = bool(cfg.enabled)
            values[f"{name}_start"] = int(cfg.start_year)
        return cls(**values, campaign=float(max(campaign, 1.0)), price=float(iv.sharing_platform.price_per_hour),
                   subsidy=float(iv.sharing_platform.subsidy_per_hour),
                   reporters=int(iv.reporting_hub.reporters_per_district), seed=int(scn.simulation.seed))

    def overrides(self) -> dict[str, Any]:
        """Return the dotted-path scenario overrides these settings stand for."""
        out: dict[str, Any] = {}
        for name in INTERVENTIONS:
            out[f"interventions.{name}.enabled"] = bool(getattr(self, name))
            out[f"interventions.{name}.start_year"] = int(getattr(self, f"{name}_start"))
        start = int(self.local_sns_start)
        out["interventions.local_sns.campaign"] = (
            {start + k: float(self.campaign) for k in range(CAMPAIGN_YEARS)} if self.campaign > 1.0 else {}
        )
        out["interventions.sharing_platform.price_per_hour"] = float(self.price)
        out["interventions.sharing_platform.subsidy_per_hour"] = float(self.subsidy)
        out["interventions.reporting_hub.reporters_per_district"] = int(self.reporters)
        out["simulation.seed"] = int(self.seed)
        return out

    def active(self) -> list[tuple[str, int]]:
        """Return ``(intervention, start year)`` of the interventions switched on."""
        return [(n, int(getattr(self, f"{n}_start"))) for n in INTERVENTIONS if getattr(self, n)]


def baseline_of(scn: Scenario) -> Scenario:
    """Return the scenario with every intervention switched off (same seed and everything else)."""
    return scn.replace(**{f"interventions.{name}.enabled": False for name in INTERVENTIONS})


@dataclass(frozen=True)
class Point:
    """What the charts need of one variant at one dashboard step (cumulative counts since the start).

    Attributes:
        month: Months since the start of the run.
        t: The time as a fractional year (``start_year + month / 12``).
        matched: Needs matched so far, by category (CATEGORIES).
        lapsed: Needs lapsed so far, by category.
        district_matched: Needs matched so far, by the requester's district.
        district_lapsed: Needs lapsed so far, by the requester's district.
        district_population: Living residents by district now (simulated, not scaled).
        tsunagari: Mean つながり力 of residents 20+ by participation group (PARTICIPATION_GROUPS),
            at the model's latest monthly record.
        population: Living residents now, scaled to the whole municipality.
        pyramid: Living residents by sex (rows) and 5-year age band, scaled to the municipality.
    """

    month: int
    t: float
    matched: np.ndarray
    lapsed: np.ndarray
    district_matched: np.ndarray
    district_lapsed: np.ndarray
    district_population: np.ndarray
    tsunagari: np.ndarray
    population: float
    pyramid: np.ndarray


def take_point(model: KyojoModel, month: int) -> Point:
    """Record a :class:`Point` of ``model`` (call between steps)."""
    aid, pop, scn = model.aid, model.population, model.scenario
    live = pop.live()
    n_d = len(scn.municipality.districts)
    tsu = np.full(len(PARTICIPATION_GROUPS), np.nan)
    for row in last_rows(model.datacollector, "tsunagari"):
        if row["group_type"] == "participation":
            tsu[PARTICIPATION_GROUPS.index(row["group"])] = row["mean"]
    scale = scn.municipality.scale
    return Point(
        month=month,
        t=model.start_year + month / 12,
        matched=aid.total["matched"].copy(),
        lapsed=aid.total["lapsed"].copy(),
        district_matched=aid.by_group["district"]["matched"].copy(),
        district_lapsed=aid.by_group["district"]["lapsed"].copy(),
        district_population=np.bincount(pop.district[live].astype(np.int64), minlength=n_d),
        tsunagari=tsu,
        population=live.size / scale,
        pyramid=pop.band_counts() / scale,
    )


@dataclass
class Track:
    """A variant of the dashboard: its model and the points recorded so far."""

    label: str
    model: KyojoModel
    points: list[Point] = field(default_factory=list)

    def advance_to(self, month: int) -> None:
        """Step the model week by week to the end of ``month`` (months since the start), then record."""
        m = self.model
        target = month * DAYS_PER_MONTH - m.scenario.simulation.step_days / 2
        while m.running and m.days < target:
            m.step()
        self.points.append(take_point(m, month))

    def window(self, months: int = 12) -> tuple[Point, Point]:
        """Return the first and last point of the trailing window (the first point if shorter)."""
        pts = list(self.points)
        last = pts[-1]
        first = pts[0]
        for p in reversed(pts):
            if p.month <= last.month - months:
                first = p
                break
        return first, last


def rate(matched: np.ndarray, lapsed: np.ndarray) -> np.ndarray:
    """Return the matching rate matched / (matched + lapsed), ``nan`` where nothing was decided."""
    matched = np.asarray(matched, dtype=np.float64)
    done = matched + np.asarray(lapsed, dtype=np.float64)
    return np.divide(matched, done, out=np.full(done.shape, np.nan), where=done > 0)


def matching_series(track: Track, months: int = 12) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return times, rates by category (points x 8) and the overall rate over the trailing ``months``.

    At each point the rate is that of the needs decided (matched or lapsed) in the ``months``
    before it (since the start, in the first ``months``).
    """
    pts = list(track.points)
    t = np.array([p.t for p in pts])
    mon = np.array([p.month for p in pts])
    matched = np.array([p.matched for p in pts], dtype=np.float64)
    lapsed = np.array([p.lapsed for p in pts], dtype=np.float64)
    j = np.searchsorted(mon, mon - months, side="right") - 1
    j = np.maximum(j, 0)
    dm = matched - matched[j]
    dl = lapsed - lapsed[j]
    return t, rate(dm, dl), rate(dm.sum(axis=1), dl.sum(axis=1))


def unmet_by_district(track: Track, months: int = 12) -> np.ndarray:
    """Needs lapsed in the trailing ``months`` per 100 living residents, by district."""
    first, last = track.window(months)
    lapsed = (last.district_lapsed - first.district_lapsed).astype(np.float64)
    pop = last.district_population.astype(np.float64)
    return np.divide(100 * lapsed, pop, out=np.zeros(pop.shape), where=pop > 0)


class DashboardModel(mesa.Model):
    """The model behind the dashboard page; its keyword arguments are the page's controls.

    Args:
        municipality: A label of the municipality menu (:func:`scenario_choices`), a bundled
            scenario name or a scenario file.
        other: Any municipality of Japan by code or name (``"29209"``, ``"奈良県生駒市"``), or a
            scenario file; when given it replaces ``municipality``. Its scenario is built from the
            census and IPSS tables and cached (:func:`kyojosim.runs.builder.scenario_path`); a name that
            is unknown or fits several municipalities leaves ``municipality`` in place and says why
            in :attr:`notice`.
        local_sns: Whether the local SNS runs; ``local_sns_start`` its start year (likewise for
            ``sharing_platform``, ``reporting_hub`` and ``offline_events``).
        campaign: Strength of the local SNS's adoption campaign (1 = none).
        price: Price of an hour of help on the sharing platform (yen).
        subsidy: Municipal subsidy of an hour of help on the sharing platform (yen).
        reporters: Reporters per district of the reporting hub.
        compare: Whether to run the baseline (every intervention off, same seed) beside it.
        period: Length of one step, a label of :func:`period_labels` in either language (or its key).
        seed: Seed of the run (``simulation.seed``).
        years: Length of the run in years (``None``: the scenario's).
        lang: The language of the page and of its notices (``"ja"`` or ``"en"``).

    Raises:
        ScenarioError: If the scenario or a value is invalid.
    """

    def __init__(
        self,
        municipality: str = "yamae",
        other: str = "",
        local_sns: bool = False,
        local_sns_start: int = 2018,
        sharing_platform: bool = False,
        sharing_platform_start: int = 2018,
        reporting_hub: bool = False,
        reporting_hub_start: int = 2018,
        offline_events: bool = False,
        offline_events_start: int = 2018,
        campaign: float = 1.0,
        price: float = 600.0,
        subsidy: float = 0.0,
        reporters: int = 1,
        compare: bool = True,
        period: str = "month",
        seed: int = 0,
        years: int | None = None,
        lang: str = "ja",
    ) -> None:
        super().__init__(seed=seed)
        self.lang = check_lang(lang)
        months = period_months(period)
        if months is None:
            raise ScenarioError("<dashboard>", "period", period, "allowed: " + ", ".join(period_labels(lang)),
                                "unknown period")
        self.source = resolve_choice(municipality)
        self.notice = ""
        if other and other.strip():
            self.source, self.notice = resolve_other(other.strip(), self.source, lang)
        self.settings = Settings(
            local_sns=local_sns, local_sns_start=local_sns_start, sharing_platform=sharing_platform,
            sharing_platform_start=sharing_platform_start, reporting_hub=reporting_hub,
            reporting_hub_start=reporting_hub_start, offline_events=offline_events,
            offline_events_start=offline_events_start, campaign=campaign, price=price, subsidy=subsidy,
            reporters=reporters, seed=seed,
        )
        over = self.settings.overrides()
        if years is not None:
            over["simulation.years"] = int(years)
        scn = load_scenario(self.source, over)
        self.scenario = scn
        self.months_per_step = months
        self.month = 0
        self.tracks = [Track("with", KyojoModel(scn, agents=False))]  # the dashboard reads columns, not agents
        if compare:
            self.tracks.append(Track("baseline", KyojoModel(baseline_of(scn), agents=False)))
        for tr in self.tracks:
            tr.points.append(take_point(tr.model, 0))
        self.total_months = math.ceil(scn.simulation.years * 12)
        self.running = self.main.running

    @classmethod
    def from_scenario(cls, source: str | Path, **controls: Any) -> DashboardModel:
        """Return a dashboard model with the controls set as in the scenario, changed by ``controls``."""
        scn = load_scenario(find_scenario(source))
        values = {f.name: getattr(Settings.from_scenario(scn), f.name) for f in fields(Settings)}
        return cls(**{"municipality": str(source), **values, **controls})

    @property
    def main(self) -> KyojoModel:
        """The model with the controls applied."""
        return self.tracks[0].model

    @property
    def baseline(self) -> Track | None:
        """The baseline track (every intervention off), if compared."""
        return self.tracks[1] if len(self.tracks) > 1 else None

    def step(self) -> None:
        """Advance every variant by ``period`` (a month by default) and record a point of each."""
        if not self.running:
            return
        self.month = min(self.month + self.months_per_step, self.total_months)
        for tr in self.tracks:
            tr.advance_to(self.month)
        self.running = self.main.running and self.month < self.total_months


__all__ = ["BUNDLED", "CAMPAIGN_YEARS", "INTERVENTIONS", "OWN_CASE", "PERIOD_MONTHS", "DashboardModel", "Point",
           "Settings", "Track", "baseline_of", "bundled_name", "matching_series", "period_labels", "period_months",
           "rate", "resolve_choice", "scenario_choices", "scenario_label", "take_point", "unmet_by_district"]
