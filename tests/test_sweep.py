"""Sweeps: parallel runs identical to serial ones, failures recorded, resume after a kill, dask, load."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml

import kyojosim
from kyojosim.constants import CATEGORIES, PARTICIPATION_GROUPS, REQUESTER_AGE_GROUPS
from kyojosim.measures.outcomes import experiment_tables
from kyojosim.runs import results as results_module
from kyojosim.runs.store import StoreError
from kyojosim.runs.sweep import SweepError

SMALL = {
    "name": "small",
    "seed": 5,
    "replicates": 2,
    "years": 1,
    "scale": 0.2,
    "scenarios": ["yamae"],
    "variants": {"baseline": {}, "hub": {"interventions": {"reporting_hub": {"start": 2015}}}},
    "design": {"type": "list", "points": [{"helping.weekly_hours_free": 5.0}]},
}
KILL = {  # more and longer runs, so that a kill lands in the middle
    "name": "kill",
    "seed": 9,
    "replicates": 3,
    "years": 2,
    "scale": 0.25,
    "scenarios": ["yamae"],
    "variants": {"baseline": {}, "hub": {"interventions": {"reporting_hub": {"start": 2015}}},
                 "sns": {"interventions": {"local_sns": {"start": 2015}}}},
}
DATA_TABLES = [t for t in experiment_tables() if t != "design"]


def write_experiment(folder: Path, data: dict) -> Path:
    path = folder / f"{data['name']}.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def assert_same_results(a: Path, b: Path) -> None:
    """The consolidated tables are byte-identical; design is identical but for the timings."""
    for name in DATA_TABLES:
        assert (a / f"{name}.parquet").read_bytes() == (b / f"{name}.parquet").read_bytes(), name
    da = pd.read_parquet(a / "design.parquet").drop(columns="seconds")
    db = pd.read_parquet(b / "design.parquet").drop(columns="seconds")
    pd.testing.assert_frame_equal(da, db)


@pytest.fixture(scope="module")
def serial(tmp_path_factory) -> Path:
    """The small experiment swept in-process with one job (the reference)."""
    return kyojosim.sweep(SMALL, out=tmp_path_factory.mktemp("serial") / "res", jobs=1, progress=False)


def test_load_gives_the_contract_tables(serial):
    res = kyojosim.load(serial)
    assert isinstance(res, kyojosim.ExperimentResults)
    assert res.variants == ["baseline", "hub"] and res.baseline == "baseline"
    d = res.design
    assert list(d.columns) == ["run_id", "scenario", "variant", "point", "replicate", "seed", "status", "error",
                               "seconds", "intervention_start", "helping.weekly_hours_free"]
    assert len(d) == 4 and (d["status"] == "done").all() and (d["error"] == "").all()
    assert d["intervention_start"].dtype == "Int64"
    assert d["intervention_start"].isna().tolist() == [True, True, False, False]
    assert d.loc[d["variant"] == "hub", "intervention_start"].tolist() == [2015, 2015]
    assert d["seed"].tolist()[:2] == d["seed"].tolist()[2:] and d["seed"].iloc[0] != d["seed"].iloc[1]
    expected = ["run_id", "matching_rate", *(f"matching_rate_{c}" for c in CATEGORIES),
                *(f"matching_rate_age_{g}" for g in REQUESTER_AGE_GROUPS), "needs_arisen", "needs_matched",
                "needs_lapsed",
                "tsunagari_mean", *(f"tsunagari_{g}" for g in PARTICIPATION_GROUPS), "paid_by_requesters", "subsidy",
                "received_by_helpers", "population_start", "population_end", "share_65plus_end", "scale"]
    assert list(res.summary.columns) == expected and res.summary["run_id"].tolist() == d["run_id"].tolist()
    assert (res.summary["scale"] == 0.2).all()
    for name in ("steps", "years", "tsunagari", "age_structure", "money", "community_value"):
        df = getattr(res, name)
        assert df.columns[0] == "run_id", name
    assert set(res.steps["run_id"]) == set(d["run_id"])
    assert {"step", "year", "population", "matching_rate", "matched_offline"} <= set(res.steps.columns)
    assert {"step", "group_type", "group", "n", "mean", "q10", "q90"} <= set(res.tsunagari.columns)
    assert {"year", "sex", "age_band", "count", "count_scaled"} <= set(res.age_structure.columns)
    m = res.manifest
    for key in ("experiment", "hash", "name", "seed", "replicates", "baseline", "design", "versions", "created",
                "timings", "failures", "runs"):
        assert key in m, key
    assert m["runs"] == {"done": 4, "failed": 0, "pending": 0} and m["design"]["type"] == "list"
    merged = res.table("summary")
    assert list(merged.columns[:7]) == ["run_id", "scenario", "variant", "point", "replicate", "seed",
                                        "intervention_start"]
    assert len(merged) == 4 and len(res.table("steps")) == len(res.steps)


def test_summary_row_matches_the_run(serial):
    res = kyojosim.load(serial)
    first = res.design.iloc[0]
    one = kyojosim.run("yamae", years=1, scale=0.2, seed=int(first["seed"]), helping__weekly_hours_free=5.0)
    needs = one.to_pandas("needs")
    row = res.summary.iloc[0]
    assert row["needs_matched"] == needs["matched"].sum() and row["needs_arisen"] == needs["arisen"].sum()
    assert row["matching_rate"] == pytest.approx(needs["matched"].sum() / (needs[["matched", "lapsed"]].sum().sum()))
    pd.testing.assert_frame_equal(res.steps[res.steps["run_id"] == first["run_id"]].drop(columns="run_id")
                                  .reset_index(drop=True), one.to_pandas("steps"))


def test_two_jobs_give_identical_tables(serial, tmp_path):
    out = kyojosim.sweep(SMALL, out=tmp_path / "res", jobs=2, progress=False)
    assert_same_results(serial, out)


def test_dask_backend_gives_identical_tables(serial, tmp_path):
    from dask.distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                      host="127.0.0.1") as cluster:
        out = kyojosim.sweep(SMALL, out=tmp_path / "res", jobs=2, backend="dask", scheduler=cluster.scheduler_address,
                             progress=False)
    assert_same_results(serial, out)
    assert kyojosim.load(out).manifest["timings"]["backend"] == "dask"


def test_a_failing_run_is_recorded_and_resume_reruns_only_it(serial, tmp_path, monkeypatch):
    real_run = results_module.run_one
    calls = []
    first_seed = kyojosim.load_experiment(SMALL).seeds[0]
    boom = []

    def flaky(scenario, **kw):  # the hub's replicate 0 fails the first time it runs, whatever the order of the runs
        calls.append(scenario.simulation.seed)
        if scenario.interventions.reporting_hub.enabled and scenario.simulation.seed == first_seed and not boom:
            boom.append(1)
            raise RuntimeError("boom in the model")
        return real_run(scenario, **kw)

    monkeypatch.setattr(results_module, "run_one", flaky)
    out = kyojosim.sweep(SMALL, out=tmp_path / "res", jobs=1, progress=False)
    res = kyojosim.load(out)
    assert res.design["status"].tolist() == ["done", "done", "failed", "done"]
    assert "RuntimeError: boom in the model" in res.design["error"].iloc[2]
    status = json.loads((out / "runs" / res.design["run_id"].iloc[2] / "status.json").read_text())
    assert status["status"] == "failed" and "Traceback" in status["traceback"]
    assert res.manifest["failures"] == [{"run_id": "yamae-hub-p0-r0", "error": "RuntimeError: boom in the model"}]
    assert res.manifest["runs"] == {"done": 3, "failed": 1, "pending": 0}
    assert len(res.summary) == 3 and "yamae-hub-p0-r0" not in set(res.steps["run_id"])
    # resume: only the failed run runs again, and the tables then equal an uninterrupted sweep's
    calls.clear()
    kyojosim.sweep(SMALL, out=out, jobs=1, progress=False)
    assert len(calls) == 1
    assert kyojosim.load(out).manifest["timings"]["runs_executed"] == 1
    assert_same_results(serial, out)
    calls.clear()
    kyojosim.sweep(SMALL, out=out, jobs=1, progress=False)
    assert calls == []
    assert_same_results(serial, out)


def test_another_experiment_is_refused_unless_restart(serial, tmp_path):
    out = tmp_path / "res"
    kyojosim.sweep({**SMALL, "seed": 6}, out=out, progress=False)
    with pytest.raises(SweepError, match="different experiment.*--restart"):
        kyojosim.sweep(SMALL, out=out, progress=False)
    kyojosim.sweep(SMALL, out=out, progress=False, restart=True)
    assert_same_results(serial, out)
    stranger = tmp_path / "stranger"
    stranger.mkdir()
    (stranger / "notes.txt").write_text("mine")
    with pytest.raises(SweepError, match="not a sweep results folder"):
        kyojosim.sweep(SMALL, out=stranger, progress=False)
    assert sorted(p.name for p in stranger.iterdir()) == ["notes.txt"]


def test_more_replicates_extend_the_folder_and_fewer_keep_it(serial, tmp_path, monkeypatch):
    """Replicates added later get new seeds, the others keep theirs and are not run again; nothing is dropped."""
    out = tmp_path / "res"
    kyojosim.sweep({**SMALL, "replicates": 1}, out=out, progress=False)
    first = kyojosim.load(out)
    calls = []
    real = results_module.run_one
    monkeypatch.setattr(results_module, "run_one",
                        lambda scn, **kw: calls.append(scn.simulation.seed) or real(scn, **kw))
    kyojosim.sweep(SMALL, out=out, progress=False)  # 2 replicates: the folder is this experiment's, extended
    assert len(calls) == 2  # replicate 1 of both variants, and nothing else
    assert_same_results(serial, out)
    res = kyojosim.load(out)
    assert res.manifest["replicates"] == 2
    assert res.design.loc[res.design["replicate"] == 0, "seed"].tolist() == first.design["seed"].tolist()
    assert set(calls) == set(res.design.loc[res.design["replicate"] == 1, "seed"])
    # asking for fewer replicates again keeps the folder's two (nothing is lost) and runs nothing
    calls.clear()
    kyojosim.sweep({**SMALL, "replicates": 1}, out=out, progress=False)
    assert calls == [] and kyojosim.load(out).manifest["replicates"] == 2
    assert_same_results(serial, out)
    # the count can be asked for directly
    kyojosim.sweep({**SMALL, "replicates": 1}, out=out, progress=False, replicates=3)
    assert len(calls) == 2 and kyojosim.load(out).manifest["runs"]["done"] == 6


def test_load_errors_and_partial_folders(serial, tmp_path):
    with pytest.raises(StoreError, match="not an experiment results folder"):
        kyojosim.load(tmp_path)
    with pytest.raises(StoreError, match="no such results folder"):
        kyojosim.load(tmp_path / "missing")
    one = kyojosim.run("yamae", years=0, scale=0.1, out=tmp_path / "single")
    with pytest.raises(StoreError, match="single run"):
        kyojosim.load(one.path)
    # a sweep that stopped half-way: no manifest, one run missing
    import shutil

    part = tmp_path / "part"
    shutil.copytree(serial, part)
    (part / "manifest.json").unlink()
    shutil.rmtree(part / "runs" / "yamae-hub-p0-r1")
    res = kyojosim.load(part)
    assert res.manifest["runs"] == {"done": 3, "failed": 0, "pending": 1} and not res.complete
    assert res.design["status"].tolist() == ["done", "done", "done", "pending"]
    full = kyojosim.load(serial)
    pd.testing.assert_frame_equal(res.summary, full.summary.iloc[:3])
    pd.testing.assert_frame_equal(res.steps, full.steps[full.steps["run_id"] != "yamae-hub-p0-r1"])


def _done(out: Path) -> int:
    return sum(1 for f in out.glob("runs/*/status.json") if '"done"' in f.read_text(encoding="utf-8"))


def test_sigkill_then_resume_equals_an_uninterrupted_sweep(tmp_path):
    path = write_experiment(tmp_path, KILL)
    total = len(kyojosim.load_experiment(path).runs)
    reference = kyojosim.sweep(path, out=tmp_path / "reference", jobs=1, progress=False)
    out = tmp_path / "killed"
    cmd = [sys.executable, "-m", "kyojosim", "sweep", str(path), "--jobs", "2", "--out", str(out), "--quiet"]
    proc = subprocess.Popen(cmd, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    try:
        while _done(out) < 1 and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    done_at_kill = _done(out)
    assert 1 <= done_at_kill < total, done_at_kill
    assert not (out / "manifest.json").exists()
    partial = kyojosim.load(out)
    assert partial.manifest["runs"]["done"] == done_at_kill
    rerun = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert rerun.returncode == 0, rerun.stderr
    res = kyojosim.load(out)
    assert res.manifest["timings"]["runs_executed"] == total - done_at_kill
    assert res.design["run_id"].is_unique and (res.design["status"] == "done").all() and len(res.design) == total
    assert_same_results(reference, out)
    assert not list(out.rglob("*.tmp"))


def test_ctrl_c_exits_130_with_how_to_resume(tmp_path):
    path = write_experiment(tmp_path, KILL)
    out = tmp_path / "res"
    cmd = [sys.executable, "-m", "kyojosim", "sweep", str(path), "--jobs", "2", "--out", str(out), "--quiet"]
    proc = subprocess.Popen(cmd, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while _done(out) < 1 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    os.killpg(proc.pid, signal.SIGINT)  # as Ctrl-C in a terminal: to the sweep and its workers
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "run the same command again to resume" in err and "Traceback" not in err
    assert 1 <= _done(out) < len(kyojosim.load_experiment(path).runs)
    assert kyojosim.load(out).manifest["runs"]["pending"] >= 1


def test_a_worker_keeps_no_finished_model_alive(tmp_path):
    import gc

    import mesa

    from kyojosim.model import KyojoModel
    from kyojosim.params.scenario import load_scenario
    from kyojosim.runs.sweep import run_in_folder

    def models():
        gc.collect()
        return sum(isinstance(o, KyojoModel) for o in gc.get_objects()), sum(isinstance(k, KyojoModel)
                                                                            for k in mesa.Agent._ids)

    scn = load_scenario("yamae", {"simulation.years": 1, "municipality.scale": 0.1})
    before = models()  # models that other tests keep (fixtures) stay as they are
    for i in range(2):
        status = run_in_folder(f"r{i}", scn.replace(**{"simulation.seed": i + 1}), str(tmp_path / f"r{i}"))
        assert status["status"] == "done"
    assert models() == before


def test_a_worker_freezes_its_imports_before_its_first_run_and_what_that_run_loaded_after_it(tmp_path, monkeypatch):
    """In a worker: ``gc.freeze`` before the first run and after its collection, never again; no model is frozen.

    Each run's model is collected, not frozen (a weak reference to it is dead once its run is done). In the main
    process (``jobs=1``) nothing is frozen.
    """
    import gc
    import weakref

    from kyojosim.model import KyojoModel
    from kyojosim.params.scenario import load_scenario
    from kyojosim.runs import sweep as sweep_module

    freezes: list[str] = []
    real_freeze = gc.freeze
    monkeypatch.setattr(gc, "freeze", lambda: (freezes.append("freeze"), real_freeze())[1])
    built: list[weakref.ref] = []
    real_init = KyojoModel.__init__

    def init(self, *args, **kwargs):
        built.append(weakref.ref(self))
        real_init(self, *args, **kwargs)

    monkeypatch.setattr(KyojoModel, "__init__", init)
    scn = load_scenario("yamae", {"simulation.years": 1, "municipality.scale": 0.05})
    for worker, want in ((False, [0, 0, 0]), (True, [2, 0, 0])):
        monkeypatch.setattr(sweep_module, "in_worker", lambda worker=worker: worker)
        monkeypatch.setattr(sweep_module, "_FROZEN", False)
        monkeypatch.setattr(sweep_module, "_FROZEN_AFTER_RUN", False)
        freezes.clear()
        counts = []
        for i in range(3):
            before = len(freezes)
            status = sweep_module.run_in_folder(f"{worker}{i}", scn.replace(**{"simulation.seed": i + 1}),
                                                str(tmp_path / f"{worker}{i}"))
            assert status["status"] == "done"
            assert built[-1]() is None  # the run's model was collected, not frozen
            counts.append(len(freezes) - before)
        assert counts == want  # a worker: twice in its first run (before it and after its collection), then never


def test_keep_pace_gathers_until_nothing_is_left_or_the_budget_is_spent(monkeypatch):
    """After each run: pieces of the gathering until none is left, or the budget is spent (a piece is not cut)."""
    from kyojosim.runs import sweep as sweep_module

    clock = [0.0]
    monkeypatch.setattr(sweep_module.time, "perf_counter", lambda: clock[0])

    class Pieces:
        def __init__(self, left: int, seconds: float) -> None:
            self.left, self.seconds, self.done = left, seconds, 0

        def step(self) -> bool:
            if not self.left:
                return False
            self.left -= 1
            self.done += 1
            clock[0] += self.seconds
            return True

    few = Pieces(3, 0.001)
    sweep_module.keep_pace(few, budget=0.02)
    assert few.done == 3 and few.left == 0  # all there was, within the budget
    many = Pieces(100, 0.006)
    sweep_module.keep_pace(many, budget=0.02)
    assert many.done == 4  # 6, 12, 18 ms: within; the 4th ends at 24 ms, past it: no 5th
    slow = Pieces(5, 0.5)
    sweep_module.keep_pace(slow, budget=0.02)
    assert slow.done == 1  # one piece, not cut
    assert sweep_module.PACE_SECONDS == 0.05


def test_a_sweep_with_forked_workers_leaves_no_process_or_thread(tmp_path, local_workers):
    """Forked workers stop with their sweep (runs and consolidation), and no progress bar means no bar's thread."""
    import threading

    psutil = pytest.importorskip("psutil")
    exp = {"name": "tidy", "seed": 2, "replicates": 2, "years": 1, "scale": 0.05, "scenarios": ["yamae"],
           "variants": {"baseline": {}}}
    threads = set(threading.enumerate())  # threads of earlier tests may end meanwhile; only new ones count
    out = kyojosim.sweep(exp, out=tmp_path / "res", jobs=2, progress=False)
    assert kyojosim.load(out).manifest["runs"]["done"] == 2
    if local_workers == "forked":
        started = [t for t in threading.enumerate() if t not in threads]
        assert not started, [t.name for t in started]
        left = [p for p in psutil.Process().children() if p.status() != psutil.STATUS_ZOMBIE
                and not any("resource_tracker" in part for part in p.cmdline())]  # loky's helper, not a worker
        assert not left, [p.cmdline() for p in left]


