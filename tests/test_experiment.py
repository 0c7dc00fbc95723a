"""Experiment files: checking, designs, seeds (common random numbers) and the errors a user sees."""

from __future__ import annotations

import copy
import itertools

import numpy as np
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from kyojosim.cli import main
from kyojosim.errors import ScenarioError
from kyojosim.params.experiment import (
    EXPERIMENT_DIR,
    ExperimentError,
    bundled_experiments,
    load_experiment,
    replicate_seeds,
    with_seed,
)

BASE = {
    "name": "t",
    "seed": 11,
    "replicates": 3,
    "years": 1,
    "scale": 0.2,
    "scenarios": ["yamae"],
    "variants": {
        "baseline": {},
        "hub": {"interventions": {"reporting_hub": {"start": 2016}}},
        "sns": {"interventions": {"local_sns": 2017, "reporting_hub": True}},
    },
}


def spec(**changes):
    data = copy.deepcopy(BASE)
    data.update(changes)
    return data


def test_bundled_experiments_load():
    assert {"yamae-quick", "ikoma-interventions", "yamae-sensitivity"} <= set(bundled_experiments())
    quick = load_experiment("yamae-quick")
    assert len(quick.runs) == 4 and quick.variants == ("baseline", "hub")
    ikoma = load_experiment(EXPERIMENT_DIR / "ikoma-interventions.yaml")
    assert ikoma.variants == ("baseline", "platform", "sns", "both") and ikoma.replicates == 3
    assert all(r.resolved.simulation.years == 20 for r in ikoma.runs)
    sens = load_experiment("yamae-sensitivity")
    assert sens.design["type"] == "sobol" and len(sens.points) == 16 * (3 + 2)


def test_runs_order_ids_and_common_random_numbers():
    exp = load_experiment(spec(design={"type": "factorial", "parameters": {"helping.weekly_hours_free": [3, 6]}}))
    assert len(exp.runs) == 1 * 3 * 2 * 3
    keys = [(r.scenario, r.variant, r.point, r.replicate) for r in exp.runs]
    assert keys == list(itertools.product(["yamae"], ["baseline", "hub", "sns"], [0, 1], [0, 1, 2]))
    assert len({r.run_id for r in exp.runs}) == len(exp.runs)
    assert exp.runs[0].run_id == "yamae-baseline-p0-r0"
    # the same seed for every variant and point of a replicate, different seeds across replicates
    by_rep = {}
    for r in exp.runs:
        by_rep.setdefault(r.replicate, set()).add(r.seed)
        assert r.resolved.simulation.seed == r.seed
    assert all(len(s) == 1 for s in by_rep.values())
    seeds = [next(iter(by_rep[k])) for k in range(3)]
    assert len(set(seeds)) == 3
    expected = [int(c.generate_state(1, dtype=np.uint64)[0]) & (2**63 - 1)
                for c in np.random.SeedSequence(11).spawn(3)]
    assert seeds == expected == list(replicate_seeds(11, 3))
    # overrides and variants reach the resolved scenarios
    run = next(r for r in exp.runs if r.variant == "sns" and r.point == 1)
    iv = run.resolved.interventions
    assert iv.local_sns.enabled and iv.local_sns.start_year == 2017 and iv.reporting_hub.enabled
    assert run.resolved.helping.weekly_hours_free == 6.0 and run.resolved.municipality.scale == 0.2
    assert run.params == {"helping.weekly_hours_free": 6}
    starts = {r.variant: r.intervention_start for r in exp.runs}
    hub_default = iv.reporting_hub.start_year  # switched on with true: the scenario's own start year
    assert starts == {"baseline": None, "hub": 2016, "sns": min(2017, hub_default)}


