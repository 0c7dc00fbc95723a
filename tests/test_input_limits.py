"""Careless and hostile input: parser limits, files that are not scenarios, values that make no sense, paths.

Every case gives a :class:`ScenarioError` (exit 2 on the command line) with a short message that names
the file and the key, never a traceback, a hang, a process that grows to gigabytes, the contents of a
file that is not a scenario, or a write outside the output folder.
"""

from __future__ import annotations

import copy
import os
import time
from pathlib import Path

import pytest
import yaml

from kyojosim import ScenarioError
from kyojosim.cli import main
from kyojosim.constants import N_AGE_BANDS
from kyojosim.errors import ScenarioWarning, Summary, short
from kyojosim.params.experiment import EXPERIMENT_DIR, ExperimentError, load_experiment
from kyojosim.params.scenario import (
    MAX_SIMULATED_RESIDENTS,
    SCENARIO_DIR,
    load_scenario,
    parse_value,
    read_yaml,
    safe_name,
    scenario_warnings,
)
from kyojosim.params.yaml_input import MAX_DEPTH, MAX_FILE_BYTES, MAX_TEXT_LENGTH, MAX_VALUES, load_text
from kyojosim.runs.results import results_folder

SECRET = "root:x:0:0:do-not-print-me:/root:/bin/bash\nsvc:x:1:1:token-7f3a9c:/srv:/bin/sh\n"
MAX_MESSAGE = 400
"""Longest message of any error here (the longest lists the sections a scenario may have)."""


def bomb(levels: int = 8, width: int = 9, inside: str = "name") -> str:
    """A billion-laughs document: ``width ** levels`` values when every alias is expanded."""
    lines = [f"l0: &l0 [{', '.join(['lol'] * width)}]"]
    for i in range(1, levels):
        lines.append(f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * width)}]")
    lines.append(f"{inside}: *l{levels - 1}")
    return "\n".join(lines) + "\n"


def load_error(source, overrides=None, **kw) -> ScenarioError:
    with pytest.raises(ScenarioError) as info:
        load_scenario(source, overrides, **kw)
    message = str(info.value)
    assert len(message) <= MAX_MESSAGE, message
    assert "\n" not in message
    return info.value


def assert_cli_error(capsys, argv: list[str], *fragments: str) -> str:
    code = main(argv)
    out, err = capsys.readouterr()
    assert code == 2, (out, err)
    assert "Traceback" not in err and err.startswith("error: ")
    assert len(err.strip().splitlines()) == 1 and len(err) <= MAX_MESSAGE + 20, err
    for fragment in fragments:
        assert fragment in err, err
    return err


# --------------------------------------------------------------------------------------
# the parser's limits
# --------------------------------------------------------------------------------------


def test_deep_nesting_is_refused_without_a_traceback(tmp_path, capsys):
    deep = tmp_path / "deep.yaml"
    deep.write_text("[" * 20_000 + "]" * 20_000 + "\n")
    err = load_error(deep)
    assert err.problem == "nested too deeply" and "line 1, column" in err.key
    assert_cli_error(capsys, ["validate", str(deep)], "nested too deeply", f"{MAX_DEPTH} levels")
    mapping = tmp_path / "deep_map.yaml"
    mapping.write_text("".join(f"{' ' * i}k{i}:\n" for i in range(200)) + " " * 200 + "v: 1\n")
    assert load_error(mapping).problem == "nested too deeply"
    assert load_text("[" * MAX_DEPTH + "]" * MAX_DEPTH) is not None  # at the limit: fine


@pytest.mark.parametrize("inside", ["name", "description", "municipality"])
def test_alias_bomb_is_refused_while_reading(tmp_path, inside):
    path = tmp_path / "lol.yaml"
    path.write_text(bomb(inside=inside))
    t0 = time.perf_counter()
    err = load_error(path)
    assert time.perf_counter() - t0 < 2.0
    assert err.problem == "too many values" and f"{MAX_VALUES:,}" in str(err)


