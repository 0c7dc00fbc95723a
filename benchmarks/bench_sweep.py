"""Benchmark of experiment sweeps: kyojosim.sweep against mesa.batch_run, and parallel efficiency.

(a) The same design -- one scenario, two variants (reporting hub off/on), R replicate seeds, the
    same years and scale -- run by ``mesa.batch_run(KyojoModel, ..., data_collection_period=1,
    number_processes=J)`` (every weekly DataCollector row returned as a dict) and by
    ``kyojosim.sweep(..., jobs=J)`` (every run's weekly series and four more tables written to
    Parquet, then consolidated). Each side runs in a fresh subprocess; the parent samples, every
    50 ms, the memory of that subprocess and all its descendants with psutil (RSS summed, and PSS
    summed: shared pages split among the processes that share them, so a forked pool is not counted
    twice). Figures: wall time, runs/s, resident-steps/s (residents present summed over weekly
    steps, from the steps table), peak tree PSS and RSS.
(b) Parallel efficiency of the sweep on runs of a few seconds: T(1 job) / (2 * T(2 jobs)).

    .venv/bin/python benchmarks/bench_sweep.py                      # both parts, default sizes
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


def experiment(scenario: str, years: int, scale: float, replicates: int, seed: int) -> dict[str, Any]:
    return {
        "name": "bench-sweep", "seed": seed, "replicates": replicates, "years": years, "scale": scale,
        "scenarios": [scenario],
        "variants": {"baseline": {}, "hub": {"interventions": {"reporting_hub": {"start": 2015}}}},
    }


# --------------------------------------------------------------------------------------
# the two sides (run in a child process: `bench_sweep.py --side batch_run|sweep ...`)
# --------------------------------------------------------------------------------------


def side_batch_run(args: argparse.Namespace) -> dict[str, Any]:
    import multiprocessing as mp

    import kyojosim
    from kyojosim import KyojoModel

    if args.start_method:
        mp.set_start_method(args.start_method, force=True)
    import mesa

    exp = kyojosim.load_experiment(experiment(args.scenario, args.years, args.scale, args.replicates, args.seed))
    n_steps = max(r.resolved.simulation.years for r in exp.runs) * 53
    params = {"scenario": args.scenario, "years": args.years, "scale": args.scale, "seed": list(exp.seeds),
              "interventions__reporting_hub__enabled": [False, True],
              "interventions__reporting_hub__start_year": 2015}
    t0 = time.perf_counter()
    rows = mesa.batch_run(KyojoModel, parameters=params, number_processes=args.jobs, iterations=1,
                          data_collection_period=1, max_steps=n_steps, display_progress=False)
    wall = time.perf_counter() - t0
    # counted from the list of dicts as returned (no DataFrame built, so as not to add to batch_run's peak)
    return {"wall_s": wall, "runs": len({r["RunId"] for r in rows}),
            "resident_steps": int(sum(r["population"] for r in rows)), "rows": len(rows),
            "start_method": mp.get_start_method()}


def side_sweep(args: argparse.Namespace) -> dict[str, Any]:
    import kyojosim

    spec = experiment(args.scenario, args.years, args.scale, args.replicates, args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        out = kyojosim.sweep(spec, out=Path(tmp) / "res", jobs=args.jobs, progress=False)
        wall = time.perf_counter() - t0
        import pyarrow.parquet as pq

        steps = pq.read_table(out / "steps.parquet", columns=["run_id", "population"])
        res = {"wall_s": wall, "runs": len(set(steps.column("run_id").to_pylist())),
               "resident_steps": int(sum(steps.column("population").to_pylist())), "rows": steps.num_rows}
    return res


def measure(side: str, args: argparse.Namespace) -> dict[str, Any]:
    """Run one side in a child process; sample the memory of its process tree."""
    import psutil

    cmd = [sys.executable, str(HERE), "--side", side, "--scenario", args.scenario, "--years", str(args.years),
           "--scale", str(args.scale), "--replicates", str(args.replicates), "--jobs", str(args.jobs),
           "--seed", str(args.seed)]
    if args.start_method:
        cmd += ["--start-method", args.start_method]
    with tempfile.TemporaryDirectory() as tmp:
        out_file = Path(tmp) / "side.json"
        proc = subprocess.Popen([*cmd, "--side-out", str(out_file)])
        parent = psutil.Process(proc.pid)
        peak_rss = peak_pss = 0
        while proc.poll() is None:
            rss = pss = 0
            try:
                procs = [parent, *parent.children(recursive=True)]
            except psutil.NoSuchProcess:
                break
            for p in procs:
                try:
                    info = p.memory_full_info()
                except (psutil.NoSuchProcess, psutil.AccessDenied):
                    continue
                rss += info.rss
                pss += getattr(info, "pss", info.rss)
            peak_rss, peak_pss = max(peak_rss, rss), max(peak_pss, pss)
            time.sleep(0.05)
        if proc.wait() != 0:
            raise SystemExit(f"{side} failed (exit {proc.returncode})")
        res = json.loads(out_file.read_text(encoding="utf-8"))
    res.update({"peak_tree_rss_mb": peak_rss / 2**20, "peak_tree_pss_mb": peak_pss / 2**20,
                "runs_per_s": res["runs"] / res["wall_s"],
                "resident_steps_per_s": res["resident_steps"] / res["wall_s"]})
    return res


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
    parser.add_argument("--scenario", default="yamae")
    parser.add_argument("--years", type=int, default=10)
    parser.add_argument("--scale", type=float, default=0.5)
    parser.add_argument("--replicates", type=int, default=8, help="replicate seeds per variant (2 variants)")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=1, help="alternating trials of each side (medians shown)")
    parser.add_argument("--start-method", choices=("fork", "spawn", "forkserver"), default=None,
                        help="multiprocessing start method for batch_run's Pool (default: what `import kyojosim` "
                        "leaves, the platform default, fork on Linux)")
    parser.add_argument("--eff-scenario", default="ikoma")
    parser.add_argument("--eff-years", type=int, default=10)
    parser.add_argument("--eff-scale", type=float, default=None)
    parser.add_argument("--eff-runs", type=int, default=12)
    parser.add_argument("--skip", choices=("a", "b"), action="append", default=[])
    parser.add_argument("--json", metavar="PATH", help="also write the figures as JSON")
    parser.add_argument("--side", choices=("batch_run", "sweep"), help=argparse.SUPPRESS)
    parser.add_argument("--side-out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.side:
        res = side_batch_run(args) if args.side == "batch_run" else side_sweep(args)
        Path(args.side_out).write_text(json.dumps(res), encoding="utf-8")
        return res

    result: dict[str, Any] = {"args": {k: v for k, v in vars(args).items() if not k.startswith("side")}}
    if "a" not in args.skip:
        runs = 2 * args.replicates
        print(f"(a) {runs} runs of {args.scenario} (scale {args.scale:g}, {args.years} years; 2 variants x "
              f"{args.replicates} seeds), {args.jobs} processes, every weekly row collected")
        trials: dict[str, list[dict[str, Any]]] = {"batch_run": [], "sweep": []}
        for _ in range(args.repeat):  # alternate the sides, so that a change in the machine's load hits both
            for side in ("batch_run", "sweep"):
                trials[side].append(measure(side, args))
        b, s = (_median(trials[side]) for side in ("batch_run", "sweep"))
        result["batch_run"], result["sweep"], result["trials"] = b, s, trials
        if args.repeat > 1:
            walls = {side: ", ".join(f"{t['wall_s']:.1f}" for t in trials[side]) for side in trials}
            print(f"medians of {args.repeat} alternating trials; wall times: batch_run {walls['batch_run']} s, "
                  f"sweep {walls['sweep']} s")
        print(f"{'':22}{'mesa.batch_run':>16}{'kyojosim.sweep':>16}{'ratio':>8}")
        for key, label, fmt in (("wall_s", "wall time (s)", "{:.2f}"), ("runs_per_s", "runs / s", "{:.3f}"),
                                ("resident_steps_per_s", "resident-steps / s", "{:,.0f}"),
                                ("peak_tree_pss_mb", "peak tree PSS (MB)", "{:.0f}"),
                                ("peak_tree_rss_mb", "peak tree RSS (MB)", "{:.0f}")):
            ratio = s[key] / b[key] if b[key] else float("nan")
            print(f"{label:22}{fmt.format(b[key]):>16}{fmt.format(s[key]):>16}{ratio:>8.2f}")
        print(f"weekly rows: batch_run {int(b['rows'])}, sweep {int(s['rows'])} (plus years, つながり力, age structure "
              f"and money tables on disk); batch_run start method: {b['start_method']}")
        result["throughput_ratio"] = s["resident_steps_per_s"] / b["resident_steps_per_s"]
        result["memory_ratio"] = s["peak_tree_pss_mb"] / b["peak_tree_pss_mb"]
        print(f"sweep throughput / batch_run: {result['throughput_ratio']:.2f} (target >= 2); "
              f"peak memory (PSS) sweep / batch_run: {result['memory_ratio']:.2f} (target <= 0.25)")
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
