"""Benchmark of experiment sweeps: the sweep's overhead over the runs' own model time, and parallel efficiency.

(a) **Overhead.** One scenario, two variants (reporting hub off/on), R replicate seeds (default 50: 100
    runs), swept by ``kyojosim.sweep(..., jobs=J)`` in a fresh child process. Every run's status records
    ``model_seconds`` (building the model and running it to the end: what ``kyojosim.run`` costs) and
    ``seconds`` (the whole task in its worker). The overhead is what the sweep adds to the models::

        overhead = J x wall / sum(model_seconds) - 1        (target <= 5%)

    split into the part in the workers, ``sum(seconds - model_seconds)`` (the run's tables, summary row,
    Parquet files written atomically and hashed), and the part outside them, ``J x wall - sum(seconds)``
    (starting the worker processes, handing out the runs, the last runs running while other workers wait,
    resolving the experiment, consolidating the tables). ``wall`` is the ``kyojosim.sweep`` call, after the
    imports. The part outside is itemised from the runs' statuses (each ends when its ``status.json`` is
    written, and began ``seconds`` before): the time before the first run starts, the workers' gaps
    between their runs (handing out), their idle time at the end while the last run goes on, and the time
    after the last run (consolidation); beside it, the CPU time of the sweep's own process. The idle time at
    the end is shown by worker: its runs, the time of its tasks and how long it waited for a core (the
    scheduler's run-queue time, Linux), as one worker ends first when its runs took less time or it was
    given more of the cores. The parent samples the memory of the child and all its descendants with psutil
    (RSS summed every 50 ms, and PSS summed, shared pages split among the processes that share them, every
    second, as reading it costs CPU on the same cores): the peaks are printed with the other figures, and the
    sampling's own CPU time.

    Why 100 runs by default: whatever the sweep costs, its workers do not end together. The last run
    goes on in one worker while the others have nothing left, on average about half a run (up to a whole
    one). Over 20 runs of about 1.2 s on two workers, that alone is 2.5 points of the overhead on average,
    and up to 5; over 100 runs it is about 0.5 (up to 1). So 20 runs measure mainly where the last run
    falls, and 100 runs, a sweep of ordinary size, measure what the sweep adds (``--replicates 10`` gives
    the 20 runs).
(b) **Parallel efficiency** of the sweep on runs of a few seconds: T(1 job) / (2 * T(2 jobs)), beside what
    the machine allows (the same run alone and two at once in independent processes).

    .venv/bin/python benchmarks/bench_sweep.py                      # both parts, default sizes
    .venv/bin/python benchmarks/bench_sweep.py --scale 0.2 --years 30 --replicates 50 --skip b
    .venv/bin/python benchmarks/bench_sweep.py --years 1 --replicates 1 --eff-runs 2 --eff-years 1
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve()
TARGET = 0.05
"""The sweep's overhead over the runs' own model time should stay at or below 5%."""


def experiment(scenario: str, years: int, scale: float, replicates: int, seed: int) -> dict[str, Any]:
    return {
        "name": "bench-sweep", "seed": seed, "replicates": replicates, "years": years, "scale": scale,
        "scenarios": [scenario],
        "variants": {"baseline": {}, "hub": {"interventions": {"reporting_hub": {"start": 2015}}}},
    }


# --------------------------------------------------------------------------------------
# the sweep, in a child process (`bench_sweep.py --side sweep ...`)
# --------------------------------------------------------------------------------------


def timeline(statuses: list[dict[str, Any]], wall: float) -> dict[str, Any]:
    """Itemise the time outside the runs from the statuses (``start`` and ``end`` from the sweep's call, in s).

    Besides the sums, one entry per worker process (``workers``): its runs, the time of its tasks and of their models,
    when its first run started and its last ended, its gaps between runs, and its idle time at the end (the last
    run of the sweep minus its last run's end): what makes one worker end before another.
    """
    by_worker: dict[int, list[dict[str, Any]]] = {}
    for st in statuses:
        by_worker.setdefault(int(st["pid"]), []).append(st)
    last = max((st["end"] for st in statuses), default=0.0)
    gaps = idle = 0.0
    workers = []
    for pid, runs in by_worker.items():
        runs.sort(key=lambda st: st["start"])
        gap = sum(max(b["start"] - a["end"], 0.0) for a, b in zip(runs, runs[1:]))
        gaps += gap
        idle += last - runs[-1]["end"]
        workers.append({"pid": pid, "runs": len(runs), "task_s": sum(float(st["seconds"]) for st in runs),
                        "model_s": sum(float(st.get("model_seconds") or 0.0) for st in runs),
                        "first_start_s": runs[0]["start"], "gaps_s": gap, "idle_end_s": last - runs[-1]["end"]})
    workers.sort(key=lambda w: -w["idle_end_s"])
    return {"first_start_s": min((st["start"] for st in statuses), default=0.0), "gaps_s": gaps, "tail_idle_s": idle,
            "after_last_s": wall - last, "workers": workers}


def side_sweep(args: argparse.Namespace) -> dict[str, Any]:
    import resource

    import kyojosim

    spec = experiment(args.scenario, args.years, args.scale, args.replicates, args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        cpu0 = resource.getrusage(resource.RUSAGE_SELF)
        w0 = time.time()
        t0 = time.perf_counter()
        out = kyojosim.sweep(spec, out=Path(tmp) / "res", jobs=args.jobs, progress=False)
        wall = time.perf_counter() - t0
        cpu1 = resource.getrusage(resource.RUSAGE_SELF)
        import pyarrow.parquet as pq

        statuses = []
        for f in sorted((out / "runs").glob("*/status.json")):
            st = json.loads(f.read_text(encoding="utf-8"))
            st["end"] = f.stat().st_mtime - w0  # the status is written last
            st["start"] = st["end"] - float(st["seconds"])
            statuses.append(st)
        steps = pq.read_table(out / "steps.parquet", columns=["run_id", "population"])
        manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
        res = {"wall_s": wall, "runs": len(statuses), "done": sum(s["status"] == "done" for s in statuses),
               "model_s": sum(float(s.get("model_seconds") or 0.0) for s in statuses),
               "task_s": sum(float(s["seconds"]) for s in statuses),
               "consolidate_s": float(manifest["timings"]["consolidate_seconds"]),
               "resident_steps": int(sum(steps.column("population").to_pylist())), "rows": steps.num_rows,
               "parent_cpu_s": (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime),
               **timeline(statuses, wall)}
    return res


SAMPLE_S = 0.05
"""The parent reads the memory (RSS) and the scheduler's counters of the sweep's processes this often."""
PSS_EVERY_S = 1.0
"""... and their PSS this often: reading it walks every page of a process (about 10 ms of CPU for the sweep's
processes), CPU taken from the cores the sweep runs on; read every 50 ms it took about a tenth of a core."""


def _schedstat(pid: int) -> tuple[float, float] | None:
    """Return a process's time on a core and its time waiting for one (run queue), in s (Linux; else ``None``)."""
    try:
        with open(f"/proc/{pid}/schedstat", encoding="ascii") as fh:
            on_cpu, waiting = fh.read().split()[:2]
    except (OSError, ValueError):
        return None
    return int(on_cpu) / 1e9, int(waiting) / 1e9


def measure(args: argparse.Namespace) -> dict[str, Any]:
    """Run the sweep in a child process; sample the memory of its process tree and its processes' waits for a core."""
    import resource

    import psutil

    cmd = [sys.executable, str(HERE), "--side", "sweep", "--scenario", args.scenario, "--years", str(args.years),
           "--scale", str(args.scale), "--replicates", str(args.replicates), "--jobs", str(args.jobs),
           "--seed", str(args.seed)]
    with tempfile.TemporaryDirectory() as tmp:
        out_file = Path(tmp) / "side.json"
        usage0 = resource.getrusage(resource.RUSAGE_SELF)
        proc = subprocess.Popen([*cmd, "--side-out", str(out_file)])
        parent = psutil.Process(proc.pid)
        peak_rss = peak_pss = 0
        procs: list[Any] = [parent]
        sched: dict[int, tuple[float, float]] = {}  # the last reading of each process
        listed = pss_read = -1e9
        while proc.poll() is None:
            now = time.perf_counter()
            if now - listed >= 0.5:  # the worker processes are started once (again only if one dies)
                try:
                    procs = [parent, *parent.children(recursive=True)]
                except psutil.NoSuchProcess:
                    break
                listed = now
            full = now - pss_read >= PSS_EVERY_S
            rss = pss = 0
            for p in procs:
                try:
                    if full:
                        info = p.memory_full_info()
                        pss += getattr(info, "pss", info.rss)
                    else:
                        info = p.memory_info()
                except (psutil.NoSuchProcess, psutil.AccessDenied):
                    continue
                rss += info.rss
                reading = _schedstat(p.pid)
                if reading is not None:
                    sched[p.pid] = reading
            peak_rss = max(peak_rss, rss)
            if full:
                peak_pss, pss_read = max(peak_pss, pss), now
            time.sleep(SAMPLE_S)
        usage1 = resource.getrusage(resource.RUSAGE_SELF)
        if proc.wait() != 0:
            raise SystemExit(f"the sweep failed (exit {proc.returncode})")
        res = json.loads(out_file.read_text(encoding="utf-8"))
    jobs = args.jobs if args.jobs > 0 else (os.cpu_count() or 1)
    worker_s = jobs * res["wall_s"]
    for w in res["workers"]:  # time on a core and waiting for one, as last read before the worker ended
        w["on_cpu_s"], w["waited_s"] = sched.get(w["pid"], (None, None))
    res.update({"jobs": jobs, "worker_s": worker_s, "peak_tree_rss_mb": peak_rss / 2**20,
                "peak_tree_pss_mb": peak_pss / 2**20,
                "sampler_cpu_s": (usage1.ru_utime - usage0.ru_utime) + (usage1.ru_stime - usage0.ru_stime),
                "overhead": worker_s / res["model_s"] - 1.0 if res["model_s"] else float("nan"),
                "overhead_in_workers": (res["task_s"] - res["model_s"]) / res["model_s"] if res["model_s"] else
                float("nan"),
                "overhead_outside": (worker_s - res["task_s"]) / res["model_s"] if res["model_s"] else float("nan"),
                "outside_model_per_run_s": (res["task_s"] - res["model_s"]) / max(res["runs"], 1),
                "runs_per_s": res["runs"] / res["wall_s"],
                "resident_steps_per_s": res["resident_steps"] / res["wall_s"]})
    return res


def worker_rows(s: dict[str, Any]) -> list[tuple[str, str]]:
    """A small table of the worker processes: why one ended before another (its runs, their time, its waits)."""
    rows = [("    by worker (first ended first)", "runs  tasks (their models)   first run   gaps     waited for a "
             "core   idle at the end")]
    for i, w in enumerate(s.get("workers", []), 1):
        waited = "n/a" if w.get("waited_s") is None else f"{w['waited_s']:.2f} s"
        tasks = f"{w['task_s']:.2f} s ({w['model_s']:.2f} s)"
        rows.append((f"      worker {i}", f"{w['runs']:<5} {tasks:<22} {w['first_start_s']:6.2f} s  "
                     f"{w['gaps_s']:5.2f} s   {waited:>8}            {w['idle_end_s']:5.2f} s"))
    return rows


def _median(trials: list[dict[str, Any]]) -> dict[str, Any]:
    import statistics

    out = dict(trials[0])
    for key, value in trials[0].items():
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            out[key] = statistics.median(t[key] for t in trials)
    return out


CEILING_CODE = """
import sys, time, kyojosim
from kyojosim.params.scenario import load_scenario
over = {"simulation.years": int(sys.argv[2]), "simulation.seed": 1}
if sys.argv[3] != "None":
    over["municipality.scale"] = float(sys.argv[3])
scn = load_scenario(sys.argv[1], over)
t0 = time.perf_counter()
kyojosim.run(scn)
print(time.perf_counter() - t0)
"""


def ceiling(args: argparse.Namespace) -> dict[str, float]:
    """What the machine allows: one run alone, then the same run in two independent processes at once."""
    cmd = [sys.executable, "-c", CEILING_CODE, args.eff_scenario, str(args.eff_years), str(args.eff_scale)]
    alone = float(subprocess.run(cmd, capture_output=True, text=True, check=True).stdout)
    procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True) for _ in range(2)]
    together = [float(p.communicate()[0]) for p in procs]
    mean = sum(together) / 2
    return {"alone_s": alone, "together_s": mean, "ceiling": alone / mean}