def test_alias_bomb_in_a_set_value(capsys):
    bad = "[&a [1, 1, 1, 1, 1, 1, 1, 1, 1, 1], &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a], " \
          "&c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b], &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c], " \
          "&e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d], [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]]"
    with pytest.raises(ScenarioError) as info:
        parse_value(bad, "name")
    assert info.value.key == "name" and info.value.problem == "too many values"
    assert_cli_error(capsys, ["validate", "yamae", "--set", f"name={bad}"], "--set: name: too many values")


def test_an_alias_just_under_the_limit_is_fine_and_printed_short():
    # 9**5 = 59,049 values: read, then refused as a text; the message is built from a bounded repr
    data = load_text(bomb(levels=5))
    t0 = time.perf_counter()
    err = load_error({**load_scenario("yamae").to_dict(), "name": data["name"]})
    assert time.perf_counter() - t0 < 2.0
    assert err.key == "name" and err.problem == "wrong type"


def test_recursive_alias_is_refused(tmp_path):
    path = tmp_path / "rec.yaml"
    path.write_text("base: yamae\ndescription: &a [1, *a]\n")
    assert load_error(path).problem == "recursive alias"


def test_file_size_is_bounded_before_reading(tmp_path, capsys):
    big = tmp_path / "big.yaml"
    with big.open("wb") as fh:  # 50 MB, sparse: the size is refused before a byte is read
        fh.truncate(50 * 2**20)
    err = load_error(big)
    assert err.problem == "file too large" and "52,428,800 bytes" in str(err)
    assert_cli_error(capsys, ["validate", str(big)], "file too large", f"{MAX_FILE_BYTES:,}")


def test_long_texts_are_refused(tmp_path, capsys):
    path = tmp_path / "long.yaml"
    path.write_text("base: yamae\nname: " + "x" * (MAX_TEXT_LENGTH + 1) + "\n")
    err = load_error(path)
    assert err.problem == "text too long" and "xxxx" not in str(err)
    # a text given in Python (or with --set) is bounded by the schema; a 5 MB name is not printed
    err = load_error("yamae", simulation__seed=1, description="y" * 5_000_000)
    assert err.key == "description" and err.problem == "text too long" and "yyyy" not in str(err)
    err = load_error("yamae", name="n" * 500)
    assert err.key == "name" and err.problem == "too long"
    assert_cli_error(capsys, ["validate", str(path)], "text too long")


def test_duplicate_keys_are_refused(tmp_path, capsys):
    top = tmp_path / "dup.yaml"
    top.write_text("base: yamae\nsimulation: {seed: 1}\nsimulation: {seed: 2}\n")
    err = load_error(top)
    assert (err.problem, err.key) == ("duplicate key", "line 3, column 1") and "line 2" in err.allowed
    nested = tmp_path / "dup2.yaml"
    nested.write_text("base: yamae\ndemography:\n  fertility:\n    tfr: 1.4\n    tfr: 1.6\n")
    assert load_error(nested).key == "line 5, column 5"
    assert_cli_error(capsys, ["validate", str(nested)], "duplicate key", "'tfr'")
    # a key brought in by a merge may be overridden: that is what merges are for
    merged = load_text("a: &a {x: 1, y: 2}\nb:\n  <<: *a\n  x: 3\n")
    assert merged["b"] == {"x": 3, "y": 2}


def test_every_message_is_short(tmp_path):
    cases = {
        "deep.yaml": "[" * 5000 + "]" * 5000,
        "lol.yaml": bomb(),
        "long.yaml": "name: " + "z" * 50_000,
        "dup.yaml": "a: 1\n" + "k" * 5000 + ": 1\n" + "k" * 5000 + ": 2\n",
        "tab.yaml": "a:\n\tb: 1\n",
        "nul.yaml": "a: 1\x00\n",
    }
    for name, text in cases.items():
        path = tmp_path / name
        path.write_text(text)
        err = load_error(path)
        assert "zzzz" not in str(err) and "kkkkkkkkkk" not in str(err), name


def test_short_repr_of_any_value_is_bounded():
    a: list = [1] * 9
    for _ in range(40):  # 9**40 values if expanded
        a = [a] * 9
    t0 = time.perf_counter()
    assert len(short(a)) <= 80 and len(short("x" * 10_000_000)) <= 80
    assert time.perf_counter() - t0 < 1.0
    assert short(Summary("a text")) == "a text" and short([0.5, 0.25]) == "[0.5, 0.25]"


