"""The dashboard takes any municipality typed in by code or name, beside its menu of bundled ones."""

from __future__ import annotations

import pytest

from kyojosim.present.dashboard.components import model_params
from kyojosim.present.dashboard.wrapper import DashboardModel, scenario_choices


@pytest.fixture(autouse=True)
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("KYOJOSIM_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache" / "scenarios"


def test_the_page_has_a_field_for_any_municipality():
    params = model_params(scenario_choices("yamae"))
    assert params["other"]["type"] == "InputText" and params["other"]["value"] == ""


def test_a_municipality_typed_in_replaces_the_menus_choice(cache):
    model = DashboardModel(municipality="yamae", other="西目屋村", years=1)
    assert model.scenario.municipality.code == "02343" and model.notice == ""
    assert (cache / "nishimeya-02343.yaml").is_file()
    model.step()
    assert model.month == 1
    again = DashboardModel(municipality="yamae", other="02343", years=1, compare=False)
    assert again.scenario.name == "nishimeya-02343"


@pytest.mark.parametrize("typed, words", [("府中市", ["複数", "13206", "34208"]),
                                          ("生狛市", ["見つかりません", "生駒市"])])
def test_a_name_that_fits_none_or_several_keeps_the_menus_choice_and_says_why(typed, words):
    model = DashboardModel(municipality="yamae", other=typed, years=1, compare=False)
    assert model.scenario.municipality.code == "43512"
    assert typed in model.notice
    for w in words:
        assert w in model.notice


def test_the_notice_says_in_japanese_what_to_type():
    model = DashboardModel(municipality="yamae", other="札幌市中央区", years=1, compare=False)
    assert "政令指定都市の区" in model.notice and "01100" in model.notice


def test_districts_sharing_one_position_are_laid_out_in_a_square_grid():
    from kyojosim.params.scenario import load_scenario
    from kyojosim.present.dashboard.charts import tile_positions
    from kyojosim.runs.builder import build

    scn = load_scenario(build("札幌市", fit=False).data)
    pos = tile_positions(scn.municipality.districts)
    assert len(set(pos)) == 10
    assert max(r for r, _ in pos) == 2 and max(c for _, c in pos) == 3  # 10 wards on a 4-column grid
