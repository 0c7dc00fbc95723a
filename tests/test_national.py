"""Experiments over municipalities of Japan (``municipalities:``): the selection, runs built in the workers, the
national table and figure."""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest
import yaml

import kyojosim
from kyojosim.analysis import national
from kyojosim.cli import NATIONAL_FILES, main
from kyojosim.params import japan
from kyojosim.params.experiment import (
    EXPERIMENT_DIR,
    ExperimentError,
    MunicipalitySelection,
    MunicipalScenario,
    load_experiment,
)
from kyojosim.params.schema import Context, build
from kyojosim.present.labels import municipality_names, variant_labels
from kyojosim.runs import builder
from kyojosim.runs.sweep import execution_order

# three small municipalities: 青ヶ島村 (178 residents in 2015), 御蔵島村 (335) and 山江村 (3,422)
TINY = ["13402", "御蔵島村", "43512"]


def selection(data):
    ctx = Context("exp.yaml", "municipalities", ExperimentError)
    sel = build(MunicipalitySelection, data, ctx)
    return sel, *sel.select(ctx)


def spec(**kw):
    base = {"name": "tiny", "seed": 7, "replicates": 2, "years": 2, "scale": 0.01,
            "municipalities": {"codes": TINY, "min_residents": 60},
            "variants": {"baseline": {}, "sns": {"interventions": {"local_sns": 2015}}}}
    base.update(kw)
    return base


# --------------------------------------------------------------------------------------
# the selection
# --------------------------------------------------------------------------------------


def test_all_selects_every_municipality_with_residents_and_says_what_it_leaves_out():
    sel, chosen, notes = selection("all")
    assert len(chosen) == 1741 - 4 and all(r.population > 0 for r in chosen)
    assert [r.code for r in chosen] == sorted(r.code for r in chosen)
    assert "4 left out" in notes[0] and "双葉町" in notes[0]
    assert "55 of 福島県 have no IPSS 2018 projection" in notes[1] and "fukushima: exclude" in notes[1]
    assert sel.describe() == "all municipalities"
    _, projected, notes = selection({"fukushima": "exclude"})
    assert len(projected) == 1682 and all(r.ipss for r in projected) and notes == []


def test_a_prefecture_by_any_name_and_the_filters():
    for form in ("熊本県", {"prefecture": "熊本"}, {"prefecture": ["Kumamoto", 43]}):
        sel, chosen, _ = selection(form)
        assert len(chosen) == 45 and {r.prefecture for r in chosen} == {"熊本県"} and sel.prefecture == ("熊本県",)
    _, small, _ = selection({"prefecture": "熊本県", "population_below": 5000})
    assert {r.name for r in small} >= {"山江村", "五木村"} and all(0 < r.population < 5000 for r in small)
    shares = japan.age_shares().set_index("code")["share_65plus"]
    _, old, _ = selection({"share_65plus_above": 0.5})
    assert old and all(shares[r.code] > 0.5 for r in old)
    assert len(old) == int((shares > 0.5).sum())
    _, mid, _ = selection({"population_above": 100_000, "population_below": 120_000, "share_65plus_below": 0.25})
    assert mid and all(100_000 < r.population < 120_000 and shares[r.code] < 0.25 for r in mid)
    sel, named, _ = selection(["生駒市", "43512", "Koto"])
    assert [r.code for r in named] == ["13108", "29209", "43512"] and sel.describe() == "3 named"


@pytest.mark.parametrize(("data", "key", "words"), [
    ({"prefecture": "熊元県"}, "municipalities.prefecture[0]", ["unknown prefecture", "did you mean 熊本県", "北海道"]),
    ("生駒市", "municipalities", ["not all and not a prefecture", "a list of municipal codes or names"]),
    ({"codes": ["伊達市"]}, "municipalities.codes[0]", ["ambiguous", "北海道", "福島県"]),
    ({"codes": ["Atlantis"]}, "municipalities.codes[0]", ["unknown municipality"]),
    ({"prefectures": "熊本県"}, "municipalities.prefectures", ["unknown key", "did you mean 'prefecture'"]),
    ({"population_above": 5000, "population_below": 5000}, "municipalities.population_below", ["empty range"]),
    ({"population_below": 10}, "municipalities", ["no municipality selected", "population below 10"]),
    ({"fukushima": "maybe"}, "municipalities.fukushima", ["'include', 'exclude'"]),
    ({"share_65plus_above": 1.5}, "municipalities.share_65plus_above", ["out of range"]),
])
def test_a_bad_selection_names_the_key_and_what_is_allowed(data, key, words):
    with pytest.raises(ExperimentError) as err:
        load_experiment(spec(municipalities=data))
    assert err.value.key == key, str(err.value)
    for word in words:
        assert word in str(err.value), (word, str(err.value))


