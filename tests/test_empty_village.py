"""A village that empties: the runs finish, undefined measures are nan, and the report and figures handle it."""

from __future__ import annotations

import pytest
import yaml

import kyojosim
from conftest import old_only_mapping
from kyojosim.cli import main
from kyojosim.present import figures


@pytest.fixture(scope="module")
def emptied(tmp_path_factory, yamae_dict):
    """A sweep of a village of 20 residents aged 85+ dying fast: every replicate of every variant empties."""
    root = tmp_path_factory.mktemp("empty")
    town = old_only_mapping(yamae_dict, persons=20, multiplier=5.0)
    town["name"] = "empties"
    (root / "empties.yaml").write_text(yaml.safe_dump(town, allow_unicode=True), encoding="utf-8")
    exp = {"name": "empties", "seed": 1, "replicates": 2, "years": 10, "scenarios": [str(root / "empties.yaml")],
           "variants": {"baseline": {}, "hub": {"interventions": {"reporting_hub": {"start": 2015}}}}}
    (root / "exp.yaml").write_text(yaml.safe_dump(exp, allow_unicode=True), encoding="utf-8")
    out = kyojosim.sweep(root / "exp.yaml", out=root / "res", progress=False)
    return out, kyojosim.load(out)


def test_every_run_empties_and_finishes(emptied):
    _, res = emptied
    assert res.manifest["runs"] == {"done": 4, "failed": 0, "pending": 0}
    last = res.years.sort_values("year").groupby("run_id").last()
    assert (last["population"] == 0).all()


def test_undefined_is_nan_where_nothing_exists(emptied):
    _, res = emptied
    years = res.years
    empty = years["population"] == 0
    assert empty.any() and (~empty).any()
    for col in ("share_65plus", "share_75plus", "share_under15", "mean_age", "smartphone_share", "sns_share"):
        assert years.loc[empty, col].isna().all(), col
        assert years.loc[~empty, col].notna().all(), col
    steps = res.steps
    assert steps.loc[steps["population"] == 0, "unmet_75plus_share"].isna().all()
    assert steps.loc[steps["step"] == 0, "matching_rate"].isna().all()
    assert (steps["weeks_to_match"].isna() == (steps["needs_matched"] == 0)).all()
    decided = steps.groupby("run_id")[["needs_matched", "needs_lapsed"]].cumsum().sum(axis=1) > 0
    assert (steps["matching_rate"].isna() == ~decided).all()
    assert res.summary["share_65plus_end"].isna().all() and (res.summary["population_end"] == 0).all()


def test_top10_share_is_nan_in_a_year_nobody_helped(yamae_dict):
    town = old_only_mapping(yamae_dict, persons=20, multiplier=5.0)
    result = kyojosim.run(town, years=10, seed=1)
    aid = result.to_pandas("aid_years")
    assert (aid["helpers"] == 0).any()
    assert aid.loc[aid["helpers"] == 0, "top10_helper_share"].isna().all()
    assert aid.loc[aid["helpers"] > 0, "top10_helper_share"].between(0, 1).all()


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_report_and_compare_of_an_emptied_village(emptied, capsys, lang):
    out, _ = emptied
    assert main(["report", str(out), "--lang", lang]) == 0, capsys.readouterr().err
    html = (out / f"report-{lang}.html").read_text(encoding="utf-8")
    assert html.count("<img") == 5 and "—" in html  # every figure drawn; the undefined つながり力 shown as —
    assert main(["compare", str(out), "--lang", lang, "--out", str(out / f"cmp-{lang}"), "-q"]) == 0
    assert sorted(p.name for p in (out / f"cmp-{lang}").iterdir()) == [
        "comparison.csv", "comparison.png", "population_pyramid.png", "timeseries.png", "tsunagari_by_group.png"]
    assert "Traceback" not in capsys.readouterr().err


def test_every_weekly_series_and_figure_draws(emptied, recwarn):
    _, res = emptied
    for metric in ("matching_rate", "weeks_to_match", "unmet_75plus_share", "share_65plus", "population"):
        fig = figures.timeseries(res, metric, lang="en")
        assert fig.axes
    fig = figures.tsunagari_by_group(res, lang="en", at="end")
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert "no resident aged 20+" in texts
    figures.tsunagari_by_group(res, lang="ja")
    figures.population_pyramid(res, lang="ja")
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning) and "empty slice" in str(w.message)]
