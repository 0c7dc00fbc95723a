"""The dashboard page, served by ``solara run`` (``kyojosim dashboard`` starts it).

The scenario comes from the environment variable ``KYOJOSIM_DASHBOARD_SCENARIO`` (a bundled
name or a scenario file; default ``yamae``). Each browser session gets a model of its own; the
page itself is mesa's ``SolaraViz`` with the dashboard's controls and charts.
"""

from __future__ import annotations

import os

import solara

from kyojosim.present.dashboard import SCENARIO_ENV
from kyojosim.present.dashboard.components import (
    COMPONENTS,
    TITLE,
    SolaraViz,
    install_layout,
    model_params,
    page_text,
    set_page_text,
)
from kyojosim.present.dashboard.wrapper import DashboardModel, scenario_choices

SCENARIO = os.environ.get(SCENARIO_ENV) or "yamae"
CHOICES = scenario_choices(SCENARIO)
PARAMS = model_params(CHOICES)
install_layout()
set_page_text(page_text(CHOICES))


def new_model() -> DashboardModel:
    """Return the model the page starts with: the launched scenario with the controls' starting values."""
    values = {k: v["value"] for k, v in PARAMS.items()}
    return DashboardModel(**values)


@solara.component
def Page():
    """Show mesa's SolaraViz page with a model of this browser session's own."""
    model = solara.use_memo(new_model, [])
    return SolaraViz(model, components=COMPONENTS, model_params=PARAMS, name=TITLE, play_interval=50)


page = Page()