def test_the_scale_of_each_municipality():
    sel = build(MunicipalitySelection, {"min_residents": 500}, Context(None))
    assert sel.scale_for(3422, None) is None  # the builder's default
    assert sel.scale_for(1_000_000, 0.001) == 0.001
    assert sel.scale_for(3422, 0.001) == 0.146  # raised to about 500 simulated residents
    assert sel.scale_for(178, 0.001) == 1.0  # never above everyone
    with pytest.raises(ExperimentError, match="set scale: instead"):
        load_experiment(spec(overrides={"municipality.scale": 0.5}))
    with pytest.raises(ExperimentError, match="or municipalities: all"):
        load_experiment({"name": "x", "seed": 1})


# --------------------------------------------------------------------------------------
# the runs: nothing built up front, one municipality checked
# --------------------------------------------------------------------------------------


def test_runs_carry_how_their_worker_builds_the_scenario():
    exp = load_experiment(spec())
    assert len(exp.runs) == 3 * 2 * 2
    assert all(r.resolved is None and isinstance(r.recipe, MunicipalScenario) for r in exp.runs)
    assert exp.municipalities == {"mikurajima-13382": "13382", "aogashima-13402": "13402", "yamae-43512": "43512"}
    first = exp.runs[0]
    assert first.run_id == "mikurajima_13382-baseline-p0-r0" and first.scenario == "mikurajima-13382"
    assert first.recipe.scale == 0.179 and exp.runs[-1].recipe.scale == 0.0175  # 60 of 335, 60 of 3,422
    assert first.recipe.common == {"simulation.years": 2} and first.recipe.seed == first.seed
    sns = next(r for r in exp.runs if r.variant == "sns")
    assert sns.intervention_start == 2015 and sns.recipe.variant["interventions.local_sns.enabled"] is True
    assert exp.spec["municipalities"]["selection"] == "3 named" and exp.spec["scenarios"] == []
    # the same file gives the same hash; another scale or selection another
    assert load_experiment(spec()).hash == exp.hash
    assert load_experiment(spec(scale=0.02)).hash != exp.hash
    more = exp.with_replicates(3)
    assert more.identity == exp.identity and [r.recipe.seed for r in more.runs[:3]] == list(more.seeds)
    # the runs of a municipality are spread out: each is built once, by its first run
    order = execution_order(list(exp.runs))
    assert [r.scenario for r in order[:3]] == list(exp.municipalities)


def test_a_bad_variant_is_reported_before_any_run_naming_the_municipality_checked():
    bad = spec(variants={"baseline": {}, "sns": {"interventions": {"local_sns": 2015},
                                                  "overrides": {"interventions.local_sns.adoption_rate": 2.0}}})
    with pytest.raises(ExperimentError) as err:
        load_experiment(bad)
    text = str(err.value)
    assert "variants.sns" in text and "checked on 青ヶ島村, 13402" in text and "adoption_rate" in text


def test_the_recipe_gives_the_scenario_a_named_scenario_would_get(tmp_path, monkeypatch):
    monkeypatch.setenv("KYOJOSIM_CACHE_DIR", str(tmp_path))
    exp = load_experiment(spec())
    run = exp.runs[-1]  # 山江村, sns, replicate 1
    scn, seconds = builder.run_scenario(run.recipe)
    assert seconds > 0 and builder.run_scenario(run.recipe)[1] == 0.0  # built once, then from the cache
    path = builder.scenario_path("43512", scale=0.0175, quiet=True)
    assert path.name == "yamae-43512-scale0.0175.yaml"
    named = kyojosim.load_scenario(path, {"simulation.years": 2}).replace(
        **{"interventions.local_sns.enabled": True, "interventions.local_sns.start_year": 2015,
           "simulation.seed": run.seed})
    assert scn.digest() == named.digest() and scn.simulation.seed == run.seed
    # building is deterministic: another cache builds the same file
    again = builder.build("43512", scale=0.0175, progress=False).text("kyojosim new 43512 --scale 0.0175")
    assert again == path.read_text(encoding="utf-8")


