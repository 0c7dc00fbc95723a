"""Foundation benchmark: build time, memory per resident, weekly and yearly step times, throughput.

Prints a small table of figures (never asserts on timings); with ``--json PATH`` also writes them,
atomically, as JSON. See benchmarks/README.md for what each figure means and the targets.

    .venv/bin/python benchmarks/bench_foundation.py --scenario koto --scale 1.0 --years 20
    .venv/bin/python benchmarks/bench_foundation.py --scenario ikoma --scale 1.0 --years 20 --json results/bench.json
"""

from __future__ import annotations

import argparse
import gc
import platform
import resource
import statistics
import sys
import time
import tracemalloc
from collections.abc import Sequence
from typing import Any

import mesa
import numpy as np

import kyojosim
from kyojosim.agents import Resident
from kyojosim.atomic import write_json
from kyojosim.model import KyojoModel

TARGETS = {
    "build_s": 30.0,  # full-scale Koto (about 500k residents) builds in at most 30 s
    "plain_week_base_ms": 20.0,  # a weekly step of the population's own processes at most 20 ms
    "state_bytes_per_resident": 1024.0,  # columns + ties + index at most 1 KB per resident
    "run_s": 300.0,  # Koto at full scale for 20 years of weekly steps in at most 5 minutes
    "peak_rss_mb": 2048.0,  # ... and at most 2 GB of peak memory
}


class NoopAgent(mesa.Agent):
    """A Mesa agent that does nothing: the floor of Mesa's own per-agent cost."""

    def step(self) -> None:
        pass


def max_rss_bytes() -> int:
    """Peak resident set size of this process so far (ru_maxrss: KiB on Linux, bytes on macOS)."""
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(rss if sys.platform == "darwin" else rss * 1024)


def resident_object_cost(n: int, seed: int) -> dict[str, float]:
    """Bytes and seconds to create ``n`` Mesa :class:`Resident` handles in a fresh model.

    The bytes are those still held once the agents exist (their objects, ``__dict__`` and the
    model's agent registries), measured with tracemalloc; the seconds are of an untraced creation.
    """
    out: dict[str, float] = {}
    gc.collect()
    uids = np.arange(1, n + 1)
    m = mesa.Model(seed=seed)
    t0 = time.perf_counter()
    agents = list(Resident.create_agents(m, n, uids))
    out["create_s"] = time.perf_counter() - t0
    del agents, m
    gc.collect()
    m = mesa.Model(seed=seed)
    tracemalloc.start()
    before, _ = tracemalloc.get_traced_memory()
    agents = list(Resident.create_agents(m, n, uids))
    after, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    # the list of handles is the model's own index array (counted in memory_bytes()["index"])
    out["bytes"] = float(after - before - sys.getsizeof(agents))
    out["bytes_per_agent"] = out["bytes"] / max(n, 1)
    del agents, m
    gc.collect()
    return out


def empty_mesa_step(n: int, seed: int, repeats: int = 3) -> float:
    """Seconds for one ``shuffle_do("step")`` over ``n`` no-op Mesa agents (median of ``repeats``)."""
    m = mesa.Model(seed=seed)
    NoopAgent.create_agents(m, n)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        m.agents.shuffle_do("step")
        times.append(time.perf_counter() - t0)
    del m
    gc.collect()
    return statistics.median(times)


