"""Speed against an empty Mesa step: the model's week beside Mesa's own floor, interleaved, and absolute times.

For each scenario the script builds the model and runs it to its end, timing every step. In the
years named by ``--at`` it interleaves every step of that year with one ``shuffle_do("step")`` of an
empty Mesa model holding as many no-op agents as the model has residents, one after the other (never
at the same time), alternating which of the two goes first; the step into the next year (the turn of
the year) closes the window. Per window it prints:

* the median weekly step (weeks in which no year ends), the mean weekly step (monthly records
  included) and the yearly step (the step with the turn of the year);
* the amortised week: the mean week plus the yearly step / 52 (every cost of a simulated year,
  spread over its weeks);
* the median empty Mesa step, and the ratios ``empty / week``: how many times faster than Mesa's
  no-op loop the model advances a resident by a week (the agent count equals the resident count, so
  this is the ratio per resident-step), for the median week and the amortised week.

Over the whole run: build time, run time (the model's steps only), the amortised week, resident-steps
per second, and the peak resident set size of the process (``ru_maxrss``). The empty Mesa model lives
in a helper process forked before the model is built (``--in-process`` keeps it in this process), so
that the peak memory is the model's own; the two processes take turns and never run at once.

Several scenarios (``--issue``, or ``--scenario`` more than once) each run in a fresh child process,
so that each peak memory is its own; ``--ties-factor`` multiplies the mean ties per resident
(``network.neighbour_ties``, ``community_ties``, ``online_ties``) for the flatness check of cost
against ties per resident (``--ties-flatness``: the same scenario at factors 1 and 2).

    .venv/bin/python benchmarks/bench_speed.py --issue                 # koto-all 2020 and 2030, koto 2020
    .venv/bin/python benchmarks/bench_speed.py --scenario koto-all --at 2020 2030 --json results/speed.json
    .venv/bin/python benchmarks/bench_speed.py --scenario koto-all --ties-flatness --at 2020 --years 6
    .venv/bin/python benchmarks/bench_speed.py --scenario yamae --scale 0.2 --years 2 --at 2015   # seconds

Prints figures; asserts nothing (``tests/test_benchmarks.py`` runs the small last line, in process).
"""

from __future__ import annotations

import argparse
import gc
import json
import multiprocessing as mp
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import mesa
import numpy as np

from kyojosim.atomic import write_json

HERE = Path(__file__).resolve()
ISSUE = (("koto-all", (2020, 2030)), ("koto", (2020,)))
"""The runs of ``--issue``: Koto with every channel (2020 and 2030) and offline only (2020), full scale."""
TARGETS = {"koto-all": 10.0, "koto": 30.0}
"""Amortised ratio to an empty Mesa step each run should reach (printed, never asserted)."""
TIE_KEYS = ("network.neighbour_ties", "network.community_ties", "network.online_ties")
DEFAULT_TIES = {"network.neighbour_ties": 2.5, "network.community_ties": 3.0, "network.online_ties": 2.0}


class NoopAgent(mesa.Agent):
    """A Mesa agent whose step does nothing: Mesa's own cost per agent-step."""

    def step(self) -> None:
        pass


class EmptyMesa:
    """An empty Mesa model of no-op agents, stepped with ``shuffle_do("step")``; resized on demand."""

    def __init__(self, seed: int) -> None:
        self.model = mesa.Model(seed=seed)

    def resize(self, n: int) -> int:
        """Hold exactly ``n`` agents; return ``n``."""
        have = len(self.model.agents)
        if n > have:
            NoopAgent.create_agents(self.model, n - have)
        elif n < have:
            for agent in list(self.model.agents)[: have - n]:
                agent.remove()
        gc.collect()
        return len(self.model.agents)

    def step(self) -> float:
        """Seconds for one ``shuffle_do("step")``."""
        t0 = time.perf_counter()
        self.model.agents.shuffle_do("step")
        return time.perf_counter() - t0


def _comparator_loop(conn, seed: int) -> None:  # pragma: no cover - runs in the helper process
    empty = EmptyMesa(seed)
    while True:
        cmd, arg = conn.recv()
        if cmd == "resize":
            conn.send(empty.resize(arg))
        elif cmd == "step":
            conn.send(empty.step())
        else:
            conn.send(None)
            return


