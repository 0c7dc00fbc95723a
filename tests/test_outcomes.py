"""The registry of tables and metrics (kyojosim.measures.outcomes): the one place outcomes are declared.

A run records exactly the declared tables; a metric declared once reaches the summary, the comparison,
the labels and the formats; a table added later leaves older results folders readable.
"""

from __future__ import annotations

import json
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import kyojosim
from kyojosim.analysis.compare import compare, format_comparison
from kyojosim.constants import CATEGORIES, CHANNELS, PARTICIPATION_GROUPS
from kyojosim.measures import outcomes
from kyojosim.measures.outcomes import FORMAT_VERSION, METRICS, TABLES, Metric, OutcomeError, Table
from kyojosim.model import KyojoModel
from kyojosim.present.labels import VOCABULARY_LABELS, is_money, is_rate, metric_label
from kyojosim.present.report import scale_factors, whole_town
from kyojosim.runs.results import load_run, run_one
from kyojosim.runs.sweep import variants_experiment


@pytest.fixture(scope="module")
def small_run():
    return run_one("yamae-all", seed=3, years=1, scale=0.2, keep_model=True)


def test_a_run_records_exactly_the_declared_tables(small_run):
    districts = [d.name for d in small_run.scenario.municipality.districts]
    assert list(small_run.tables_) == outcomes.run_tables()
    for name, df in small_run.tables_.items():
        declared = TABLES[name].columns_for(districts)
        assert list(df.columns) == list(declared), name
        assert {c: str(t) for c, t in df.dtypes.items()} == {c: str(pd.Series([], dtype=t).dtype)
                                                             for c, t in declared.items()}, name
    assert len(small_run.tables_["needs"]) == 8 * small_run.manifest["steps"]


def test_every_weekly_series_and_summary_column_is_a_registered_metric(small_run):
    steps = small_run.tables_["steps"]
    assert set(steps.columns) - {"step", "year", "month"} <= set(METRICS)
    assert list(small_run.summary) == [m.name for m in outcomes.summary_metrics()]
    assert outcomes.columns_of("summary") == {"run_id": "str", **{m.name: m.dtype for m in outcomes.summary_metrics()}}
    for table in TABLES.values():
        assert 1 <= table.since <= FORMAT_VERSION, table.name


def test_families_come_from_the_vocabularies_and_are_labelled_from_them():
    for vocabulary, members, name in (("category", CATEGORIES, "matching_rate_{}"),
                                      ("participation", PARTICIPATION_GROUPS, "tsunagari_{}"),
                                      ("channel", CHANNELS, "matched_{}")):
        for member in members:
            m = METRICS[name.format(member)]
            assert m.of == (vocabulary, member)
            for lang in ("ja", "en"):
                assert VOCABULARY_LABELS[vocabulary][lang][member] in metric_label(m.name, lang)
    assert metric_label("matching_rate_chores") == "マッチング率（家事）"
    assert metric_label("matching_rate_age_75plus", "en") == "matching rate (75+)"
    assert metric_label("not_a_metric") == "not_a_metric"
    assert is_rate("share_65plus_end") and is_rate("matching_rate") and not is_rate("needs_matched")
    assert is_money("subsidy") and not is_money("needs_matched")


def test_the_collector_rejects_rows_that_do_not_fit(small_run):
    dc = small_run.model.datacollector
    before = {c: len(v) for c, v in dc.tables["needs"].items()}
    row = {c: 0 for c in dc.tables["needs"]}
    with pytest.raises(OutcomeError, match="undeclared.*weeks"):
        dc.add_table_row("needs", {**row, "weeks": 3})  # mesa itself would drop the key silently
    with pytest.raises(OutcomeError, match="missing.*hours"):
        dc.add_table_row("needs", {k: v for k, v in row.items() if k != "hours"})
    with pytest.raises(OutcomeError, match="allowed"):
        dc.add_table_row("no_such_table", row)
    assert {c: len(v) for c, v in dc.tables["needs"].items()} == before  # nothing half-added


def test_calendar_months_of_the_model():
    dpy = 365.25
    assert outcomes.calendar_month(0, 2015, dpy) == (2015, 1)
    assert outcomes.calendar_month(30.9, 2015, dpy) == (2015, 1) and outcomes.calendar_month(31, 2015, dpy) == (2015, 2)
    assert outcomes.calendar_month(365.0, 2015, dpy) == (2015, 12)
    assert outcomes.calendar_month(365.25, 2015, dpy) == (2016, 1)
    assert outcomes.record_month(21, 28, 2015, dpy) == ("2015-01", False)
    assert outcomes.record_month(28, 35, 2015, dpy) == ("2015-01", True)  # January ends on day 31
    assert outcomes.record_month(364, 371, 2015, dpy) == ("2015-12", True)
    assert outcomes.start_month(2015) == "2014-12"
    # every month of a long run is recorded once, in the step in which it ends
    model = KyojoModel("yamae", seed=1, years=3, scale=0.05)
    model.run_model()
    ts = model.table("tsunagari").drop_duplicates("step")
    assert ts["month"].tolist() == ["2014-12", *(f"{y}-{m:02d}" for y in (2015, 2016, 2017) for m in range(1, 13))]


