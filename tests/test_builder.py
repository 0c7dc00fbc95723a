"""Scenarios for any municipality (kyojosim new, kyojosim.runs.builder): valid, cited, and found by name."""

from __future__ import annotations

import re

import numpy as np
import pytest
import yaml

from kyojosim.cli import main
from kyojosim.core.streams import Streams
from kyojosim.core.synthesis import synthesize_residents
from kyojosim.errors import ScenarioError
from kyojosim.params import japan
from kyojosim.params.japan import MunicipalityError
from kyojosim.params.scenario import find_scenario, load_scenario
from kyojosim.runs import builder


@pytest.fixture(autouse=True)
def cache(tmp_path, monkeypatch):
    """Scenarios built on the fly go to a temporary folder, never to the user's cache."""
    folder = tmp_path / "cache"
    monkeypatch.setenv("KYOJOSIM_CACHE_DIR", str(folder))
    return folder / "scenarios"


@pytest.fixture(scope="module")
def yamae_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("new") / "yamae-new.yaml"
    assert main(["new", "山江村", "--out", str(path), "--quiet"]) == 0
    return path


def test_new_writes_a_valid_scenario_of_the_census_and_the_projection(yamae_file):
    scn = load_scenario(yamae_file)
    m = scn.municipality
    assert (m.name, m.code, m.population, m.start_year) == ("山江村", "43512", 3422, 2015)
    assert scn.name == "yamae-43512" and m.name_en == "Yamae village"
    age = np.array([m.age_structure.male, m.age_structure.female])
    assert int(age.sum()) == 3422
    assert np.array_equal(age, japan.age_structure("43512")[0])
    proj = scn.demography.projection
    table = japan.projection("43512")
    assert list(proj.total) == table["total"].tolist()
    assert proj.share_75plus is not None and proj.share_75plus[-1] == pytest.approx(514 / 1783, abs=1e-4)
    mig = scn.demography.migration
    assert sorted(mig.young_shift) == sorted(mig.elderly_shift) == sorted(mig.oldest_shift) == list(
        range(2015, 2045, 5))
    assert sum(m.households.shares.values()) == pytest.approx(1.0, abs=1e-9)
    assert len(m.districts) == 1 and m.districts[0].population_share == 1.0


def test_every_figure_of_the_new_file_names_its_table(yamae_file):
    text = yamae_file.read_text(encoding="utf-8")
    lines = text.splitlines()

    def line_of(key):
        return next(ln for ln in lines if ln.strip().startswith(f"{key}:"))

    def comment_before(key):
        i = next(i for i, ln in enumerate(lines) if ln.strip().startswith(f"{key}:"))
        block = []
        while i > 0 and lines[i - 1].strip().startswith("#"):
            i -= 1
            block.insert(0, lines[i])
        return " ".join(block)

    assert "表番号00100" in line_of("population") and "表番号00100" in line_of("area_km2")
    assert "setting:" in line_of("scale")
    data = yaml.safe_load(text)
    m = data["municipality"]
    assert "平成27年国勢調査" in m["age_structure"]["source"] and "平成30年推計" in m["age_structure"]["source"]
    hh = m["households"]["source"]
    assert hh.startswith("estimate:") and "表番号00100" in hh and "世帯構造等基本集計" in hh
    districts = comment_before("districts")
    assert "estimate:" in districts and "表番号00100" in districts
    assert "estimate:" in comment_before("tfr") and "人口動態統計 2015" in comment_before("tfr")
    assert "国勢調査" in comment_before("net_rate") and "2010→2015" in comment_before("net_rate")
    assert "fit_migration" in comment_before("young_shift")
    assert "平成30年推計" in data["demography"]["projection"]["source"]
    # no number written in a way YAML would read as text
    assert not re.search(r"\d e-\d|\de-\d", text)


def test_new_refuses_to_replace_a_file_and_prints_with_dash(yamae_file, capsys, tmp_path):
    assert main(["new", "43512", "--out", str(yamae_file), "--quiet"]) == 2
    assert "exists" in capsys.readouterr().err
    assert main(["new", "西目屋村", "--out", "-", "--quiet", "--seeds", "1"]) == 0
    out = capsys.readouterr().out
    assert yaml.safe_load(out)["municipality"]["code"] == "02343"
    assert main(["new", "西目屋村", "--out", str(tmp_path / "no" / "such" / "dir.yaml"), "--quiet"]) == 2