# --------------------------------------------------------------------------------------
# a sweep of municipalities, then the national table
# --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def swept(tmp_path_factory):
    """A sweep of the three tiny municipalities, into a cache of its own."""
    folder = tmp_path_factory.mktemp("national")
    mp = pytest.MonkeyPatch()
    mp.setenv("KYOJOSIM_CACHE_DIR", str(folder / "cache"))
    try:
        out = kyojosim.sweep(spec(), out=folder / "res", jobs=1, progress=False)
        yield out, folder / "cache" / "scenarios", mp
    finally:
        mp.undo()


def test_the_sweep_builds_each_municipality_once_into_the_cache(swept, tmp_path):
    out, cache, mp = swept
    res = kyojosim.load(out)
    assert res.manifest["runs"] == {"done": 12, "failed": 0, "pending": 0}
    t = res.manifest["timings"]
    assert t["scenarios_built"] == 3 and t["build_seconds_total"] > 0
    assert 0 < t["model_seconds_total"] < t["run_seconds_total"]
    # the three at their scales, and the one the variants were checked on (the smallest, at its default scale)
    assert sorted(p.name for p in cache.glob("*.yaml")) == [
        "aogashima-13402-scale0.337.yaml", "aogashima-13402.yaml", "mikurajima-13382-scale0.179.yaml",
        "yamae-43512-scale0.0175.yaml"]
    summary = res.table("summary").set_index("run_id")
    assert summary.loc["yamae_43512-sns-p0-r1", "scale"] == 0.0175
    assert summary.loc["aogashima_13402-baseline-p0-r0", "scale"] == 0.337
    # a sweep of the same experiment elsewhere takes every scenario from the cache and gives the same tables
    mp.setenv("KYOJOSIM_CACHE_DIR", str(cache.parent))
    other = kyojosim.sweep(spec(), out=tmp_path / "again", jobs=1, progress=False)
    again = kyojosim.load(other)
    assert again.manifest["timings"]["scenarios_built"] == 0
    pd.testing.assert_frame_equal(again.summary, res.summary)
    pd.testing.assert_frame_equal(again.years, res.years)


def test_the_national_table_has_a_row_per_municipality_variant_and_metric(swept):
    out, _, _ = swept
    res = kyojosim.load(out)
    table = national.national_table(res)
    assert list(table.columns) == list(national.NATIONAL_COLUMNS)
    assert table["code"].drop_duplicates().tolist() == ["13382", "13402", "43512"]
    assert set(table["variant"]) == {"sns"} and table.groupby("code")["metric"].nunique().nunique() == 1
    yamae = table[(table["code"] == "43512") & (table["metric"] == "matching_rate_age_75plus")].iloc[0]
    assert (yamae["name"], yamae["prefecture"], yamae["region"], yamae["population"]) == ("山江村", "熊本県",
                                                                                          "九州・沖縄", 3422)
    assert yamae["share_65plus"] == pytest.approx(japan.age_shares().set_index("code").at["43512", "share_65plus"])
    assert yamae["projected"] and yamae["scale"] == 0.0175 and yamae["n_pairs"] == 2 and yamae["method"] == "t"
    # the paired difference is the mean over replicates of (sns - baseline) in that municipality
    s = res.table("summary")
    s = s[s["scenario"] == "yamae-43512"].set_index(["variant", "replicate"])["matching_rate_age_75plus"]
    assert yamae["diff"] == pytest.approx(float((s.loc["sns"] - s.loc["baseline"]).mean()))
    ranks = national.ranking(table, top=2)
    top = ranks[ranks["end"] == "top"]
    assert list(top["rank"]) == [1, 2] and top["diff"].is_monotonic_decreasing
    classes = national.by_class(table)
    assert classes.loc[classes["dimension"] == "population", "municipalities"].sum() == 3
    line = national.gradient(table)
    assert line.loc[0, "municipalities"] == 3 and np.isnan(line.loc[0, "r2"])  # fewer than 4: no line
    with pytest.raises(national.AnalysisError, match="allowed: one of the table's metrics"):
        national.ranking(table, metric="nope")


