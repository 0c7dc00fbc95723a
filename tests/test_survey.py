"""Tests of the simulated survey (kyojosim.measures.survey): exact answers on a hand-built town, intervals,
no side effect on the model, the published layout, the gap table and the comparison script."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from kyojosim.constants import CAT, CATEGORIES, PARTICIPATION_GROUPS, WILL_FREE, WILL_NONE, WILL_PAID
from kyojosim.measures.survey import (
    ANSWERS,
    GAP_COLUMNS,
    PUBLISHED_FILES,
    TABLES,
    SurveyError,
    compare_published,
    default_published_folder,
    expected_trouble_counts,
    read_published,
    survey,
    wilson,
)
from kyojosim.model import KyojoModel
from towns import hand_built_town

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "whitepaper2018"

PEOPLE = [(25, "f"), (33, "m"), (41, "f"), (52, "m"), (64, "f"), (71, "m")]


@pytest.fixture()
def town():
    """Six residents aged 25-71, all in a neighbourhood association and in no online community."""
    model, slots = hand_built_town(PEOPLE)
    pop = model.population
    pop.groups[:] = -1
    pop.groups[:, 0] = 0
    pop.online[:] = 0
    pop.will[:] = WILL_NONE
    pop.platform_need[:] = 0
    pop.platform_help[:] = 0
    model.aid.prob[:] = 0.0
    return model, slots


@pytest.fixture(scope="module")
def yamae_model():
    """yamae at seed 1 after half a year (a running model)."""
    model = KyojoModel("yamae", seed=1, years=1)
    for _ in range(26):
        model.step()
    return model


def test_offline_only_town_answers_exactly(town):
    model, slots = town
    res = survey(model, n=None)
    assert res.n == res.frame_size == len(PEOPLE)
    row = res.tables["community_participation_all_ages"].iloc[0]
    assert [row[g] for g in PARTICIPATION_GROUPS] == [0.0, 100.0, 0.0, 0.0]
    # the whole frame: every interval collapses onto its value
    for g in PARTICIPATION_GROUPS:
        assert row[f"{g}_lo"] == pytest.approx(row[g]) and row[f"{g}_hi"] == pytest.approx(row[g])
    assert row["n"] == len(PEOPLE) and row["survey_year"] == model.year
    by_age = res.tables["community_participation_by_age"].set_index("age_group")
    assert by_age.loc["60+", "n"] == 2 and by_age.loc["20s", "n"] == 1 and by_age.loc["60+", "offline_only"] == 100
    tsu = res.tables["tsunagari_by_participation"].set_index("participation_group")
    assert tsu.loc["offline_only", "n"] == len(PEOPLE) and tsu.loc["both", "n"] == 0
    assert np.isnan(tsu.loc["both", "mean"])


def test_both_and_online_only_are_told_apart(town):
    model, (a, b, c, d, e, f) = town
    pop = model.population
    pop.online[[a, b]] = 2  # feed groups
    pop.groups[b, :] = -1
    pop.groups[c, :] = -1
    row = survey(model, n=None).tables["community_participation_all_ages"].iloc[0]
    # a: both; b: online only; c: none; d, e, f: offline only
    assert [round(row[g], 6) for g in PARTICIPATION_GROUPS] == [round(100 / 6, 6), 50.0, round(100 / 6, 6),
                                                               round(100 / 6, 6)]


def test_needs_and_helpers_by_hand(town):
    model, (a, b, c, d, e, f) = town
    pop = model.population
    p = model.aid.prob
    p[[a, b, c], CAT["chores"]] = 1.0  # these three have the trouble for sure, the others never
    pop.platform_need[[a, b]] = 1 << CAT["chores"]
    pop.will[[a, b, c], CAT["shopping"]] = WILL_FREE
    pop.will[[d], CAT["shopping"]] = WILL_PAID
    pop.platform_help[[a, d]] = 1 << CAT["shopping"]
    res = survey(model, n=None)
    needs = res.tables["needs_platform_intention"].set_index("category")
    assert needs.loc["chores", "n"] == 3
    assert needs.loc["chores", "yes_total"] == pytest.approx(200 / 3)
    assert needs.loc["chores", "yes_total_lo"] == pytest.approx(200 / 3)  # all three of three asked
    # the levels split yes_total and its complement in the published proportions of the row
    pub = read_published("needs_platform_intention").set_index("category").loc["chores"]
    assert needs.loc["chores", "definitely_yes"] == pytest.approx(200 / 3 * pub.definitely_yes
                                                                   / (pub.definitely_yes + pub.yes))
    assert needs.loc["chores", list(ANSWERS)].sum() == pytest.approx(100.0)
    for cat in CATEGORIES:
        if cat != "chores":
            assert needs.loc[cat, "n"] == 0 and np.isnan(needs.loc[cat, "yes_total"])
    helpers = res.tables["helper_platform_intention"].set_index(["category", "terms"])
    assert helpers.loc[("shopping", "free"), "n"] == 3
    assert helpers.loc[("shopping", "free"), "yes_total"] == pytest.approx(100 / 3)
    assert helpers.loc[("shopping", "paid"), "n"] == 1
    assert helpers.loc[("shopping", "paid"), "yes_total"] == pytest.approx(100.0)
    assert helpers.loc[("chores", "free"), "n"] == 0


def test_open_needs_rule(town):
    from towns import add_need

    model, (a, b, *_) = town
    add_need(model, a, "sick_care", 2.0, surfaced_bits=0)
    model.population.platform_need[a] = 1 << CAT["sick_care"]
    needs = survey(model, n=None, recall_weeks=0).tables["needs_platform_intention"].set_index("category")
    assert needs.loc["sick_care", "n"] == 1 and needs.loc["sick_care", "yes_total"] == 100.0
    assert needs["n"].sum() == 1


def test_trust_change_from_the_meeting_log(town):
    model, (a, b, c, *_) = town
    res = survey(model, n=None)
    empty = res.tables["trust_change_after_meeting"]
    assert (empty["n"] == 0).all() and empty["percent"].isna().all()
    assert any("meeting_log" in note for note in res.notes)
    uid = model.population.uid
    # a met b (much higher), then c met a (somewhat lower): a's latest meeting counts
    model.meeting_log = {"uid_a": [uid[a], uid[c]], "uid_b": [uid[b], uid[a]], "outcome": [0, 3]}
    res = survey(model, n=None)
    t = res.tables["trust_change_after_meeting"].set_index("change")
    assert t["n"].iloc[0] == 3
    assert t.loc["much_higher", "percent"] == pytest.approx(100 / 3)
    assert t.loc["somewhat_lower", "percent"] == pytest.approx(200 / 3)
    assert t.loc["unchanged", "percent"] == 0.0
    assert not res.notes
    model.meeting_log = {"uid_a": [uid[a]], "uid_b": [uid[b]], "outcome": [7]}
    with pytest.raises(SurveyError, match="outcome"):
        survey(model, n=None)


def test_wilson_interval_properties():
    p, lo, hi = wilson(np.array([0, 5, 10]), np.array([10, 10, 10]))
    assert p.tolist() == [0.0, 0.5, 1.0]
    assert lo[0] == 0.0 and 0 < hi[0] < 0.35 and hi[2] == 1.0 and 0.65 < lo[2] < 1
    assert lo[1] < 0.5 < hi[1]
    p, lo, hi = wilson(30, 100, 100)  # the whole population: exact
    assert lo == pytest.approx(0.3) and hi == pytest.approx(0.3)
    widths = [float(np.subtract(*wilson(0.3 * n, n)[:0:-1])) for n in (100, 400, 1600)]
    assert widths[0] > widths[1] > widths[2] > 0
    assert np.isnan(wilson(0, 0)[0])


def test_wilson_coverage_with_finite_population():
    rng = np.random.default_rng(7)
    big, good, n = 2000, 600, 400
    k = rng.hypergeometric(good, big - good, n, size=4000)
    _, lo, hi = wilson(k, np.full(k.size, n), np.full(k.size, big))
    coverage = np.mean((lo <= good / big) & (good / big <= hi))
    assert 0.93 <= coverage <= 0.975


def test_larger_samples_give_narrower_intervals(yamae_model):
    small = survey(yamae_model, n=100, seed=1).tables["community_participation_all_ages"].iloc[0]
    large = survey(yamae_model, n=1000, seed=1).tables["community_participation_all_ages"].iloc[0]
    for g in ("both", "online_only"):
        assert large[f"{g}_hi"] - large[f"{g}_lo"] < small[f"{g}_hi"] - small[f"{g}_lo"]
        assert small[f"{g}_lo"] <= small[g] <= small[f"{g}_hi"]
    tsu_s = survey(yamae_model, n=100, seed=1).tables["tsunagari_by_participation"].set_index("participation_group")
    tsu_l = survey(yamae_model, n=1000, seed=1).tables["tsunagari_by_participation"].set_index("participation_group")
    assert (tsu_l.loc["all", "mean_hi"] - tsu_l.loc["all", "mean_lo"]
            < tsu_s.loc["all", "mean_hi"] - tsu_s.loc["all", "mean_lo"])


def test_sample_is_reproducible_and_seeded(yamae_model):
    a = survey(yamae_model, n=300, seed=4)
    b = survey(yamae_model, n=300, seed=4)
    c = survey(yamae_model, n=300, seed=5)
    assert np.array_equal(a.respondents, b.respondents)
    assert np.unique(a.respondents).size == 300
    assert not np.array_equal(a.respondents, c.respondents)
    for name in TABLES:
        pd.testing.assert_frame_equal(a.tables[name], b.tables[name])


def test_survey_does_not_change_the_trajectory():
    plain = KyojoModel("yamae", seed=2, years=2)
    asked = KyojoModel("yamae", seed=2, years=2)
    gens_before = None
    for step in range(60):
        plain.step()
        asked.step()
        if step in (3, 54):  # mid-year and after the turn of the year
            gens_before = set(asked.streams.started())
            survey(asked, n=500, seed=step)
            assert set(asked.streams.started()) == gens_before
    pd.testing.assert_frame_equal(plain.table("steps"), asked.table("steps"))
    pd.testing.assert_frame_equal(plain.table("tsunagari"), asked.table("tsunagari"))
    for col in ("uid", "trust_offline", "will", "platform_need"):
        assert np.array_equal(getattr(plain.population, col), getattr(asked.population, col))


def test_tables_have_the_published_columns(yamae_model):
    res = survey(yamae_model, n=400)
    assert set(res.tables) == set(TABLES)
    for name in PUBLISHED_FILES:
        pub = list(read_published(name).columns)
        cols = list(res.tables[name].columns)
        assert cols[: len(pub)] == pub, name
        extra = cols[len(pub):]
        assert all(c in ("n", "yes_total") or c.endswith(("_lo", "_hi")) for c in extra), (name, extra)
        for c in pub:
            if c not in ("n", "survey_year") and pd.api.types.is_float_dtype(res.tables[name][c]):
                assert f"{c}_lo" in cols and f"{c}_hi" in cols
    # the same row keys as the published tables
    for name, key in (("needs_platform_intention", ["category"]), ("helper_platform_intention", ["category", "terms"]),
                      ("trust_change_after_meeting", ["change"])):
        pub = read_published(name)
        assert res.tables[name][key].equals(pub[key]), name


def test_to_csv_writes_the_tables(yamae_model, tmp_path):
    res = survey(yamae_model, n=200)
    written = res.to_csv(tmp_path / "survey")
    assert sorted(p.name for p in (tmp_path / "survey").iterdir()) == sorted(f"{t}.csv" for t in TABLES)
    back = pd.read_csv(written["helper_platform_intention"])
    assert list(back.columns) == list(res.tables["helper_platform_intention"].columns)
    assert back["n"].tolist() == res.tables["helper_platform_intention"]["n"].tolist()


def test_bundled_tables_are_verbatim_copies():
    if not SHARED.is_dir():
        pytest.skip("the project's shared survey tables are not beside the repository")
    for file in PUBLISHED_FILES.values():
        assert (default_published_folder() / file).read_bytes() == (SHARED / file).read_bytes(), file


def test_compare_published_has_one_row_per_published_cell(yamae_model, tmp_path):
    res = survey(yamae_model, n=600)
    gaps = compare_published(res)
    assert list(gaps.columns) == list(GAP_COLUMNS)
    expected = 4  # the 2017 participation row
    for name in ("needs_platform_intention", "helper_platform_intention"):
        pub = read_published(name)
        expected += len(pub) * (1 + len(ANSWERS) + 1)  # n, the five answers, yes_total
    expected += len(read_published("trust_change_after_meeting"))
    assert len(gaps) == expected
    assert not gaps.duplicated(["table", "row", "column"]).any()
    cell = gaps.set_index(["table", "row", "column"])
    assert cell.loc[("community_participation_all_ages", "2017", "online_only"), "published"] == 44.1
    assert cell.loc[("helper_platform_intention", "chores/paid", "n"), "published"] == 331
    assert cell.loc[("needs_platform_intention", "shopping", "yes_total"), "published"] == pytest.approx(75.7)
    ok = gaps.dropna(subset=["simulated"])
    assert np.allclose(ok["gap"], ok["simulated"] - ok["published"])
    assert (gaps["flagged"] == (gaps["validated"] & (gaps["unit"] == "points") & (gaps["gap"].abs() > 5))).all()
    # another folder and another year are honoured
    folder = tmp_path / "pub"
    folder.mkdir()
    for file in PUBLISHED_FILES.values():
        (folder / file).write_bytes((default_published_folder() / file).read_bytes())
    part = pd.read_csv(folder / "community_participation_all_ages.csv")
    part.loc[part["survey_year"] == 2017, "none"] = 90.0
    part.to_csv(folder / "community_participation_all_ages.csv", index=False)
    moved = compare_published(res, folder=folder).set_index(["table", "row", "column"])
    row = ("community_participation_all_ages", "2017", "none")
    assert moved.loc[row, "published"] == 90.0 and moved.loc[row, "flagged"]
    old = compare_published(res, year=2008).set_index(["table", "row", "column"])
    assert old.loc[("community_participation_all_ages", "2008", "offline_only"), "published"] == 24.9
    with pytest.raises(SurveyError, match="year"):
        compare_published(res, year=1999)
    with pytest.raises(SurveyError, match="cannot read"):
        compare_published(res, folder=tmp_path / "missing")


def test_bad_requests_are_refused(yamae_model):
    frame = survey(yamae_model, n=10).frame_size
    with pytest.raises(SurveyError, match="allowed: 1.."):
        survey(yamae_model, n=frame + 1)
    with pytest.raises(SurveyError, match="allowed: 1.."):
        survey(yamae_model, n=0)
    with pytest.raises(SurveyError, match="ages"):
        survey(yamae_model, ages=(70, 20))
    with pytest.raises(SurveyError, match="KyojoModel"):
        survey("yamae")


def test_script_runs_at_tiny_size(tmp_path):
    script = ROOT / "experiments" / "validation" / "compare_survey.py"
    out = tmp_path / "gaps"
    done = subprocess.run([sys.executable, str(script), "--seeds", "1", "--years", "1", "--n", "150",
                           "--out", str(out)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "needs_platform_intention" in done.stdout and "yes_total" in done.stdout
    assert "respondents with each trouble per 1,200" in done.stdout
    gaps = pd.read_csv(out / "gaps.csv")
    assert {"seed", *GAP_COLUMNS} <= set(gaps.columns)
    assert (out / "gaps_summary.csv").is_file() and (out / "seed_1" / "needs_platform_intention.csv").is_file()
    bad = subprocess.run([sys.executable, str(script), "--seeds", "1", "--years", "1", "--n", "999999"],
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "error:" in bad.stderr and "Traceback" not in bad.stderr


def test_a_finished_run_can_be_surveyed():
    import kyojosim

    res = kyojosim.run("yamae", years=1, seed=3)
    direct = survey(res.model, n=150, seed=2)
    via_result = survey(res, n=150, seed=2)
    assert np.array_equal(direct.respondents, via_result.respondents)
    assert via_result.year == res.model.year == 2016 and via_result.step == res.model.steps


@pytest.mark.parametrize("town,scale", [("yamae", 0.3), ("ikoma", 0.02), ("koto", 0.004)])
def test_trouble_counts_match_the_published_n_in_every_bundled_town(town, scale):
    """図表4-3-4-2's n per category (respondents who want someone to turn to) within ±25%, at the default recall."""
    model = KyojoModel(town, seed=1, years=1, scale=scale, agents=False)
    model.run_model()  # a turn of the year: the rates are solved again for the new population
    published = read_published("needs_platform_intention").set_index("category")["n"]
    expected = expected_trouble_counts(model)
    assert ((expected / published[expected.index] - 1).abs() < 0.25).all(), expected
    # a survey of the whole frame scatters around the expectation: all troubles together within 15%
    res = survey(model, n=None, seed=1)
    total = res.tables["needs_platform_intention"]["n"].sum() * 1200 / res.frame_size
    assert abs(total / published.sum() - 1) < 0.15, total
    # a survey with a shorter recall counts fewer
    short = expected_trouble_counts(model, recall_weeks=4)
    assert (short < expected).all()
