"""The dashboard page: its controls, its charts and its layout, in Japanese or English.

The page has the shape of mesa's SolaraViz: a :class:`~kyojosim.present.dashboard.wrapper.DashboardModel`
(a ``mesa.Model``) re-created from the controls on *Reset*, the controls declared as mesa's
``model_params``, a counter that redraws the charts after a step. It draws its own sidebar, so that every
word on it (buttons, sliders, headings, the progress line) is real text in the page's language from the
glossary: a screen reader or a copy reads リセット, not RESET painted over by CSS. It does not import
``mesa.visualization`` (altair, matplotlib's pyplot and mesa's space renderers, a second or more at every
start of the server) since it uses none of it.

Each chart is a Solara component taking the model; it redraws when :data:`redraws` changes (after every
step) and keeps its figure (``use_memo``) until the model has stepped, so re-renders for other reasons
cost nothing. The pyramid changes only at the turn of a year and is redrawn only then. The page flows (no
fixed grid cells), so nothing is cut on a small screen.
"""

from __future__ import annotations

import calendar
import io
import math
import threading
import time
import traceback
from collections.abc import Callable
from html import escape
from typing import Any

import numpy as np
import solara
import solara.lab

from ...measures.outcomes import METRICS
from ...params.scenario import load_scenario
from ..labels import LANGS, capitalised, check_lang, glossary, term, terms, text, texts
from ..webfont import font_css
from . import charts
from .wrapper import INTERVENTIONS, DashboardModel, Settings, matching_series, period_labels

redraws = solara.reactive(0)
"""Counts the steps shown: the charts redraw when it changes (one counter per browser session)."""


def force_update() -> None:
    """Redraw the charts (after a step or a reset)."""
    redraws.value += 1

CSS = """
.kyojo-page img { max-width: 100%; height: auto; }
.kyojo-summary, .kyojo-summary *, .v-application { font-family: Roboto, 'KyojoJP', sans-serif; }
.kyojo-summary .kyojo-help { color: #555; font-size: 0.85em; }
.kyojo-controls .v-btn { text-transform: none; letter-spacing: 0; }
div:has(> b > a[href="https://solara.dev"]) { display: none !important; }
.v-navigation-drawer .v-slider__thumb-label-container { display: block !important; }
.v-navigation-drawer .v-slider__thumb-label { transform: translateX(-50%) !important; top: 9px !important;
  background: rgba(255, 255, 255, 0.9) !important; color: #1565c0 !important; width: auto !important;
  height: auto !important; font-size: 10px; line-height: 1.2; padding: 0 2px; border-radius: 0; }
.v-navigation-drawer .v-slider__thumb-label > * { transform: none !important; }
.v-navigation-drawer .kyojo-controls .v-slider__thumb-label-container { display: none !important; }
.v-navigation-drawer .v-input__slider { margin-bottom: 6px; }
"""
"""Page styles: figures shrink to the page, buttons keep the case of their words, every slider of the settings
shows its value under its knob, and Solara's own footer (a link to solara.dev) is left out."""


def title(lang: str = "ja") -> str:
    """Return the title of the page (its app bar)."""
    return text("dashboard.title", lang)


def model_params(choices: dict[str, str], lang: str = "ja") -> dict[str, Any]:
    """Return the controls of the page (mesa ``model_params``), starting at the first choice's settings.

    Args:
        choices: The municipality menu (label -> scenario) of
            :func:`~kyojosim.present.dashboard.wrapper.scenario_choices`.
        lang: The language of the labels.
    """
    check_lang(lang)
    first = next(iter(choices))
    scn = load_scenario(choices[first])
    s = Settings.from_scenario(scn)
    start = scn.municipality.start_year
    end = start + scn.simulation.years
    t = texts("dashboard", lang)
    periods = list(period_labels(lang))
    params: dict[str, Any] = {
        "municipality": {"type": "Select", "value": first, "values": list(choices), "label": t["municipality"]},
        # any municipality of Japan by code or name; its scenario is built from the census and IPSS tables
        "other": {"type": "InputText", "value": "", "label": t["other"]},
    }
    for name in INTERVENTIONS:
        label = capitalised(term("intervention", name, lang), lang)
        params[name] = {"type": "Checkbox", "value": bool(getattr(s, name)), "label": label}
        params[f"{name}_start"] = {"type": "SliderInt", "value": int(getattr(s, f"{name}_start")), "min": start,
                                   "max": end, "step": 1, "label": text("dashboard.start_of", lang, name=label)}
    params.update({
        "campaign": {"type": "SliderFloat", "value": float(min(s.campaign, 5.0)), "min": 1.0, "max": 5.0, "step": 0.5,
                     "label": t["campaign"]},
        "price": {"type": "SliderInt", "value": int(s.price), "min": 0, "max": 2000, "step": 50, "label": t["price"]},
        "subsidy": {"type": "SliderInt", "value": int(s.subsidy), "min": 0, "max": 1000, "step": 50,
                    "label": t["subsidy"]},
        "reporters": {"type": "SliderInt", "value": int(s.reporters), "min": 0, "max": 10, "step": 1,
                      "label": t["reporters"]},
        "compare": {"type": "Checkbox", "value": True, "label": t["compare"]},
        "period": {"type": "Select", "value": periods[0], "values": periods, "label": t["period"]},
        "seed": {"type": "SliderInt", "value": int(s.seed), "min": 0, "max": max(99, int(s.seed)), "step": 1,
                 "label": t["seed"]},
        "lang": lang,  # fixed: not a control, passed to the model as it is
    })
    return params