class Comparator:
    """The empty Mesa model, in a helper process (forked before the model is built) or in this one."""

    def __init__(self, seed: int, in_process: bool) -> None:
        self.local = None
        self.proc = None
        if in_process or "fork" not in mp.get_all_start_methods():
            self.local = EmptyMesa(seed)
            return
        ctx = mp.get_context("fork")
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=_comparator_loop, args=(child, seed), daemon=True)
        self.proc.start()
        child.close()

    @property
    def where(self) -> str:
        return "this process" if self.local is not None else "a helper process"

    def _ask(self, cmd: str, arg: Any = None) -> Any:
        if self.local is not None:
            return self.local.resize(arg) if cmd == "resize" else self.local.step()
        self.conn.send((cmd, arg))
        return self.conn.recv()

    def resize(self, n: int) -> int:
        return self._ask("resize", n)

    def step(self) -> float:
        return self._ask("step")

    def close(self) -> None:
        if self.local is not None:
            self.local = None
            gc.collect()
            return
        self.conn.send(("stop", None))
        self.conn.recv()
        self.proc.join(timeout=30)


def max_rss_mb() -> float:
    """Peak resident set size of this process so far, in MB (ru_maxrss: KiB on Linux, bytes on macOS)."""
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return (rss if sys.platform == "darwin" else rss * 1024) / 2**20


def _median(x: Sequence[float]) -> float:
    return statistics.median(x) if x else float("nan")


def _mean(x: Sequence[float]) -> float:
    return statistics.fmean(x) if x else float("nan")


def run(scenario: str, scale: float, years: int, seed: int, at: Sequence[int], ties_factor: float = 1.0,
        in_process: bool = False, agents: bool = True) -> dict[str, Any]:
    """Run one scenario to its end; interleave the steps of the years ``at`` with empty Mesa steps."""
    from kyojosim.aid.matching import Candidates, match
    from kyojosim.model import KyojoModel

    comparator = Comparator(seed, in_process)
    one = np.zeros(1, dtype=np.int64)
    match(Candidates(one, one, np.ones(1), one.astype(np.int8)), np.ones(1), np.ones(1))  # load the compiled kernel
    overrides = {k: DEFAULT_TIES[k] * ties_factor for k in TIE_KEYS} if ties_factor != 1.0 else {}
    gc.collect()
    rss_before = max_rss_mb()
    t0 = time.perf_counter()
    model = KyojoModel(scenario, scale=scale, seed=seed, years=years, agents=agents, overrides=overrides)
    build_s = time.perf_counter() - t0
    rss_build = max_rss_mb()
    windows: dict[int, dict[str, Any]] = {}
    wanted = sorted(set(int(y) for y in at))
    step_times: list[float] = []
    resident_steps = 0
    window: dict[str, Any] | None = None
    order = 0
    while model.running:
        year = model.year
        if window is None and year in wanted and year not in windows:
            live = int(model.population.alive[: model.population.n].sum())
            window = {"year": year, "residents": live, "agents": comparator.resize(live), "ties": len(model.ties),
                      "weeks": [], "empty": [], "yearly_ms": float("nan")}
            comparator.step()  # a first call, not counted
        residents = model.population.n
        empty = None
        if window is not None and order % 2:
            empty = comparator.step()
        t = time.perf_counter()
        model.step()
        dt = time.perf_counter() - t
        if window is not None and empty is None:
            empty = comparator.step()
        step_times.append(dt)
        resident_steps += residents
        if window is not None:
            order += 1
            window["empty"].append(empty)
            if model.year != year:  # the step into the next year closes the window
                window["yearly_ms"] = dt * 1000.0
                windows[window["year"]] = _window_figures(window)
                window = None
            else:
                window["weeks"].append(dt)
    if window is not None:  # the run ended inside the window: no yearly step in it
        windows[window["year"]] = _window_figures(window)
    comparator_where = comparator.where
    comparator.close()
    run_s = float(sum(step_times))
    steps = len(step_times)
    return {
        "scenario": scenario, "scale": scale, "years": years, "seed": seed, "ties_factor": ties_factor,
        "agents": agents, "comparator": comparator_where,
        "residents": int(model.population.n), "ties_end": len(model.ties), "build_s": build_s,
        "state_mb": sum(model.memory_bytes().values()) / 2**20,
        "steps": steps, "run_s": run_s,
        "amortised_week_ms": run_s / steps * 1000.0 if steps else float("nan"),
        "resident_steps_per_s": resident_steps / run_s if run_s > 0 else float("nan"),
        "rss_before_build_mb": rss_before, "peak_rss_build_mb": rss_build, "peak_rss_mb": max_rss_mb(),
        "windows": {str(k): v for k, v in windows.items()},
        "python": platform.python_version(), "mesa": mesa.__version__, "numpy": np.__version__,
        "machine": platform.machine(),
    }


