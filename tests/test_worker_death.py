"""A worker process that dies (SIGKILL) does not stop the other runs: lost runs are retried, a bounded number."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from pathlib import Path

import pytest
import yaml

import kyojosim
from kyojosim.cli import main
from kyojosim.runs.executor import ExecutorError, map_runs

psutil = pytest.importorskip("psutil")

SMALL = {"name": "deaths", "seed": 3, "replicates": 3, "years": 1, "scale": 0.2, "scenarios": ["yamae"],
         "variants": {"baseline": {}, "hub": {"interventions": {"reporting_hub": {"start": 2015}}}}}


def _die_once(arg: tuple[int, str, tuple[int, ...]]) -> int:
    """Square x; the first time a victim runs, its worker process kills itself (a marker file says it did)."""
    x, marker_dir, victims = arg
    if x in victims:
        marker = Path(marker_dir) / f"{x}.died"
        if not marker.exists():
            marker.touch()
            os.kill(os.getpid(), signal.SIGKILL)
    time.sleep(0.05)
    return x * x


def _always_die(arg: tuple[int, int]) -> int:
    x, victim = arg
    if x == victim:
        os.kill(os.getpid(), signal.SIGKILL)
    time.sleep(0.05)
    return x * x


@pytest.mark.parametrize("ordered", [False, True])
def test_a_worker_killed_once_loses_nothing(tmp_path, ordered, local_workers):
    retried = []
    items = [(x, str(tmp_path), (3,)) for x in range(6)]
    out = list(map_runs(_die_once, items, jobs=2, ordered=ordered, retries=2,
                        on_retry=lambda item, attempt, reason: retried.append((item[0], attempt, reason))))
    squares = [x * x for x in range(6)]
    assert (out if ordered else sorted(out)) == squares
    assert 3 in {x for x, _, _ in retried}  # the victim, and perhaps the run that shared the pool with it
    assert all(attempt == 2 and "SIGKILL" in reason for _, attempt, reason in retried)
    assert len(retried) <= 2  # at most the two runs in the pool when it broke


def test_a_run_that_always_kills_its_worker_is_lost_after_bounded_retries(local_workers):
    lost, retried = [], []
    out = list(map_runs(_always_die, [(x, 2) for x in range(5)], jobs=2, retries=2,
                        lost=lambda item, reason: lost.append((item[0], reason)) or -1,
                        on_retry=lambda item, attempt, reason: retried.append((item[0], attempt))))
    assert sorted(out) == [-1, *sorted(x * x for x in range(5) if x != 2)]
    (victim, reason), = lost
    assert victim == 2 and "SIGKILL" in reason and "3 time(s)" in reason
    assert [a for x, a in retried if x == 2] == [2, 3]  # alone after the first loss: the others are not charged
    assert all(a == 2 for x, a in retried if x != 2)
    with pytest.raises(ExecutorError, match="worker process died"):
        list(map_runs(_always_die, [(x, 1) for x in range(3)], jobs=2, retries=0))


def local_workers_of_this_process() -> list:
    """loky's workers (named on their command line) and workers forked from this process (its command line)."""
    me = psutil.Process()
    found = []
    for p in me.children(recursive=True):
        try:
            cmd = p.cmdline()
        except psutil.Error:
            continue
        if any("LokyProcess" in part for part in cmd) or (p.ppid() == me.pid and cmd == me.cmdline()):
            found.append(p)
    return found


def kill_a_busy_worker(runs_dir: Path, killed: list[int], stop: threading.Event, timeout: float = 120.0) -> None:
    """Once runs have started, SIGKILL the local worker that uses the most CPU (one that is running a model).

    Gives up when ``stop`` is set (the sweep has returned), so that it never outlives its test.
    """
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout and not stop.is_set():
        if runs_dir.is_dir() and any(runs_dir.iterdir()):
            workers = local_workers_of_this_process()
            if workers:
                before = {p.pid: sum(p.cpu_times()[:2]) for p in workers}
                time.sleep(0.3)
                busy = []
                for p in workers:
                    try:
                        busy.append((sum(p.cpu_times()[:2]) - before[p.pid], p))
                    except psutil.Error:
                        continue
                used, victim = max(busy, key=lambda b: b[0], default=(0.0, None))
                if victim is not None and used > 0.05:
                    victim.send_signal(signal.SIGKILL)
                    killed.append(victim.pid)
                    return
        time.sleep(0.05)


# runs of a few years, so that the killer finds a worker busy with a model however fast the model gets
LONGER = {**SMALL, "years": 4}


@pytest.fixture(scope="module")
def undisturbed(tmp_path_factory) -> Path:
    """The longer experiment swept serially in this process, undisturbed (the reference of both kinds of worker)."""
    folder = tmp_path_factory.mktemp("undisturbed")
    path = folder / "deaths.yaml"
    path.write_text(yaml.safe_dump(LONGER), encoding="utf-8")
    return kyojosim.sweep(path, out=folder / "serial", progress=False)


def test_sigkill_of_one_worker_does_not_abort_the_sweep(tmp_path, capsys, local_workers, undisturbed):
    path = tmp_path / "deaths.yaml"
    path.write_text(yaml.safe_dump(LONGER), encoding="utf-8")
    out = tmp_path / "par"
    killed: list[int] = []
    stop = threading.Event()
    killer = threading.Thread(target=kill_a_busy_worker, args=(out / "runs", killed, stop), daemon=True)
    killer.start()
    code = main(["sweep", str(path), "--jobs", "2", "--out", str(out)])
    stop.set()
    killer.join(5)
    stdout, stderr = capsys.readouterr()
    assert code == 0, stderr
    assert killed, "no worker was killed"
    assert "Traceback" not in stderr and "TerminatedWorkerError" not in stderr
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["runs"] == {"done": 6, "failed": 0, "pending": 0}
    retried = manifest["recovered"]["retried"]
    assert 1 <= len(retried) <= 2 and all(r["attempts"] == 2 and "SIGKILL" in r["reason"] for r in retried)
    assert "run(s) were run again after their worker process died" in stdout
    # the runs run again give what an undisturbed serial sweep gives
    for name in ("summary", "years"):
        assert (out / f"{name}.parquet").read_bytes() == (undisturbed / f"{name}.parquet").read_bytes(), name