# --------------------------------------------------------------------------------------
# files that are not scenarios: never print their contents
# --------------------------------------------------------------------------------------


def test_a_base_that_is_not_a_scenario_is_named_not_printed(tmp_path, capsys):
    secret = tmp_path / "passwd"
    secret.write_text(SECRET)
    variant = tmp_path / "v.yaml"
    variant.write_text(f"base: {secret}\nsimulation: {{seed: 1}}\n")
    err = load_error(variant)
    assert err.problem == "not a scenario" and err.file == str(secret)
    for word in ("do-not-print", "token", "bin/bash", "svc:x"):
        assert word not in str(err)
    err_text = assert_cli_error(capsys, ["validate", str(variant)], "not a scenario", "got a text")
    assert "token" not in err_text
    # a YAML mapping that is not a scenario: its keys are not printed either
    other = tmp_path / "config.yaml"
    other.write_text("password: hunter2\napi_token: abc\n")
    variant.write_text(f"base: {other}\n")
    err = load_error(variant)
    assert err.problem == "not a scenario" and "hunter2" not in str(err) and "api_token" not in str(err)
    assert "a mapping of 2 keys, none of them a scenario section" in str(err)


def test_an_experiment_scenario_that_is_not_a_scenario(tmp_path, capsys):
    secret = tmp_path / "secret.txt"
    secret.write_text(SECRET)
    exp = {"name": "e", "seed": 1, "scenarios": [str(secret)]}
    with pytest.raises(ExperimentError) as info:
        load_experiment(exp)
    assert "not a scenario" in str(info.value) and "token" not in str(info.value)
    path = tmp_path / "e.yaml"
    path.write_text(yaml.safe_dump(exp))
    assert_cli_error(capsys, ["sweep", str(path), "--out", str(tmp_path / "o"), "-q"], "not a scenario")
    assert not (tmp_path / "o").exists()


def test_files_of_the_other_kind(tmp_path, capsys):
    assert_cli_error(capsys, ["validate", str(EXPERIMENT_DIR / "yamae-quick.yaml")], "not a scenario")
    exp = tmp_path / "x.yaml"
    exp.write_text((SCENARIO_DIR / "yamae.yaml").read_text(encoding="utf-8"))
    assert_cli_error(capsys, ["sweep", str(exp), "--out", str(tmp_path / "o")], "not an experiment")


def test_a_folder_a_device_and_a_missing_file(tmp_path, capsys):
    err = load_error(tmp_path)
    assert err.problem == "is a directory"
    assert_cli_error(capsys, ["validate", str(tmp_path)], "is a directory")
    assert_cli_error(capsys, ["sweep", str(tmp_path)])
    if Path("/dev/null").exists():
        assert load_error("/dev/null").problem == "not a regular file"
    assert load_error(tmp_path / "nope.yaml").problem == "file not found"


def test_an_unreadable_file(tmp_path, capsys, monkeypatch):
    path = tmp_path / "locked.yaml"
    path.write_text("base: yamae\n")
    path.chmod(0)
    try:
        if os.access(path, os.R_OK):  # as root permissions do not stop the read: make open refuse instead
            real_open = Path.open

            def refuse(self, *a, **kw):
                if self == path:
                    raise PermissionError(13, "Permission denied", str(self))
                return real_open(self, *a, **kw)

            monkeypatch.setattr(Path, "open", refuse)
        err = load_error(path)
        assert err.problem == "cannot read" and "permission denied" in str(err)
        assert_cli_error(capsys, ["validate", str(path)], "cannot read", "permission denied")
    finally:
        path.chmod(0o644)


def test_read_yaml_top_level_kinds(tmp_path):
    for text, kind in (("3\n", "a number"), ("true\n", "true or false"), ("- 1\n", "a list"), ("hello\n", "a text")):
        path = tmp_path / "k.yaml"
        path.write_text(text)
        with pytest.raises(ScenarioError) as info:
            read_yaml(path, "experiment")
        assert info.value.problem == "not an experiment" and f"got {kind};" in str(info.value)