# ---------------------------------------------------------------------------------------- a new KPI


def _hours_of_help(run) -> float:
    return float(run.tables_["needs"]["hours"].sum())


@pytest.fixture
def new_metric():
    """A KPI added the way a contributor adds one: one Metric entry and the function that summarises a run."""
    metric = Metric("help_hours", "count", "hours", "支援時間の合計", "hours of help in all", scales=True,
                    compared=True, summary=_hours_of_help)
    METRICS[metric.name] = metric
    yield metric
    del METRICS[metric.name]


def test_a_new_metric_is_one_registry_entry(new_metric, tmp_path):
    # yamae-all's channels start in 2018; in a run of one year they start at once (else they would never run)
    start = {f"interventions.{name}.start_year": 2015
             for name in ("local_sns", "sharing_platform", "reporting_hub", "offline_events")}
    exp = variants_experiment(["yamae", "yamae-all"], replicates=2, years=1,
                              overrides={"municipality.scale": 0.2, **start})
    assert not exp.warnings
    res = kyojosim.load(kyojosim.sweep(exp, out=tmp_path / "kpi", progress=False))
    # in the summary of every run, summarised from the run's tables
    assert list(res.summary.columns)[-1] == "help_hours" and res.summary["help_hours"].dtype == np.float64
    first = res.design.iloc[0]
    one = run_one("yamae", seed=int(first["seed"]), years=1, scale=0.2)
    assert res.summary["help_hours"].iloc[0] == pytest.approx(one.tables_["needs"]["hours"].sum())
    # compared by default, labelled and formatted by its kind, scaled to the whole municipality in the report
    table = compare(res, n_boot=50)
    row = table[table["metric"] == "help_hours"].iloc[0]
    assert row["n_pairs"] == 2 and row["diff"] == pytest.approx(row["variant_mean"] - row["baseline_mean"])
    assert metric_label("help_hours", "ja") == "支援時間の合計"
    assert metric_label("help_hours", "en") == "hours of help in all"
    line = next(x for x in format_comparison(table).splitlines() if " help_hours " in x)
    assert f"{row['baseline_mean']:,.0f}" in line and "%" not in line
    factor = scale_factors(res)
    assert factor.round(6).unique().tolist() == [pytest.approx(5.0)]
    assert whole_town("help_hours", 10.0, 5.0) == 50.0 and whole_town("matching_rate", 0.5, 5.0) == 0.5
    # a loaded run is summarised from its tables
    one.save(tmp_path / "one")
    assert load_run(tmp_path / "one").summary["help_hours"] == pytest.approx(one.summary["help_hours"])


# ---------------------------------------------------------------------------------------- tables added later


@pytest.fixture(scope="module")
def old_folders(tmp_path_factory):
    """A sweep and a run saved by this version (before the table of the next fixture exists)."""
    root = tmp_path_factory.mktemp("old")
    exp = variants_experiment(["yamae"], replicates=1, years=1, overrides={"municipality.scale": 0.1})
    sweep_dir = kyojosim.sweep(exp, out=root / "sweep", progress=False)
    run_dir = run_one("yamae", seed=1, years=1, scale=0.1).save(root / "run")
    return sweep_dir, run_dir


@pytest.fixture
def later_table():
    """A table added in the next results format: a run records it, a sweep keeps it."""
    table = Table("visits", {"step": "int64", "year": "int64", "visits": "int64"}, "weekly",
                  "home visits (an example of a table added later)", swept=True, since=FORMAT_VERSION + 1)
    TABLES[table.name] = table
    yield table
    del TABLES[table.name]


def test_folders_written_before_a_table_existed_still_load(old_folders, later_table):
    sweep_dir, run_dir = old_folders
    res = kyojosim.load(sweep_dir)
    assert list(res.visits.columns) == ["run_id", "step", "year", "visits"] and res.visits.empty
    assert len(res.summary) == 1 and not res.manifest.get("partial")
    run = load_run(run_dir)
    assert run.to_pandas("visits").empty and list(run.to_pandas("visits").columns) == ["step", "year", "visits"]
    # a new run records the table (declared in its DataCollector), empty until some code adds rows
    model = KyojoModel("yamae", seed=1, years=0, scale=0.05)
    assert "visits" in model.datacollector.tables and model.table("visits").empty


@pytest.mark.parametrize("name", [n for n in outcomes.experiment_tables() if n in TABLES and TABLES[n].since > 1])
def test_a_folder_of_an_older_format_lacks_the_later_tables(old_folders, tmp_path, name):
    import shutil

    sweep_dir, run_dir = old_folders
    folder = shutil.copytree(sweep_dir, tmp_path / "sweep")
    (folder / f"{name}.parquet").unlink()
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    older = {**manifest, "format_version": TABLES[name].since - 1}
    (folder / "manifest.json").write_text(json.dumps(older), encoding="utf-8")
    res = kyojosim.load(folder)
    assert getattr(res, name).empty and list(getattr(res, name).columns)[0] == "run_id"
    # the same folder claiming the current format is incomplete: its tables are gathered from the runs instead
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    assert kyojosim.load(folder).manifest.get("partial")


