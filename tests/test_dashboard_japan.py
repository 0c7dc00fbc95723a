"""The dashboard takes any municipality typed in by code or name, beside its menu of bundled ones."""

from __future__ import annotations

import pytest

from kyojosim.dashboard.components import model_params
from kyojosim.dashboard.wrapper import DashboardModel, scenario_choices


@pytest.fixture(autouse=True)
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("KYOJOSIM_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache" / "scenarios"


def test_the_page_has_a_field_for_any_municipality():
    params = model_params(scenario_choices("yamae"))
    assert params["other"]["type"] == "InputText" and params["other"]["value"] == ""


def test_a_municipality_typed_in_replaces_the_menus_choice(cache):
    model = DashboardModel(municipality="山江村 (yamae)", other="西目屋村", years=1)
    assert model.scenario.municipality.code == "02343" and model.notice == ""
    assert (cache / "nishimeya-02343.yaml").is_file()
    model.step()
    assert model.month == 1
    again = DashboardModel(municipality="山江村 (yamae)", other="02343", years=1, compare=False)
    assert again.scenario.name == "nishimeya-02343"


@pytest.mark.parametrize("typed, words", [("府中市", ["ambiguous", "13206", "34208"]),
                                          ("生狛市", ["unknown", "生駒市"])])
def test_a_name_that_fits_none_or_several_keeps_the_menus_choice_and_says_why(typed, words):
    model = DashboardModel(municipality="山江村 (yamae)", other=typed, years=1, compare=False)
    assert model.scenario.municipality.code == "43512"
    assert typed in model.notice
    for w in words:
        assert w in model.notice