# --------------------------------------------------------------------------------------
# values that validate by type but make no sense
# --------------------------------------------------------------------------------------


@pytest.fixture()
def yamae_data():
    return load_scenario("yamae").to_dict()


def test_population_of_a_trillion_is_refused_with_the_memory_reason(yamae_data, capsys):
    err = load_error(yamae_data, {"municipality.population": 10**12})
    assert err.key == "municipality.population" and err.problem == "out of range"
    n = MAX_SIMULATED_RESIDENTS + 1
    err = load_error(yamae_data, {"municipality.population": 4 * n, "municipality.scale": 0.25})
    assert err.key == "municipality.scale" and err.problem == "too many residents"
    assert "kB of memory" in str(err) and f"{n:,} simulated residents" in str(err)
    assert_cli_error(capsys, ["run", "yamae", "--set", "municipality.population=1000000000000", "--years", "1"],
                     "municipality.population", "out of range")


def test_a_run_of_nobody_is_refused(yamae_data):
    zero = [0] * N_AGE_BANDS
    err = load_error(yamae_data, {"municipality.age_structure.male": zero, "municipality.age_structure.female": zero})
    assert (err.key, err.problem) == ("municipality.age_structure", "empty age structure")
    err = load_error(yamae_data, {"municipality.population": 0})
    assert err.key == "municipality.population"
    err = load_error(yamae_data, {"municipality.population": 3, "municipality.scale": 0.1})
    assert (err.key, err.problem) == ("municipality.scale", "no resident")


@pytest.mark.parametrize(("years", "problem", "index"), [
    ([2015, 2025, 2020, 2030], "years out of order", 2),
    ([2015, 2020, 2020, 2030], "year repeated", 2),
])
def test_projection_years_in_order(years, problem, index):
    over = {"demography.projection.years": years, "demography.projection.total": [1000.0] * 4,
            "demography.projection.share_65plus": [0.3] * 4, "demography.projection.share_75plus": [0.2] * 4}
    err = load_error("ikoma", over)
    assert (err.key, err.problem) == (f"demography.projection.years[{index}]", problem)


def test_an_intervention_after_the_run_ends_is_a_warning(capsys):
    # the case's hub opens in 2016: a run of one year (53 weeks) reaches into 2016, so it runs
    assert scenario_warnings(load_scenario("yamae-hub", simulation__years=1)) == []
    late = {"interventions.reporting_hub.start_year": 2017}
    (note,) = scenario_warnings(load_scenario("yamae-hub", late, simulation__years=1))
    assert note.startswith("interventions.reporting_hub.start_year: 2017 is after the run ends (its weeks fall in "
                           "2015-2016)")
    assert scenario_warnings(load_scenario("yamae-hub", late, simulation__years=3)) == []
    ended = load_scenario("yamae-hub", {"interventions.reporting_hub.start_year": 2000,
                                        "interventions.reporting_hub.end_year": 2010})
    assert "is before the run starts" in scenario_warnings(ended)[0]
    assert main(["validate", "yamae-hub", "--set", "simulation.years=1",
                 "--set", "interventions.reporting_hub.start_year=2017"]) == 0
    out, err = capsys.readouterr()
    assert out.startswith("OK:") and err.startswith("warning: ") and "never runs" in err and "Traceback" not in err
    exp = load_experiment({"name": "w", "seed": 1, "years": 1, "scenarios": ["yamae"],
                           "variants": {"base": {}, "hub": {"interventions": {"reporting_hub": {"start": 2030}}}}})
    assert len(exp.warnings) == 1 and exp.warnings[0].startswith("yamae, variant hub: interventions.reporting_hub")


def test_run_warns_in_python():
    import kyojosim

    with pytest.warns(ScenarioWarning, match="start_year: 2017 is after the run ends.*never runs"):
        kyojosim.run("yamae-hub", years=1, scale=0.05, overrides={"interventions.reporting_hub.start_year": 2017})


