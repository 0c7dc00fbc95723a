"""The bundled scenarios and experiments (package data) and how results show themselves in a notebook."""

from __future__ import annotations

import pytest

import kyojosim
from kyojosim.cli import main
from kyojosim.distribution import data_dir, docs_url
from kyojosim.params.experiment import EXPERIMENT_DIR, ExperimentError, load_experiment
from kyojosim.params.scenario import SCENARIO_DIR, find_scenario

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_bundled_files_are_package_data():
    package = data_dir()
    assert SCENARIO_DIR == package / "scenarios" and EXPERIMENT_DIR == package / "experiments"
    assert SCENARIO_DIR.parent.parent.name == "kyojosim"
    assert find_scenario("yamae") == SCENARIO_DIR / "yamae.yaml"


def test_scenarios_lists_every_bundled_file():
    table = kyojosim.scenarios()
    assert list(table["name"]) == sorted(p.stem for p in SCENARIO_DIR.glob("*.yaml"))
    yamae = table.set_index("name").loc["yamae"]
    assert yamae["municipality"] == "山江村" and yamae["population"] == 3422 and yamae["interventions"] == ""
    by_name = table.set_index("name")
    # the Ikoma case: the sharing service from 2016 (the agreement of 2016-01-14)
    assert by_name.at["ikoma-platform", "interventions"] == "sharing_platform 2016"
    # the what-if opens the same service to every category and says it is a what-if
    whatif = by_name.loc["ikoma-platform-all-categories-whatif"]
    assert whatif["interventions"] == "sharing_platform 2016" and whatif["description"].startswith("what-if")
    for name in table["name"]:
        assert kyojosim.load_scenario(name).name == name


def test_experiments_lists_every_bundled_file():
    table = kyojosim.experiments().set_index("name")
    assert list(table.index) == ["all-japan", "ikoma-interventions", "kumamoto-quick", "yamae-quick",
                                 "yamae-sensitivity"]
    assert table.at["ikoma-interventions", "variants"] == "baseline, platform, sns, both"
    # the experiments over municipalities say how many they select, and their runs are counted without building them
    assert table.at["all-japan", "scenarios"] == "1,737 municipalities (all municipalities)"
    assert table.at["kumamoto-quick", "scenarios"] == "45 municipalities (熊本県)"
    assert table.at["all-japan", "runs"] == 1737 * 2 and table.at["kumamoto-quick", "runs"] == 45 * 3 * 2
    assert table.at["ikoma-interventions", "runs"] == 12 and table.at["yamae-sensitivity", "runs"] == 80
    assert table.at["yamae-sensitivity", "design"] == "sobol"


def test_cli_lists(capsys):
    assert main(["scenarios"]) == 0
    out = capsys.readouterr().out
    assert "ikoma-platform" in out and "江東区" in out and str(SCENARIO_DIR) in out
    assert main(["experiments"]) == 0
    out = capsys.readouterr().out
    assert "yamae-sensitivity" in out and str(EXPERIMENT_DIR) in out


def test_a_smaller_trial_of_an_experiment():
    full = load_experiment("ikoma-interventions")
    small = load_experiment("ikoma-interventions", years=1, scale=0.02, replicates=1)
    assert small.name == full.name and small.hash != full.hash and len(small.runs) == 4
    assert all(r.resolved.simulation.years == 1 and r.resolved.municipality.scale == 0.02 for r in small.runs)
    assert small.seeds == full.seeds[:1]  # replicate k keeps its seed
    assert load_experiment(full) is full
    again = load_experiment(full, years=1, scale=0.02, replicates=1)
    assert again.hash == small.hash
    with pytest.raises(ExperimentError, match="scale: out of range"):
        load_experiment("ikoma-interventions", scale=2.0)


def test_sweep_cli_takes_the_smaller_trial(tmp_path, capsys):
    out = tmp_path / "quick"
    assert main(["sweep", "yamae-quick", "--years", "1", "--replicates", "1", "--scale", "0.1", "--out", str(out),
                 "--quiet"]) == 0
    res = kyojosim.load(out)
    assert len(res.design) == 2 and res.manifest["experiment"]["years"] == 1
    assert main(["sweep", "yamae-quick", "--replicates", "0", "--out", str(out), "--quiet"]) == 2
    assert "replicates: out of range" in capsys.readouterr().err


def test_docs_url_names_the_release():
    assert kyojosim.ODD_URL == docs_url("ODD.md") and kyojosim.ODD_URL.endswith(f"/v{kyojosim.__version__}/docs/ODD.md")
    assert docs_url(release="1.2.3").endswith("/tree/v1.2.3/docs")


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    """The results of the bundled quick experiment."""
    return kyojosim.load(kyojosim.sweep("yamae-quick", out=tmp_path_factory.mktemp("quick") / "q", progress=False))


def test_results_show_an_html_summary(quick):
    run = kyojosim.run("yamae", years=1, scale=0.1)
    html = run._repr_html_()
    assert "RunResult: yamae" in html and "matching rate" in html and "%</td>" in html and "Yamae village" in html
    assert "<script" not in html
    html = quick._repr_html_()
    assert "ExperimentResults: yamae-quick" in html and "4 done" in html
    assert html.count("<tr>") == 3  # the header, baseline and hub
    assert "<td>hub</td><td>2</td>" in html


def test_figures_show_as_images_without_pyplot(quick):
    from kyojosim.present import figures

    fig = figures.timeseries(quick, "matching_rate")
    assert isinstance(fig, figures.NotebookFigure)
    assert fig._repr_png_().startswith(PNG_MAGIC)