def page_text(choices: dict[str, str], lang: str = "ja") -> str:
    """Return every text the page may show: the glossary's terms and texts, the metrics' labels, the towns' names.

    The page embeds a font cut to these characters (:mod:`kyojosim.present.webfont`).
    """
    parts: list[str] = []
    g = glossary()
    for vocabulary in g["terms"]:
        parts += terms(vocabulary, lang).values()
    for section in ("dashboard", "common"):
        parts += [v if isinstance(v, str) else "".join(v) for v in texts(section, lang).values()]
    parts += [getattr(m, lang) for m in METRICS.values()]
    parts += list(choices)
    for src in choices.values():
        m = load_scenario(src).municipality
        parts.append(m.name)
        parts += [d.name for d in m.districts]
    return "".join(parts)


CHARTS: dict[str, tuple[Callable[[DashboardModel], Any], Callable[[DashboardModel], Any]]] = {
    "matching": (charts.matching_figure, lambda m: m.steps),
    "district": (charts.district_figure, lambda m: m.steps),
    "pyramid": (charts.pyramid_figure, lambda m: int(m.tracks[0].points[-1].t)),  # changes at the turn of a year
    "tsunagari": (charts.tsunagari_figure, lambda m: m.steps),
}
"""The charts of the page: how each is drawn, and what it changes with."""

_PREPARED: dict[tuple[int, str, Any], bytes] = {}


def chart_png(name: str, model: DashboardModel) -> bytes:
    """Return a chart of the model as PNG: the one prepared for it (:func:`prepare_charts`), else drawn now."""
    make, key = CHARTS[name]
    prepared = _PREPARED.pop((id(model), name, key(model)), None)
    if prepared is not None:
        return prepared
    buf = io.BytesIO()
    make(model).savefig(buf, format="png", bbox_inches="tight")
    return buf.getvalue()


def prepare_charts(model: DashboardModel) -> None:
    """Draw the charts of a model before a page shows it (the first page shows them at once)."""
    for name, (_, key) in CHARTS.items():
        _PREPARED[(id(model), name, key(model))] = chart_png(name, model)


def _use_chart(name: str, model: DashboardModel) -> None:
    key = CHARTS[name][1](model)
    png = solara.use_memo(lambda: chart_png(name, model), [id(model), key])
    solara.Image(png, format="png", classes=["kyojo-chart"])


@solara.component
def MatchingChart(model: DashboardModel):
    """Show the matching rate by category over the trailing 12 months, with and without the interventions."""
    redraws.get()
    _use_chart("matching", model)


@solara.component
def DistrictMap(model: DashboardModel):
    """Show the unmet needs by district on a tile map."""
    redraws.get()
    _use_chart("district", model)


@solara.component
def TsunagariChart(model: DashboardModel):
    """Show つながり力 by participation group over time."""
    redraws.get()
    _use_chart("tsunagari", model)


@solara.component
def PyramidChart(model: DashboardModel):
    """Show the population pyramid (redrawn at the turn of a year)."""
    redraws.get()
    _use_chart("pyramid", model)


def date_text(model: DashboardModel) -> str:
    """Return the calendar month the model has reached: 2016年1月, January 2016."""
    last = model.tracks[0].points[-1]
    year, month = model.main.start_year + last.month // 12, last.month % 12 + 1
    return text("dashboard.date", model.lang, year=year, month=month, month_name=calendar.month_name[month])