def test_variants_all_marked_not_baseline():
    base = {"name": "b", "seed": 1, "scenarios": ["yamae"], "years": 1}
    with pytest.raises(ExperimentError) as info:
        load_experiment({**base, "variants": {"a": {"baseline": False}, "b": {"baseline": False}}})
    assert (info.value.key, info.value.problem) == ("variants", "no baseline")
    # the baseline is the variant marked true, else the first not marked false
    exp = load_experiment({**base, "variants": {"a": {"baseline": False}, "b": {}}})
    assert exp.baseline == "b" and exp.variants == ("b", "a")
    assert load_experiment({**base, "variants": {"a": {}, "b": {"baseline": True}}}).baseline == "b"
    assert load_experiment({**base, "variants": {"a": {}, "b": {}}}).baseline == "a"


def test_empty_out_is_refused(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for argv in (["run", "yamae", "--years", "1", "--out", ""], ["sweep", "yamae-quick", "--out", " "],
                 ["variants", "yamae", "yamae-hub", "--out", ""], ["projection", "yamae", "--out", ""],
                 ["compare", "nowhere", "--out", ""], ["report", "nowhere", "--out", ""],
                 ["scorecard", "--out", ""], ["robustness", "yamae-quick", "--samples", "2", "--out", ""]):
        assert_cli_error(capsys, argv, "--out: got an empty path")
    assert os.listdir(tmp_path) == []


# --------------------------------------------------------------------------------------
# paths derived from names stay inside the output folder
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["../../../../elsewhere/escaped", "/tmp/escaped-abs", "..", ".hidden", "a\\b",
                                  "tab\there"])
def test_unsafe_scenario_names_are_refused(tmp_path, capsys, monkeypatch, name):
    monkeypatch.chdir(tmp_path)
    work = tmp_path / "a" / "b"
    work.mkdir(parents=True)
    path = work / "v.yaml"
    path.write_text(yaml.safe_dump({"base": "yamae", "name": name}))
    err = load_error(path)
    assert err.key == "name" and err.problem == "not a safe name"
    assert_cli_error(capsys, ["run", str(path), "--years", "1", "-q"], "name: not a safe name")
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["a", "b", "v.yaml"]


def test_default_folders_stay_inside_results(tmp_path):
    for name in ("../x", "/abs/y", "..", ".", "", "a/../../b", "\x00z"):
        folder = results_folder(name, tmp_path)
        assert folder.parent == tmp_path and folder.name not in ("", ".", "..")
    assert safe_name("../../etc") == "_.._etc" and safe_name(".hidden") == "hidden"


def test_a_file_with_an_odd_name_runs_into_a_safe_folder(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    odd = tmp_path / "..odd.yaml"
    odd.write_text("base: yamae\n")
    assert load_scenario(odd).name == "odd"
    code = main(["run", str(odd), "--years", "1", "--scale", "0.05", "-q"])
    assert code == 0, capsys.readouterr().err
    assert [p.name for p in (tmp_path / "results").iterdir()] == ["odd-1"]  # yamae's seed is 1


def test_experiment_names_are_checked():
    with pytest.raises(ExperimentError) as info:
        load_experiment({"name": "x" * 101, "seed": 1, "scenarios": ["yamae"]})
    assert info.value.key == "name" and info.value.problem == "too long"
    for bad in ("../up", "/abs", ".hidden"):
        with pytest.raises(ExperimentError):
            load_experiment({"name": bad, "seed": 1, "scenarios": ["yamae"]})


def test_mapping_input_is_not_changed_by_the_checks(yamae_data):
    before = copy.deepcopy(yamae_data)
    load_scenario(yamae_data)
    assert yamae_data == before


def test_variants_of_long_names_get_a_short_experiment_name(tmp_path):
    from kyojosim.runs.sweep import variants_experiment

    files = []
    for letter in "vw":
        path = tmp_path / f"{letter}.yaml"
        path.write_text(yaml.safe_dump({"base": "yamae", "name": letter * 90}))
        files.append(str(path))
    exp = variants_experiment(files, replicates=1, years=1)
    assert len(exp.name) <= 100 and exp.name.startswith("v" * 60 + "-vs-1-more-")
    assert variants_experiment(files, replicates=1, years=1).name == exp.name  # the same list, the same folder
