"""The one executor of parallel runs (kyojosim.runs.executor.map_runs) and the one run function (results.run_one)."""

from __future__ import annotations

import gc
import os

import pandas as pd
import pytest

from kyojosim.model import KyojoModel
from kyojosim.runs.executor import ExecutorError, map_runs
from kyojosim.runs.results import run_one


def _square_and_pid(x: int) -> tuple[int, int]:
    return x * x, os.getpid()


def test_one_job_runs_in_this_process_in_order():
    out = list(map_runs(_square_and_pid, range(5)))
    assert out == [(x * x, os.getpid()) for x in range(5)]
    assert list(map_runs(_square_and_pid, [])) == []


_PARENT: dict[str, int] = {}
"""Set by the test in its own process: a worker forked from it sees the value, a worker started afresh does not."""


def _inherited(x: int) -> tuple[int, int | None, int]:
    return x, _PARENT.get("pid"), os.getpid()


def test_two_local_workers_give_every_result_ordered_or_as_they_finish(local_workers):
    ordered = list(map_runs(_square_and_pid, range(6), jobs=2, ordered=True))
    assert [r for r, _ in ordered] == [x * x for x in range(6)]
    assert os.getpid() not in {pid for _, pid in ordered}
    unordered = list(map_runs(_square_and_pid, range(6), jobs=2))
    assert sorted(r for r, _ in unordered) == [x * x for x in range(6)]


def test_forked_workers_hold_what_this_process_held(local_workers):
    _PARENT["pid"] = os.getpid()
    try:
        out = list(map_runs(_inherited, range(4), jobs=2, ordered=True))
    finally:
        _PARENT.clear()
    assert [x for x, _, _ in out] == [0, 1, 2, 3]
    assert os.getpid() not in {pid for _, _, pid in out} and len({pid for _, _, pid in out}) <= 2
    # forked workers hold what this process held (its imports, its state); loky's start afresh
    assert {seen for _, seen, _ in out} == ({os.getpid()} if local_workers == "forked" else {None})


def test_workers_are_forked_only_without_other_threads():
    import sys
    import threading

    from kyojosim.runs.executor import can_fork

    alone = threading.active_count() == 1  # a thread of an earlier test may still run
    assert can_fork() == (alone and sys.platform.startswith("linux"))
    stop = threading.Event()
    other = threading.Thread(target=stop.wait, daemon=True)
    other.start()
    try:
        assert not can_fork()
    finally:
        stop.set()
        other.join()
    assert can_fork() == (alone and sys.platform.startswith("linux"))


@pytest.mark.parametrize(("kw", "message"), [({"backend": "spark"}, "unknown backend"),
                                             ({"jobs": 0}, "--jobs"), ({"jobs": True}, "--jobs"),
                                             ({"scheduler": "tcp://127.0.0.1:8786"}, "only with --backend dask")])
def test_bad_options_are_refused_before_anything_runs(kw, message):
    with pytest.raises(ExecutorError, match=message):
        map_runs(_square_and_pid, range(3), **kw)


def test_run_one_releases_the_model_unless_kept():
    def live_models() -> int:
        gc.collect()
        return sum(isinstance(o, KyojoModel) for o in gc.get_objects())

    before = live_models()
    res = run_one("yamae", seed=2, years=1, scale=0.05, observe=lambda m: int(m.population.size))
    assert res.model is None and live_models() == before
    start, end = res.observed
    assert start == res.tables_["years"]["population"].iloc[0] and end == res.tables_["years"]["population"].iloc[-1]
    kept = run_one("yamae", seed=2, years=1, scale=0.05, keep_model=True)
    assert kept.model is not None and not kept.model.running and kept.model.steps == kept.manifest["steps"]
    assert kept.summary == res.summary  # the same run, summarised while the model was at hand either way
    kept.model.release()
    del kept
    assert live_models() == before

    def fail(model):
        raise RuntimeError("observer failed")

    with pytest.raises(RuntimeError, match="observer failed"):
        run_one("yamae", seed=2, years=0, scale=0.05, observe=fail)
    assert live_models() == before  # a failing run is released too


