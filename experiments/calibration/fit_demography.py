"""Fit each bundled municipality's migration levels to its population projection.

For every 5-year period starting in year p, two multipliers of the scenario's net migration
rates are fitted: ``demography.migration.level[p]`` (all ages) and ``elderly_level[p]`` (65+),
so that the mean of seeded runs meets the projection's total population and 65+ share at
year p + 5. Periods are fitted in order (each run starts from the base year with the levels
already fitted for earlier periods), by damped Newton steps on the relative errors with a
finite-difference Jacobian. The fitted values are written back into the scenario file, in
place of the ``level:`` and ``elderly_level:`` lines, with a comment giving the command.

Usage:
    python experiments/calibration/fit_demography.py [yamae ikoma koto] [--seeds 4]
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import numpy as np

from kyojosim.model import KyojoModel
from kyojosim.scenario import find_scenario, load_scenario

TOL = 0.01  # stop when both relative errors are below 1%


def simulate(scn, levels, elderly, until, seeds):
    """Mean (total scaled, 65+ share) at ``until`` over the seeds."""
    over = {"demography.migration.level": levels, "demography.migration.elderly_level": elderly,
            "simulation.years": until - scn.municipality.start_year}
    tot, sh = [], []
    for seed in seeds:
        m = KyojoModel(scn, seed=seed, overrides=over)
        while m.running:
            m.step()
        row = m.yearly[-1]
        tot.append(row["population_scaled"])
        sh.append(row["share_65plus"])
    return float(np.mean(tot)), float(np.mean(sh))


def fit(name: str, seeds: list[int]) -> tuple[dict[int, float], dict[int, float]]:
    """Fit the period levels of one scenario; print the progress and the final errors."""
    scn = load_scenario(name)
    proj = scn.demography.projection
    targets = dict(zip(proj.years, zip(proj.total, proj.share_65plus, strict=True), strict=True))
    start = scn.municipality.start_year
    levels: dict[int, float] = {}
    elderly: dict[int, float] = {}
    x = np.array([1.0, 1.0])
    for p in range(start, max(proj.years), 5):
        if p + 5 not in targets:
            continue
        t_total, t_share = targets[p + 5]

        def err(v, p=p, t_total=t_total, t_share=t_share):
            lv = {**levels, p: float(v[0])}
            el = {**elderly, p: float(v[1])}
            total, share = simulate(scn, lv, el, p + 5, seeds)
            return np.array([total / t_total - 1.0, share / t_share - 1.0])

        e = err(x)
        for _ in range(8):
            if np.all(np.abs(e) < TOL):
                break
            h = 0.15
            jac = np.column_stack([(err(x + h * np.eye(2)[i]) - e) / h for i in range(2)])
            try:
                step = np.linalg.lstsq(jac, -e, rcond=None)[0]
            except np.linalg.LinAlgError:
                break
            best = (np.abs(e).max(), x, e)
            for damp in (1.0, 0.5, 0.25):
                cand = np.clip(x + damp * step, 0.0, 10.0)
                ec = err(cand)
                if np.abs(ec).max() < best[0]:
                    best = (np.abs(ec).max(), cand, ec)
                    break
            if best[1] is x:
                break
            x, e = best[1], best[2]
        levels[p], elderly[p] = round(float(x[0]), 3), round(float(x[1]), 3)
        print(f"{name} {p}-{p + 5}: level {levels[p]:.3f} elderly {elderly[p]:.3f} "
              f"errors total {e[0]:+.3%} 65+ {e[1]:+.3%}", flush=True)
    return levels, elderly


def write_back(name: str, levels: dict[int, float], elderly: dict[int, float], seeds: list[int]) -> None:
    """Replace the level lines of the scenario file, keeping everything else."""
    path = find_scenario(name)
    text = path.read_text(encoding="utf-8")
    fmt = lambda d: "{" + ", ".join(f"{k}: {v}" for k, v in sorted(d.items())) + "}"  # noqa: E731
    note = (f"    # fitted to the projection by experiments/calibration/fit_demography.py {name} "
            f"--seeds {len(seeds)} (mean of seeds {seeds[0]}-{seeds[-1]} at the file's scale)\n")
    text = re.sub(r"    # fitted to the projection by .*\n", "", text)
    text = re.sub(r"    level: \{.*\}\n", note + f"    level: {fmt(levels)}\n", text)
    text = re.sub(r"    elderly_level: \{.*\}\n", f"    elderly_level: {fmt(elderly)}\n", text)
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
        levels, elderly = fit(name, seeds)
        if not args.dry_run:
            write_back(name, levels, elderly, seeds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
