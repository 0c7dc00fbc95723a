"""The dashboard page, served by Solara (``kyojosim dashboard`` starts it).

The scenario comes from the environment variable ``KYOJOSIM_DASHBOARD_SCENARIO`` (a bundled name or
a scenario file; default ``yamae``, which opens with its own case, the reporting hub) and the language
from ``KYOJOSIM_DASHBOARD_LANG`` (``ja``, the default, or ``en``). Each browser session gets a model of
its own; the page is :func:`~kyojosim.present.dashboard.components.DashboardPage`.

While the server starts and the browser loads the page's scripts, a thread prepares what the first
page needs (:func:`prepare`): the first model and its charts, the page's font and the compiled
matching kernel, so that the page is usable as soon as it is shown.
"""

from __future__ import annotations

import os
import threading

import numpy as np
import solara

from kyojosim.present.dashboard import LANG_ENV, SCENARIO_ENV
from kyojosim.present.dashboard.components import DashboardPage, model_params, page_text, set_page_text
from kyojosim.present.dashboard.wrapper import DashboardModel, scenario_choices
from kyojosim.present.labels import check_lang

LANG = check_lang(os.environ.get(LANG_ENV) or "ja")
SCENARIO = os.environ.get(SCENARIO_ENV) or "yamae"
CHOICES = scenario_choices(SCENARIO, LANG)
PARAMS = model_params(CHOICES, LANG)
PAGE_TEXT = page_text(CHOICES, LANG)
set_page_text(PAGE_TEXT)

_ready: list[DashboardModel] = []
_lock = threading.Lock()


def build_model() -> DashboardModel:
    """Return a model with the controls' starting values (the launched scenario)."""
    values = {k: (v["value"] if isinstance(v, dict) else v) for k, v in PARAMS.items()}
    return DashboardModel(**values)


def prepare() -> None:
    """Build the first session's model and warm what its first page and first step use."""
    from kyojosim.present.dashboard.components import prepare_charts
    from kyojosim.present.webfont import font_css

    with _lock:
        model = build_model()
        prepare_charts(model)  # its first charts, as PNG
        _ready.append(model)
    font_css(PAGE_TEXT)  # the page's font, cut once (cached by its characters)
    from kyojosim.aid.matching_kernel import greedy_pass  # numba loads the kernel the first step uses

    one, unit = np.zeros(1, dtype=np.int64), np.ones(1)
    greedy_pass(one, one, unit, unit, unit, one, True)


def new_model() -> DashboardModel:
    """Return the model a new browser session starts with: the one prepared, for the first session."""
    with _lock:
        return _ready.pop() if _ready else build_model()


_preparing = threading.Thread(target=prepare, name="kyojosim-prepare", daemon=True)
_preparing.start()


@solara.component
def Page():
    """Show the dashboard with a model of this browser session's own."""
    model = solara.use_memo(new_model, [])
    return DashboardPage(model, PARAMS, LANG)


page = Page()
