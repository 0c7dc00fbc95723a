"""Matching benchmark: greedy quality against the exact optimum, and the time to match a large week.

Prints figures, never asserts on them:

* the ratio greedy total / exact optimum (:func:`kyojosim.matching.exact_max_weight`) over random
  small cases, with unit capacities and with general hour capacities: mean, worst, 5th
  percentile, share of cases solved optimally;
* the time :func:`kyojosim.matching.match` takes on ``--needs`` needs with ``--per-need``
  candidates each among ``--helpers`` helpers (best of ``--repeat``), the rounds it used and the
  share of needs matched.

    .venv/bin/python benchmarks/bench_matching.py
    .venv/bin/python benchmarks/bench_matching.py --cases 50 --needs 2000 --helpers 4000
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from kyojosim.matching import Candidates, exact_max_weight, match


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


def quality(cases: int, seed: int, unit: bool) -> dict[str, float]:
    """Ratio greedy / optimum over ``cases`` random small cases (cases whose optimum is 0 are skipped)."""
    rng = np.random.default_rng(seed)
    ratios = []
    for _ in range(cases):
        cand, hours, capacity = random_case(rng, int(rng.integers(12, 31)), int(rng.integers(8, 21)), 3.0, unit)
        best = exact_max_weight(cand, hours, capacity)
        if best > 0:
            ratios.append(match(cand, hours, capacity, max_rounds=1000).total_weight / best)
    r = np.asarray(ratios)
    return {
        "cases": float(r.size),
        "mean": float(r.mean()),
        "worst": float(r.min()),
        "p05": float(np.quantile(r, 0.05)),
        "optimal_share": float(np.mean(r >= 1 - 1e-12)),
    }


def timing(n_needs: int, n_helpers: int, per_need: int, seed: int, repeat: int, max_rounds: int) -> dict[str, Any]:
    """Best-of-``repeat`` wall time of one :func:`match` call on a large random week."""
    rng = np.random.default_rng(seed)
    cand, hours, capacity = random_case(rng, n_needs, n_helpers, per_need, unit=False)
    cand.weight = rng.random(len(cand)) + 1e-9  # continuous weights, as the caller's combined score
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        res = match(cand, hours, capacity, max_rounds=max_rounds)
        times.append(time.perf_counter() - t0)
    full = match(cand, hours, capacity, max_rounds=10_000)
    return {
        "edges": len(cand),
        "seconds": min(times),
        "rounds": res.rounds,
        "converged": res.converged,
        "matched_share": len(res) / n_needs,
        "rounds_to_converge": full.rounds,
        "same_as_converged": bool(np.array_equal(res.need, full.need) and np.array_equal(res.helper, full.helper)),
    }


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Run the benchmark, print the figures and return them."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--cases", type=int, default=200, help="random small cases per capacity kind")
    p.add_argument("--needs", type=int, default=50_000)
    p.add_argument("--helpers", type=int, default=100_000)
    p.add_argument("--per-need", type=int, default=10, help="candidates per need")
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--max-rounds", type=int, default=20)
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
    t = timing(args.needs, args.helpers, args.per_need, args.seed, args.repeat, args.max_rounds)
    out["timing"] = t
    print(
        f"match {args.needs} needs x {args.per_need} candidates among {args.helpers} helpers "
        f"({t['edges']} edges): {t['seconds'] * 1e3:.1f} ms, rounds={t['rounds']} converged={t['converged']} "
        f"matched={t['matched_share']:.1%} (converges in {t['rounds_to_converge']} rounds)"
    )
    return out


if __name__ == "__main__":
    main()
