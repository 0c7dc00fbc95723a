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
so that each peak memory is its own.

``--ties-factor`` multiplies the mean ties per resident (``network.neighbour_ties``,
``community_ties``, ``online_ties``; household ties stay). Given several factors (``--ties-factor 1
2.5``; ``--ties-flatness`` is ``1 2``) it makes a *paired* comparison of the cost against ties per
resident: one model per factor, built in this process after a small model of the scenario has been
stepped through a turn of the year (so that no factor pays for loading the compiled kernels), then
stepped in turns, one week of each model per round, the order reversed every other round, through the
whole run; in the ``--at`` years each model has its own empty Mesa model stepped beside each of its
weeks as above (a helper process each), so each model's ratio is measured the same way. Both models
then see the same load of the machine, week by week. For each factor it prints the windows as above,
then over the whole run: ties per resident (mean of the build and every turn of the year), the median
and mean week (steps in which no year ends), the median turn of the year (every one of the run), the
amortised week (mean week + median turn / 52) and its cost per resident-step, the run's wall-clock and
CPU time (``time.process_time``: without the time spent waiting for a core, with the cost of cold caches)
and their cost per resident-step, each with its change against the first factor in %, and a verdict: is
the whole run's cost per resident-step within +-15% of the first factor's (in wall-clock and in CPU
time)? ``--repeat N`` makes N paired runs, each in its own process, the build order reversed every
other run, and one verdict on the mean of their changes, with its 95% interval (Student's t over the N
changes): whether the interval lies within the band, outside it or across its edge (then the runs do not
settle the verdict: a paired run's change moves by about +-5 points on this machine). The ratios to an
empty Mesa step stay those of the interleaved windows; the paired whole run is the steady figure. Memory:
the models live in one process at once (a koto-all model at full scale takes about 1 GB, its empty Mesa
helper about 0.5 GB more), so two or three factors at full scale need a few GB.

    .venv/bin/python benchmarks/bench_speed.py --issue                 # koto-all 2020 and 2030, koto 2020
    .venv/bin/python benchmarks/bench_speed.py --scenario koto-all --at 2020 2030 --json results/speed.json
    .venv/bin/python benchmarks/bench_speed.py --scenario koto-all --ties-factor 1 2.5 --at 2020 --years 6
    .venv/bin/python benchmarks/bench_speed.py --scenario koto-all --ties-factor 1 2.5 --at 2020 --years 6 --repeat 2
    .venv/bin/python benchmarks/bench_speed.py --scenario yamae --scale 0.2 --years 2 --at 2015   # seconds

Prints figures; asserts nothing (``tests/test_benchmarks.py`` runs the small last line, in process, alone and
paired).
"""

from __future__ import annotations

import argparse
import gc
import json
import math
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


CONFIDENCE = 0.95
"""The confidence of the interval given for the mean change of repeated paired runs."""


def _interval(x: Sequence[float]) -> tuple[float, float]:
    """Return the ``CONFIDENCE`` interval of the mean of ``x`` (Student's t; NaN with fewer than two values)."""
    if len(x) < 2:
        return float("nan"), float("nan")
    from scipy import stats

    half = float(stats.t.ppf(0.5 + CONFIDENCE / 2, len(x) - 1)) * statistics.stdev(x) / math.sqrt(len(x))
    return _mean(x) - half, _mean(x) + half


def _side(interval: tuple[float, float], band: float) -> str:
    """Where an interval of a change lies against the band ±``band``: ``within``, ``outside`` or ``across`` its edge."""
    lo, hi = interval
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return "unknown"
    if -band <= lo and hi <= band:
        return "within"
    if hi < -band or lo > band:
        return "outside"
    return "across"


def _load_kernel() -> None:
    """Compile (or load from the cache) the matching kernel before any step is timed."""
    from kyojosim.aid.matching import Candidates, match

    one = np.zeros(1, dtype=np.int64)
    match(Candidates(one, one, np.ones(1), one.astype(np.int8)), np.ones(1), np.ones(1))


def _overrides(ties_factor: float) -> dict[str, float]:
    """Scenario overrides that multiply the mean ties per resident by ``ties_factor`` (none at 1)."""
    return {k: DEFAULT_TIES[k] * ties_factor for k in TIE_KEYS} if ties_factor != 1.0 else {}


class Stepper:
    """One model stepped to its end, every step timed; each step of the years ``at`` beside an empty Mesa step.

    In such a year the empty Mesa step (``comparator``, sized to the model's living residents when the
    year begins) runs once per model step, before or after it by turns; the step into the next year (the
    turn of the year) closes the window. Over the whole run it keeps every step's time, the weeks in
    which no year ends, every turn of the year and the resident-steps.
    """

    def __init__(self, model: Any, comparator: Comparator, at: Sequence[int]) -> None:
        self.model = model
        self.comparator = comparator
        self.wanted = sorted(set(int(y) for y in at))
        self.windows: dict[int, dict[str, Any]] = {}
        self.window: dict[str, Any] | None = None
        self.order = 0
        self.step_times: list[float] = []
        self.cpu_times: list[float] = []  # CPU seconds of this process in each step (time.process_time)
        self.years: list[int] = []  # the year each step began in
        self.weeks: list[float] = []
        self.week_years: list[int] = []  # the year of each of ``weeks``
        self.turns_ms: list[float] = []
        self.ties_per_resident: list[float] = [self._ties_per_resident()]
        self.resident_steps = 0

    @property
    def running(self) -> bool:
        return bool(self.model.running)

    def _ties_per_resident(self) -> float:
        model = self.model
        return len(model.ties) / max(int(model.population.alive[: model.population.n].sum()), 1)

    def step(self) -> None:
        """Step the model once (with the empty Mesa step beside it inside a window) and record the times."""
        model, comparator = self.model, self.comparator
        year = model.year
        if self.window is None and year in self.wanted and year not in self.windows:
            live = int(model.population.alive[: model.population.n].sum())
            self.window = {"year": year, "residents": live, "agents": comparator.resize(live),
                           "ties": len(model.ties), "weeks": [], "empty": [], "yearly_ms": float("nan"),
                           # the weeks of the year before, stepped with no empty Mesa step beside them
                           "alone": [w for w, y in zip(self.weeks, self.week_years, strict=True) if y == year - 1]}
            comparator.step()  # a first call, not counted
        window = self.window
        residents = model.population.n
        empty = None
        if window is not None and self.order % 2:
            empty = comparator.step()
        cpu = time.process_time()
        t = time.perf_counter()
        model.step()
        dt = time.perf_counter() - t
        cpu = time.process_time() - cpu
        if window is not None and empty is None:
            empty = comparator.step()
        self.step_times.append(dt)
        self.cpu_times.append(cpu)
        self.years.append(year)
        self.resident_steps += residents
        turned = model.year != year
        if turned:
            self.turns_ms.append(dt * 1000.0)
            self.ties_per_resident.append(self._ties_per_resident())
        else:
            self.weeks.append(dt)
            self.week_years.append(year)
        if window is not None:
            self.order += 1
            window["empty"].append(empty)
            if turned:  # the step into the next year closes the window
                window["yearly_ms"] = dt * 1000.0
                self.windows[window["year"]] = _window_figures(window)
                self.window = None
            else:
                window["weeks"].append(dt)

    def finish(self) -> None:
        """Close a window the run ended in (it has no yearly step)."""
        if self.window is not None:
            self.windows[self.window["year"]] = _window_figures(self.window)
            self.window = None


def _figures(scenario: str, scale: float, years: int, seed: int, ties_factor: float, agents: bool,
             comparator_where: str, stepper: Stepper, build_s: float, rss_before: float,
             rss_build: float) -> dict[str, Any]:
    """The figures of one model's run (the one-factor output)."""
    model = stepper.model
    run_s = float(sum(stepper.step_times))
    steps = len(stepper.step_times)
    return {
        "scenario": scenario, "scale": scale, "years": years, "seed": seed, "ties_factor": ties_factor,
        "agents": agents, "comparator": comparator_where,
        "residents": int(model.population.n), "ties_end": len(model.ties), "build_s": build_s,
        "state_mb": sum(model.memory_bytes().values()) / 2**20,
        "steps": steps, "run_s": run_s,
        "amortised_week_ms": run_s / steps * 1000.0 if steps else float("nan"),
        "resident_steps_per_s": stepper.resident_steps / run_s if run_s > 0 else float("nan"),
        "rss_before_build_mb": rss_before, "peak_rss_build_mb": rss_build, "peak_rss_mb": max_rss_mb(),
        "windows": {str(k): v for k, v in stepper.windows.items()},
        "python": platform.python_version(), "mesa": mesa.__version__, "numpy": np.__version__,
        "machine": platform.machine(),
    }


def run(scenario: str, scale: float, years: int, seed: int, at: Sequence[int], ties_factor: float = 1.0,
        in_process: bool = False, agents: bool = True) -> dict[str, Any]:
    """Run one scenario to its end; interleave the steps of the years ``at`` with empty Mesa steps."""
    from kyojosim.model import KyojoModel

    comparator = Comparator(seed, in_process)
    _load_kernel()
    gc.collect()
    rss_before = max_rss_mb()
    t0 = time.perf_counter()
    model = KyojoModel(scenario, scale=scale, seed=seed, years=years, agents=agents,
                       overrides=_overrides(ties_factor))
    build_s = time.perf_counter() - t0
    rss_build = max_rss_mb()
    stepper = Stepper(model, comparator, at)
    while stepper.running:
        stepper.step()
    stepper.finish()
    comparator_where = comparator.where
    comparator.close()
    return _figures(scenario, scale, years, seed, ties_factor, agents, comparator_where, stepper, build_s,
                    rss_before, rss_build)


def run_paired(scenario: str, scale: float, years: int, seed: int, at: Sequence[int], factors: Sequence[float],
               in_process: bool = False, agents: bool = True) -> dict[str, Any]:
    """Build one model per ties factor in this process and step them in turns to their end.

    Every round steps each model once: the first factor's model first in even rounds, the order reversed
    in odd ones, so that no model always follows the same one. Each model has its own empty Mesa model
    (a helper process each, forked before any model is built) for the years ``at``, stepped beside each
    of its steps as in :func:`run`. The figures of each model, then its change against the first factor.
    """
    from kyojosim.model import KyojoModel

    comparators = [Comparator(seed, in_process) for _ in factors]
    _load_kernel()
    warm_up_s = warm_up(scenario, scale, seed, factors[0], agents)
    built = []
    for f in factors:
        gc.collect()
        rss_before = max_rss_mb()
        t0 = time.perf_counter()
        model = KyojoModel(scenario, scale=scale, seed=seed, years=years, agents=agents, overrides=_overrides(f))
        built.append((model, time.perf_counter() - t0, rss_before, max_rss_mb()))
    steppers = [Stepper(model, c, at) for (model, *_), c in zip(built, comparators, strict=True)]
    rounds = 0
    while any(s.running for s in steppers):
        for s in (steppers if rounds % 2 == 0 else steppers[::-1]):
            if s.running:
                s.step()
        rounds += 1
    runs = []
    for f, (_, build_s, rss_before, rss_build), s, c in zip(factors, built, steppers, comparators, strict=True):
        s.finish()
        r = _figures(scenario, scale, years, seed, f, agents, c.where, s, build_s, rss_before, rss_build)
        r.update(_paired_figures(s))
        runs.append(r)
    for c in comparators:
        c.close()
    return {"paired": True, "scenario": scenario, "scale": scale, "years": years, "seed": seed,
            "factors": list(factors), "warm_up_s": warm_up_s, "rounds": rounds, "runs": runs,
            "change_pct": changes_against_first(runs),
            "verdict": flatness_verdict(runs), "peak_rss_mb": max_rss_mb(), "python": platform.python_version(),
            "mesa": mesa.__version__, "numpy": np.__version__, "machine": platform.machine()}


WARM_UP_SCALE = 0.05
"""The largest scale of the model that :func:`warm_up` steps through a turn of the year."""


def warm_up(scenario: str, scale: float, seed: int, ties_factor: float, agents: bool) -> float:
    """Step a small model of ``scenario`` through its first turn of the year and one week more; return seconds.

    The first model to step in a process pays for loading every compiled kernel from the cache (or
    compiling it) and for first-call setup, a few tenths of a second; in a paired run that would be
    charged to the first factor alone. The small model (at most ``WARM_UP_SCALE``) pays it instead.
    """
    from kyojosim.model import KyojoModel

    t0 = time.perf_counter()
    model = KyojoModel(scenario, scale=min(scale, WARM_UP_SCALE), seed=seed, years=2, agents=agents,
                       overrides=_overrides(ties_factor))
    first = model.year
    while model.running and model.year == first:
        model.step()
    if model.running:
        model.step()
    del model
    gc.collect()
    return time.perf_counter() - t0


PAIRED_KEYS = ("ties_per_resident", "week_median_ms", "week_mean_ms", "turn_median_ms", "amortised_ms",
               "ns_per_resident_step_amortised", "run_s", "ns_per_resident_step_run", "cpu_s",
               "ns_per_resident_step_cpu")
"""The figures of a paired run compared against the first factor's."""
FLAT = 15.0
"""The flatness band, in %: the cost per resident-step should move by no more than this as ties double."""


def _paired_figures(s: Stepper) -> dict[str, Any]:
    """Whole-run figures of one model of a paired run: weeks and turns over the run, per resident-step.

    Besides the wall-clock time it sums the CPU time of this process in the model's steps, which leaves
    out the time spent waiting for a core on a busy machine (but not the cost of cold caches), and
    both by the year each step began in.
    """
    steps = len(s.step_times)
    mean_residents = s.resident_steps / steps if steps else float("nan")
    week_mean = _mean(s.weeks) * 1000.0
    turn = _median(s.turns_ms)
    amortised = week_mean + (turn / 52.0 if turn == turn else 0.0)
    run_s = float(sum(s.step_times))
    cpu_s = float(sum(s.cpu_times))
    by_year: dict[str, dict[str, float]] = {}
    for year, wall, cpu in zip(s.years, s.step_times, s.cpu_times, strict=True):
        y = by_year.setdefault(str(year), {"steps": 0, "wall_s": 0.0, "cpu_s": 0.0})
        y["steps"] += 1
        y["wall_s"] += wall
        y["cpu_s"] += cpu
    return {
        "ties_per_resident": _mean(s.ties_per_resident), "ties_per_resident_samples": s.ties_per_resident,
        "plain_weeks": len(s.weeks), "week_median_ms": _median(s.weeks) * 1000.0, "week_mean_ms": week_mean,
        "turns_ms": s.turns_ms, "turn_median_ms": turn, "amortised_ms": amortised,
        "ns_per_resident_step_amortised": amortised * 1e6 / mean_residents,
        "ns_per_resident_step_run": run_s * 1e9 / s.resident_steps if s.resident_steps else float("nan"),
        "cpu_s": cpu_s, "cpu_share": cpu_s / run_s if run_s > 0 else float("nan"),
        "ns_per_resident_step_cpu": cpu_s * 1e9 / s.resident_steps if s.resident_steps else float("nan"),
        "by_year": by_year,
    }


def _change(new: float, old: float) -> float:
    return (new / old - 1.0) * 100.0 if old > 0 else float("nan")


def changes_against_first(runs: Sequence[dict[str, Any]]) -> list[dict[str, float]]:
    """Each run's change against the first run, in % of the first, for every figure of ``PAIRED_KEYS``."""
    return [{k: _change(r[k], runs[0][k]) for k in PAIRED_KEYS} for r in runs]


def flatness_verdict(runs: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Against the first factor: is the whole run's cost per resident-step within ±``FLAT``%?

    Per later factor: the change of the whole run's cost per resident-step in wall-clock time
    (``change_pct``, ``flat``) and in CPU time (``cpu_change_pct``, ``cpu_flat``), and the change of
    each simulated year's CPU time (the years both models ran, with the same steps) and its median.
    """
    base = runs[0]
    out = []
    for r in runs[1:]:
        change = _change(r["ns_per_resident_step_run"], base["ns_per_resident_step_run"])
        cpu = _change(r["ns_per_resident_step_cpu"], base["ns_per_resident_step_cpu"])
        years = {y: _change(v["cpu_s"], base["by_year"][y]["cpu_s"]) for y, v in r.get("by_year", {}).items()
                 if y in base["by_year"] and v["steps"] == base["by_year"][y]["steps"]}
        out.append({"ties_factor": r["ties_factor"], "against": base["ties_factor"],
                    "ties_ratio": r["ties_per_resident"] / base["ties_per_resident"],
                    "change_pct": change, "band_pct": FLAT, "flat": bool(abs(change) <= FLAT),
                    "cpu_change_pct": cpu, "cpu_flat": bool(abs(cpu) <= FLAT),
                    "year_cpu_change_pct": years, "year_cpu_change_median_pct": _median(list(years.values()))})
    return out


def _window_figures(w: dict[str, Any]) -> dict[str, Any]:
    ms = 1000.0
    week = _median(w["weeks"]) * ms
    mean_week = _mean(w["weeks"]) * ms
    yearly = w["yearly_ms"]
    amortised = mean_week + (yearly / 52.0 if yearly == yearly else 0.0)
    empty = _median(w["empty"]) * ms
    per = w["agents"] / max(w["residents"], 1)  # agents per resident (1: the same count)
    ns = 1e6 / max(w["residents"], 1)
    alone = _median(w["alone"]) * ms if w.get("alone") else None  # (None, not nan: the JSON allows no nan)
    return {
        "year": w["year"], "residents": w["residents"], "agents": w["agents"], "ties": w["ties"],
        "ties_per_resident": w["ties"] / max(w["residents"], 1), "weeks": len(w["weeks"]),
        "week_median_ms": week, "week_mean_ms": mean_week, "yearly_ms": yearly, "amortised_ms": amortised,
        "empty_mesa_ms": empty,
        "ratio_median": empty / per / week if week > 0 else float("nan"),
        "ratio_amortised": empty / per / amortised if amortised > 0 else float("nan"),
        "ns_per_resident_step_median": week * ns, "ns_per_resident_step_amortised": amortised * ns,
        # the weeks of the year before the window, with no empty Mesa step beside them (None: none in the run);
        # their ratio to the window's median week is what stepping the empty Mesa model between weeks costs
        "alone_weeks": len(w.get("alone", [])), "alone_week_median_ms": alone,
    }


def _window_lines(r: dict[str, Any], w: dict[str, Any]) -> list[str]:
    target = TARGETS.get(r["scenario"]) if r["scale"] == 1.0 else None
    met = "met" if target is not None and w["ratio_amortised"] >= target else "MISSED"
    mark = "" if target is None else f"  (target >= {target:g}x: {met})"
    return [
        f"{w['year']}: {w['residents']:,} residents, {w['ties']:,} ties "
        f"({w['ties_per_resident']:.2f} per resident)",
        f"  week median {w['week_median_ms']:.1f} ms, mean {w['week_mean_ms']:.1f} ms, yearly step "
        f"{w['yearly_ms']:.0f} ms, amortised {w['amortised_ms']:.1f} ms over {w['weeks']} weeks",
        f"  empty Mesa shuffle_do ({w['agents']:,} no-op agents) median {w['empty_mesa_ms']:.1f} ms",
        f"  ratio to empty Mesa: median week {w['ratio_median']:.1f}x, amortised {w['ratio_amortised']:.1f}x{mark}",
        f"  per resident-step: {w['ns_per_resident_step_median']:.0f} ns (median week), "
        f"{w['ns_per_resident_step_amortised']:.0f} ns (amortised)",
    ] + ([f"  the {w['alone_weeks']} weeks of {w['year'] - 1}, with no empty Mesa step beside them: median "
          f"{w['alone_week_median_ms']:.1f} ms (the window's median week is "
          f"{w['week_median_ms'] / w['alone_week_median_ms']:.1f}x that)"]
         if w["alone_week_median_ms"] else [])


def format_run(r: dict[str, Any]) -> str:
    """Return the figures of one run as text."""
    head = (f"{r['scenario']} scale {r['scale']:g}, {r['years']} years, seed {r['seed']}"
            + (f", ties x{r['ties_factor']:g}" if r["ties_factor"] != 1.0 else ""))
    lines = [head, "-" * len(head)]
    for w in r["windows"].values():
        lines += _window_lines(r, w)
    lines += [
        f"whole run: build {r['build_s']:.1f} s, {r['steps']} steps in {r['run_s']:.1f} s "
        f"({r['amortised_week_ms']:.1f} ms/week amortised, {r['resident_steps_per_s'] / 1e6:.2f} M resident-steps/s)",
        f"memory: state {r['state_mb']:.0f} MB at the end, peak RSS {r['peak_rss_mb']:,.0f} MB (after the build "
        f"{r['peak_rss_build_mb']:,.0f} MB, before it {r['rss_before_build_mb']:,.0f} MB; Mesa handles "
        f"{'kept' if r['agents'] else 'not kept'}; empty Mesa model in {r['comparator']})",
    ]
    return "\n".join(lines)


def _pct(x: float) -> str:
    return f"{x:+.0f}%" if x == x else "n/a"


def _flat(flat: bool, band: float) -> str:
    return f"FLAT, within +-{band:g}%" if flat else f"NOT flat, outside +-{band:g}%"


def format_paired(p: dict[str, Any]) -> str:
    """Return the figures of a paired run as text: each factor's windows, the whole-run table, the verdict."""
    factors = ", ".join(f"x{f:g}" for f in p["factors"])
    head = (f"{p['scenario']} scale {p['scale']:g}, {p['years']} years, seed {p['seed']}: ties {factors}, "
            f"one model each, stepped in turns in one process ({p['rounds']} rounds)")
    lines = [head, "-" * len(head)]
    for r in p["runs"]:
        lines.append(f"ties x{r['ties_factor']:g}:")
        for w in r["windows"].values():
            lines += ["  " + line for line in _window_lines(r, w)]
        lines.append(f"  whole run: build {r['build_s']:.1f} s, {r['steps']} steps in {r['run_s']:.1f} s "
                     f"({r['resident_steps_per_s'] / 1e6:.2f} M resident-steps/s; CPU time {r['cpu_s']:.1f} s, "
                     f"{r['cpu_share']:.0%} of it), state {r['state_mb']:.0f} MB "
                     f"at the end; empty Mesa model in {r['comparator']}")
    lines += [
        "",
        "whole run, paired (weeks: every step in which no year ends; turn: the median of every step into the next"
        " year; amortised: mean week + median turn / 52):",
        "| ties factor | ties / resident | week, median | week, mean | turn, median | week, amortised "
        "| per resident-step, amortised | whole run | per resident-step, whole run | whole run, CPU "
        "| per resident-step, CPU |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for i, (r, c) in enumerate(zip(p["runs"], p["change_pct"], strict=True)):
        cells = [
            (f"{r['ties_per_resident']:.2f}", "ties_per_resident"),
            (f"{r['week_median_ms']:.1f} ms", "week_median_ms"),
            (f"{r['week_mean_ms']:.1f} ms", "week_mean_ms"),
            (f"{r['turn_median_ms']:.0f} ms of {len(r['turns_ms'])}", "turn_median_ms"),
            (f"{r['amortised_ms']:.1f} ms", "amortised_ms"),
            (f"{r['ns_per_resident_step_amortised']:.0f} ns", "ns_per_resident_step_amortised"),
            (f"{r['run_s']:.1f} s", "run_s"),
            (f"{r['ns_per_resident_step_run']:.0f} ns", "ns_per_resident_step_run"),
            (f"{r['cpu_s']:.1f} s", "cpu_s"),
            (f"{r['ns_per_resident_step_cpu']:.0f} ns", "ns_per_resident_step_cpu"),
        ]
        texts = [text if i == 0 else f"{text} ({_pct(c[key])})" for text, key in cells]
        lines.append("| " + " | ".join([f"x{r['ties_factor']:g}", *texts]) + " |")
    for v in p["verdict"]:
        years = ", ".join(f"{y} {_pct(c)}" for y, c in v["year_cpu_change_pct"].items())
        lines += [
            f"verdict x{v['ties_factor']:g} against x{v['against']:g} (ties per resident {v['ties_ratio']:.2f}x): "
            f"cost per resident-step over the whole run {_pct(v['change_pct'])} in wall-clock time, "
            f"{_flat(v['flat'], v['band_pct'])}; {_pct(v['cpu_change_pct'])} in CPU time, "
            f"{_flat(v['cpu_flat'], v['band_pct'])}",
            f"  CPU time of each simulated year against x{v['against']:g}: {years} "
            f"(median {_pct(v['year_cpu_change_median_pct'])})",
        ]
    lines.append(f"memory: peak RSS {p['peak_rss_mb']:,.0f} MB for the {len(p['runs'])} models together "
                 f"(Mesa handles {'kept' if p['runs'][0]['agents'] else 'not kept'})")
    return "\n".join(lines)


def _model_runs(results: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The run of each model: a paired result holds one per ties factor."""
    out = []
    for res in results:
        for paired in res.get("repeats", [res]):
            out += paired["runs"] if paired.get("paired") else [paired]
    return out


def format_summary(results: Sequence[dict[str, Any]]) -> str:
    """Return one line per window: the issue's table."""
    rows = ["| run | residents | ties/resident | ms/week (median) | ms/week (amortised) | empty Mesa ms "
            "| ratio (median) | ratio (amortised) |", "|---|---|---|---|---|---|---|---|"]
    for r in _model_runs(results):
        for w in r["windows"].values():
            tf = f", ties x{r['ties_factor']:g}" if r["ties_factor"] != 1.0 else ""
            rows.append(f"| {r['scenario']} scale {r['scale']:g}{tf}, {w['year']} | {w['residents']:,} | "
                        f"{w['ties_per_resident']:.2f} | {w['week_median_ms']:.1f} | {w['amortised_ms']:.1f} | "
                        f"{w['empty_mesa_ms']:.0f} | {w['ratio_median']:.1f}x | {w['ratio_amortised']:.1f}x |")
    return "\n".join(rows)


def combine_repeats(repeats: Sequence[dict[str, Any]], factors: Sequence[float]) -> dict[str, Any]:
    """One verdict from paired runs of the same scenario, built in the order of ``factors`` or reversed.

    Each paired run's ``factors`` give its build order; its runs are put back in the order of
    ``factors`` and compared against the first (:func:`flatness_verdict`). Per later factor the
    changes of the whole run's cost per resident-step (wall-clock and CPU time) of every paired run,
    their means, and whether each mean is within ±``FLAT``%. Reversing the build order every other
    run cancels whatever the place of a model in its process adds to or takes from its cost.
    """
    verdicts, orders = [], []
    for res in repeats:
        reversed_ = list(res["factors"]) != list(factors)
        if reversed_ and list(res["factors"]) != list(factors)[::-1]:
            raise ValueError(f"a paired run of factors {res['factors']} is not one of {list(factors)}")
        runs = res["runs"][::-1] if reversed_ else res["runs"]
        verdicts.append(flatness_verdict(runs))
        orders.append(list(res["factors"]))
    combined = []
    for j, v in enumerate(verdicts[0]):
        wall = [vs[j]["change_pct"] for vs in verdicts]
        cpu = [vs[j]["cpu_change_pct"] for vs in verdicts]
        years = [c for vs in verdicts for c in vs[j]["year_cpu_change_pct"].values()]
        interval, cpu_interval = _interval(wall), _interval(cpu)
        combined.append({"ties_factor": v["ties_factor"], "against": v["against"],
                         "ties_ratio": _mean([vs[j]["ties_ratio"] for vs in verdicts]),
                         "changes_pct": wall, "cpu_changes_pct": cpu, "change_pct": _mean(wall),
                         "cpu_change_pct": _mean(cpu), "year_cpu_change_median_pct": _median(years),
                         "interval_pct": interval, "cpu_interval_pct": cpu_interval,
                         "confidence": CONFIDENCE, "band_pct": FLAT, "flat": bool(abs(_mean(wall)) <= FLAT),
                         "cpu_flat": bool(abs(_mean(cpu)) <= FLAT),
                         "interval_side": _side(interval, FLAT), "cpu_interval_side": _side(cpu_interval, FLAT)})
    first = repeats[0]
    return {"paired": True, "scenario": first["scenario"], "scale": first["scale"], "years": first["years"],
            "seed": first["seed"], "factors": list(factors), "build_orders": orders, "repeats": list(repeats),
            "verdict": combined}


def format_repeats(c: dict[str, Any]) -> str:
    """Return the combined verdict of repeated paired runs as text."""
    head = (f"{c['scenario']} scale {c['scale']:g}, {c['years']} years, seed {c['seed']}: {len(c['repeats'])} "
            "paired runs, each in its own process, the build order reversed every other run")
    lines = [head, "-" * len(head)]
    for v in c["verdict"]:
        lines.append(f"x{v['ties_factor']:g} against x{v['against']:g}, cost per resident-step over the whole run:")
        for order, wall, cpu in zip(c["build_orders"], v["changes_pct"], v["cpu_changes_pct"], strict=True):
            built = ", ".join(f"x{f:g}" for f in order)
            lines.append(f"  built {built}: {_pct(wall)} in wall-clock time, {_pct(cpu)} in CPU time")
        lines.append(
            f"verdict x{v['ties_factor']:g} against x{v['against']:g} (ties per resident {v['ties_ratio']:.2f}x), "
            f"mean of {len(c['repeats'])} paired runs: {_pct(v['change_pct'])} in wall-clock time, "
            f"{_flat(v['flat'], v['band_pct'])}; {_pct(v['cpu_change_pct'])} in CPU time, "
            f"{_flat(v['cpu_flat'], v['band_pct'])} (each simulated year's CPU time: median "
            f"{_pct(v['year_cpu_change_median_pct'])})")
        if len(c["repeats"]) > 1:
            lines.append(f"  {v['confidence']:.0%} interval of the mean: {_span(v['interval_pct'])} in wall-clock time "
                         f"({_where(v['interval_side'], v['band_pct'])}), {_span(v['cpu_interval_pct'])} in CPU time "
                         f"({_where(v['cpu_interval_side'], v['band_pct'])})")
    return "\n".join(lines)


def _span(interval: tuple[float, float]) -> str:
    return f"{_pct(interval[0])} to {_pct(interval[1])}"


def _where(side: str, band: float) -> str:
    return {"within": f"within +-{band:g}%", "outside": f"outside +-{band:g}%",
            "across": f"across the edge of +-{band:g}%: these runs do not settle the verdict",
            "unknown": "unknown"}[side]


def _in_child(args: argparse.Namespace, scenario: str, at: Sequence[int],
              factors: Sequence[float]) -> dict[str, Any]:
    """Run one scenario (its ties factors paired if several) in a fresh Python process; return its figures."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "run.json"
        cmd = [sys.executable, str(HERE), "--scenario", scenario, "--scale", str(args.scale), "--years",
               str(args.years), "--seed", str(args.seed), "--ties-factor", *[str(f) for f in factors],
               "--json", str(out), "--at", *[str(y) for y in at]]
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
    p.add_argument("--ties-factor", type=float, nargs="+", default=[1.0], metavar="F",
                   help="multiply the mean ties per resident; several factors build one model each in one process "
                        "and step them in turns, a paired comparison against the first (the models live at once: "
                        "two koto-all models at full scale take about 1 GB each, plus about 0.5 GB per empty "
                        "Mesa helper, and fit in 24 GB)")
    p.add_argument("--ties-flatness", action="store_true", help="the same as --ties-factor 1 2 (paired)")
    p.add_argument("--repeat", type=int, default=1, metavar="N",
                   help="with several ties factors: N paired runs, each in its own process, the build order "
                        "reversed every other run, and one verdict on their mean (default 1)")
    p.add_argument("--issue", action="store_true", help="koto-all (2020, 2030) and koto (2020), full scale")
    p.add_argument("--in-process", action="store_true", help="keep the empty Mesa model(s) in this process")
    p.add_argument("--no-agents", action="store_true", help="build the model without Mesa handles")
    p.add_argument("--json", metavar="PATH", help="also write the figures as JSON to PATH (atomically)")
    args = p.parse_args(argv)
    if args.years < 1:
        p.error("--years must be at least 1")
    if args.scale <= 0 or min(args.ties_factor) <= 0:
        p.error("--scale and --ties-factor must be positive")
    if args.ties_flatness:
        args.ties_factor = [1.0, 2.0]
    if args.repeat < 1:
        p.error("--repeat must be at least 1")
    if args.repeat > 1 and (len(args.ties_factor) < 2 or args.issue):
        p.error("--repeat needs several --ties-factor values (a paired run)")
    return args


def main(argv: Sequence[str] | None = None) -> list[dict[str, Any]]:
    """Run the benchmark, print the figures (and write JSON if asked); return the figures of every run.

    With several ties factors each scenario is one paired run (:func:`run_paired`), whose figures hold
    one run per factor under ``runs``; with ``--repeat`` several, each in a child process, combined by
    :func:`combine_repeats` (the paired runs under ``repeats``).
    """
    args = parse_args(argv)
    from kyojosim.runs.kernels import compile_ahead

    # the kernels compiled (once after installing) in a child process, as a run or sweep does: this process
    # loads them from the cache, and its time and memory are those of every run after the first
    print(f"compiled kernels: {compile_ahead(notify=print)}", flush=True)
    if args.issue:
        plan = [(s, at, (1.0,)) for s, at in ISSUE]
    else:
        scenarios = args.scenario or ["koto-all"]
        plan = [(s, tuple(args.at), tuple(args.ties_factor)) for s in scenarios]
    if args.repeat > 1:
        results = []
        for s, at, factors in plan:
            repeats = []
            for i in range(args.repeat):
                repeats.append(_in_child(args, s, at, factors if i % 2 == 0 else factors[::-1]))
                print(flush=True)
            results.append(combine_repeats(repeats, factors))
            print(format_repeats(results[-1]), flush=True)
            print(flush=True)
        if len(results) > 1:
            print(format_summary(results), flush=True)
    elif len(plan) == 1:
        s, at, factors = plan[0]
        if len(factors) == 1:
            results = [run(s, args.scale, args.years, args.seed, at, factors[0], args.in_process,
                           not args.no_agents)]
            print(format_run(results[0]), flush=True)
        else:
            results = [run_paired(s, args.scale, args.years, args.seed, at, factors, args.in_process,
                                  not args.no_agents)]
            print(format_paired(results[0]), flush=True)
    else:
        results = []
        for s, at, factors in plan:
            results.append(_in_child(args, s, at, factors))  # the child prints its own figures
            print(flush=True)
        print(format_summary(results), flush=True)
    if args.json:
        write_json(args.json, results if len(results) > 1 else results[0])
        print(f"wrote {args.json}")
    return results


if __name__ == "__main__":
    main()
