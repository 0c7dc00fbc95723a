"""Run a scenario, take the simulated survey, and compare it with the white paper's published tables.

Usage::

    python experiments/validation/compare_survey.py [--scenario yamae] [--seeds 1 2 3] [--years 2]
        [--n 1200] [--scale F] [--survey-seed 0] [--recall-weeks W] [--published DIR] [--year 2017]
        [--all] [--out DIR]

For each seed the scenario runs ``--years`` years (the default 2 takes the bundled scenarios,
which start in 2015, to 2017, the year of the survey) and ``kyojosim.measures.survey.survey`` asks ``--n``
residents aged 20-79. The table printed gives, per published cell, the simulated value (mean over
the seeds), its 95% interval (mean of the seeds' bounds), the spread of the seeds' values, the
published value and the gap; gaps beyond +-5 points in a validated cell are flagged ``!``. With
``--out`` it writes ``gaps.csv`` (one row per seed and cell), ``gaps_summary.csv`` (over seeds) and
each seed's survey tables (``seed_<s>/``). It also prints the respondents with each trouble per
1,200 (図表4-3-4-2's n): expected at the recall, sampled, and their ratios to the published n.
Bad input exits with status 2.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

from kyojosim.atomic import write_text
from kyojosim.errors import KyojoError
from kyojosim.measures.survey import FLAG_POINTS, compare_published, expected_trouble_counts, read_published, survey
from kyojosim.runs.results import run_one


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--scenario", default="yamae", help="bundled scenario name or YAML file (default yamae)")
    p.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3], help="model seeds (default 1 2 3)")
    p.add_argument("--years", type=int, default=2, help="years to run before the survey (default 2)")
    p.add_argument("--scale", type=float, default=None, help="fraction of residents simulated")
    p.add_argument("--n", type=int, default=1200, help="respondents (default 1200, the 2017 survey)")
    p.add_argument("--survey-seed", type=int, default=0, help="seed of the survey's sample (default 0)")
    p.add_argument("--recall-weeks", type=int, default=None,
                   help="weeks over which a respondent has a trouble (default: the scenario's needs.recall_weeks)")
    p.add_argument("--published", default=None, help="folder of the published CSVs (default: bundled copy)")
    p.add_argument("--year", type=int, default=None, help="published participation row (default: scenario's)")
    p.add_argument("--all", action="store_true", help="print also the answer levels derived from the split")
    p.add_argument("--out", default=None, help="folder for gaps.csv, gaps_summary.csv and the survey tables")
    return p.parse_args(argv)


def one_seed(args: argparse.Namespace, seed: int) -> tuple[pd.DataFrame, object, pd.Series]:
    def ask(model):  # the survey of the finished town (nothing at the start)
        if not model.steps:
            return None
        result = survey(model, n=args.n, seed=args.survey_seed, recall_weeks=args.recall_weeks)
        return result, expected_trouble_counts(model, n=result.n, recall_weeks=args.recall_weeks)

    result, expected = run_one(args.scenario, seed=seed, years=args.years, scale=args.scale, observe=ask).observed[1]
    gaps = compare_published(result, folder=args.published, year=args.year)
    gaps.insert(0, "seed", seed)
    return gaps, result, expected


def show_troubles(results: list, expected: list[pd.Series]) -> None:
    """Print the respondents with each trouble (n of 図表4-3-4-2): expected, sampled (means over seeds), published."""
    published = read_published("needs_platform_intention").set_index("category")["n"]
    n = results[0].n
    sampled = pd.concat([r.tables["needs_platform_intention"].set_index("category")["n"] * 1200 / r.n
                         for r in results], axis=1).mean(axis=1)
    exp = pd.concat(expected, axis=1).mean(axis=1) * 1200 / n
    table = pd.DataFrame({"published_n": published, "expected": exp, "sampled": sampled})
    table["expected/published"] = table["expected"] / table["published_n"]
    table["sampled/published"] = table["sampled"] / table["published_n"]
    print(f"\n== troubles: respondents with each trouble per 1,200 (図表4-3-4-2's n; recall "
          f"{results[0].recall_weeks} weeks; target within ±25%)")
    print(table.round(2).to_string())


def summarise(gaps: pd.DataFrame) -> pd.DataFrame:
    keys = ["table", "row", "column"]
    g = gaps.groupby(keys, sort=False)
    out = g.agg(simulated=("simulated", "mean"), lo=("lo", "mean"), hi=("hi", "mean"),
                seed_min=("simulated", "min"), seed_max=("simulated", "max"), published=("published", "first"),
                unit=("unit", "first"), validated=("validated", "first")).reset_index()
    out["gap"] = out["simulated"] - out["published"]
    out["flagged"] = out["validated"] & (out["unit"] == "points") & (out["gap"].abs() > FLAG_POINTS)
    out.insert(0, "seeds", gaps["seed"].nunique())
    return out


def show(summary: pd.DataFrame, show_all: bool) -> None:
    rows = summary if show_all else summary[summary["validated"] | (summary["column"] == "n")]
    for table, t in rows.groupby("table", sort=False):
        print(f"\n== {table}")
        print(f"{'row':<20} {'column':<15} {'simulated':>9} {'95% CI':>15} {'seeds':>13} {'published':>9} "
              f"{'gap':>8}")
        for r in t.itertuples():
            ci = "" if pd.isna(r.lo) else f"[{r.lo:.1f}, {r.hi:.1f}]"
            seeds = f"{r.seed_min:.1f}-{r.seed_max:.1f}"
            unit = "pt" if r.unit == "points" else " n"
            flag = " !" if r.flagged else ""
            print(f"{r.row:<20} {r.column:<15} {r.simulated:>9.1f} {ci:>15} {seeds:>13} {r.published:>9.1f} "
                  f"{r.gap:>+6.1f}{unit}{flag}")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        parts, results, expected = [], [], []
        for seed in args.seeds:
            gaps, result, exp = one_seed(args, seed)
            parts.append(gaps)
            results.append(result)
            expected.append(exp)
        gaps = pd.concat(parts, ignore_index=True)
        summary = summarise(gaps)
        first = results[0]
        print(f"{first.scenario}: seeds {' '.join(map(str, args.seeds))}, survey in {first.year} "
              f"(n={first.n} of {first.frame_size} residents aged {first.ages[0]}-{first.ages[1]}), "
              f"participation compared with the {args.year or first.reference_year} row")
        show(summary, args.all)
        show_troubles(results, expected)
        print("\n== tsunagari_by_participation (mean つながり力 by participation group; no published numbers, "
              "図表4-3-5-4: 'both' should be highest)")
        tsu = pd.concat([r.tables["tsunagari_by_participation"].assign(seed=s)
                         for s, r in zip(args.seeds, results, strict=True)])
        print(tsu.groupby("participation_group", sort=False)[["n", "mean", "mean_lo", "mean_hi"]].mean()
              .round(3).to_string())
        for note in first.notes:
            print(f"\nnote: {note}")
        n_flag = int(summary["flagged"].sum())
        print(f"\n{n_flag} validated cell(s) beyond +-{FLAG_POINTS:g} points")
        if args.out is not None:
            out = Path(args.out)
            try:
                out.mkdir(parents=True, exist_ok=True)
                write_text(out / "gaps.csv", gaps.to_csv(index=False, float_format="%.6g"))
                write_text(out / "gaps_summary.csv", summary.to_csv(index=False, float_format="%.6g"))
            except OSError as exc:
                raise KyojoError(f"{out}: cannot write the gaps ({exc}); allowed: a writable folder") from exc
            for seed, result in zip(args.seeds, results, strict=True):
                result.to_csv(out / f"seed_{seed}")
            print(f"wrote {out / 'gaps.csv'}, {out / 'gaps_summary.csv'} and the survey tables")
    except KyojoError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
