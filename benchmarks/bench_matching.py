"""Matching benchmark: greedy quality against the exact optimum, and the time to match a large week.

Prints figures, never asserts on them:

* the ratio greedy total / exact optimum (:func:`kyojosim.aid.matching.exact_max_weight`) over random
  small cases, with unit capacities and with general hour capacities: mean, worst, 5th
  percentile, share of cases solved optimally;
* the time :func:`kyojosim.aid.matching.match` takes on two synthetic weeks, with each method (the
  compiled sequential pass and the numpy rounds), in ms per call: the median and best of
  ``--repeat`` calls after a first call that is timed apart (for the sequential pass it loads or
  compiles the kernel), whether both methods gave the same matching, the rounds used and the
  share of needs matched. The weeks:

  - *random*: ``--needs`` needs with ``--per-need`` candidates each among ``--helpers`` helpers,
    continuous weights, needs of 0.5-4 h, helpers with 0-8 h left;
  - *Koto-like*: shaped on a week of ``koto-all`` at full scale in 2020 (about 320,000 candidate
    edges, most of them from the reporting hub's volunteers): ``--koto-edges`` edges over 18,700
    needs with candidates among 56,000 open needs, helpers drawn from 150,000 of ``--koto-helpers``
    residents, weights on a grid of 1e-4 between 0.06 and 4.2 (many ties, broken by a random
    permutation as the model does), needs' hours float32 gamma (shape 2, mean 1.7 h, at least
    0.25 h), helpers with 0, 2 or 5 h left;
* the cost of the compiled kernel in fresh processes, with an empty compile cache
  (``NUMBA_CACHE_DIR`` set to a new temporary folder, removed afterwards) and then with that
  cache filled: importing the kernel module (numba), and the first call on a tiny case
  (compilation, or loading from the cache).

    .venv/bin/python benchmarks/bench_matching.py
    .venv/bin/python benchmarks/bench_matching.py --cases 0 --repeat 9      # timings only
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from kyojosim.aid.matching import METHODS, Candidates, exact_max_weight, match


def random_case(
    rng: np.random.Generator, n_needs: int, n_helpers: int, per_need: float, unit: bool
) -> tuple[Candidates, np.ndarray, np.ndarray]:
    """A random candidate graph with about ``per_need`` candidates per need.

    Weights are drawn from 1..20 (so ties happen), needs take 0.5-4 h in half-hour slots; with
    ``unit`` every helper has 1 h left and every need takes 1 h, otherwise helpers have 0-8 h left.
    """
    n_edges = int(round(n_needs * per_need))
    need = rng.integers(0, n_needs, n_edges)
    helper = rng.integers(0, n_helpers, n_edges)
    weight = rng.integers(1, 21, n_edges).astype(np.float64)
    channel = rng.integers(0, 3, n_edges).astype(np.int8)
    if unit:
        hours = np.ones(n_needs)
        capacity = np.ones(n_helpers)
    else:
        hours = rng.integers(1, 9, n_needs) / 2.0
        capacity = rng.integers(0, 17, n_helpers) / 2.0
    return Candidates(need, helper, weight, channel), hours, capacity


def koto_like_week(rng: np.random.Generator, n_edges: int, n_helpers: int) -> tuple[Candidates, np.ndarray, np.ndarray]:
    """A week shaped on ``koto-all`` at full scale in 2020 (see the module docstring)."""
    n_open, n_asked, n_active = 56_000, 18_700, min(150_000, n_helpers)
    need = rng.integers(0, n_asked, n_edges)
    active = rng.choice(n_helpers, n_active, replace=False)
    helper = active[rng.integers(0, n_active, n_edges)]
    weight = np.round(rng.uniform(0.06, 4.2, n_edges), 4).astype(np.float32).astype(np.float64)
    channel = rng.choice(np.array([1, 2, 4], dtype=np.int8), n_edges, p=[0.06, 0.15, 0.79])
    hours = np.maximum(rng.gamma(2.0, 1.7 / 2.0, n_open).astype(np.float32), 0.25).astype(np.float64)
    capacity = rng.choice(np.array([0.0, 2.0, 5.0]), n_helpers, p=[0.04, 0.6, 0.36])
    return Candidates(need, helper, weight, channel), hours, capacity


def quality(cases: int, seed: int, unit: bool) -> dict[str, float]:
    """Ratio greedy / optimum over ``cases`` random small cases (cases whose optimum is 0 are skipped)."""
    rng = np.random.default_rng(seed)
    ratios = []
    for _ in range(cases):
        cand, hours, capacity = random_case(rng, int(rng.integers(12, 31)), int(rng.integers(8, 21)), 3.0, unit)
        best = exact_max_weight(cand, hours, capacity)
        if best > 0:
            ratios.append(match(cand, hours, capacity).total_weight / best)
    r = np.asarray(ratios)
    return {
        "cases": float(r.size),
        "mean": float(r.mean()),
        "worst": float(r.min()),
        "p05": float(np.quantile(r, 0.05)),
        "optimal_share": float(np.mean(r >= 1 - 1e-12)),
    }


def timing(cand: Candidates, hours: np.ndarray, capacity: np.ndarray, seed: int, repeat: int) -> dict[str, Any]:
    """Time each method on one week: the first call apart, then ``repeat`` calls (ms per call).

    Every call gets a fresh ``np.random.default_rng(seed)`` for its tie-breaks, as the model
    gives the matching a fresh stream each week.
    """
    out: dict[str, Any] = {"edges": len(cand), "needs": int(hours.size), "helpers": int(capacity.size)}
    results = {}
    for method in METHODS:
        t0 = time.perf_counter()
        res = match(cand, hours, capacity, np.random.default_rng(seed), method=method)
        first = time.perf_counter() - t0
        times = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            res = match(cand, hours, capacity, np.random.default_rng(seed), method=method)
            times.append(time.perf_counter() - t0)
        results[method] = res
        out[method] = {
            "first_ms": first * 1e3,
            "median_ms": float(np.median(times)) * 1e3,
            "best_ms": min(times) * 1e3,
            "rounds": res.rounds,
            "converged": res.converged,
            "matched_share": len(res) / max(int(np.unique(cand.need).size), 1),
        }
    a, b = results["sequential"], results["rounds"]
    out["same_matching"] = bool(
        all(np.array_equal(getattr(a, k), getattr(b, k)) for k in ("need", "helper", "weight", "channel"))
    )
    out["speedup"] = out["rounds"]["median_ms"] / out["sequential"]["median_ms"]
    return out


_COMPILE_PROBE = """
import json, time
import numpy as np
import kyojosim.aid.matching
t0 = time.perf_counter()
from kyojosim.aid import matching_kernel
t1 = time.perf_counter()
from kyojosim.aid.matching import Candidates, match
cand = Candidates(np.array([0, 1, 1]), np.array([0, 0, 1]), np.array([2.0, 2.0, 1.0]), np.zeros(3, dtype=np.int8))
t2 = time.perf_counter()
match(cand, np.ones(2), np.ones(2), np.random.default_rng(0))
match(cand, np.ones(2), np.ones(2))
t3 = time.perf_counter()
match(cand, np.ones(2), np.ones(2), np.random.default_rng(0))
t4 = time.perf_counter()
print(json.dumps({"import_s": t1 - t0, "first_call_s": t3 - t2, "next_call_s": t4 - t3}))
"""


def compile_cost() -> dict[str, dict[str, float]]:
    """Import and first-call cost of the kernel in fresh processes: empty compile cache, then filled."""
    out = {}
    with tempfile.TemporaryDirectory(prefix="kyojosim-numba-cache-") as cache:
        env = {**os.environ, "NUMBA_CACHE_DIR": cache}
        for label in ("cold", "warm"):
            done = subprocess.run([sys.executable, "-c", _COMPILE_PROBE], env=env, check=True,
                                  capture_output=True, text=True)
            out[label] = json.loads(done.stdout.strip().splitlines()[-1])
    return out


def _print_timing(label: str, t: dict[str, Any]) -> None:
    print(f"match {label} ({t['edges']} edges, {t['needs']} needs, {t['helpers']} helpers): "
          f"same matching from both methods: {t['same_matching']}")
    for method in METHODS:
        m = t[method]
        print(f"  {method:10s} {m['median_ms']:8.1f} ms/call median, {m['best_ms']:8.1f} best "
              f"(first call {m['first_ms']:.1f} ms), rounds={m['rounds']} converged={m['converged']} "
              f"matched={m['matched_share']:.1%} of needs with candidates")
    print(f"  rounds / sequential: {t['speedup']:.1f}x")


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Run the benchmark, print the figures and return them."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--cases", type=int, default=200, help="random small cases per capacity kind (0: skip)")
    p.add_argument("--needs", type=int, default=50_000)
    p.add_argument("--helpers", type=int, default=100_000)
    p.add_argument("--per-need", type=int, default=10, help="candidates per need")
    p.add_argument("--koto-edges", type=int, default=320_000, help="candidate edges of the Koto-like week")
    p.add_argument("--koto-helpers", type=int, default=517_000, help="residents of the Koto-like week")
    p.add_argument("--repeat", type=int, default=7, help="timed calls per method after the first")
    p.add_argument("--no-compile-time", action="store_true", help="skip the fresh-process compile timing")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)

    out: dict[str, Any] = {}
    for kind, unit in (("unit", True), ("general", False)) if args.cases > 0 else ():
        q = quality(args.cases, args.seed, unit)
        out[f"quality_{kind}"] = q
        print(
            f"quality {kind:8s} cases={q['cases']:.0f} mean={q['mean']:.3f} worst={q['worst']:.3f} "
            f"p05={q['p05']:.3f} optimal={q['optimal_share']:.0%}"
        )
    rng = np.random.default_rng(args.seed)
    cand, hours, capacity = random_case(rng, args.needs, args.helpers, args.per_need, unit=False)
    cand.weight = rng.random(len(cand)) + 1e-9  # continuous weights, as the caller's combined score
    out["timing"] = timing(cand, hours, capacity, args.seed, args.repeat)
    _print_timing(f"{args.needs} needs x {args.per_need} candidates among {args.helpers} helpers", out["timing"])
    out["timing_koto"] = timing(*koto_like_week(rng, args.koto_edges, args.koto_helpers), args.seed, args.repeat)
    _print_timing("a Koto-like week", out["timing_koto"])
    if not args.no_compile_time:
        c = compile_cost()
        out["compile"] = c
        for label, what in (("cold", "empty cache: compiles"), ("warm", "filled cache: loads")):
            f = {k: v * 1e3 for k, v in c[label].items()}
            print(f"kernel in a fresh process, {what}: import {f['import_s']:.0f} ms, "
                  f"first call {f['first_call_s']:.0f} ms, next call {f['next_call_s']:.2f} ms")
    return out


if __name__ == "__main__":
    main()
