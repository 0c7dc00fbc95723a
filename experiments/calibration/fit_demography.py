"""Fit each bundled municipality's migration to its population projection, and write the shifts back.

A thin wrapper around :func:`kyojosim.runs.calibration.fit_migration` (the procedure is described there
and in docs/ODD.md §6.3): for every 5-year period it fits ``young_shift`` (ages 15-39),
``elderly_shift`` (65+) and ``oldest_shift`` (75+) so that the mean of seeded runs meets the
projection's total and its 65+ and 75+ shares, then replaces the ``young_shift:``,
``elderly_shift:`` and ``oldest_shift:`` lines of the scenario file, keeping everything else, with
a comment giving the command.

Usage:
    python experiments/calibration/fit_demography.py [yamae ikoma koto] [--seeds 4] [--dry-run]
"""

from __future__ import annotations

import argparse
import re
import sys

from kyojosim.params.scenario import find_scenario, load_scenario
from kyojosim.runs.builder import number
from kyojosim.runs.calibration import fit_migration


def fit(name: str, seeds: list[int]):
    """Fit the shifts of one scenario; print the fitted runs against the projection."""
    result = fit_migration(load_scenario(name), seeds=seeds, progress=True)
    for p in sorted(result.young_shift):
        print(f"{name} {p}-{p + 5}: young_shift {result.young_shift[p]:+.5f} elderly_shift "
              f"{result.elderly_shift[p]:+.5f} oldest_shift {result.oldest_shift.get(p, 0.0):+.5f}")
    t = result.table
    print(f"{name}: largest error 2015-2045 (mean of seeds {seeds[0]}-{seeds[-1]}): total "
          f"{t['total_error'].abs().max():.2%}, 65+ share {100 * t['share_65plus_diff'].abs().max():.2f} points, "
          f"75+ share {100 * t['share_75plus_diff'].abs().max():.2f} points", flush=True)
    return result


def write_back(name: str, result, seeds: list[int]) -> None:
    """Replace the shift lines of the scenario file, keeping everything else."""
    path = find_scenario(name)
    text = path.read_text(encoding="utf-8")
    fmt = lambda d: "{" + ", ".join(f"{k}: {number(v)}" for k, v in sorted(d.items())) + "}"  # noqa: E731
    note = (f"    # fitted to the projection by: python experiments/calibration/fit_demography.py {name} "
            f"--seeds {len(seeds)}\n")
    text = re.sub(r"    # fitted to the projection by.*\n", "", text)
    text = re.sub(r"    oldest_shift: \{.*\}\n", "", text)
    text = re.sub(r"    young_shift: \{.*\}\n", note + f"    young_shift: {fmt(result.young_shift)}\n", text)
    shifts = f"    elderly_shift: {fmt(result.elderly_shift)}\n"
    if result.oldest_shift:
        shifts += f"    oldest_shift: {fmt(result.oldest_shift)}\n"
    text = re.sub(r"    elderly_shift: \{.*\}\n", shifts, text)
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
        result = fit(name, seeds)
        if not args.dry_run:
            write_back(name, result, seeds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
