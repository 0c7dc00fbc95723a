"""Fit each bundled municipality's migration to its population projection.

For every 5-year period starting in year p, two yearly migration rates are fitted and added to
the scenario's estimated age profile of net migration: ``demography.migration.young_shift[p]``
(ages 15-39) and ``elderly_shift[p]`` (ages 65+), so that the mean of seeded runs meets the
projection's total population and 65+ share at year p + 5.

Procedure: periods are fitted in order, each run starting from the base year with the shifts
already fitted for earlier periods. Within a period, a fixed-point iteration moves the shifts
by the gaps: the elderly shift by (projected - simulated number aged 65+) / (5 x residents
65+), the young shift by the rest of the gap in the total / (5 x residents 15-39), damped by
0.8, until both relative errors are below 0.5% (at most 8 rounds). The fitted values are
written back into the scenario file in place of the ``young_shift:`` and ``elderly_shift:``
lines, with a comment giving the command.

Usage:
    python experiments/calibration/fit_demography.py [yamae ikoma koto] [--seeds 4] [--dry-run]
"""

from __future__ import annotations

import argparse
import re
import sys

import numpy as np

from kyojosim.results import run_one
from kyojosim.scenario import find_scenario, load_scenario

TOL = 0.005
ROUNDS = 8
DAMPING = 0.8


def simulate(scn, young, elderly, until, seeds):
    """Mean of the seeds at ``until``: total, 65+ share, residents 65+ and 15-39 (all scaled)."""
    over = {"demography.migration.young_shift": young, "demography.migration.elderly_shift": elderly,
            "simulation.years": until - scn.municipality.start_year}
    k = 1.0 / scn.municipality.scale

    def measure(m):
        pop = m.population
        age = pop.age[pop.live()]
        return (age.size * k, float((age >= 65).mean()) if age.size else 0.0,
                (age >= 65).sum() * k, ((age >= 15) & (age < 40)).sum() * k)

    out = [run_one(scn, seed=seed, overrides=over, observe=measure).observed[1] for seed in seeds]
    return np.mean(out, axis=0)


def fit(name: str, seeds: list[int]) -> tuple[dict[int, float], dict[int, float]]:
    """Fit the shifts of one scenario, period by period; print each period's errors."""
    scn = load_scenario(name)
    proj = scn.demography.projection
    targets = dict(zip(proj.years, zip(proj.total, proj.share_65plus, strict=True), strict=True))
    start = scn.municipality.start_year
    young: dict[int, float] = {}
    elderly: dict[int, float] = {}
    for p in range(start, max(proj.years), 5):
        if p + 5 not in targets:
            continue
        t_total, t_share = targets[p + 5]
        a = young.get(p - 5, 0.0)
        b = elderly.get(p - 5, 0.0)
        best = None
        for _ in range(ROUNDS):
            total, share, old, mid = simulate(scn, {**young, p: a}, {**elderly, p: b}, p + 5, seeds)
            e_total, e_share = total / t_total - 1.0, share / t_share - 1.0
            if best is None or max(abs(e_total), abs(e_share)) < max(abs(best[2]), abs(best[3])):
                best = (a, b, e_total, e_share)
            if abs(e_total) < TOL and abs(e_share) < TOL:
                break
            gap_old = t_share * t_total - old
            gap_rest = (t_total - total) - gap_old
            b = float(np.clip(b + DAMPING * gap_old / (5 * max(old, 1.0)), -0.3, 0.3))
            a = float(np.clip(a + DAMPING * gap_rest / (5 * max(mid, 1.0)), -0.3, 0.3))
        a, b, e_total, e_share = best  # the best simulated shifts, not one update past them
        young[p], elderly[p] = round(a, 5), round(b, 5)
        print(f"{name} {p}-{p + 5}: young_shift {young[p]:+.5f} elderly_shift {elderly[p]:+.5f} "
              f"errors total {e_total:+.2%} 65+ share {e_share:+.2%}", flush=True)
    return young, elderly


def write_back(name: str, young: dict[int, float], elderly: dict[int, float], seeds: list[int]) -> None:
    """Replace the shift lines of the scenario file, keeping everything else."""
    path = find_scenario(name)
    text = path.read_text(encoding="utf-8")
    fmt = lambda d: "{" + ", ".join(f"{k}: {v}" for k, v in sorted(d.items())) + "}"  # noqa: E731
    note = (f"    # fitted to the projection by: python experiments/calibration/fit_demography.py {name} "
            f"--seeds {len(seeds)}\n")
    text = re.sub(r"    # fitted to the projection by.*\n", "", text)
    text = re.sub(r"    young_shift: \{.*\}\n", note + f"    young_shift: {fmt(young)}\n", text)
    text = re.sub(r"    elderly_shift: \{.*\}\n", f"    elderly_shift: {fmt(elderly)}\n", text)
    path.write_text(text, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    """Fit the named scenarios (default: the three bundled ones)."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("scenarios", nargs="*", default=["yamae", "ikoma", "koto"])
    ap.add_argument("--seeds", type=int, default=4)
    ap.add_argument("--dry-run", action="store_true", help="print the fit without writing the files")
    args = ap.parse_args(argv)
    seeds = list(range(1, args.seeds + 1))
    for name in args.scenarios:
        young, elderly = fit(name, seeds)
        if not args.dry_run:
            write_back(name, young, elderly, seeds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
