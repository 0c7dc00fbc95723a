"""The sharing platform after its launch in 生駒市: members, requests and the matching rate month by month.

Runs ``ikoma-platform`` (AsMama 子育てシェア from 2016) and ``ikoma`` (no platform) over seeds at the
bundled scale (0.1) from 2015 to 2022, and prints, as means over the seeds:

1. by year: registered members and certified supporters at the end of the year, the platform's
   requests and matches in the year (all scaled to the whole city: divided by the scale), its matches
   per registered member a year (against AsMama's published 0.08, range 0.02-0.1: 30,677 shares to mid-2020
   for 75,600 registrations, and 1,770 shares in 2021-22) and its fill rate (requests matched through any
   channel / requests matched or lapsed; AsMama's claim: 85%);
2. by month: the matching rate overall and for child care, with the platform and without (matched /
   (matched + lapsed) within the month), and the platform's matches.

With ``--out`` it writes ``platform_months.csv``, ``platform_years.csv`` and ``platform-uptake.png``.

    python experiments/validation/platform_uptake.py --seeds 1 2 3 4 5 --out results/platform-uptake
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from kyojosim.atomic import write_text
from kyojosim.runs.executor import map_runs

PUBLISHED = {"matches_per_member_year": (0.08, 0.02, 0.1), "fill_rate": (0.85, 0.7, 0.95)}
"""AsMama's published figures (central, low, high): see docs/ODD.md §7.13.3."""


def one(task: tuple[str, int, int, float]) -> pd.DataFrame:
    from kyojosim.runs.results import run_one

    scenario, seed, years, scale = task
    res = run_one(scenario, seed=seed, years=years, scale=scale)
    steps = res.to_pandas("steps")[["step", "month"]]
    needs = res.to_pandas("needs").merge(steps, on="step")
    needs["group"] = needs["category"].where(needs["category"] == "childcare", "other")
    by = needs.groupby(["month", "group"])[["matched", "lapsed"]].sum().unstack("group", fill_value=0)
    out = pd.DataFrame({
        "matched_all": by["matched"].sum(axis=1), "lapsed_all": by["lapsed"].sum(axis=1),
        "matched_childcare": by["matched"]["childcare"], "lapsed_childcare": by["lapsed"]["childcare"],
    })
    months = res.to_pandas("channel_months")
    platform = months[months["channel"] == "sharing_platform"].set_index("month")
    cols = ["members", "certified", "surfaced", "matched", "closed_matched", "closed_lapsed"]
    out = out.join(platform[cols].add_prefix("platform_"), how="left").fillna(0)
    return out.reset_index().assign(scenario=scenario, seed=seed, scale=scale)


def summarise(months: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return the monthly rates and the yearly platform figures, each as the mean over the seeds."""
    m = months.copy()
    m["rate_all"] = 100 * m["matched_all"] / (m["matched_all"] + m["lapsed_all"])
    m["rate_childcare"] = 100 * m["matched_childcare"] / (m["matched_childcare"] + m["lapsed_childcare"])
    wide = m.pivot_table(index="month", columns="scenario", values=["rate_all", "rate_childcare"], aggfunc="mean")
    wide.columns = [f"{v}_{s}" for v, s in wide.columns]
    plat = m[m["scenario"] == "ikoma-platform"]
    scale = float(plat["scale"].iloc[0])
    wide["platform_matches_city"] = plat.groupby("month")["platform_matched"].mean() / scale
    wide["platform_members_city"] = plat.groupby("month")["platform_members"].mean() / scale
    plat = plat.assign(year=plat["month"].str[:4].astype(int))
    per_seed = plat.groupby(["seed", "year"]).agg(
        members=("platform_members", "last"), certified=("platform_certified", "last"),
        mean_members=("platform_members", "mean"), requests=("platform_surfaced", "sum"),
        matches=("platform_matched", "sum"), closed_matched=("platform_closed_matched", "sum"),
        closed_lapsed=("platform_closed_lapsed", "sum"))
    per_seed["matches_per_member_year"] = per_seed["matches"] / per_seed["mean_members"].where(
        per_seed["mean_members"] > 0)
    years = per_seed.groupby("year").mean()
    closed = years["closed_matched"] + years["closed_lapsed"]
    years["fill_rate"] = years["closed_matched"] / closed.where(closed > 0)
    for col in ("members", "certified", "requests", "matches"):
        years[col] = years[col] / scale
    return wide, years[["members", "certified", "requests", "matches", "matches_per_member_year", "fill_rate"]]


def figure(wide: pd.DataFrame, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib_fontja  # noqa: F401  (registers a Japanese font for the title)

    x = pd.to_datetime(wide.index + "-15")
    fig, ax = plt.subplots(4, 1, figsize=(8, 9.5), sharex=True)
    ax[0].plot(x, wide["platform_members_city"], color="tab:blue")
    ax[0].set_ylabel("registered members\n(whole city)")
    for col, label, style in (("rate_childcare_ikoma-platform", "with the platform", "-"),
                              ("rate_childcare_ikoma", "without", ":")):
        ax[1].plot(x, wide[col].rolling(3, min_periods=1).mean(), style, label=label, color="tab:orange")
    ax[1].set_ylabel("child care: matching\nrate in the month, %")
    ax[1].legend(fontsize=8)
    for cat, label, color in (("childcare", "child care", "tab:orange"), ("all", "all needs", "tab:grey")):
        diff = wide[f"rate_{cat}_ikoma-platform"] - wide[f"rate_{cat}_ikoma"]
        ax[2].plot(x, diff.rolling(6, min_periods=1).mean(), label=label, color=color)
    ax[2].axhline(0, color="black", lw=0.5)
    ax[2].set_ylabel("with - without,\npoints (6-month mean)")
    ax[2].legend(fontsize=8)
    ax[3].bar(x, wide["platform_matches_city"], width=25, color="tab:green")
    ax[3].set_ylabel("platform matches in\nthe month (whole city)")
    ax[0].set_title("生駒市, AsMama 子育てシェア from January 2016 (means of seeds, scale 0.1)", fontsize=10)
    fig.tight_layout()
    tmp = path.with_suffix(".tmp.png")
    fig.savefig(tmp, dpi=100)
    plt.close(fig)
    tmp.replace(path)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3, 4, 5])
    p.add_argument("--years", type=int, default=8, help="years from 2015 (default 8: to the end of 2022)")
    p.add_argument("--scale", type=float, default=0.1)
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--out", type=Path, default=None)
    args = p.parse_args(argv)
    tasks = [(s, seed, args.years, args.scale) for seed in args.seeds for s in ("ikoma-platform", "ikoma")]
    months = pd.concat(list(map_runs(one, tasks, jobs=args.jobs)), ignore_index=True)
    wide, years = summarise(months)
    pd.set_option("display.width", 160)
    print("by year (whole city; means over seeds):")
    print(years.round(3).to_string())
    print(f"published: matches per member a year {PUBLISHED['matches_per_member_year']}, "
          f"fill rate {PUBLISHED['fill_rate']} (central, low, high)")
    print("\nby month (matching rate in the month, %; platform matches in the whole city):")
    print(wide.round(1).to_string())
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        write_text(args.out / "platform_months.csv", wide.to_csv())
        write_text(args.out / "platform_years.csv", years.to_csv())
        figure(wide, args.out / "platform-uptake.png")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