def test_each_replicate_is_the_variant_with_its_seed_fully_checked():
    """A replicate's scenario (the variant's with a seed set) is the one a full check of the override gives."""
    exp = load_experiment(spec(design={"type": "factorial", "parameters": {"helping.weekly_hours_free": [3, 6]}}))
    for run in exp.runs:
        full = run.resolved.replace(**{"simulation.seed": 12345}).replace(**{"simulation.seed": run.seed})
        assert run.resolved == full and run.resolved.digest() == full.digest()
    more = exp.with_replicates(5)
    for run in more.runs:
        full = run.resolved.replace(**{"simulation.seed": run.seed})
        assert run.resolved == full and run.resolved.digest() == full.digest()
        assert run.resolved.simulation.seed == run.seed


@given(seed=st.integers(min_value=-(2**64), max_value=2**64))
@settings(max_examples=60, deadline=None)
def test_with_seed_is_the_checked_override(seed):
    scn = load_experiment(BASE).runs[0].resolved
    try:
        full = scn.replace(**{"simulation.seed": seed})
    except ScenarioError as exc:
        with pytest.raises(ScenarioError) as got:
            with_seed(scn, seed)
        assert str(got.value) == str(exc)
        return
    assert with_seed(scn, seed) == full and with_seed(scn, seed).digest() == full.digest()


def test_marked_baseline_comes_first_and_hash_is_stable():
    data = spec()
    data["variants"]["hub"]["baseline"] = True
    exp = load_experiment(data)
    assert exp.baseline == "hub" and exp.variants[0] == "hub"
    assert {r.variant: r.intervention_start for r in exp.runs}["baseline"] is None
    assert load_experiment(data).hash == exp.hash
    assert load_experiment(spec(seed=12)).hash != load_experiment(spec()).hash
    assert load_experiment(spec(overrides={"trust.tie_gain": 0.1})).hash != load_experiment(spec()).hash