@pytest.mark.parametrize("query, words", [
    ("府中市", ["ambiguous", "府中市 (東京都, 13206)", "府中市 (広島県, 34208)"]),
    ("双葉町", ["counted nobody", "evacuation"]),
    ("札幌市中央区", ["ward", "札幌市 (北海道, 01100)"]),
    ("Ikomma", ["unknown municipality", "生駒市"]),
])
def test_new_explains_what_it_cannot_build(query, words, capsys, tmp_path):
    assert main(["new", query, "--out", str(tmp_path / "x.yaml")]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    for w in words:
        assert w in err
    assert not (tmp_path / "x.yaml").exists()


def test_a_fukushima_municipality_has_no_projection_and_says_why(tmp_path, capsys):
    out = tmp_path / "date.yaml"
    assert main(["new", "Date, Fukushima", "--out", str(out)]) == 0
    said = capsys.readouterr().out
    assert "福島県" in said and "no projection target" in said
    text = out.read_text(encoding="utf-8")
    scn = load_scenario(out)
    assert scn.demography.projection is None
    assert scn.demography.migration.young_shift == {}
    assert "no projection" in text and "2005→2010" in text
    assert scn.municipality.population == 62400


def test_a_designated_city_has_its_wards_as_districts():
    built = builder.build("札幌市", fit=False)
    d = built.data["municipality"]["districts"]
    wards = japan.wards("01100")
    assert [x["name"] for x in d] == wards["name"].tolist()
    assert sum(x["population_share"] for x in d) == pytest.approx(1.0, abs=1e-9)
    assert d[0]["population_share"] == pytest.approx(wards["population"].iloc[0] / 1952356, abs=1e-4)
    assert built.data["municipality"]["scale"] == 0.01
    load_scenario(yaml.safe_load(built.text()))


def test_the_household_mix_reproduces_the_census_number_of_households():
    for code in ("43512", "13108"):
        built = builder.build(code, fit=False)
        scn = load_scenario(built.data)
        pop = synthesize_residents(scn, Streams(1))
        households = np.unique(pop.household[pop.live()]).size
        target = built.record.households * scn.municipality.scale
        assert households == pytest.approx(target, rel=0.03), code
    # a ward of one-person households and a village of large households
    koto = builder.build("13108", fit=False).data["municipality"]["households"]["shares"]
    yamae = builder.build("43512", fit=False).data["municipality"]["households"]["shares"]
    assert koto["single_adult"] + koto["single_elderly"] > yamae["single_adult"] + yamae["single_elderly"]
    assert yamae["three_generation"] > koto["three_generation"]


def test_cohort_residual_is_net_migration():
    from kyojosim.params.scenario import Mortality

    immortal = Mortality(male=(0.0,) * 18, female=(0.0,) * 18, annual_improvement=0.0)
    p0 = np.full((2, 18), 100)
    p1 = np.full((2, 18), 110)  # every cohort 10% larger five years on, nobody died
    expected, observed = builder.cohort_residual(p0, p1, immortal, 2.5)
    assert np.allclose(expected[:-1], 200) and expected[-1] == 400  # 85+ keeps its own survivors
    assert np.allclose(observed, 220)


def test_migration_profiles_have_the_known_shapes():
    from kyojosim.params.scenario import Mortality

    yamae, _ = builder.net_migration_profile(japan.lookup("43512"), Mortality())
    koto, text = builder.net_migration_profile(japan.lookup("13108"), Mortality())
    assert yamae[3] < -0.03  # high-school leavers leave the village
    assert koto[4] > 0.02 and koto[5] > 0.01  # young adults move into the ward
    assert "2010→2015" in text
    assert (np.abs(yamae) <= 0.5).all()


def test_tfr_estimate_follows_the_child_woman_ratio():
    tfr = {c: builder.estimate_tfr(japan.lookup(c), japan.age_structure(c)[0])[0] for c in ("13104", "47324")}
    assert tfr["13104"] < 1.2 < 1.7 < tfr["47324"]  # 新宿区 low, 読谷村 high


def test_choose_scale():
    assert builder.choose_scale(3422) == 1.0
    assert builder.choose_scale(118233) == 0.1
    assert builder.choose_scale(498109) == 0.02
    assert builder.choose_scale(3724844) == 0.005


def test_a_municipality_name_is_accepted_wherever_a_scenario_is(cache, capsys):
    path = find_scenario("西目屋村")
    assert path.parent == cache and path.is_file()
    assert "西目屋村" in capsys.readouterr().err  # says where it builds
    stamp = path.stat().st_mtime_ns
    assert find_scenario("Nishimeya") == path and find_scenario("02343") == path
    assert path.stat().st_mtime_ns == stamp  # built once, then reused
    scn = load_scenario("02343", {"simulation.years": 1})
    assert scn.municipality.code == "02343" and scn.name == "nishimeya-02343"
    # bundled names still win, and a misspelt one is still reported as a missing scenario
    assert find_scenario("yamae").parent.name == "scenarios" and find_scenario("yamae").parent != cache
    with pytest.raises(ScenarioError, match="file not found"):
        load_scenario("yamea")
    with pytest.raises(MunicipalityError, match="ambiguous"):
        load_scenario("伊達市")


def test_run_and_municipalities_on_the_command_line(cache, capsys, tmp_path):
    out = tmp_path / "run"
    assert main(["run", "西目屋村", "--years", "1", "--out", str(out), "--quiet"]) == 0
    assert (out / "manifest.json").is_file()
    assert main(["validate", "Nishimeya village"]) == 0
    assert "nishimeya-02343" in capsys.readouterr().out
    assert main(["run", "伊達市", "--years", "1", "--out", str(tmp_path / "x")]) == 2
    assert "ambiguous" in capsys.readouterr().err
    assert main(["municipalities", "府中"]) == 0
    listing = capsys.readouterr().out
    assert "13206" in listing and "34208" in listing and "34302" in listing and "3 of 1,741" in listing
    assert main(["municipalities", "Fukushima"]) == 0
    assert "no (福島県)" in capsys.readouterr().out
    assert main(["municipalities", "zzzz"]) == 2


def test_an_experiment_may_name_a_municipality(cache, tmp_path):
    from kyojosim.params.experiment import load_experiment

    exp = load_experiment({"name": "nishimeya", "seed": 1, "scenarios": ["西目屋村"], "replicates": 1, "years": 1})
    assert exp.runs[0].resolved.municipality.code == "02343"


def test_a_cached_file_is_rebuilt_when_its_key_is_stale(cache):
    path = builder.scenario_path("02343", quiet=True)
    text = path.read_text(encoding="utf-8")
    path.write_text(re.sub(r"# kyojosim-new: \w+", "# kyojosim-new: 0000000000000000", text), encoding="utf-8")
    again = builder.scenario_path("02343", quiet=True)
    assert again == path and "0000000000000000" not in path.read_text(encoding="utf-8")
