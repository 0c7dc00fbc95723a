"""Solara components of the dashboard page, its controls and its layout.

Each chart is a Solara component taking the :class:`~kyojosim.present.dashboard.wrapper.DashboardModel`;
it redraws when mesa's ``update_counter`` changes (after every step) and keeps its figure
(``use_memo``) until the model has stepped, so re-renders for other reasons cost nothing. The
pyramid changes only at the turn of a year and is redrawn only then.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from html import escape
from pathlib import Path
from typing import Any

import numpy as np
import solara

with warnings.catch_warnings():
    # solara's check of the rules of hooks flags a harmless early return in mesa 3.3's ComponentsView
    warnings.filterwarnings("ignore", message=".*found despite early return", category=UserWarning)
    from mesa.visualization import solara_viz
from mesa.visualization.utils import update_counter

from ...params.scenario import load_scenario
from ..webfont import font_css
from . import charts
from .labels import BASELINE_JA, INTERVENTION_JA, PERIODS, WITH_JA
from .wrapper import INTERVENTIONS, DashboardModel, Settings, matching_series

SolaraViz = solara_viz.SolaraViz
"""mesa's page component (imported here, where mesa's visualization is first imported)."""

TITLE = "共助シミュレーション（kyojosim）"
"""Title of the page (the app bar)."""

HELP = (
    "左の設定を変えたら「リセット」で反映されます。「1ステップ」で1か月（設定により3か月・1年）進み、"
    "「▶」で続けて進みます（描画の間隔: 何ステップごとに図を描き直すか）。"
    "比較をオンにすると、同じ乱数で施策をすべて止めた場合を右に並べます。"
    "SNS普及キャンペーンは地域SNSの開始から3年間、加入のしやすさを何倍にするかです。"
)

CSS = """
.vue-grid-item img { max-width: 100%; max-height: 100%; height: auto; object-fit: contain; }
.vue-grid-item { overflow: hidden; }
.kyojo-summary, .kyojo-summary * { font-family: Roboto, 'KyojoJP', sans-serif; }
.kyojo-summary .kyojo-help { color: #666; font-size: 0.85em; }
"""
"""Page styles: figures shrink to their grid cell; the summary stays compact."""

HIDE_CSS = """
.v-slide-group.v-tabs-bar { display: none !important; }
.v-navigation-drawer .v-card:first-child .v-input--checkbox { display: none !important; }
div:has(> b > a[href="https://solara.dev"]) { display: none !important; }
.v-navigation-drawer .v-slider__thumb-label-container { display: block !important; }
.v-navigation-drawer .v-slider__thumb-label { transform: translateX(-50%) !important; top: 9px !important;
  background: rgba(255, 255, 255, 0.9) !important; color: #1565c0 !important; width: auto !important;
  height: auto !important; font-size: 10px; line-height: 1.2; padding: 0 2px; border-radius: 0; }
.v-navigation-drawer .v-slider__thumb-label > * { transform: none !important; }
.v-navigation-drawer .v-card:first-child .v-slider__thumb-label-container { display: none !important; }
.v-navigation-drawer .v-input__slider { margin-bottom: 6px; }
"""
"""Mesa's page, tidied: its single tab ("Page 0"), the "Use Threads" switch and the footer are hidden, and
every slider of the model's settings shows its value under its knob."""

TRANSLATE = {
    ".v-card:nth-child(1) > .v-card__title": "実行",
    ".v-card:nth-child(2) > .v-card__title": "設定（「リセット」で反映）",
    ".v-card:nth-child(3) > .v-card__title": "進み具合",
    ".v-card:nth-child(1) .v-input__slider:nth-child(1) label": "再生の間隔（ミリ秒）",
    ".v-card:nth-child(1) .v-input__slider:nth-child(2) label": "描画の間隔（ステップ）",
    ".v-card:nth-child(1) .v-btn:nth-child(1) .v-btn__content": "リセット",
    ".v-card:nth-child(1) .v-btn:nth-child(3) .v-btn__content": "1ステップ",
}
"""Japanese for the English words of mesa's sidebar (CSS shows them in place of the text, which stays in the
page for assistive technology)."""


def translate_css() -> str:
    """Return CSS that shows :data:`TRANSLATE`'s Japanese in place of mesa's English sidebar labels."""
    rules = []
    for selector, text in TRANSLATE.items():
        sel = f".v-navigation-drawer {selector}"
        rules.append(f"{sel} {{ font-size: 0 !important; letter-spacing: 0 !important; }}")
        rules.append(f"{sel}::after {{ content: '{text}'; font-size: 0.875rem; }}")
    rules.append(".v-navigation-drawer .v-card > .v-card__title::after { font-size: 1.1rem !important; }")
    return "\n".join(rules) + "\n"


def model_params(choices: dict[str, str]) -> dict[str, Any]:
    """Return the controls of the page (mesa ``model_params``), starting at the first choice's settings.

    Args:
        choices: The municipality menu (label -> scenario) of
            :func:`~kyojosim.present.dashboard.wrapper.scenario_choices`.
    """
    first = next(iter(choices))
    scn = load_scenario(choices[first])
    s = Settings.from_scenario(scn)
    start = scn.municipality.start_year
    end = start + scn.simulation.years
    params: dict[str, Any] = {
        "municipality": {"type": "Select", "value": first, "values": list(choices), "label": "自治体"},
        # any municipality of Japan by code or name; its scenario is built from the census and IPSS tables
        "other": {"type": "InputText", "value": "", "label": "他の自治体（コード・名称）"},
    }
    for name in INTERVENTIONS:
        params[name] = {"type": "Checkbox", "value": bool(getattr(s, name)), "label": INTERVENTION_JA[name]}
        params[f"{name}_start"] = {"type": "SliderInt", "value": int(getattr(s, f"{name}_start")), "min": start,
                                   "max": end, "step": 1, "label": f"{INTERVENTION_JA[name]}の開始年"}
    params.update({
        "campaign": {"type": "SliderFloat", "value": float(min(s.campaign, 5.0)), "min": 1.0, "max": 5.0, "step": 0.5,
                     "label": "SNS普及キャンペーン（倍）"},
        "price": {"type": "SliderInt", "value": int(s.price), "min": 0, "max": 2000, "step": 50,
                  "label": "シェアの謝礼（円/時間）"},
        "subsidy": {"type": "SliderInt", "value": int(s.subsidy), "min": 0, "max": 1000, "step": 50,
                    "label": "自治体の補助（円/時間）"},
        "reporters": {"type": "SliderInt", "value": int(s.reporters), "min": 0, "max": 10, "step": 1,
                      "label": "通報担当（人/地区）"},
        "compare": {"type": "Checkbox", "value": True, "label": "施策なしと並べて比較"},
        "period": {"type": "Select", "value": next(iter(PERIODS)), "values": list(PERIODS), "label": "1ステップの長さ"},
        "seed": {"type": "SliderInt", "value": int(s.seed), "min": 0, "max": max(99, int(s.seed)), "step": 1,
                 "label": "乱数シード"},
    })
    return params


def page_text(choices: dict[str, str]) -> str:
    """Return every text the page may show in Japanese: this package's sources and the scenarios' names."""
    parts = [p.read_text(encoding="utf-8") for p in sorted(Path(__file__).parent.glob("*.py"))]
    for src in choices.values():
        scn = load_scenario(src)
        parts.append(scn.municipality.name)
        parts += [d.name for d in scn.municipality.districts]
    return "".join(parts)


def _use_figure(make: Callable[[DashboardModel], Any], model: DashboardModel, key: Any) -> None:
    fig = solara.use_memo(lambda: make(model), [id(model), key])
    solara.FigureMatplotlib(fig, dependencies=[id(model), key], format="png")


@solara.component
def MatchingChart(model: DashboardModel):
    """Show the matching rate by category over the trailing 12 months, with and without the interventions."""
    update_counter.get()
    _use_figure(charts.matching_figure, model, model.steps)


@solara.component
def DistrictMap(model: DashboardModel):
    """Show the unmet needs by district on a tile map."""
    update_counter.get()
    _use_figure(charts.district_figure, model, model.steps)


@solara.component
def TsunagariChart(model: DashboardModel):
    """Show つながり力 by participation group over time."""
    update_counter.get()
    _use_figure(charts.tsunagari_figure, model, model.steps)


@solara.component
def PyramidChart(model: DashboardModel):
    """Show the population pyramid (redrawn at the turn of a year)."""
    update_counter.get()
    _use_figure(charts.pyramid_figure, model, int(model.tracks[0].points[-1].t))


def summary_lines(model: DashboardModel) -> list[str]:
    """Return the summary shown above the charts, as lines of HTML (``<b>`` for the figures)."""
    main = model.tracks[0]
    last = main.points[-1]
    first = main.points[0]
    start = model.main.start_year
    year, month = start + last.month // 12, last.month % 12 + 1
    name = model.scenario.municipality.name
    step = next(k for k, v in PERIODS.items() if v == model.months_per_step)
    elapsed = f"開始から{last.month // 12}年{last.month % 12}か月"
    lines = [f"<b>{escape(name)}　{year}年{month}月</b>（{elapsed}・1ステップ＝{step}）"
             f"　人口 <b>{last.population:,.0f}人</b>（{start}年 {first.population:,.0f}人）"]

    def overall(tr) -> float:
        _, _, rate = matching_series(tr)
        return float(rate[-1]) if rate.size else math.nan

    def pct(x: float) -> str:
        return "—" if np.isnan(x) else f"{100 * x:.1f}%"

    with_rate = overall(main)
    text = f"困りごとの解決率（過去12か月）: {WITH_JA} <b class='kyojo-rate'>{pct(with_rate)}</b>"
    if model.baseline is not None:
        base_rate = overall(model.baseline)
        diff = "—" if np.isnan(with_rate) or np.isnan(base_rate) else f"{100 * (with_rate - base_rate):+.1f}"
        text += f" ／ {BASELINE_JA} <b class='kyojo-base-rate'>{pct(base_rate)}</b>（差 <b>{diff}</b> ポイント）"
    lines.append(text)
    active = model.settings.active()
    lines.append("施策: " + ("、".join(f"{INTERVENTION_JA[n]}（{y}年〜）" for n, y in active) if active else "なし"))
    return lines


@solara.component
def Summary(model: DashboardModel):
    """Show the date, population, overall matching rate, the interventions on, and how to use the page."""
    update_counter.get()
    # the embedded font also covers a municipality typed in (its names are not in the page text)
    names = model.scenario.municipality.name + "".join(d.name for d in model.scenario.municipality.districts)
    css = solara.use_memo(lambda: CSS + HIDE_CSS + translate_css() + font_css(_PAGE_TEXT.get("text", "") + names
                                                                             + model.notice), [names, model.notice])
    solara.Style(css)
    with solara.Column(classes=["kyojo-summary"], gap="0px"):
        if model.notice:  # a municipality typed in that could not be used, first so that it is seen
            solara.HTML(tag="div", unsafe_innerHTML=f'<span style="color:#b71c1c">{escape(model.notice)}</span>')
        for line in summary_lines(model):
            solara.HTML(tag="div", unsafe_innerHTML=line)
        solara.Text(HELP, classes=["kyojo-help"])
    if not model.running:
        solara.Info("シミュレーションの期間が終わりました。「リセット」で最初から始めます。", dense=True)


_PAGE_TEXT: dict[str, str] = {}


def set_page_text(text: str) -> None:
    """Set the text whose Japanese characters the page's embedded font must cover."""
    _PAGE_TEXT["text"] = text


COMPONENTS: list[tuple[Any, int]] = [(Summary, 0), (MatchingChart, 0), (DistrictMap, 0), (PyramidChart, 0),
                                     (TsunagariChart, 0)]
"""The components of the page, in the order of :data:`LAYOUT`."""

LAYOUT: list[dict[str, Any]] = [
    {"i": 0, "x": 0, "y": 0, "w": 12, "h": 4, "moved": False},
    {"i": 1, "x": 0, "y": 4, "w": 12, "h": 10, "moved": False},
    {"i": 2, "x": 0, "y": 14, "w": 7, "h": 10, "moved": False},
    {"i": 3, "x": 7, "y": 14, "w": 5, "h": 10, "moved": False},
    {"i": 4, "x": 0, "y": 24, "w": 12, "h": 9, "moved": False},
]
"""Grid cells (12 columns, rows of 30 px): summary and matching rate across, map and pyramid side by side."""

_mesa_layout = solara_viz.make_initial_grid_layout


def _layout(num_components: int) -> list[dict[str, Any]]:
    if num_components == len(LAYOUT):
        return [dict(cell) for cell in LAYOUT]
    return _mesa_layout(num_components)


def install_layout() -> None:
    """Make mesa's page lay the dashboard's components out as :data:`LAYOUT` (mesa 3.3 has no option for it)."""
    solara_viz.make_initial_grid_layout = _layout


__all__ = ["COMPONENTS", "LAYOUT", "DistrictMap", "MatchingChart", "PyramidChart", "SolaraViz", "Summary",
           "TsunagariChart",
           "install_layout", "model_params", "page_text", "set_page_text", "summary_lines"]