def run(scenario: str, scale: float, years: int, seed: int) -> dict[str, Any]:
    """Build the model, step it through ``years`` years and return the figures."""
    gc.collect()
    rss_before = max_rss_bytes()
    t0 = time.perf_counter()
    model = KyojoModel(scenario, scale=scale, seed=seed, years=years)
    build_s = time.perf_counter() - t0
    rss_build = max_rss_bytes()
    n0 = model.population.n
    ties0 = len(model.ties)
    mem = model.memory_bytes()
    state = sum(mem.values())

    plain: list[float] = []
    yearly: list[float] = []
    aid_times: list[float] = []
    resident_steps = 0
    week = model.aid.week

    def timed_week(step: int) -> None:
        t = time.perf_counter()
        week(step)
        aid_times.append(time.perf_counter() - t)

    model.aid.week = timed_week  # the mutual-aid round, timed apart from the rest of the step
    before = {"n": model.population.n, "year": model.year}

    def timed_step(m: KyojoModel) -> None:  # called by run_model after every step
        nonlocal resident_steps
        dt = time.perf_counter() - before["t"]
        resident_steps += before["n"]
        if m.year != before["year"]:
            yearly.append(dt)
        else:
            plain.append((dt, aid_times[-1]))
        before.update(n=m.population.n, year=m.year, t=time.perf_counter())

    t_run = time.perf_counter()
    before["t"] = t_run
    model.run_model(progress=timed_step)
    run_s = time.perf_counter() - t_run
    steps = len(plain) + len(yearly)
    rss_run = max_rss_bytes()

    mean_agents = round(resident_steps / steps) if steps else n0
    objects = resident_object_cost(n0, seed)
    empty_s = empty_mesa_step(mean_agents, seed)
    rate = resident_steps / run_s if run_s > 0 else float("nan")
    empty_rate = mean_agents / empty_s if empty_s > 0 else float("nan")
    ms = 1000.0
    return {
        "scenario": scenario,
        "scale": scale,
        "years": years,
        "seed": seed,
        "residents": n0,
        "residents_end": model.population.n,
        "ties": ties0,
        "ties_end": len(model.ties),
        "build_s": build_s,
        "memory_bytes": mem,
        "state_bytes_per_resident": state / max(n0, 1),
        "columns_bytes_per_resident": mem["columns"] / max(n0, 1),
        "ties_bytes_per_resident": mem["ties"] / max(n0, 1),
        "index_bytes_per_resident": mem["index"] / max(n0, 1),
        "mesa_object_bytes_per_resident": objects["bytes_per_agent"],
        "mesa_object_create_s": objects["create_s"],
        "steps": steps,
        "plain_weeks": len(plain),
        "plain_week_ms": statistics.median(p[0] for p in plain) * ms if plain else float("nan"),
        "plain_week_max_ms": max(p[0] for p in plain) * ms if plain else float("nan"),
        "plain_week_aid_ms": statistics.median(p[1] for p in plain) * ms if plain else float("nan"),
        "plain_week_base_ms": statistics.median(p[0] - p[1] for p in plain) * ms if plain else float("nan"),
        "yearly_step_ms": statistics.median(yearly) * ms if yearly else float("nan"),
        "yearly_step_max_ms": max(yearly) * ms if yearly else float("nan"),
        "amortised_week_ms": run_s / steps * ms if steps else float("nan"),
        "run_s": run_s,
        "resident_steps": resident_steps,
        "resident_steps_per_s": rate,
        "empty_mesa_agents": mean_agents,
        "empty_mesa_step_ms": empty_s * ms,
        "empty_mesa_agent_steps_per_s": empty_rate,
        "ratio_to_empty_mesa": rate / empty_rate if empty_rate > 0 else float("nan"),
        "rss_before_build_mb": rss_before / 2**20,
        "peak_rss_build_mb": rss_build / 2**20,
        "peak_rss_mb": rss_run / 2**20,
        "python": platform.python_version(),
        "mesa": mesa.__version__,
        "numpy": np.__version__,
        "kyojosim": kyojosim.__version__,
        "machine": platform.machine(),
    }


def _fmt_mb(x: float) -> str:
    return f"{x:,.0f} MB"


