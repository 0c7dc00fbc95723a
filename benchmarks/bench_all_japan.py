"""All of Japan in one sweep: every municipality at a small scale on this machine, and full scale projected.

(a) **The sweep** (``--skip a`` leaves it out). The bundled experiment ``all-japan`` (or ``--experiment``):
    every municipality of Japan built from the census and IPSS tables in the runs' workers (and cached),
    each variant run for its years, with ``--jobs`` loky workers (the same ``kyojosim sweep``), into
    ``--out`` (kept: the sweep resumes, and ``kyojosim compare`` reads it). ``--sample N`` sweeps N
    municipalities drawn at random instead (the figures then say so). It prints the wall time, the time
    spent building scenarios and running models (sums over runs), the sweep's overhead
    ``jobs x wall / (build + model) - 1``, the simulated resident-steps per second of model time, and the
    slowest runs.
(b) **Full scale projected** (``--skip b`` leaves it out). For municipalities of about ``--sizes``
    residents (the one of the projected municipalities closest to each size), built at full scale
    (scale 1; the migration fit left out, as it does not change a step's cost) and run for ``--tp-years``
    years in every variant of the experiment, it measures the model time per weekly step; a line
    ``seconds per step = a + b x residents`` is fitted per variant (least squares). Summed over every
    municipality (its census 2015 population, the steps of the experiment's years) and variant, that
    gives the CPU time of the experiment at full scale; with the time of ``kyojosim new`` at full scale
    (measured at the same sizes, migration fit included, also fitted by a line) it gives the time on N
    Dask workers: ``max(total / N, the longest single task)``.

    .venv/bin/python benchmarks/bench_all_japan.py --jobs 2                       # both parts (an hour or more)
    .venv/bin/python benchmarks/bench_all_japan.py --sample 40 --jobs 2 --skip b  # a sample of 40
    .venv/bin/python benchmarks/bench_all_japan.py --skip a --sizes 3000 30000 120000 --tp-years 10
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.optimize import nnls

WEEKS_PER_YEAR = 365.25 / 7
WORKERS = (1, 2, 8, 32, 128, 512, 1741)


def sampled_spec(experiment: str, sample: int | None, seed: int, scale: float | None,
                 years: int | None) -> dict[str, Any]:
    """Return the experiment as a mapping, with ``sample`` municipalities drawn at random (or all)."""
    import yaml

    from kyojosim.params.experiment import find_experiment

    data = yaml.safe_load(find_experiment(experiment).read_text(encoding="utf-8"))
    if scale is not None:
        data["scale"] = scale
    if years is not None:
        data["years"] = years
    if sample:
        from kyojosim import load_experiment

        everyone = sorted(load_experiment(data).municipalities.values())
        rng = np.random.default_rng(seed)
        codes = sorted(rng.choice(everyone, size=min(sample, len(everyone)), replace=False).tolist())
        sel = dict(data.get("municipalities") or {})
        data["municipalities"] = {**{k: v for k, v in sel.items() if k in ("fukushima", "min_residents")},
                                  "codes": codes}
        data["name"] = f"{data.get('name', experiment)}-sample{len(codes)}"
    return data


def sweep_part(args: argparse.Namespace) -> dict[str, Any]:
    """Part (a): sweep the experiment; gather the timings of every run."""
    import pyarrow.parquet as pq

    import kyojosim

    spec = sampled_spec(args.experiment, args.sample, args.seed, args.scale, args.years)
    exp = kyojosim.load_experiment(spec)
    out = Path(args.out or f"results/bench-{exp.name}")
    n_places = len(exp.municipalities)
    print(f"(a) {exp.name}: {n_places:,} municipalities x {len(exp.variants)} variants x {exp.replicates} "
          f"replicate(s) = {len(exp.runs):,} runs of {spec.get('years')} years at scale {spec.get('scale')} "
          f"(at least {(spec.get('municipalities') or {}).get('min_residents', 500)} simulated residents each), "
          f"{args.jobs} jobs, into {out}", flush=True)
    t0 = time.perf_counter()
    kyojosim.sweep(exp, out=out, jobs=args.jobs, progress=not args.quiet)
    wall = time.perf_counter() - t0
    statuses = [json.loads(f.read_text(encoding="utf-8")) for f in sorted((out / "runs").glob("*/status.json"))]
    st = pd.DataFrame(statuses)
    res = kyojosim.load(out)
    steps = pq.read_table(out / "steps.parquet", columns=["run_id", "population"]).to_pandas()
    per_run = steps.groupby("run_id")["population"].sum()
    summary = res.table("summary").set_index("run_id")
    first = steps.groupby("run_id")["population"].first()
    done = st[st["status"] == "done"].set_index("run_id")
    model_s, build_s, task_s = (float(done[c].sum()) for c in ("model_seconds", "build_seconds", "seconds"))
    resident_steps = float(per_run.reindex(done.index).sum())
    jobs = args.jobs if args.jobs > 0 else (os.cpu_count() or 1)
    executed = int(res.manifest["timings"].get("runs_executed", len(done)))
    figures = {
        "experiment": exp.name, "municipalities": n_places, "runs": len(exp.runs), "done": int(len(done)),
        "failed": int((st["status"] == "failed").sum()), "runs_executed": executed, "jobs": jobs,
        "wall_s": wall, "build_s": build_s, "model_s": model_s, "task_s": task_s,
        "scenarios_built": int((done["build_seconds"] > 0).sum()),
        "simulated_start": int(first.reindex(done.index).sum()),
        "resident_steps": resident_steps, "resident_steps_per_model_s": resident_steps / model_s if model_s else 0.0,
        "overhead": jobs * wall / (model_s + build_s) - 1.0 if executed == len(done) and model_s else float("nan"),
        "consolidate_s": float(res.manifest["timings"].get("consolidate_seconds", 0.0)),
    }
    print(f"    wall time {wall:,.0f} s ({wall / 60:.1f} min); {figures['done']:,} runs done, {figures['failed']} "
          f"failed; {figures['scenarios_built']:,} scenarios built in the workers")
    built = max(figures["scenarios_built"], 1)
    print(f"    sums over runs: building scenarios {build_s:,.0f} s (mean {build_s / built:.2f} s each)"
          f", models {model_s:,.0f} s (mean {model_s / max(len(done), 1):.2f} s a run), tasks {task_s:,.0f} s")
    print(f"    simulated residents at the start, summed over runs: {figures['simulated_start']:,}; "
          f"{resident_steps:,.0f} resident-steps, {figures['resident_steps_per_model_s']:,.0f} per second of model "
          "time")
    if np.isfinite(figures["overhead"]):
        print(f"    sweep overhead: {jobs} x wall / (building + models) - 1 = {100 * figures['overhead']:.1f}% "
              f"(of which consolidation {figures['consolidate_s']:.0f} s)")
    else:
        print("    (a resumed sweep: its wall time covers only the runs it ran; no overhead figure)")
    slow = done.assign(scale=summary["scale"]).sort_values("model_seconds", ascending=False).head(5)
    print("    slowest runs: " + "; ".join(f"{rid} {r.model_seconds:.1f} s" for rid, r in slow.iterrows()))
    if args.sample:
        everyone = 1741 - 4
        k = everyone / n_places
        print(f"    a sample of {n_places}: all {everyone:,} municipalities would take about {k * wall / 60:.0f} min "
              f"on these {jobs} jobs (the sample's wall time x {k:.1f})")
    return figures


# --------------------------------------------------------------------------------------
# part (b): throughput at full scale, and the projection
# --------------------------------------------------------------------------------------


def pick(sizes: list[int]) -> list[str]:
    """Return, for each size, the projected municipality whose census 2015 population is closest."""
    from kyojosim import municipalities

    m = municipalities()
    m = m[m["ipss"] & (m["population"] > 0)]
    return [str(m.iloc[int(np.argmin(np.abs(m["population"].to_numpy() - s)))]["code"]) for s in sizes]


def throughput_part(args: argparse.Namespace) -> dict[str, Any]:
    """Part (b): seconds per weekly step against residents, per variant; builds at full scale; the projection."""
    import kyojosim
    from kyojosim.params.scenario import load_scenario
    from kyojosim.runs import builder
    from kyojosim.runs.results import run_one

    spec = sampled_spec(args.experiment, None, args.seed, None, None)
    exp = kyojosim.load_experiment(spec)
    years = int(spec.get("years") or 10)
    variants = {v: dict(exp.runs[i].recipe.variant) for i, v in
                ((next(i for i, r in enumerate(exp.runs) if r.variant == v), v) for v in exp.variants)}
    codes = pick(args.sizes)
    run_one("yamae", years=1, scale=0.05)  # warm up: the first run of a process compiles or loads the kernels
    rows = []
    builds = []
    print(f"(b) full scale: {len(codes)} municipalities, {args.tp_years} years in each of {len(variants)} variants",
          flush=True)
    for code in codes:
        rec = kyojosim.lookup(code)
        t0 = time.perf_counter()
        built = builder.build(code, scale=1.0, progress=False, fit=rec.ipss and not args.no_fit_timing)
        build_s = time.perf_counter() - t0
        builds.append({"code": code, "name": rec.name, "population": rec.population, "build_s": build_s})
        base = load_scenario(built.data, {"simulation.years": args.tp_years})
        for vname, over in variants.items():
            res = run_one(base.replace(**over) if over else base)
            steps = res.tables_["steps"]
            n_steps = len(steps) - 1
            model_s = float(res.manifest["elapsed_s"])
            rows.append({"code": code, "name": rec.name, "population": rec.population, "variant": vname,
                         "steps": n_steps, "mean_residents": float(steps["population"].mean()), "model_s": model_s,
                         "s_per_step": model_s / n_steps,
                         "ns_per_resident_step": 1e9 * model_s / float(steps["population"].iloc[1:].sum())})
            r = rows[-1]
            print(f"    {rec.name} ({rec.population:,}), {vname}: {model_s:.1f} s, {1000 * r['s_per_step']:.1f} ms a "
                  f"week, {r['ns_per_resident_step']:.0f} ns per resident-step", flush=True)
        print(f"    {rec.name}: kyojosim new at full scale {build_s:.1f} s"
              + ("" if rec.ipss and not args.no_fit_timing else " (no fit)"), flush=True)
    tp = pd.DataFrame(rows)
    bt = pd.DataFrame(builds)
    # lines: seconds per step = a + b n (per variant); build seconds = c + d n
    lines = {}
    for vname in variants:
        mine = tp[tp["variant"] == vname]
        lines[vname] = fit_line(mine["mean_residents"].to_numpy(float), mine["s_per_step"].to_numpy(float))
    c, d = fit_line(bt["population"].to_numpy(float), bt["build_s"].to_numpy(float))
    m = kyojosim.municipalities()
    m = m[m["population"] > 0]
    pop = m["population"].to_numpy(dtype=float)
    largest = m.iloc[int(np.argmax(pop))]
    weeks = years * WEEKS_PER_YEAR
    per_variant = {v: float(np.sum(weeks * (a + b * pop))) for v, (a, b) in lines.items()}
    model_total = float(sum(per_variant.values()))
    build_total = float(np.sum(c + d * pop))
    longest = max(weeks * (a + b * pop.max()) for a, b in lines.values()) + c + d * pop.max()
    print("    fitted: seconds per weekly step = a + b x residents: "
          + "; ".join(f"{v}: a = {1000 * a:.2f} ms, b = {1e9 * b:.0f} ns" for v, (a, b) in lines.items()))
    print(f"    kyojosim new at full scale: {c:.1f} s + {1e6 * d:.1f} s per million residents")
    print(f"    all {len(pop):,} municipalities at full scale ({pop.sum():,.0f} residents), {years} years: models "
          f"{model_total / 3600:,.0f} CPU-hours ({', '.join(f'{v} {s / 3600:,.0f}' for v, s in per_variant.items())}), "
          f"building {build_total / 3600:,.1f} CPU-hours; the longest task ({largest['name']}, "
          f"{pop.max() / 1e6:.1f} million, building and the slowest variant) {longest / 3600:.1f} h")
    projection = []
    for n in WORKERS:
        hours = max((model_total + build_total) / n, longest) / 3600
        projection.append({"workers": n, "hours": hours})
    print("    on N Dask workers (one core each, as fast as this machine's, no waiting for memory): "
          + "; ".join(f"{p['workers']:,}: {p['hours']:,.1f} h" for p in projection))
    return {"throughput": rows, "builds": builds, "lines": {v: {"a_s": a, "b_s": b} for v, (a, b) in lines.items()},
            "build_line": {"c_s": c, "d_s": d}, "model_cpu_s": model_total, "build_cpu_s": build_total,
            "longest_task_s": longest, "projection": projection, "years": years}


def fit_line(n: np.ndarray, seconds: np.ndarray) -> tuple[float, float]:
    """Fits seconds = a + b n with a, b >= 0 (non-negative least squares).

    Timings of a few sizes on a loaded machine can make an ordinary fit's slope negative, which
    would project a negative time for the large municipalities; a cost that cannot fall with size
    is fitted instead. With one size the whole time is per resident.

    Returns:
        ``(a, b)``: seconds per step (or per build) and seconds per resident.
    """
    if len(n) < 2 or np.ptp(n) == 0:
        return 0.0, float(np.mean(seconds / n))
    (a, b), _ = nnls(np.column_stack([np.ones_like(n), n]), seconds)
    return float(a), float(b)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--experiment", default="all-japan", help="an experiment with municipalities: (all-japan)")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--sample", type=int, default=None, help="sweep N municipalities drawn at random instead")
    parser.add_argument("--seed", type=int, default=1, help="seed of the sample")
    parser.add_argument("--scale", type=float, default=None, help="replace the experiment's scale")
    parser.add_argument("--years", type=int, default=None, help="replace the experiment's years")
    parser.add_argument("--out", help="results folder of the sweep (default results/bench-<experiment>)")
    parser.add_argument("--sizes", type=int, nargs="+", default=[3000, 30000, 120000],
                        help="residents of the municipalities of part (b)")
    parser.add_argument("--tp-years", type=int, default=10, help="years of the runs of part (b)")
    parser.add_argument("--no-fit-timing", action="store_true", help="part (b): build without the migration fit")
    parser.add_argument("--skip", choices=("a", "b"), action="append", default=[])
    parser.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    parser.add_argument("--json", metavar="PATH", help="also write the figures as JSON")
    args = parser.parse_args(argv)
    result: dict[str, Any] = {"args": vars(args)}
    if "a" not in args.skip:
        result["sweep"] = sweep_part(args)
    if "b" not in args.skip:
        result["full_scale"] = throughput_part(args)
    load = os.getloadavg()
    result["loadavg"] = load
    print(f"load average at the end: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} ({os.cpu_count()} cores)")
    if args.json:
        from kyojosim.atomic import write_json

        write_json(args.json, result)
    return result


if __name__ == "__main__":
    main()
