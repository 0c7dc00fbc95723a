"""Scenario files: validation errors that name file, key, value and what is allowed; variants; overrides."""

from __future__ import annotations

import copy
import dataclasses
import re

import pytest
import yaml

from kyojosim.errors import ScenarioError
from kyojosim.params.scenario import SCENARIO_DIR, Scenario, load_scenario

YAMAE_PATH = SCENARIO_DIR / "yamae.yaml"


def error_of(source, overrides=None, **kw) -> ScenarioError:
    with pytest.raises(ScenarioError) as info:
        load_scenario(source, overrides, **kw)
    return info.value


def assert_names(err: ScenarioError, *, file: str, key: str, given: str, allowed: str) -> None:
    """The message names the file, the key path, the value given and what is allowed."""
    msg = str(err)
    assert file in msg, msg
    assert key in msg, msg
    assert given in msg, msg
    assert re.search(allowed, msg), msg
    assert err.key == key


def write(tmp_path, name: str, data) -> str:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False) if not isinstance(data, str) else data,
                    encoding="utf-8")
    return str(path)


# ---------------------------------------------------------------------------------------- errors


def test_unknown_key_suggests_closest(tmp_path, yamae_dict):
    data = copy.deepcopy(yamae_dict)
    data["simulation"]["seeed"] = 3
    path = write(tmp_path, "typo.yaml", data)
    err = error_of(path)
    assert_names(err, file="typo.yaml", key="simulation.seeed", given="'seeed'", allowed="did you mean 'seed'")
    assert "unknown key" in str(err)


def test_unknown_top_level_section(yamae_dict):
    data = copy.deepcopy(yamae_dict)
    data["demograhpy"] = data.pop("demography")
    err = error_of(data)
    assert_names(err, file="<mapping>", key="demograhpy", given="'demograhpy'", allowed="did you mean 'demography'")


def test_unknown_mapping_key_in_shares(yamae_dict):
    data = copy.deepcopy(yamae_dict)
    shares = data["municipality"]["households"]["shares"]
    shares["single_elderley"] = shares.pop("single_elderly")
    err = error_of(data)
    assert_names(err, file="<mapping>", key="municipality.households.shares.single_elderley",
                 given="'single_elderley'", allowed="did you mean 'single_elderly'")


def test_wrong_type(tmp_path, yamae_dict):
    data = copy.deepcopy(yamae_dict)
    data["demography"]["fertility"]["tfr"] = "high"
    err = error_of(write(tmp_path, "t.yaml", data))
    assert_names(err, file="t.yaml", key="demography.fertility.tfr", given="'high'", allowed="allowed: a number")
    assert "wrong type" in str(err)


def test_bool_is_not_an_integer(yamae_dict):
    data = copy.deepcopy(yamae_dict)
    data["simulation"]["years"] = True
    err = error_of(data)
    assert_names(err, file="<mapping>", key="simulation.years", given="True", allowed="an integer")


def test_value_out_of_range(tmp_path, yamae_dict):
    data = copy.deepcopy(yamae_dict)
    data["municipality"]["districts"][2]["area_km2"] = -4.0
    err = error_of(write(tmp_path, "r.yaml", data))
    assert_names(err, file="r.yaml", key="municipality.districts[2].area_km2", given="-4.0",
                 allowed=r"allowed: a value > 0")
    assert "out of range" in str(err)


def test_open_lower_bound_excludes_the_bound(yamae_dict):
    data = copy.deepcopy(yamae_dict)
    data["demography"]["mortality"]["multiplier"] = 0
    err = error_of(data)
    assert_names(err, file="<mapping>", key="demography.mortality.multiplier", given="0",
                 allowed=re.escape("allowed: a value in (0, 5]"))


def test_element_of_list_out_of_range(yamae_dict):
    data = copy.deepcopy(yamae_dict)
    data["ict"]["smartphone_rate"][5] = 1.5
    err = error_of(data)
    assert_names(err, file="<mapping>", key="ict.smartphone_rate[5]", given="1.5", allowed=re.escape("[0, 1]"))


def test_household_shares_must_sum_to_one(yamae_dict):
    data = copy.deepcopy(yamae_dict)
    data["municipality"]["households"]["shares"]["single_elderly"] = 0.30
    err = error_of(data)
    assert_names(err, file="<mapping>", key="municipality.households.shares", given="0.3",
                 allowed="shares that sum to 1")
    assert "1.1700" in str(err)


def test_district_shares_must_sum_to_one(tmp_path, yamae_dict):
    data = copy.deepcopy(yamae_dict)
    data["municipality"]["districts"][0]["population_share"] = 0.5
    err = error_of(write(tmp_path, "d.yaml", data))
    assert_names(err, file="d.yaml", key="municipality.districts[*].population_share", given="0.5",
                 allowed="shares that sum to 1")


