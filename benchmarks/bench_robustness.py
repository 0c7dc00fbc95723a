"""Benchmark of a robustness pass: wall time per sample (all variants of an experiment), samples for a budget.

One robustness sample runs the baseline and every variant of the experiment at one point of the
assumption register (``kyojosim robustness``). The script runs ``--samples`` samples of the Ikoma
experiment (``ikoma-interventions``: baseline, platform, SNS, both; 20 years at scale 0.1) with
``--jobs`` workers into a temporary folder, then analyses them, and prints:

* wall time of the sweep of the samples, per sample and per run (and the mean CPU time of a run);
* time of the analysis (spread, RBD-FAST, PRIM) and of the figures;
* the largest sample count that fits ``--budget`` seconds of wall time on ``--jobs`` workers
  (``(budget - analysis - figures) / (wall per sample)``).

    .venv/bin/python benchmarks/bench_robustness.py                       # 4 samples, 2 jobs, 300 s budget
    .venv/bin/python benchmarks/bench_robustness.py --samples 2 --years 5 # quicker look
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--experiment", default="ikoma-interventions")
    parser.add_argument("--samples", type=int, default=4)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--years", type=int, default=None, help="override the experiment's years")
    parser.add_argument("--scale", type=float, default=None, help="override the experiment's scale (Ikoma: 0.1)")
    parser.add_argument("--budget", type=float, default=300.0, help="wall seconds for a small robustness pass")
    parser.add_argument("--json", metavar="PATH", help="also write the figures as JSON")
    args = parser.parse_args(argv)

    import kyojosim
    from kyojosim.analysis.robustness import analyse, experiment_mapping, robustness_experiment
    from kyojosim.present.robustness_figures import robustness_figures

    raw = experiment_mapping(args.experiment)
    if args.years is not None:
        raw["years"] = args.years
    if args.scale is not None:
        raw["scale"] = args.scale
    t0 = time.perf_counter()
    exp, chosen = robustness_experiment(raw, args.samples)
    resolve = time.perf_counter() - t0
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "rob"
        t0 = time.perf_counter()
        kyojosim.sweep(exp, out=out / "sweep", jobs=args.jobs, progress=False)
        wall = time.perf_counter() - t0
        res = kyojosim.load(out / "sweep")
        t0 = time.perf_counter()
        result = analyse(res, parameters=chosen)
        analysis = time.perf_counter() - t0
        t0 = time.perf_counter()
        robustness_figures(result, out, lang="ja")
        figures = time.perf_counter() - t0
        run_cpu = float(res.design["seconds"].mean())
    runs = len(exp.runs)
    per_sample = wall / args.samples
    fixed = resolve + analysis + figures
    fits = int(max(0.0, args.budget - fixed) // per_sample)
    figures_ = {
        "experiment": exp.name, "variants": len(exp.variants), "parameters": len(chosen), "samples": args.samples,
        "runs": runs, "jobs": args.jobs, "years": exp.runs[0].resolved.simulation.years,
        "scale": exp.runs[0].resolved.municipality.scale,
        "resolve_s": round(resolve, 2), "sweep_wall_s": round(wall, 2), "wall_per_sample_s": round(per_sample, 2),
        "wall_per_run_s": round(wall / runs, 2), "cpu_per_run_s": round(run_cpu, 2),
        "analysis_s": round(analysis, 2), "figures_s": round(figures, 2), "budget_s": args.budget,
        "samples_in_budget": fits,
    }
    width = max(map(len, figures_))
    for k, v in figures_.items():
        print(f"{k.ljust(width)}  {v}")
    if args.json:
        from kyojosim.atomic import write_text

        write_text(Path(args.json), json.dumps(figures_, indent=1))
    return figures_


if __name__ == "__main__":
    main()