def test_the_longest_runs_are_handed_out_first():
    from kyojosim.runs.sweep import execution_order, predicted_cost

    exp = kyojosim.load_experiment({"name": "sizes", "seed": 1, "replicates": 2, "years": 2,
                                    "scenarios": ["yamae", "ikoma"], "variants": {"baseline": {}},
                                    "overrides": {"municipality.scale": 0.1}})
    order = execution_order(list(exp.runs))
    assert sorted(r.run_id for r in order) == sorted(r.run_id for r in exp.runs)
    costs = [predicted_cost(r) for r in order]
    assert costs == sorted(costs, reverse=True) and costs[0] > costs[-1]  # ikoma (118k residents) before yamae
    same = [r.run_id for r in order if r.scenario == order[0].scenario]
    assert same == [r.run_id for r in exp.runs if r.scenario == order[0].scenario]  # ties in the experiment's order


def test_runs_with_more_channels_running_longer_are_handed_out_first():
    from kyojosim.runs.sweep import execution_order, predicted_cost

    exp = kyojosim.load_experiment({"name": "channels", "seed": 1, "replicates": 2, "years": 4, "scale": 0.1,
                                    "scenarios": ["yamae"],
                                    "variants": {"baseline": {}, "late": {"interventions": {"local_sns": 2018}},
                                                 "hub": {"interventions": {"reporting_hub": 2015}},
                                                 "all": {"interventions": {"local_sns": 2015, "reporting_hub": 2015,
                                                                           "sharing_platform": 2016}}}})
    order = [r.run_id for r in execution_order(list(exp.runs))]
    assert order == [f"yamae-{v}-p0-r{k}" for v in ("all", "hub", "late", "baseline") for k in (0, 1)]
    cost = {r.variant: predicted_cost(r) for r in exp.runs}
    # the SNS runs one of the four years (2018): a quarter of its weight
    assert cost["late"] == pytest.approx(cost["baseline"] * 1.0625)


