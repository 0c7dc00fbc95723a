"""Fit the community-dynamics parameters to the 2008 -> 2017 participation mix (図表4-3-5-2).

One command reproduces the fit and writes the fitted values, with their provenance, into the
scenario defaults (src/kyojosim/params/scenario.py, the parameters under the ``# fitted:`` marker)::

    python experiments/validation/fit_participation.py            # grid search, then write
    python experiments/validation/fit_participation.py --dry-run  # grid search only

Procedure (kyojosim.analysis.validation.fit_participation): a full grid over
``communities.offline_trend`` x ``communities.online_join_rate``; each point runs the 2008 -> 2017
experiment (Ikoma at scale 0.02, seeds 1 and 2, the same seeds at every point); the objective is
the sum of squared gaps (points) between the simulated and the published 2017 shares of the four
participation groups (residents 20-79). The best point is written back.
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
import sys
from pathlib import Path

import pandas as pd

from kyojosim.analysis.validation import DEFAULT_GRID, fit_participation

ROOT = Path(__file__).resolve().parents[2]
SCENARIO_PY = ROOT / "src" / "kyojosim" / "params" / "scenario.py"


def write_defaults(best: pd.Series, seeds, scale: float) -> None:
    text = SCENARIO_PY.read_text(encoding="utf-8")
    stamp = dt.date.today().isoformat()
    for key in ("offline_trend", "online_join_rate"):
        value = round(float(best[f"communities.{key}"]), 4)
        pattern = re.compile(rf"(    {key}: float = param\(\n        )([-0-9.e]+)(,\n)")
        if not pattern.search(text):
            sys.exit(f"error: cannot find the default of communities.{key} in {SCENARIO_PY}")
        text = pattern.sub(lambda m, v=value: f"{m.group(1)}{v}{m.group(3)}", text, count=1)
    note = (f"    # fitted: experiments/validation/fit_participation.py (offline_trend, online_join_rate) on {stamp}:\n"
            f"    #   ikoma scale {scale}, seeds {list(seeds)}, objective {best['objective']:.2f}, max gap "
            f"{best['max_abs_gap']:.1f} points\n")
    text = re.sub(r"    # fitted: experiments/validation/fit_participation\.py[^\n]*\n(    #   [^\n]*\n)?",
                  lambda m: note, text, count=1)
    tmp = SCENARIO_PY.with_suffix(".py.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(SCENARIO_PY)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=2, help="seeds 1..N at every grid point (default 2)")
    ap.add_argument("--scale", type=float, default=0.02, help="fraction of Ikoma simulated (default 0.02)")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--dry-run", action="store_true", help="print the grid, do not write the defaults")
    args = ap.parse_args(argv)
    seeds = tuple(range(1, args.seeds + 1))
    table = fit_participation(DEFAULT_GRID, seeds=seeds, scale=args.scale, n_jobs=args.jobs)
    with pd.option_context("display.width", 200, "display.max_rows", 100):
        print(table.round(3).to_string(index=False))
    best = table.iloc[0]
    print(f"\nbest: offline_trend={best['communities.offline_trend']}, "
          f"online_join_rate={best['communities.online_join_rate']} (max gap {best['max_abs_gap']:.1f} points)")
    if not args.dry_run:
        write_defaults(best, seeds, args.scale)
        print(f"written to {SCENARIO_PY.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
