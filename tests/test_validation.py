"""The 2008 -> 2017 validation experiment and its fit (kyojosim.analysis.validation), at reduced size."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from kyojosim.analysis.validation import REPORT_AGE_GROUPS, fit_participation, run_participation, tsunagari_order
from kyojosim.constants import PARTICIPATION_GROUPS
from script_loader import load_script

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = ROOT / "experiments" / "validation"


def test_validation_command_at_reduced_size(tmp_path):
    """The full command at scale 0.02 with one seed: all-ages 2017 mix within ±5 points, つながり力 ordering."""
    out = tmp_path / "validation"
    proc = subprocess.run([sys.executable, str(SCRIPTS / "participation_2008_2017.py"), "--scale", "0.02",
                           "--seeds", "1", "--jobs", "1", "--out", str(out)], capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "within ±5 points" in proc.stdout
    table = pd.read_csv(out / "participation_2008_2017.csv")
    assert set(table["age_group"]) == {name for name, _, _ in REPORT_AGE_GROUPS}
    allrow = table[table["age_group"] == "all"].set_index("group")
    assert list(allrow.index) == list(PARTICIPATION_GROUPS)
    # the start reproduces the 2008 row exactly (fitted at synthesis); the end is within the target
    assert (allrow["sim_2008"] - allrow["published_2008"]).abs().max() < 0.6
    assert allrow["gap_2017"].abs().max() <= 5.0
    # shares of each age group sum to 100
    assert table.groupby("age_group")["sim_2017"].sum().sub(100).abs().max() < 1e-6
    # つながり力 is reported per seed and year, with how it comes about (not required to order the groups)
    order = pd.read_csv(out / "tsunagari_order.csv")
    assert {"holds", "corr_memberships", "explained_offline", "explained_online", "holds_literal"} <= set(order)
    assert sorted(order["survey_year"]) == [2008, 2017] and order["corr_memberships"].between(-1, 1).all()
    assert "ordering holds in" in proc.stdout
    # the start gives each age group its own mix: people in their 20s are online far more than people in their 70s
    young, old = (table[table["age_group"] == a].set_index("group")["sim_2008"] for a in ("20s", "70s"))
    assert young["both"] + young["online_only"] > old["both"] + old["online_only"] + 30
    assert old["offline_only"] > young["offline_only"] + 20


def test_the_experiment_moves_people_online():
    rows = run_participation(seed=2, scale=0.01)
    end = rows[(rows["survey_year"] == 2017) & (rows["age_group"] == "all")].set_index("group")["percent"]
    start = rows[(rows["survey_year"] == 2008) & (rows["age_group"] == "all")].set_index("group")["percent"]
    assert end["online_only"] > start["online_only"] + 15 and end["offline_only"] < start["offline_only"] - 10
    old_start = rows[(rows["survey_year"] == 2008) & (rows["age_group"] == "60+")].set_index("group")["percent"]
    old_end = rows[(rows["survey_year"] == 2017) & (rows["age_group"] == "60+")].set_index("group")["percent"]
    # people aged 60 and over moved online too (図表4-3-5-2 text)
    assert old_end["both"] + old_end["online_only"] > old_start["both"] + old_start["online_only"] + 10
    # taking part has shaped trust from the start and goes on shaping it: つながり力 follows participation,
    # more so at the end
    order = tsunagari_order(rows).set_index("survey_year")
    assert order.loc[2008, "corr_memberships"] > 0.3
    assert order.loc[2017, "corr_memberships"] > order.loc[2008, "corr_memberships"] + 0.1


def test_fit_ranks_grid_points_by_their_gaps():
    grid = {"communities.offline_trend": (-0.14, 0.0), "communities.online_join_rate": (0.45,)}
    table = fit_participation(grid, seeds=(1,), scale=0.02)
    assert len(table) == 2 and table["objective"].is_monotonic_increasing
    # without the decline of real-world communities, people in both kinds stay far above the 2017 row and
    # online-only people far below it
    assert table.iloc[0]["communities.offline_trend"] == -0.14
    assert table.iloc[1]["sim_both"] > table.iloc[0]["sim_both"] + 8
    assert table.iloc[1]["sim_online_only"] < table.iloc[0]["sim_online_only"] - 8
    assert table.iloc[1]["max_abs_gap"] > 5 >= table.iloc[0]["max_abs_gap"]


def test_fit_writes_the_defaults_with_provenance(tmp_path, monkeypatch):
    fit = load_script(SCRIPTS / "fit_participation.py", "fit_participation")
    copy = tmp_path / "scenario.py"
    source = ROOT / "src" / "kyojosim" / "params" / "scenario.py"
    copy.write_text(source.read_text(encoding="utf-8"), encoding="utf-8")
    monkeypatch.setattr(fit, "SCENARIO_PY", copy)
    best = pd.Series({"communities.offline_trend": -0.1234, "communities.online_join_rate": 0.321,
                      "objective": 9.87, "max_abs_gap": 2.3})
    fit.write_defaults(best, (1, 2), 0.02)
    text = copy.read_text(encoding="utf-8")
    assert "    offline_trend: float = param(\n        -0.1234,\n" in text
    assert "    online_join_rate: float = param(\n        0.321,\n" in text
    assert "objective 9.87, max gap 2.3 points" in text
    assert text.count("# fitted: experiments/validation/fit_participation.py") == 1
    fit.write_defaults(best, (1, 2), 0.02)  # idempotent: one note, same values
    assert copy.read_text(encoding="utf-8") == text


@pytest.mark.parametrize("bad", [{"communities.offline_trend": -0.9}])
def test_bad_overrides_are_refused(bad):
    from kyojosim.errors import ScenarioError

    with pytest.raises(ScenarioError, match="offline_trend"):
        run_participation(seed=1, scale=0.01, overrides=bad)
