"""Any municipality against its projection: build a random sample with ``kyojosim new``, run it to 2045.

For each municipality of a random sample (drawn with a fixed seed from the 1,682 that the IPSS 2018
projection gives), the scenario is built as ``kyojosim new`` builds it (census 2015 age structure,
estimated households and fertility, census 2010→2015 migration profile, shifts fitted to the
projection with seeds 1-4 at the default scale) and run with the model's population alone
(:mod:`kyojosim.demographic_run`, identical to the full model's) for seeds 1-3 (the check of the
tests; the fit's seeds) and for seeds 101-103 (seeds the fit never saw). It prints the distribution
over municipalities of the largest error over the 5-year marks 2020-2045: the total (relative) and
the 65+ and 75+ shares (points), the share of municipalities within the bands (±3% and ±2 points),
the worst municipalities, and the build time. Runs are spread over processes with joblib.

    .venv/bin/python benchmarks/bench_japan.py --sample 100 --jobs 2
    .venv/bin/python benchmarks/bench_japan.py --sample 12 --jobs 1 --csv results/japan.csv
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence

import numpy as np
import pandas as pd
from joblib import Parallel, delayed

TOTAL_BAND = 0.03
SHARE_BAND = 0.02
CHECK_SEEDS = (1, 2, 3)
HELD_OUT_SEEDS = (101, 102, 103)


def one(code: str) -> dict:
    """Build one municipality and measure its largest errors against the projection."""
    from kyojosim.params.scenario import load_scenario
    from kyojosim.runs import builder
    from kyojosim.runs.calibration import compare_runs

    t0 = time.perf_counter()
    built = builder.build(code, progress=False)
    build_s = time.perf_counter() - t0
    scn = load_scenario(built.data)
    proj = scn.demography.projection
    row = {"code": code, "name": built.record.name, "prefecture": built.record.prefecture,
           "population": built.record.population, "scale": scn.municipality.scale, "build_s": build_s}
    for label, seeds in (("check", CHECK_SEEDS), ("held_out", HELD_OUT_SEEDS)):
        t = compare_runs(scn, proj, seeds)
        t = t[t["year"] > scn.municipality.start_year]
        row[f"{label}_total"] = float(t["total_error"].abs().max())
        row[f"{label}_65plus"] = float(t["share_65plus_diff"].abs().max())
        row[f"{label}_75plus"] = float(t["share_75plus_diff"].abs().max())
    for kind in ("young", "elderly", "oldest"):
        shifts = getattr(built.fit, f"{kind}_shift")
        row[f"max_abs_{kind}_shift"] = float(np.max(np.abs(list(shifts.values()) or [0.0])))
        for p, v in shifts.items():
            row[f"{kind}_{p}"] = float(v)
    return row


def sample_codes(n: int, seed: int) -> list[str]:
    """Draw ``n`` municipalities with a projection, at random (fixed seed)."""
    from kyojosim import municipalities

    m = municipalities()
    m = m[m["ipss"] & (m["population"] > 0)]
    rng = np.random.default_rng(seed)
    return sorted(m["code"].to_numpy()[rng.choice(len(m), size=min(n, len(m)), replace=False)])


def report(df: pd.DataFrame) -> str:
    """Format the distribution of errors."""
    lines = [f"{len(df)} municipalities (population {df['population'].min():,} to {df['population'].max():,}); "
             f"build with fit: median {df['build_s'].median():.1f} s, max {df['build_s'].max():.1f} s "
             f"({df.loc[df['build_s'].idxmax(), 'name']})"]
    q = [0.5, 0.9, 0.95, 1.0]
    for label, seeds in (("check", CHECK_SEEDS), ("held_out", HELD_OUT_SEEDS)):
        lines.append(f"largest error 2020-2045, mean of seeds {', '.join(map(str, seeds))}"
                     + (" (the fit's seeds)" if label == "check" else " (not used by the fit)"))
        lines.append("  measure          median    90%     95%     max   within band")
        for col, band in ((f"{label}_total", TOTAL_BAND), (f"{label}_65plus", SHARE_BAND),
                          (f"{label}_75plus", SHARE_BAND)):
            v = df[col] * 100
            within = float((df[col] <= band).mean())
            name = col.rsplit("_", 1)[1].replace("total", "total (%)").replace("65plus", "65+ share (pt)")
            name = name.replace("75plus", "75+ share (pt)")
            lines.append(f"  {name:<16}" + "".join(f"{v.quantile(x):7.2f} " for x in q) + f"  {within:6.1%}")
        ok = (df[f"{label}_total"] <= TOTAL_BAND) & (df[f"{label}_65plus"] <= SHARE_BAND) & (
            df[f"{label}_75plus"] <= SHARE_BAND)
        lines.append(f"  all three within their bands: {ok.mean():.1%} ({int(ok.sum())} of {len(df)})")
    worst = df.assign(score=np.maximum(df["held_out_total"] / TOTAL_BAND,
                                       np.maximum(df["held_out_65plus"], df["held_out_75plus"]) / SHARE_BAND))
    worst = worst.sort_values("score", ascending=False).head(5)
    lines.append("worst (seeds not used by the fit): " + "; ".join(
        f"{r.name} {r.prefecture} ({r.population:,}): total {r.held_out_total:.1%}, 65+ {100 * r.held_out_65plus:.1f} "
        f"pt, 75+ {100 * r.held_out_75plus:.1f} pt" for r in worst.itertuples()))
    lines.append("fitted shifts (yearly rates), largest absolute value per municipality: " + "; ".join(
        f"{k}_shift median {df[f'max_abs_{k}_shift'].median():.4f}, 90% {df[f'max_abs_{k}_shift'].quantile(0.9):.4f}, "
        f"max {df[f'max_abs_{k}_shift'].max():.4f}" for k in ("young", "elderly", "oldest")))
    periods = sorted({int(c.split("_")[1]) for c in df.columns if c.startswith("young_") and c[6:].isdigit()})
    lines.append("median fitted shift by period (points a year): " + "; ".join(
        f"{k} " + " ".join(f"{p}: {100 * df[f'{k}_{p}'].median():+.2f}" for p in periods if f"{k}_{p}" in df)
        for k in ("young", "elderly", "oldest")))
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> pd.DataFrame:
    """Run the benchmark; print the figures; return the table (one row per municipality)."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sample", type=int, default=100, help="number of municipalities (default 100)")
    ap.add_argument("--seed", type=int, default=2015, help="seed of the sample (default 2015)")
    ap.add_argument("--codes", nargs="*", help="these municipalities instead of a sample")
    ap.add_argument("--jobs", type=int, default=2, help="parallel processes (default 2)")
    ap.add_argument("--csv", help="also write the table to this CSV file")
    args = ap.parse_args(argv)
    codes = args.codes or sample_codes(args.sample, args.seed)
    t0 = time.perf_counter()
    rows = Parallel(n_jobs=args.jobs)(delayed(one)(c) for c in codes) if args.jobs != 1 else [one(c) for c in codes]
    wall = time.perf_counter() - t0
    df = pd.DataFrame(rows)
    print(report(df))
    print(f"wall time {wall:.0f} s with {args.jobs} jobs")
    if args.csv:
        from kyojosim.atomic import write_text

        write_text(args.csv, df.to_csv(index=False))
    return df


if __name__ == "__main__":
    main()