def _window_figures(w: dict[str, Any]) -> dict[str, Any]:
    ms = 1000.0
    week = _median(w["weeks"]) * ms
    mean_week = _mean(w["weeks"]) * ms
    yearly = w["yearly_ms"]
    amortised = mean_week + (yearly / 52.0 if yearly == yearly else 0.0)
    empty = _median(w["empty"]) * ms
    per = w["agents"] / max(w["residents"], 1)  # agents per resident (1: the same count)
    ns = 1e6 / max(w["residents"], 1)
    return {
        "year": w["year"], "residents": w["residents"], "agents": w["agents"], "ties": w["ties"],
        "ties_per_resident": w["ties"] / max(w["residents"], 1), "weeks": len(w["weeks"]),
        "week_median_ms": week, "week_mean_ms": mean_week, "yearly_ms": yearly, "amortised_ms": amortised,
        "empty_mesa_ms": empty,
        "ratio_median": empty / per / week if week > 0 else float("nan"),
        "ratio_amortised": empty / per / amortised if amortised > 0 else float("nan"),
        "ns_per_resident_step_median": week * ns, "ns_per_resident_step_amortised": amortised * ns,
    }


def format_run(r: dict[str, Any]) -> str:
    """Return the figures of one run as text."""
    head = (f"{r['scenario']} scale {r['scale']:g}, {r['years']} years, seed {r['seed']}"
            + (f", ties x{r['ties_factor']:g}" if r["ties_factor"] != 1.0 else ""))
    lines = [head, "-" * len(head)]
    for w in r["windows"].values():
        target = TARGETS.get(r["scenario"]) if r["scale"] == 1.0 else None
        met = "met" if target is not None and w["ratio_amortised"] >= target else "MISSED"
        mark = "" if target is None else f"  (target >= {target:g}x: {met})"
        lines += [
            f"{w['year']}: {w['residents']:,} residents, {w['ties']:,} ties "
            f"({w['ties_per_resident']:.2f} per resident)",
            f"  week median {w['week_median_ms']:.1f} ms, mean {w['week_mean_ms']:.1f} ms, yearly step "
            f"{w['yearly_ms']:.0f} ms, amortised {w['amortised_ms']:.1f} ms over {w['weeks']} weeks",
            f"  empty Mesa shuffle_do ({w['agents']:,} no-op agents) median {w['empty_mesa_ms']:.1f} ms",
            f"  ratio to empty Mesa: median week {w['ratio_median']:.1f}x, amortised {w['ratio_amortised']:.1f}x{mark}",
            f"  per resident-step: {w['ns_per_resident_step_median']:.0f} ns (median week), "
            f"{w['ns_per_resident_step_amortised']:.0f} ns (amortised)",
        ]
    lines += [
        f"whole run: build {r['build_s']:.1f} s, {r['steps']} steps in {r['run_s']:.1f} s "
        f"({r['amortised_week_ms']:.1f} ms/week amortised, {r['resident_steps_per_s'] / 1e6:.2f} M resident-steps/s)",
        f"memory: state {r['state_mb']:.0f} MB at the end, peak RSS {r['peak_rss_mb']:,.0f} MB (after the build "
        f"{r['peak_rss_build_mb']:,.0f} MB, before it {r['rss_before_build_mb']:,.0f} MB; Mesa handles "
        f"{'kept' if r['agents'] else 'not kept'}; empty Mesa model in {r['comparator']})",
    ]
    return "\n".join(lines)


