"""Is Community Value a good KPI? Community Value beside matching and つながり力 on Koto with its local SNS.

Runs koto-sns with the SNS's adoption rate at half, the default and twice (and, for each, the
offline events programme on), over seeds, and prints:

1. within runs, month by month: the rank correlation (Spearman) of Community Value with the month's
   matches through the SNS, the month's overall matching rate and mean つながり力, in levels (which
   share the SNS's growth) and in month-to-month changes (which do not);
2. across variants, in the last year: Community Value, monthly active users, matches through the SNS,
   the overall matching rate and mean つながり力, each as the mean over seeds.

    python experiments/validation/community_value_kpi.py --seeds 3 --years 10 --scale 0.01
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from kyojosim.atomic import write_text
from kyojosim.measures.community_value import kpi_table
from kyojosim.runs.executor import map_runs

VARIANTS = {
    "adoption ×0.5": {"interventions.local_sns.adoption_rate": 0.05},
    "default": {},
    "adoption ×2": {"interventions.local_sns.adoption_rate": 0.2},
    "default + offline events": {"interventions.offline_events.enabled": True,
                                 "interventions.offline_events.start_year": 2018},
}


def one(task: tuple[str, int, int, float]) -> pd.DataFrame:
    from kyojosim.runs.results import run_one

    variant, seed, years, scale = task
    res = run_one("koto-sns", seed=seed, years=years, scale=scale, overrides=VARIANTS[variant])
    return kpi_table(res).assign(variant=variant, seed=seed)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--years", type=int, default=10)
    ap.add_argument("--scale", type=float, default=0.01)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args(argv)
    tasks = [(v, s, args.years, args.scale) for v in VARIANTS for s in range(1, args.seeds + 1)]
    df = pd.concat(map_runs(one, tasks, jobs=args.jobs, ordered=True), ignore_index=True)
    cols = ["matched_local_sns", "matching_rate", "tsunagari_mean"]
    def corr(g: pd.DataFrame, diff: bool) -> pd.Series:
        x = g[["community_value", *cols]]
        x = x.diff().dropna() if diff else x
        return x.corr(method="spearman").loc["community_value", cols]

    for diff, what in ((False, "levels"), (True, "month-to-month changes")):
        table = (df.groupby(["variant", "seed"]).apply(corr, diff, include_groups=False)
                 .groupby("variant", sort=False).mean().reindex(list(VARIANTS)))
        print(f"1{'b' if diff else 'a'}. Within runs, {what}: Spearman correlation of Community Value with ...")
        print(table.round(2).to_string() + "\n")
    month_year = df["month"].str[:4].astype(int)  # the calendar year of the month each record closes
    last = df[month_year == month_year.max()]
    across = (last.groupby(["variant", "seed"])[["community_value", "mau", "matched_local_sns", "matching_rate",
                                                 "tsunagari_mean"]].mean()
              .groupby("variant", sort=False).mean().reindex(list(VARIANTS)))
    print(f"\n2. Across variants, {int(month_year.max())} (monthly means, mean over seeds):")
    print(across.round(3).to_string())
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        write_text(args.out / "community_value_kpi.csv", df.to_csv(index=False))
        print(f"written: {args.out / 'community_value_kpi.csv'}")
    return 0


if __name__ == "__main__":
    with pd.option_context("display.width", 200):
        raise SystemExit(main())
