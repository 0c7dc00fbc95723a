"""The bundled municipalities follow their population projections (issue: population decline).

Each scenario, run from its base year at the scale of its file, must follow the projection in
its file within ±5% for the total population and the 65+ share at every 5-year mark to 2045
(mean of seeded runs).
"""

from __future__ import annotations

import pytest

from kyojosim import projection
from kyojosim.cli import main

SEEDS = (1, 2, 3)
TOLERANCE = 0.05


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
def test_total_population_within_five_percent(table, name):
    mine = table[table["scenario"] == name]
    bad = mine[mine["total_error"].abs() > TOLERANCE]
    assert bad.empty, f"{name}: total population off by more than 5%:\n{bad.to_string()}"


@pytest.mark.parametrize("name", projection.BUNDLED)
def test_share_65plus_within_five_percent(table, name):
    mine = table[table["scenario"] == name]
    bad = mine[mine["share_65plus_error"].abs() > TOLERANCE]
    assert bad.empty, f"{name}: 65+ share off by more than 5%:\n{bad.to_string()}"


def test_compare_detects_a_miss(runs):
    # the comparison is not vacuous: a doubled population is reported as +100%
    doubled = runs.assign(population_scaled=runs["population_scaled"] * 2)
    t = projection.compare(doubled, ["yamae"])
    assert (t["total_error"] > 0.9).all()


def test_projection_command_writes_tables_and_figure(tmp_path, capsys):
    out = tmp_path / "proj"
    code = main(["projection", "yamae", "--seeds", "1", "--set", "simulation.years=5", "--out", str(out)])
    assert code == 0
    assert sorted(p.name for p in out.iterdir()) == ["comparison.parquet", "projection.png", "runs.parquet"]
    text = capsys.readouterr().out
    assert "2020" in text and "yamae" in text
    assert (out / "projection.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_projection_command_rejects_zero_seeds(tmp_path, capsys):
    assert main(["projection", "yamae", "--seeds", "0", "--out", str(tmp_path / "x")]) == 2
    assert "Traceback" not in capsys.readouterr().err


def test_projection_command_needs_a_projection(tmp_path, capsys):
    code = main(["projection", "yamae", "--seeds", "1", "--set", "demography.projection=null",
                 "--out", str(tmp_path / "x")])
    assert code == 2
    err = capsys.readouterr().err
    assert "demography.projection" in err and "Traceback" not in err