def test_fertility_age_pattern_must_sum_to_one(yamae_dict):
    data = copy.deepcopy(yamae_dict)
    data["demography"]["fertility"]["age_pattern"] = [0.1, 0.1, 0.3, 0.3, 0.1, 0.05, 0.0]
    err = error_of(data)
    assert_names(err, file="<mapping>", key="demography.fertility.age_pattern", given="0.1",
                 allowed=r"sum to 1 .*0\.9500")


def test_shares_within_rounding_tolerance_are_accepted(yamae_dict):
    data = copy.deepcopy(yamae_dict)
    data["demography"]["fertility"]["age_pattern"] = [0.014, 0.101, 0.293, 0.358, 0.194, 0.039, 0.004]  # 1.003
    assert load_scenario(data).demography.fertility.age_pattern[-1] == 0.004


def test_wrong_list_length(yamae_dict):
    data = copy.deepcopy(yamae_dict)
    data["municipality"]["age_structure"]["male"] = data["municipality"]["age_structure"]["male"][:-1]
    err = error_of(data)
    first = int(data["municipality"]["age_structure"]["male"][0])
    assert_names(err, file="<mapping>", key="municipality.age_structure.male", given=f"[{first}",
                 allowed="exactly 18 values")
    assert "got 17" in str(err)


def test_missing_required_key(yamae_dict):
    data = copy.deepcopy(yamae_dict)
    del data["municipality"]["population"]
    err = error_of(data)
    assert_names(err, file="<mapping>", key="municipality.population", given="None", allowed="a value is required")


def test_literal_choice(yamae_dict):
    data = copy.deepcopy(yamae_dict)
    data["communities"]["participation_year"] = 2012
    err = error_of(data)
    assert_names(err, file="<mapping>", key="communities.participation_year", given="2012", allowed="2017, 2008")


def test_missing_file(tmp_path):
    path = tmp_path / "nope.yaml"
    err = error_of(str(path))
    assert_names(err, file="nope.yaml", key="<top level>", given="nope.yaml", allowed="an existing scenario file")
    assert "file not found" in str(err)


def test_file_that_is_not_yaml(tmp_path):
    path = write(tmp_path, "bad.yaml", "municipality: [unclosed\n  key: : :\n")
    err = error_of(path)
    msg = str(err)
    assert "bad.yaml" in msg and "line " in msg and "allowed: valid YAML" in msg


def test_binary_file(tmp_path):
    path = tmp_path / "bin.yaml"
    path.write_bytes(b"\xff\xfe\x00\x81 binary")
    err = error_of(str(path))
    assert "bin.yaml" in str(err) and "UTF-8" in str(err)


def test_yaml_that_is_not_a_mapping(tmp_path):
    err = error_of(write(tmp_path, "list.yaml", "- a\n- b\n"))
    assert_names(err, file="list.yaml", key="<top level>", given="got a list", allowed="a mapping of sections")
    assert "'a'" not in str(err) and err.problem == "not a scenario"  # the contents are not printed


def test_base_that_does_not_exist(tmp_path):
    path = write(tmp_path, "v.yaml", {"base": "no_such_base.yaml", "simulation": {"seed": 2}})
    err = error_of(path)
    assert_names(err, file="v.yaml", key="base", given="no_such_base.yaml", allowed="an existing scenario file")


def test_base_cycle(tmp_path):
    write(tmp_path, "a.yaml", {"base": "b.yaml", "simulation": {"seed": 1}})
    b = write(tmp_path, "b.yaml", {"base": "a.yaml", "simulation": {"seed": 2}})
    err = error_of(b)
    assert err.key == "base"
    assert "cycle" in str(err) and "a.yaml" in str(err)


def test_self_base_is_a_cycle(tmp_path):
    path = write(tmp_path, "self.yaml", {"base": "self.yaml"})
    assert "cycle" in str(error_of(path))


def test_bad_override_path():
    err = error_of("yamae", {"simulation.sed": 3})
    assert_names(err, file="--set", key="simulation.sed", given="'sed'", allowed="did you mean 'seed'")


def test_bad_override_path_below_a_scalar():
    err = error_of("yamae", {"simulation.seed.x": 3})
    assert "simulation.seed.x" in str(err) and "no sub-keys" in str(err)


def test_bad_override_value():
    err = error_of("yamae", {"simulation.seed": -1})
    assert_names(err, file="yamae.yaml", key="simulation.seed", given="-1", allowed=r"allowed: an integer in \[0, ")
    err = error_of("yamae", simulation__years="ten")
    assert_names(err, file="yamae.yaml", key="simulation.years", given="'ten'", allowed="an integer")


def test_override_list_index_out_of_range():
    err = error_of("yamae", {"municipality.districts.99.name": "X"})
    assert "index" in str(err) and "99" in str(err)


# ---------------------------------------------------------------------------------------- variants and overrides


