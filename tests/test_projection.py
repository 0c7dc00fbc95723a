"""The bundled municipalities follow the IPSS 2018 projection (census 2015 start, fitted migration).

Each scenario, run from 2015 at the scale of its file, must follow the projection in its file (the
IPSS 2018 municipal projection, 日本の地域別将来推計人口 平成30年推計) within ±3% for the total
population and ±2 points for the 65+ and 75+ shares at every 5-year mark to 2045 (mean of seeds
1-3). The runs are the model's population alone, identical to the full model's
(tests/test_demographic_run.py); one test runs the whole model too and finds the same table.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kyojosim.analysis import projection
from kyojosim.cli import main
from kyojosim.params import japan
from kyojosim.params.scenario import load_scenario

SEEDS = (1, 2, 3)
CODES = {"yamae": "43512", "ikoma": "29209", "koto": "13108"}


@pytest.fixture(scope="module")
def runs():
    return projection.track(projection.BUNDLED, seeds=SEEDS, n_jobs=1)


@pytest.fixture(scope="module")
def table(runs):
    return projection.compare(runs, projection.BUNDLED)


def test_every_five_year_mark_is_compared(table):
    for name in projection.BUNDLED:
        years = table.loc[table["scenario"] == name, "year"].tolist()
        assert years == [2015, 2020, 2025, 2030, 2035, 2040, 2045], name
    assert (table["seeds"] == len(SEEDS)).all()


@pytest.mark.parametrize("name", projection.BUNDLED)
def test_the_bundled_files_hold_the_census_and_the_ipss_projection(name):
    scn = load_scenario(name)
    code = CODES[name]
    proj = japan.projection(code)
    assert scn.municipality.code == code
    assert list(scn.demography.projection.total) == proj["total"].tolist()
    assert np.allclose(scn.demography.projection.share_65plus, proj["share_65plus"], atol=5e-5)
    assert np.allclose(scn.demography.projection.share_75plus, proj["share_75plus"], atol=5e-5)
    age = np.array([scn.municipality.age_structure.male, scn.municipality.age_structure.female])
    assert np.array_equal(age, japan.age_structure(code)[0])
    assert "表番号00100" in scn.municipality.households.source
    assert "estimate" in scn.municipality.households.source


@pytest.mark.parametrize("name", projection.BUNDLED)
def test_total_population_within_three_percent(table, name):
    mine = table[table["scenario"] == name]
    bad = mine[mine["total_error"].abs() > projection.TOTAL_BAND]
    assert bad.empty, f"{name}: total population off by more than 3%:\n{bad.to_string()}"


@pytest.mark.parametrize("name", projection.BUNDLED)
@pytest.mark.parametrize("age", ["65", "75"])
def test_shares_within_two_points(table, name, age):
    mine = table[table["scenario"] == name]
    assert mine[f"share_{age}plus_diff"].notna().all()
    bad = mine[mine[f"share_{age}plus_diff"].abs() > projection.SHARE_BAND]
    assert bad.empty, f"{name}: {age}+ share off by more than 2 points:\n{bad.to_string()}"


def test_the_whole_model_gives_the_same_table(runs):
    full = projection.track(["yamae"], seeds=(2,), full=True, simulation__years=5)
    mine = runs[(runs["scenario"] == "yamae") & (runs["seed"] == 2) & (runs["year"] <= 2020)]
    pd.testing.assert_frame_equal(full.reset_index(drop=True), mine.reset_index(drop=True))


def test_compare_detects_a_miss(runs):
    # the comparison is not vacuous: a doubled population is reported as +100%
    doubled = runs.assign(population_scaled=runs["population_scaled"] * 2, share_75plus=runs["share_75plus"] + 0.05)
    t = projection.compare(doubled, ["yamae"])
    assert (t["total_error"] > 0.9).all()
    assert (t["share_75plus_diff"] > 0.04).all()


def test_projection_command_writes_tables_and_figure(tmp_path, capsys):
    out = tmp_path / "proj"
    code = main(["projection", "yamae", "--seeds", "1", "--set", "simulation.years=5", "--out", str(out)])
    assert code == 0
    assert sorted(p.name for p in out.iterdir()) == ["comparison.parquet", "projection.png", "runs.parquet"]
    text = capsys.readouterr().out
    assert "2020" in text and "yamae" in text and "75+" in text
    assert (out / "projection.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    table = pd.read_parquet(out / "comparison.parquet")
    assert {"share_75plus_diff", "projected_75plus"} <= set(table.columns)


def test_projection_command_rejects_zero_seeds(tmp_path, capsys):
    assert main(["projection", "yamae", "--seeds", "0", "--out", str(tmp_path / "x")]) == 2
    assert "Traceback" not in capsys.readouterr().err


def test_projection_command_needs_a_projection(tmp_path, capsys):
    code = main(["projection", "yamae", "--seeds", "1", "--set", "demography.projection=null",
                 "--out", str(tmp_path / "x")])
    assert code == 2
    err = capsys.readouterr().err
    assert "demography.projection" in err and "Traceback" not in err