def efficiency(args: argparse.Namespace) -> dict[str, Any]:
    """Part (b): wall time of a sweep with 1 job (in process) and with 2 jobs (loky)."""
    import kyojosim

    spec = {"name": "bench-efficiency", "seed": args.seed, "replicates": args.eff_runs, "years": args.eff_years,
            "scenarios": [args.eff_scenario], "variants": {"baseline": {}}}
    if args.eff_scale is not None:
        spec["scale"] = args.eff_scale
    out: dict[str, Any] = {"runs": args.eff_runs}
    with tempfile.TemporaryDirectory() as tmp:
        for jobs in (1, 2):
            t0 = time.perf_counter()
            path = kyojosim.sweep(spec, out=Path(tmp) / f"j{jobs}", jobs=jobs, progress=False)
            out[f"t{jobs}_s"] = time.perf_counter() - t0
            out[f"run_seconds_mean_{jobs}"] = kyojosim.load(path).manifest["timings"]["run_seconds_mean"]
    out["run_seconds_mean"] = out["run_seconds_mean_1"]
    out["efficiency"] = out["t1_s"] / (2 * out["t2_s"])
    # the ideal T(2 jobs) if each run took as long as in the 2-job sweep: what is left is start-up and waiting
    out["overhead_2_s"] = out["t2_s"] - args.eff_runs * out["run_seconds_mean_2"] / 2
    return out


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    # default design: runs of a realistic length (a 20-year run of Ikoma at a tenth of its size, ~2 s);
    # shorter runs (e.g. --scenario yamae --scale 0.5 --years 10, ~0.6 s) show the per-run cost larger
    parser.add_argument("--scenario", default="ikoma")
    parser.add_argument("--years", type=int, default=20)
    parser.add_argument("--scale", type=float, default=0.1)
    parser.add_argument("--replicates", type=int, default=50,
                        help="replicate seeds per variant (2 variants; default 50: 100 runs)")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=1, help="trials of part (a) (medians shown)")
    parser.add_argument("--eff-scenario", default="ikoma")
    parser.add_argument("--eff-years", type=int, default=10)
    parser.add_argument("--eff-scale", type=float, default=None)
    parser.add_argument("--eff-runs", type=int, default=12)
    parser.add_argument("--skip", choices=("a", "b"), action="append", default=[])
    parser.add_argument("--json", metavar="PATH", help="also write the figures as JSON")
    parser.add_argument("--side", choices=("sweep",), help=argparse.SUPPRESS)
    parser.add_argument("--side-out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.side:
        res = side_sweep(args)
        Path(args.side_out).write_text(json.dumps(res), encoding="utf-8")
        return res

    result: dict[str, Any] = {"args": {k: v for k, v in vars(args).items() if not k.startswith("side")}}
    if "a" not in args.skip:
        runs = 2 * args.replicates
        print(f"(a) {runs} runs of {args.scenario} (scale {args.scale:g}, {args.years} years; 2 variants x "
              f"{args.replicates} seeds), {args.jobs} processes")
        trials = [measure(args) for _ in range(args.repeat)]
        s = _median(trials)
        result["sweep"], result["trials"] = s, trials
        if args.repeat > 1:
            print(f"medians of {args.repeat} trials; overheads: "
                  + ", ".join(f"{100 * t['overhead']:.1f}%" for t in trials))
        rows = (("wall time of the sweep", f"{s['wall_s']:.2f} s"),
                (f"x {s['jobs']} jobs: worker time available", f"{s['worker_s']:.2f} s"),
                ("runs' own model time (sum)", f"{s['model_s']:.2f} s ({s['model_s'] / s['runs']:.2f} s a run)"),
                ("runs' tasks in the workers (sum)", f"{s['task_s']:.2f} s"),
                ("overhead in the workers", f"{100 * s['overhead_in_workers']:.1f}% "
                 f"({s['outside_model_per_run_s'] * 1000:.0f} ms a run outside the model: tables, files)"),
                ("overhead outside the workers", f"{100 * s['overhead_outside']:.1f}% (start-up, hand-out, last "
                 f"runs, consolidation {s['consolidate_s']:.2f} s)"),
                ("  of it: first run started after", f"{s['first_start_s']:.2f} s (x {s['jobs']} workers)"),
                ("  the workers' gaps between runs", f"{s['gaps_s']:.2f} s (summed over the workers)"),
                ("  idle while the last runs end", f"{s['tail_idle_s']:.2f} s (summed over the workers)"),
                *worker_rows(s),
                ("  after the last run", f"{s['after_last_s']:.2f} s (x {s['jobs']} workers)"),
                ("the sweep's process: CPU time", f"{s['parent_cpu_s']:.2f} s (resolving, gathering the tables, "
                 "consolidation)"),
                ("sweep overhead over the model time", f"{100 * s['overhead']:.1f}% (target <= {100 * TARGET:.0f}%)"),
                ("runs / s", f"{s['runs_per_s']:.3f}"),
                ("resident-steps / s", f"{s['resident_steps_per_s']:,.0f}"),
                ("peak tree PSS / RSS", f"{s['peak_tree_pss_mb']:.0f} / {s['peak_tree_rss_mb']:.0f} MB"),
                ("the benchmark's own sampling: CPU", f"{s['sampler_cpu_s']:.2f} s (on the same cores; RSS every "
                 f"{SAMPLE_S:g} s, PSS every {PSS_EVERY_S:g} s)"))
        for label, value in rows:
            print(f"    {label:38}{value}")
        result["overhead"] = s["overhead"]
    if "b" not in args.skip:
        e = efficiency(args)
        c = ceiling(args)
        e["ceiling"] = c
        result["efficiency"] = e
        print(f"(b) {e['runs']} runs of {args.eff_scenario} ({args.eff_years} years, mean run "
              f"{e['run_seconds_mean']:.2f} s): T(1 job) {e['t1_s']:.2f} s, T(2 jobs) {e['t2_s']:.2f} s, "
              f"parallel efficiency T1/(2*T2) = {e['efficiency']:.0%} (target >= 85%)")
        print(f"    mean run with 2 jobs {e['run_seconds_mean_2']:.2f} s (vs {e['run_seconds_mean_1']:.2f} s alone: "
              f"the cores are shared); T(2 jobs) beyond the runs themselves (worker start-up, waiting): "
              f"{e['overhead_2_s']:.2f} s")
        print(f"    the machine's ceiling: the same run alone {c['alone_s']:.2f} s, two at once in independent "
              f"processes {c['together_s']:.2f} s each, so at most {c['ceiling']:.0%} efficiency for any runner")
    load = os.getloadavg()
    result["loadavg"] = load
    print(f"load average at the end: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} ({os.cpu_count()} cores)")
    if args.json:
        from kyojosim.atomic import write_json

        write_json(args.json, result)
    return result


if __name__ == "__main__":
    main()