def test_compare_writes_the_national_files(swept, tmp_path, capsys):
    out, _, _ = swept
    assert main(["compare", str(out), "--out", str(tmp_path / "cmp"), "--lang", "en"]) == 0
    text = capsys.readouterr().out
    assert "3 municipalities" in text and "helps most" in text and "by share aged 65+" in text
    assert "Yamae village (Kyushu-Okinawa, population 3,422)" in text
    for name in ("comparison.csv", *NATIONAL_FILES):
        assert (tmp_path / "cmp" / name).is_file(), name
    assert not (tmp_path / "cmp" / "timeseries.png").exists()
    written = pd.read_csv(tmp_path / "cmp" / "national.csv", dtype={"code": str})
    assert len(written) == len(national.national_table(kyojosim.load(out)))
    # in Japanese (the default): the glossary's words, the option by its display name, the places by their names
    assert main(["compare", str(out), "--out", str(tmp_path / "cmp-ja")]) == 0
    text = capsys.readouterr().out
    shown = variant_labels(kyojosim.load(out), "ja")
    assert "3市区町村" in text and "効果が最も大きい自治体" in text and f"{shown['sns']}：" in text
    assert "山江村（熊本県、3,422人）" in text and "helps most" not in text


def test_the_municipalities_are_named_from_the_census_table(swept, monkeypatch):
    out, _, _ = swept
    res = kyojosim.load(out)
    monkeypatch.setattr(builder, "build", lambda *a, **k: pytest.fail("nothing is built to name a municipality"))
    assert municipality_names(res, "ja") == {"mikurajima-13382": "御蔵島村", "aogashima-13402": "青ヶ島村",
                                             "yamae-43512": "山江村"}
    assert municipality_names(res, "en")["yamae-43512"].startswith("Yamae")


def test_the_sweep_prints_one_line_per_option_over_many_municipalities(swept):
    from kyojosim.present.tables import variant_range_table

    out, _, _ = swept
    res = kyojosim.load(out)
    summary = res.table("summary")
    lines = variant_range_table(summary, "en", variant_labels(res, "en")).splitlines()
    assert lines[0].split() == ["option", "runs", "mean", "lowest", "highest"] and len(lines) == 3
    sns = summary.loc[summary["variant"] == "sns", "matching_rate"]
    assert lines[2].split()[-4:] == ["6", f"{100 * sns.mean():.1f}%", f"{100 * sns.min():.1f}%",
                                     f"{100 * sns.max():.1f}%"]


def test_the_national_figure_has_a_row_of_panels_per_variant():
    from kyojosim.present.national_figures import effect_by_municipality

    rows = []
    rng = np.random.default_rng(1)
    for code in ("01100", "13108", "29209", "43512", "47201"):
        for variant in ("a", "b"):
            rows.append({"code": code, "name": code, "name_en": code, "region": japan.region(code),
                         "region_en": japan.region(code, "en"), "population": 10_000, "share_65plus": 0.3,
                         "variant": variant, "metric": "matching_rate_age_75plus", "diff": rng.normal(0, 0.01)})
    fig = effect_by_municipality(pd.DataFrame(rows), lang="ja")
    assert len(fig.axes) == 4
    with pytest.raises(kyojosim.KyojoError, match="no value"):
        effect_by_municipality(pd.DataFrame(rows), metric="matching_rate")


def test_the_bundled_prefecture_at_a_tiny_scale(tmp_path):
    """kumamoto-quick: the 45 municipalities of 熊本県, nothing built to list its runs; its villages run for a year."""
    exp = load_experiment("kumamoto-quick")
    assert len(exp.municipalities) == 45 and len(exp.runs) == 45 * 3 * 2
    assert exp.variants == ("baseline", "sns", "sns-campaign") and exp.warnings == ()
    data = yaml.safe_load((EXPERIMENT_DIR / "kumamoto-quick.yaml").read_text(encoding="utf-8"))
    data = copy.deepcopy(data)
    data.update(years=1, replicates=1, scale=0.0002)
    data["municipalities"].update(population_below=2500, min_residents=40)  # its three villages, 40 residents each
    out = kyojosim.sweep(data, out=tmp_path / "kumamoto", jobs=1, progress=False)
    res = kyojosim.load(out)
    assert res.manifest["runs"] == {"done": 9, "failed": 0, "pending": 0}
    table = national.national_table(res)
    assert sorted(table["name"].unique()) == ["五木村", "水上村", "産山村"] and set(table["prefecture"]) == {"熊本県"}
    assert list(dict.fromkeys(table["variant"])) == ["sns", "sns-campaign"]
    classes = national.by_class(table)
    assert classes.loc[classes["dimension"] == "population", "municipalities"].sum() == 2 * 3
