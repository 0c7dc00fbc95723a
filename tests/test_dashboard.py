"""The dashboard without a browser: its model wrapper, charts, web font, app module and command line."""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import io
import re
from pathlib import Path

import numpy as np
import pytest
from matplotlib.figure import Figure

from kyojosim.cli import main
from kyojosim.constants import CATEGORIES
from kyojosim.params.scenario import load_scenario
from kyojosim.present.dashboard import LANG_ENV, SCENARIO_ENV, charts
from kyojosim.present.dashboard.components import date_text, model_params, page_text, summary_lines
from kyojosim.present.dashboard.wrapper import (
    CAMPAIGN_YEARS,
    INTERVENTIONS,
    OWN_CASE,
    DashboardModel,
    Settings,
    baseline_of,
    matching_series,
    scenario_choices,
    unmet_by_district,
)
from kyojosim.present.labels import text
from script_loader import load_script

LATIN = re.compile(r"[A-Za-z]")
JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")


@pytest.fixture(scope="module")
def hub_model() -> DashboardModel:
    """Yamae with the reporting hub from the start, a year per step, two years, beside its baseline."""
    model = DashboardModel.from_scenario("yamae", reporting_hub=True, reporting_hub_start=2015, reporters=3,
                                         period="1年", years=2, compare=True)
    model.step()
    return model


def test_one_step_advances_both_variants_a_month():
    model = DashboardModel.from_scenario("yamae", local_sns=True, compare=True, years=1)
    assert [tr.label for tr in model.tracks] == ["with", "baseline"]
    model.step()
    assert model.steps == 1 and model.month == 1
    for tr in model.tracks:
        assert [p.month for p in tr.points] == [0, 1]
        assert tr.model.steps in (4, 5)  # a month of weekly steps
        assert tr.points[-1].matched.shape == (len(CATEGORIES),)
        assert tr.points[-1].matched.sum() > 0
    assert model.running


def test_controls_set_the_scenario_keys():
    s = Settings(local_sns=True, local_sns_start=2020, campaign=2.5, price=800, subsidy=200, reporters=4, seed=7)
    scn = load_scenario("yamae", s.overrides())
    iv = scn.interventions
    assert iv.local_sns.enabled and iv.local_sns.start_year == 2020
    assert iv.local_sns.campaign == {2020 + k: 2.5 for k in range(CAMPAIGN_YEARS)}
    assert not iv.sharing_platform.enabled and not iv.reporting_hub.enabled and not iv.offline_events.enabled
    assert iv.sharing_platform.price_per_hour == 800 and iv.sharing_platform.subsidy_per_hour == 200
    assert iv.reporting_hub.reporters_per_district == 4
    assert scn.simulation.seed == 7
    assert load_scenario("yamae", Settings(campaign=1.0).overrides()).interventions.local_sns.campaign == {}
    # a scenario's own settings come back unchanged through the controls
    hub = load_scenario("yamae-hub")
    assert load_scenario("yamae-hub", Settings.from_scenario(hub).overrides()).digest() == hub.digest()


def test_baseline_switches_every_intervention_off_with_the_same_seed():
    scn = load_scenario("yamae-all")
    base = baseline_of(scn)
    assert all(getattr(scn.interventions, n).enabled for n in INTERVENTIONS)
    assert not any(getattr(base.interventions, n).enabled for n in INTERVENTIONS)
    assert base.simulation.seed == scn.simulation.seed


def test_an_intervention_changes_the_run_against_its_baseline(hub_model):
    main_track, base_track = hub_model.tracks
    assert hub_model.month == 12
    _, _, with_rate = matching_series(main_track)
    _, _, base_rate = matching_series(base_track)
    assert with_rate[-1] != base_rate[-1]
    # the same seed: the population is the same in both runs
    assert main_track.points[-1].population == base_track.points[-1].population
    unmet = unmet_by_district(main_track)
    assert unmet.shape == (len(hub_model.scenario.municipality.districts),) and (unmet >= 0).all()


def test_runs_end_at_the_scenario_length():
    model = DashboardModel.from_scenario("yamae", period="1年", years=1, compare=False)
    assert model.baseline is None
    model.step()
    assert not model.running and model.month == 12
    model.step()  # a step after the end does nothing
    assert model.month == 12 and len(model.tracks[0].points) == 2


def test_bad_period_is_a_clear_error():
    from kyojosim.errors import ScenarioError

    with pytest.raises(ScenarioError, match="period"):
        DashboardModel(municipality="yamae", period="1週")