def test_variant_file_merges_with_its_base(tmp_path, yamae):
    variant = {
        "base": str(YAMAE_PATH.resolve()),
        "description": "variant for the tests",
        "simulation": {"seed": 42},
        "municipality": {"households": {"shares": {
            "single_elderly": 0.20, "elderly_couple": 0.15, "couple_only": 0.10, "couple_with_children": 0.17,
            "single_parent": 0.04, "single_adult": 0.03, "three_generation": 0.31}}},
    }
    scn = load_scenario(write(tmp_path, "variant.yaml", variant))
    assert scn.simulation.seed == 42
    assert scn.municipality.households.shares["single_elderly"] == 0.20
    assert scn.municipality.households.shares["single_adult"] == 0.03
    # everything else is inherited, including siblings of the changed keys
    assert scn.simulation.years == yamae.simulation.years
    assert scn.municipality.households.source == yamae.municipality.households.source
    assert scn.municipality.districts == yamae.municipality.districts
    assert scn.demography == yamae.demography
    assert scn.communities == yamae.communities
    assert scn.name == "variant"
    assert scn.description == "variant for the tests"
    # only the changed keys differ
    a, b = yamae.to_dict(), scn.to_dict()
    assert {k for k in a if a[k] != b[k]} == {"municipality", "simulation", "name", "description"}


def test_variant_with_relative_base_and_chain(tmp_path):
    write(tmp_path, "mid.yaml", {"base": str(YAMAE_PATH.resolve()), "simulation": {"seed": 7, "years": 5}})
    top = write(tmp_path, "top.yaml", {"base": "mid.yaml", "simulation": {"years": 2}})
    scn = load_scenario(top)
    assert (scn.simulation.seed, scn.simulation.years) == (7, 2)
    assert scn.municipality.population == 3422


def test_variant_by_bundled_name(tmp_path):
    scn = load_scenario(write(tmp_path, "named.yaml", {"base": "yamae", "simulation": {"seed": 9}}))
    assert scn.simulation.seed == 9 and scn.municipality.name_en == "Yamae village"


def test_variant_error_names_the_variant_file(tmp_path):
    path = write(tmp_path, "badv.yaml", {"base": str(YAMAE_PATH.resolve()), "simulation": {"years": -1}})
    err = error_of(path)
    assert_names(err, file="badv.yaml", key="simulation.years", given="-1", allowed="allowed: an integer in")


def test_keyword_and_mapping_overrides(yamae):
    scn = load_scenario("yamae", simulation__seed=5, demography__fertility__tfr=1.6)
    assert scn.simulation.seed == 5 and scn.demography.fertility.tfr == 1.6
    assert load_scenario("yamae", {"simulation.seed": 5}).simulation.seed == 5
    scn2 = load_scenario("yamae", {"municipality.districts.0.name": "X"})
    assert scn2.municipality.districts[0].name == "X"
    assert scn2.municipality.districts[1:] == yamae.municipality.districts[1:]
    assert yamae.replace(simulation__seed=5, demography__fertility__tfr=1.6) == scn


def test_mapping_and_file_give_the_same_scenario(yamae, yamae_dict):
    assert load_scenario(copy.deepcopy(yamae_dict)) == yamae


def test_digest_is_stable_and_sensitive(yamae, yamae_dict):
    d = yamae.digest()
    assert re.fullmatch(r"[0-9a-f]{64}", d)
    assert load_scenario("yamae").digest() == d
    assert load_scenario(copy.deepcopy(yamae_dict)).digest() == d
    assert load_scenario("yamae", simulation__seed=2).digest() != d
    assert load_scenario("yamae", demography__fertility__tfr=1.99).digest() != d
    assert yamae.replace(simulation__seed=yamae.simulation.seed).digest() == d


def test_scenario_is_immutable(yamae):
    with pytest.raises(dataclasses.FrozenInstanceError):
        yamae.simulation.seed = 3  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        yamae.municipality = None  # type: ignore[misc]
    assert isinstance(yamae.municipality.age_structure.male, tuple)
    assert isinstance(yamae.municipality.districts, tuple)


def test_to_dict_does_not_leak_internal_state(yamae):
    d = yamae.to_dict()
    d["network"]["strength"]["household"] = 0.0
    d["communities"]["membership_rate"]["pta"] = 0.9
    assert yamae.network.strength["household"] == 1.0
    assert yamae.communities.membership_rate["pta"] == 0.046


def test_defaults_are_not_shared_between_scenarios(yamae_dict):
    a = load_scenario(copy.deepcopy(yamae_dict))
    b = load_scenario(copy.deepcopy(yamae_dict))
    assert a.network.strength is not b.network.strength


def test_every_bundled_scenario_loads():
    from kyojosim.params.scenario import SCENARIO_DIR

    for path in sorted(SCENARIO_DIR.glob("*.yaml")):
        scn = load_scenario(path)
        assert isinstance(scn, Scenario)
        assert sum(scn.municipality.age_structure.male) + sum(scn.municipality.age_structure.female) > 0