def test_list_lhs_and_sobol_designs():
    pts = [{"helping.weekly_hours_free": 3.0, "network.block_households": 10},
           {"helping.weekly_hours_free": 5.0, "network.block_households": 30}]
    exp = load_experiment(spec(replicates=1, design={"type": "list", "points": pts}))
    assert list(exp.points) == pts and exp.parameters == ["helping.weekly_hours_free", "network.block_households"]

    lhs = {"type": "lhs", "n": 6, "parameters": {"helping.weekly_hours_free": [2, 8],
                                                 "network.block_households": {"lo": 10, "hi": 40}}}
    a = load_experiment(spec(replicates=1, design=lhs))
    b = load_experiment(spec(replicates=1, design=lhs))
    assert list(a.points) == list(b.points) and len(a.points) == 6
    x = np.array([p["helping.weekly_hours_free"] for p in a.points])
    assert ((x >= 2) & (x <= 8)).all()
    # Latin hypercube: one sample in each sixth of the range
    assert sorted(np.floor((x - 2) / 1.0).astype(int).tolist()) == list(range(6))
    assert all(isinstance(p["network.block_households"], int) for p in a.points)  # an integer key is rounded
    other = load_experiment(spec(replicates=1, seed=99, design=lhs))
    assert list(other.points) != list(a.points)

    from SALib.sample import sobol

    sob = {"type": "sobol", "n": 8, "calc_second_order": False,
           "parameters": {"helping.weekly_hours_free": [2.0, 8.0], "trust.tie_gain": [0.0, 0.1]}}
    exp = load_experiment(spec(replicates=1, variants={"baseline": {}}, design=sob))
    problem = {"num_vars": 2, "names": ["helping.weekly_hours_free", "trust.tie_gain"],
               "bounds": [[2.0, 8.0], [0.0, 0.1]]}
    sample = sobol.sample(dict(problem), 8, calc_second_order=False, seed=11)
    got = np.array([[p[k] for k in problem["names"]] for p in exp.points])
    np.testing.assert_array_equal(got, sample)
    assert exp.design["problem"] == problem and exp.design["n"] == 8 and exp.design["calc_second_order"] is False
    assert [r.point for r in exp.runs] == list(range(len(sample)))


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"replicate": 3}, ["replicate", "unknown key", "did you mean 'replicates'"]),
        ({"seed": -1}, ["seed", "out of range", "-1"]),
        ({"seed": "x"}, ["seed", "wrong type"]),
        ({"replicates": 0}, ["replicates", "out of range"]),
        ({"scale": 2}, ["scale", "out of range", "(0, 1]"]),
        ({"scenarios": ["yamea"]}, ["scenarios[0]", "scenario not found", "did you mean 'yamae'"]),
        ({"overrides": {"helping.weekly_hours_fre": 3}},
         ["overrides.helping.weekly_hours_fre", "unknown key", "did you mean 'weekly_hours_free'"]),
        ({"overrides": {"helping.weekly_hours_free": -3}},
         ["helping.weekly_hours_free", "out of range", "-3"]),
        ({"overrides": {"simulation.seed": 3}}, ["overrides.simulation.seed", "not allowed"]),
        ({"variants": {"a": {"interventions": {"local_snss": True}}}},
         ["variants.a.interventions.local_snss", "did you mean 'local_sns'"]),
        ({"variants": {"a": {"interventions": {"local_sns": {"start": 2020, "end": 2019}}}}},
         ["variants.a.interventions.local_sns.end", "ends before it starts"]),
        ({"variants": {"a": {"overides": {}}}}, ["variants.a.overides", "did you mean 'overrides'"]),
        ({"variants": {"a": {"baseline": True}, "b": {"baseline": True}}}, ["two baselines"]),
        ({"variants": {"a": {"overrides": {"trust.tie_gain": 5}}}}, ["variants.a", "trust.tie_gain", "out of range"]),
        ({"design": {"type": "grid"}}, ["design.type", "factorial", "sobol"]),
        ({"design": {"type": "sobol", "n": 6, "parameters": {"trust.tie_gain": [0, 0.1]}}},
         ["design.n", "power of 2"]),
        ({"design": {"type": "lhs", "n": 4, "parameters": {"municipality.name": [0, 1]}}},
         ["design.parameters.municipality.name", "not numeric"]),
        ({"design": {"type": "lhs", "n": 4, "parameters": {"trust.tie_gain": [0.5, 0.1]}}},
         ["design.parameters.trust.tie_gain", "lo < hi"]),
        ({"design": {"type": "factorial", "parameters": {"trust.tie_gian": [0.1]}}},
         ["design.parameters.trust.tie_gian", "did you mean 'tie_gain'"]),
        ({"design": {"type": "factorial", "parameters": {"trust.tie_gain": [0.1, 7]}}},
         ["design point 1", "trust.tie_gain", "out of range"]),
        ({"design": {"type": "list", "points": [{"trust.tie_gain": 0.1}, {"trust.trust_gain": 0.1}]}},
         ["design.points[1]", "keys differ"]),
    ],
)
def test_errors_name_the_key_the_value_and_what_is_allowed(changes, words):
    with pytest.raises(ExperimentError) as info:
        load_experiment(spec(**changes))
    text = str(info.value)
    assert text.startswith("<experiment>: ")
    for w in words:
        assert w in text, (w, text)


