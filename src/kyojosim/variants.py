"""Comparing scenario variants (interventions on and off) over the same seeds.

Every variant runs once per seed, and replicate ``k`` of every variant uses the same seed, so
the named random streams make the variants meet the same draws wherever they do not differ
(common random numbers): differences between variants are measured within a seed.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from joblib import Parallel, delayed

from .aid import AGE_GROUPS
from .constants import CATEGORIES
from .labels import CATEGORY_LABELS_JA
from .scenario import Scenario, load_scenario


def _one(scn: Scenario, seed: int) -> pd.DataFrame:
    from .model import KyojoModel

    model = KyojoModel(scn, seed=seed)
    model.run_model()
    aid = model.aid
    rows = []
    for c, name in enumerate(CATEGORIES):
        rows.append({"category": name, "arisen": aid.total["arisen"][c], "surfaced": aid.total["surfaced"][c],
                     "matched": aid.total["matched"][c], "lapsed": aid.total["lapsed"][c]})
    rows.append({"category": "all", **{k: int(v.sum()) for k, v in aid.total.items()}})
    g = aid.by_group["age_group"]
    i = AGE_GROUPS.index("75plus")
    rows.append({"category": "75plus", "arisen": g["arisen"][i], "surfaced": np.nan,
                 "matched": g["matched"][i], "lapsed": g["lapsed"][i]})
    model.release()
    df = pd.DataFrame(rows)
    done = df["matched"] + df["lapsed"]
    df["matching_rate"] = np.where(done > 0, df["matched"] / done.where(done > 0, 1), np.nan)
    df.insert(0, "seed", seed)
    df.insert(0, "variant", scn.name)
    return df


def run_variants(scenarios: Sequence[str | Scenario], seeds: Sequence[int] = (1, 2, 3), n_jobs: int = 1,
                 **overrides) -> pd.DataFrame:
    """Run every variant once per seed; return the cumulative counts and matching rates.

    Args:
        scenarios: Variant names, files or objects (the first is the baseline of :func:`summarise`).
        seeds: Seeds, shared by every variant.
        n_jobs: Parallel workers (joblib).
        **overrides: Keyword overrides applied to every variant (``simulation__years=10``).

    Returns:
        A long table: variant, seed, category (the eight, ``all`` and ``75plus`` for needs of
        residents 75+), arisen, surfaced, matched, lapsed, matching_rate.
    """
    scns = [s.replace(**overrides) if isinstance(s, Scenario) and overrides else
            s if isinstance(s, Scenario) else load_scenario(s, **overrides) for s in scenarios]
    jobs = [(scn, int(seed)) for scn in scns for seed in seeds]
    if n_jobs == 1:
        frames = [_one(*j) for j in jobs]
    else:
        frames = Parallel(n_jobs=n_jobs)(delayed(_one)(*j) for j in jobs)
    return pd.concat(frames, ignore_index=True)


def summarise(runs: pd.DataFrame, baseline: str | None = None) -> pd.DataFrame:
    """Mean matching rate by variant and category, and the paired difference from the baseline.

    The difference is computed seed by seed (common random numbers) and summarised by its mean
    and a 95% t-interval over seeds (``nan`` with one seed).

    Returns:
        One row per variant and category: ``mean_rate``, ``diff`` (from the baseline), ``diff_lo``,
        ``diff_hi``, ``seeds``.
    """
    from scipy import stats

    variants = list(dict.fromkeys(runs["variant"]))
    baseline = baseline or variants[0]
    base = runs[runs["variant"] == baseline].set_index(["seed", "category"])["matching_rate"]
    out = []
    for v in variants:
        mine = runs[runs["variant"] == v].set_index(["seed", "category"])["matching_rate"]
        diff = (mine - base.reindex(mine.index)).reset_index()
        for cat, grp in mine.reset_index().groupby("category", sort=False):
            d = diff.loc[diff["category"] == cat, "matching_rate"].dropna().to_numpy()
            n = d.size
            if n > 1:
                half = stats.t.ppf(0.975, n - 1) * d.std(ddof=1) / np.sqrt(n)
            else:
                half = np.nan
            mean_d = float(d.mean()) if n else np.nan
            out.append({"variant": v, "category": cat, "mean_rate": float(grp["matching_rate"].mean()),
                        "diff": mean_d, "diff_lo": mean_d - half, "diff_hi": mean_d + half,
                        "seeds": int(grp["seed"].nunique())})
    return pd.DataFrame(out)


def format_table(summary: pd.DataFrame) -> str:
    """Format the matching rates as a table: categories in rows, variants in columns (percent)."""
    wide = summary.pivot(index="category", columns="variant", values="mean_rate")
    order = [*CATEGORIES, "all", "75plus"]
    wide = wide.reindex([c for c in order if c in wide.index])
    wide = wide[list(dict.fromkeys(summary["variant"]))]
    wide.index = [f"{c} {CATEGORY_LABELS_JA.get(c, '')}" for c in wide.index]
    return (wide * 100).round(1).to_string()