@pytest.mark.parametrize("make", [charts.matching_figure, charts.district_figure, charts.tsunagari_figure,
                                  charts.pyramid_figure])
def test_charts_draw(hub_model, make):
    fig = make(hub_model)
    assert isinstance(fig, Figure)
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    assert buf.getvalue()[:8] == b"\x89PNG\r\n\x1a\n"
    texts = [t.get_text() for t in fig.findobj(lambda a: hasattr(a, "get_text"))]
    assert any(any(ord(ch) > 0x3000 for ch in t) for t in texts), "Japanese labels expected"


def test_charts_put_the_two_variants_side_by_side(hub_model):
    fig = charts.matching_figure(hub_model)
    titles = [ax.get_title() for ax in fig.axes]
    assert text("dashboard.with", "ja") in titles and text("dashboard.without", "ja") in titles


@pytest.mark.parametrize("make", [charts.matching_figure, charts.district_figure, charts.tsunagari_figure,
                                  charts.pyramid_figure])
def test_every_word_of_the_japanese_charts_is_japanese(hub_model, make):
    """No English word in the Japanese charts (numbers, %, age bands and punctuation aside)."""
    fig = make(hub_model)
    fig.canvas.draw()
    words = [t.get_text() for t in fig.findobj(lambda a: hasattr(a, "get_text")) if t.get_text()]
    assert words and not [w for w in words if LATIN.search(w)], [w for w in words if LATIN.search(w)]


def test_english_page_speaks_english():
    model = DashboardModel.from_scenario("yamae-hub", period="year", years=1, lang="en")
    model.step()
    lines = "\n".join(summary_lines(model))
    hub = load_scenario("yamae-hub").interventions.reporting_hub.start_year
    assert "Yamae village, January 2016" in lines and f"Interventions: local reporting hub (from {hub})" in lines
    # Japanese only in names: つながり力, the municipality and its districts
    names = ["つながり力"] + [d.name for d in model.scenario.municipality.districts]
    for make in (charts.matching_figure, charts.tsunagari_figure, charts.pyramid_figure, charts.district_figure):
        fig = make(model)
        words = [t.get_text() for t in fig.findobj(lambda a: hasattr(a, "get_text")) if t.get_text()]
        for w in words:
            w = re.sub(r"\s", "", w)  # district names are wrapped on the tiles
            for name in names:
                w = w.replace(name, "")
            assert not JAPANESE.search(w), w
    params = model_params(scenario_choices("yamae", "en"), "en")
    labels = [p["label"] for p in params.values() if isinstance(p, dict)]
    assert labels and not [x for x in labels if JAPANESE.search(x)]
    assert params["period"]["values"] == ["1 month", "3 months", "1 year"]


def test_the_time_axis_follows_the_run():
    model = DashboardModel.from_scenario("yamae", period="year", years=3, compare=False)
    assert charts.time_span(model) == (2015.0, 2016.0)  # a year at least
    model.step()
    model.step()
    assert charts.time_span(model) == (2015.0, 2017.0)
    ax = charts.matching_figure(model).axes[0]
    assert ax.get_xlim() == (2015.0, 2017.0)


def test_each_bundled_town_opens_with_its_own_case():
    """Yamae its reporting hub, Ikoma the paid sharing service, Koto the local SNS: the run beside it differs."""
    expected = {"yamae": "reporting_hub", "ikoma": "sharing_platform", "koto": "local_sns"}
    for town, intervention in expected.items():
        choices = scenario_choices(town)
        first = next(iter(choices))
        assert choices[first] == OWN_CASE[town]
        params = model_params(choices)
        on = [n for n in INTERVENTIONS if params[n]["value"]]
        assert on == [intervention], (town, on)


@pytest.mark.parametrize("name", ["yamae", "ikoma", "koto"])
def test_tile_map_places_every_district_once_north_on_top(name):
    districts = load_scenario(name).municipality.districts
    pos = charts.tile_positions(districts)
    assert len(set(pos)) == len(districts)
    rows = [r for r, _ in pos]
    lats = [d.lat for d in districts]
    assert rows[int(np.argmax(lats))] == 0 and rows[int(np.argmin(lats))] == max(rows)


def test_summary_names_the_date_the_rates_and_the_interventions(hub_model):
    lines = "\n".join(summary_lines(hub_model))
    assert "山江村" in lines and "2016年1月" in lines and date_text(hub_model) == "2016年1月"
    assert "地域の通報窓口（2015年〜）" in lines
    assert lines.count("%") >= 2 and "ポイント" in lines and "マッチング率" in lines