def summary_lines(model: DashboardModel) -> list[str]:
    """Return the summary shown above the charts, as lines of HTML (``<b>`` for the figures)."""
    lang = model.lang
    main = model.tracks[0]
    last, first = main.points[-1], main.points[0]
    start = model.main.start_year
    m = model.scenario.municipality
    name = m.name if lang == "ja" else (m.name_en or m.name)
    step = next(k for k, v in period_labels(lang).items() if v == model.months_per_step)
    elapsed = text("dashboard.elapsed", lang, years=last.month // 12, months=last.month % 12, step=step)
    population = text("dashboard.population", lang, population=f"<b>{last.population:,.0f}</b>", start=start,
                      first=f"{first.population:,.0f}")
    lines = [f"<b>{escape(text('dashboard.now', lang, name=name, date=date_text(model)))}</b>{escape(elapsed)}"
             f"{population}"]

    def overall(tr) -> float:
        _, _, rate = matching_series(tr)
        return float(rate[-1]) if rate.size else math.nan

    def pct(x: float) -> str:
        return "—" if np.isnan(x) else f"{100 * x:.1f}%"

    with_rate = overall(main)
    line = (escape(text("dashboard.rate_line", lang)) + escape(text("dashboard.rate_with", lang))
            + f" <b class='kyojo-rate'>{pct(with_rate)}</b>")
    if model.baseline is not None:
        base_rate = overall(model.baseline)
        diff = "—" if np.isnan(with_rate) or np.isnan(base_rate) else f"{100 * (with_rate - base_rate):+.1f}"
        line += (escape(text("dashboard.rate_sep", lang)) + escape(text("dashboard.rate_without", lang))
                 + f" <b class='kyojo-base-rate'>{pct(base_rate)}</b>"
                 + text("dashboard.rate_diff", lang, diff=f"<b>{diff}</b>"))
    lines.append(line)
    active = model.settings.active()
    items = [text("dashboard.active_item", lang, name=term("intervention", n, lang), year=y) for n, y in active]
    lines.append(escape(text("dashboard.active", lang)
                        + (text("dashboard.active_sep", lang).join(items) if items else text("dashboard.active_none",
                                                                                             lang))))
    return lines


_PAGE_TEXT: dict[str, str] = {}


def set_page_text(text_: str) -> None:
    """Set the text whose Japanese characters the page's embedded font must cover."""
    _PAGE_TEXT["text"] = text_


@solara.component
def Summary(model: DashboardModel):
    """Show the date, population, overall matching rate, the interventions on, and how to use the page."""
    redraws.get()
    lang = model.lang
    # the embedded font also covers a municipality typed in (its names are not in the page text)
    names = model.scenario.municipality.name + "".join(d.name for d in model.scenario.municipality.districts)
    css = solara.use_memo(lambda: CSS + font_css(_PAGE_TEXT.get("text", "") + names + model.notice),
                          [names, model.notice])
    solara.Style(css)
    with solara.Column(classes=["kyojo-summary"], gap="0px"):
        if model.notice:  # a municipality typed in that could not be used, first so that it is seen
            solara.HTML(tag="div", unsafe_innerHTML=f'<span style="color:#b71c1c">{escape(model.notice)}</span>')
        for line in summary_lines(model):
            solara.HTML(tag="div", unsafe_innerHTML=line)
        solara.Text(text("dashboard.help", lang), classes=["kyojo-help"])
    if not model.running:
        solara.Info(text("dashboard.ended", lang), dense=True)


@solara.component
def Progress(model: DashboardModel):
    """Show how far the model has gone: steps and the calendar month, in words of the page's language."""
    redraws.get()
    solara.Text(text("dashboard.progress", model.lang, steps=model.steps, date=date_text(model)),
                classes=["kyojo-progress"])


@solara.component
def Controller(model: solara.Reactive[DashboardModel], parameters: solara.Reactive[dict[str, Any]], lang: str):
    """Reset, play or pause, and step the model; the speed of playing and how often the charts are redrawn.

    As mesa's ``ModelController`` (playing runs in a thread of its own and redraws every *render interval*
    steps), with its buttons and sliders labelled in the page's language.
    """
    t = texts("dashboard", lang)
    playing = solara.use_reactive(False)
    running = solara.use_reactive(True)
    play_interval = solara.use_reactive(50)
    render_interval = solara.use_reactive(1)
    error = solara.use_reactive(None)
    lock = solara.use_memo(threading.Lock, [])

    def advance(n: int) -> None:
        with lock:
            for _ in range(n):
                model.value.step()
                running.value = model.value.running
                if not running.value:
                    break
        force_update()

    def play() -> None:
        try:
            while running.value and playing.value:
                time.sleep(play_interval.value / 1000)
                advance(render_interval.value)
        except Exception as exc:  # shown on the page: a failed step must not pass silently
            error.value = text("dashboard.error", lang, error=exc)
            traceback.print_exc()

    solara.lab.use_task(play, dependencies=[playing.value, running.value], prefer_threaded=True)

    def step() -> None:
        try:
            advance(render_interval.value)
        except Exception as exc:
            error.value = text("dashboard.error", lang, error=exc)
            traceback.print_exc()

    def reset() -> None:
        error.value = None
        playing.value = False
        running.value = True
        with lock:
            model.value = DashboardModel(**parameters.value)
        force_update()

    with solara.Column(classes=["kyojo-controls"]):
        solara.SliderInt(t["play_interval"], value=play_interval, min=1, max=500, step=10)
        solara.SliderInt(t["render_interval"], value=render_interval, min=1, max=100, step=1)
        with solara.Row(justify="space-between"):
            solara.Button(label=t["reset"], color="primary", on_click=reset)
            solara.Button(label=t["pause"] if playing.value else t["play"], color="primary",
                          on_click=lambda: playing.set(not playing.value), disabled=not running.value)
            solara.Button(label=t["step"], color="primary", on_click=step,
                          disabled=playing.value or not running.value)
        if error.value:
            solara.Error(label=error.value)


@solara.component
def Controls(params: dict[str, Any], parameters: solara.Reactive[dict[str, Any]]):
    """Show the model's controls (mesa's ``model_params`` form: Select, Checkbox, SliderInt, SliderFloat, InputText).

    A control's value goes into ``parameters``, from which *Reset* builds the next model.
    """
    for name, options in params.items():
        if not isinstance(options, dict):
            continue  # a fixed value, passed to the model as it is

        def on_value(value: Any, name: str = name) -> None:
            parameters.value = {**parameters.value, name: value}

        kind, label = options["type"], options["label"]
        value = parameters.value.get(name, options["value"])
        if kind in ("SliderInt", "SliderFloat"):
            slider = solara.SliderInt if kind == "SliderInt" else solara.SliderFloat
            slider(label, value=value, on_value=on_value, min=options["min"], max=options["max"], step=options["step"])
        elif kind == "Select":
            solara.Select(label, value=value, values=options["values"], on_value=on_value)
        elif kind == "Checkbox":
            solara.Checkbox(label=label, value=value, on_value=on_value)
        elif kind == "InputText":
            solara.InputText(label, value=value, on_value=on_value)
        else:
            raise ValueError(f"control {name!r}: type {kind!r}; allowed: Select, Checkbox, SliderInt, SliderFloat, "
                             "InputText")


@solara.component
def DashboardPage(model: DashboardModel, params: dict[str, Any], lang: str = "ja"):
    """Show the whole page: the sidebar (run, settings, progress) and the summary and charts of ``model``.

    Args:
        model: The model the page starts with.
        params: The controls (:func:`model_params`), values as the page starts.
        lang: The language of the page.
    """
    t = texts("dashboard", lang)
    current = solara.use_reactive(model)
    defaults = {k: (v["value"] if isinstance(v, dict) else v) for k, v in params.items()}
    parameters = solara.use_reactive(defaults)
    with solara.AppBar():
        solara.AppBarTitle(title(lang))
    with solara.Sidebar(), solara.Column():
        with solara.Card(t["controls_h"]):
            Controller(current, parameters, lang)
        with solara.Card(t["settings_h"]):
            Controls(params, parameters)
        with solara.Card(t["progress_h"]):
            Progress(current.value)
    with solara.Column(classes=["kyojo-page"]):
        Summary(current.value)
        MatchingChart(current.value)
        with solara.Columns([7, 5]):
            DistrictMap(current.value)
            PyramidChart(current.value)
        TsunagariChart(current.value)


COMPONENTS: list[Any] = [Summary, MatchingChart, DistrictMap, PyramidChart, TsunagariChart]
"""The components of the page's main area, in order."""

__all__ = ["COMPONENTS", "CSS", "LANGS", "Controller", "Controls", "DashboardPage", "DistrictMap", "MatchingChart",
           "Progress", "PyramidChart", "Summary", "TsunagariChart", "date_text", "force_update", "model_params",
           "page_text", "redraws", "set_page_text", "summary_lines", "title", "CHARTS", "chart_png", "prepare_charts"]