def format_summary(results: Sequence[dict[str, Any]]) -> str:
    """Return one line per window: the issue's table."""
    rows = ["| run | residents | ties/resident | ms/week (median) | ms/week (amortised) | empty Mesa ms "
            "| ratio (median) | ratio (amortised) |", "|---|---|---|---|---|---|---|---|"]
    for r in results:
        for w in r["windows"].values():
            tf = f", ties x{r['ties_factor']:g}" if r["ties_factor"] != 1.0 else ""
            rows.append(f"| {r['scenario']} scale {r['scale']:g}{tf}, {w['year']} | {w['residents']:,} | "
                        f"{w['ties_per_resident']:.2f} | {w['week_median_ms']:.1f} | {w['amortised_ms']:.1f} | "
                        f"{w['empty_mesa_ms']:.0f} | {w['ratio_median']:.1f}x | {w['ratio_amortised']:.1f}x |")
    return "\n".join(rows)


def _in_child(args: argparse.Namespace, scenario: str, at: Sequence[int], ties_factor: float) -> dict[str, Any]:
    """Run one scenario in a fresh Python process (its own peak memory) and return its figures."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "run.json"
        cmd = [sys.executable, str(HERE), "--scenario", scenario, "--scale", str(args.scale), "--years",
               str(args.years), "--seed", str(args.seed), "--ties-factor", str(ties_factor), "--json", str(out),
               "--at", *[str(y) for y in at]]
        if args.in_process:
            cmd.append("--in-process")
        if args.no_agents:
            cmd.append("--no-agents")
        subprocess.run(cmd, check=True)
        return json.loads(out.read_text(encoding="utf-8"))


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--scenario", action="append", help="bundled scenario or file (repeatable; default koto-all)")
    p.add_argument("--at", type=int, nargs="+", default=[2020], help="years to compare with an empty Mesa step")
    p.add_argument("--scale", type=float, default=1.0, help="fraction of residents simulated (default 1.0)")
    p.add_argument("--years", type=int, default=20, help="years to run (default 20)")
    p.add_argument("--seed", type=int, default=1, help="seed (default 1)")
    p.add_argument("--ties-factor", type=float, default=1.0, help="multiply the mean ties per resident")
    p.add_argument("--ties-flatness", action="store_true", help="run at ties factors 1 and 2")
    p.add_argument("--issue", action="store_true", help="koto-all (2020, 2030) and koto (2020), full scale")
    p.add_argument("--in-process", action="store_true", help="keep the empty Mesa model in this process")
    p.add_argument("--no-agents", action="store_true", help="build the model without Mesa handles")
    p.add_argument("--json", metavar="PATH", help="also write the figures as JSON to PATH (atomically)")
    args = p.parse_args(argv)
    if args.years < 1:
        p.error("--years must be at least 1")
    if args.scale <= 0 or args.ties_factor <= 0:
        p.error("--scale and --ties-factor must be positive")
    return args


def main(argv: Sequence[str] | None = None) -> list[dict[str, Any]]:
    """Run the benchmark, print the figures (and write JSON if asked); return the figures of every run."""
    args = parse_args(argv)
    if args.issue:
        plan = [(s, at, 1.0) for s, at in ISSUE]
    else:
        scenarios = args.scenario or ["koto-all"]
        factors = (1.0, 2.0) if args.ties_flatness else (args.ties_factor,)
        plan = [(s, tuple(args.at), f) for s in scenarios for f in factors]
    if len(plan) == 1:
        s, at, f = plan[0]
        results = [run(s, args.scale, args.years, args.seed, at, f, args.in_process, not args.no_agents)]
        print(format_run(results[0]), flush=True)
    else:
        results = []
        for s, at, f in plan:
            results.append(_in_child(args, s, at, f))  # the child prints its own figures
            print(flush=True)
        print(format_summary(results), flush=True)
    if args.json:
        write_json(args.json, results if len(results) > 1 else results[0])
        print(f"wrote {args.json}")
    return results


if __name__ == "__main__":
    main()