def test_controls_are_parameters_of_the_model():
    params = model_params(scenario_choices("yamae"))
    accepted = inspect.signature(DashboardModel.__init__).parameters
    assert set(params) <= set(accepted)
    assert params["municipality"]["values"][:3] == ["山江村", "生駒市", "江東区"]
    model = DashboardModel(**{k: v["value"] if isinstance(v, dict) else v for k, v in params.items()})
    model.step()
    assert model.month == 1


def test_the_page_font_covers_every_word_of_the_page():
    from fontTools.ttLib import TTFont

    from kyojosim.present.webfont import subset_font

    words = page_text(scenario_choices("yamae"))
    shown = text("dashboard.progress", "ja", steps=8, date=text("dashboard.date", "ja", year=2015, month=9,
                                                                 month_name=""))
    assert {ch for ch in shown if ord(ch) > 127} <= set(words)
    cmap = TTFont(io.BytesIO(subset_font(words))).getBestCmap()
    assert all(ord(ch) in cmap for ch in words if ord(ch) > 127)


def test_web_font_covers_the_japanese_text():
    from fontTools.ttLib import TTFont

    from kyojosim.present.webfont import font_css, subset_font

    data = subset_font("山江村 つながり力 abc")
    cmap = TTFont(io.BytesIO(data)).getBestCmap()
    assert all(ord(ch) in cmap for ch in "山江村つながり力")
    assert ord("海") not in cmap
    assert len(data) < 100_000
    assert "@font-face" in font_css("山江村")


def test_app_module_builds_the_page(monkeypatch):
    monkeypatch.setenv(SCENARIO_ENV, "yamae-all")
    monkeypatch.setenv(LANG_ENV, "en")
    import kyojosim.present.dashboard.app as app

    app = importlib.reload(app)
    assert app.page is not None
    assert next(iter(app.CHOICES)) == "Yamae village (as launched)"
    app._preparing.join(60)  # the first model, prepared while the server starts
    model = app.new_model()
    assert all(getattr(model.settings, n) for n in INTERVENTIONS)  # the launched scenario's own settings
    assert model.lang == "en"
    model.step()
    assert model.steps == 1
    assert app.new_model() is not model  # a second session gets a model of its own


def test_cli_dashboard_help(capsys):
    assert main(["dashboard", "--help"]) == 0
    out = capsys.readouterr().out
    assert "--port" in out and "--host" in out and "127.0.0.1" in out and "--lang" in out


@pytest.mark.parametrize("argv", [["dashboard", "no-such-town"], ["dashboard", "yamae", "--port", "70000"]])
def test_cli_dashboard_bad_input_exits_2(capsys, argv):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "Traceback" not in err


def test_bench_dashboard_runs_and_prints_the_figures(capsys):
    path = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_dashboard.py"
    bench = load_script(path, "bench_dashboard")
    rows = bench.main(["yamae", "--steps", "1", "--warmup", "0", "--no-compare"])
    out = capsys.readouterr().out
    assert "s/step (CPU)" in out and out.splitlines()[1].startswith("yamae")
    assert rows[0]["variants"] == 1 and rows[0]["step_wall_s"] >= rows[0]["model_wall_s"] > 0


def test_bench_dashboard_start_times_the_parts_of_the_first_minute(capsys):
    path = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_dashboard_start.py"
    bench = load_script(path, "bench_dashboard_start")
    out = bench.main(["yamae", "--no-browser"])
    printed = capsys.readouterr().out
    assert "first model (and its baseline)" in printed and "page font" in printed
    assert out["starts"] == [] and all(seconds >= 0 for seconds in out["parts"].values())


def test_make_installs_chromium_only_when_missing():
    import shutil
    import subprocess

    if shutil.which("make") is None:
        pytest.skip("no make")
    root = Path(__file__).resolve().parents[1]
    dry = subprocess.run(["make", "-n", "browser", "CHROMIUM=/nonexistent/chromium"], cwd=root, capture_output=True,
                         text=True, check=True).stdout
    assert "apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium" in dry
    assert "playwright install" not in dry
    if Path("/usr/bin/chromium").is_file():
        quiet = subprocess.run(["make", "-s", "browser"], cwd=root, capture_output=True, text=True, check=True)
        assert quiet.stdout == "" and quiet.stderr == ""