def test_run_one_for_the_summary_only_makes_the_same_summary_and_each_table_when_read(tmp_path):
    """``summary_only``: the summary's four tables made now, the others when read by name, each the same frame."""
    import math

    from kyojosim.measures.outcomes import run_tables
    from kyojosim.runs.results import ResultsError, TablesOnDemand

    full = run_one("yamae", seed=3, years=1, scale=0.05, keep_model=True)
    part = run_one("yamae", seed=3, years=1, scale=0.05, keep_model=True, summary_only=True)
    try:
        assert isinstance(part.tables_, TablesOnDemand)
        assert sorted(part.tables_) == ["money", "needs", "tsunagari", "years"]  # what the summary read
        assert list(part.summary) == list(full.summary)
        for key, value in full.summary.items():
            other = part.summary[key]
            assert other == value or (isinstance(value, float) and math.isnan(value) and math.isnan(other)), key
        for name in run_tables():
            pd.testing.assert_frame_equal(part.tables_[name], full.tables_[name])
        assert sorted(part.tables_) == sorted(run_tables())
        with pytest.raises(KeyError):
            part.tables_["no such table"]
        assert part.manifest["scenario"] is None and part.manifest["scenario_digest"] is None
        assert full.manifest["scenario_digest"] == part.scenario.digest()
        with pytest.raises(ResultsError, match="summary only"):
            part.save(tmp_path / "out")
        assert not (tmp_path / "out").exists()
    finally:
        full.model.release()
        part.model.release()
    with pytest.raises(ValueError, match="keep_model"):
        run_one("yamae", seed=3, years=0, scale=0.05, summary_only=True)


def _sleep_and_start(x: float) -> tuple[float, float]:
    import time

    start = time.time()
    time.sleep(x)
    return x, start


def test_workers_get_their_next_items_before_a_result_is_handed_out(local_workers):
    import time

    got = []
    for _, start in map_runs(_sleep_and_start, [0.05, 0.05, 0.05, 0.05], jobs=2):
        got.append((time.time(), start))
        if len(got) == 1:
            time.sleep(1.0)  # the caller is busy with the first result: the workers are not kept waiting
    handed = got[0][0]
    assert sorted(start for _, start in got)[2] < handed + 0.9


def test_idle_work_is_done_while_a_worker_has_nothing_to_run(local_workers):
    calls = []

    def idle() -> bool:
        calls.append(1)
        return len(calls) < 5

    out = list(map_runs(_sleep_and_start, [0.3, 0.01], jobs=2, idle=idle))
    assert sorted(x for x, _ in out) == [0.01, 0.3]
    assert len(calls) >= 5  # once the short item is done, a worker is free while the long one runs
    calls.clear()
    assert [x for x, _ in map_runs(_sleep_and_start, [0.01, 0.02], idle=idle)] == [0.01, 0.02]
    assert not calls  # one job: the items run in this process, nothing runs beside them


@pytest.mark.parametrize("local_workers", ["forked"], indirect=True)
def test_forked_workers_end_once_the_last_result_is_taken(local_workers):
    """With nothing left to run, the workers end while the caller still works on the last result."""
    import threading
    import time

    import psutil

    threads = set(threading.enumerate())
    results = map_runs(_square_and_pid, range(4), jobs=2)
    taken = [next(results) for _ in range(4)]  # every result, the iteration not finished: the caller works on
    pids = {pid for _, pid in taken}
    assert sorted(r for r, _ in taken) == [0, 1, 4, 9] and os.getpid() not in pids

    def alive() -> set[int]:
        out = set()
        for pid in pids:
            try:
                if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                    out.add(pid)
            except psutil.NoSuchProcess:
                pass
        return out

    deadline = time.monotonic() + 60
    while alive() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive()  # they ended without the iteration going on
    assert list(results) == []  # the end of the iteration waits for them: nothing of the pool is left
    assert not [t for t in threading.enumerate() if t not in threads and t.is_alive()]