def test_a_table_made_from_columns_is_the_table_made_from_rows():
    """Columns given as lists are made with their dtypes at once: the same frame as rows converted after."""
    cols = outcomes.columns_of("aid_years")
    rows = [{c: (i if dtype == "int64" else 0.5 * i) for c, dtype in cols.items()} for i in range(3)]
    for row in rows:
        row["matching_rate_district_north"] = 0.25  # a per-district column: kept, after the declared ones
        row["stray"] = "x"  # not declared: dropped
    by_rows = outcomes.typed_frame("aid_years", rows)
    by_columns = outcomes.typed_frame("aid_years", {c: [r[c] for r in rows] for c in rows[0]})
    pd.testing.assert_frame_equal(by_columns, by_rows, check_exact=True)
    assert list(by_columns.columns)[-1] == "matching_rate_district_north" and "stray" not in by_columns
    money = {"step": [1, 2], "year": [2015, 2015], "channel": ["sharing_platform"] * 2, "category": ["chores"] * 2,
             "matches": [1, 2], "paid_matches": [1, 1], "hours": [1, 2], "paid_by_requesters": [500, 700],
             "subsidy": [0, 0], "received_by_helpers": [500, 700]}
    frame = outcomes.typed_frame("money", money)
    pd.testing.assert_frame_equal(frame, pd.DataFrame(money).astype(outcomes.columns_of("money")), check_exact=True)
    with pytest.raises(outcomes.OutcomeError, match="no column"):
        outcomes.typed_frame("money", {k: v for k, v in money.items() if k != "subsidy"})


def test_arrow_tables_of_a_run_have_the_bytes_of_its_frames():
    """A run's tables made as Arrow tables from the recorded columns write the Parquet bytes of its frames."""
    from kyojosim.atomic import parquet_bytes, table_bytes
    from kyojosim.runs.sweep import summary_frame, summary_row

    small_run = run_one("ikoma-all", seed=3, years=3, scale=0.05, keep_model=True, agents=False,
                        overrides={"interventions.sharing_platform.start_year": 2015,
                                   "interventions.local_sns.start_year": 2015})
    dc = small_run.model.datacollector
    assert len(small_run.tables_["money"]) and len(small_run.tables_["community_value"])  # every kind of row
    for name in outcomes.run_tables():
        arrow = outcomes.table_arrow(dc, name)
        assert arrow.equals(pa.Table.from_pandas(outcomes.table_frame(dc, name), preserve_index=False)), name
        assert table_bytes(arrow).equals(parquet_bytes(outcomes.table_frame(dc, name))), name
    rows = [summary_row(small_run, "a"), {**summary_row(small_run, "b"), "matching_rate": float("nan")}]
    assert table_bytes(outcomes.rows_arrow("summary", rows)).equals(parquet_bytes(summary_frame(rows)))
    with pytest.raises(OutcomeError, match="no column"):
        outcomes.rows_arrow("summary", [{"run_id": "a"}])


@st.composite
def recorded_tables(draw):
    """Columns of every run table as a model records them: random values, nan floats, missing or unusual texts."""
    texts = st.one_of(st.none(), st.text(max_size=6), st.sampled_from(["chores", "北部", ""]))
    floats = st.floats(allow_nan=True, allow_infinity=True, width=64)
    ints = st.integers(min_value=-(2**62), max_value=2**62)
    tables = {}
    for name in outcomes.run_tables():
        n = draw(st.integers(min_value=0, max_value=4))
        cols = outcomes.columns_of(name, ["北部", "south"])
        if name == "steps":
            cols.pop("step")
        tables[name] = {c: draw(st.lists({"int64": ints, "float64": floats, "str": texts}[dtype], min_size=n,
                                         max_size=n)) for c, dtype in cols.items()}
    return tables


@given(tables=recorded_tables())
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_arrow_tables_are_the_frames_converted(tables):
    """Whatever the values, a recorded table made as an Arrow table is its frame as pyarrow converts it."""
    from kyojosim.atomic import parquet_bytes, table_bytes

    dc = SimpleNamespace(model_vars=tables.pop("steps"), tables=tables)
    for name in outcomes.run_tables():
        frame = outcomes.table_frame(dc, name)
        arrow = outcomes.table_arrow(dc, name)
        assert arrow.equals(pa.Table.from_pandas(frame, preserve_index=False)), name
        assert arrow.schema.equals(pa.Schema.from_pandas(frame, preserve_index=False), check_metadata=True), name
        assert table_bytes(arrow).equals(parquet_bytes(frame)), name
    rows = [{c: v[i] for c, v in tables["aid_years"].items()} for i in range(len(tables["aid_years"]["year"]))]
    if rows:
        assert table_bytes(outcomes.rows_arrow("aid_years", rows)).equals(
            parquet_bytes(outcomes.typed_frame("aid_years", rows)))
