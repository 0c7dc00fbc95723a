"""The kyojosim dashboard: run a municipality in the browser and watch mutual aid change.

``kyojosim dashboard [SCENARIO] [--lang ja|en]`` serves :mod:`kyojosim.present.dashboard.app` (a page in the
shape of mesa's ``SolaraViz``, in Japanese or English) with Solara. The pieces:

- :mod:`~kyojosim.present.dashboard.wrapper`: :class:`DashboardModel`, the Mesa model the page drives:
  the scenario with the controls applied, stepped a month (or a quarter, or a year) at a time,
  and optionally a baseline with every intervention off and the same seed;
- :mod:`~kyojosim.present.dashboard.charts`: the matplotlib figures (matching rate by category, unmet
  needs by district on a tile map, つながり力 by participation group, the population pyramid);
- :mod:`~kyojosim.present.dashboard.components`: the page and the Solara components that show them, every
  word from the glossary (:mod:`kyojosim.present.labels`);
- :mod:`kyojosim.present.webfont`: a Japanese web font for the browser (shared with the report), cut from the font
  that :mod:`matplotlib_fontja` ships, so labels render on machines without Japanese fonts.
"""

from __future__ import annotations

from pathlib import Path

SCENARIO_ENV = "KYOJOSIM_DASHBOARD_SCENARIO"
"""Environment variable through which ``kyojosim dashboard`` passes the scenario to the app."""
LANG_ENV = "KYOJOSIM_DASHBOARD_LANG"
"""Environment variable through which ``kyojosim dashboard --lang`` passes the page's language to the app."""
APP_PATH = Path(__file__).resolve().parent / "app.py"
"""The Solara app file that ``kyojosim dashboard`` serves."""

__all__ = ["APP_PATH", "LANG_ENV", "SCENARIO_ENV"]
