"""The 2008 -> 2017 experiment: participation in communities as smartphones spread (図表4-3-5-2).

Starts a town from the 2008 participation mix with 2008 smartphone ownership, runs nine years with
smartphone ownership by age following Japan's series (総務省 通信利用動向調査, 2011-2017 published,
2008-2010 estimated: kyojosim/data/smartphone_japan.csv), and prints the simulated 2017 mix for all
ages (20-79) and each age group against the published 2017 row. Targets: all ages within ±5 points.

    python experiments/validation/participation_2008_2017.py                 # full: Ikoma 0.1, seeds 1-5
    python experiments/validation/participation_2008_2017.py --scale 0.02 --seeds 2 --out results/validation
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from kyojosim.analysis.validation import run_seeds, summarise_runs, tsunagari_order
from kyojosim.atomic import write_text

TOLERANCE = 5.0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", default="ikoma")
    ap.add_argument("--scale", type=float, default=0.1)
    ap.add_argument("--seeds", type=int, default=5, help="seeds 1..N")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--out", type=Path, default=None, help="folder for participation_2008_2017.csv")
    args = ap.parse_args(argv)
    runs = run_seeds(range(1, args.seeds + 1), args.scenario, args.scale, None, args.jobs)
    table = summarise_runs(runs)
    order = tsunagari_order(runs)
    wide = table.pivot(index="age_group", columns="group", values="sim_2017")
    wide = wide.reindex(index=list(dict.fromkeys(table["age_group"])), columns=list(dict.fromkeys(table["group"])))
    print(f"Simulated 2017 participation mix (percent of residents; {args.scenario} at scale {args.scale}, "
          f"seeds 1-{args.seeds}, mean):")
    print(wide.round(1).to_string())
    allrow = table[table["age_group"] == "all"].set_index("group")
    print("\nAll ages (20-79) against 図表4-3-5-2:")
    print(allrow[["published_2008", "sim_2008", "published_2017", "sim_2017", "sim_2017_min", "sim_2017_max",
                  "gap_2017"]].round(1).to_string())
    worst = float(allrow["gap_2017"].abs().max())
    ok = worst <= TOLERANCE
    print(f"\nlargest gap {worst:.1f} points: {'within' if ok else 'OUTSIDE'} ±{TOLERANCE:.0f} points")
    print("\nMean つながり力 by participation group, each seed (図表4-3-5-4: both > online only, both > offline only):")
    print(order.round(1).to_string(index=False))
    held = bool(order["holds"].all())
    print(f"ordering holds in {int(order['holds'].sum())} of {len(order)} (seed, year) pairs")
    if args.out is not None:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        path = write_text(out / "participation_2008_2017.csv", table.to_csv(index=False))
        write_text(out / "tsunagari_order.csv", order.to_csv(index=False))
        print(f"written: {path} and tsunagari_order.csv")
    return 0 if ok and held else 1


if __name__ == "__main__":
    with pd.option_context("display.width", 200):
        raise SystemExit(main())