def test_each_status_of_local_workers_is_flushed_by_the_sweep(tmp_path, monkeypatch):
    from kyojosim.runs import sweep as sweep_module

    flushed = []
    real = sweep_module.sync_file
    monkeypatch.setattr(sweep_module, "sync_file", lambda path: flushed.append(Path(path)) or real(path))
    manifests = []  # the statuses flushed when the manifest is written (the last one beside the tables)
    real_json = sweep_module.write_json
    monkeypatch.setattr(sweep_module, "write_json", lambda path, obj, **kw: (
        manifests.append(list(flushed)) if Path(path).name == "manifest.json" else None) or real_json(path, obj, **kw))
    exp = {"name": "flush", "seed": 2, "replicates": 2, "years": 1, "scale": 0.05, "scenarios": ["yamae"],
           "variants": {"baseline": {}}}
    out = kyojosim.sweep(exp, out=tmp_path / "res", jobs=2, progress=False)
    assert sorted(flushed) == sorted((out / "runs").glob("*/status.json")) and len(flushed) == 2
    assert manifests == [flushed]


def test_a_sweep_with_runs_to_do_has_the_kernels_compiled_ahead_first(serial, tmp_path, monkeypatch):
    """Before its workers start, a sweep asks for the kernels compiled ahead (kyojosim.runs.kernels), once."""
    import kyojosim.runs.sweep as sweep_module

    asked = []
    monkeypatch.setattr(sweep_module, "compile_ahead", lambda notify=None: asked.append(notify) or "cached")
    out = kyojosim.sweep(SMALL, out=tmp_path / "res", jobs=1, progress=False)
    assert asked == [None]  # asked once, with nothing to show (no progress)
    assert_same_results(serial, out)
    kyojosim.sweep(SMALL, out=out, jobs=1, progress=False)
    assert asked == [None]  # nothing left to run: not asked again
