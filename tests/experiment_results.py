"""A contract-shaped experiment results object built from real tiny runs, for the analysis tests.

:func:`build_results` runs the bundled ``yamae`` scenario for two years at a small scale, as a
baseline and as a variant with the paid sharing platform (with a subsidy) switched on in 2016,
for three replicates with shared seeds, and assembles the tables an ``ExperimentResults`` holds
(``design``, ``summary``, ``steps``, ``years``, ``tsunagari``, ``age_structure``, ``money`` and a
``manifest``). It stands in for ``kyojosim.load(kyojosim.sweep(...))`` until the sweep exists and
can then be replaced by it.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

import kyojosim
from kyojosim.aid import AGE_GROUPS
from kyojosim.constants import CATEGORIES, PARTICIPATION_GROUPS

SCENARIO = "yamae"
YEARS = 4
SCALE = 0.3
PLATFORM_START = 2016
VARIANTS: dict[str, dict[str, Any]] = {
    "baseline": {},
    "platform": {
        "interventions.sharing_platform.enabled": True,
        "interventions.sharing_platform.start_year": PLATFORM_START,
        "interventions.sharing_platform.subsidy_per_hour": 100.0,
    },
}


@dataclass(frozen=True)
class FakeExperimentResults:
    """The attributes of ``kyojosim.store.ExperimentResults`` that the analysis reads."""

    design: pd.DataFrame
    summary: pd.DataFrame
    steps: pd.DataFrame
    years: pd.DataFrame
    tsunagari: pd.DataFrame
    age_structure: pd.DataFrame
    money: pd.DataFrame
    manifest: dict[str, Any] = field(default_factory=dict)

    @property
    def variants(self) -> list[str]:
        names = list(dict.fromkeys(self.design["variant"]))
        base = self.baseline
        return [base, *(v for v in names if v != base)]

    @property
    def baseline(self) -> str:
        return str(self.manifest["baseline"])

    def table(self, name: str) -> pd.DataFrame:
        cols = ["run_id", "scenario", "variant", "point", "replicate", "seed", "intervention_start"]
        return getattr(self, name).merge(self.design[cols], on="run_id", how="left")


def _rate(matched: float, lapsed: float) -> float:
    done = matched + lapsed
    return float(matched / done) if done > 0 else float("nan")


def summary_row(run_id: str, res: kyojosim.RunResult) -> dict[str, Any]:
    """Compute the contract's summary columns from the tables of one run."""
    needs = res.to_pandas("needs")
    by_cat = needs.groupby("category")[["arisen", "matched", "lapsed"]].sum()
    row: dict[str, Any] = {"run_id": run_id}
    row["matching_rate"] = _rate(by_cat["matched"].sum(), by_cat["lapsed"].sum())
    for c in CATEGORIES:
        m, lap = (by_cat.loc[c, "matched"], by_cat.loc[c, "lapsed"]) if c in by_cat.index else (0, 0)
        row[f"matching_rate_{c}"] = _rate(m, lap)
    aid_years = res.to_pandas("aid_years")
    for g in AGE_GROUPS:
        row[f"matching_rate_age_{g}"] = float(aid_years[f"matching_rate_age_group_{g}"].iloc[-1])
    row["needs_arisen"] = int(by_cat["arisen"].sum())
    row["needs_matched"] = int(by_cat["matched"].sum())
    row["needs_lapsed"] = int(by_cat["lapsed"].sum())
    ts = res.to_pandas("tsunagari")
    last = ts[ts["step"] == ts["step"].max()]
    row["tsunagari_mean"] = float(last.loc[last["group_type"] == "all", "mean"].iloc[0])
    part = last[last["group_type"] == "participation"].set_index("group")["mean"]
    for g in PARTICIPATION_GROUPS:
        row[f"tsunagari_{g}"] = float(part.get(g, np.nan))
    money = res.to_pandas("money")
    for col in ("paid_by_requesters", "subsidy", "received_by_helpers"):
        row[col] = int(money[col].sum()) if len(money) else 0
    years = res.to_pandas("years")
    row["population_start"] = int(years["population"].iloc[0])
    row["population_end"] = int(years["population"].iloc[-1])
    row["share_65plus_end"] = float(years["share_65plus"].iloc[-1])
    return row


def build_results(replicates: int = 3, seed: int = 11, years: int = YEARS, scale: float = SCALE,
                  variants: dict[str, dict[str, Any]] | None = None) -> FakeExperimentResults:
    """Run every variant for every replicate (shared seeds) and assemble the result tables.

    Args:
        replicates: Replicates per variant.
        seed: Seed of replicate 0; replicate ``k`` uses ``seed + k`` in every variant.
        years: Length of each run.
        scale: Fraction of the residents simulated.
        variants: Variant name to dotted overrides (the first is the baseline).

    Returns:
        An object with the ``ExperimentResults`` attributes of the contract.
    """
    variants = variants or VARIANTS
    design_rows, summaries = [], []
    tables: dict[str, list[pd.DataFrame]] = {n: [] for n in ("steps", "years", "tsunagari", "age_structure", "money")}
    for name, over in variants.items():
        start = over.get("interventions.sharing_platform.start_year") if over else None
        for k in range(replicates):
            run_id = f"{SCENARIO}-{name}-p0-r{k}"
            res = kyojosim.run(SCENARIO, years=years, seed=seed + k, scale=scale, overrides=dict(over))
            design_rows.append({"run_id": run_id, "scenario": SCENARIO, "variant": name, "point": 0,
                                "replicate": k, "seed": seed + k, "status": "done", "error": "",
                                "seconds": float(res.manifest["elapsed_s"] or 0.0),
                                "intervention_start": start})
            summaries.append(summary_row(run_id, res))
            for tname, frames in tables.items():
                df = res.to_pandas(tname)
                df.insert(0, "run_id", run_id)
                frames.append(df)
    design = pd.DataFrame(design_rows)
    design["intervention_start"] = design["intervention_start"].astype("Int64")
    manifest = {
        "experiment": {"name": "yamae-test", "scenario": SCENARIO, "years": years, "scale": scale,
                       "variants": {k: dict(v) for k, v in variants.items()}},
        "hash": "test", "name": "yamae-test", "seed": seed, "replicates": replicates,
        "baseline": next(iter(variants)),
        "design": {"type": "none", "parameters": {}},
        "versions": {}, "created": "2026-01-01T00:00:00+00:00", "timings": {}, "failures": [],
        "runs": {"done": len(design), "failed": 0, "pending": 0},
    }
    return FakeExperimentResults(
        design=design, summary=pd.DataFrame(summaries),
        manifest=manifest, **{n: pd.concat(f, ignore_index=True) for n, f in tables.items()},
    )


@functools.lru_cache(maxsize=1)
def shared_results() -> FakeExperimentResults:
    """The default results, built once per test session (read-only: copy frames before changing them)."""
    return build_results()
