"""A contract-shaped experiment results object built from real tiny runs, for the analysis tests.

:func:`build_results` runs the bundled ``yamae`` scenario for four years at a small scale, as a
baseline and as a variant with the paid sharing platform (with a subsidy; a what-if opened to every
category and every eligible resident, see ``VARIANTS``) switched on in 2016,
for three replicates with shared seeds, and assembles the tables an ``ExperimentResults`` holds
(``design``, ``summary``, ``steps``, ``years``, ``tsunagari``, ``age_structure``, ``money`` and a
``manifest``). It gives what ``kyojosim.load(kyojosim.sweep(...))`` would, without writing a results folder
(the sweep itself is tested in tests/test_sweep.py and tests/test_pipeline.py).
"""

from __future__ import annotations

import functools
from typing import Any

import pandas as pd

import kyojosim
from kyojosim.measures.outcomes import swept_tables
from kyojosim.runs.store import ExperimentResults
from kyojosim.runs.sweep import summary_frame, summary_row

SCENARIO = "yamae"
YEARS = 4
SCALE = 0.3
PLATFORM_START = 2016
ALL_CATEGORIES = ["chores", "mobility", "shopping", "information", "sick_care", "family_care", "childcare",
                  "consultation"]
VARIANTS: dict[str, dict[str, Any]] = {
    "baseline": {},
    # A what-if, not the Ikoma case: the case's platform (child care among a few hundred members) changes
    # almost nothing in a village of a few thousand over four years, so the analysis tests would compare
    # noise. Opened to every category, with every eligible resident registered within months (a potential
    # of ten members a household with a young child, innovation 12 a year), it adds about ten points to the
    # matching rate and moves money, which is what these tests need to see.
    "platform": {
        "interventions.sharing_platform.enabled": True,
        "interventions.sharing_platform.start_year": PLATFORM_START,
        "interventions.sharing_platform.subsidy_per_hour": 100.0,
        "interventions.sharing_platform.categories": ALL_CATEGORIES,
        "interventions.sharing_platform.user_share": 10.0,
        "interventions.sharing_platform.innovation": 12.0,
    },
}


def build_results(replicates: int = 3, seed: int = 11, years: int = YEARS, scale: float = SCALE,
                  variants: dict[str, dict[str, Any]] | None = None) -> ExperimentResults:
    """Run every variant for every replicate (shared seeds) and assemble the result tables.

    Args:
        replicates: Replicates per variant.
        seed: Seed of replicate 0; replicate ``k`` uses ``seed + k`` in every variant.
        years: Length of each run.
        scale: Fraction of the residents simulated.
        variants: Variant name to dotted overrides (the first is the baseline).

    Returns:
        The :class:`~kyojosim.runs.store.ExperimentResults` that a sweep of the same runs would load.
    """
    variants = variants or VARIANTS
    design_rows, summaries = [], []
    tables: dict[str, list[pd.DataFrame]] = {n: [] for n in swept_tables()}
    for name, over in variants.items():
        start = over.get("interventions.sharing_platform.start_year") if over else None
        for k in range(replicates):
            run_id = f"{SCENARIO}-{name}-p0-r{k}"
            res = kyojosim.run(SCENARIO, years=years, seed=seed + k, scale=scale, overrides=dict(over))
            design_rows.append({"run_id": run_id, "scenario": SCENARIO, "variant": name, "point": 0,
                                "replicate": k, "seed": seed + k, "status": "done", "error": "",
                                "seconds": float(res.manifest["elapsed_s"] or 0.0),
                                "intervention_start": start})
            summaries.append(summary_row(res, run_id))
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
    return ExperimentResults(
        tables={"design": design, "summary": summary_frame(summaries),
                **{n: pd.concat(f, ignore_index=True) for n, f in tables.items()}},
        manifest=manifest,
    )


@functools.lru_cache(maxsize=1)
def shared_results() -> ExperimentResults:
    """The default results, built once per test session (read-only: copy frames before changing them)."""
    return build_results()