def test_missing_seed_and_file_errors(tmp_path):
    data = spec()
    del data["seed"]
    with pytest.raises(ExperimentError, match="seed: missing key"):
        load_experiment(data)
    with pytest.raises(ExperimentError, match="did you mean 'yamae-quick'"):
        load_experiment("yamae-quik")
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: [unclosed\n", encoding="utf-8")
    with pytest.raises(ExperimentError, match="not YAML"):
        load_experiment(bad)


def test_scenario_files_next_to_the_experiment(tmp_path):
    (tmp_path / "mine.yaml").write_text("base: yamae\nname: mine\ninterventions: {reporting_hub: {enabled: true}}\n",
                                        encoding="utf-8")
    (tmp_path / "e.yaml").write_text(yaml.safe_dump(spec(scenarios=["mine", "yamae"], replicates=1)), encoding="utf-8")
    exp = load_experiment(tmp_path / "e.yaml")
    assert [r.scenario for r in exp.runs][::3] == ["mine", "yamae"]
    assert exp.runs[0].resolved.interventions.reporting_hub.enabled


def test_cli_exits_2_on_a_bad_experiment_and_writes_nothing(tmp_path, capsys):
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(spec(overrides={"helping.weekly_hours_fre": 3})), encoding="utf-8")
    out = tmp_path / "out"
    assert main(["sweep", str(path), "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "did you mean 'weekly_hours_free'" in err and "Traceback" not in err
    assert not out.exists()
    assert main(["sweep", "yamae-quick", "--jobs", "0", "--out", str(out), "--quiet"]) == 2
    assert "--jobs" in capsys.readouterr().err
    assert main(["sweep", "yamae-quick", "--scheduler", "tcp://127.0.0.1:1", "--out", str(out), "-q"]) == 2
    assert "only with --backend dask" in capsys.readouterr().err


def test_the_file_is_declared_with_the_scenario_schema():
    import dataclasses

    from kyojosim.params.experiment import Design, ExperimentSpec, InterventionSwitch, MunicipalitySelection, Variant

    for cls in (ExperimentSpec, Variant, InterventionSwitch, Design, MunicipalitySelection):
        assert dataclasses.is_dataclass(cls)
        assert all(f.metadata.get("source") for f in dataclasses.fields(cls)), cls.__name__
    # the keys of the file are the fields of the records
    assert [f.name for f in dataclasses.fields(ExperimentSpec)] == [
        "name", "description", "seed", "replicates", "years", "scale", "overrides", "scenarios", "municipalities",
        "variants", "design"]
    assert [f.name for f in dataclasses.fields(InterventionSwitch)] == ["enabled", "start", "end"]


def test_intervention_shorthands_map_to_the_scenarios_years(tmp_path):
    # a scenario whose SNS has its own years: a variant's start replaces the start and keeps the end
    (tmp_path / "sns.yaml").write_text(
        "base: yamae\nname: sns\ninterventions:\n  local_sns: {start_year: 2016, end_year: 2020}\n", encoding="utf-8")
    data = spec(scenarios=[str(tmp_path / "sns.yaml")], replicates=1, variants={
        "baseline": {},
        "year": {"interventions": {"local_sns": 2017}},
        "on": {"interventions": {"local_sns": True, "reporting_hub": {"start": 2016, "end": 2018}}},
        "off": {"interventions": {"local_sns": {"enabled": False}}},
    })
    exp = load_experiment(data)
    iv = {r.variant: r.resolved.interventions for r in exp.runs}
    assert (iv["year"].local_sns.enabled, iv["year"].local_sns.start_year, iv["year"].local_sns.end_year) == (
        True, 2017, 2020)
    assert (iv["on"].local_sns.start_year, iv["on"].local_sns.end_year) == (2016, 2020)
    assert (iv["on"].reporting_hub.start_year, iv["on"].reporting_hub.end_year) == (2016, 2018)
    assert not iv["off"].local_sns.enabled and not iv["baseline"].local_sns.enabled
    # the experiment records every switch in one form, and the report reads that form
    recorded = exp.spec["variants"]
    assert recorded["year"]["interventions"] == {"local_sns": {"enabled": True, "start": 2017, "end": None}}
    assert recorded["on"]["interventions"]["local_sns"] == {"enabled": True, "start": None, "end": None}
    from kyojosim.present import report

    text = report.variant_descriptions({"experiment": exp.to_dict()}, "en")
    assert text["year"] == "local social network (from 2017)"
    assert text["on"] == "local social network; local reporting hub (from 2016 until 2018)"
    assert text["off"] == "local social network: off" and text["baseline"] == "No intervention"


def test_empty_sections_read_as_none():
    a = load_experiment(spec(overrides=None, variants={"baseline": None, "hub": {"interventions": None,
                                                                               "overrides": None}}))
    assert a.variants == ("baseline", "hub") and a.spec["overrides"] == {}
    assert load_experiment(spec(design=None)).points == load_experiment(spec(design="none")).points == ({},)
    assert len(load_experiment(spec(scenarios="yamae")).runs) == len(load_experiment(spec()).runs)
