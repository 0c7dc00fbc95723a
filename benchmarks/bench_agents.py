"""Memory and time of a model with Mesa handles (agents=True, the default) and without (agents=False).

Each side runs in a fresh child process, so that peak memory is its own. Prints a small table (never
asserts); with ``--json PATH`` also writes the figures, atomically, as JSON.

    .venv/bin/python benchmarks/bench_agents.py --scenario ikoma --scale 0.1 --years 5

Figures per side: the bytes the model holds once built (tracemalloc, from just before the build to
just after it, with the garbage collected), the build time (untraced), the whole run's time and the
process's peak resident set size (ru_maxrss).
"""

from __future__ import annotations

import argparse
import gc
import json
import resource
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Sequence
from typing import Any

from kyojosim.atomic import write_json


def measure(scenario: str, scale: float, years: int, seed: int, agents: bool) -> dict[str, Any]:
    """Build and run one model in this process and return its figures."""
    from kyojosim.model import KyojoModel

    gc.collect()
    tracemalloc.start()
    before, _ = tracemalloc.get_traced_memory()
    model = KyojoModel(scenario, scale=scale, seed=seed, years=years, agents=agents)
    gc.collect()
    held, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    residents = model.population.n
    state = sum(model.memory_bytes().values())
    del model
    gc.collect()
    t0 = time.perf_counter()
    model = KyojoModel(scenario, scale=scale, seed=seed, years=years, agents=agents)
    build_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    while model.running:
        model.step()
    run_s = time.perf_counter() - t0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "agents": agents,
        "residents": residents,
        "held_bytes": held - before,
        "held_bytes_per_resident": (held - before) / max(residents, 1),
        "state_bytes_per_resident": state / max(residents, 1),
        "build_s": build_s,
        "run_s": run_s,
        "peak_rss_mb": (rss if sys.platform == "darwin" else rss * 1024) / 2**20,
        "yearly_timings_s": {k: round(v, 4) for k, v in model.timings.items()},
    }


def run_child(args: argparse.Namespace, agents: bool) -> dict[str, Any]:
    """Run :func:`measure` in a fresh Python process and return its figures."""
    cmd = [sys.executable, __file__, "--child", "--scenario", args.scenario, "--scale", str(args.scale),
           "--years", str(args.years), "--seed", str(args.seed)] + ([] if agents else ["--no-agents"])
    out = subprocess.run(cmd, check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def format_table(with_: dict[str, Any], without: dict[str, Any], head: str) -> str:
    """Return the two sides side by side."""
    rows = [
        ("residents", f"{with_['residents']:,}", f"{without['residents']:,}", ""),
        ("held after build", f"{with_['held_bytes'] / 2**20:,.1f} MB", f"{without['held_bytes'] / 2**20:,.1f} MB",
         f"{with_['held_bytes'] / max(without['held_bytes'], 1):.2f} x"),
        ("  per resident", f"{with_['held_bytes_per_resident']:,.0f} B", f"{without['held_bytes_per_resident']:,.0f} B",
         f"saves {(with_['held_bytes'] - without['held_bytes']) / max(with_['residents'], 1):,.0f} B"),
        ("state (columns+ties+index) / resident", f"{with_['state_bytes_per_resident']:,.0f} B",
         f"{without['state_bytes_per_resident']:,.0f} B", ""),
        ("build", f"{with_['build_s']:.2f} s", f"{without['build_s']:.2f} s", ""),
        ("run", f"{with_['run_s']:.1f} s", f"{without['run_s']:.1f} s", ""),
        ("peak RSS", f"{with_['peak_rss_mb']:,.0f} MB", f"{without['peak_rss_mb']:,.0f} MB", ""),
    ]
    w = [max(len(r[i]) for r in rows + [("", "agents=True", "agents=False", "")]) for i in range(4)]
    lines = [head, "-" * len(head), f"{'':<{w[0]}}  {'agents=True':>{w[1]}}  {'agents=False':>{w[2]}}"]
    lines += [f"{a:<{w[0]}}  {b:>{w[1]}}  {c:>{w[2]}}  {d}".rstrip() for a, b, c, d in rows]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> dict[str, Any] | None:
    """Run both sides (or, with ``--child``, one side in this process) and print the figures."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--scenario", default="ikoma", help="bundled scenario name or scenario file (default: ikoma)")
    p.add_argument("--scale", type=float, default=0.1, help="fraction of residents simulated (default: 0.1)")
    p.add_argument("--years", type=int, default=5, help="years to run (default: 5)")
    p.add_argument("--seed", type=int, default=1, help="seed (default: 1)")
    p.add_argument("--json", metavar="PATH", help="also write the figures as JSON to PATH (atomically)")
    p.add_argument("--no-agents", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.years < 0 or args.scale <= 0:
        p.error("--years must be at least 0 and --scale positive")
    if args.child:
        print(json.dumps(measure(args.scenario, args.scale, args.years, args.seed, not args.no_agents)))
        return None
    with_, without = run_child(args, True), run_child(args, False)
    head = f"kyojosim handles benchmark: {args.scenario} scale {args.scale:g}, {args.years} years, seed {args.seed}"
    print(format_table(with_, without, head), flush=True)
    result = {"scenario": args.scenario, "scale": args.scale, "years": args.years, "seed": args.seed,
              "agents": with_, "no_agents": without}
    if args.json:
        write_json(args.json, result)
        print(f"wrote {args.json}")
    return result


if __name__ == "__main__":
    main()
