"""What the reporting hub does in 山江村: yamae against yamae-hub over seeds, and what the hub's matches are.

For each seed both scenarios run ``--years`` years (common random numbers: the hub changes only its own
draws), and the script prints, as means over the seeds: the matching rate over the run (matched /
(matched + lapsed)), the same for requesters 75+, needs matched a year, the hub's matches a year (all
and by category) and the difference hub - baseline of each rate in points. ``--set KEY=VALUE`` changes a key of the hub
scenario only (e.g. the what-if roster ``interventions.reporting_hub.roster_per_1000=29``). With
``--out`` it writes ``hub_effect.csv`` (one row per seed and scenario).

    python experiments/validation/hub_effect.py --seeds 1 2 3 4 5 --years 10
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from kyojosim.atomic import write_text
from kyojosim.runs.executor import map_runs

SCENARIOS = ("yamae", "yamae-hub")


def one(task: tuple[str, int, int, dict]) -> dict:
    from kyojosim.runs.results import run_one

    scenario, seed, years, overrides = task
    res = run_one(scenario, seed=seed, years=years, overrides=overrides if scenario == "yamae-hub" else None)
    needs = res.to_pandas("needs")
    steps = res.to_pandas("steps")
    aid = res.to_pandas("aid_years")
    matched, lapsed = needs["matched"].sum(), needs["lapsed"].sum()
    row = {
        "scenario": scenario, "seed": seed,
        "matching_rate": 100 * matched / (matched + lapsed),
        "matching_rate_75plus": 100 * float(aid["matching_rate_age_group_75plus"].iloc[-1]),
        "needs_matched_per_year": matched / years,
        "hub_matches_per_year": steps["matched_reporting_hub"].sum() / years,
    }
    if "channel_months" in res.tables() and len(res.to_pandas("channel_months")):
        months = res.to_pandas("channel_months")
        hub = months[months["channel"] == "reporting_hub"]
        row["hub_reports_per_year"] = hub["surfaced"].sum() / years
        row["hub_office_answers_per_year"] = hub["answered"].sum() / years if "answered" in hub else float("nan")
    return row


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3, 4, 5])
    p.add_argument("--years", type=int, default=10)
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="a key of the hub scenario (repeatable)")
    p.add_argument("--out", type=Path, default=None)
    args = p.parse_args(argv)
    from kyojosim.params.scenario import parse_value

    overrides = {k: parse_value(v) for k, _, v in (item.partition("=") for item in args.set)}
    tasks = [(s, seed, args.years, overrides) for seed in args.seeds for s in SCENARIOS]
    rows = pd.DataFrame(map_runs(one, tasks, jobs=args.jobs))
    means = rows.drop(columns="seed").groupby("scenario").mean().loc[list(SCENARIOS)]
    pd.set_option("display.width", 160)
    print(means.round(1).to_string())
    diff = rows.pivot(index="seed", columns="scenario", values=["matching_rate", "matching_rate_75plus"])
    for col in ("matching_rate", "matching_rate_75plus"):
        d = diff[col]["yamae-hub"] - diff[col]["yamae"]
        print(f"{col}: hub - baseline {d.mean():+.2f} points (seeds from {d.min():+.2f} to {d.max():+.2f})")
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        write_text(args.out / "hub_effect.csv", rows.to_csv(index=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