def format_table(r: dict[str, Any]) -> str:
    """Return the figures as a small aligned text table."""

    def target(key: str, value: float) -> str:
        if key not in TARGETS:
            return ""
        ok = value <= TARGETS[key]
        return f"<= {TARGETS[key]:g}  {'ok' if ok else 'MISSED'}"

    mem = r["memory_bytes"]
    rows = [
        ("residents (start -> end)", f"{r['residents']:,} -> {r['residents_end']:,}", ""),
        ("ties (start -> end)", f"{r['ties']:,} -> {r['ties_end']:,}", ""),
        ("build time", f"{r['build_s']:.2f} s", target("build_s", r["build_s"])),
        ("state bytes / resident", f"{r['state_bytes_per_resident']:.0f} B", target(
            "state_bytes_per_resident", r["state_bytes_per_resident"])),
        ("  columns / ties / index", f"{r['columns_bytes_per_resident']:.0f} / {r['ties_bytes_per_resident']:.0f}"
         f" / {r['index_bytes_per_resident']:.0f} B", f"({sum(mem.values()) / 2**20:,.1f} MB in all)"),
        ("Mesa Resident objects / resident", f"{r['mesa_object_bytes_per_resident']:.0f} B",
         f"(creating them: {r['mesa_object_create_s']:.2f} s)"),
        ("plain weekly step (median)", f"{r['plain_week_ms']:.3f} ms", f"(slowest {r['plain_week_max_ms']:.1f} ms,"
         f" over {r['plain_weeks']} weeks)"),
        ("  of which mutual aid", f"{r['plain_week_aid_ms']:.3f} ms", "(needs, channels, matching)"),
        ("  of which the rest", f"{r['plain_week_base_ms']:.3f} ms", target("plain_week_base_ms",
                                                                            r["plain_week_base_ms"])),
        ("yearly step (median)", f"{r['yearly_step_ms']:.1f} ms", f"(max {r['yearly_step_max_ms']:.1f} ms)"),
        ("amortised weekly step", f"{r['amortised_week_ms']:.3f} ms", f"({r['steps']} steps)"),
        ("whole run", f"{r['run_s']:.1f} s", target("run_s", r["run_s"])),
        ("resident-steps / s", f"{r['resident_steps_per_s']:,.0f}", ""),
        ("empty Mesa shuffle_do", f"{r['empty_mesa_step_ms']:.1f} ms",
         f"({r['empty_mesa_agents']:,} agents: {r['empty_mesa_agent_steps_per_s']:,.0f} agent-steps/s)"),
        ("ratio to empty Mesa", f"{r['ratio_to_empty_mesa']:.1f} x", "(>1: faster than a no-op Mesa step)"),
        ("peak RSS (build / run)", f"{_fmt_mb(r['peak_rss_build_mb'])} / {_fmt_mb(r['peak_rss_mb'])}",
         f"(before build {_fmt_mb(r['rss_before_build_mb'])}) " + target("peak_rss_mb", r["peak_rss_mb"])),
    ]
    years = f"{r['years']} year{'s' if r['years'] != 1 else ''}"
    head = f"kyojosim benchmark: {r['scenario']} scale {r['scale']:g}, {years}, seed {r['seed']}"
    w0 = max(len(k) for k, _, _ in rows)
    w1 = max(len(v) for _, v, _ in rows)
    lines = [head, "-" * len(head)]
    lines += [f"{k:<{w0}}  {v:>{w1}}  {t}".rstrip() for k, v, t in rows]
    lines.append(f"(python {r['python']}, mesa {r['mesa']}, numpy {r['numpy']}, {r['machine']})")
    return "\n".join(lines)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--scenario", default="koto", help="bundled scenario name or scenario file (default: koto)")
    p.add_argument("--scale", type=float, default=1.0, help="fraction of residents simulated (default: 1.0)")
    p.add_argument("--years", type=int, default=20, help="years to run (default: 20)")
    p.add_argument("--seed", type=int, default=1, help="seed (default: 1)")
    p.add_argument("--json", metavar="PATH", help="also write the figures as JSON to PATH (atomically)")
    args = p.parse_args(argv)
    if args.years < 1:
        p.error("--years must be at least 1")
    if args.scale <= 0:
        p.error("--scale must be positive")
    return args


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Run the benchmark, print the table (and write JSON if asked); return the figures."""
    args = parse_args(argv)
    result = run(args.scenario, args.scale, args.years, args.seed)
    print(format_table(result), flush=True)
    if args.json:
        write_json(args.json, result)
        print(f"wrote {args.json}")
    return result


if __name__ == "__main__":
    main()
